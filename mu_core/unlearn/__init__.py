"""Unlearning methods, one registry: `unlearn(name, model, data, split, **hyperparameters)`.

A file per family: `finetune` (retrain, ft, ga, rl, l1_sparse), `pruning` (wp), `saliency`
(salun), `boundary` (bu), `distill` (bad_teacher), `fisher` (ff, iu), `nullspace` (unsc),
`sequence` (rsu: any of them, on nested subsets of the forget set in order of difficulty).
"""

from . import (boundary, distill, finetune, fisher, nullspace, pruning, saliency,  # noqa: F401
               sequence)
from .registry import METHODS, Method, check_request, unlearn

__all__ = ["METHODS", "Method", "check_request", "unlearn"]
