"""The UnlearnGuard study (chapter 04): a data provider's small training set, models trained
to a large margin on it, the reconstructions a trusted third party makes from their weights,
and the paper's four verification schemes (membership inference INA, backdoor ASR,
accuracy, reconstruction SSIM) at sample and class level, under model changes, against the
backdoor's budget and after relabel fine-tuning.

`study.run(params)` runs the steps of `experiment` (which also draws the tables and
figures) and returns the run's `Results` (`results`), which the claim rules of `rules`
(`claims(results)`) and `headline(results)` read.
"""

from .experiment import *  # noqa: F401,F403
from .results import Results  # noqa: F401
from .rules import *  # noqa: F401,F403
from .rules import claims, quoted  # noqa: F401
from .study import first_reconstructions, headline, run  # noqa: F401
