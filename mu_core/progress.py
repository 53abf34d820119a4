"""What `mu-book run` and `build` show while chapters execute: a line per chapter over its
cells, named by the section being run, with the loop running inside the cell, and a
summary table at the end.

papermill's bar says "Executing" for every cell; a papermill engine of our own names each
cell by its section instead (the nearest markdown heading above it), so a long cell says
where in the chapter the run is. The kernel's long loops report to a file (`loops`) that
a `Watch` tails: on a terminal the bar's line shows the running loops and an ETA; in a log
(not a terminal) a line is printed per finished cell and per finished outermost loop, with
its seconds, and nothing is redrawn.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

ENGINE = "mu-book-sections"
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)


def section_titles(cells) -> list[str]:
    """For each cell, the title of the section it belongs to: the last markdown heading at
    or above it ('' before the first)."""
    titles, current = [], ""
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            headings = _HEADING.findall(cell.get("source", ""))
            current = headings[-1] if headings else current
        titles.append(current)
    return titles


def register_engine() -> str:
    """Register (once) the papermill engine whose bar names each cell's section and shows
    a `Watch`'s loops (passed to papermill as `watch=`); its name."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    if ENGINE in papermill_engines._engines:
        return ENGINE

    class SectionManager(NotebookExecutionManager):
        def __init__(self, nb, watch: "Watch | None" = None, **kwargs):
            super().__init__(nb, **kwargs)
            self.titles = {id(c): t for c, t in zip(nb.cells, section_titles(nb.cells))}
            self.watch = watch
            if watch is not None:
                watch.on_change = self.show_loops

        def get_cell_description(self, cell, escape_str=None):
            title = self.titles.get(id(cell), "")
            return f"'{title[:48]}'" if title else None

        def cell_start(self, cell, cell_index=None, **kwargs):
            if self.watch is not None:
                self.watch.section = self.titles.get(id(cell), "")
            super().cell_start(cell, cell_index, **kwargs)

        def cell_complete(self, cell, cell_index=None, **kwargs):
            super().cell_complete(cell, cell_index, **kwargs)
            if self.watch is not None and cell.get("cell_type") == "code":
                self.watch.cell_done(cell_index, len(self.nb.cells),
                                     cell.metadata.papermill.get("duration") or 0.0)

        def show_loops(self, status: str) -> None:
            if getattr(self, "pbar", None):
                self.pbar.set_postfix_str(status)

    class SectionEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True,
                             log_output=False, autosave_cell_every=30, watch=None, **kwargs):
            # papermill's Engine.execute_notebook, with SectionManager as the manager
            manager = SectionManager(nb, watch, output_path=output_path,
                                     progress_bar=progress_bar, log_output=log_output,
                                     autosave_cell_every=autosave_cell_every)
            manager.notebook_start()
            try:
                cls.execute_managed_notebook(manager, kernel_name, log_output=log_output,
                                             **kwargs)
            finally:
                manager.cleanup_pbar()
                manager.notebook_complete()
            return manager.nb

    papermill_engines.register(ENGINE, SectionEngine)
    return ENGINE


class Watch:
    """The `mu-book` side of one chapter run: a thread tails the loop reports its kernel
    appends to `path` (`loops.FILE_ENV`) and keeps the loops running now. `live` (a
    terminal): each change is handed to `on_change` (the bar's line) as `status()`; else
    (a log) `write` gets a line per finished cell (`cell_done`) and per finished outermost
    loop, with its seconds. Loops are told apart by depth within their process (a study's
    pieces may run in worker processes, `workers`)."""

    POLL = 0.5  # seconds between reads of the file

    def __init__(self, slug: str, path: Path, *, live: bool, write=None):
        self.slug, self.path, self.live = slug, Path(path), live
        self.write = write or (lambda line: print(line, flush=True))
        self.on_change = None
        self.section = ""
        self.running: dict[tuple, dict] = {}  # (depth, pid) -> the loop's last report
        self._offset, self._partial = 0, ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tail, daemon=True)

    def __enter__(self) -> "Watch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.read()

    def _tail(self) -> None:
        while not self._stop.wait(self.POLL):
            self.read()

    def read(self) -> None:
        """Take in the lines appended since the last read (a partial last line waits)."""
        try:
            with open(self.path) as file:
                file.seek(self._offset)
                text = file.read()
                self._offset = file.tell()
        except OSError:
            return
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self.feed(line)

    def feed(self, line: str) -> None:
        """One report line of the kernel's (`loops.FileReporter`); a bad line is skipped."""
        try:
            report = json.loads(line)
            depth, event, pid = int(report["depth"]), report["event"], report.get("pid")
            report["done"], report["seconds"] = int(report["done"]), float(report["seconds"])
            report["total"] = None if report["total"] is None else int(report["total"])
            report["loop"], report["unit"] = str(report["loop"]), str(report["unit"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        self.running = {(d, p): r for (d, p), r in self.running.items()
                        if p != pid or d < depth}
        if event != "end":
            self.running[depth, pid] = report
        elif depth == 0 and not self.live:
            self.write(f"  {self.slug}: {self._where()}{report['loop']}: "
                       f"{_count(report)}{report['seconds']:.1f} s")
        if self.live and self.on_change is not None:
            self.on_change(self.status())

    def status(self) -> str:
        """The running loops, outermost first, the innermost with its ETA."""
        if not self.running:
            return ""
        order = sorted(self.running, key=lambda key: (key[0], str(key[1])))
        loops = [self.running[key] for key in order]
        last = loops[-1]
        left = eta(last["done"], last["total"], last["seconds"])
        parts = [_progress(report) for report in loops]
        parts[-1] += f" {last['unit']}" + (f", ETA {clock(left)}" if left is not None else "")
        return " > ".join(parts)

    def cell_done(self, index: int, cells: int, seconds: float) -> None:
        if not self.live:
            self.write(f"  {self.slug}: cell {index + 1}/{cells} {self._where()}"
                       f"{seconds:.1f} s")

    def _where(self) -> str:
        return f"'{self.section[:48]}' " if self.section else ""


def _progress(report: dict) -> str:
    """'train 3/8', or 'train 3' without a total."""
    total = f"/{report['total']}" if report["total"] is not None else ""
    return f"{report['loop']} {report['done']}{total}"


def _count(report: dict) -> str:
    """'8 epochs in ', or nothing for a loop that counts no steps."""
    done, unit = report["done"], report["unit"]
    return f"{done} {unit}{'' if done == 1 else 's'} in " if done else ""


def eta(done: int, total: int | None, seconds: float) -> float | None:
    """Seconds left at the pace so far, or None before the first step or without a total."""
    if not done or total is None:
        return None
    return seconds * max(0, total - done) / done


def clock(seconds: float) -> str:
    """m:ss, or h:mm:ss from an hour."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class Outcome:
    chapter: str
    preset: str
    seconds: float
    status: str  # finished, failed, refused
    results: str  # the results JSON, or what went wrong


def summary_table(outcomes: list[Outcome]) -> str:
    """The chapters run, as an aligned text table."""
    rows = [("chapter", "preset", "seconds", "status", "results")]
    rows += [(o.chapter, o.preset, f"{o.seconds:.1f}", o.status, o.results) for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[4]])
                     .rstrip() for row in rows)
