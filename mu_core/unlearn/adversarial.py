"""Discriminative adversarial unlearning (Sharma et al.): a min-max game between the
defender (the model) and a learned membership attacker, plus a Barlow Twins regulariser.

Algorithm 1, one iteration per batch: the attacker takes one ascent step on
L_A = mean log A(D(x_f)') + mean log(1 - A(D(x_v)')) (forget samples as members, validation
samples as non-members), then the defender one descent step on
L_D + alpha L_A + beta V_ss (Eq. 3): the cross-entropy on a retain batch, the attacker's
objective on the same forget and validation batches, and V_ss (Eq. 2) between the encoder
features of the forget and validation batches. Section 4.2's adjustments: the attacker is
pre-trained (1,000 iterations in the paper) on the trained defender's outputs for D against
D_v, and in class-wise forgetting alpha drops to 0 after 30 iterations.

Choices the paper leaves open, named here. Batch norm: the attacker reads the defender
as deployed (eval mode). The defender's step is a training step (train mode): its retain
batch is normalised by its own statistics and alone moves batch norm's running ones; the
passes of D_f and D_v (and their noisy copies) use their own batch's statistics too and
leave the running ones alone (`batch_norm="batch"`, what Algorithm 1 written as plain
PyTorch does). So in whole-class forgetting the defender's attack term and V_ss read a
forget batch of one class normalised by that class's statistics, which the attacker never
sees: the game plays on outputs that differ from the deployed ones. Two alternatives
remove the mismatch and are here to be tried: `"retain"` normalises D_f and D_v by the
retain batch's statistics, as if part of it, and `"deployed"` computes every term on the
eval-mode model. On mnist5k both lost much of RA (the first in whole-class forgetting;
the second even with alpha = beta = 0, plain retain fine-tuning without batch norm's
per-batch normalisation), so the default stays the plain training step. An earlier
version mixed the modes (attack term in eval mode, retain loss in train mode) and moved
the deployed model where the per-batch retain loss could not see it. The attacker's
pre-training reads the inputs of D and D_v once, with one noise draw per sample, since the
defender does not move then; the attacker trains with Adam (lr 1e-3, weight decay 5e-4: our choice; the reference
attack trains with SGD at lr 1e-3 over many epochs, too slow for a game of a few hundred
steps) and the defender with SGD (momentum 0.9, weight decay 5e-4) at a constant rate.
In whole-class forgetting D_v holds every class while D_f is one class, so the attacker
can tell them apart by the label alone: the paper's game, kept as it is.
With beta = 0 (Table 2's ablation) V_ss is not computed at all (its record in the curve is
NaN), so the ablation's run time is that of a game without V_ss, as the paper's Table 2
times it. Likewise, once alpha is 0 (after 30 iterations of whole-class forgetting) the
defender's attack term and the sensitivity passes it reads are not computed (NaN in the
curve); the attacker still steps, so the curve still shows it. `game="non_saturating"` is
Section 3.3's variant: the defender maximises log(1 - A(D(x_f)')) + log A(D(x_v)') instead
of minimising L_A. A pruning mask held by the
model (`pruning.hold_masks`) stays in force, so a sparse defender stays sparse.
"""

from __future__ import annotations

import math
from contextlib import contextmanager, nullcontext

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import loops
from ..attacks.mia import (SENSITIVITY_SAMPLES, SENSITIVITY_SCALE, attacker_features,
                           attacker_inputs, membership_loss, new_attacker, paired_logits)
from ..data import ImageData
from ..errors import ConfigError, check_choice
from ..features import logits_and_features
from ..splits import Split
from ..train import as_model_input, prepare_model
from .registry import register

GAMES = ("minimax", "non_saturating")
BATCH_NORM_MODES = {  # how the defender's step normalises the passes of D_f and D_v
    "batch": "each batch by its own statistics, as any training step (the default)",
    "retain": "by the statistics of the step's retain batch, as if part of it",
    "deployed": "every term of the step on the eval-mode model, as the attacker reads it",
}
CLASS_ALPHA_ITERATIONS = 30  # Section 4.2: alpha = 0 after the first 30 iterations


def barlow_twins_loss(forget_features: Tensor, val_features: Tensor,
                      redundancy_weight: float = 5e-3) -> Tensor:
    """V_ss of Eq. (2): sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2, with C the
    cross-correlation (cosine over the batch) of the mean-centred features of a forget batch
    and a validation batch of the same size, row b of one paired with row b of the other."""
    if forget_features.shape != val_features.shape:
        raise ConfigError(f"forget and validation features must have the same shape, got "
                          f"{tuple(forget_features.shape)} and {tuple(val_features.shape)}.")
    z_f = forget_features - forget_features.mean(0)
    z_v = val_features - val_features.mean(0)
    norms = z_f.norm(dim=0).unsqueeze(1) * z_v.norm(dim=0).unsqueeze(0)
    correlation = (z_f.T @ z_v) / norms.clamp_min(1e-12)
    diagonal = correlation.diagonal()
    off_diagonal = correlation.pow(2).sum() - diagonal.pow(2).sum()
    return (1 - diagonal).pow(2).sum() + redundancy_weight * off_diagonal


