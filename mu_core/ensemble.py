"""Many models of one architecture trained together as one vectorised ensemble: LiRA's
shadow models.

The models' parameters are stacked along a leading axis (`torch.func.stack_module_state`)
and every step runs all of them at once with `functional_call` under `vmap`: one batched
forward and backward instead of one per model. Each model trains on its own subset of a
sample pool (a row of a `keep` mask) in its own shuffled order; the summed loss gives each
model's slice exactly its own gradient, and SGD's momentum and weight decay act element by
element, so the ensemble follows the same trajectory as the models trained one by one.

On a GPU that removes a kernel launch per model and layer. On the CPU the batched
convolutions are grouped convolutions, which oneDNN runs no faster than one model after
another (`mu-book bench` measures both), so there the models train one by one by default.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from . import dryrun, loops, models, workers
from .data import ImageData
from .errors import ConfigError, describe
from .train import Recipe, autocast, lr_factor, predict


@dataclass(eq=False)
class Ensemble:
    """Stacked parameters and buffers of `len(self)` models sharing `architecture`."""

    architecture: nn.Module  # the shared structure; its own weights are not used
    params: dict[str, Tensor]  # name -> (models, *shape)
    buffers: dict[str, Tensor]

    @classmethod
    def from_models(cls, members) -> "Ensemble":
        """The ensemble of trained models of one architecture (e.g. loaded from the cache)."""
        members = list(members)
        params, buffers = stack_module_state(members)
        return cls(copy.deepcopy(members[0]), _detached(params), _detached(buffers))

    def __len__(self) -> int:
        return len(next(iter(self.params.values())))

    def model(self, index: int) -> nn.Module:
        """A standalone copy of model `index`, in eval mode."""
        model = copy.deepcopy(self.architecture)
        state = {name: t[index].detach().clone() for name, t in
                 {**self.params, **self.buffers}.items()}
        model.load_state_dict(state, strict=False)
        return model.eval()

    @torch.no_grad()
    def logits(self, data: ImageData, indices: Tensor, *, batch_size: int = 512) -> Tensor:
        """Every model's logits on `data` at `indices`: (models, samples, classes), CPU;
        one vmap on CUDA, one model after another elsewhere (see the module docstring)."""
        if data.device.type != "cuda":
            return torch.stack([predict(self.model(m), data, indices, output="logits",
                                        batch_size=batch_size) for m in range(len(self))])
        self.architecture.eval()
        forward = vmap(self._forward, in_dims=(0, 0, None))
        outputs = []
        for chunk in indices.split(batch_size):
            with autocast(data.device):
                outputs.append(forward(self.params, self.buffers, data.inputs(chunk)).float().cpu())
        return torch.cat(outputs, dim=1)

    def _forward(self, params, buffers, x):
        return functional_call(self.architecture, (params, buffers), (x,))


def fit_ensemble(data: ImageData, pool: Tensor, keep: Tensor, architecture: str,
                 recipe: Recipe, *, seeds, vectorized: bool | None = None,
                 **architecture_options) -> Ensemble:
    """Train one model per row of `keep` (bool, models x len(pool)) on its kept samples of
    `pool`, model m initialised from `seeds[m]` and shuffled by it; SGD only (the optimiser
    whose update is element-wise in the stacked parameters). `vectorized` (default: on
    CUDA only) trains all models in one `vmap`; otherwise one after another, on the same
    batches, to the same weights up to float rounding."""
    seeds = _check_ensemble_request(pool, keep, recipe, seeds)
    if vectorized is None:
        vectorized = data.device.type == "cuda"
    members = [models.create_for(architecture, data, seed=s, **architecture_options)
               for s in seeds]
    streams = batch_streams(keep, recipe.epochs, recipe.batch_size, seeds)
    if dryrun.active():
        return _dry_fit(members, data, pool, streams, recipe, vectorized, keep)
    return _train_members(members, data, pool[streams], recipe, vectorized)


def _dry_fit(members: list[nn.Module], data: ImageData, pool: Tensor, streams: Tensor,
             recipe: Recipe, vectorized: bool, keep: Tensor) -> Ensemble:
    """A dry run: the members take a small step each (`dryrun.BATCHES`), and a step's cost
    per sample is timed on full batches (`dryrun.step_cost`): of every member at once where
    they train in one vmap, of one member where they train one after another (each costs
    the same)."""
    started = time.perf_counter()
    small = streams[:dryrun.BATCHES, :, :dryrun.batch_size(recipe.batch_size, data.device)]
    ensemble = _train_members(members, data, pool[small], recipe, vectorized)
    count = len(members) if vectorized else 1
    timed = members if vectorized else members[:1]

    def step(positions: Tensor) -> None:  # one step of `count` members on full batches
        batches = pool[positions].view(1, count, -1)
        _train_members(timed, data, batches, recipe, vectorized)

    key = ("shadow models", type(members[0]).__name__, count, vectorized,
           sum(p.numel() for p in members[0].parameters()), tuple(data.images.shape[1:]))
    seconds, batch = dryrun.step_cost(key, step, len(pool), count * recipe.batch_size,
                                      data.device, torch.Generator().manual_seed(0))
    per_sample = dryrun.real_count(pool, data) / len(pool)  # the pool's split(s), at real size
    real = len(members) * recipe.epochs * keep.sum(1).float().mean().item() * per_sample
    with dryrun.repeated("shadow_count"):  # the members: the preset's count, cut in a dry run
        dryrun.record("shadow models", real, seconds, data.device, timed_batch=batch // count,
                      spent=time.perf_counter() - started,
                      network=dryrun.network(members[0], data))
    return ensemble


def _train_members(members: list[nn.Module], data: ImageData, batches: Tensor, recipe: Recipe,
                   vectorized: bool) -> Ensemble:
    """Train each member on its batches (steps, models, batch) of sample indices: all in
    one vmap, or one after another."""
    if vectorized:
        return _fit_stacked(members, data, batches, recipe)
    pieces = [(member, data, own.contiguous(), recipe)
              for member, own in zip(members, batches.unbind(1))]
    return Ensemble.from_models(workers.run_each(_fit_alone, pieces, device=data.device,
                                                 desc="shadow models"))


def batch_streams(keep: Tensor, epochs: int, batch_size: int, seeds) -> Tensor:
    """Positions into the pool for every (step, model, batch slot): model m walks through
    fresh permutations of its kept positions (drawn from `seeds[m]`); every model takes the
    same number of steps, `epochs` passes over the mean number of kept samples."""
    counts = keep.sum(1)
    steps = epochs * math.ceil(counts.float().mean().item() / batch_size)
    total = steps * batch_size
    streams = []
    for row, seed in zip(keep, seeds):  # a loop over models, not over samples
        kept = torch.nonzero(row).flatten()
        generator = torch.Generator().manual_seed(int(seed))
        passes = math.ceil(total / len(kept))
        order = torch.cat([kept[torch.randperm(len(kept), generator=generator)]
                           for _ in range(passes)])
        streams.append(order[:total].view(steps, batch_size))
    return torch.stack(streams, 1)


def _fit_stacked(members: list[nn.Module], data: ImageData, batches: Tensor,
                 recipe: Recipe) -> Ensemble:
    device = data.device
    params, buffers = stack_module_state([m.to(device) for m in members])
    architecture = copy.deepcopy(members[0]).train()
    ensemble = Ensemble(architecture, params, buffers)
    optimizer = torch.optim.SGD(list(params.values()), lr=recipe.lr, momentum=recipe.momentum,
                                weight_decay=recipe.weight_decay)
    losses = vmap(_member_loss(ensemble))
    # bf16 batch norm under vmap fails in backward on CUDA (running_mean stays float32)
    has_batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                         for m in architecture.modules())
    steps, count, batch = batches.shape
    for step in loops.track(range(steps), "shadow models", unit="step"):
        _set_lr(optimizer, recipe, step / steps)
        flat = batches[step].flatten()
        x = data.inputs(flat).view(count, batch, *data.images.shape[1:])
        y = data.targets(flat).view(count, batch)
        with autocast(device, enabled=not has_batch_norm):
            loss = losses(params, buffers, x, y).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    ensemble.params, ensemble.buffers = _detached(params), _detached(buffers)
    return ensemble


def _member_loss(ensemble: Ensemble):
    def loss(params, buffers, x, y):
        return F.cross_entropy(ensemble._forward(params, buffers, x).float(), y)
    return loss


def _fit_alone(model: nn.Module, data: ImageData, batches: Tensor,
               recipe: Recipe) -> nn.Module:
    """`model` trained on its batches (steps, batch) of sample indices, returned (a worker
    process returns a copy)."""
    model.to(data.device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                weight_decay=recipe.weight_decay)
    for step, batch in enumerate(batches):
        _set_lr(optimizer, recipe, step / len(batches))
        with autocast(data.device):
            loss = F.cross_entropy(model(data.inputs(batch)).float(), data.targets(batch))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()


def _set_lr(optimizer: torch.optim.Optimizer, recipe: Recipe, fraction_done: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = recipe.lr * lr_factor(recipe.schedule, fraction_done)


def _detached(tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    return {name: t.detach() for name, t in tensors.items()}


def _check_ensemble_request(pool: Tensor, keep: Tensor, recipe: Recipe, seeds) -> list[int]:
    if not isinstance(recipe, Recipe):
        raise ConfigError(f"recipe must be a mu_core.train.Recipe, got {describe(recipe)}.")
    if recipe.optimizer != "sgd" or recipe.augment != "none" or recipe.label_smoothing:
        raise ConfigError("shadow models train with plain SGD recipes (optimizer 'sgd', no "
                          "augmentation, no label smoothing), got "
                          f"optimizer={recipe.optimizer!r}, augment={recipe.augment!r}, "
                          f"label_smoothing={recipe.label_smoothing}.")
    if not isinstance(keep, Tensor) or keep.dtype != torch.bool or keep.dim() != 2 \
            or keep.shape[1] != len(pool):
        raise ConfigError(f"keep must be a bool tensor (models, {len(pool)} pool samples), got "
                          f"{describe(keep)}.")
    seeds = list(seeds)
    if len(seeds) != len(keep) or any(isinstance(s, bool) or not isinstance(s, int) or s < 0
                                      for s in seeds):
        raise ConfigError(f"seeds must be {len(keep)} non-negative integers, one per model, "
                          f"got {seeds!r}.")
    if not bool(keep.any(1).all()):
        raise ConfigError("every shadow model needs at least one kept sample; a row of keep "
                          "is all False.")
    return seeds
