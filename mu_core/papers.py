"""The numbers the papers report, as data, for "paper vs. here" tables (percentages)."""

from __future__ import annotations

# Discriminative adversarial unlearning, Table 1, CIFAR-10, ResNet-18, dense models:
# UA, MIA-efficacy, RA, TA, average disparity to retraining, run time (minutes); means
# over 5 seeds. "Ours" is the paper's own adversarial method.
ADVERSARIAL_TABLE1_CIFAR10 = {
    "random": {
        "retrain": {"UA": 5.80, "MIA": 13.91, "RA": 100.00, "TA": 94.30, "disparity": 0.00, "minutes": 82.15},
        "ft": {"UA": 0.18, "MIA": 1.70, "RA": 99.92, "TA": 94.25, "disparity": 4.48, "minutes": 4.91},
        "ga": {"UA": 0.00, "MIA": 0.35, "RA": 99.99, "TA": 94.80, "disparity": 4.96, "minutes": 0.37},
        "ff": {"UA": 6.96, "MIA": 10.24, "RA": 93.09, "TA": 88.51, "disparity": 4.37, "minutes": 42.9},
        "iu": {"UA": 0.42, "MIA": 1.49, "RA": 99.57, "TA": 93.89, "disparity": 4.96, "minutes": 4.93},
        "ours": {"UA": 3.46, "MIA": 8.25, "RA": 99.50, "TA": 93.50, "disparity": 2.32, "minutes": 7.98},
    },
    "class": {
        "retrain": {"UA": 100.00, "MIA": 100.00, "RA": 100.00, "TA": 94.81, "disparity": 0.00, "minutes": 82.00},
        "ft": {"UA": 8.36, "MIA": 40.76, "RA": 99.92, "TA": 94.41, "disparity": 37.84, "minutes": 4.88},
        "ga": {"UA": 93.80, "MIA": 96.06, "RA": 93.76, "TA": 87.15, "disparity": 6.00, "minutes": 0.39},
        "ff": {"UA": 67.57, "MIA": 100.00, "RA": 100.00, "TA": 94.98, "disparity": 8.14, "minutes": 42.7},
        "iu": {"UA": 64.41, "MIA": 81.66, "RA": 98.88, "TA": 92.77, "disparity": 14.27, "minutes": 4.40},
        "ours": {"UA": 100.00, "MIA": 100.00, "RA": 98.90, "TA": 93.22, "disparity": 0.67, "minutes": 9.91},
    },
}


# MRA (Sui et al.), CIFAR-10, EfficientNet teacher and student, forget classes 1, 3, 5, 7, 9
# x 50%; accuracy (fraction) of the unlearned model (ULM) and the recalled model (RCM) on
# the test and forget sets. Table 2: closed source (DST+STU); Table 3: open source
# (DST+STU+TCH); Table 8: the DST-only ablation row. The trained model: test 0.833,
# forget 1.000.
MRA_CIFAR10_TRAINED = {"test": 0.833, "forget": 1.000}
MRA_CIFAR10_ULM = {
    "ff": {"test": 0.164, "forget": 0.142}, "rl": {"test": 0.388, "forget": 0.153},
    "ga": {"test": 0.505, "forget": 0.267}, "iu": {"test": 0.105, "forget": 0.090},
    "bu": {"test": 0.462, "forget": 0.082}, "l1_sparse": {"test": 0.451, "forget": 0.154},
    "salun": {"test": 0.486, "forget": 0.117}, "unsc": {"test": 0.193, "forget": 0.031},
}
MRA_CIFAR10_RCM = {
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
MRA_PET37_ABLATION = {
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
