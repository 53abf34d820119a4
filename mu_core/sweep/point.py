"""One point of a sweep: run where an engine puts it, stored where the driver keeps it.

`run_point` is what an engine executes (in this process or on a Ray worker): the chapter
runs in a private temporary folder and the point's files come back as bytes, so a worker
needs no filesystem shared with the driver. `store` writes them into the point's folder,
`point.json` (its status) last (a failed rerun of a finished point keeps that run in
``previous-finished/``); `finished` tells whether a folder already holds a complete
run of the same parameters, so a rerun skips it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from .. import book

STATUS = "point.json"
PREVIOUS = "previous-finished"  # a failed rerun keeps the point's finished run here
TEMP_PREFIX = "mu-sweep-point-"  # a point's run folder in the temp folder: ...-<pid>-*
LOG = "log.txt"
FINISHED, FAILED = "finished", "failed"


def run_point(root: str, slug: str, preset: str, overrides: list[str], env: dict) -> dict:
    """Run chapter `slug` with `preset` and `overrides` under the environment `env`; return
    its outcome: status, error, the failing cell, seconds and files (name -> bytes)."""
    start = time.perf_counter()
    base = Path(tempfile.gettempdir())
    book.remove_stale_runs(base, TEMP_PREFIX)  # what SIGKILLed points left behind
    with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=base) as folder, \
            book.environment(env):
        outcome = {"status": FINISHED, "error": None, "cell": None}
        try:
            chapter = book.find_chapter(Path(root), slug)
            book.run_chapter(Path(root), chapter, preset, list(overrides), Path(folder))
        except book.ChapterFailed as failure:
            outcome.update(status=FAILED, error=str(failure).replace(folder, "."),
                           cell=failure.cell)
        except Exception as error:  # the point is recorded as failed; the others go on
            outcome.update(status=FAILED, error=f"{type(error).__name__}: {error}")
        outcome["seconds"] = round(time.perf_counter() - start, 2)
        (Path(folder) / LOG).write_text(log_text(Path(folder), slug, outcome))
        outcome["files"] = {name: path.read_bytes()
                            for name, path in point_files(Path(folder), slug).items()}
    return outcome


def point_files(folder: Path, slug: str) -> dict[str, Path]:
    """What a point keeps of its run in `folder`: the published run's files by the names
    readers see, the failed notebook and the log."""
    files = book.published_files(folder, slug)
    for name in (f"{slug}.failed.ipynb", LOG):
        if (folder / name).is_file():
            files[name] = folder / name
    return dict(sorted(files.items()))


def log_text(folder: Path, slug: str, outcome: dict) -> str:
    """The point's log: its status, then what each cell printed (streams and errors) in the
    executed notebook, or in the failed one."""
    import nbformat

    lines = [f"status: {outcome['status']} in {outcome['seconds']} s"]
    if outcome["error"]:
        lines.append(f"error: {outcome['error']}")
    for name in (f"{slug}.ipynb", f"{slug}.failed.ipynb"):
        if (folder / name).exists():
            lines += _cell_outputs(nbformat.read(folder / name, as_version=4))
    return "\n".join(lines) + "\n"


ERROR_BANNER = "papermill-error-cell-tag"  # the cell papermill puts on top of a failed run


def _cell_outputs(notebook) -> list[str]:
    """Each cell's streams and errors, numbered as papermill numbers the cells (its error
    banner not counted)."""
    lines = []
    cells = [c for c in notebook.cells if ERROR_BANNER not in c.get("metadata", {}).get("tags", [])]
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                lines.append(f"[cell {index} {output['name']}] {output['text'].rstrip()}")
            elif output.get("output_type") == "error":
                lines.append(f"[cell {index} error] {output['ename']}: {output['evalue']}")
    return lines


def store(folder: Path, point, outcome: dict) -> None:
    """Write `outcome`'s files into `folder`, with `point.json` holding the point's values,
    status, error and seconds. A finished run replaces the folder as a whole; a failed one
    keeps the files of a finished run the folder holds (its notebook, results and figures)
    and adds its failed notebook and log beside them."""
    incoming = folder.with_name(f".{folder.name}.incoming-{os.getpid()}")
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    if outcome["status"] != FINISHED:
        _keep_finished(folder, incoming / PREVIOUS)
    for name, content in outcome["files"].items():
        target = incoming / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    status = {key: outcome[key] for key in ("status", "error", "cell", "seconds")}
    status.update(point=point.name, values=point.values, overrides=list(point.overrides))
    (incoming / STATUS).write_text(json.dumps(status, indent=1))
    book.swap_in(incoming, folder)


def _keep_finished(folder: Path, kept: Path) -> None:
    """Copy to `kept` the files of the finished run that `folder` holds (a results JSON
    beside its notebook and figures), or the finished run it kept before (a second failure
    in a row); nothing when it holds neither."""
    if (folder / PREVIOUS).is_dir():
        shutil.copytree(folder / PREVIOUS, kept)
    elif any(folder.glob("*.results.json")):
        shutil.copytree(folder, kept, ignore=shutil.ignore_patterns(
            STATUS, LOG, "*.failed.ipynb"))


def read_json(path: Path) -> dict | None:
    """The JSON object in `path`, or None when it is missing, cut short or not an object."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def results_of(folder: Path, slug: str) -> dict | None:
    return read_json(folder / f"{slug}.results.json")


def finished(folder: Path, slug: str, params: dict) -> bool:
    """Whether `folder` holds a complete results JSON of chapter `slug` run with `params`
    (a half-written, failed or differently parametrised run is redone)."""
    document = results_of(folder, slug)
    if document is None:
        return False
    recorded = document.get("params", {})
    return (document.get("chapter") == slug and "results" in document
            and not document.get("provenance", {}).get("dry_run")
            and all(_same(recorded.get(key), value) for key, value in params.items()))


def _same(recorded, planned) -> bool:
    """Equal once both have been through JSON (tuples become lists)."""
    return json.loads(json.dumps(recorded)) == json.loads(json.dumps(planned))


def status_of(folder: Path) -> dict | None:
    return read_json(folder / STATUS)
