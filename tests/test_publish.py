"""Publishing a chapter and building the book: what readers see is always one whole run,
and a failing build leaves the previous book as it was (issue 36, items 1 and 3).

Kills are real (a forked process that sends itself SIGKILL right after its k-th rename),
races are made likely by slowing every rename down."""

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from mu_core import book

SLUG = "01_demo"


def _work(folder: Path, run: str) -> Path:
    """A finished run's private folder, as `run_chapter` leaves it before publishing: a
    completed notebook, its results JSON and a figure, each marked with `run`."""
    folder.mkdir(parents=True)
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["papermill"] = {"status": "completed"}
    notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"run": run,
                                                                "papermill": {}})
    nbformat.write(notebook, folder / f"{SLUG}.ipynb")
    (folder / f"{SLUG}.results.json").write_text(json.dumps(
        {"chapter": SLUG, "run": run, "provenance": {}, "results": {}}))
    (folder / "figures" / SLUG).mkdir(parents=True)
    (folder / "figures" / SLUG / "fig.png").write_text(run)
    return folder


def _seen(out: Path) -> dict:
    """Which run each path a reader opens belongs to."""
    notebook = nbformat.read(out / f"{SLUG}.ipynb", as_version=4)
    figures = sorted((out / "figures" / SLUG).glob("*"))
    return {"notebook": notebook.metadata["run"],
            "results": json.loads((out / f"{SLUG}.results.json").read_text())["run"],
            "figures": [p.read_text() for p in figures]}


def _publish_in_child(work: Path, out: Path, *, kill_after: int | None = None,
                      slow: float = 0.0) -> int:
    """Publish `work` into `out` in a forked process; it kills itself (SIGKILL) right after
    its `kill_after`-th rename, and sleeps `slow` seconds before each rename. Returns its
    exit status as os.waitstatus_to_exitcode gives it."""
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            real_replace, renames = os.replace, [0]

            def replace(*args, **kwargs):
                time.sleep(slow)
                real_replace(*args, **kwargs)
                renames[0] += 1
                if renames[0] == kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)

            os.replace = replace
            book._publish(work, out, SLUG)
            os._exit(0)
        except BaseException as error:  # noqa: BLE001 (reported by the exit status)
            print(f"publish failed: {type(error).__name__}: {error}", flush=True)
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _renames_of_a_publish(tmp_path: Path) -> int:
    """How many renames a second publication makes (so every step can be killed)."""
    out = tmp_path / "count"
    out.mkdir()
    book._publish(_work(tmp_path / "count-a", "a"), out, SLUG)
    count, real = [0], os.replace

    def counting(*args, **kwargs):
        count[0] += 1
        real(*args, **kwargs)

    os.replace = counting
    try:
        book._publish(_work(tmp_path / "count-b", "b"), out, SLUG)
    finally:
        os.replace = real
    return count[0]


def test_a_kill_after_any_rename_of_a_publication_leaves_one_whole_run(tmp_path):
    """Killed after its k-th rename, for every k: the book shows the old run or the new one,
    whole (notebook, results and figures of the same run), and says it is finished; or it
    says the chapter is not finished. The next publication then succeeds."""
    for k in range(1, _renames_of_a_publish(tmp_path) + 1):
        out = tmp_path / f"out{k}"
        out.mkdir()
        book._publish(_work(tmp_path / f"old{k}", "old"), out, SLUG)
        assert _publish_in_child(_work(tmp_path / f"new{k}", "new"), out, kill_after=k) == \
            -signal.SIGKILL
        why = book.unfinished(out, SLUG)
        if why is None:
            seen = _seen(out)
            assert seen["notebook"] == seen["results"] and \
                seen["figures"] == [seen["notebook"]], f"killed after rename {k}: {seen}"
        book._publish(_work(tmp_path / f"next{k}", "next"), out, SLUG)
        assert book.unfinished(out, SLUG) is None
        assert _seen(out) == {"notebook": "next", "results": "next", "figures": ["next"]}


