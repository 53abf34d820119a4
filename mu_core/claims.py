"""A paper's claims as data: each has a stable id, what the paper says, what we measured
and a verdict computed by a claim rule, never typed by hand.

Batch runs and the cross-paper scorecard read verdicts by id, so an id names the claim, not
its position, and stays the same across presets and parameters.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import pandas as pd

from .errors import ConfigError

HELD, NOT_HELD, NOT_TESTABLE = "held", "did not hold", "not testable here"
VERDICTS = (HELD, NOT_HELD, NOT_TESTABLE)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Claim:
    """One checked claim: `id` (snake_case), the `claim`, the `paper`'s evidence, what we
    found `here`, and the `verdict` (one of `VERDICTS`)."""

    id: str
    claim: str
    paper: str
    here: str
    verdict: str

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ConfigError(f"a claim id is snake_case (letters, digits, _), got {self.id!r}.")
        if self.verdict not in VERDICTS:
            raise ConfigError(f"claim {self.id}: verdict must be one of {', '.join(VERDICTS)}, "
                              f"got {self.verdict!r}.")


def verdict(held) -> str:
    """The verdict of a rule's outcome: True held, False did not hold, None not testable."""
    if held is None:
        return NOT_TESTABLE
    return HELD if bool(held) else NOT_HELD


def table(claims) -> pd.DataFrame:
    """The claims as a table indexed by id (the chapter's display)."""
    rows = [asdict(c) for c in claims]
    return pd.DataFrame(rows, columns=["id", "claim", "paper", "here", "verdict"]).set_index("id")
