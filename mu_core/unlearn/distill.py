"""Bad teaching (Chundawat et al. 2023): distil from a competent and an incompetent teacher."""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..data import ImageData
from ..errors import check_fraction
from ..models import reinitialize
from ..splits import Split
from ..train import Recipe, fit, predict
from .registry import register


@register("bad_teacher", "Bad-T: competent teacher on retain, random teacher on forget "
          "(Chundawat et al. 2023)")
def bad_teacher(model: nn.Module, data: ImageData, split: Split, *, retain_fraction: float = 0.3,
                epochs: int = 1, lr: float = 1e-4, batch_size: int = 256,
                seed: int = 0) -> None:
    # The reference's run: Adam at lr 1e-4 without weight decay, one epoch of batches of 256,
    # KL at temperature 1 to the teachers' outputs, a random 30% of the retain set drawn
    # once. The student starts as the trained model. KL at temperature 1 equals the
    # cross-entropy against the teachers' probabilities up to a constant (Adam's steps all
    # but ignore the reference's extra 1 / num_classes scale of the loss), so those
    # probabilities are computed once and used as soft labels.
    check_fraction("retain_fraction", retain_fraction)
    generator = torch.Generator().manual_seed(seed)
    count = max(1, int(retain_fraction * len(split.retain)))
    retain = split.retain[torch.randperm(len(split.retain), generator=generator)[:count]]
    incompetent = reinitialize(copy.deepcopy(model), seed + 1)
    targets = torch.cat([predict(model, data, retain), predict(incompetent, data, split.forget)])
    recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, optimizer="adam",
                    weight_decay=0.0, schedule="constant")
    fit(model, data, torch.cat([retain, split.forget]), recipe, targets=targets, seed=seed,
        desc="bad_teacher")
