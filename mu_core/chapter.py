"""What a chapter notebook needs around its science: parameters, provenance, figures,
claims and the results file.

A chapter writes into its working directory (``mu-book run`` sets it to the book tree):
``<slug>.results.json`` and ``figures/<slug>/<name>.png``. It is created right after the
parameters cell with ``Chapter("NN_slug", globals())``: every plain-data global defined by
then (the parameters cell and papermill's injected values) is recorded as a parameter, so
no parameter is listed twice and none can be left out of the provenance. A chapter's
``preset`` parameter is applied first (`presets.apply`): one value switches its scale.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from . import cache, loops, presets, prose
from .claims import Claim, table
from .errors import ConfigError
from .findings import Findings
from .persample import memory_budget
from .train import resolve_device
from .workers import cores, worker_count

_PLAIN_DATA = (bool, int, float, str, list, dict, tuple, type(None))
_IPYTHON_NAMES = {"In", "Out"}  # the kernel's input and output history


def parameters_in(namespace: dict) -> dict:
    """The parameters in a notebook's namespace: its public plain-data globals (modules,
    functions and IPython's history are not parameters)."""
    return {name: value for name, value in namespace.items()
            if not name.startswith("_") and name not in _IPYTHON_NAMES
            and isinstance(value, _PLAIN_DATA)}


INJECTED = "# Parameters"  # the first line of papermill's injected cell (Python)


def check_injected(namespace: dict) -> None:
    """Refuse what papermill injected (``papermill -p epoch 3``) as `mu-book run -p` does
    (`book.check_parameters`): an unknown name, a value of the wrong type or out of bounds.
    The injected cell is the last in IPython's input history (`In`) that starts with
    papermill's comment, the parameters cell the one run just before it; without one
    (a plain kernel, no `In`, or cells run by hand in another order, so that the cell
    before it is not a parameters cell) there is nothing to check."""
    from .book import check_parameters, literal_assignments

    history = namespace.get("In")
    if not isinstance(history, list):
        return
    injected = [i for i, source in enumerate(history)
                if isinstance(source, str) and source.lstrip().startswith(INJECTED)]
    if not injected or injected[-1] < 2:
        return
    try:
        defaults = literal_assignments(history[injected[-1] - 1], "the parameters cell")
    except ConfigError:
        return
    given = literal_assignments(history[injected[-1]], "papermill's injected cell")
    check_parameters(defaults, given, "the command line")


