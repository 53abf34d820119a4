"""One point of a sweep: run where an engine puts it, stored where the driver keeps it.

`run_point` is what an engine executes (in this process or on a Ray worker): the chapter
runs in a private temporary folder and the point's files come back as bytes, so a worker
needs no filesystem shared with the driver. `store` writes them into the point's folder,
`point.json` (its status) last; `finished` tells whether a folder already holds a complete
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
LOG = "log.txt"
FINISHED, FAILED = "finished", "failed"


def run_point(root: str, slug: str, preset: str, overrides: list[str], env: dict) -> dict:
    """Run chapter `slug` with `preset` and `overrides` under the environment `env`; return
    its outcome: status, error, the failing cell, seconds and files (name -> bytes)."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mu-sweep-point-") as folder, \
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
        outcome["files"] = {str(path.relative_to(folder)): path.read_bytes()
                            for path in sorted(Path(folder).rglob("*")) if path.is_file()}
    return outcome


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
    """Write `outcome`'s files into `folder` (replacing what an unfinished run left there),
    with `point.json` holding the point's values, status, error and seconds."""
    incoming = folder.with_name(f".{folder.name}.incoming-{os.getpid()}")
    shutil.rmtree(incoming, ignore_errors=True)
    for name, content in outcome["files"].items():
        target = incoming / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    status = {key: outcome[key] for key in ("status", "error", "cell", "seconds")}
    status.update(point=point.name, values=point.values, overrides=list(point.overrides))
    (incoming / STATUS).write_text(json.dumps(status, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(incoming, folder)


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
