"""Numbers reported by Sharma et al., discriminative adversarial unlearning (percentages)."""

# Discriminative adversarial unlearning, Table 1, CIFAR-10, ResNet-18, dense models:
# UA, MIA-efficacy, RA, TA, average disparity to retraining, run time (minutes); means
# over 5 seeds. "Ours" is the paper's own adversarial method.
TABLE1_CIFAR10 = {
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
