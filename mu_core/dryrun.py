"""Dry runs: a chapter's preset (above all `paper`) proved on any machine in minutes.

`mu-book run CHAPTER --preset paper --dry-run` executes the chapter with the preset's
architectures, widths, class counts, methods and hyper-parameters, but

* every dataset is deterministic synthetic data of the real dataset's shape (channels,
  image size, classes; a few samples per class: `data.synthetic`), so nothing is
  downloaded;
* every training loop (`train.fit`) runs one small batch and records how many samples
  the real run would have trained on, at the real dataset's size, and the measured time
  per sample; the other budgets (rounds, steps, iterations, samples, seeds) are cut in the
  parameters by `dry_parameters`;
* pretrained weights are checked to exist, but not downloaded.

The kernel appends one JSON line per training loop to the ledger `$MU_DRY_LEDGER`;
`estimate` turns the ledger into the real run's training cost on the device it ran on. A
loop that runs once per unit of a cut budget (a round of an attack, an iteration of a game)
is recorded inside `repeated(budget)`, and the estimate multiplies it by the budget's real /
cut ratio (`cut_ratios`); loops outside `train.fit` record themselves through `timed`, at
their pace after their first step (`Pace`), and per-sample work through `per_sample_work`,
on one chunk of its real size (at most 32 samples on a CPU), once per network where it
repeats (a method in several forget settings). Every loop counts once per seed of the
preset, except those inside `once_per_run`. Each entry names its kind of work and, for
training, its network, so that `prices` can price the work on a reference GPU.

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

from . import prices

ENV = "MU_DRY_RUN"
LEDGER_ENV = "MU_DRY_LEDGER"
BATCHES = 1  # steps on the dry run's few samples a training loop runs (not timed): the timed
# steps (`step_cost`) run three more, once per network
TIMED_STEPS = 2  # full batches timed after one untimed warm-up step
PROBE_BATCH = 32  # on a CPU, the batch a step is first timed at (see `step_cost`)
# seconds: a CPU step that would take longer is priced at PROBE_BATCH (an upper bound).
# Every network timed at a full batch costs three of its steps: on one CPU thread a
# ResNet-18 step of 128 takes about 5 s, and 03's paper dry run timed a dozen networks.
STEP_BUDGET = 2.0
# Dry per-sample work (Fisher, influence) runs on one chunk of the real run's size: its
# sample count, up to the largest chunk per-sample work takes (`persample.CHUNK`) on a GPU
# and CPU_PER_SAMPLE_CHUNK on a CPU, drawn from the dry run's few samples with
# replacement. Two samples cost mostly overhead: the Fisher of chapter 01 was priced at
# 1.5x its real run. On a CPU, 256 samples of a full-width ResNet-18 took minutes per pass
# (chapter 01's paper dry run never finished); 32 cost little more per sample than 256.
PER_SAMPLE_CHUNK = 256
CPU_PER_SAMPLE_CHUNK = 32
CPU_BATCH = 8  # on a CPU, a dry loop's untimed steps hold at most this many samples

# Budgets the dry run cuts in the parameters (by name, at any depth): loops other than
# `train.fit`, which cuts itself. Lists of seeds keep their first seed. Step budgets keep
# three steps: a loop's first step warms up and is not priced (`Pace`). The candidates of
# a reconstruction or inversion are steps' batch, not a repetition: a step over a tenth of
# them costs far more than a tenth (on 2 CPU threads, 04's reconstruction and 05's
# inversion were priced at 2.5x and 3x their real runs), so they are not cut, except
# gradient inversion's beyond the dry run's synthetic training set (60 samples of a
# 10-class dataset) and memory (each candidate holds float64 per-sample gradients).
CUTS = {
    "rounds": 2, "steps": 3, "prior_steps": 3, "train_steps": 3,
    "finetune_steps": 3, "relabel_steps": 3, "inversion_steps": 3, "iterations": 3,
    "pretrain_iterations": 3, "shadow_count": 6, "inversion_candidates": 48,
    "subset_size": 4, "mi_high_size": 4, "tsne_points": 20, "relearn_epochs": 1,
    "attack_epochs": 1, "per_class": 4, "forget_per_class": 1,
}
# Budgets inside the library that no parameter sets, cut in a dry run by `cut`; the loops
# they bound price the real budget themselves (iu's conjugate gradient: at its cap).
# 04's null and known non-members are cut so that both fit the synthetic test split (its
# reconstruction candidates, `candidates_per_class` too in a real run, are not).
INTERNAL_CUTS = {"max_columns": 256, "cg_iterations": 3, "fisher_classes": 10,
                 "known_nonmembers": 10, "null_per_class": 2}
SEED_LISTS = ("seeds", "heterogeneous_seeds", "ablation_seeds")
# Worker processes side by side do less than their count of one process alone: they start,
# import and load data each, pieces are uneven, and they share memory bandwidth. Measured
# on 2 cores (2026-12-07, cold cpu runs of 02, 03, 04 and 06 against their dry runs): two
# workers priced at twice one process's pace came to 0.66-0.90 of the runs, at 0.75 each
# to 0.79-1.07. `mu-book bench --calibrate` checks it on any machine.
WORKER_EFFICIENCY = 0.75


_REPEATED: list[str] = []  # the cut budgets whose loops enclose the code running now
_ONCE: list[bool] = []  # non-empty inside `once_per_run`
_STANDS_FOR: list[float] = []  # the counts of the open `stands_for` blocks
_SHARED: list[int] = []  # the worker counts of the open `shared_by` blocks, innermost last
_INNER: list["_Inner"] = []  # the open `per_sample_work` blocks, innermost last
# per-sample work timed once (`per_sample_work`'s key) -> (seconds per sample, the entries
# of the loops timed inside it, samples per real sample of the work)
_PER_SAMPLE: dict = {}
REPLAY_SAMPLES = 2  # samples a repeat of timed per-sample work runs on, untimed


def active() -> bool:
    return os.environ.get(ENV) == "1"


def cut(name: str, value: int) -> int:
    """An internal budget (`INTERNAL_CUTS`): `value`, or in a dry run at most the cut."""
    return min(value, INTERNAL_CUTS[name]) if active() else value


def cut_per_sample(name: str, value: int) -> int:
    """An internal budget that every sample of per-sample work repeats (the classes of
    ff's batch-mean Fisher: a backward pass each), cut in a dry run as `cut` does; the
    per-sample work around it (`per_sample_work`) is priced at value / cut times its timed
    pace, an upper bound (what each sample does once, its forward pass, counts value / cut
    times too)."""
    kept = cut(name, value)
    if kept < value and _INNER:
        _INNER[-1].factor *= value / kept
    return kept


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
    where a name recurs), and of the lengths of the seed lists it cut: how many times the
    real run repeats what the dry one did once."""
    ratios: dict[str, float] = {}

    def walk(a, b, key=None):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in a.keys() & b.keys():
                walk(a[k], b[k], k)
        elif (isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool)
              and 0 < b < a):
            ratios[key] = max(ratios.get(key, 1.0), a / b)
        elif (key in SEED_LISTS and isinstance(a, list) and isinstance(b, list)
              and 0 < len(b) < len(a)):
            ratios[key] = max(ratios.get(key, 1.0), len(a) / len(b))

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


