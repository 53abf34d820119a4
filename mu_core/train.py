"""The one training loop (`fit`), and batched inference (`predict`, `evaluate`).

Batches are shuffled index slices into device-resident tensors, in channels_last memory
(faster on CUDA and, with oneDNN, 1.5x on the CPU for the small CNN). On CUDA the loop runs
under bf16 autocast; on the CPU it is deterministic for a seed.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import dryrun, loops
from .data import AUGMENTATIONS, ImageData, batch_indices
from .errors import (MAX_EPOCHS, ConfigError, check_budget, check_choice,
                     check_positive_int, check_positive_number, describe)

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "step", "constant")


@dataclass(frozen=True)
class Recipe:
    """How to train: every field is part of a trained model's cache key."""

    epochs: int = 10
    lr: float = 0.05
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    batch_size: int = 128
    label_smoothing: float = 0.0
    augment: str = "none"

    def __post_init__(self):
        check_budget("epochs", self.epochs, MAX_EPOCHS)
        check_positive_number("lr", self.lr)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_positive_number("momentum", self.momentum, allow_zero=True)
        check_positive_number("weight_decay", self.weight_decay, allow_zero=True)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_positive_int("batch_size", self.batch_size)
        check_positive_number("label_smoothing", self.label_smoothing, allow_zero=True)
        if self.label_smoothing >= 1:
            raise ConfigError(f"label_smoothing must be below 1, got {self.label_smoothing}.")
        check_choice("augment", self.augment, AUGMENTATIONS)

    def as_dict(self) -> dict:
        return asdict(self)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """'auto' (or None) picks CUDA when available, else the CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}.") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available; use "
                          "device='auto' or 'cpu'.")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConfigError(f"device {str(device)!r} does not exist: this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s).")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {str(device)!r}.")
    return device


def prepare_model(model: nn.Module, device: torch.device) -> nn.Module:
    """Move a model to `device`, in channels_last memory."""
    model = model.to(device=device, memory_format=torch.channels_last)
    if device.type == "cpu":
        _keep_strided_1x1_convolutions_contiguous(model)
    return model


def _keep_strided_1x1_convolutions_contiguous(model: nn.Module) -> None:
    """oneDNN's single-threaded AVX2 channels_last kernel for a 1x1 convolution with stride
    above 1 and input channels not a multiple of 8 corrupts the heap (torch 2.14: the
    downsample of a ResNet-18 of width 4 or 12 aborts the process). Those layers run on
    contiguous inputs and weights; the rest of the model stays channels_last."""
    for module in model.modules():
        if (isinstance(module, nn.Conv2d) and module.kernel_size == (1, 1)
                and max(module.stride) > 1 and module.in_channels % 8):
            module.to(memory_format=torch.contiguous_format)
            if _contiguous_inputs not in module._forward_pre_hooks.values():
                module.register_forward_pre_hook(_contiguous_inputs)


def _contiguous_inputs(_module: nn.Module, inputs: tuple) -> tuple:
    return tuple(x.contiguous() for x in inputs)


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast on CUDA (unless `enabled` is False), a no-op elsewhere."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16,
                          enabled=enabled and device.type == "cuda")


def as_model_input(x: Tensor) -> Tensor:
    """Image batches in channels_last memory, the layout every model here runs in."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum,
                               weight_decay=recipe.weight_decay)
    if recipe.optimizer == "adam":  # weight decay coupled to the gradient, as in SGD
        return torch.optim.Adam(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    return torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)


def lr_factor(schedule: str, progress_fraction: float) -> float:
    """Learning-rate multiplier at a fraction of training done (per optimiser step)."""
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * progress_fraction))
    if schedule == "step":  # x0.1 at half and at three quarters of training
        return 0.1 ** ((progress_fraction >= 0.5) + (progress_fraction >= 0.75))
    return 1.0


