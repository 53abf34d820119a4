"""Second-order unlearning: Fisher forgetting (noise) and influence unlearning (a Newton step).

Both rest on per-sample gradients of the retain set computed with `torch.func`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..data import ImageData
from ..errors import check_choice, check_positive_int, check_positive_number
from ..persample import fisher_diagonal, fisher_rows, flatten, gradient_sum, trainable, unflatten
from ..splits import Split
from .registry import register


def subsample(indices: Tensor, max_samples: int | None, seed: int) -> Tensor:
    """At most `max_samples` of `indices`, drawn at random from `seed` (all when None)."""
    if max_samples is None or len(indices) <= max_samples:
        return indices
    check_positive_int("max_samples", max_samples)
    order = torch.randperm(len(indices), generator=torch.Generator().manual_seed(seed))
    return indices[order[:max_samples]].sort().values


def classifier_parameter_names(model: nn.Module) -> set[str]:
    """Names of the parameters of the last linear layer (the classifier head)."""
    last = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    return {f"{last}.{p}" for p, _ in dict(model.named_modules())[last].named_parameters()}


FISHERS = ("empirical", "expected")


def check_fisher_settings(split: Split, hyperparameters: dict) -> None:
    """Before any run: alpha scales noise or a step, so it must be positive (the registry
    allows 0 for every method); `fisher` names a known Fisher."""
    if "alpha" in hyperparameters:
        check_positive_number("alpha", hyperparameters["alpha"])
    check_choice("fisher", hyperparameters.get("fisher", "empirical"), FISHERS)


@register("ff", "Fisher forgetting: retain-Fisher-shaped Gaussian noise (Becker & Liebig; "
          "Unlearn-Sparse's fisher_new)", check=check_fisher_settings)
def ff(model: nn.Module, data: ImageData, split: Split, *, alpha: float = 1e-6,
       max_samples: int | None = 500, seed: int = 0) -> None:
    # Following Unlearn-Sparse's fisher_new: variance alpha * min(1 / (F + 1e-8), 1e3)
    # (1e2 for the classifier), averaged over each weight row's second axis, and ten times
    # larger for the classifier and for one-dimensional parameters (biases, norms). F is the
    # diagonal of the expected Fisher of the retain set, from per-sample gradients (the
    # reference approximates it with batch-mean gradients).
    check_positive_number("alpha", alpha)
    fisher = fisher_diagonal(model, data, subsample(split.retain, max_samples, seed))
    head = classifier_parameter_names(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name not in fisher:
                continue
            variance = (1.0 / (fisher[name] + 1e-8)).clamp(max=1e2 if name in head else 1e3)
            variance = alpha * variance
            if p.dim() > 1:
                variance = variance.mean(dim=1, keepdim=True).expand_as(p)
            if name in head or p.dim() == 1:
                variance = variance * 10
            noise = torch.randn(p.shape, generator=generator).to(p.device)
            p.add_(variance.sqrt() * noise)


def inverse_fisher_product(rows: Tensor, vector: Tensor, damping: float, samples: int) -> Tensor:
    """(damping I + R^T R / samples)^{-1} vector, exactly, by the Woodbury identity.

    The rows R (k, d) are per-sample gradients (WoodFisher: the Hessian is estimated by
    their Fisher plus damping). Woodbury turns the d x d inverse into a k x k solve:
    (1/damping) (v - R^T (samples damping I + R R^T)^{-1} R v).
    """
    gram = rows @ rows.T
    gram.diagonal().add_(samples * damping)
    coefficients = torch.linalg.solve(gram, rows @ vector)
    return (vector - rows.T @ coefficients) / damping


@register("iu", "Influence unlearning: a WoodFisher Newton step that removes the forget set "
          "(Koh & Liang; Izzo et al.; Unlearn-Sparse)", check=check_fisher_settings)
def iu(model: nn.Module, data: ImageData, split: Split, *, alpha: float = 1.0,
       damping: float = 1.0, weight_decay: float = 5e-4, fisher: str = "empirical",
       max_samples: int | None = 512, seed: int = 0) -> None:
    # Removing the forget set from the objective mean_all(loss) + wd/2 |theta|^2, whose
    # minimiser theta* has zero gradient, leaves the retain objective with gradient
    # -(sum_forget grad + n_f wd theta*) / n_r at theta*. Its Newton step is
    # theta* + H^{-1} (sum_forget grad + n_f wd theta*) / n_r, with H the retain Hessian,
    # here the WoodFisher estimate from per-sample retain gradients; alpha scales the step.
    # fisher="expected" uses one row per sample and class instead (the Gauss-Newton matrix:
    # exact for a linear softmax model, num_classes times the memory).
    check_positive_number("alpha", alpha)
    check_positive_number("damping", damping)
    check_positive_number("weight_decay", weight_decay, allow_zero=True)
    params = trainable(model)
    theta = flatten(params)
    forget_gradient = flatten(gradient_sum(model, data, split.forget)).detach()
    direction = (forget_gradient + len(split.forget) * weight_decay * theta) / len(split.retain)
    retain = subsample(split.retain, max_samples, seed)
    check_choice("fisher", fisher, FISHERS)
    rows = fisher_rows(model, data, retain, kind=fisher)
    step = alpha * inverse_fisher_product(rows, direction, damping, len(retain))
    with torch.no_grad():
        for name, delta in unflatten(step, params).items():
            dict(model.named_parameters())[name].add_(delta)
