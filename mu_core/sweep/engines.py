"""Where a sweep's points run: `local` (one after another, in this process tree) or `ray`
(each point a Ray task with its CPU and GPU needs, on a local Ray instance or a cluster).

An engine calls `point.run_point(*task)` for every task and `done(index, outcome)` as each
finishes, in the order they finish.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import ConfigError
from .point import FAILED, run_point

ENGINES = ("local", "ray")
RAY_INSTALL = 'pip install -e ".[sweep]" (or pip install "mu-core[sweep]")'
# What Ray ships to a cluster's workers as their working folder: the project without its
# environment, history and outputs.
RAY_EXCLUDES = [".venv", ".git", "_build", "book/notebooks", "sweeps", "dry-runs",
                "*.ipynb", "__pycache__"]


def run_local(tasks: list[tuple], done) -> None:
    for index, task in enumerate(tasks):
        done(index, run_point(*task))


def import_ray():
    """Ray, or ConfigError naming the install command when the extra is missing."""
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--engine ray needs Ray, an optional extra: {RAY_INSTALL}.") from None
    return ray


def start_ray(root: Path, address: str | None):
    """Join the Ray cluster at `address`, shipping the project to its workers, or start a
    local Ray instance when there is none."""
    ray = import_ray()
    options = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    if address:
        options["runtime_env"] = {"working_dir": str(root), "excludes": RAY_EXCLUDES}
    try:  # "local": a new instance, even where `ray start` left a cluster's address behind
        ray.init(address=address or "local", **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise ConfigError(f"could not start or join {where} ({error}); check --address.") \
            from None
    return ray


def check_resources(ray, cpus: int, gpus: float) -> None:
    """Refuse, before submitting, a point that no node of the cluster could ever run (Ray
    would wait for it forever)."""
    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    if not any(n.get("CPU", 0) >= cpus and n.get("GPU", 0) >= gpus for n in nodes):
        largest = max(((n.get("CPU", 0), n.get("GPU", 0)) for n in nodes), default=(0, 0))
        raise ConfigError(f"no Ray node has {cpus} CPU(s) and {gpus} GPU(s) for one point "
                          f"(the largest has {largest[0]:g} CPUs and {largest[1]:g} GPUs); "
                          "lower --cpus-per-run or --gpus-per-run.")


def cluster_gpus(ray) -> float:
    return ray.cluster_resources().get("GPU", 0)


def run_ray(ray, tasks: list[tuple], done, *, cpus: int, gpus: float,
            on_cluster: bool) -> None:
    """Submit every task at once; Ray places them as CPUs and GPUs free up. On a cluster
    the chapter runs from the working folder Ray shipped (its root is the task's cwd)."""
    remote = ray.remote(_run_on_worker).options(num_cpus=cpus, num_gpus=gpus, max_retries=1)
    pending = {remote.remote(on_cluster, *task): index for index, task in enumerate(tasks)}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(ready[0])
            try:
                outcome = ray.get(ready[0])
            except ray.exceptions.RayError as error:  # the worker or its node was lost
                outcome = {"status": FAILED, "error": f"Ray: {error}".splitlines()[0],
                           "cell": None, "seconds": None, "files": {}}
            done(index, outcome)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


def _run_on_worker(on_cluster: bool, root: str, *task) -> dict:
    return run_point(str(Path.cwd()) if on_cluster else root, *task)
