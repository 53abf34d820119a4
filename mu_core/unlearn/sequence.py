"""RSU (Chen et al., "Machine unlearning in forgetting sequence"): rank the forget set by
the trained model's loss, then unlearn nested subsets of it, hardest first, with any base
method of the registry.

Ranking module: a sample is hard to unlearn when the model's loss on it is low; the paper
takes the loss as its proxy for privacy risk (its Fig. 5) and computes it once, at the
beginning of unlearning. SeqUnlearn: the self-paced weights v_i = 1[l_i < lambda] of Eq. 5,
with the age lambda growing every round, select nested subsets D_1 ⊂ ... ⊂ D_n = D_u, and
round k runs the base method on D_k (Algorithm 1, line 5), so the hardest samples are
unlearned in every round and the easiest in the last one only.

The budget. Algorithm 1 runs T iterations in all, each one update of the unlearning
algorithm, and the paper's lambda "determines the proportion of the easiest selected
examples at each training epoch": the rounds share the base method's epochs, they do not
each repeat them. So by default (`budget="shared"`) RSU with the base method's settings
trains for exactly the base method's epochs, split over `rounds` rounds as evenly as whole
epochs allow (one epoch a round when `rounds` equals the epochs, as it does by default),
and `rounds` may not exceed the epochs. `budget="per_round"` gives every round the base method's full epochs
instead (the book's earlier reading): about (n + 1) / 2 times the passes over the forget
set, and n times over the retain set for a method that trains on it. What the
paper leaves open, chosen here: the number of rounds and the ages (round k's age is the
k-th of n equal quantiles of the losses, Eq. 5 applied to loss ranks, so the subsets grow
by equal shares); each round starts the base method afresh (its optimiser state and
schedule restart, seed + k), since the registry's methods run whole. Samples of D_u not
yet in D_k are in neither the forget nor the retain set of round k.
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
from .finetune import forgot_to
from .registry import METHODS, check_request, register

ORDERS = ("hard_first", "easy_first")  # RSU, and the paper's "Reverse" ablation
BUDGETS = ("shared", "per_round")  # the rounds share the base's epochs, or each repeats them
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


def round_epochs(epochs: int, rounds: int, budget: str = "shared") -> list[int]:
    """The base method's `epochs` shared over `rounds` rounds as evenly as whole epochs
    allow, the later rounds taking the extra ones: round k gets floor(k E / n) -
    floor((k - 1) E / n) epochs, at least 1 since n <= E, and they sum to E; with
    `budget="per_round"` every round gets all E."""
    epochs = check_positive_int("epochs", epochs)
    rounds = check_positive_int("rounds", rounds)
    if check_choice("rsu budget", budget, BUDGETS) == "per_round":
        return [epochs] * rounds
    if rounds > epochs:
        raise ConfigError(f"rsu rounds must be at most the base method's {epochs} epochs (the "
                          f"rounds share them), got {rounds}.")
    return [k * epochs // rounds - (k - 1) * epochs // rounds for k in range(1, rounds + 1)]


def base_epochs(base: str, settings: dict) -> int:
    """The epochs the base method runs with `settings` (its default where not given)."""
    return settings.get("epochs", METHODS[base].hyperparameters()["epochs"])


def rounds_of(base: str, settings: dict, rounds: int | None) -> int:
    """`rounds`, or where None one round per epoch of the base method (Algorithm 1's T)."""
    if rounds is None:
        return base_epochs(base, settings)
    return check_positive_int("rsu rounds", rounds)


def accepted_bases() -> list[str]:
    """The methods RSU can sequence: those that train for epochs, but retraining and RSU."""
    return [name for name, method in METHODS.items()
            if name not in NOT_A_BASE and "epochs" in method.hyperparameters()]


def check_rsu(split: Split, hyperparameters: dict) -> None:
    """The base method exists, is not retraining or RSU itself, trains for epochs, accepts
    its settings, and has at least as many epochs as RSU has rounds."""
    base = hyperparameters.get("base", "ga")
    accepted = accepted_bases()
    if base not in accepted:
        raise ConfigError(f"rsu base must be an unlearning method that trains for epochs, "
                          f"other than {' and '.join(NOT_A_BASE)}, got {base!r}; accepted: "
                          f"{', '.join(accepted)}.")
    settings = hyperparameters.get("base_settings") or {}
    if not isinstance(settings, dict) or "seed" in settings:
        raise ConfigError(f"rsu base_settings must map the base method's settings to values, "
                          f"without 'seed' (round k uses seed + k), got {describe(settings)}.")
    check_request(base, split, dict(settings, seed=0))
    rounds = rounds_of(base, settings, hyperparameters.get("rounds"))
    if rounds > len(split.forget):
        raise ConfigError(f"rsu rounds must be at most the {len(split.forget)} forget "
                          f"samples, got {rounds}.")
    check_choice("rsu order", hyperparameters.get("order", "hard_first"), ORDERS)
    round_epochs(base_epochs(base, settings), rounds, hyperparameters.get("budget", "shared"))


@register("rsu", "RSU: rank by loss, unlearn nested subsets hardest first (Chen et al.)",
          check=check_rsu, records=("steps",))
def rsu(model: nn.Module, data: ImageData, split: Split, *, base: str = "ga",
        rounds: int | None = None,
        order: str = "hard_first", base_settings: dict | None = None, budget: str = "shared",
        seed: int = 0) -> dict:
    check_rsu(split, {"base": base, "rounds": rounds, "order": order,
                      "base_settings": base_settings, "budget": budget})
    settings = dict(base_settings or {})
    rounds = rounds_of(base, settings, rounds)
    epochs = round_epochs(base_epochs(base, settings), rounds, budget)
    losses = sample_losses(model, data, split.forget)
    stop_at = settings.get("stop_at")  # a base's stopping rule reads all of D_u in every
    steps = 0  # the rounds' steps in all, where the base records its own (GA)
    for k, positions in enumerate(nested_subsets(losses, rounds, order)):  # round (`forgot_to`)
        if stop_at is not None and forgot_to(model, data, split, stop_at):
            break  # D_u is at the level: the rounds left would only overshoot it
        subset = dataclasses.replace(split, forget=split.forget[positions])
        record = METHODS[base].run(model, data, subset, **{**settings, "epochs": epochs[k]},
                                   seed=seed + k)
        steps = steps + record["steps"] if steps is not None and "steps" in (record or {}) \
            else None
    return {} if steps is None else {"steps": steps}
