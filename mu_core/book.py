"""The executable-book pipeline: jupytext source -> papermill run with a preset -> Jupyter Book.

Chapters are the ``notebooks/NN_slug`` entries of ``_toc.yml``; their sources are
``notebooks/NN_slug.py`` (jupytext percent format), their presets
``mu_core/presets/<preset>/NN_slug.yaml`` (`presets`). An executed chapter lands in the book tree at
``book/notebooks/NN_slug.ipynb`` with ``NN_slug.results.json`` and ``figures/`` beside it.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import dryrun, loops, presets
from .yamlrules import read_yaml
from .cache import process_alive
from .errors import (MAX_INTEGER, MAX_MAGNITUDE, MAX_SEED, ConfigError, MuError,
                     check_writable_folder, describe, with_article)

BOOK_DIR = "book"
DRY_DIR = "dry-runs"  # where dry runs go by default: never part of the book


class ChapterFailed(MuError):
    """A chapter raised while executing; the message names the failing cell.

    `bad_input` tells that the chapter refused its parameters (a ConfigError raised by its
    checks) rather than crashing: the command then exits 2, like any other bad input."""

    def __init__(self, message: str, *, bad_input: bool = False, cell: int | None = None):
        super().__init__(message)
        self.bad_input = bad_input
        self.cell = cell  # the index of the cell that raised, when one did


@dataclass(frozen=True)
class ChapterSource:
    slug: str  # NN_slug
    source: Path  # notebooks/NN_slug.py

    def presets(self, root: Path) -> list[str]:
        return presets.available(self.slug, preset_folder(root))

    def title(self) -> str:
        """The chapter's title: the first markdown heading of its source (its slug when it
        has none)."""
        for cell in read_notebook(self.source).cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
        return self.slug


def preset_folder(root: Path) -> Path:
    """The project's presets: ``mu_core/presets`` of the project at `root`, or the
    installed package's where the project has none (a book folder of its own)."""
    folder = root / "mu_core" / "presets"
    return folder if folder.is_dir() else presets.FOLDER


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above `start` (default: cwd) holding _toc.yml and notebooks/."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "_toc.yml").exists() and (folder / "notebooks").is_dir():
            return folder
    raise ConfigError(f"no book project (a folder with _toc.yml and notebooks/) at or above "
                      f"{start}; run mu-book inside the repository or pass --root.")


