"""Dry runs: a chapter's preset (above all `paper`) proved on any machine in minutes.

`mu-book run CHAPTER --preset paper --dry-run` executes the chapter with the preset's
architectures, widths, class counts, methods and hyper-parameters, but

* every dataset is deterministic synthetic data of the real dataset's shape (channels,
  image size, classes; a few samples per class: `data.synthetic`), so nothing is
  downloaded;
* every training loop (`train.fit`) runs a couple of batches and records how many samples
  the real run would have trained on, at the real dataset's size, and the measured time
  per sample; the other budgets (rounds, steps, iterations, samples, seeds) are cut in the
  parameters by `dry_parameters`;
* pretrained weights are checked to exist, but not downloaded.

The kernel appends one JSON line per training loop to the ledger `$MU_DRY_LEDGER`;
`estimate` turns the ledger into the real run's training cost on the device it ran on. A
loop that runs once per unit of a cut budget (a round of an attack, an iteration of a game)
is recorded inside `repeated(budget)`, and the estimate multiplies it by the budget's real /
cut ratio (`cut_ratios`); loops outside `train.fit` record themselves through `timed`.

Only the loops import this module: `train` and `ensemble` (whose dry steps are timed on
full batches) and `loops`, the layer every other long loop reports through; `book` and
`bench` drive dry runs and read their ledgers.
"""

from __future__ import annotations

import json
import math
import os
import time
from contextlib import contextmanager

import torch

ENV = "MU_DRY_RUN"
LEDGER_ENV = "MU_DRY_LEDGER"
BATCHES = 2  # batches of the dry run's few samples a training loop runs (not timed)
TIMED_STEPS = 2  # full batches timed after one untimed warm-up step
PROBE_BATCH = 32  # on a CPU, the batch a step is first timed at (see `step_cost`)
STEP_BUDGET = 5.0  # seconds: a CPU step that would take longer is priced at PROBE_BATCH
SAMPLES = 2  # samples dry per-sample work (Fisher, influence) runs on, timed
CPU_BATCH = 8  # on a CPU, a dry loop's untimed steps hold at most this many samples

# Budgets the dry run cuts in the parameters (by name, at any depth): loops other than
# `train.fit`, which cuts itself. Lists of seeds keep their first seed.
CUTS = {
    "rounds": 2, "patience": 1, "steps": 3, "prior_steps": 2, "train_steps": 3,
    "finetune_steps": 2, "relabel_steps": 2, "inversion_steps": 2, "iterations": 2,
    "pretrain_iterations": 2, "max_samples": 16, "shadow_count": 6,
    "inversion_candidates": 8, "subset_size": 4, "mi_high_size": 4, "tsne_points": 20,
    "candidates_per_class": 2, "relearn_epochs": 1, "attack_epochs": 1, "per_class": 4,
    "forget_per_class": 1,
}
# Budgets inside the library that no parameter sets, cut in a dry run by `cut`.
INTERNAL_CUTS = {"max_columns": 256, "cg_iterations": 4}
SEED_LISTS = ("seeds", "heterogeneous_seeds", "ablation_seeds")


_REPEATED: list[str] = []  # the cut budgets whose loops enclose the code running now


def active() -> bool:
    return os.environ.get(ENV) == "1"


def cut(name: str, value: int) -> int:
    """An internal budget (`INTERNAL_CUTS`): `value`, or in a dry run at most the cut."""
    return min(value, INTERNAL_CUTS[name]) if active() else value


def dry_parameters(params: dict, cuda: bool) -> dict:
    """The chapter's parameters with the budgets of `CUTS` lowered (never raised), seed
    lists cut to their first seed, and a CUDA device replaced by the CPU without CUDA.
    Batch sizes stay the preset's: steps are timed at them (`step_cost`), and the dry run's
    few samples keep every other loop short."""
    cut = {key: _cut(key, value, CUTS) for key, value in params.items()}
    if not cuda and str(cut.get("device", "")).startswith("cuda"):
        cut["device"] = "cpu"
    return cut


def cut_ratios(real: dict, dry: dict) -> dict[str, float]:
    """real / dry of every number `dry_parameters` cut, by name at any depth (the largest
    where a name recurs): how many times the real run repeats what the dry one did once."""
    ratios: dict[str, float] = {}

    def walk(a, b, key=None):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in a.keys() & b.keys():
                walk(a[k], b[k], k)
        elif (isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool)
              and 0 < b < a):
            ratios[key] = max(ratios.get(key, 1.0), a / b)

    walk(real, dry)
    return ratios