@contextmanager
def once_per_run():
    """A block the chapter runs once, not once per seed (a regime table's shadow models on
    the first seed's trained model, RSU's privacy risks): the estimate counts the loops it
    records once, where it multiplies every other loop by the preset's seeds (the dry run
    runs the first seed only, so it cannot tell them apart itself)."""
    _ONCE.append(True)
    try:
        yield
    finally:
        _ONCE.pop()


@contextmanager
def stands_for(runs: float):
    """A block the dry run runs once in place of `runs` runs of it over the whole real run,
    not per seed (the scorecard attacks one model of one row where the real run attacks
    the first few models of every row): the estimate counts its loops `runs` times."""
    _STANDS_FOR.append(runs)
    try:
        with once_per_run():
            yield
    finally:
        _STANDS_FOR.pop()


@contextmanager
def shared_by(workers: int, threads: int):
    """A block of independent pieces that a real run spreads over `workers` worker
    processes of `threads` threads each (`workers.run_each`) and a dry run runs one after
    another in its own process: its loops are timed at the workers' thread count and
    count 1 / (`workers` x WORKER_EFFICIENCY) of their time in the estimate
    (`wall_seconds_of`: the pieces finish side by side). On
    2 CPU threads a small network trains barely faster than on one, so timing such pieces
    at the kernel's two threads and adding them up priced chapter 02 at 1.4x its run."""
    kept = torch.get_num_threads()
    torch.set_num_threads(threads)
    _SHARED.append(workers)
    try:
        yield
    finally:
        _SHARED.pop()
        torch.set_num_threads(kept)


