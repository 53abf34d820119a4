"""Weight pruning: one-shot magnitude pruning (OMP), then retain fine-tuning with the mask held."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..data import ImageData
from ..errors import check_fraction
from ..splits import Split
from ..train import Recipe, fit
from .registry import register


def prunable(model: nn.Module) -> dict[str, Tensor]:
    """The weights OMP prunes: those of convolutions and linear layers (not biases or norms)."""
    return {f"{name}.weight": module.weight for name, module in model.named_modules()
            if isinstance(module, (nn.Conv2d, nn.Linear))}


def omp_masks(model: nn.Module, sparsity: float) -> dict[str, Tensor]:
    """Global one-shot magnitude pruning: keep the largest (1 - sparsity) share of weights."""
    weights = prunable(model)
    magnitudes = torch.cat([w.detach().abs().flatten() for w in weights.values()])
    kept = magnitudes.numel() - int(round(sparsity * magnitudes.numel()))
    threshold = torch.topk(magnitudes, kept).values.min() if kept else float("inf")
    return {name: (w.detach().abs() >= threshold).to(w.dtype) for name, w in weights.items()}


def apply_masks(model: nn.Module, masks: dict[str, Tensor]) -> None:
    weights = prunable(model)
    with torch.no_grad():
        for name, mask in masks.items():
            weights[name].mul_(mask.to(weights[name].device))


@register("wp", "Weight pruning: OMP to a sparsity, then retain fine-tuning with the mask held "
          "(Jia et al. 2023)")
def wp(model: nn.Module, data: ImageData, split: Split, *, sparsity: float = 0.9,
       epochs: int = 4, lr: float = 0.05, batch_size: int = 128, weight_decay: float = 5e-4,
       seed: int = 0) -> None:
    check_fraction("sparsity", sparsity, allow_zero=True, allow_one=False)
    masks = omp_masks(model, sparsity)
    apply_masks(model, masks)
    recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay)
    fit(model, data, split.retain, recipe, seed=seed, desc="wp",
        step_hook=lambda net: apply_masks(net, masks))
