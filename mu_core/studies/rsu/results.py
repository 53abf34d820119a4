"""What one run of the RSU chapter measured (`Results`), and its results file.

Everything the claim rules, the headline and the results file read is plain data (lists,
dicts, frames of numbers) and goes through `to_json` and `from_json`. Two things the
chapter's figures and its differences table draw on are not: the `Setup` (the data, the
network, the recipes) and the `Risks` (the shadow models' statistics, the gradient
inversion's reconstructions). They ride on `Results` outside the file, so a `Results` read
back from a results file has neither: its claims, headline and tables are whole, its
figures 1 and 2 and the differences table are not.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ...claims import Interval
from ...regime import Leakage
from ..baselines import leakage_from_json
from .experiment import (Risks, Setup, gains, in_class_tail, logit_distribution,
                         loss_asr_correlation, loss_intervals, risk_profile)


@dataclass
class Results:
    """What one run of the chapter measured. For the claim rules: online LiRA's AUC with
    its interval on `lira_target` (`regime.online_lira`), per-sample values of the trained
    model on each forget set ('ASR', 'entropy', 'in_tail': below its class's top 80%),
    every training sample's loss and ASR, the runs of part one (`risk_runs`, with
    per-sample correctness and membership calls) and of part two (`rsu_runs`), the methods
    of each part, the ablation method and the relearn budget (epochs). For the tables and
    the results file besides: the regime (`leakage`), the forget sets (dataset indices by
    name), the risk profile of each set, Table 3 (`logit_distribution`), Figure 5's loss
    intervals and the loss-ASR rank correlation; RSU's gains are rebuilt from `rsu_runs`
    (`gains`). Not in the results file: `setup` and `risks` (see the module)."""

    lira_auc: Interval
    set_samples: dict
    loss: list
    asr: list
    risk_runs: pd.DataFrame
    rsu_runs: pd.DataFrame
    risk_methods: list
    rsu_methods: list
    ablation_method: str
    relearn_budget: int
    lira_target: str = "the trained model"  # what `lira_auc` was read on
    leakage: Leakage | None = None
    forget_sets: dict = field(default_factory=dict)
    risk_profile: pd.DataFrame | None = None
    logit_distribution: pd.DataFrame | None = None
    loss_intervals: pd.DataFrame | None = None
    loss_asr_spearman: float = math.nan
    inversion_success: float = math.nan  # the SSIM from which an inversion counts a success
    setup: Setup | None = field(default=None, repr=False, compare=False)
    risks: Risks | None = field(default=None, repr=False, compare=False)

    @classmethod
    def gather(cls, setup: Setup, risks: Risks, sets: dict[str, Tensor], leakage: Leakage,
               risk_runs: pd.DataFrame, rsu_runs: pd.DataFrame, *, risk_methods,
               rsu_methods, ablation_method: str, relearn_budget: int,
               inversion_success: float = math.nan) -> "Results":
        """The results of a run from what `study.run` computed: per set and sample its ASR,
        entropy, whether it lies in its class's tail and its gradient-inversion SSIM (NaN
        for a sample that was not an inversion candidate)."""
        samples = {}
        inverted = dict(zip(risks.candidates.tolist(), risks.inversion_ssim.tolist()))
        for name, indices in sets.items():
            at = risks.positions(indices)
            samples[name] = {"ASR": risks.asr[at].tolist(),
                             "entropy": risks.entropy[at].tolist(),
                             "in_tail": in_class_tail(setup.data, risks, indices).int().tolist(),
                             "inversion_ssim": [inverted.get(i, math.nan)
                                                for i in indices.tolist()]}
        return cls(risks.lira_auc, samples, risks.loss.tolist(), risks.asr.tolist(),
                   risk_runs, rsu_runs, list(risk_methods), list(rsu_methods),
                   ablation_method, int(relearn_budget), risks.lira.target, leakage,
                   {name: indices.tolist() for name, indices in sets.items()},
                   risk_profile(risks, sets), logit_distribution(setup.data, risks, sets),
                   loss_intervals(risks), loss_asr_correlation(risks),
                   float(inversion_success), setup, risks)

    @property
    def data(self):
        """The run's data (the trained model's training subset); None when read from a file."""
        return None if self.setup is None else self.setup.data

    def sets(self) -> dict[str, Tensor]:
        """The forget sets as tensors of dataset indices, by name."""
        return {name: torch.tensor(indices, dtype=torch.long)
                for name, indices in self.forget_sets.items()}

    def gains(self) -> pd.DataFrame:
        """RSU's gain per scenario, method and metric, paired by seed (`experiment.gains`)."""
        return gains(self.rsu_runs, self.rsu_methods)

    def to_json(self) -> dict:
        """Plain lists and dicts (NaN stays NaN; the results file writes it as null): the
        claim rules' fields, then the regime (`regime_lira`), the forget sets, the risk
        profile, Table 3, Figure 5's intervals and correlation and RSU's gains."""
        return {"lira_auc": dataclasses.asdict(self.lira_auc), "set_samples": self.set_samples,
                "loss": self.loss, "asr": self.asr,
                "risk_runs": self.risk_runs.to_dict("records"),
                "rsu_runs": self.rsu_runs.to_dict("records"),
                "risk_methods": self.risk_methods, "rsu_methods": self.rsu_methods,
                "ablation_method": self.ablation_method, "relearn_budget": self.relearn_budget,
                "lira_target": self.lira_target,
                "regime_lira": None if self.leakage is None else self.leakage.as_dict(),
                "forget_sets": self.forget_sets,
                "risk_profile": _by_index(self.risk_profile),
                "logit_distribution": _by_index(self.logit_distribution),
                "loss_intervals": _records(self.loss_intervals),
                "loss_asr_spearman": self.loss_asr_spearman,
                "inversion_success": self.inversion_success,
                "gains": self.gains().to_dict("records")}

    @classmethod
    def from_json(cls, document: dict) -> "Results":
        """The inverse of `to_json`, also from a results file (null read back as NaN; the
        gains are not read: `gains` rebuilds them from the runs)."""
        auc = {k: (float("nan") if v is None and k != "n" else v)
               for k, v in document["lira_auc"].items()}
        frames = {k: pd.DataFrame(document[k]).fillna(np.nan) for k in ("risk_runs", "rsu_runs")}
        lira = document.get("regime_lira")
        return cls(Interval(**auc), document["set_samples"], _numbers(document["loss"]),
                   _numbers(document["asr"]), frames["risk_runs"], frames["rsu_runs"],
                   document["risk_methods"], document["rsu_methods"],
                   document["ablation_method"], document["relearn_budget"],
                   document.get("lira_target", "each shadow model in turn (leave one out)"),
                   None if lira is None else leakage_from_json(lira),
                   dict(document.get("forget_sets", {})),
                   _frame_by_index(document.get("risk_profile"), str),
                   _frame_by_index(document.get("logit_distribution"), int),
                   _frame(document.get("loss_intervals")),
                   _number(document.get("loss_asr_spearman")),
                   _number(document.get("inversion_success")))


def _number(value) -> float:
    return math.nan if value is None else value


def _numbers(values) -> list:
    return [_number(v) for v in values]


def _by_index(frame: pd.DataFrame | None) -> dict | None:
    return None if frame is None else frame.to_dict("index")


def _records(frame: pd.DataFrame | None) -> list | None:
    return None if frame is None else frame.to_dict("records")


def _frame_by_index(rows: dict | None, key) -> pd.DataFrame | None:
    """A frame written by `_by_index` (a file's keys are strings: `key` reads them back)."""
    if rows is None:
        return None
    return pd.DataFrame({key(k): {c: np.nan if v is None else v for c, v in row.items()}
                         for k, row in rows.items()}).T


def _frame(records: list | None) -> pd.DataFrame | None:
    return None if records is None else pd.DataFrame(records).fillna(np.nan)