def chapters(root: Path) -> list[ChapterSource]:
    """Chapters in _toc.yml order: its `notebooks/...` file entries."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = []
    for entry in _toc_files(toc):
        path = Path(entry)
        if path.parts[:1] == ("notebooks",):
            source = root / path.with_suffix(".py")
            if not source.exists():
                raise ConfigError(f"_toc.yml lists {entry} but its source {source} is missing.")
            found.append(ChapterSource(path.stem, source))
    return found


def _toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield str(node["file"])
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def find_chapter(root: Path, name: str) -> ChapterSource:
    """A chapter by slug ('00_foundations'), number ('00') or short name ('foundations')."""
    known = chapters(root)
    for chapter in known:
        number, _, short = chapter.slug.partition("_")
        if name in (chapter.slug, number, short):
            return chapter
    raise ConfigError(f"unknown chapter {name!r}; accepted: "
                      f"{', '.join(c.slug for c in known)}.")


PYTHON_KERNEL = {"name": "python3", "language": "python", "display_name": "Python 3"}


def read_notebook(source: Path):
    """The chapter as a notebook; a source without a jupytext header gets the Python kernel."""
    import jupytext

    notebook = jupytext.read(source)
    notebook.metadata.setdefault("kernelspec", dict(PYTHON_KERNEL))
    return notebook


def notebook_parameters(notebook) -> dict:
    """Names and defaults of the cell tagged `parameters`, which must hold literals only."""
    cells = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ConfigError(f"a chapter needs exactly one cell tagged 'parameters', found "
                          f"{len(cells)}.")
    return literal_assignments(cells[0].source, "the parameters cell")


def literal_assignments(source: str, what: str) -> dict:
    """The `name = literal` lines of a cell's `source` (`what` it is) as a dict."""
    defaults = {}
    try:
        body = ast.parse(source).body
    except SyntaxError as error:
        raise ConfigError(f"{what} is not valid Python ({error.msg}).") from None
    for node in body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            raise ConfigError(f"{what} may hold only `name = literal` lines; "
                              f"found: {ast.unparse(node)}")
        try:
            defaults[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError as error:
            raise ConfigError(f"parameter {node.targets[0].id} must be a literal, got "
                              f"{ast.unparse(node.value)}.") from error
    return defaults


def parse_override(text: str) -> tuple[str, object]:
    """'key=value' with the value read as YAML: 3 -> int, 0.1 and 1e-3 -> float,
    [1, 2] -> list."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"parameters are given as key=value, got {text!r}.")
    key = key.strip()
    return key, read_yaml(value, f"the value of {key} ({value!r})") if value.strip() else ""


def _out_of_bounds(name: str, value) -> str | None:
    """What is wrong with a number that `value` holds anywhere (lists and dicts included):
    a NaN or infinity, a float beyond MAX_MAGNITUDE, an integer beyond MAX_INTEGER, or a
    seed (a name ending in ``seed`` or ``seeds``) outside [0, MAX_SEED]; else None."""
    if isinstance(value, dict):
        return next(filter(None, (_out_of_bounds(str(k), v) for k, v in value.items())), None)
    if isinstance(value, (list, tuple)):
        return next(filter(None, (_out_of_bounds(name, v) for v in value)), None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must hold finite numbers only, got {value!r}"
    if name.endswith(("seed", "seeds")):
        if not isinstance(value, int) or not 0 <= value <= MAX_SEED:
            return f"holds seeds, integers from 0 to {MAX_SEED} (2**32 - 1), got {value!r}"
    elif isinstance(value, int) and abs(value) > MAX_INTEGER:
        return f"must hold integers of at most {MAX_INTEGER:,} in size, got {value}"
    elif isinstance(value, float) and abs(value) > MAX_MAGNITUDE:
        return f"must hold numbers of at most {MAX_MAGNITUDE:g} in size, got {value:g}"
    return None


SET_LIKE = ("seeds", "methods", "classes", "names")  # a list so named holds each value once


def _repeated(name: str, value) -> object | None:
    """A value given twice in a list parameter whose name says it is a set (seeds,
    methods, classes, names), or None."""
    if not (isinstance(value, list) and name.endswith(SET_LIKE)):
        return None
    seen = []
    for item in value:
        if item in seen:
            return item
        seen.append(item)
    return None


def check_parameters(defaults: dict, given: dict, origin: str) -> dict:
    """`given` checked against the defaults' names and types (an int passes as a float),
    every number within its bounds (`_out_of_bounds`) and no set-like list holding a value
    twice."""
    checked = {}
    for name, value in given.items():
        if name not in defaults:
            raise ConfigError(f"unknown parameter {name!r} in {origin}; accepted: "
                              f"{', '.join(defaults)}.")
        problem = _out_of_bounds(name, value)
        if problem:
            raise ConfigError(f"parameter {name} in {origin} {problem}.")
        twice = _repeated(name, value)
        if twice is not None:
            raise ConfigError(f"parameter {name} in {origin} gives {twice!r} twice; each "
                              f"of its values runs once, so list it once.")
        checked[name] = _coerce(name, defaults[name], value, origin)
    return checked


def check_device(device) -> None:
    """Refuse, before the kernel starts, a `device` parameter naming a device this machine
    does not have, by the name given ('cuda:7')."""
    import torch

    if not isinstance(device, str) or device in ("auto", "cpu"):
        return
    accepted = "'auto', 'cpu' or 'cuda[:N]'"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"parameter device must be {accepted}, got {device!r}.") from None
    if parsed.type != "cuda":
        raise ConfigError(f"parameter device must be {accepted}, got {device!r}.")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if (parsed.index or 0) >= count:
        raise ConfigError(f"parameter device is {device!r}, but this machine has {count} CUDA "
                          f"device(s); use 'auto' or 'cpu'"
                          f"{f' or cuda:0 to cuda:{count - 1}' if count else ''}.")


def _coerce(name: str, default, value, origin: str):
    if default is None or value is None:
        return value
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is list and isinstance(value, tuple):
        return list(value)
    if type(value) is not expected:
        raise ConfigError(f"parameter {name} in {origin} must be "
                          f"{with_article(expected.__name__)} like its default {default!r}, got "
                          f"{describe(value)}.")
    return value


def chapter_parameters(root: Path, chapter: ChapterSource, preset: str,
                       overrides: list[str] = ()) -> dict:
    """The preset's parameters plus overrides, all checked before anything runs; a chapter
    with a ``preset`` parameter is also told the preset's name."""
    presets.check_preset(preset, preset_folder(root))
    defaults = notebook_parameters(read_notebook(chapter.source))
    preset_values = presets.values(chapter.slug, preset, preset_folder(root))
    origin = str(presets.path(chapter.slug, preset, preset_folder(root)))
    params = check_parameters(defaults, preset_values, origin)
    given = dict(map(parse_override, overrides))
    if "preset" in given:
        raise ConfigError("the preset is chosen with --preset, not with -p preset=...; "
                          f"accepted: --preset {' | '.join(presets.known(preset_folder(root)))}.")
    params.update(check_parameters(defaults, given, "the command line"))
    if "preset" in defaults:
        params["preset"] = preset
    return params


def output_dir(root: Path) -> Path:
    return root / BOOK_DIR / "notebooks"


def run_chapter(root: Path, chapter: ChapterSource, preset: str = "cpu",
                overrides: list[str] = (), out: Path | None = None, *,
                dry_run: bool = False, progress: bool = False, log: bool = False) -> Path:
    """Execute one chapter with papermill; return its results JSON path.

    The chapter runs in a private folder inside `out`; only a run that finishes publishes
    its notebook, figures and results JSON there (the results last), so a failing, killed
    or concurrent run never removes or overwrites the results of a finished one. Raises
    ChapterFailed naming the cell that failed; that notebook, with the traceback, is kept
    as ``<slug>.failed.ipynb``.

    `dry_run` executes the preset on synthetic data with every budget cut (`dryrun`), with
    a private model cache, into `dry-runs/` by default; its results JSON is marked and
    carries the estimated cost of the real run, and the book never publishes it.

    `progress` shows a bar over the cells, named by the section being run, with the loops
    running inside the cell and an ETA (`progress.Watch`); `log` prints a line per finished
    cell and per finished outermost loop instead, with its seconds.
    """
    import nbformat
    import papermill
    from nbclient.exceptions import DeadKernelError

    params = chapter_parameters(root, chapter, preset, overrides)
    default_out = root / DRY_DIR if dry_run else output_dir(root)
    out = check_writable_folder(Path(out or default_out).resolve(), "the output folder",
                               "pass a writable --out")
    env = {presets.RESOLVED_ENV: preset, "MU_PROGRESS": os.environ.get("MU_PROGRESS", "0")}
    remove_stale_runs(out)
    work = Path(tempfile.mkdtemp(dir=out, prefix=f"{RUNNING}{os.getpid()}-{chapter.slug}-"))
    kernel_files = kernel_folder()
    if progress or log:
        env[loops.FILE_ENV] = str(work / "loops.jsonl")
    if dry_run:
        import torch

        seeds = len(params["seeds"]) if isinstance(params.get("seeds"), list) else 1
        real, params = params, dryrun.dry_parameters(params, cuda=torch.cuda.is_available())
        ratios = dryrun.cut_ratios(real, params)
        env.update({dryrun.ENV: "1", dryrun.LEDGER_ENV: str(work / "ledger.jsonl"),
                    "MU_CACHE_DIR": str(work / "cache")})
    try:
        check_device(params.get("device"))  # after a dry run put the CPU for a missing GPU
        source, executed = work / "source.ipynb", work / f"{chapter.slug}.ipynb"
        nbformat.write(read_notebook(chapter.source), source)
        started = time.perf_counter()
        try:
            with environment(env), quiet_logger("papermill"), \
                    watching(chapter.slug, env, progress) as watch:
                papermill.execute_notebook(str(source), str(executed), parameters=params,
                                           cwd=str(work), kernel_name="python3",
                                           language="python", log_output=False,
                                           config=kernel_config(kernel_files),
                                           shutdown_kernel="immediate",
                                           **progress_options(progress, watch))
        except DeadKernelError:
            raise ChapterFailed(
                f"chapter {chapter.slug}: its kernel died (killed from outside, or out of "
                f"memory: the system log says which); nothing of this run was published."
            ) from None
        except papermill.PapermillExecutionError as error:
            failed = out / f"{chapter.slug}.failed.ipynb"
            report_cache_warnings(chapter.slug, executed)
            os.replace(executed, failed)
            if error.ename in BAD_INPUT_ERRORS:
                raise ChapterFailed(f"chapter {chapter.slug} refused its parameters: "
                                    f"{error.evalue}", bad_input=True,
                                    cell=error.cell_index) from None
            raise ChapterFailed(_failure_message(chapter, failed, error),
                                cell=error.cell_index) from None
        report_cache_warnings(chapter.slug, executed)
        if not (work / f"{chapter.slug}.results.json").exists():
            raise ChapterFailed(f"chapter {chapter.slug} ran but wrote no results JSON; its "
                                "last cell must call chapter.save_results(...).")
        if dry_run:
            _add_estimate(work / f"{chapter.slug}.results.json", work / "ledger.jsonl", seeds,
                          ratios, time.perf_counter() - started)
        notebook = collapse_parameters(nbformat.read(executed, as_version=4))
        nbformat.write(add_preset_note(notebook, preset, dry_run), executed)
        return _publish(work, out, chapter.slug)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(kernel_files, ignore_errors=True)


CACHE_WARNING = "CacheWarning: "  # how a kernel prints `cache.CacheWarning`s


def report_cache_warnings(slug: str, executed: Path) -> None:
    """Repeat in the terminal the model cache's warnings (a damaged entry rebuilt) that
    the chapter's cells printed: they are about the machine, not the chapter."""
    import nbformat

    try:
        cells = nbformat.read(executed, as_version=4).cells
    except (OSError, ValueError):
        return
    for cell in cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines() if \
                    output.get("output_type") == "stream" else []:
                if CACHE_WARNING in line:
                    print(f"mu-book: warning: {slug}: {line.partition(CACHE_WARNING)[2]}",
                          file=sys.stderr)


PARAMETER_TAGS = ("parameters", "injected-parameters")


def collapse_parameters(notebook):
    """Tag the parameters cell and papermill's injected one `hide-input`: the book shows
    each as a toggle, so a chapter's first screen holds its story and results, not its
    settings twice."""
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if any(tag in tags for tag in PARAMETER_TAGS) and "hide-input" not in tags:
            cell.setdefault("metadata", {})["tags"] = [*tags, "hide-input"]
    return notebook


def progress_options(shown: bool, watch=None) -> dict:
    """papermill's options for a bar over the cells named by section (or for none) that
    shows `watch`'s loops (`progress.Watch`)."""
    if watch is None and not shown:
        return {"progress_bar": False}
    from .progress import register_engine

    bar = {"unit": "cell", "leave": False} if shown else False
    return {"progress_bar": bar, "engine_name": register_engine(), "watch": watch}


@contextlib.contextmanager
def watching(slug: str, env: dict, live: bool):
    """A `progress.Watch` over the loop reports the kernel writes where `env` says, or
    None where it writes none."""
    if loops.FILE_ENV not in env:
        yield None
        return
    from .progress import Watch

    with Watch(slug, Path(env[loops.FILE_ENV]), live=live) as watch:
        yield watch


def kernel_config(folder: Path):
    """Kernel-manager settings that put the kernel's connection file (it holds the HMAC key)
    and sockets in `folder`, a private folder removed after the run or, after a kill, by
    the next run. Unix sockets (IPC) instead of TCP: no port is open to other users of the
    machine (and ipykernel has nothing to warn about)."""
    from traitlets.config import Config

    transport = "ipc" if os.name == "posix" else "tcp"
    return Config({"KernelManager": {"transport": transport,
                                     "connection_file": str(folder / "kernel.json")}})


def kernel_folder() -> Path:
    """A private folder for a run's kernel files, its path short enough for Unix sockets
    (at most 107 bytes with the socket's name): in the temp folder, or /tmp when that is
    too deep."""
    base = Path(tempfile.gettempdir())
    if len(str(base)) > 60 and Path("/tmp").is_dir():
        base = Path("/tmp")
    remove_stale_runs(base, KERNEL_FOLDER)
    return Path(tempfile.mkdtemp(dir=base, prefix=f"{KERNEL_FOLDER}{os.getpid()}-"))


def _add_estimate(results: Path, ledger: Path, seeds: int, ratios: dict[str, float],
                  wall_seconds: float) -> None:
    """Store the dry run's cost estimate of the real run (all its `seeds`, every cut budget
    at its `ratios`, and the rest of the run from the dry run's `wall_seconds`) in its
    results JSON."""
    found = json.loads(results.read_text())
    found["dry_run_estimate"] = dryrun.estimate(ledger, seeds, ratios, wall_seconds)
    results.write_text(json.dumps(found, indent=1))


def dry_run_summary(results: Path) -> str:
    """The cost estimate sentence of a dry run's results JSON."""
    return dryrun.describe(json.loads(results.read_text())["dry_run_estimate"])


BAD_INPUT_ERRORS = ("ConfigError", "DatasetUnavailable")  # raised by the chapter's checks
RUNNING = ".running-"  # a run's private folder in the output folder: .running-<pid>-<slug>-*
KERNEL_FOLDER = "mu-book-kernel-"  # a run's kernel files in the temp folder: ...-<pid>-*


def remove_stale_runs(out: Path, prefix: str = RUNNING) -> None:
    """Remove the private folders `prefix<pid>-*` that killed runs left in `out` (their
    process is gone)."""
    for folder in out.glob(f"{prefix}*"):
        pid = folder.name[len(prefix):].partition("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


RUNS = ".runs"  # published runs: RUNS/<slug>.<pid>.<random>/, and the pointer RUNS/<slug>
MANIFEST = "published.json"  # written last into a run folder: what the run publishes


def reader_links(slug: str) -> dict[str, str]:
    """The paths readers and jupyter-book open (relative to the output folder), each a
    symbolic link through the chapter's pointer ``RUNS/<slug>`` into its published run."""
    return {f"{slug}.ipynb": f"{RUNS}/{slug}/{slug}.ipynb",
            f"{slug}.results.json": f"{RUNS}/{slug}/{slug}.results.json",
            f"figures/{slug}": f"../{RUNS}/{slug}/figures/{slug}"}


def _publish(work: Path, out: Path, slug: str) -> Path:
    """Publish a finished run: its notebook, results JSON and figures move from `work`
    into a run folder of their own, whose manifest is written last; then one `os.replace`
    of the symbolic link ``RUNS/<slug>`` points the chapter at it. That swap is the whole
    publication: before it readers see the previous run, after it this one, never a mix.
    The reader links (`reader_links`) never change once made; the previous run folder is
    removed last."""
    runs = out / RUNS
    runs.mkdir(exist_ok=True)
    run = Path(tempfile.mkdtemp(dir=runs, prefix=f"{slug}.{os.getpid()}."))
    (run / "figures").mkdir()
    figures = work / "figures" / slug
    if figures.exists():
        os.replace(figures, run / "figures" / slug)
    else:
        (run / "figures" / slug).mkdir()
    for name in (f"{slug}.ipynb", f"{slug}.results.json"):
        os.replace(work / name, run / name)
    _make_readable(run)
    _write_atomically(run / MANIFEST, json.dumps({"chapter": slug, "files": sorted(
        str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())}))
    _symlink(runs / slug, run.name)  # the publication
    for name, target in reader_links(slug).items():
        _symlink(out / name, target)
    (out / f"{slug}.failed.ipynb").unlink(missing_ok=True)
    remove_superseded_runs(out, slug)
    return out / f"{slug}.results.json"


def _make_readable(folder: Path) -> None:
    """Files and folders with the modes of a plain write (umask applied): a temporary
    folder is private (0700), and the book's files are to be read."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _symlink(path: Path, target: str) -> None:
    """Make `path` a symbolic link to `target` in one step (a new link renamed over the
    old one); a real folder left at `path` (a copy of the book, an older layout) is moved
    aside first."""
    if path.is_symlink() and os.readlink(path) == target:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.link")
    os.symlink(target, tmp)
    try:
        if path.is_dir() and not path.is_symlink():
            aside = path.with_name(f".{path.name}.{os.getpid()}.old")
            os.replace(path, aside)
            shutil.rmtree(aside, ignore_errors=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_superseded_runs(out: Path, slug: str) -> None:
    """Remove the run folders of `slug` that its pointer does not name, once the process
    that made each is gone or is this one (a run still being published by another
    process is left to it)."""
    runs = out / RUNS
    current = os.readlink(runs / slug) if (runs / slug).is_symlink() else None
    for folder in runs.glob(f"{slug}.*"):
        pid = folder.name[len(slug) + 1:].partition(".")[0]
        if folder.name == current or not pid.isdigit() or folder.is_symlink():
            continue
        if int(pid) == os.getpid() or not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def published_files(out: Path, slug: str) -> dict[str, Path]:
    """The files of the published run of `slug` in `out`, by the names readers see
    (``<slug>.ipynb``, ``<slug>.results.json``, ``figures/<slug>/...``); empty when none."""
    run = out / RUNS / slug
    manifest = _manifest(run)
    if manifest is None:
        return {}
    return {name: run / name for name in manifest["files"]}


def _manifest(run: Path) -> dict | None:
    try:
        found = json.loads((run / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and isinstance(found.get("files"), list) else None


def unfinished(out: Path, slug: str) -> str | None:
    """Why the executed chapter `slug` in `out` is not fit to publish, or None: its
    notebook or results JSON is missing, it is half published (a reader link or the run's
    manifest is missing, or the links lead to another run), papermill did not complete
    every cell, or it is a dry run. A book of the older layout (plain files, no pointer)
    is read as before."""
    import nbformat

    notebook, results = out / f"{slug}.ipynb", out / f"{slug}.results.json"
    if not notebook.exists():
        return "has not been executed"
    if not results.exists():
        return "has no results JSON"
    half = _half_published(out, slug)
    if half:
        return f"is half published ({half}); run it again"
    try:
        executed = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError) as error:
        return f"has an unreadable notebook ({error})"
    statuses = [c.get("metadata", {}).get("papermill", {}).get("status")
                for c in executed.cells if c.cell_type == "code"]
    if executed.metadata.get("papermill", {}).get("exception") or \
            any(status != "completed" for status in statuses):
        return "did not finish executing"
    if _is_dry_run(results):
        return "holds a dry run's results (synthetic data, cut budgets)"
    return None


def _half_published(out: Path, slug: str) -> str | None:
    """What is out of place in the published state of `slug`, or None."""
    links = reader_links(slug)
    pointer = out / RUNS / slug
    if not pointer.is_symlink():
        if any((out / name).is_symlink() for name in links):
            return f"its pointer {RUNS}/{slug} is missing"
        return None  # the older layout: plain files
    manifest = _manifest(pointer)
    if manifest is None:
        return f"the run {os.readlink(pointer)} has no manifest"
    missing = [name for name in manifest["files"] if not (pointer / name).is_file()]
    if missing:
        return f"the run {os.readlink(pointer)} lacks {missing[0]}"
    for name, target in links.items():
        if not (out / name).is_symlink() or os.readlink(out / name) != target:
            return f"{name} is not a link to the published run"
    return None


def published_preset(out: Path, slug: str) -> str | None:
    """The preset the published run of `slug` in `out` ran at (its provenance: 'unknown'
    where it names none), or None when `slug` has no readable results JSON there."""
    try:
        document = json.loads((out / f"{slug}.results.json").read_text())
    except (OSError, ValueError):
        return None
    provenance = document.get("provenance") if isinstance(document, dict) else None
    preset = provenance.get("preset") if isinstance(provenance, dict) else None
    return preset if isinstance(preset, str) else "unknown"


def mixed_presets(out: Path, slugs) -> str | None:
    """A sentence naming the presets of a book whose chapters ran at more than one (the
    chapters of the less common ones by name), or None when they share one."""
    by_preset: dict[str, list[str]] = {}
    for slug in slugs:
        preset = published_preset(out, slug)
        if preset is not None:
            by_preset.setdefault(preset, []).append(slug)
    if len(by_preset) < 2:
        return None
    ranked = sorted(by_preset.items(), key=lambda item: -len(item[1]))
    most, rest = ranked[0], ranked[1:]
    return (f"most chapters ran at the {most[0]!r} preset but "
            + "; ".join(f"{', '.join(slugs)} at {preset!r}" for preset, slugs in rest))


PRESET_NOTE_TAG = "mu-book-preset"  # the markdown cell that names a page's preset


def add_preset_note(notebook, preset: str, dry_run: bool = False):
    """Put a short line naming the run's preset right under the page's title (the first
    markdown cell), so a reader sees at which scale the page's numbers were made."""
    import nbformat

    kind = " (a dry run: synthetic data, cut budgets)" if dry_run else ""
    text = (f"*This page was run with the `{preset}` preset{kind}; its parameters and "
            "provenance are at the end of the page.*")
    cells = [c for c in notebook.cells if PRESET_NOTE_TAG not in c.metadata.get("tags", [])]
    note = nbformat.v4.new_markdown_cell(text)
    note.metadata["tags"] = [PRESET_NOTE_TAG]
    first = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), -1)
    cells.insert(first + 1, note)
    notebook.cells = cells
    return notebook


