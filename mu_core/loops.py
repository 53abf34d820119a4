"""Every long loop of the library reports itself here: its name, its unit, the steps done
and its total (training epochs, shadow models, margin training, reconstruction and
inversion steps, per-sample chunks, attack rounds, unlearning runs).

Who listens:

* in a kernel run by `mu-book run` / `build`, JSON lines appended to the file
  `$MU_LOOPS_FILE` (at most one per INTERVAL, and the end of every loop that was
  reported), which the `mu-book` process tails (`progress.Watch`);
* elsewhere (Jupyter, Colab, a script), a tqdm bar per loop, unless ``MU_PROGRESS=0``;
* a dry run (`dryrun`): a loop given its `work` (samples) and `device` is timed and its
  real budget recorded, and `over` names the cut budgets it repeats per unit of. This is
  the one place outside the training loops (`train`, `ensemble`) where the dry run hooks
  in: the algorithms call `loop`, `track`, `repeated`, `budget` and `per_sample`, and
  the studies `once_per_run` around what they run for the first seed only.

Reporting never breaks a run: a report that cannot be written is dropped.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from . import dryrun

FILE_ENV = "MU_LOOPS_FILE"  # set by `mu-book run` for its kernels: where reports go
BARS_ENV = "MU_PROGRESS"  # "0": no tqdm bars (the tests, a sweep's points)
INTERVAL = 0.25  # seconds: at most four reports a second go to the file (and ends)


@dataclass(eq=False)
class Loop:
    """A running loop: `done` of `total` `unit`s (total None where unknown), `depth` the
    number of loops around it."""

    name: str
    total: int | None
    unit: str
    depth: int
    done: int = 0
    started: float = field(default_factory=time.perf_counter)

    def step(self, count: int = 1) -> None:
        self.done += count
        _notify("step", self)

    def each(self, items: Iterable) -> Iterator:
        """`items`, the loop stepped after each."""
        for item in items:
            yield item
            self.step()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


Subscriber = Callable[[str, Loop], None]  # called with "start", "step" or "end" and the loop
_SUBSCRIBERS: list[Subscriber] = []
_RUNNING: list[Loop] = []


@contextmanager
def subscribed(subscriber: Subscriber) -> Iterator[None]:
    """`subscriber` sees every loop's events inside the block."""
    _SUBSCRIBERS.append(subscriber)
    try:
        yield
    finally:
        _SUBSCRIBERS.remove(subscriber)


@contextmanager
def loop(name: str, total: int | None, unit: str = "step", *, work: float = 0,
         real_work: float | None = None, device=None, over: tuple[str, ...] = ()
         ) -> Iterator[Loop]:
    """A loop of `total` `unit`s: call `.step()` on what it yields after each. In a dry
    run, a loop of `work` samples on `device` (`real_work` in the real run) is timed at its
    pace after its first step (or the first step of a loop inside it: `dryrun.Pace`) and
    recorded under `name`, once per unit of the cut budgets `over` (`dryrun.timed`)."""
    current = Loop(name, total, unit, len(_RUNNING))
    with ExitStack() as stack:
        if work and device is not None:
            pace = stack.enter_context(dryrun.timed(name, work, device, real_work, over=over))
            if pace is not None:  # a dry run: the pace sees this loop's steps and its inner ones
                stack.enter_context(subscribed(pace))
        elif over:
            stack.enter_context(dryrun.repeated(*over))
        _RUNNING.append(current)
        _notify("start", current)
        try:
            yield current
        finally:
            _RUNNING.remove(current)
            _notify("end", current)


