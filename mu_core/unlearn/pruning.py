"""Weight pruning: one-shot magnitude pruning (OMP), masks held by the model, and the `wp`
method (OMP, then retain fine-tuning with the mask held).

`hold_masks` makes a mask part of the model (a parametrisation: the layer's weight is its
free parameter times the mask), so every method, optimiser and per-sample gradient that
runs on the model afterwards leaves the pruned weights at zero, and the cache stores the
mask with the weights.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from ..data import ImageData
from ..errors import ConfigError, check_choice, check_fraction
from ..splits import Split
from ..train import Recipe, fit
from .registry import register


LAYERS = {"conv_linear": (nn.Conv2d, nn.Linear), "conv": (nn.Conv2d,),
          "conv_linear_but_classifier": (nn.Conv2d, nn.Linear)}
BUT_CLASSIFIER = "conv_linear_but_classifier"  # the choice that leaves the classifier out


def prunable(model: nn.Module, layers: str = "conv_linear") -> dict[str, Tensor]:
    """The weights OMP prunes: those of convolutions and linear layers (not biases or norms),
    of the convolutions alone (`layers="conv"`, the Unlearn-Sparse reference's OMP), or of
    every convolution and linear layer but the classifier, the model's last linear layer
    (`"conv_linear_but_classifier"`: the reference never prunes ResNet-18's classifier, and
    in a network with linear layers before it this prunes them too)."""
    kinds = LAYERS[check_choice("layers", layers, LAYERS)]
    weights = {f"{name}.weight": module.weight for name, module in model.named_modules()
               if isinstance(module, kinds)}
    if layers == BUT_CLASSIFIER:
        linear = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
        if linear:
            del weights[f"{linear[-1]}.weight"]
    return weights


def check_layers(label: str, layers: str, model: nn.Module) -> str:
    """`layers` names a choice of `LAYERS` that finds weights to prune in `model`."""
    if not prunable(model, check_choice(label, layers, LAYERS)):
        raise ConfigError(f"{label}={layers!r} finds no layer to prune in this model; use "
                          "'conv_linear' for a model without convolutions.")
    return layers


def omp_masks(model: nn.Module, sparsity: float, layers: str = "conv_linear") -> dict[str, Tensor]:
    """Global one-shot magnitude pruning: keep exactly the round((1 - sparsity) n) largest
    of the n prunable weights (ties broken by position), zero the rest."""
    weights = prunable(model, layers)
    magnitudes = torch.cat([w.detach().abs().flatten() for w in weights.values()])
    kept = magnitudes.numel() - int(round(sparsity * magnitudes.numel()))
    flat = torch.zeros_like(magnitudes)
    flat[torch.sort(magnitudes, descending=True, stable=True).indices[:kept]] = 1
    sizes = [w.numel() for w in weights.values()]
    return {name: chunk.view_as(w).to(w.dtype) for (name, w), chunk in
            zip(weights.items(), flat.split(sizes))}


class _Mask(nn.Module):
    def __init__(self, mask: Tensor):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, weight: Tensor) -> Tensor:
        return weight * self.mask


def hold_masks(model: nn.Module, masks: dict[str, Tensor]) -> nn.Module:
    """Make `masks` ({"<module path>.weight": 0/1 tensor}) part of the model, in place."""
    for name, mask in masks.items():
        module = model.get_submodule(name.removesuffix(".weight"))
        if parametrize.is_parametrized(module, "weight"):
            module.parametrizations.weight[0].mask.copy_(mask)
        else:
            parametrize.register_parametrization(module, "weight", _Mask(mask.detach().clone()))
    return model


def held_masks(model: nn.Module) -> dict[str, Tensor]:
    """The masks a model holds, by weight name (empty for a dense model)."""
    return {f"{name}.weight": module.parametrizations.weight[0].mask
            for name, module in model.named_modules()
            if parametrize.is_parametrized(module, "weight")}


def sparsity_of(model: nn.Module) -> float:
    """The share of zeros among the weights the model's masks cover (0 for a dense model)."""
    masks = held_masks(model)
    if not masks:
        return 0.0
    weights = [model.get_submodule(name.removesuffix(".weight")).weight for name in masks]
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / sum(w.numel() for w in weights)


def weight_sparsity(model: nn.Module, layers: str = "conv_linear") -> float:
    """The share of zeros among the weights of `layers` (`prunable`; default every
    convolution and linear weight), whichever layers a mask covers."""
    weights = prunable(model, layers).values()
    return sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)


def kept_by_layer(model: nn.Module) -> dict[str, dict]:
    """Per convolution and linear layer (by weight name, in module order): its kind, its
    weight count, how many of them are non-zero (`kept`) and whether a mask holds it
    (`pruned`)."""
    masked = held_masks(model)

    def kind(name: str) -> str:  # a held mask makes the class "ParametrizedLinear"
        module = model.get_submodule(name.removesuffix(".weight"))
        return next(k.__name__ for k in LAYERS["conv_linear"] if isinstance(module, k))
    return {name: {"kind": kind(name), "weights": w.numel(), "kept": int((w != 0).sum()),
                   "pruned": name in masked}
            for name, w in prunable(model, "conv_linear").items()}


def apply_masks(model: nn.Module, masks: dict[str, Tensor]) -> None:
    weights = prunable(model)
    with torch.no_grad():
        for name, mask in masks.items():
            weights[name].mul_(mask.to(weights[name].device))


def check_wp_settings(split: Split, hyperparameters: dict) -> None:
    """Before any run: `layers` names the layers OMP prunes."""
    check_choice("wp layers", hyperparameters.get("layers", "conv"), LAYERS)


@register("wp", "Weight pruning: OMP to a sparsity, then retain fine-tuning with the mask held "
          "(Jia et al. 2023)", check=check_wp_settings)
def wp(model: nn.Module, data: ImageData, split: Split, *, sparsity: float = 0.9,
       epochs: int = 4, lr: float = 0.05, batch_size: int = 128, weight_decay: float = 5e-4,
       schedule: str = "constant", layers: str = "conv", seed: int = 0) -> None:
    # The reference's OMP prunes convolutions only; layers="conv_linear" prunes the linear
    # layers too.
    check_fraction("sparsity", sparsity, allow_zero=True, allow_one=False)
    if not prunable(model, check_choice("wp layers", layers, LAYERS)):
        raise ConfigError(f"wp with layers={layers!r} finds no layer to prune in this model; "
                          "use layers='conv_linear' for a model without convolutions.")
    masks = omp_masks(model, sparsity, layers)
    apply_masks(model, masks)
    recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay,
                    schedule=schedule)
    fit(model, data, split.retain, recipe, seed=seed, desc="wp",
        step_hook=lambda net: apply_masks(net, masks))
