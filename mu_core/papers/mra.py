"""Numbers reported by Sui et al., MRA (accuracies as fractions)."""

# MRA (Sui et al.), CIFAR-10, EfficientNet teacher and student, forget classes 1, 3, 5, 7, 9
# x 50%; accuracy (fraction) of the unlearned model (ULM) and the recalled model (RCM) on
# the test and forget sets. Table 2: closed source (DST+STU); Table 3: open source
# (DST+STU+TCH); Table 8: the DST-only ablation row. The trained model: test 0.833,
# forget 1.000.
CIFAR10_TRAINED = {"test": 0.833, "forget": 1.000}
CIFAR10_ULM = {
    "ff": {"test": 0.164, "forget": 0.142}, "rl": {"test": 0.388, "forget": 0.153},
    "ga": {"test": 0.505, "forget": 0.267}, "iu": {"test": 0.105, "forget": 0.090},
    "bu": {"test": 0.462, "forget": 0.082}, "l1_sparse": {"test": 0.451, "forget": 0.154},
    "salun": {"test": 0.486, "forget": 0.117}, "unsc": {"test": 0.193, "forget": 0.031},
}
CIFAR10_RCM = {
    "dst": {
        "ff": {"test": 0.163, "forget": 0.126}, "rl": {"test": 0.393, "forget": 0.144},
        "ga": {"test": 0.501, "forget": 0.252}, "iu": {"test": 0.114, "forget": 0.101},
        "bu": {"test": 0.458, "forget": 0.059}, "l1_sparse": {"test": 0.448, "forget": 0.131},
        "salun": {"test": 0.451, "forget": 0.027}, "unsc": {"test": 0.199, "forget": 0.030},
    },
    "dst+stu": {
        "ff": {"test": 0.252, "forget": 0.195}, "rl": {"test": 0.479, "forget": 0.328},
        "ga": {"test": 0.528, "forget": 0.358}, "iu": {"test": 0.115, "forget": 0.096},
        "bu": {"test": 0.651, "forget": 0.507}, "l1_sparse": {"test": 0.456, "forget": 0.231},
        "salun": {"test": 0.697, "forget": 0.615}, "unsc": {"test": 0.568, "forget": 0.513},
    },
    "dst+stu+tch": {
        "ff": {"test": 0.708, "forget": 0.726}, "rl": {"test": 0.471, "forget": 0.351},
        "ga": {"test": 0.582, "forget": 0.509}, "iu": {"test": 0.689, "forget": 0.759},
        "bu": {"test": 0.783, "forget": 0.877}, "l1_sparse": {"test": 0.479, "forget": 0.338},
        "salun": {"test": 0.829, "forget": 0.997}, "unsc": {"test": 0.774, "forget": 0.921},
    },
}
# MRA Table 4, the ablation on Pet-37 (ResNet-18): accuracy on test and forget.
PET37_ABLATION = {
    "dst": {"ff": {"test": 0.223, "forget": 0.168}, "bu": {"test": 0.659, "forget": 0.128},
            "salun": {"test": 0.698, "forget": 0.108}, "unsc": {"test": 0.767, "forget": 0.320}},
    "dst+stu": {"ff": {"test": 0.486, "forget": 0.388}, "bu": {"test": 0.785, "forget": 0.856},
                "salun": {"test": 0.778, "forget": 0.712},
                "unsc": {"test": 0.799, "forget": 0.660}},
    "dst+stu+tch": {"ff": {"test": 0.782, "forget": 0.904},
                    "bu": {"test": 0.846, "forget": 0.960},
                    "salun": {"test": 0.849, "forget": 0.948},
                    "unsc": {"test": 0.856, "forget": 0.976}},
}
