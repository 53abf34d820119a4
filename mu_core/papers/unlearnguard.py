"""What the UnlearnGuard paper reports, as its text states it."""

# UnlearnGuard, Section V: the claims as its text states them (the bar values of Figures
# 3-13 are not legible in the text we have, so they are not transcribed).
CLAIMS = {
    "mia_accuracy_unchanged": "no significant reduction after unlearning (Fig. 3)",
    "backdoor_drops": "ASR drops to nearly 0% for unlearned samples (Fig. 3)",
    "ssim_drops": "SSIM decreases significantly for unlearned, stays high for others (Figs. 3-4)",
    "recovered_before": "before unlearning, our scheme effectively recovers all samples "
                        "(Fig. 5)",
    "unlearned_not_recovered": "after unlearning, reconstructions most similar to the "
                               "unlearned samples no longer contain them; the remaining "
                               "samples are still recovered (Fig. 5)",
    "class_level": "MIA, accuracy and ours all change significantly (Fig. 6)",
    "robustness": "backdoor near 0 after pruning, lower after fine-tuning; ours still "
                  "recovers (Figs. 9-10)",
    "prior_helps": "a larger proportion of samples with greater similarity (Fig. 11a-b)",
    "verification_range": "about 255 of 500 samples above SSIM 0.15 vs. 10 backdoor "
                          "verifications (10% of 500 each): over 40x (Fig. 11c)",
    "relabel": "more recovered samples after relabel fine-tuning (Figs. 13-14)",
    "remaining_unchanged": "all schemes show no significant change for the remaining "
                           "samples (Fig. 4)",
    "unlearned_move_more": "E[D_i | i in F] > E[D_i | i not in F], D_i = ||x_i - x'_i|| "
                           "(Eqs. 18-20)",
    "inversion_loses_class": "model inversion: representatives of the unlearning class "
                             "before, dark and jumbled with almost no information about it "
                             "after (Fig. 7)",
    "remaining_class_unchanged": "no significant change for the remaining class across all "
                                 "schemes (Fig. 6c-d)",
    "backdoor_misses_relearning": "after unlearning then fine-tuning on the unlearned samples "
                                  "the backdoor fails; ours recovers them (Figs. 9c, 10e)",
    "backdoor_costs_accuracy": "with 60% of the training samples clean, accuracy falls to "
                               "44% (Fig. 11c)",
}
# Fig. 11c's point: the share of backdoored samples and the clean accuracy it leaves, on
# a training set of Buzaglo et al.'s size ("500 in total").
BACKDOOR_COST = {"backdoored_share": 0.4, "clean_accuracy": 0.44, "training_samples": 500}
# Section V-D's counts: samples above SSIM 0.15 (Fig. 11a) and backdoor verifications that
# 500 training samples support (Fig. 11c); the text calls their ratio "over 40 times"
# (their own quotient is 25.5).
RANGE_COUNTS = {"verified": 255, "ssim_level": 0.15, "backdoor_verifications": 10,
                "claimed_factor": 40}
