"""Boundary unlearning by boundary shrink (Chen et al. 2023)."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data import ImageData
from ..errors import check_positive_number
from ..splits import Split
from ..train import Recipe, fit
from .registry import register


def nearest_wrong_labels(frozen: nn.Module, data: ImageData, indices: Tensor, bound: float,
                         batch_size: int = 256) -> Tensor:
    """The class of each sample's FGSM neighbour under `frozen` (pixel bound `bound`).

    Where the attack does not cross the boundary, the neighbour's most likely class other
    than the true one is taken: boundary shrink needs a wrong label for every sample.
    """
    frozen.eval()
    std = torch.tensor(data.std, device=data.device).view(1, -1, 1, 1)
    mean = torch.tensor(data.mean, device=data.device).view(1, -1, 1, 1)
    low, high = (0 - mean) / std, (1 - mean) / std  # valid pixels in normalised units
    labels = []
    for chunk in indices.split(batch_size):
        x = data.inputs(chunk).requires_grad_(True)
        y = data.targets(chunk)
        (gradient,) = torch.autograd.grad(F.cross_entropy(frozen(x), y), x)
        neighbour = torch.clamp(x + bound / std * gradient.sign(), low, high).detach()
        with torch.no_grad():
            logits = frozen(neighbour)
        logits[torch.arange(len(y)), y] = float("-inf")
        labels.append(logits.argmax(1).cpu())
    return torch.cat(labels)


@register("bu", "Boundary unlearning (boundary shrink, Chen et al. 2023)",
          kinds=("class", "classwise"))
def bu(model: nn.Module, data: ImageData, split: Split, *, bound: float = 0.1, epochs: int = 3,
       lr: float = 2e-3, batch_size: int = 64, schedule: str = "constant",
       seed: int = 0) -> None:
    check_positive_number("bound", bound)
    targets = nearest_wrong_labels(copy.deepcopy(model), data, split.forget, bound)
    recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=0.0,
                    schedule=schedule)
    fit(model, data, split.forget, recipe, targets=targets, seed=seed, desc="bu")
