"""`mu-book sweep`: a chapter run at every point of a parameter grid, on an engine.

Every point is one papermill run of the chapter into ``sweeps/NAME/<point>/`` (executed
notebook, results JSON, figures, ``log.txt`` and ``point.json``). Every point's parameters
are checked before anything runs; a point already finished with the same parameters is
skipped, an unfinished one is redone, a failing one is recorded and the others go on. The
gathered ``results.csv`` and ``claims.csv`` (`gather`) are rewritten after every point.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .. import book
from ..chapter import REVISION_ENV, git_revision
from ..workers import cores
from ..errors import (ConfigError, check_choice, check_positive_int, check_positive_number,
                      check_writable_folder)
from . import engines, gather
from .grid import Point, parse_grid, points
from .point import FINISHED, finished, store

SWEEP_DIR = "sweeps"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Passed to every point, on every engine: where models, datasets and the memory budget are.
FORWARDED_ENV = ("MU_CACHE_DIR", "MU_CACHE", "MU_DATA_DIR", "MU_MEMORY_BUDGET", "XDG_CACHE_HOME")


@dataclass
class Sweep:
    root: Path
    chapter: book.ChapterSource
    preset: str
    points: list[Point]
    params: list[dict]  # each point's checked parameters
    folder: Path
    engine: str
    address: str | None
    cpus: int
    gpus: float | None

    def task(self, point: Point, env: dict) -> tuple:
        return str(self.root), self.chapter.slug, self.preset, list(point.overrides), env

    def environment(self) -> dict:
        """Each point runs on `cpus` threads on every engine: the thread count changes a
        CPU run's numbers, so a point gives the same numbers wherever it runs."""
        env = {key: os.environ[key] for key in FORWARDED_ENV if key in os.environ}
        threads = str(self.cpus)
        env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, MU_PROGRESS="0")
        env[REVISION_ENV] = git_revision()  # the code every point runs is this checkout's
        return env


def plan(root: Path, chapter_name: str, preset: str, grid_texts: list[str],
         fixed: list[str], *, name: str | None = None, out: str | None = None,
         engine: str = "local",
         address: str | None = None, cpus: int = 1, gpus: float | None = None) -> Sweep:
    """The sweep, with every point's parameters checked (ConfigError before anything runs)."""
    check_choice("engine", engine, engines.ENGINES)
    check_positive_int("--cpus-per-run", cpus)
    if engine == "local" and cpus > cores():
        raise ConfigError(f"--cpus-per-run {cpus} is more than the {cores()} core(s) this "
                          f"machine gives this process; give at most {cores()}.")
    if not grid_texts:
        raise ConfigError("a sweep needs a grid: give at least one -g key=value1,value2 (for "
                          "one run, use mu-book run).")
    if gpus is not None:
        check_positive_number("--gpus-per-run", gpus, allow_zero=True)
    if address and engine != "ray":
        raise ConfigError("--address joins a Ray cluster; give it with --engine ray.")
    if engine == "ray":
        engines.import_ray()  # a missing extra is refused before anything runs
    chapter = book.find_chapter(root, chapter_name)
    name = name or f"{chapter.slug}-{preset}"
    if not _NAME.match(name):
        raise ConfigError(f"a sweep name holds letters, digits, '.', '_' and '-' and starts "
                          f"with a letter or digit, got {name!r}.")
    grid = points(parse_grid(grid_texts), fixed)
    params = []
    for point in grid:
        try:
            params.append(book.chapter_parameters(root, chapter, preset, list(point.overrides)))
        except ConfigError as error:
            raise ConfigError(f"point {point.name}: {error}") from None
    out = check_writable_folder(Path(out or root / SWEEP_DIR).resolve(), "the sweeps folder",
                                "pass a writable --out")
    return Sweep(root, chapter, preset, grid, params, out / name, engine, address, cpus, gpus)


def run(sweep: Sweep) -> dict[str, str]:
    """Run the points that are not finished yet; return each point's status ('finished',
    'skipped' when it was already, or 'failed')."""
    sweep.folder.mkdir(parents=True, exist_ok=True)
    _record(sweep)
    statuses, todo = {}, []
    for point, params in zip(sweep.points, sweep.params):
        if finished(sweep.folder / point.name, sweep.chapter.slug, params):
            statuses[point.name] = "skipped"
        else:
            todo.append(point)
    bar = tqdm(total=len(sweep.points), initial=len(statuses), unit="point",
               desc=f"sweep {sweep.folder.name}", disable=None)

    def done(index: int, outcome: dict) -> None:
        point = todo[index]
        store(sweep.folder / point.name, point, outcome)
        statuses[point.name] = outcome["status"]
        if outcome["status"] != FINISHED:
            tqdm.write(f"point {point.name} failed: {outcome['error']}")
        gather.write(sweep.folder, sweep.chapter.slug, sweep.points)
        bar.update()

    try:
        if todo:
            _execute(sweep, todo, done)
    finally:
        bar.close()
    gather.write(sweep.folder, sweep.chapter.slug, sweep.points)
    return {point.name: statuses.get(point.name, "not run") for point in sweep.points}


def _execute(sweep: Sweep, todo: list[Point], done) -> None:
    env = sweep.environment()
    tasks = [sweep.task(point, env) for point in todo]
    if sweep.engine == "local":
        engines.run_local(tasks, done)
        return
    ray = engines.start_ray(sweep.root, sweep.address)
    try:
        gpus = sweep.gpus if sweep.gpus is not None else min(1, engines.cluster_gpus(ray))
        engines.check_resources(ray, sweep.cpus, gpus)
        engines.run_ray(ray, tasks, done, cpus=sweep.cpus, gpus=gpus,
                        on_cluster=bool(sweep.address))
    finally:
        ray.shutdown()


def _record(sweep: Sweep) -> None:
    """sweeps/NAME/sweep.json: what the latest command asked for."""
    record = {"chapter": sweep.chapter.slug, "preset": sweep.preset, "engine": sweep.engine,
              "cpus_per_run": sweep.cpus, "gpus_per_run": sweep.gpus,
              "points": {p.name: p.values for p in sweep.points}}
    (sweep.folder / "sweep.json").write_text(json.dumps(record, indent=1))


def summary(sweep: Sweep, statuses: dict[str, str]) -> str:
    """What the sweep did, point by point, how robust each claim's verdict was across the
    points, and where the tables are."""
    counts = {s: sum(1 for v in statuses.values() if v == s) for s in dict.fromkeys(statuses.values())}
    lines = [", ".join(f"{n} {s}" for s, n in counts.items()) + f" of {len(statuses)} point(s)"]
    lines += [f"  {name}: {status}" for name, status in statuses.items()]
    robustness = gather.claim_robustness(sweep.folder)
    if not robustness.empty:
        lines += ["claims (points per verdict):", robustness.to_string()]
    lines.append(f"tables: {', '.join(str(sweep.folder / t) for t in gather.TABLES)}")
    return "\n".join(lines)
