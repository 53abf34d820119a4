"""Homogeneous networks trained to a large margin: the models data reconstruction reads.

Gradient flow on the logistic/cross-entropy loss of a homogeneous network converges in
direction to a KKT point of the maximum-margin problem (Lyu & Li 2020). Haim et al. (2022)
get there from a small initialisation with full-batch gradient descent for up to 10^6
steps. We take the same path faster: the step size grows as lr / loss once the loss is
below `loss_scale`, a change of the time variable of gradient flow that leaves its
trajectory alone (capped at `max_boost` times `lr`). The loss is computed as
softplus(logsumexp_{j != y}(Phi_j - Phi_y)), which equals the cross-entropy but keeps its
value and gradient in float32 when the margins are large (the usual form rounds to 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
import torch.nn.functional as F

from . import loops
from .errors import MAX_STEPS, ConfigError, check_budget, check_fraction, check_positive_number


class Centre(nn.Module):
    """Subtracts a fixed mean image: the network sees centred inputs, the world [0, 1] images.
    A buffer, not a parameter, so the network stays homogeneous in its parameters."""

    def __init__(self, mean_image: Tensor):
        super().__init__()
        self.register_buffer("mean_image", mean_image.detach().clone().float())

    def forward(self, x: Tensor) -> Tensor:
        return x - self.mean_image


def homogeneous_mlp(mean_image: Tensor, num_outputs: int, hidden=(1000,), *,
                    init_scale: float = 1e-3, seed: int = 0) -> nn.Sequential:
    """Bias-free ReLU MLP on centred [0, 1] images, weights drawn N(0, init_scale^2) (on the
    CPU, so every device starts from the same weights), on `mean_image`'s device.
    `num_outputs` 1 gives a binary classifier (the sign of its output)."""
    from .models import mlp

    check_positive_number("init_scale", init_scale)
    channels, size = mean_image.shape[0], mean_image.shape[-1]
    generator = torch.Generator().manual_seed(seed)
    network = mlp(num_outputs, channels, size, hidden=tuple(hidden), bias=False)
    with torch.no_grad():
        for layer in network:
            if isinstance(layer, nn.Linear):
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator)
                                   * init_scale)
    return nn.Sequential(Centre(mean_image), network).to(mean_image.device)


def margins(logits: Tensor, labels: Tensor) -> Tensor:
    """Phi_y(x) - max_{j != y} Phi_j(x) for every row (Eq. 21); for one output, the label
    1 or 0 gives +Phi(x) or -Phi(x)."""
    if logits.shape[1] == 1:
        return logits[:, 0] * (2 * labels.to(logits.dtype) - 1)
    own = logits.gather(1, labels.view(-1, 1)).squeeze(1)
    others = logits.scatter(1, labels.view(-1, 1), float("-inf"))
    return own - others.max(1).values


def margin_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy (logistic loss for one output), exact in float32 at large margins."""
    if logits.shape[1] == 1:
        return F.softplus(-margins(logits, labels)).mean()
    gaps = logits - logits.gather(1, labels.view(-1, 1))
    gaps = gaps.scatter(1, labels.view(-1, 1), float("-inf"))
    return F.softplus(gaps.logsumexp(1)).mean()


@dataclass(frozen=True)
class MarginRecipe:
    steps: int = 3000
    lr: float = 0.5
    loss_scale: float = 0.05  # below this loss the step grows as lr * loss_scale / loss
    max_boost: float = 1000.0
    # the chapter parameters a real run's cost of this training scales with (its steps,
    # its sample count): a dry run's estimate multiplies by their real / cut ratios
    budgets: tuple[str, ...] = ()

    def __post_init__(self):
        check_budget("steps", self.steps, MAX_STEPS)
        for name in ("lr", "loss_scale", "max_boost"):
            check_positive_number(name, getattr(self, name))


def train_to_margin(model: nn.Module, images: Tensor, labels: Tensor,
                    recipe: MarginRecipe = MarginRecipe(), *, desc: str = "train") -> list[float]:
    """Full-batch gradient descent on all of (images, labels); returns the loss per step."""
    if len(images) != len(labels) or len(images) == 0:
        raise ConfigError(f"train_to_margin needs as many labels as images (at least one), "
                          f"got {len(images)} images and {len(labels)} labels.")
    parameters = list(model.parameters())
    optimizer = torch.optim.SGD(parameters, lr=recipe.lr)
    history = []
    for _ in loops.track(range(recipe.steps), desc, work=len(images) * recipe.steps,
                         device=images.device, over=recipe.budgets):
        history.append(_margin_step(model, images, labels, optimizer, recipe))
    return history


def _margin_step(model: nn.Module, images: Tensor, labels: Tensor,
                 optimizer: torch.optim.Optimizer, recipe: MarginRecipe) -> float:
    """One full-batch step; returns its loss."""
    loss = margin_loss(model(images), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    boost = min(recipe.max_boost, max(1.0, recipe.loss_scale / max(loss.item(), 1e-38)))
    optimizer.param_groups[0]["lr"] = recipe.lr * boost
    optimizer.step()
    return loss.item()


def predictions(model: nn.Module, images: Tensor) -> Tensor:
    """Predicted labels (the sign for a one-output network)."""
    with torch.no_grad():
        logits = model(images)
    return (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)


def prune_randomly(model: nn.Module, fraction: float, *, seed: int = 0) -> nn.Module:
    """A copy with `fraction` of each weight layer's entries set to zero at random."""
    import copy

    fraction = check_fraction("fraction", fraction, allow_zero=True, allow_one=False)
    pruned = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in pruned.modules():
            if isinstance(module, nn.Linear):
                weight = module.weight
                count = int(round(fraction * weight.numel()))
                chosen = torch.randperm(weight.numel(), generator=generator)[:count]
                weight.view(-1)[chosen.to(weight.device)] = 0
    return pruned
