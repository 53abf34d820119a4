"""The UnlearnGuard study (chapter 04): a data provider's small training set, models trained
to a large margin on it, the reconstructions a trusted third party makes from their weights,
and the paper's four verification schemes (membership inference INA, backdoor ASR,
accuracy, reconstruction SSIM) at sample and class level, under model changes, against the
backdoor's budget and after relabel fine-tuning.

`experiment` runs the steps and draws the tables and figures; `rules` holds the run's
`Results` and the claim rules that read them (`claims(results)`).
"""

from .experiment import *  # noqa: F401,F403
from .rules import *  # noqa: F401,F403
from .rules import Results, claims, quoted  # noqa: F401
