"""The RSU study (chapter 05, Chen et al., "Machine unlearning in forgetting sequence"):
which samples are easy to forget, and does unlearning them in order of difficulty help?

`study.run(params)` runs part one (every training sample's privacy risks, the riskiest
samples unlearned by six methods) and part two (GA, RL and Bad-T with and without RSU, and
the order ablation) with the pieces of `experiment`, which also draws the tables and
figures; it returns the run's `Results` (`results`), which the claim rules of `rules`
(`claims(results)`) and `headline(results)` read.
"""

from .experiment import *  # noqa: F401,F403
from .results import Results  # noqa: F401
from .rules import *  # noqa: F401,F403
from .rules import claims, quoted  # noqa: F401
from .study import headline, run  # noqa: F401