def defender_attack_loss(member_logits: Tensor, nonmember_logits: Tensor, game: str) -> Tensor:
    """The attacker's term in the defender's loss: L_A itself (Eq. 1: the defender minimises
    the attacker's log-likelihood) or Section 3.3's non-saturating form, which minimises
    -(log(1 - A(forget)) + log A(validation))."""
    if game == "minimax":
        return -membership_loss(member_logits, nonmember_logits)
    return membership_loss(nonmember_logits, member_logits)


def check_adversarial(split: Split, hyperparameters: dict) -> None:
    """The game's need for a validation set and its own choices, before any training (the
    ranges of its numbers are the registry's, by name)."""
    if len(split.val) == 0:
        raise ConfigError("the adversarial method needs a validation set D_v disjoint from "
                          "the test set: make the split with val_fraction > 0.")
    settings = hyperparameters
    if "game" in settings:
        check_choice("adversarial game", settings["game"], GAMES)
    if "batch_norm" in settings:
        check_choice("adversarial batch_norm", settings["batch_norm"], tuple(BATCH_NORM_MODES))
    alpha_iterations = settings.get("alpha_iterations")
    if alpha_iterations is not None and (isinstance(alpha_iterations, bool) or not isinstance(
            alpha_iterations, int) or alpha_iterations < 0):
        raise ConfigError(f"adversarial alpha_iterations must be None (the paper's rule) or a "
                          f"non-negative integer, got {alpha_iterations!r}.")


@register("adversarial", "Discriminative adversarial unlearning: min-max against a learned "
          "MIA attacker with a Barlow Twins regulariser (Sharma et al.)",
          check=check_adversarial)
def adversarial(model: nn.Module, data: ImageData, split: Split, *, iterations: int = 300,
                lr: float = 0.01, batch_size: int = 64, alpha: float = 0.9, beta: float = 0.001,
                redundancy_weight: float = 5e-3, alpha_iterations: int | None = None,
                game: str = "minimax", batch_norm: str = "batch", attacker_lr: float = 1e-3,
                pretrain_iterations: int = 1000,
                sensitivity_samples: int = SENSITIVITY_SAMPLES,
                sensitivity_scale: float = SENSITIVITY_SCALE, momentum: float = 0.9,
                weight_decay: float = 5e-4, seed: int = 0) -> dict:
    """Unlearn in place; return the game's curve (one record per iteration).

    `alpha_iterations` None is the paper's rule: alpha is switched off after 30 iterations
    in whole-class forgetting and kept otherwise; an integer switches it off after that
    many iterations in any setting. `batch_norm` names how the defender's step normalises
    the forget and validation passes (`BATCH_NORM_MODES`)."""
    check_adversarial(split, {"game": game, "alpha_iterations": alpha_iterations,
                              "batch_norm": batch_norm})
    model = prepare_model(model, data.device)
    devices = [data.device] if data.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)  # the attacker's dropout: the same run for the same seed
        curve = _play(model, data, split, iterations=iterations, lr=lr, batch_size=batch_size,
                      alpha=alpha, beta=beta, redundancy_weight=redundancy_weight,
                      alpha_iterations=alpha_iterations, game=game, batch_norm=batch_norm,
                      attacker_lr=attacker_lr, pretrain_iterations=pretrain_iterations, momentum=momentum,
                      weight_decay=weight_decay, seed=seed,
                      noise=dict(samples=sensitivity_samples, scale=sensitivity_scale))
    model.eval()
    return {"curve": curve}