@contextmanager
def repeated(*budgets: str):
    """A block run once per unit of each cut budget in `budgets` (`CUTS` names such as
    "rounds"): the loops it records count real / cut times each in the estimate."""
    _REPEATED.extend(budgets)
    try:
        yield
    finally:
        del _REPEATED[len(_REPEATED) - len(budgets):]


def _cut(key, value, cuts: dict):
    if isinstance(value, dict):
        return {k: _cut(k, v, cuts) for k, v in value.items()}
    if key in SEED_LISTS and isinstance(value, list) and value:
        return value[:1]
    if key in cuts and isinstance(value, int) and not isinstance(value, bool):
        return min(value, cuts[key])
    return value


def scale(data) -> float:
    """Real training samples per synthetic one (1 for real data)."""
    if not active() or not data.real_train:
        return 1.0
    return data.real_train / len(data.train)


def batch_size(asked: int, device: torch.device) -> int:
    return asked if device.type == "cuda" else min(asked, CPU_BATCH)


_STEP_COSTS: dict = {}  # (loop key, batch, device) -> seconds per sample: timed once


def step_cost(key: tuple, step, pool: int, batch: int, device: torch.device,
              generator: torch.Generator) -> tuple[float, int]:
    """Seconds per sample of a training step `step(positions)` on full batches of the
    preset's `batch` samples, drawn with replacement from `pool` positions (synthetic data
    is free), after one untimed warm-up step; and the batch size it was timed at. A dry
    run's own few samples would time tiny batches, whose per-sample cost is overhead: on 2
    CPU threads a ResNet-18 step costs 7x more per sample at batch 8 than at 128. On a CPU
    the step is first timed at PROBE_BATCH; where the full batch would take longer than
    STEP_BUDGET a step, that probe's cost stands (an upper bound: larger batches cost no
    more per sample). Loops of the same `key` on the same device are timed once."""
    probe = batch if device.type == "cuda" else min(batch, PROBE_BATCH)
    seconds = _timed_steps((key, probe, device_name(device)), step, pool, probe, device,
                           generator)
    if probe < batch and seconds * batch <= STEP_BUDGET:
        return _timed_steps((key, batch, device_name(device)), step, pool, batch, device,
                            generator), batch
    return seconds, probe


def _timed_steps(cache_key, step, pool: int, batch: int, device: torch.device,
                 generator: torch.Generator) -> float:
    if cache_key not in _STEP_COSTS:
        draws = [torch.randint(pool, (batch,), generator=generator)
                 for _ in range(TIMED_STEPS + 1)]
        step(draws[0])  # warm-up: allocations, kernel choice
        with Timer(device) as timer:
            for positions in draws[1:]:
                step(positions)
        _STEP_COSTS[cache_key] = timer.seconds / (TIMED_STEPS * batch)
    return _STEP_COSTS[cache_key]


def record(desc: str, samples: float, seconds_per_sample: float, device: torch.device, *,
           timed_batch: int | None = None, spent: float = 0.0) -> None:
    """Append a training loop's real budget (samples it would train on) and measured cost
    to the ledger (with the batch size its steps were timed at, where it has batches, and
    the seconds the dry run `spent` in the loop: `estimate` sets them apart from the rest
    of the dry run's time)."""
    ledger = os.environ.get(LEDGER_ENV)
    if not ledger:
        return
    entry = {"loop": desc, "samples": samples, "seconds_per_sample": seconds_per_sample,
             "device": device_name(device), "repeated": list(_REPEATED),
             "timed_batch": timed_batch, "spent": spent}
    with open(ledger, "a") as file:
        file.write(json.dumps(entry) + "\n")


@contextmanager
def per_sample_work(desc: str, pool, data, max_samples: int | None = None):
    """Per-sample work over `pool` (drawn down to `max_samples` by the caller): yields the
    pool, or in a dry run its first SAMPLES samples, timed, recording the real run's count
    (the pool at the real dataset's size, capped at `max_samples`)."""
    if not active() or len(pool) <= SAMPLES:
        yield pool
        return
    with Timer(data.device) as timer:
        yield pool[:SAMPLES]
    record(desc, real_count(pool, data, max_samples), timer.seconds / SAMPLES, data.device,
           spent=timer.seconds)


