"""RSU (Chen et al., "Machine unlearning in forgetting sequence"): rank the forget set by
the trained model's loss, then unlearn nested subsets of it, hardest first, with any base
method of the registry.

Ranking module: a sample is hard to unlearn when the model's loss on it is low; the paper
takes the loss as its proxy for privacy risk (its Fig. 5) and computes it once, at the
beginning of unlearning. SeqUnlearn: the self-paced weights v_i = 1[l_i < lambda] of Eq. 5,
with the age lambda growing every round, select nested subsets D_1 ⊂ ... ⊂ D_n = D_u, and
round k runs the base method on D_k (Algorithm 1, line 5), so the hardest samples are
unlearned in every round and the easiest in the last one only.

The paper gives neither the number of rounds nor the ages; here round k's age is the
k-th of n equal quantiles of the losses (Eq. 5 applied to loss ranks), so the subsets
grow by equal shares. Each round runs the base method with its full settings: over n
rounds the base method passes over sum_k |D_k|, about (n + 1) / 2 times the forget set,
and a method that also trains on the retain set (RL, Bad-T, FT, ...) passes over it n
times. Samples of D_u not yet in D_k are in neither the forget nor the retain set of
round k.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data import ImageData
from ..errors import ConfigError, check_choice, check_positive_int, describe
from ..splits import Split
from ..train import predict
from .registry import METHODS, check_request, register

ORDERS = ("hard_first", "easy_first")  # RSU, and the paper's "Reverse" ablation
NOT_A_BASE = ("rsu", "retrain")  # retraining ignores the forget set's order


def sample_losses(model: nn.Module, data: ImageData, indices: Tensor) -> Tensor:
    """Each sample's cross-entropy under `model` (float32, CPU)."""
    logits = predict(model, data, indices, output="logits")
    return F.cross_entropy(logits, data.targets(indices).cpu(), reduction="none")


def self_paced_weights(losses: Tensor, age: float) -> Tensor:
    """Eq. 5: v_i = 1 where l_i < lambda (the age), else 0."""
    return (losses < age).float()


def nested_subsets(losses: Tensor, rounds: int, order: str = "hard_first") -> list[Tensor]:
    """Positions (into `losses`) of D_1 ⊂ ... ⊂ D_rounds = all: Eq. 5 applied to each
    sample's difficulty rank (0 = the lowest loss for `hard_first`, the highest for
    `easy_first`; ties by position), the age growing to ceil(k N / rounds) in round k, so
    the subsets grow by equal shares."""
    rounds = check_positive_int("rounds", rounds)
    check_choice("order", order, ORDERS)
    difficulty = losses if order == "hard_first" else -losses
    rank = torch.empty(len(losses))
    rank[torch.argsort(difficulty, stable=True)] = torch.arange(len(losses), dtype=torch.float)
    ages = [math.ceil(k * len(losses) / rounds) for k in range(1, rounds + 1)]
    return [torch.nonzero(self_paced_weights(rank, age)).flatten() for age in ages]


def check_rsu(split: Split, hyperparameters: dict) -> None:
    """The base method exists, is not retraining or RSU itself, and accepts its settings."""
    base = hyperparameters.get("base", "ga")
    if base in NOT_A_BASE or base not in METHODS:
        accepted = [name for name in METHODS if name not in NOT_A_BASE]
        raise ConfigError(f"rsu base must be an unlearning method other than "
                          f"{' and '.join(NOT_A_BASE)}, got {base!r}; accepted: "
                          f"{', '.join(accepted)}.")
    rounds = check_positive_int("rsu rounds", hyperparameters.get("rounds", 5))
    if rounds > len(split.forget):
        raise ConfigError(f"rsu rounds must be at most the {len(split.forget)} forget "
                          f"samples, got {rounds}.")
    check_choice("rsu order", hyperparameters.get("order", "hard_first"), ORDERS)
    settings = hyperparameters.get("base_settings") or {}
    if not isinstance(settings, dict) or "seed" in settings:
        raise ConfigError(f"rsu base_settings must map the base method's settings to values, "
                          f"without 'seed' (round k uses seed + k), got {describe(settings)}.")
    check_request(base, split, dict(settings, seed=0))


@register("rsu", "RSU: rank by loss, unlearn nested subsets hardest first (Chen et al.)",
          check=check_rsu)
def rsu(model: nn.Module, data: ImageData, split: Split, *, base: str = "ga", rounds: int = 5,
        order: str = "hard_first", base_settings: dict | None = None, seed: int = 0) -> None:
    check_rsu(split, {"base": base, "rounds": rounds, "order": order,
                      "base_settings": base_settings})
    losses = sample_losses(model, data, split.forget)
    for k, positions in enumerate(nested_subsets(losses, rounds, order)):
        subset = dataclasses.replace(split, forget=split.forget[positions])
        METHODS[base].run(model, data, subset, **(base_settings or {}), seed=seed + k)