def track(items: Iterable, name: str, *, total: int | None = None, unit: str = "step",
          **timing) -> Iterator:
    """`items`, reported as a loop (see `loop`) of one `unit` each."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with loop(name, total, unit, **timing) as current:
        yield from current.each(items)


def dry() -> bool:
    """Whether this is a dry run (synthetic data, cut budgets, loops timed)."""
    return dryrun.active()


def budget(name: str, value: int) -> int:
    """A library-internal loop budget (`dryrun.INTERNAL_CUTS` names it), cut in a dry run."""
    return dryrun.cut(name, value)


def budget_per_sample(name: str, value: int) -> int:
    """A library-internal budget that each sample of per-sample work repeats, cut in a dry
    run and priced back (`dryrun.cut_per_sample`)."""
    return dryrun.cut_per_sample(name, value)


def repeated(*budgets: str):
    """A block run once per unit of each cut budget (`dryrun.repeated`)."""
    return dryrun.repeated(*budgets)


def once_per_run():
    """A block a chapter runs once, not per seed (`dryrun.once_per_run`): the dry run's
    price counts its loops once."""
    return dryrun.once_per_run()


def stands_for(runs: float):
    """A block a dry run runs once for `runs` runs of the real one, over the whole run
    (`dryrun.stands_for`)."""
    return dryrun.stands_for(runs)


def shared_by(workers: int, threads: int):
    """Pieces a real run spreads over `workers` processes of `threads` threads, run one
    after another here in a dry run: priced side by side (`dryrun.shared_by`)."""
    return dryrun.shared_by(workers, threads)


def per_seed_of(seed_list: str):
    """A block run once per seed of the parameter `seed_list` (a list of some of the
    chapter's seeds), not per seed: the dry run's price counts it so
    (`dryrun.per_seed_of`)."""
    return dryrun.per_seed_of(seed_list)


def real_count(pool, data, max_samples: int | None = None) -> float:
    """Samples the real run draws from `pool` (`dryrun.real_count`)."""
    return dryrun.real_count(pool, data, max_samples)


@contextmanager
def per_sample(name: str, pool, data, max_samples: int | None = None, *, model=None,
               options: tuple = ()):
    """Per-sample work over `pool`: yields the pool (in a dry run one chunk of the real
    run's size drawn from it, timed: `dryrun.per_sample_work`; timed once for each `model`
    network and `options` that fix its cost per sample, where `model` is given)."""
    with dryrun.per_sample_work(name, pool, data, max_samples, model=model,
                                options=options) as chosen:
        yield chosen


def _notify(event: str, current: Loop) -> None:
    for subscriber in (*_SUBSCRIBERS, *_default_subscribers()):
        subscriber(event, current)


_WRITERS: dict[str, "FileReporter"] = {}


def _default_subscribers() -> tuple[Subscriber, ...]:
    path = os.environ.get(FILE_ENV)
    if path:
        return (_WRITERS.setdefault(path, FileReporter(path)),)
    if os.environ.get(BARS_ENV, "1") != "0":
        return (BARS,)
    return ()


class FileReporter:
    """JSON lines appended to `path`: at most one report per INTERVAL, except the end of a
    loop whose progress was reported, which always follows; a failed write is dropped."""

    def __init__(self, path: str):
        self.path = path
        self.last = -INTERVAL
        self.reported: set[int] = set()  # loops whose start or steps went out

    def __call__(self, event: str, current: Loop) -> None:
        now = time.perf_counter()
        if event == "end" and id(current) in self.reported:
            self.reported.discard(id(current))
        elif now - self.last < INTERVAL:
            return
        elif event != "end":
            self.reported.add(id(current))
        self.last = now
        line = {"event": event, "loop": current.name, "unit": current.unit,
                "done": current.done, "total": current.total, "depth": current.depth,
                "seconds": round(current.seconds, 3), "pid": os.getpid()}
        try:
            with open(self.path, "a") as file:
                file.write(json.dumps(line) + "\n")
        except (OSError, ValueError):
            pass


class Bars:
    """A tqdm bar per running loop (tqdm.auto: a widget in Jupyter and Colab), shown once
    the loop has run DELAY seconds."""

    DELAY = 1.0

    def __init__(self):
        self.bars: dict[int, object] = {}

    def __call__(self, event: str, current: Loop) -> None:
        if event == "start":
            from tqdm.auto import tqdm

            self.bars[id(current)] = tqdm(total=current.total, desc=current.name,
                                          unit=current.unit, leave=False,
                                          delay=self.DELAY)
        elif event == "step" and id(current) in self.bars:
            bar = self.bars[id(current)]
            bar.update(current.done - bar.n)
        elif event == "end" and id(current) in self.bars:
            self.bars.pop(id(current)).close()


BARS = Bars()