def _play(model: nn.Module, data: ImageData, split: Split, *, iterations: int, lr: float,
          batch_size: int, alpha: float, beta: float, redundancy_weight: float,
          alpha_iterations: int | None, game: str, batch_norm: str, attacker_lr: float,
          pretrain_iterations: int, momentum: float, weight_decay: float, seed: int,
          noise: dict) -> list[dict]:
    """Algorithm 1 after the pre-training of the attacker; the curve, one record per step."""
    generator = torch.Generator().manual_seed(seed)
    attacker = new_attacker(data.num_classes, seed=seed).to(data.device)
    attacker_optimizer = torch.optim.Adam(attacker.parameters(), lr=attacker_lr,
                                          weight_decay=5e-4)
    pretrain_attacker(model, attacker, attacker_optimizer, data, split, pretrain_iterations,
                      batch_size, seed=seed, **noise)
    defender_optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                                         weight_decay=weight_decay)
    if alpha_iterations is None:
        alpha_iterations = CLASS_ALPHA_ITERATIONS if split.kind == "class" else iterations
    pair_size = min(batch_size, len(split.forget), len(split.val))
    sizes = {"retain": min(batch_size, len(split.retain)), "forget": pair_size, "val": pair_size}
    streams = {name: _batches(indices, sizes[name], generator) for name, indices in (
        ("retain", split.retain), ("forget", split.forget), ("val", split.val))}
    curve = []
    # a dry run prices the game at the preset's iterations and batch size
    with loops.loop("adversarial game", iterations, "iteration",
                    work=iterations * sum(sizes.values()), device=data.device,
                    over=("iterations", "batch_size")) as current:
        for iteration in current.each(range(iterations)):
            batch = {name: next(stream) for name, stream in streams.items()}
            record = attacker_step(model, attacker, attacker_optimizer, data, batch,
                                   generator, **noise)
            weight = alpha if iteration < alpha_iterations else 0.0
            record.update(defender_step(model, attacker, defender_optimizer, data, batch,
                                        generator, alpha=weight, beta=beta,
                                        redundancy_weight=redundancy_weight, game=game,
                                        batch_norm=batch_norm, **noise))
            curve.append({"iteration": iteration, **record})
    return curve


def pretrain_attacker(model: nn.Module, attacker: nn.Module, optimizer, data: ImageData,
                      split: Split, iterations: int, batch_size: int, *, seed: int,
                      samples: int, scale: float) -> None:
    """Section 4.2: the attacker learns D (members) against D_v (non-members) on the trained
    defender's outputs before the game starts. The batches are drawn first, and the inputs
    of the samples they hold computed once (the defender does not move meanwhile)."""
    if iterations == 0:
        return
    generator = torch.Generator().manual_seed(seed)
    half = batch_size  # per group, as in the game
    picks, rows = [], []
    for offset, pool in enumerate((split.train, split.val)):
        drawn = torch.randint(len(pool), (iterations, half), generator=generator)
        needed, positions = drawn.unique(return_inverse=True)
        picks.append(positions)
        rows.append(attacker_features(model, data, pool[needed], seed=seed + offset,
                                      samples=samples, scale=scale).to(data.device))
    attacker.train()
    with loops.loop("attacker pre-training", iterations, "iteration",
                    work=iterations * 2 * half, device=data.device,
                    over=("pretrain_iterations", "batch_size")) as current:
        for step in current.each(range(iterations)):
            loss = membership_loss(*paired_logits(attacker, rows[0][picks[0][step]],
                                                  rows[1][picks[1][step]]))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def attacker_step(model: nn.Module, attacker: nn.Module, optimizer, data: ImageData,
                  batch: dict, generator: torch.Generator, *, samples: int,
                  scale: float) -> dict:
    """One ascent step of the attacker on L_A (Algorithm 1, line 7); returns its accuracy on
    the forget and validation batches it stepped on (before the step)."""
    model.eval()
    with torch.no_grad():
        rows = [attacker_inputs(model, as_model_input(data.inputs(batch[name])),
                                data.targets(batch[name]), samples=samples, scale=scale,
                                generator=generator) for name in ("forget", "val")]
    attacker.train()
    member_logits, nonmember_logits = paired_logits(attacker, *rows)
    loss = membership_loss(member_logits, nonmember_logits)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"attacker_loss": loss.item(),
            "attacker_forget_accuracy": (member_logits > 0).double().mean().item(),
            "attacker_val_accuracy": (nonmember_logits <= 0).double().mean().item()}


def defender_step(model: nn.Module, attacker: nn.Module, optimizer, data: ImageData,
                  batch: dict, generator: torch.Generator, *, alpha: float, beta: float,
                  redundancy_weight: float, game: str, samples: int, scale: float,
                  batch_norm: str = "batch") -> dict:
    """One descent step of the defender on L_D + alpha L_A + beta V_ss (Algorithm 1, line 8),
    batch norm as `batch_norm` says (`BATCH_NORM_MODES`)."""
    model.eval() if batch_norm == "deployed" else model.train()
    with _retain_statistics(model, batch_norm == "retain") as statistics:
        retain_loss = F.cross_entropy(
            model(as_model_input(data.inputs(batch["retain"]))).float(),
            data.targets(batch["retain"]))
    # a term whose weight is 0 is not computed (alpha drops to 0 in class-wise forgetting,
    # beta is 0 in Table 2's "no V_ss"): it changes no weight, but it costs run time
    attack_loss = similarity = None
    if alpha or beta:
        rows, features = _forget_and_validation_passes(model, data, batch, generator,
                                                       batch_norm, statistics, attack=bool(alpha),
                                                       samples=samples, scale=scale)
    loss = retain_loss
    if alpha:
        attacker.eval()
        attack_loss = defender_attack_loss(*paired_logits(attacker, *rows), game)
        loss = loss + alpha * attack_loss
    if beta:
        similarity = barlow_twins_loss(*features, redundancy_weight)
        loss = loss + beta * similarity
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    attacker.zero_grad(set_to_none=True)  # the defender's loss must not reach the attacker
    return {"retain_loss": retain_loss.item(),
            "attack_loss": math.nan if attack_loss is None else attack_loss.item(),
            "barlow_twins": math.nan if similarity is None else similarity.item()}