class Chapter:
    """One run of a chapter: its parameters, device, seeds, figures, claims and results.

    `namespace` is the notebook's `globals()` (or any dict of parameters); the preset it
    names in ``preset`` is applied to it (`presets.apply`) before anything else. The device is
    its `device` parameter and the seeds its `seeds` (or `[seed]`) unless given here.
    """

    def __init__(self, slug: str, namespace: dict, *, device: str | None = None, seeds=None):
        self.slug = slug
        check_injected(namespace)  # papermill by hand: refused as `mu-book run -p` refuses
        presets.apply(slug, namespace)
        self.params = parameters_in(namespace)
        self.preset = self.params.get("preset", os.environ.get(presets.RESOLVED_ENV, "none"))
        # at a reduced-budget preset (paper_lite), every claim and the findings box say so
        self.budget_mark = presets.budget_mark(self.preset)
        self.quoted: set[str] = set()
        self.quote(prose.scalars(self.params))  # the prose may quote any parameter
        for scale in ("paper", presets.LITE):  # and the paper's scale, and its lighter run
            if presets.path(slug, scale).exists():
                self.quote(prose.scalars(presets.values(slug, scale), prefix=f"{scale}_"))
        self.device = resolve_device(device or self.params.get("device", "auto"))
        memory_budget()  # a malformed $MU_MEMORY_BUDGET is refused before any training
        if seeds is None:
            seeds = self.params.get("seeds", [self.params.get("seed", 0)])
        self.seeds = list(seeds)
        self.started = time.time()
        self.models_since = len(cache.used())  # the models this run asks for come after
        self.figures: list[str] = []
        self.claims: list[Claim] = []
        self.directory = Path.cwd()

    def quote(self, values: dict) -> None:
        """Glue `values` (a study's `quoted()`) for the prose to paste (`prose.quote`). A name
        glued twice is refused: the book build fails on it, and the prose could not say
        which of the two values it meant."""
        twice = sorted(self.quoted & set(values))
        if twice:
            raise ConfigError(f"{self.slug} glues {', '.join(twice)} twice (a parameter, its "
                              f"paper_ value, or a study's quoted()); give each value its own name.")
        self.quoted |= set(values)
        prose.quote(values)

    def add_claims(self, claims) -> pd.DataFrame:
        """Record checked claims (`claims.Claim`s from a study's claim rules); returns the
        table of every claim recorded so far, for display."""
        for claim in claims:
            if not isinstance(claim, Claim):
                raise ConfigError(f"add_claims takes claims.Claim objects, got "
                                  f"{type(claim).__name__}.")
            if any(claim.id == known.id for known in self.claims):
                raise ConfigError(f"claim id {claim.id!r} is recorded twice in {self.slug}.")
            self.claims.append(self.marked(claim))
        return table(self.claims)

    def marked(self, claim: Claim) -> Claim:
        """The claim with what it measured (`here`) opening with the preset's reduced-budget
        mark (`presets.budget_mark`: a paper_lite preset), or as it is at any other preset."""
        if self.budget_mark is None or claim.here.startswith(self.budget_mark):
            return claim
        return replace(claim, here=f"{self.budget_mark}: {claim.here}")

    def findings(self, claims=(), *, key=None, numbers: dict | None = None) -> Findings:
        """The box "What this chapter found" (`findings.Findings`), for the cell right after
        the study runs: `claims` (the study's `claims(results)`; the claims section records
        them with `add_claims`), the ids of the `key` claims to show, or the headline
        `numbers` of a chapter without claims."""
        return Findings(self.slug, [self.marked(c) if isinstance(c, Claim) else c
                                    for c in claims], key=key, numbers=numbers,
                        budget=self.budget_mark)

    def savefig(self, fig, name: str):
        """Save `fig` as figures/<slug>/<name>.png and return it (so the cell displays it).

        The figure is closed, so the inline backend does not show it a second time at the
        end of the cell; the returned figure still displays."""
        path = self.directory / "figures" / self.slug / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=130, bbox_inches="tight")
        self.figures.append(str(path.relative_to(self.directory)))
        plt.close(fig)
        return fig

    def provenance(self) -> dict:
        from . import __version__

        return {
            "mu_core": __version__,
            "git": git_revision(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "device": device_name(self.device),
            "seeds": self.seeds,
            "preset": self.preset,
            "dry_run": loops.dry(),
            "models": models_sentence(cache.used(self.models_since)),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "seconds": round(time.time() - self.started, 2),
        }

    def save_results(self, results: dict, headline=None) -> Path:
        """Write <slug>.results.json (atomically): parameters, provenance, figures, results,
        with the recorded claims as ``results["claims"]``, and the chapter's `headline`
        numbers (a {name: number} dict, or the study's function of the results that gives
        one): what a sweep gathers for every point."""
        if "claims" in results:
            raise ConfigError("record claims with chapter.add_claims, not in the results.")
        numbers = headline_numbers(headline(results) if callable(headline) else headline or {})
        results = {**results, "claims": [asdict(c) for c in self.claims]}
        provenance = {**self.provenance(), "model_entries": cache.used(self.models_since)}
        document = {"chapter": self.slug, "params": self.params,
                    "provenance": provenance, "figures": self.figures,
                    "headline": numbers, "results": results}
        path = self.directory / f"{self.slug}.results.json"
        text = json.dumps(jsonable(document), indent=2, allow_nan=False)
        handle, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # readable like the notebook, not mkstemp's 0600
        os.replace(tmp, path)
        return path


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def models_sentence(entries: list[dict]) -> str:
    """Which of the models a run asked for it built and which came from the cache, and how
    those were made (threads, process, device, mu_core version): a cached model made with
    another thread count agrees with one built here only up to float rounding."""
    if not entries:
        return "none asked of the model cache"
    groups: dict[str, int] = {}
    for entry in entries:
        where = "from the cache" if entry["cached"] else "built in this run"
        group = f"{where}, {_maker_text(entry.get('made_by'))}"
        groups[group] = groups.get(group, 0) + 1
    return "; ".join(f"{count} {group}" for group, count in groups.items())


def _maker_text(made_by: dict | None) -> str:
    if not made_by:
        return "made by an older mu_core that did not record how"
    threads = made_by.get("threads")
    return (f"made with {threads} thread{'s' if threads != 1 else ''} in a "
            f"{made_by.get('process')} process on {made_by.get('device')} by mu_core "
            f"{made_by.get('mu_core')}")


def headline_numbers(numbers) -> dict[str, float | None]:
    """`numbers` checked: a dict of names to numbers (NaN, e.g. a metric without a value at
    this setting, becomes None)."""
    if not isinstance(numbers, dict):
        raise ConfigError(f"a chapter's headline is a dict of name -> number, got "
                          f"{type(numbers).__name__}.")
    checked = {}
    for name, value in numbers.items():
        if isinstance(value, (torch.Tensor, np.generic)):
            value = value.item()
        if not isinstance(name, str) or isinstance(value, bool) or \
                not isinstance(value, (int, float, type(None))):
            raise ConfigError(f"a chapter's headline maps names to numbers, got "
                              f"{name!r}: {type(value).__name__}.")
        checked[name] = None if value is None or not math.isfinite(value) else value
    return checked


def jsonable(value):
    """Tensors and arrays to lists, NaN to None, tuples to lists, recursively."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


REVISION_ENV = "MU_GIT_REVISION"  # set by a sweep for workers that run a copy of the code


def git_revision() -> str:
    """The git revision of the mu_core checkout (with '+dirty'), or 'unknown' outside one;
    $MU_GIT_REVISION when set (a Ray worker runs the driver's code from a copy without git)."""
    if os.environ.get(REVISION_ENV):
        return os.environ[REVISION_ENV]
    here = Path(__file__).resolve().parent
    try:
        revision = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here,
                                  capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return revision + ("+dirty" if dirty.strip() else "")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    workers = worker_count(cores(), device)  # independent pieces run in this many processes
    threads = max(1, cores() // workers)
    pieces = (f"; independent pieces in up to {workers} worker processes of {threads} "
              f"thread{'s' if threads > 1 else ''} each" if workers > 1 else "")
    return (f"cpu: {platform.processor() or platform.machine()}, "
            f"{torch.get_num_threads()} threads{pieces}")