@contextmanager
def per_seed_of(seed_list: str):
    """A block run once per seed of the preset's `seed_list` (a SEED_LISTS name, such as
    MRA's `ablation_seeds`), not once per seed of its `seeds`: the estimate counts its
    loops at that list's length."""
    with once_per_run(), repeated(seed_list):
        yield


def _cut(key, value, cuts: dict):
    if isinstance(value, dict):
        return {k: _cut(k, v, cuts) for k, v in value.items()}
    if key in SEED_LISTS and isinstance(value, list) and value:
        return value[:1]
    if key in cuts and isinstance(value, int) and not isinstance(value, bool):
        return min(value, cuts[key])
    return value


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
           timed_batch: int | None = None, spent: float = 0.0, kind: str = "training",
           network: dict | None = None) -> None:
    """Append a loop's real budget (samples it would train on, or candidate-steps, or
    per-sample items) and measured cost to the ledger (with the batch size its steps were
    timed at, where it has batches, and the seconds the dry run `spent` in the loop:
    `estimate` sets them apart from the rest of the dry run's time). `kind` names the work
    ("training", "steps" or "per-sample"); a training loop's `network` (`network`) lets
    `reference_price` find a reference GPU's throughput for it."""
    entry = {"loop": desc, "samples": samples, "seconds_per_sample": seconds_per_sample,
             "device": device_name(device), "repeated": list(_REPEATED),
             "timed_batch": timed_batch, "spent": spent, "kind": kind, "network": network,
             "per_seed": not _ONCE, "workers": _SHARED[-1] if _SHARED else 1,
             "runs": math.prod(_STANDS_FOR)}
    for inner in _INNER:  # the enclosing per-sample work leaves this loop's time out
        inner.spent += spent
    if _INNER:
        _INNER[-1].entries.append(entry)
        if any(inner.muted for inner in _INNER):
            return
    ledger = os.environ.get(LEDGER_ENV)
    if not ledger:
        return
    with open(ledger, "a") as file:
        file.write(json.dumps(entry) + "\n")


def network(model: torch.nn.Module, data) -> dict:
    """What a training loop's reference throughput depends on: the network's class and
    parameter count, and the input's shape."""
    return {"model": type(model).__name__,
            "parameters": sum(p.numel() for p in model.parameters()),
            "input": list(data.images.shape[1:])}


@contextmanager
def per_sample_work(desc: str, pool, data, max_samples: int | None = None, *, model=None,
                    options: tuple = ()):
    """Per-sample work over `pool` (drawn down to `max_samples` by the caller): yields the
    pool, or in a dry run one chunk of the real run's size (its sample count up to
    `per_sample_chunk`, positions of `pool` drawn with replacement), timed, recording the
    real run's count (the pool at the real dataset's size, capped at `max_samples`). A loop
    timed inside it (iu's conjugate-gradient products) records itself, and its seconds are
    left out of the per-sample work's.

    Work that repeats identically (the same `desc`, `model` network, `options` that fix its
    cost, device and chunk: a method run in another forget setting) is timed once: a repeat
    runs on REPLAY_SAMPLES samples, untimed, and is recorded at the first run's pace, the
    loops timed inside it too, at the repeat's real count."""
    if not active() or len(pool) == 0:
        yield pool
        return
    real = real_count(pool, data, max_samples)
    count = max(1, int(min(real, per_sample_chunk(data.device))))
    key = None if model is None else (desc, json.dumps(network(model, data)), options,
                                      device_name(data.device), count)
    first = _PER_SAMPLE.get(key)
    drawn = torch.randint(len(pool), (count if first is None else REPLAY_SAMPLES,),
                          generator=torch.Generator().manual_seed(0))
    frame = _Inner(muted=first is not None)
    _INNER.append(frame)
    try:
        with Timer(data.device) as timer:
            yield pool[drawn.to(pool.device)]
    finally:
        _INNER.remove(frame)
    if first is not None:  # a repeat: the first run's paces, at this run's real count
        rate, inner = first
        record(desc, real, rate, data.device, spent=timer.seconds, kind="per-sample")
        for entry in inner:
            record(entry["loop"], entry["samples"] * real, entry["seconds_per_sample"],
                   data.device, timed_batch=entry["timed_batch"], kind=entry["kind"],
                   network=entry["network"])
        return
    own = max(0.0, timer.seconds - frame.spent)  # loops timed inside record themselves
    rate = own * frame.factor / count
    record(desc, real, rate, data.device, spent=own, kind="per-sample")
    if key is not None:
        _PER_SAMPLE[key] = (rate, [{**e, "samples": e["samples"] / real}
                                   for e in frame.entries])


