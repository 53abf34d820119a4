"""Unlearning methods, one registry: `unlearn(name, model, data, split, **hyperparameters)`.

A file per family: `finetune` (retrain, ft, ga, rl, l1_sparse), `pruning` (wp), `saliency`
(salun), `boundary` (bu), `distill` (bad_teacher), `fisher` (ff, iu), `nullspace` (unsc),
`sequence` (rsu: any of them, on nested subsets of the forget set in order of difficulty),
`adversarial` (min-max against a learned membership attacker).
"""

from . import (adversarial, boundary, distill, finetune, fisher, nullspace, pruning,  # noqa: F401
               saliency, sequence)
from .registry import METHODS, Method, check_request, unlearn

__all__ = ["METHODS", "Method", "check_request", "unlearn"]