@contextmanager
def timed(desc: str, samples: int, device: torch.device, real_samples: float | None = None, *,
          over: tuple[str, ...] = ()):
    """A training loop outside `train.fit` over `samples` samples (`real_samples` in the real
    run; default the same), run once per unit of the cut budgets `over` (as in `repeated`):
    in a dry run, timed and recorded; otherwise just run."""
    if not active() or samples <= 0:
        yield
        return
    with repeated(*over):
        with Timer(device) as timer:
            yield
        record(desc, samples if real_samples is None else real_samples,
               timer.seconds / samples, device, spent=timer.seconds)


def real_count(pool, data, max_samples: int | None = None) -> float:
    """Samples the real run draws from `pool`: its size at the real dataset's size (outside a
    dry run, its size), capped at `max_samples`."""
    real = len(pool) * scale(data)
    return min(real, max_samples) if max_samples else real


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


class Timer:
    """Wall time of a block, synchronising CUDA so that queued kernels are counted."""

    def __init__(self, device: torch.device):
        self.device = device

    def __enter__(self):
        self._sync()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self._sync()
        self.seconds = time.perf_counter() - self.start

    def _sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def estimate(ledger_path, seeds: int = 1, ratios: dict[str, float] | None = None,
             wall_seconds: float | None = None) -> dict:
    """The real run's training cost from a dry run's ledger: hours per device and loop, for
    `seeds` seeds (the dry run trains for the first of the preset's `seeds` only, and every
    loop repeats per seed), each loop times the `ratios` (`cut_ratios`) of the budgets it
    was repeated over. With the dry run's `wall_seconds`, the rest of the run (kernel,
    imports, data, evaluation, figures: the dry run's time outside its loops, once: the
    dry run evaluates its first seed only) is added to make `total_hours`, the whole run's
    price on this machine."""
    ratios = ratios or {}
    entries = []
    if os.path.exists(ledger_path):
        with open(ledger_path) as file:
            entries = [json.loads(line) for line in file if line.strip()]
    real = [e["samples"] * math.prod(ratios.get(b, 1.0) for b in e.get("repeated", []))
            for e in entries]  # samples each loop sees at the preset's budgets
    by_loop: dict[str, float] = {}
    for e, samples in zip(entries, real):
        seconds = seeds * samples * e["seconds_per_sample"]
        by_loop[e["loop"]] = by_loop.get(e["loop"], 0.0) + seconds
    hours = sum(by_loop.values()) / 3600
    found = {"training_loops": len(entries), "seeds": seeds, "hours": hours,
            "devices": sorted({e["device"] for e in entries}),
            "samples": seeds * sum(real),  # training images seen
            "hours_by_loop": {k: v / 3600 for k, v in sorted(by_loop.items(),
                                                            key=lambda kv: -kv[1])}}
    if wall_seconds is not None:
        rest = max(0.0, wall_seconds - sum(e.get("spent", 0.0) for e in entries))
        found["rest_hours"] = rest / 3600
        found["total_hours"] = hours + found["rest_hours"]
    return found


def describe(found: dict) -> str:
    """One sentence for the command line."""
    if not found["training_loops"]:
        return "dry run: no training loop ran, so there is no cost estimate."
    where = ", ".join(found["devices"])
    top = "; ".join(f"{loop} {hours:.1f} h" for loop, hours in
                    list(found["hours_by_loop"].items())[:3])
    seeds = found.get("seeds", 1)
    per_seed = f" per seed, times {seeds} seeds" if seeds > 1 else ""
    loops = (f"dry run: the real run's {found['training_loops']} timed loops{per_seed} "
             f"(training at the preset's epochs and dataset sizes; attack rounds, game "
             f"iterations and reconstruction and inversion steps at its budgets) would take "
             f"about {_hours(found['hours'])} on {where} (largest: {top})")
    if "total_hours" not in found:
        return loops + "."
    return (f"{loops}; with the rest of the run as the dry run measured it (kernel, imports, "
            f"data, evaluation, figures: {_hours(found['rest_hours'])}), the whole run "
            f"about {_hours(found['total_hours'])}.")


def _hours(hours: float) -> str:
    if hours < 1:
        return f"{max(1, math.ceil(hours * 60))} minutes"
    return f"{hours:,.0f} hours" if hours >= 10 else f"{hours:.1f} hours"