class _Inner:
    """What the loops timed inside an open `per_sample_work` recorded: their entries and
    seconds; `muted` (a repeat), they are not written to the ledger. `factor`: how many
    times its timed pace the real work costs (`cut_per_sample`)."""

    def __init__(self, muted: bool):
        self.muted, self.spent, self.entries, self.factor = muted, 0.0, [], 1.0


def per_sample_chunk(device: torch.device) -> int:
    """Samples a dry run's per-sample work runs on, at most: PER_SAMPLE_CHUNK on a GPU,
    CPU_PER_SAMPLE_CHUNK on a CPU."""
    return PER_SAMPLE_CHUNK if device.type == "cuda" else CPU_PER_SAMPLE_CHUNK


@contextmanager
def timed(desc: str, samples: int, device: torch.device, real_samples: float | None = None, *,
          over: tuple[str, ...] = ()):
    """A loop outside `train.fit` over `samples` samples or candidate-steps
    (`real_samples` in the real run; default the same), run once per unit of the cut
    budgets `over` (as in `repeated`): in a dry run, timed at its pace after its first
    unit (`Pace`: `loops.loop` feeds it the steps) and recorded; otherwise just run.
    Yields the `Pace`, or None outside a dry run."""
    if not active() or samples <= 0:
        yield None
        return
    with repeated(*over):
        pace = Pace(device)
        yield pace
        seconds, spent = pace.seconds()
        record(desc, samples if real_samples is None else real_samples,
               seconds / samples, device, spent=spent, kind="steps")


class Pace:
    """The clock of a timed loop, fed its steps and those of the loops inside it (a
    `loops` subscriber). The units are the steps of the first loop to step (the loop
    itself, or one nested in it, such as gradient inversion's steps); the first unit,
    with everything before it, warms up (allocations, kernel choice, a first gradient)
    and is left out: the loop is priced at the pace of the units after it, as `step_cost`
    prices training."""

    def __init__(self, device: torch.device):
        self.device = device
        self.unit: str | None = None  # the name of the loop whose steps are the units
        self.units = self.first = 0
        self.seen: dict[int, int] = {}  # steps seen of each running loop of that name
        self.start = self._now()
        self.warm = self.start

    def __call__(self, event: str, loop) -> None:
        if event != "step" or self.unit not in (None, loop.name):
            return
        if self.unit is None:
            self.unit, self.first, self.warm = loop.name, loop.done, self._now()
        self.units += loop.done - self.seen.get(id(loop), 0)
        self.seen[id(loop)] = loop.done

    def seconds(self) -> tuple[float, float]:
        """(seconds the loop's units take at the pace after the first, seconds spent)."""
        spent = self._now() - self.start
        if self.units <= self.first:
            return spent, spent
        return (spent - (self.warm - self.start)) * self.units / (self.units - self.first), spent

    def _now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()


def real_count(pool, data, max_samples: int | None = None) -> float:
    """Samples the real run draws from `pool` (indices into `data`): in a dry run, each
    synthetic sample stands for its split's real size over its synthetic size (a probing
    set drawn from the test split counts the real test split's, not the training split's);
    capped at `max_samples`. Outside a dry run, its size."""
    real = float(len(pool))
    if active() and data.real_train and len(pool):
        in_test = int(torch.isin(torch.as_tensor(pool).cpu(), data.test.cpu()).sum())
        real = ((len(pool) - in_test) * data.real_train / len(data.train)
                + in_test * data.real_test / len(data.test))
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


def read_ledger(ledger_path) -> list[dict]:
    """A dry run's ledger: one entry per timed loop (empty when no loop ran)."""
    if not os.path.exists(ledger_path):
        return []
    with open(ledger_path) as file:
        return [json.loads(line) for line in file if line.strip()]


def estimate(ledger_path, seeds: int = 1, ratios: dict[str, float] | None = None,
             wall_seconds: float | None = None) -> dict:
    """The real run's cost from a dry run's ledger (`estimate_entries`)."""
    return estimate_entries(read_ledger(ledger_path), seeds, ratios, wall_seconds)


