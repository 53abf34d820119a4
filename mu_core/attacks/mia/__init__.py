"""Membership inference, one module per family, all importable from here:

* `metric`: Song & Mittal's metric features, the SVC attack fitted on them, Unlearn-Sparse's
  MIA-efficacy and UnlearnGuard's INA;
* `lira`: Carlini et al.'s likelihood-ratio attack with RSU's per-example privacy score, and
  the ROC summary (AUC, TPR at low FPR) every attack reports;
* `learned`: Yuan & Zhang's learned attacker (softmax, sensitivity and label into a
  transformer), the attacker of discriminative adversarial unlearning.

Every attack reads a model only through its outputs on labelled samples, so it applies to
any classifier.
"""

from .learned import (SENSITIVITY_SAMPLES, SENSITIVITY_SCALE, MembershipTransformer,
                      attacker_features, attacker_inputs, attacker_scores, fit_attacker,
                      learned_attack, membership_loss, new_attacker, paired_logits)
from .lira import (LIRA_STATISTICS, leave_one_out_scores, lira_scores, lira_statistic,
                   privacy_scores, roc_summary, shadow_keep_masks)
from .metric import (MIA_FEATURES, membership_ina, membership_predictions, mia_efficacy_from_predictions,
                     mia_features)

__all__ = ["LIRA_STATISTICS", "MIA_FEATURES", "SENSITIVITY_SAMPLES", "SENSITIVITY_SCALE",
           "MembershipTransformer", "attacker_features", "attacker_inputs", "attacker_scores",
           "fit_attacker", "learned_attack", "leave_one_out_scores", "lira_scores",
           "lira_statistic", "membership_ina", "membership_loss", "membership_predictions",
           "mia_efficacy_from_predictions", "mia_features", "new_attacker", "paired_logits", "privacy_scores",
           "roc_summary", "shadow_keep_masks"]
