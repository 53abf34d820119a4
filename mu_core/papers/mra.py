"""Numbers reported by Sui et al., MRA (accuracies as fractions), keyed by our datasets'
registry names and our methods' names. Every dataset forgets 50% of five classes (Table 5:
CIFAR-10 1, 3, 5, 7, 9; CIFAR-100 10, 30, 50, 70, 90; Pet-37 and Flower-102 by name)."""

# The paper's datasets, as it names them, and the architectures of its rows (Section 5.1).
DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "oxford_pets": "Pet-37",
            "flowers102": "Flower-102"}
ARCHITECTURES = {"cifar10": "EfficientNet teacher and student",
                 "cifar100": "EfficientNet teacher and student",
                 "oxford_pets": "ResNet teacher and student",
                 "flowers102": "Swin-T teacher, ResNet student"}
# The rows whose student has another architecture than the ULM (Section 5.1).
HETEROGENEOUS = "flowers102"
# The ablation of each dataset (Table 4 is Pet-37's, shortened to four methods).
ABLATION_TABLES = {"cifar10": "Table 8", "cifar100": "Table 9", "oxford_pets": "Tables 4, 10",
                   "flowers102": "Table 11"}
FORGET_CLASSES = 5  # forget classes in every dataset (Appendix B.1)
# Section 5.1: every MU method runs SGD with this momentum and weight decay.
MU_SGD = {"momentum": 0.9, "weight_decay": 0.005}
# Table 1: classes, training and test images, and forget images (per forget class where the
# paper gives them as "n x 5"; Flower-102's 224 is a total).
SPLITS = {
    "cifar10": {"classes": 10, "train": 50_000, "test": 10_000, "forget": 12_500,
                "forget_per_class": 2_500},
    "cifar100": {"classes": 100, "train": 50_000, "test": 10_000, "forget": 1_250,
                 "forget_per_class": 250},
    "oxford_pets": {"classes": 37, "train": 3_680, "test": 3_669, "forget": 250,
                    "forget_per_class": 50},
    "flowers102": {"classes": 102, "train": 3_074, "test": 1_020, "forget": 224,
                   "forget_per_class": None},
}
# Tables 6-7: the attack's settings per dataset, closed source (Table 6) and open source
# (Table 7); mixup (alpha_x, alpha_y) and smoothing (gamma_l, gamma_s) are the same in both.
# The optimiser is AdamW throughout; LR_U (the ULM's rate) exists in the open case only.
_MIXUP_AND_SMOOTHING = {"alpha_x": 0.20, "alpha_y": 0.75, "gamma_l": 0.01, "gamma_s": 0.05}
ATTACK_SETTINGS = {
    "cifar10": {**_MIXUP_AND_SMOOTHING, "tau_closed": 0.60, "tau_open": 0.05,
                "lr_student_closed": 1e-4, "lr_student_open": 1e-4, "lr_unlearned": 5e-5,
                "batch_size": 256},
    "cifar100": {**_MIXUP_AND_SMOOTHING, "tau_closed": 0.60, "tau_open": 0.05,
                 "lr_student_closed": 2e-4, "lr_student_open": 2e-4, "lr_unlearned": 1e-4,
                 "batch_size": 256},
    "oxford_pets": {**_MIXUP_AND_SMOOTHING, "tau_closed": 0.05, "tau_open": 0.05,
                    "lr_student_closed": 2e-4, "lr_student_open": 2e-4, "lr_unlearned": 1e-4,
                    "batch_size": 64},
    "flowers102": {**_MIXUP_AND_SMOOTHING, "tau_closed": 0.05, "tau_open": 0.05,
                   "lr_student_closed": 2e-4, "lr_student_open": 1e-4, "lr_unlearned": 1e-4,
                   "batch_size": 32},
}
# Tables 2-3: accuracy of the trained model (TRM).
TRAINED = {"cifar10": {"test": 0.833, "forget": 1.000},
           "cifar100": {"test": 0.643, "forget": 1.000},
           "oxford_pets": {"test": 0.895, "forget": 1.000},
           "flowers102": {"test": 0.939, "forget": 1.000}}