def _is_dry_run(results: Path) -> bool:
    try:
        return bool(json.loads(results.read_text()).get("provenance", {}).get("dry_run"))
    except (OSError, ValueError):
        return False


def _failure_message(chapter: ChapterSource, executed: Path, error) -> str:
    import nbformat

    first_line = ""
    try:  # papermill puts an error banner on top, so find the cell by execution count
        cells = nbformat.read(executed, as_version=4).cells
        cell = next(c for c in cells if c.get("execution_count") == error.exec_count)
        first_line = next((l for l in cell.source.splitlines() if l.strip()), "")
    except (OSError, StopIteration, ValueError):
        pass
    return (f"chapter {chapter.slug} failed in cell {error.cell_index} "
            f"(execution count {error.exec_count}, starting {first_line!r}): "
            f"{error.ename}: {error.evalue.rstrip('.')}; the executed notebook with the "
            f"traceback is {executed}.")


@contextlib.contextmanager
def quiet_logger(name: str):
    """Silence a library's log for a block: papermill logs a dead kernel or a failing cell
    before raising, and `mu-book` says it once, in its own sentence."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


class environment:
    """Set environment variables for the duration of a block (the kernel inherits them)."""

    def __init__(self, values: dict):
        self.values, self.saved = values, {}

    def __enter__(self):
        for key, value in self.values.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def write_verdicts_page(root: Path) -> Path | None:
    """The verdicts page from the executed chapters' results, where _toc.yml lists it."""
    from . import verdicts

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    if verdicts.PAGE not in list(_toc_files(toc)):
        return None
    return verdicts.write_page(root / BOOK_DIR, output_dir(root),
                               [c.slug for c in chapters(root)])


