"""Independent pieces of a study, side by side on the CPU's cores.

A small model trains on a CPU with little gain from a second thread (measured on 2 cores:
a width-8 ResNet-18 takes 3.9 s for two epochs of 2,000 mnist5k images with one thread and
3.7 s with two), so two processes of one thread each finish two independent pieces in
about the time of one. `run_each` runs a module-level function on each piece's arguments
in worker processes (spawned: a forked process inherits the parent's thread pools, and
can hang in them) and returns the results in the pieces' order; each worker reads and
writes the same model cache, so what one builds the others and later runs find.

The pieces run one after another in this process on a GPU (one device, already busy), in
a dry run (what it times, and the loops it multiplies, are counted in this process), with
one core or one piece, or with `MU_WORKERS=1`, which also sets how many workers run at
most (default: one per core). A worker runs with fewer threads than this process, so its
numbers agree with a run one after another only up to float rounding, which training
amplifies: like any change of thread count, it moves numbers, not the verdicts they earn
(the provenance names the workers).
"""

from __future__ import annotations

import os
import warnings
from contextlib import nullcontext
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor
import multiprocessing

import torch

from . import cache, loops
from .errors import ConfigError

ENV = "MU_WORKERS"


def cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup (v2) CPU
    quota; os.cpu_count() counts the host's, which a container may not have."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return count or 1


def worker_count(pieces: int, device) -> int:
    """How many processes `run_each` uses for `pieces` pieces on `device` (1: this one)."""
    return 1 if loops.dry() else real_worker_count(pieces, device)


def real_worker_count(pieces: int, device) -> int:
    """How many processes a real run's `run_each` uses for `pieces` pieces on `device`
    (a dry run uses one, and prices the pieces as if side by side: `loops.shared_by`)."""
    if torch.device(device).type != "cpu" or pieces <= 1:
        return 1
    asked = os.environ.get(ENV, "").strip()
    if asked:
        if not asked.isdigit() or int(asked) < 1:
            raise ConfigError(f"{ENV} must be a whole number of workers, at least 1, got "
                              f"{asked!r}.")
        return min(int(asked), pieces)
    return min(cores(), pieces)


def run_each(function, pieces: list[tuple], *, device, desc: str | None = None) -> list:
    """`function(*piece)` for every piece, in the pieces' order (see the module's text),
    reported as a loop (`loops`) named `desc` when given. A worker's warnings are raised again here,
    so that a chapter shows them as if the piece had run in it."""
    count = worker_count(len(pieces), device)
    if count == 1:
        spread = real_worker_count(len(pieces), device) if loops.dry() else 1
        with loops.shared_by(spread, max(1, cores() // spread)) if spread > 1 else nullcontext():
            return [function(*piece) for piece in _shown(pieces, desc, len(pieces))]
    threads = max(1, cores() // count)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(count, mp_context=context, initializer=torch.set_num_threads,
                               initargs=(threads,))
    futures = [pool.submit(_with_warnings, function, piece) for piece in pieces]
    found = []
    try:
        for number, future in enumerate(_shown(futures, desc, len(pieces)), 1):
            try:
                result, caught, models = future.result()
            except Exception as error:
                error.add_note(f"in piece {number} of {len(pieces)} of {function.__name__}")
                raise
            for message, category in caught:
                warnings.warn(message, category, stacklevel=2)
            cache.add_used(models)  # the chapter's provenance names the worker's models
            found.append(result)
    except BaseException:  # the queued pieces are dropped and the error shows at once
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return found


def _with_warnings(function, piece: tuple) -> tuple[object, list[tuple[str, type]], list]:
    """`function(*piece)` in a worker, with the warnings it raised (message, category) and
    the models it asked the cache for (`cache.used`)."""
    since = len(cache.used())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*piece)
    return result, [(str(w.message), w.category) for w in caught], cache.used(since)


def _shown(items, desc: str | None, total: int):
    return items if desc is None else loops.track(items, desc, total=total, unit="piece")