# Tables 2-3: accuracy of the unlearned model (ULM), the same rows in both tables.
ULM = {
    "cifar10": {
        "ff": {"test": 0.164, "forget": 0.142}, "rl": {"test": 0.388, "forget": 0.153},
        "ga": {"test": 0.505, "forget": 0.267}, "iu": {"test": 0.105, "forget": 0.090},
        "bu": {"test": 0.462, "forget": 0.082}, "l1_sparse": {"test": 0.451, "forget": 0.154},
        "salun": {"test": 0.486, "forget": 0.117}, "unsc": {"test": 0.193, "forget": 0.031},
    },
    "cifar100": {
        "ff": {"test": 0.159, "forget": 0.094}, "rl": {"test": 0.593, "forget": 0.086},
        "ga": {"test": 0.531, "forget": 0.201}, "iu": {"test": 0.140, "forget": 0.201},
        "bu": {"test": 0.529, "forget": 0.254}, "l1_sparse": {"test": 0.537, "forget": 0.199},
        "salun": {"test": 0.410, "forget": 0.227}, "unsc": {"test": 0.275, "forget": 0.209},
    },
    "oxford_pets": {
        "ff": {"test": 0.257, "forget": 0.224}, "rl": {"test": 0.754, "forget": 0.332},
        "ga": {"test": 0.740, "forget": 0.224}, "iu": {"test": 0.622, "forget": 0.200},
        "bu": {"test": 0.646, "forget": 0.084}, "l1_sparse": {"test": 0.740, "forget": 0.196},
        "salun": {"test": 0.706, "forget": 0.128}, "unsc": {"test": 0.769, "forget": 0.304},
    },
    "flowers102": {
        "ff": {"test": 0.294, "forget": 0.235}, "rl": {"test": 0.756, "forget": 0.150},
        "ga": {"test": 0.314, "forget": 0.239}, "iu": {"test": 0.512, "forget": 0.291},
        "bu": {"test": 0.706, "forget": 0.340}, "l1_sparse": {"test": 0.530, "forget": 0.324},
        "salun": {"test": 0.496, "forget": 0.267},
    },
}