def fit(model: nn.Module, data: ImageData, indices: Tensor, recipe: Recipe = Recipe(), *,
        targets: Tensor | None = None, seed: int = 0,
        loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
        regularizer: Callable[[nn.Module, float], Tensor] | None = None,
        step_hook: Callable[[nn.Module], None] | None = None,
        stop: Callable[[nn.Module], bool] | None = None,
        relabel: Callable[[Tensor, Tensor, Tensor, torch.Generator], Tensor] | None = None,
        frozen_norms: bool = False, optimizer: torch.optim.Optimizer | None = None,
        mixup_alpha: float = 0.0, drop_last: bool = False, desc: str = "train") -> list[float]:
    """Train `model` in place on `data` at `indices`; return the mean loss of each epoch.

    `targets` (aligned with `indices`) replaces the dataset labels: class ids, or rows of
    class probabilities (soft labels). `loss_fn(logits, targets)` replaces the
    cross-entropy (gradient ascent negates it); `regularizer(model, fraction_done)` is added
    to every batch loss; `step_hook(model)` runs after every optimiser step (to re-apply a
    pruning mask, for example); `stop(model)` is asked after every step (and `step_hook`),
    and training ends at the first step it answers True (a stopping rule; it may evaluate
    the model, whose training mode is set back after it); `relabel(x, targets, positions, generator)` returns each
    batch's targets from its inputs, its targets and its positions in `indices`, drawing any
    randomness from `generator` (fit's own, so a run stays a function of its seed);
    `frozen_norms` keeps batch-norm layers in eval mode (their running statistics are used
    and left unchanged). `indices` may repeat a sample. An
    `optimizer` built by the caller (kept across calls, with its state) replaces the
    recipe's; its learning rate still follows the recipe's `lr` and schedule. With
    `mixup_alpha` > 0 every sample is mixed, images and label rows alike, with a random
    partner from its batch by lambda ~ Beta(alpha, alpha) (Zhang et al. 2018).
    `drop_last` skips each epoch's last, incomplete batch when there is a full one (a lone
    leftover sample is always skipped: batch norm cannot train on it).
    """
    if not isinstance(recipe, Recipe):
        raise ConfigError(f"recipe must be a mu_core.train.Recipe, got {describe(recipe)}.")
    if len(indices) == 0:
        raise ConfigError("fit was given no training samples (empty indices).")
    device = data.device
    check_positive_number("mixup_alpha", mixup_alpha, allow_zero=True)
    targets = _check_targets(targets, indices, data).to(device)
    if mixup_alpha and targets.dtype == torch.long:
        targets = F.one_hot(targets, data.num_classes).float()
    model = prepare_model(model, device)
    optimizer = optimizer or make_optimizer(model, recipe)
    dry = dryrun.active()  # a dry run: a small step, steps timed, and the real budget noted
    started = time.perf_counter()
    batch_size = dryrun.batch_size(recipe.batch_size, device) if dry else recipe.batch_size
    drop_last = drop_last and len(indices) >= batch_size
    steps = recipe.epochs * (len(indices) // batch_size if drop_last
                             else math.ceil(len(indices) / batch_size))
    generator = torch.Generator().manual_seed(seed)
    history, step, stopped = [], 0, False
    _train_mode(model, frozen_norms)

    def train_step(positions: Tensor) -> Tensor:
        batch = indices[positions]
        for group in optimizer.param_groups:
            group["lr"] = recipe.lr * lr_factor(recipe.schedule, step / steps)
        x = data.inputs(batch, recipe.augment, generator)
        batch_targets = targets[positions.to(device)]
        if relabel is not None:
            batch_targets = relabel(x, batch_targets, positions, generator)
        if mixup_alpha:
            x, batch_targets = mixup(x, batch_targets, mixup_alpha, generator)
        with autocast(device):
            logits = model(as_model_input(x))
        if loss_fn is None:
            loss = F.cross_entropy(logits.float(), batch_targets,
                                   label_smoothing=recipe.label_smoothing)
        else:
            loss = loss_fn(logits.float(), batch_targets)
        if regularizer is not None:
            loss = loss + regularizer(model, step / steps)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step_hook is not None:
            step_hook(model)
        return loss.detach()

    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), \
            loops.loop(desc, recipe.epochs, "epoch") as current:
        torch.manual_seed(seed)
        # a dry run passes over its few samples until it has run BATCHES steps (on a GPU
        # one batch can hold them all, and a first step, which warms up, is not timed)
        for _ in current.each(range(dryrun.BATCHES if dry else recipe.epochs)):
            if dry and step == dryrun.BATCHES:
                break
            total, count = torch.zeros((), device=device), 0
            for positions in batch_indices(torch.arange(len(indices)), batch_size,
                                           shuffle=True, generator=generator):
                if len(positions) == 1 < len(indices) or (drop_last
                                                          and len(positions) < batch_size):
                    continue  # a lone leftover sample, or the incomplete last batch
                if dry and step == dryrun.BATCHES:
                    break
                loss = train_step(positions)
                total += loss * len(positions)
                count += len(positions)
                step += 1
                if stop is not None:
                    stopped = bool(stop(model))
                    _train_mode(model, frozen_norms)
                    if stopped:
                        break
            history.append(float(total) / count)
            if stopped:
                break
    if dry:
        key = _loop_key(model, data, indices, recipe, loss_fn=loss_fn, regularizer=regularizer,
                        relabel=relabel, mixup_alpha=mixup_alpha, frozen_norms=frozen_norms)
        seconds, timed_batch = dryrun.step_cost(key, train_step, len(indices),
                                                recipe.batch_size, device, generator)
        dryrun.record(desc, recipe.epochs * dryrun.real_count(indices, data), seconds,
                      device, timed_batch=timed_batch, spent=time.perf_counter() - started,
                      network=dryrun.network(model, data))
    model.eval()
    return history