STAGING = ".staging-"  # a build's private output folder in _build/: .staging-<pid>-*


def build_html(root: Path) -> Path:
    """jupyter-book build of the book tree, execution off, warnings as errors, offline
    (the verdicts page written first, from the executed chapters).

    The HTML is built into a private folder and swapped in for ``_build/html`` only when
    the build succeeds: a failing build leaves the previous book as it was."""
    write_verdicts_page(root)
    built = root / "_build"
    built.mkdir(exist_ok=True)
    remove_stale_runs(built, STAGING)
    staging = Path(tempfile.mkdtemp(dir=built, prefix=f"{STAGING}{os.getpid()}-"))
    try:
        _jupyter_book(root, staging, _build_config(root, staging))
        return swap_in(staging / "_build" / "html", built / "html") / "index.html"
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# Never pages of the book: published run folders (the pages are links into them) and the
# private folders of runs in progress.
PRIVATE_PATTERNS = [f"**/{RUNS}", f"**/{RUNS}/**", f"**/{RUNNING}*", f"**/{RUNNING}*/**"]


def _build_config(root: Path, folder: Path) -> Path:
    """The project's _config.yml with `PRIVATE_PATTERNS` added to its exclude_patterns,
    written into `folder` (Sphinx would otherwise read the run folders' notebooks as
    pages outside the table of contents, a warning the build turns into an error)."""
    project = root / "_config.yml"
    config = (yaml.safe_load(project.read_text()) if project.exists() else None) or {}
    excluded = list(config.get("exclude_patterns") or [])
    config["exclude_patterns"] = excluded + [p for p in PRIVATE_PATTERNS if p not in excluded]
    path = folder / "_config.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _jupyter_book(root: Path, output: Path, config: Path) -> None:
    executable = Path(sys.executable).parent / "jupyter-book"
    command = [str(executable) if executable.exists() else shutil.which("jupyter-book") or
               "jupyter-book", "build", str(root / BOOK_DIR), "--config", str(config),
               "--toc", str(root / "_toc.yml"), "--path-output", str(output),
               "--warningiserror", "--keep-going", "--all"]
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-30:])
        raise ChapterFailed(f"jupyter-book build failed (exit {completed.returncode}); the "
                            f"previous HTML book is unchanged:\n{tail}")


def swap_in(new: Path, published: Path) -> Path:
    """Put the folder `new` at `published`: the old one is renamed aside, the new one
    renamed in, then the old one removed (a kill between the two renames leaves the old
    one in ``.<name>-old-<pid>`` beside it). Used for the HTML book and sweep points."""
    aside = published.with_name(f".{published.name}-old-{os.getpid()}")
    shutil.rmtree(aside, ignore_errors=True)
    if published.exists():
        os.replace(published, aside)
    os.replace(new, published)
    shutil.rmtree(aside, ignore_errors=True)
    return published