# Accuracy of the recalled model (RCM) after each ablation stage: DST from Tables 8-11
# (Table 4 is Table 10's FF, BU, SalUn and UNSC columns), DST+STU = Table 2's RCM rows
# (closed source), DST+STU+TCH = Table 3's (open source); Tables 8-11 repeat both.
RCM = {
    "cifar10": {
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
    },
    "cifar100": {
        "dst": {
            "ff": {"test": 0.173, "forget": 0.103}, "rl": {"test": 0.594, "forget": 0.015},
            "ga": {"test": 0.528, "forget": 0.180}, "iu": {"test": 0.135, "forget": 0.194},
            "bu": {"test": 0.532, "forget": 0.210}, "l1_sparse": {"test": 0.536, "forget": 0.183},
            "salun": {"test": 0.440, "forget": 0.142}, "unsc": {"test": 0.244, "forget": 0.131},
        },
        "dst+stu": {
            "ff": {"test": 0.295, "forget": 0.214}, "rl": {"test": 0.607, "forget": 0.537},
            "ga": {"test": 0.551, "forget": 0.270}, "iu": {"test": 0.297, "forget": 0.256},
            "bu": {"test": 0.566, "forget": 0.423}, "l1_sparse": {"test": 0.550, "forget": 0.258},
            "salun": {"test": 0.522, "forget": 0.358}, "unsc": {"test": 0.480, "forget": 0.372},
        },
        "dst+stu+tch": {
            "ff": {"test": 0.521, "forget": 0.686}, "rl": {"test": 0.599, "forget": 0.898},
            "ga": {"test": 0.589, "forget": 0.682}, "iu": {"test": 0.596, "forget": 0.967},
            "bu": {"test": 0.587, "forget": 0.970}, "l1_sparse": {"test": 0.598, "forget": 0.764},
            "salun": {"test": 0.564, "forget": 0.945}, "unsc": {"test": 0.598, "forget": 0.985},
        },
    },
    "oxford_pets": {
        "dst": {
            "ff": {"test": 0.223, "forget": 0.168}, "rl": {"test": 0.766, "forget": 0.364},
            "ga": {"test": 0.739, "forget": 0.176}, "iu": {"test": 0.576, "forget": 0.144},
            "bu": {"test": 0.659, "forget": 0.128}, "l1_sparse": {"test": 0.732, "forget": 0.208},
            "salun": {"test": 0.698, "forget": 0.108}, "unsc": {"test": 0.767, "forget": 0.320},
        },
        "dst+stu": {
            "ff": {"test": 0.486, "forget": 0.388}, "rl": {"test": 0.816, "forget": 0.884},
            "ga": {"test": 0.757, "forget": 0.520}, "iu": {"test": 0.682, "forget": 0.448},
            "bu": {"test": 0.785, "forget": 0.856}, "l1_sparse": {"test": 0.758, "forget": 0.440},
            "salun": {"test": 0.778, "forget": 0.712}, "unsc": {"test": 0.799, "forget": 0.660},
        },
        "dst+stu+tch": {
            "ff": {"test": 0.782, "forget": 0.904}, "rl": {"test": 0.850, "forget": 0.960},
            "ga": {"test": 0.843, "forget": 0.952}, "iu": {"test": 0.838, "forget": 0.936},
            "bu": {"test": 0.846, "forget": 0.960}, "l1_sparse": {"test": 0.841, "forget": 0.920},
            "salun": {"test": 0.849, "forget": 0.948}, "unsc": {"test": 0.856, "forget": 0.976},
        },
    },
    "flowers102": {
        "dst": {
            "ff": {"test": 0.278, "forget": 0.198}, "rl": {"test": 0.741, "forget": 0.170},
            "ga": {"test": 0.319, "forget": 0.231}, "iu": {"test": 0.519, "forget": 0.320},
            "bu": {"test": 0.714, "forget": 0.377}, "l1_sparse": {"test": 0.511, "forget": 0.308},
            "salun": {"test": 0.505, "forget": 0.247},
        },
        "dst+stu": {
            "ff": {"test": 0.376, "forget": 0.312}, "rl": {"test": 0.831, "forget": 0.567},
            "ga": {"test": 0.510, "forget": 0.352}, "iu": {"test": 0.589, "forget": 0.364},
            "bu": {"test": 0.758, "forget": 0.478}, "l1_sparse": {"test": 0.655, "forget": 0.538},
            "salun": {"test": 0.599, "forget": 0.429},
        },
        "dst+stu+tch": {
            "ff": {"test": 0.607, "forget": 0.482}, "rl": {"test": 0.915, "forget": 0.988},
            "ga": {"test": 0.772, "forget": 0.709}, "iu": {"test": 0.829, "forget": 0.725},
            "bu": {"test": 0.889, "forget": 0.972}, "l1_sparse": {"test": 0.856, "forget": 0.935},
            "salun": {"test": 0.857, "forget": 0.915},
        },
    },
}

