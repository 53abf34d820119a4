"""Boundary unlearning by boundary shrink (Chen et al. 2023)."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data import ImageData
from ..errors import check_choice, check_positive_number
from ..splits import Split
from ..train import Recipe, as_model_input, fit, prepare_model
from .registry import register

BU_LABELS = ("neighbour", "wrong_neighbour")


def fgsm_neighbours(frozen: nn.Module, data: ImageData, x: Tensor, labels: Tensor,
                    bound: float) -> Tensor:
    """The FGSM neighbours under `frozen` of the normalised images `x` of `labels`: every
    pixel moved by `bound` (in [0, 1] units) along the sign of the loss gradient, then kept
    in [0, 1] and rounded to the 8-bit grid, as the reference's attack does; normalised."""
    mean = torch.tensor(data.mean, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=x.device).view(1, -1, 1, 1)
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(frozen(as_model_input(x)).float(), labels)
        (gradient,) = torch.autograd.grad(loss, x)
    pixels = (x.detach() * std + mean + bound * gradient.sign()).clamp(0, 1)
    return (torch.round(pixels * 255) / 255 - mean) / std


def neighbour_labels(frozen: nn.Module, data: ImageData, bound: float, wrong: bool = False):
    """A `fit` relabel hook: each sample's label becomes the class `frozen` gives its FGSM
    neighbour, which may be its own class; with `wrong`, the neighbour's most likely class
    other than its own."""
    def relabel(x: Tensor, targets: Tensor, positions: Tensor,
                generator: torch.Generator) -> Tensor:
        neighbours = fgsm_neighbours(frozen, data, x, targets, bound)
        with torch.no_grad():
            logits = frozen(as_model_input(neighbours)).float()
        if wrong:
            logits[torch.arange(len(targets)), targets] = float("-inf")
        return logits.argmax(1)
    return relabel


def check_bu_settings(split: Split, hyperparameters: dict) -> None:
    """Before any run: `labels` names a way of labelling the forget set."""
    check_choice("bu labels", hyperparameters.get("labels", "neighbour"), BU_LABELS)


@register("bu", "Boundary unlearning (boundary shrink, Chen et al. 2023)",
          kinds=("class", "classwise"), check=check_bu_settings)
def bu(model: nn.Module, data: ImageData, split: Split, *, bound: float = 0.1, epochs: int = 3,
       lr: float = 2e-3, batch_size: int = 64, schedule: str = "constant",
       labels: str = "neighbour", seed: int = 0) -> None:
    # As in the reference (and SalUn's copy of it), every batch of forget samples is
    # labelled by the class that the original model, frozen, gives its FGSM neighbour, even
    # where that is the true class. The frozen model and unaugmented inputs make these the
    # same labels every epoch, at the reference's cost of an attack per batch. The attack
    # works in the data's own normalisation (the reference's un-normalises CIFAR-10 with
    # statistics other than those its data was normalised with).
    # labels="wrong_neighbour" forces a wrong label, as before.
    check_positive_number("bound", bound)
    check_choice("bu labels", labels, BU_LABELS)
    frozen = prepare_model(copy.deepcopy(model), data.device).eval().requires_grad_(False)
    recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=0.0,
                    schedule=schedule)
    fit(model, data, split.forget, recipe, seed=seed, desc="bu",
        relabel=neighbour_labels(frozen, data, bound, wrong=labels == "wrong_neighbour"))
