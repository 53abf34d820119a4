"""The RSU study (chapter 05, Chen et al., "Machine unlearning in forgetting sequence"):
which samples are easy to forget, and does unlearning them in order of difficulty help?

`experiment` runs part one (every training sample's privacy risks, the riskiest samples
unlearned by six methods) and part two (GA, RL and Bad-T with and without RSU, and the
order ablation) and draws the tables and figures; `rules` holds the run's `Results` and
the claim rules that read them (`claims(results)`).
"""

from .experiment import *  # noqa: F401,F403
from .rules import *  # noqa: F401,F403
from .rules import Results, claims, quoted  # noqa: F401