def estimate_entries(entries: list[dict], seeds: int = 1, ratios: dict[str, float] | None = None,
                     wall_seconds: float | None = None) -> dict:
    """The real run's training cost from a dry run's ledger entries: hours per device and
    loop, for `seeds` seeds (the dry run trains for the first of the preset's `seeds` only,
    and every loop repeats per seed), each loop times the `ratios` (`cut_ratios`) of the
    budgets it was repeated over. With the dry run's `wall_seconds`, the rest of the run
    (kernel, imports, data, evaluation, figures: the dry run's time outside its loops, once:
    the dry run evaluates its first seed only) is added to make `total_hours`, the whole
    run's price on this machine. `work` lists what the real run does (`work_of`); the
    entries and the arguments are kept, so that the estimate can be worked again."""
    ratios = ratios or {}
    # samples each loop sees at the preset's budgets and seeds (`once_per_run`: one seed)
    real = [e["samples"] * math.prod(ratios.get(b, 1.0) for b in e.get("repeated", []))
            * (seeds if e.get("per_seed", True) else 1) * e.get("runs", 1) for e in entries]
    by_loop: dict[str, float] = {}
    for e, samples in zip(entries, real):
        by_loop[e["loop"]] = by_loop.get(e["loop"], 0.0) + wall_seconds_of(e, samples)
    hours = sum(by_loop.values()) / 3600
    found = {"training_loops": len(entries), "seeds": seeds, "hours": hours,
             "devices": sorted({e["device"] for e in entries}),
             "samples": sum(real),  # training images seen
             "hours_by_loop": {k: v / 3600 for k, v in sorted(by_loop.items(),
                                                             key=lambda kv: -kv[1])},
             "work": work_of(entries, real),
             "ledger": entries, "ratios": ratios, "wall_seconds": wall_seconds}
    if wall_seconds is not None:
        rest = max(0.0, wall_seconds - sum(e.get("spent", 0.0) for e in entries))
        found["rest_hours"] = rest / 3600
        found["total_hours"] = hours + found["rest_hours"]
    return found


def wall_seconds_of(entry: dict, samples: float) -> float:
    """The seconds `samples` of a ledger entry's work take in the real run: at its timed
    pace, shared by the worker processes its pieces ran in side by side (`shared_by`),
    each at WORKER_EFFICIENCY of a process running alone."""
    workers = entry.get("workers", 1)
    share = workers * WORKER_EFFICIENCY if workers > 1 else 1
    return samples * entry["seconds_per_sample"] / share


WORK_KINDS = ("training", "steps", "per-sample")  # what `record`'s entries count


def work_of(entries: list[dict], real: list[float]) -> list[dict]:
    """The real run's work, one row per loop, kind and network: its count (training images,
    sample-steps or per-sample items: the `real` counts of the `entries`, at the preset's
    budgets and seeds) and its hours on the dry run's device, largest first."""
    rows: dict[tuple, dict] = {}
    for e, samples in zip(entries, real):
        kind = e.get("kind") or ("training" if e.get("timed_batch") else "steps")
        network = e.get("network")
        key = (e["loop"], kind, json.dumps(network, sort_keys=True))
        row = rows.setdefault(key, {"loop": e["loop"], "kind": kind, "network": network,
                                    "count": 0.0, "hours": 0.0})
        row["count"] += samples
        row["hours"] += wall_seconds_of(e, samples) / 3600
    return sorted(rows.values(), key=lambda row: -row["hours"])


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
    if "total_hours" in found:
        loops += (f"; with the rest of the run as the dry run measured it (kernel, imports, "
                  f"data, evaluation, figures: {_hours(found['rest_hours'])}), the whole run "
                  f"about {_hours(found['total_hours'])}")
    return f"{loops}. {work_sentence(found)} {prices.reference_sentence(found)}".strip()


def work_sentence(found: dict) -> str:
    """The real run's work, all seeds: training images, sample-steps, per-sample items."""
    names = {"training": "training images", "steps": "sample-steps of the other loops "
             "(attack rounds, games, reconstruction, inversion)",
             "per-sample": "per-sample items"}
    totals = {kind: sum(row["count"] for row in found.get("work", []) if row["kind"] == kind)
              for kind in WORK_KINDS}
    parts = [f"{prices.count(total)} {names[kind]}" for kind, total in totals.items() if total]
    return f"The work: {', '.join(parts)}." if parts else ""


def _hours(hours: float) -> str:
    if hours < 1:
        return f"{max(1, math.ceil(hours * 60))} minutes"
    return f"{hours:,.0f} hours" if hours >= 10 else f"{hours:.1f} hours"