def _forget_and_validation_passes(model: nn.Module, data: ImageData, batch: dict,
                                  generator: torch.Generator, batch_norm: str, statistics: dict,
                                  *, attack: bool, samples: int, scale: float):
    """The defender's passes of the forget and validation batches: the attacker's inputs
    (only if `attack`: its sensitivity costs `samples` noisy passes more) and the encoder's
    features, under the batch-norm mode's statistics."""
    rows, features = [], []
    with _forget_and_validation_norms(model, batch_norm, statistics):
        for name in ("forget", "val"):
            x = as_model_input(data.inputs(batch[name]))
            logits, encoded = logits_and_features(model, x)
            if attack:
                rows.append(attacker_inputs(model, x, data.targets(batch[name]), logits=logits,
                                            samples=samples, scale=scale, generator=generator))
            features.append(encoded.float())
    return rows, features


def _forget_and_validation_norms(model: nn.Module, batch_norm: str, statistics: dict):
    """How batch norm treats the passes of D_f and D_v (and their noisy copies)."""
    if batch_norm == "batch":
        return _running_statistics_kept(model)
    if batch_norm == "retain":
        return _normalised_by(statistics)
    return nullcontext()


def _batch_norms(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@contextmanager
def _retain_statistics(model: nn.Module, wanted: bool):
    """Record (if `wanted`), in a forward pass, the batch statistics (mean and biased
    variance, with their graph) that each batch-norm layer normalises its input with."""
    statistics = {}
    if not wanted:
        yield statistics
        return

    def record(module, inputs, output):
        x = inputs[0]
        over = [0, *range(2, x.dim())]
        statistics[module] = (x.mean(over), x.var(over, unbiased=False))

    hooks = [m.register_forward_hook(record) for m in _batch_norms(model)]
    try:
        yield statistics
    finally:
        for hook in hooks:
            hook.remove()


@contextmanager
def _normalised_by(statistics: dict):
    """Batch-norm layers normalise every input by the recorded statistics (those of the
    retain batch) and leave their running statistics alone."""
    for module, (mean, var) in statistics.items():
        module.forward = (lambda x, m=module, mu=mean, v=var: _normalise(x, m, mu, v))
    try:
        yield
    finally:
        for module in statistics:
            del module.forward


@contextmanager
def _running_statistics_kept(model: nn.Module):
    """Forward passes in train mode (batch statistics) that leave batch norm's running
    statistics as they were: the forget batch (one class in class-wise forgetting) and the
    noisy copies of the sensitivity would otherwise make up most of what the deployed model
    normalises with."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
             and m.track_running_stats]
    # the passes update copies, which the graph may keep; the originals are put back as
    # they were (copying into them would change tensors the backward pass still reads)
    saved = [dict(m.named_buffers(recurse=False)) for m in norms]
    for module, buffers in zip(norms, saved):
        for name, value in buffers.items():
            setattr(module, name, value.clone())
    try:
        yield
    finally:
        for module, buffers in zip(norms, saved):
            for name, value in buffers.items():
                setattr(module, name, value)


def _normalise(x: Tensor, norm: nn.Module, mean: Tensor, var: Tensor) -> Tensor:
    """Batch norm's affine normalisation of `x` by the given statistics (channels on dim 1)."""
    shape = (1, -1) + (1,) * (x.dim() - 2)
    y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + norm.eps)
    return y if norm.weight is None else y * norm.weight.view(shape) + norm.bias.view(shape)


def _batches(indices: Tensor, size: int, generator: torch.Generator):
    """Endless shuffled batches of `size` from `indices` (a partial last batch is dropped,
    so paired forget and validation batches always match)."""
    while True:
        order = indices[torch.randperm(len(indices), generator=generator)]
        for start in range(0, len(order) - size + 1, size):
            yield order[start:start + size]
