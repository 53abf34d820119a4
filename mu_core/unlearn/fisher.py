"""Second-order unlearning: Fisher forgetting (noise) and influence unlearning (a Newton step).

Both rest on per-sample gradients of the retain set computed with `torch.func`.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import torch
from torch import Tensor, nn

from .. import dryrun
from ..data import ImageData
from ..errors import check_choice, check_positive_int, check_positive_number
from ..persample import (FISHER_KINDS, fisher_diagonal, fisher_product, fisher_rows, flatten,
                         gradient_sum, memory_budget, trainable, unflatten, woodbury_bytes)
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


SOLVERS = ("auto", "woodbury", "cg")  # of iu's Newton step


def check_fisher_settings(split: Split, hyperparameters: dict) -> None:
    """Before any run: alpha scales noise or a step, so it must be positive (the registry
    allows 0 for every method); `fisher` names a known Fisher."""
    if "alpha" in hyperparameters:
        check_positive_number("alpha", hyperparameters["alpha"])
    check_choice("fisher", hyperparameters.get("fisher", "empirical"), FISHER_KINDS)
    check_choice("iu solver", hyperparameters.get("solver", "auto"), SOLVERS)


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
    with dryrun.per_sample_work("ff Fisher", split.retain, data, max_samples) as pool:
        fisher = fisher_diagonal(model, data, subsample(pool, max_samples, seed))
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


# The conjugate-gradient solve stops at this residual |b - A x| / |b|, or after this many
# products with the Fisher (each a pass over the retain subsample).
CG_TOLERANCE = 1e-6
CG_MAX_ITERATIONS = 200


class SolverWarning(RuntimeWarning):
    """An iterative solve stopped at its iteration cap before reaching its tolerance."""


def conjugate_gradient(apply: Callable[[Tensor], Tensor], b: Tensor, tolerance: float,
                       max_iterations: int) -> tuple[Tensor, int, float]:
    """x with A x = b for a symmetric positive definite A given by `apply`, from x = 0:
    (x, products used, relative residual |b - A x| / |b| as the recursion tracks it)."""
    x, residual, direction = torch.zeros_like(b), b.clone(), b.clone()
    squared = initial = (b @ b).item()
    iterations = 0
    while squared > tolerance ** 2 * initial and iterations < max_iterations:
        image = apply(direction)
        step = squared / (direction @ image).item()
        x.add_(direction, alpha=step)
        residual.sub_(image, alpha=step)
        squared, previous = (residual @ residual).item(), squared
        direction.mul_(squared / previous).add_(residual)
        iterations += 1
    return x, iterations, math.sqrt(squared / initial) if initial else 0.0


def damped_fisher_solve(model: nn.Module, data: ImageData, retain: Tensor, vector: Tensor,
                        damping: float, kind: str) -> Tensor:
    """(damping I + F)^{-1} vector by conjugate gradient on the matrix-free product with the
    Fisher F of `retain` (the matrix `inverse_fisher_product` inverts, rows never held).

    Unpreconditioned: damping I plus a Fisher of rank at most len(retain) (times the class
    count) has every eigenvalue but that many equal to damping, which CG resolves in about
    as many steps as there are eigenvalues well above damping; a Jacobi preconditioner
    breaks that clustering (on the mnist5k CNN it took 25 and 33 iterations instead of 19
    and 23) and costs a pass of per-sample gradients.

    Stopped by its cap, the solve warns rather than raises: CG's iterates from zero grow
    in norm towards the exact solution (Steihaug 1983), so a capped solve is a shorter
    Newton step in a sound direction, and the passes it took (hours for a large model on
    a CPU) are not thrown away.
    """
    product = fisher_product(model, data, retain, kind=kind)
    x, iterations, residual = conjugate_gradient(lambda v: damping * v + product(v), vector,
                                                 CG_TOLERANCE, CG_MAX_ITERATIONS)
    if residual > CG_TOLERANCE:
        warnings.warn(f"iu's conjugate-gradient solve stopped at its cap of {iterations} "
                      f"iterations with relative residual {residual:.1e}, short of "
                      f"{CG_TOLERANCE:.0e}, so its step is shorter than the exact one (a "
                      f"larger damping converges in fewer iterations).", SolverWarning,
                      stacklevel=2)
    return x


def chosen_solver(solver: str, model: nn.Module, data: ImageData, samples: int,
                  kind: str) -> str:
    """`solver`, with "auto" the whole-matrix Woodbury solve when its rows and Gram matrix
    fit the memory budget, else conjugate gradient."""
    if solver != "auto":
        return solver
    fits = woodbury_bytes(model, data, samples, kind) <= memory_budget()
    return "woodbury" if fits else "cg"


@register("iu", "Influence unlearning: a WoodFisher Newton step that removes the forget set "
          "(Koh & Liang; Izzo et al.; Unlearn-Sparse)", check=check_fisher_settings)
def iu(model: nn.Module, data: ImageData, split: Split, *, alpha: float = 1.0,
       damping: float = 1.0, weight_decay: float = 5e-4, fisher: str = "empirical",
       max_samples: int | None = 512, seed: int = 0, solver: str = "auto") -> None:
    # Removing the forget set from the objective mean_all(loss) + wd/2 |theta|^2, whose
    # minimiser theta* has zero gradient, leaves the retain objective with gradient
    # -(sum_forget grad + n_f wd theta*) / n_r at theta*. Its Newton step is
    # theta* + H^{-1} (sum_forget grad + n_f wd theta*) / n_r, with H the retain Hessian,
    # here the WoodFisher estimate from per-sample retain gradients; alpha scales the step.
    # fisher="expected" uses one row per sample and class instead (the Gauss-Newton matrix:
    # exact for a linear softmax model, num_classes times the memory). `solver` "woodbury"
    # solves with the whole matrix of rows, "cg" iteratively without it; "auto" picks the
    # Woodbury solve when it fits the memory budget (`persample.memory_budget`).
    check_positive_number("alpha", alpha)
    check_positive_number("damping", damping)
    check_positive_number("weight_decay", weight_decay, allow_zero=True)
    check_choice("fisher", fisher, FISHER_KINDS)
    check_choice("iu solver", solver, SOLVERS)
    params = trainable(model)
    theta = flatten(params)
    forget_gradient = flatten(gradient_sum(model, data, split.forget)).detach()
    direction = (forget_gradient + len(split.forget) * weight_decay * theta) / len(split.retain)
    retain = subsample(split.retain, max_samples, seed)
    real_samples = int(dryrun.real_count(split.retain, data, max_samples))
    solver = chosen_solver(solver, model, data, real_samples, fisher)
    with dryrun.per_sample_work(f"iu Fisher ({solver})", retain, data, max_samples) as retain:
        if solver == "woodbury":
            rows = fisher_rows(model, data, retain, kind=fisher)
            step = alpha * inverse_fisher_product(rows, direction, damping, len(retain))
        else:
            step = alpha * damped_fisher_solve(model, data, retain, direction, damping, fisher)
    with torch.no_grad():
        for name, delta in unflatten(step, params).items():
            dict(model.named_parameters())[name].add_(delta)