def _train_mode(model: nn.Module, frozen_norms: bool) -> None:
    """Training mode, batch-norm layers kept in eval mode with `frozen_norms`."""
    model.train()
    if frozen_norms:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()


def _loop_key(model: nn.Module, data: ImageData, indices: Tensor, recipe: Recipe,
              **options) -> tuple:
    """What fixes the cost of one training step: the network, the input's shape, the
    optimiser and augmentation, and which extra terms the step computes."""
    shape = tuple(data.inputs(indices[:1]).shape[1:])
    extras = tuple(sorted(name for name, value in options.items() if value))
    return (type(model).__name__, sum(p.numel() for p in model.parameters()), shape,
            recipe.optimizer, recipe.augment, extras)


def mixup(x: Tensor, targets: Tensor, alpha: float,
          generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Each row mixed with a random partner row: lambda x_i + (1 - lambda) x_j, and the
    same for the label rows, lambda ~ Beta(alpha, alpha) drawn per row."""
    n = len(x)
    partner = torch.randint(n, (n,), generator=generator).to(x.device)
    # torch's Beta sampler takes no generator; numpy's, seeded from it, keeps fit reproducible
    seed = int(torch.randint(2**62, (1,), generator=generator))
    lam = torch.from_numpy(np.random.default_rng(seed).beta(alpha, alpha, n)).float().to(x.device)
    lam_x = lam.view((n,) + (1,) * (x.dim() - 1))
    mixed = lam_x * x + (1 - lam_x) * x[partner]
    return mixed, lam[:, None] * targets + (1 - lam[:, None]) * targets[partner]


def _check_targets(targets: Tensor | None, indices: Tensor, data: ImageData) -> Tensor:
    if targets is None:
        return data.targets(indices)
    if len(targets) != len(indices):
        raise ConfigError(f"targets must align with indices: {len(targets)} targets for "
                          f"{len(indices)} samples.")
    if targets.dtype == torch.long:
        return targets
    if targets.dim() == 2 and targets.shape[1] == data.num_classes:
        return targets.float()
    raise ConfigError("targets must be int64 class ids or float rows of "
                      f"{data.num_classes} class probabilities, got {tuple(targets.shape)} "
                      f"{targets.dtype}.")


@torch.no_grad()
def predict(model: nn.Module, data: ImageData | Tensor, indices: Tensor | None = None, *,
            output: str = "probs", batch_size: int = 256) -> Tensor:
    """Class probabilities (or logits) for `data` at `indices`, on the CPU, in float32.

    `data` is an `ImageData` (with `indices`, default all) or a tensor of model inputs.
    """
    check_choice("output", output, ("probs", "logits"))
    was_training = model.training
    model.eval()
    if isinstance(data, ImageData):
        device = data.device
        indices = torch.arange(len(data.labels)) if indices is None else indices
        batches = (data.inputs(b) for b in indices.split(batch_size))
    else:
        device = next(model.parameters()).device
        batches = (b.to(device) for b in data.split(batch_size))
    prepare_model(model, device)
    outputs = []
    for x in batches:
        with autocast(device):
            logits = model(as_model_input(x)).float()
        outputs.append((logits.softmax(1) if output == "probs" else logits).cpu())
    model.train(was_training)
    if not outputs:
        return torch.empty(0, 0)
    return torch.cat(outputs)


def evaluate(model: nn.Module, data: ImageData, split,
             subsets=("train", "forget", "retain", "test")) -> dict[str, float]:
    """Accuracy of `model` on each named subset of `split` (NaN for an empty subset).

    Each sample is predicted once, however many of the subsets hold it.
    """
    chosen = {name: split.subset(name) for name in subsets}
    union = torch.unique(torch.cat([torch.empty(0, dtype=torch.long), *chosen.values()]))
    correct = torch.zeros(int(union.max()) + 1 if len(union) else 0, dtype=torch.bool)
    if len(union):
        predicted = predict(model, data, union, output="logits").argmax(1)
        correct[union] = predicted == data.labels[union.to(data.device)].cpu()
    return {name: correct[idx].float().mean().item() if len(idx) else float("nan")
            for name, idx in chosen.items()}