# Tables 2-3's ΔAcc (RCM - ULM) as printed: it can differ from the difference of the
# printed accuracies by 0.001, from rounding.
DELTA = {
    "cifar10": {
        "dst+stu": {
            "ff": {"test": 0.088, "forget": 0.053}, "rl": {"test": 0.091, "forget": 0.175},
            "ga": {"test": 0.023, "forget": 0.091}, "iu": {"test": 0.010, "forget": 0.005},
            "bu": {"test": 0.188, "forget": 0.424}, "l1_sparse": {"test": 0.005, "forget": 0.077},
            "salun": {"test": 0.211, "forget": 0.498}, "unsc": {"test": 0.375, "forget": 0.482},
        },
        "dst+stu+tch": {
            "ff": {"test": 0.544, "forget": 0.584}, "rl": {"test": 0.083, "forget": 0.197},
            "ga": {"test": 0.077, "forget": 0.242}, "iu": {"test": 0.584, "forget": 0.668},
            "bu": {"test": 0.321, "forget": 0.795}, "l1_sparse": {"test": 0.027, "forget": 0.184},
            "salun": {"test": 0.343, "forget": 0.880}, "unsc": {"test": 0.581, "forget": 0.890},
        },
    },
    "cifar100": {
        "dst+stu": {
            "ff": {"test": 0.137, "forget": 0.119}, "rl": {"test": 0.014, "forget": 0.451},
            "ga": {"test": 0.020, "forget": 0.070}, "iu": {"test": 0.157, "forget": 0.055},
            "bu": {"test": 0.037, "forget": 0.169}, "l1_sparse": {"test": 0.013, "forget": 0.058},
            "salun": {"test": 0.112, "forget": 0.130}, "unsc": {"test": 0.206, "forget": 0.163},
        },
        "dst+stu+tch": {
            "ff": {"test": 0.363, "forget": 0.592}, "rl": {"test": 0.006, "forget": 0.813},
            "ga": {"test": 0.058, "forget": 0.481}, "iu": {"test": 0.456, "forget": 0.766},
            "bu": {"test": 0.058, "forget": 0.715}, "l1_sparse": {"test": 0.061, "forget": 0.565},
            "salun": {"test": 0.154, "forget": 0.718}, "unsc": {"test": 0.324, "forget": 0.776},
        },
    },
    "oxford_pets": {
        "dst+stu": {
            "ff": {"test": 0.229, "forget": 0.164}, "rl": {"test": 0.062, "forget": 0.552},
            "ga": {"test": 0.018, "forget": 0.296}, "iu": {"test": 0.060, "forget": 0.248},
            "bu": {"test": 0.140, "forget": 0.772}, "l1_sparse": {"test": 0.018, "forget": 0.244},
            "salun": {"test": 0.072, "forget": 0.584}, "unsc": {"test": 0.030, "forget": 0.356},
        },
        "dst+stu+tch": {
            "ff": {"test": 0.525, "forget": 0.680}, "rl": {"test": 0.096, "forget": 0.628},
            "ga": {"test": 0.103, "forget": 0.728}, "iu": {"test": 0.216, "forget": 0.736},
            "bu": {"test": 0.200, "forget": 0.876}, "l1_sparse": {"test": 0.102, "forget": 0.724},
            "salun": {"test": 0.143, "forget": 0.820}, "unsc": {"test": 0.087, "forget": 0.672},
        },
    },
    "flowers102": {
        "dst+stu": {
            "ff": {"test": 0.082, "forget": 0.077}, "rl": {"test": 0.075, "forget": 0.417},
            "ga": {"test": 0.196, "forget": 0.113}, "iu": {"test": 0.077, "forget": 0.073},
            "bu": {"test": 0.052, "forget": 0.138}, "l1_sparse": {"test": 0.125, "forget": 0.215},
            "salun": {"test": 0.103, "forget": 0.162},
        },
        "dst+stu+tch": {
            "ff": {"test": 0.313, "forget": 0.247}, "rl": {"test": 0.159, "forget": 0.838},
            "ga": {"test": 0.458, "forget": 0.470}, "iu": {"test": 0.318, "forget": 0.433},
            "bu": {"test": 0.183, "forget": 0.632}, "l1_sparse": {"test": 0.325, "forget": 0.611},
            "salun": {"test": 0.361, "forget": 0.648},
        },
    },
}
