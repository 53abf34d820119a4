"""SalUn (Fan et al. 2024): random-label unlearning restricted to the salient weights."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..data import ImageData
from ..errors import check_choice, check_fraction
from ..persample import gradient_sum
from ..splits import Split
from ..train import Recipe, fit
from .finetune import RL_LABELS, labels_check, random_label_training
from .registry import register


def saliency_masks(model: nn.Module, data: ImageData, split: Split,
                   fraction: float) -> dict[str, Tensor]:
    """1 for the `fraction` of weights with the largest |gradient of the forget loss|.

    The forget loss is the cross-entropy summed over the forget set (its gradient is the sum
    of the per-sample gradients, so one batched backward pass per chunk gives it exactly);
    the threshold is global over all parameters, as in SalUn's mask generation.
    """
    saliency = {name: g.abs() for name, g in gradient_sum(model, data, split.forget).items()}
    flat = torch.cat([s.flatten() for s in saliency.values()])
    kept = int(round(fraction * flat.numel()))
    threshold = torch.topk(flat, kept).values.min() if kept else float("inf")
    return {name: s >= threshold for name, s in saliency.items()}


def hold_outside(masks: dict[str, Tensor], model: nn.Module):
    """A step hook that puts every weight outside its mask back to its value now, so they
    stay bit-identical whatever weight decay and momentum do."""
    frozen = {name: p.detach().clone() for name, p in model.named_parameters() if name in masks}

    def restore(net: nn.Module) -> None:
        with torch.no_grad():
            for name, p in net.named_parameters():
                if name in masks:
                    p.copy_(torch.where(masks[name].to(p.device), p, frozen[name].to(p.device)))
    return restore


@register("salun", "SalUn: saliency-masked random-label unlearning (Fan et al. 2024)",
          check=labels_check("salun"))
def salun(model: nn.Module, data: ImageData, split: Split, *, mask_fraction: float = 0.5,
          epochs: int = 3, lr: float = 0.02, batch_size: int = 128,
          weight_decay: float = 5e-4, schedule: str = "constant", labels: str = "redrawn",
          seed: int = 0) -> None:
    # As SalUn's RL (Unlearn-Saliency): the forget samples' labels are drawn uniformly over
    # all classes anew each time they are trained on (so they may be the true one), forget
    # and retain shuffled together (its CIFAR-100 branch; its CIFAR-10 branch runs the
    # forget batches of an epoch before the retain ones), and the weights outside the mask
    # stay at their values. labels="fixed_wrong" draws one wrong label per forget sample
    # before training, as before.
    check_fraction("mask_fraction", mask_fraction)
    check_choice("salun labels", labels, RL_LABELS)
    masks = saliency_masks(model, data, split, mask_fraction)
    indices, targets, relabel = random_label_training(data, split, labels, seed)
    recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay,
                    schedule=schedule)
    fit(model, data, indices, recipe, targets=targets, relabel=relabel, seed=seed,
        desc="salun", step_hook=hold_outside(masks, model))
