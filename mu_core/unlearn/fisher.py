"""Second-order unlearning: Fisher forgetting (noise) and influence unlearning (a Newton step).

Both rest on gradients of the retain set computed with `torch.func`: batch-mean ones for
Fisher forgetting's default estimator, per-sample ones otherwise.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import torch
from torch import Tensor, nn

from .. import loops
from ..data import ImageData
from ..errors import check_choice, check_positive_int, check_positive_number
from ..persample import (FISHER_KINDS, batch_mean_fisher_diagonal, fisher_diagonal,
                         fisher_product, fisher_rows, flatten, gradient_sum, memory_budget,
                         trainable, unflatten, woodbury_bytes)
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


def check_iu_settings(split: Split, hyperparameters: dict) -> None:
    """Before any run: alpha scales the step, so it must be positive (the registry allows 0
    for every method); `fisher` and `solver` name known choices."""
    if "alpha" in hyperparameters:
        check_positive_number("alpha", hyperparameters["alpha"])
    check_choice("fisher", hyperparameters.get("fisher", "empirical"), FISHER_KINDS)
    check_choice("iu solver", hyperparameters.get("solver", "auto"), SOLVERS)


FF_FISHERS = ("batch_mean", "per_sample")

# The variance of a forgotten class's head row in whole-class forgetting, before the head's
# tenfold (Unlearn-Sparse's fisher_new): the row restarts at zero with small noise.
FORGOTTEN_ROW_VARIANCE = 1e-4


def check_ff_settings(split: Split, hyperparameters: dict) -> None:
    """Before any run: alpha scales the noise, so it must be positive (the registry allows 0
    for every method); `fisher` names one of ff's estimators."""
    if "alpha" in hyperparameters:
        check_positive_number("alpha", hyperparameters["alpha"])
    check_choice("ff fisher", hyperparameters.get("fisher", "batch_mean"), FF_FISHERS)


@register("ff", "Fisher forgetting: retain-Fisher-shaped Gaussian noise (Becker & Liebig; "
          "Unlearn-Sparse's fisher_new)", check=check_ff_settings)
def ff(model: nn.Module, data: ImageData, split: Split, *, alpha: float = 1e-6,
       fisher: str = "batch_mean", batch_size: int = 32, zero_forgotten_rows: bool = True,
       max_samples: int | None = 500, seed: int = 0) -> None:
    # Following Unlearn-Sparse's fisher_new: F is its estimate of the retain set's Fisher
    # diagonal, from the squared batch-mean gradients of batches of `batch_size`
    # (`persample.batch_mean_fisher_diagonal`); fisher="per_sample" takes the exact expected
    # Fisher instead, a different quantity (a quarter of the batch-mean one on the trained
    # mnist5k CNN), so alpha does not carry over between them. In whole-class forgetting
    # the forgotten classes' head rows restart at zero (`ff_variance`).
    check_positive_number("alpha", alpha)
    check_choice("ff fisher", fisher, FF_FISHERS)
    with loops.per_sample("ff Fisher", split.retain, data, max_samples, model=model,
                          options=(fisher, batch_size)) as pool:
        retain = subsample(pool, max_samples, seed)
        if fisher == "batch_mean":
            diagonal = batch_mean_fisher_diagonal(model, data, retain, batch_size=batch_size)
        else:
            diagonal = fisher_diagonal(model, data, retain)
    head = classifier_parameter_names(model)
    forgotten = list(split.forget_classes) if split.kind == "class" and zero_forgotten_rows \
        else []
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name not in diagonal:
                continue
            rows = forgotten if name in head else []
            p[rows] = 0
            variance = ff_variance(diagonal[name], alpha, name in head, rows)
            noise = torch.randn(p.shape, generator=generator).to(p.device)
            p.add_(variance.expand_as(p).sqrt() * noise)


def ff_variance(fisher: Tensor, alpha: float, is_head: bool, forgotten_rows: list[int]) -> Tensor:
    """fisher_new's noise variance for a parameter of Fisher diagonal `fisher`:
    alpha * min(1 / (F + 1e-8), 1e3) (1e2 for the classifier head), averaged over a weight
    row's second axis; `forgotten_rows` of the head get FORGOTTEN_ROW_VARIANCE instead; ten
    times larger for the head and for one-dimensional parameters (biases, norms)."""
    variance = alpha * (1.0 / (fisher + 1e-8)).clamp(max=1e2 if is_head else 1e3)
    if fisher.dim() > 1:
        variance = variance.mean(dim=1, keepdim=True)
    variance[forgotten_rows] = FORGOTTEN_ROW_VARIANCE
    return variance * 10 if is_head or fisher.dim() == 1 else variance


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
                        damping: float, kind: str, real_samples: int | None = None) -> Tensor:
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

    Each product is a pass over `retain` (`real_samples` of them in the real run, where a
    dry run passes fewer). A dry run times its few products (`loops.budget` cuts the cap;
    its tolerance is 0, so that it runs them all) and prices the real run's solve at the
    cap: CG_MAX_ITERATIONS passes over `real_samples`, an upper bound (a solve that
    reaches its tolerance stops sooner, after a number of products no dry run can know).
    """
    product = fisher_product(model, data, retain, kind=kind)
    cap = loops.budget("cg_iterations", CG_MAX_ITERATIONS)
    real = (real_samples or len(retain)) * CG_MAX_ITERATIONS
    with loops.loop("iu conjugate gradient", cap, "product", work=len(retain) * cap,
                    real_work=real, device=vector.device) as current:
        def apply(v: Tensor) -> Tensor:
            image = damping * v + product(v)
            current.step()
            return image

        x, iterations, residual = conjugate_gradient(
            apply, vector, 0.0 if loops.dry() else CG_TOLERANCE, cap)
    if residual > CG_TOLERANCE and not loops.dry():
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
          "(Koh & Liang; Izzo et al.; Unlearn-Sparse)", check=check_iu_settings)
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
    real_samples = int(loops.real_count(split.retain, data, max_samples))
    solver = chosen_solver(solver, model, data, real_samples, fisher)
    with loops.per_sample(f"iu Fisher ({solver})", retain, data, max_samples, model=model,
                          options=(fisher,)) as retain:
        if solver == "woodbury":
            rows = fisher_rows(model, data, retain, kind=fisher)
            step = alpha * inverse_fisher_product(rows, direction, damping, len(retain))
        else:
            step = alpha * damped_fisher_solve(model, data, retain, direction, damping, fisher,
                                               real_samples)
    with torch.no_grad():
        for name, delta in unflatten(step, params).items():
            dict(model.named_parameters())[name].add_(delta)