def test_two_publications_at_once_both_succeed_and_leave_one_whole_run(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    book._publish(_work(tmp_path / "first", "first"), out, SLUG)
    for attempt in range(3):
        works = [_work(tmp_path / f"w{attempt}-{n}", f"run{n}") for n in range(2)]
        pids = []
        for work in works:
            pid = os.fork()
            if pid == 0:
                os._exit(_publish_in_child(work, out, slow=0.05))
            pids.append(pid)
        statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
        assert statuses == [0, 0]
        assert book.unfinished(out, SLUG) is None
        seen = _seen(out)
        assert seen["notebook"] == seen["results"] in ("run0", "run1")
        assert seen["figures"] == [seen["notebook"]]


def test_a_half_published_chapter_is_not_called_finished(tmp_path):
    """The reader links lead to a run whose manifest is gone, or one reader link was
    replaced by a file of another run: the build refuses it."""
    out = tmp_path / "out"
    out.mkdir()
    book._publish(_work(tmp_path / "a", "a"), out, SLUG)
    results = out / f"{SLUG}.results.json"
    other = json.loads(results.read_text())
    results.unlink()
    results.write_text(json.dumps({**other, "run": "another"}))
    assert "half published" in book.unfinished(out, SLUG)


def test_published_results_are_readable_like_the_notebook(tmp_path, monkeypatch):
    from mu_core.chapter import Chapter

    monkeypatch.chdir(tmp_path)
    chapter = Chapter(SLUG, {"seed": 0})
    path = chapter.save_results({"x": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


# --- building the HTML --------------------------------------------------------------------

def _fake_jupyter_book(returncode: int):
    """A stand-in for `jupyter-book build` that writes a new index.html where it is told
    to (--path-output) and exits with `returncode`."""
    def run(command, **kwargs):
        output = Path(command[command.index("--path-output") + 1])
        html = output / "_build" / "html"
        html.mkdir(parents=True, exist_ok=True)
        (html / "index.html").write_text("new")
        return subprocess.CompletedProcess(command, returncode, "", "a broken citation")
    return run


def test_a_failing_build_leaves_the_previous_html_book_as_it_was(project, monkeypatch):
    html = project / "_build" / "html"
    html.mkdir(parents=True)
    (html / "index.html").write_text("old")
    monkeypatch.setattr(book.subprocess, "run", _fake_jupyter_book(1))
    with pytest.raises(book.ChapterFailed) as failure:
        book.build_html(project)
    assert (html / "index.html").read_text() == "old"
    assert "the previous HTML book is unchanged" in str(failure.value)
    assert sorted(p.name for p in (project / "_build").iterdir()) == ["html"]


def test_a_successful_build_replaces_the_html_book(project, monkeypatch):
    html = project / "_build" / "html"
    html.mkdir(parents=True)
    (html / "stale.html").write_text("old")
    monkeypatch.setattr(book.subprocess, "run", _fake_jupyter_book(0))
    assert book.build_html(project) == html / "index.html"
    assert sorted(p.name for p in html.iterdir()) == ["index.html"]
    assert sorted(p.name for p in (project / "_build").iterdir()) == ["html"]


# --- runs at another preset (issue 35, item 2) ---------------------------------------------

def _results(out: Path, slug: str, preset: str | None) -> None:
    provenance = {} if preset is None else {"preset": preset}
    (out / f"{slug}.results.json").write_text(json.dumps({"provenance": provenance}))


def test_a_book_of_mixed_presets_is_named_chapter_by_chapter(tmp_path):
    for slug, preset in (("a", "cpu"), ("b", "cpu"), ("c", "smoke")):
        _results(tmp_path, slug, preset)
    assert book.mixed_presets(tmp_path, ["a", "b"]) is None
    assert book.mixed_presets(tmp_path, ["a", "b", "c", "never_run"]) == (
        "most chapters ran at the 'cpu' preset but c at 'smoke'")


def test_a_quick_run_at_another_preset_does_not_enter_the_book_silently(project, capsys):
    """Chapter 00 run at `smoke` beside a chapter of the `cpu` preset: the run says so, the
    build refuses the book unless told, and the page names its preset under its title."""
    from mu_core.cli import main

    toc = project / "_toc.yml"
    toc.write_text(toc.read_text().rstrip() + "\n      - file: notebooks/01_demo\n")
    (project / "notebooks" / "01_demo.py").write_text("# %% [markdown]\n# # Other\n")
    out = book.output_dir(project)
    out.mkdir(parents=True)
    work = _work(out / ".work", "cpu run")
    (work / f"{SLUG}.results.json").write_text(json.dumps(
        {"chapter": SLUG, "run": "cpu run", "provenance": {"preset": "cpu"}, "results": {}}))
    book._publish(work, out, SLUG)
    assert main(["--root", str(project), "run", "00", "--preset", "smoke"]) == 0
    assert "mu-book: note: the book now holds chapters of different presets" in \
        capsys.readouterr().err
    notebook = nbformat.read(out / "00_demo.ipynb", as_version=4)
    assert "run with the `smoke` preset" in notebook.cells[1].source
    assert notebook.cells[0].source.startswith("# A demo chapter")
    assert main(["--root", str(project), "build", "--no-run"]) == 2
    error = capsys.readouterr().err
    assert "ran at different presets" in error and "--mixed-presets" in error
