"""What one run of the UnlearnGuard chapter measured (`Results`), and its results file.

The claim rules, the headline and the chapter's tables read plain data (lists, dicts,
numbers), which `to_json` writes as it is and `from_json` reads back. The figures draw on
what is not plain data: the `Study` (the provider's samples, the null, the settings), the
trained `Models`, every model's reconstruction scores (tensors, with the reconstructions
themselves), model inversion's representatives and the `Verification` of the request.
They ride on `Results` outside the file (`study`, `models`, `recovered`, `robust_scores`,
`relabel_scores`, `representatives`, `checked`), so a `Results` read back from a results
file has its claims, headline and tables whole but cannot draw the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np
import torch
from torch import Tensor

OUTSIDE = {"json": False}  # a field's metadata: not in the results file
# Fields whose null in a results file is a value (no budget ran the paper's share), not NaN.
NULL_IS_NONE = ("backdoor_cost",)


def _outside():
    return field(default=None, repr=False, compare=False, metadata=OUTSIDE)


@dataclass
class Results:
    """What one run of the chapter measured (JSON-ready: lists, dicts, numbers), and, outside
    the results file, what its figures draw on (see the module).

    For the claim rules: masks are over the provider's training set D; `ssim` maps a model
    to each training sample's best SSIM after phase 2 ("phase1" and "control": the trained
    model's after phase 1 and after phase 2 without the prior; "start": its SSIM to the
    trained model's reconstruction's start, the model's centre image; "before quality" and
    "control quality": the trained model's recovery quality, the SSIM of each sample's
    nearest candidate by Haim et al.'s search, with and without the prior); `sample_level` and
    `class_level` are subset -> when -> scheme -> rate, `trials` subset -> scheme -> how
    many samples a rate counts; `mia_signal` the MIA's [members called members, n] on the
    requested samples and on unseen digits; `inversion` when -> the trained model's
    probability of the unlearned class for each restart's representative; `backdoor_cost`
    the paper's share's clean test accuracy (None when no budget ran it) beside the clean
    model's, over `test_size` digits (of a training set of `training_size`); `relabel` the
    relabel table's rows, `candidates` how many reconstructions each has; `unseen_ssim` maps
    a model to the best SSIM of each of the null's unseen digits to its reconstruction
    (never members: the membership signal's other side), and "start" to their SSIM to the
    trained model's reconstruction's start.

    For the tables and the results file besides: `accuracy` (column -> model -> accuracy),
    `verification` (Algorithm 1's counts: verdict -> subset -> count), `distance_table`,
    `ssim_table` (when -> subset -> mean best SSIM), `paired` (the paired reading: its
    threshold, flags, false alarms and their rate), `providers`, `backdoor_budget` and
    `verifiable` (keyed by the share or the SSIM level as text: `budget()` and
    `verifiable_counts()` key them by number), `prior` (the trained model's per-sample
    SSIMs after each phase and its margin `distance`)."""

    tau: float
    null: list
    requested: list
    second: list
    class_forget: list
    class_kept: list
    ssim: dict
    sample_level: dict
    class_level: dict
    trials: dict
    mia_signal: dict
    distances: dict
    inversion: dict
    robustness: dict
    backdoor_cost: dict
    backdoor_verifications: int
    relabel: dict
    candidates: int
    unlearn_class: int
    keep_class: int
    unseen_ssim: dict | None = None
    accuracy: dict | None = None
    verification: dict | None = None
    distance_table: dict | None = None
    ssim_table: dict | None = None
    paired: dict | None = None
    providers: dict | None = None
    backdoor_budget: dict | None = None
    verifiable: dict | None = None
    prior: dict | None = None
    study: object = _outside()  # experiment.Study
    models: object = _outside()  # experiment.Models
    recovered: dict | None = _outside()  # "before", "after", "again", "class after"
    robust_scores: dict | None = _outside()  # each changed model of `robustness`
    relabel_scores: dict | None = _outside()
    representatives: dict | None = _outside()
    checked: object = _outside()  # experiment.Verification

    def to_json(self) -> dict:
        """The fields of the results file, as they are (NaN stays NaN; the file writes
        null)."""
        return {f.name: getattr(self, f.name) for f in _in_file()}

    @classmethod
    def from_json(cls, document: dict) -> "Results":
        """The `Results` inside a results JSON's "results" (other keys are left out): a null
        inside a field read back as NaN, except where null is a value (`NULL_IS_NONE`)."""
        return cls(**{f.name: document[f.name] if f.name in NULL_IS_NONE
                      else _nan_for_null(document[f.name]) for f in _in_file()})

    def mask(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, name), dtype=bool)

    def scores(self, model: str) -> np.ndarray:
        return np.asarray(self.ssim[model], dtype=float)

    def quality(self, model: str) -> np.ndarray | None:
        """Each training sample's recovery quality (`scores` reads the best SSIM) for
        "before" or "control", None where the run did not record it."""
        found = self.ssim.get(f"{model} quality")
        return None if found is None else np.asarray(found, dtype=float)

    def budget(self) -> dict[float, dict]:
        """`backdoor_budget` keyed by the backdoored share as a number again."""
        return {float(share): row for share, row in self.backdoor_budget.items()}

    def verifiable_counts(self) -> dict[float, dict]:
        """`verifiable` keyed by the SSIM level (or tau) as a number again."""
        return {float(level): row for level, row in self.verifiable.items()}

    def boundary_distance(self) -> Tensor:
        """The trained model's margin Delta M of each training sample (`prior`)."""
        return torch.tensor(self.prior["distance"])


def _in_file():
    return [f for f in fields(Results) if f.metadata.get("json", True)]


def _nan_for_null(value):
    """`value` with every null inside its lists and dicts read as NaN (a top-level null,
    a field the run did not fill, stays None)."""
    def inner(v):
        return math.nan if v is None else _nan_for_null(v)
    if isinstance(value, dict):
        return {k: inner(v) for k, v in value.items()}
    if isinstance(value, list):
        return [inner(v) for v in value]
    return value
