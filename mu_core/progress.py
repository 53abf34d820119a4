"""What `mu-book run` and `build` show while chapters execute: a bar per chapter over its
cells, named by the section being run, and a summary table at the end.

papermill's bar says "Executing" for every cell; a papermill engine of our own names each
cell by its section instead (the nearest markdown heading above it), so a long cell says
where in the chapter the run is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    """Register (once) the papermill engine whose bar names each cell's section; its name."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    if ENGINE in papermill_engines._engines:
        return ENGINE

    class SectionManager(NotebookExecutionManager):
        def __init__(self, nb, **kwargs):
            super().__init__(nb, **kwargs)
            self.titles = {id(c): t for c, t in zip(nb.cells, section_titles(nb.cells))}

        def get_cell_description(self, cell, escape_str=None):
            title = self.titles.get(id(cell), "")
            return f"'{title[:48]}'" if title else None

    class SectionEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True,
                             log_output=False, autosave_cell_every=30, **kwargs):
            # papermill's Engine.execute_notebook, with SectionManager as the manager
            manager = SectionManager(nb, output_path=output_path, progress_bar=progress_bar,
                                     log_output=log_output,
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
