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

Choices the paper leaves open, named here: the attacker's own steps read the defender as
deployed (eval mode); the defender's step computes all three of its terms in train mode, as
any training step does (batch norm on each batch's statistics). Computing the attack term
and V_ss in eval mode instead (an earlier version) lets the descent move the model through
batch norm's running statistics, which the retain cross-entropy, normalised per batch, never
sees: on mnist5k the deployed model collapsed (RA 0.11-0.55 in class forgetting) while the
train-mode retain loss mostly stayed low. Only the retain batch updates batch norm's running
statistics: the forward passes of D_f and D_v (and their noisy copies) use their batch's
statistics and leave the running ones as they were, so that D_f (one class, in class-wise
forgetting) does not make up much of what the deployed model normalises with. The
attacker's pre-training reads the
inputs of D and D_v once, with one noise draw per sample, since the defender does not move
then; the attacker trains with Adam (lr 1e-3, weight decay 5e-4: our choice; the reference
attack trains with SGD at lr 1e-3 over many epochs, too slow for a game of a few hundred
steps) and the defender with SGD (momentum 0.9, weight decay 5e-4) at a constant rate.
In whole-class forgetting D_v holds every class while D_f is one class, so the attacker
can tell them apart by the label alone: the paper's game, kept as it is.
`game="non_saturating"` is Section 3.3's variant: the defender maximises
log(1 - A(D(x_f)')) + log A(D(x_v)') instead of minimising L_A. A pruning mask held by the
model (`pruning.hold_masks`) stays in force, so a sparse defender stays sparse.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import dryrun
from ..attacks.mia import (SENSITIVITY_SAMPLES, SENSITIVITY_SCALE, attacker_features,
                           attacker_inputs, membership_loss, new_attacker, paired_logits)
from ..data import ImageData
from ..errors import ConfigError, check_choice
from ..features import logits_and_features
from ..splits import Split
from ..train import as_model_input, prepare_model
from .registry import register

GAMES = ("minimax", "non_saturating")
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
                game: str = "minimax", attacker_lr: float = 1e-3,
                pretrain_iterations: int = 1000,
                sensitivity_samples: int = SENSITIVITY_SAMPLES,
                sensitivity_scale: float = SENSITIVITY_SCALE, momentum: float = 0.9,
                weight_decay: float = 5e-4, seed: int = 0) -> dict:
    """Unlearn in place; return the game's curve (one record per iteration).

    `alpha_iterations` None is the paper's rule: alpha is switched off after 30 iterations
    in whole-class forgetting and kept otherwise; an integer switches it off after that
    many iterations in any setting."""
    check_adversarial(split, {"game": game, "alpha_iterations": alpha_iterations})
    model = prepare_model(model, data.device)
    devices = [data.device] if data.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)  # the attacker's dropout: the same run for the same seed
        curve = _play(model, data, split, iterations=iterations, lr=lr, batch_size=batch_size,
                      alpha=alpha, beta=beta, redundancy_weight=redundancy_weight,
                      alpha_iterations=alpha_iterations, game=game, attacker_lr=attacker_lr,
                      pretrain_iterations=pretrain_iterations, momentum=momentum,
                      weight_decay=weight_decay, seed=seed,
                      noise=dict(samples=sensitivity_samples, scale=sensitivity_scale))
    model.eval()
    return {"curve": curve}


def _play(model: nn.Module, data: ImageData, split: Split, *, iterations: int, lr: float,
          batch_size: int, alpha: float, beta: float, redundancy_weight: float,
          alpha_iterations: int | None, game: str, attacker_lr: float,
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
    with dryrun.timed("adversarial game", iterations * sum(sizes.values()), data.device,
                      over=("iterations", "batch_size")):
        for iteration in range(iterations):
            batch = {name: next(stream) for name, stream in streams.items()}
            record = attacker_step(model, attacker, attacker_optimizer, data, batch,
                                   generator, **noise)
            weight = alpha if iteration < alpha_iterations else 0.0
            record.update(defender_step(model, attacker, defender_optimizer, data, batch,
                                        generator, alpha=weight, beta=beta,
                                        redundancy_weight=redundancy_weight, game=game,
                                        **noise))
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
    with dryrun.timed("attacker pre-training", iterations * 2 * half, data.device,
                      over=("pretrain_iterations", "batch_size")):
        for step in range(iterations):
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
                  redundancy_weight: float, game: str, samples: int, scale: float) -> dict:
    """One descent step of the defender on L_D + alpha L_A + beta V_ss (Algorithm 1, line 8)."""
    # All three terms in train mode, as one training step: with the attack term and V_ss in
    # eval mode and only L_D in train mode, the descent moved the eval-mode function (batch
    # norm's frozen running statistics) where L_D, normalised by the batch, could not see it.
    model.train()
    retain_loss = F.cross_entropy(model(as_model_input(data.inputs(batch["retain"]))).float(),
                                  data.targets(batch["retain"]))
    attacker.eval()
    rows, features = [], []
    with _running_statistics_kept(model):  # only D_r moves batch norm's running statistics
        for name in ("forget", "val"):
            x = as_model_input(data.inputs(batch[name]))
            logits, encoded = logits_and_features(model, x)
            rows.append(attacker_inputs(model, x, data.targets(batch[name]), logits=logits,
                                        samples=samples, scale=scale, generator=generator))
            features.append(encoded.float())
    attack_loss = defender_attack_loss(*paired_logits(attacker, *rows), game)
    similarity = barlow_twins_loss(*features, redundancy_weight)
    loss = retain_loss + alpha * attack_loss + beta * similarity
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    attacker.zero_grad(set_to_none=True)  # the defender's loss must not reach the attacker
    return {"retain_loss": retain_loss.item(), "attack_loss": attack_loss.item(),
            "barlow_twins": similarity.item()}


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


def _batches(indices: Tensor, size: int, generator: torch.Generator):
    """Endless shuffled batches of `size` from `indices` (a partial last batch is dropped,
    so paired forget and validation batches always match)."""
    while True:
        order = indices[torch.randperm(len(indices), generator=generator)]
        for start in range(0, len(order) - size + 1, size):
            yield order[start:start + size]
