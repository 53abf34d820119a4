import json
from pathlib import Path

import pytest

from mu_core import book
from mu_core.cli import main
from mu_core.errors import ConfigError

from demo_project import DEMO


def _run(project, *args):
    return main(["--root", str(project), *args])


def _leftovers(out: Path) -> list[str]:
    """What runs left in `out` besides the published chapters: private folders, and run
    folders that no chapter's pointer names."""
    import os

    hidden = [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != book.RUNS]
    runs = out / book.RUNS
    pointers = [p for p in runs.iterdir() if p.is_symlink()] if runs.exists() else []
    published = {p.name for p in pointers} | {os.readlink(p) for p in pointers}
    return hidden + [p.name for p in (runs.iterdir() if runs.exists() else [])
                     if p.name not in published]


def test_list_shows_chapters_and_presets(project, capsys):
    assert _run(project, "list") == 0
    assert capsys.readouterr().out == ("00_demo  A demo chapter\n"
                                       "    presets: smoke; published run: not run\n")


def test_list_shows_the_published_runs_preset_and_verdicts(project, capsys):
    assert _run(project, "run", "demo", "--preset", "smoke") == 0
    capsys.readouterr()
    assert _run(project, "list") == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        "    presets: smoke; published run: smoke preset, 1 held, 0 did not hold, "
        "0 inconclusive, 0 not testable here")


def test_a_reader_that_leaves_early_stops_mu_book_quietly(project):
    # `mu-book list | head -0`: the pipe is closed before mu-book writes anything
    import signal
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "mu_core.cli", "--root", str(project),
                                "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=project / "notebooks")
    process.stdout.close()
    error = process.stderr.read().decode()
    assert process.wait() == 128 + signal.SIGPIPE and error == ""


def test_run_executes_with_preset_and_overrides_and_writes_results(project, tmp_path):
    out = tmp_path / "out"
    assert _run(project, "run", "demo", "--preset", "smoke", "-p", "lr=0.5", "--out", str(out)) == 0
    results = json.loads((out / "00_demo.results.json").read_text())
    assert results["results"]["epochs_times_lr"] == 1.5
    assert [(c["id"], c["verdict"]) for c in results["results"]["claims"]] == [
        ("small_step", "did not hold")]  # lr 0.5 is not below 0.3
    assert results["headline"] == {"epochs_times_lr": 1.5}
    assert results["params"] == {"epochs": 3, "lr": 0.5, "name": "demo", "classes": [1, 2],
                                 "fail": False, "marker": "", "release": ""}  # read from the kernel
    assert results["provenance"]["preset"] == "smoke"
    assert set(results["provenance"]) >= {"mu_core", "git", "torch", "device", "seeds"}
    executed = json.loads((out / "00_demo.ipynb").read_text())
    tags = [c["metadata"].get("tags", []) for c in executed["cells"]]
    collapsed = [t for t in tags if "parameters" in t or "injected-parameters" in t]
    assert len(collapsed) == 2 and all("hide-input" in t for t in collapsed)
    assert sum("hide-input" in t for t in tags) == 2  # the book shows the other cells whole


def test_a_failing_chapter_exits_non_zero_and_names_the_cell(project, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(project, "run", "00", "--preset", "smoke", "-p", "fail=true", "--out", str(out)) == 1
    error = capsys.readouterr().err
    assert "chapter 00_demo failed in cell" in error
    assert "ValueError: the demo was asked to fail" in error and "if fail:" in error
    assert (out / "00_demo.failed.ipynb").exists()  # kept, with the traceback
    assert not (out / "00_demo.ipynb").exists() and not (out / "00_demo.results.json").exists()


def test_a_failing_run_keeps_the_finished_results(project, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(project, "run", "demo", "--preset", "smoke", "--out", str(out)) == 0
    finished = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert _run(project, "run", "demo", "--preset", "smoke", "-p", "fail=true",
                "--out", str(out)) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()
            if p.is_file() and "failed" not in p.name} == finished
    assert _leftovers(out) == []
    assert _run(project, "run", "demo", "--preset", "smoke", "--out", str(out)) == 0
    assert not (out / "00_demo.failed.ipynb").exists()  # a finished run clears it


def test_a_chapter_that_refuses_its_parameters_exits_2(project, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(project, "run", "demo", "--preset", "smoke", "-p", "epochs=1000",
                "--out", str(out)) == 2
    assert capsys.readouterr().err == ("mu-book: error: chapter 00_demo refused its parameters: "
                                       "epochs must be at most 100, got 1000.\n")


def test_an_unwritable_output_folder_is_refused_before_running(project, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert _run(project, "run", "demo", "--preset", "smoke", "--out",
                str(tmp_path / "file" / "out")) == 2
    error = capsys.readouterr().err
    assert "the output folder" in error and "cannot be written" in error and "--out" in error


@pytest.mark.parametrize("args, message", [
    (["run", "nope"], "unknown chapter 'nope'; accepted: 00_demo"),
    (["run", "demo", "--preset", "gpu"], "unknown preset 'gpu'; accepted: smoke, cpu, paper"),
    (["run", "demo", "--preset", "paper"], "has no 'paper' preset.*it has: smoke"),
    (["run", "demo", "--preset", "smoke", "-p", "epocs=3"], "unknown parameter 'epocs'.*epochs, lr"),
    (["run", "demo", "--preset", "smoke", "-p", "epochs=abc"], "epochs .* must be an int.*str 'abc'"),
    (["run", "demo", "--preset", "smoke", "-p", "classes=3"], "classes .* must be a list"),
    (["run", "demo", "--preset", "smoke", "-p", "lr"], "key=value"),
    (["run", "demo", "--preset", "smoke", "-p", "lr=.nan"], "lr .* finite numbers only, got nan"),
    (["run", "demo", "--preset", "smoke", "-p", "lr=-.inf"], "finite numbers only, got -inf"),
    (["run", "demo", "--preset", "smoke", "-p", "classes=[1, .inf]"], "classes .* finite"),
    (["run", "demo", "--preset", "smoke", "-p", "classes=[1,"], "classes .* not readable YAML"),
    (["run", "demo", "--preset", "smoke", "-p", "classes={a: 1, a: 2}"], "'a' is given twice"),
    (["run", "demo", "--preset", "smoke", "-p", "name=!!python/name:os.system"],
     "name .* not readable YAML"),
])
def test_bad_input_fails_before_anything_runs(project, capsys, args, message):
    assert _run(project, *args) == 2
    error = capsys.readouterr().err
    assert error.startswith("mu-book: error: ")
    assert __import__("re").search(message, error), error


def test_a_preset_with_a_wrong_type_is_refused(project, capsys):
    (project / "mu_core" / "presets" / "smoke" / "00_demo.yaml").write_text("lr: fast\n")
    assert _run(project, "run", "demo", "--preset", "smoke") == 2
    assert "parameter lr in" in capsys.readouterr().err


def test_values_are_read_as_yaml_and_ints_pass_as_floats():
    assert book.parse_override("classes=[1, 3]") == ("classes", [1, 3])
    assert book.parse_override("fraction=0.5") == ("fraction", 0.5)
    assert book.parse_override("lr=1e-3") == ("lr", 0.001)  # YAML 1.1 reads a string
    assert book.parse_override("lr=-2.5E+2") == ("lr", -250.0)
    assert book.parse_override("name=1e3x") == ("name", "1e3x")
    assert book.check_parameters({"lr": 0.1}, {"lr": 1}, "x") == {"lr": 1.0}
    with pytest.raises(ConfigError, match="must be a bool"):
        book.check_parameters({"flag": False}, {"flag": 1}, "x")


@pytest.mark.parametrize("content, message", [
    ("lr: [1\n", "not readable YAML"),
    ("lr: 0.1\nlr: 0.2\n", "'lr' is given twice"),
    ("lr: !!python/object/apply:os.system [ls]\n", "not readable YAML"),
    ("lr: .nan\n", "finite numbers only"),
    (b"lr: 0.1 # caf\xe9\n", "not UTF-8"),
    (None, "cannot be read"),  # a directory where the preset file belongs
])
def test_a_bad_preset_file_is_refused_with_a_sentence(project, capsys, content, message):
    preset = project / "mu_core" / "presets" / "smoke" / "00_demo.yaml"
    preset.unlink()
    if content is None:
        preset.mkdir()
    elif isinstance(content, bytes):
        preset.write_bytes(content)
    else:
        preset.write_text(content)
    assert _run(project, "run", "demo", "--preset", "smoke") == 2
    error = capsys.readouterr().err
    assert error.startswith("mu-book: error: ") and message in error, error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1


@pytest.mark.parametrize("content, message", [
    ("lr: " + "[" * 5000 + "]" * 5000 + "\n", "more than 32 levels deep"),
    ("a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(8)), "expands to more than 100,000 values"),
])
def test_a_preset_nested_too_deep_or_an_alias_bomb_is_refused_at_once(project, capsys,
                                                                       content, message):
    import time

    (project / "mu_core" / "presets" / "smoke" / "00_demo.yaml").write_text(content)
    start = time.perf_counter()
    assert _run(project, "run", "demo", "--preset", "smoke") == 2
    assert time.perf_counter() - start < 10
    error = capsys.readouterr().err
    assert error.startswith("mu-book: error: ") and len(error.splitlines()) == 1
    assert message in error


def test_a_book_without_presets_of_its_own_uses_the_packages(project, tmp_path, capsys):
    import shutil

    shutil.rmtree(project / "mu_core")
    assert _run(project, "list") == 0
    assert _run(project, "run", "demo", "--preset", "smoke", "--out", str(tmp_path)) == 2
    error = capsys.readouterr().err
    assert "chapter 00_demo has no 'smoke' preset" in error and len(error.splitlines()) == 1


def test_a_damaged_cache_entry_is_reported_in_the_terminal(project, tmp_path, capsys,
                                                           monkeypatch):
    """The chapter asks the cache for a model whose entry is damaged: the warning that it is
    rebuilt shows in the terminal too, not only inside the executed notebook."""
    from mu_core import cache

    monkeypatch.setenv("MU_CACHE_DIR", str(tmp_path / "cache"))
    config = {"demo": "damaged entry"}
    cache.path_for(config).parent.mkdir(parents=True)
    cache.path_for(config).write_bytes(b"not a model")
    source = project / "notebooks" / "00_demo.py"
    source.write_text(source.read_text() + (
        "\n# %%\nimport torch\nfrom mu_core import cache\n"
        f"cache.cached_model({config!r}, lambda: torch.nn.Linear(1, 1), lambda model: None)\n"))
    assert _run(project, "run", "demo", "--preset", "smoke", "--out", str(tmp_path / "o")) == 0
    error = capsys.readouterr().err
    assert "mu-book: warning: 00_demo: cache file" in error and "rebuilt" in error


def test_ctrl_c_is_one_line_and_exit_130(project, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(book, "run_chapter", interrupted)
    assert _run(project, "run", "demo", "--preset", "smoke") == 130
    assert capsys.readouterr().err.strip() == \
        "mu-book: interrupted; finished chapters and cached models are kept."


def test_the_parameters_cell_must_hold_literals(project):
    source = project / "notebooks" / "00_demo.py"
    source.write_text(DEMO.replace("lr = 0.1", "lr = 1 / 10"))
    with pytest.raises(ConfigError, match="parameter lr must be a literal"):
        book.notebook_parameters(book.read_notebook(source))


def test_outside_a_project(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "list"]) == 2
    assert "no book project" in capsys.readouterr().err


def test_build_without_run_needs_executed_chapters(project, capsys):
    assert _run(project, "build", "--no-run") == 2
    assert "00_demo has not been executed" in capsys.readouterr().err


def test_build_refuses_a_chapter_whose_run_was_killed(project, capsys):
    import nbformat

    out = book.output_dir(project)
    assert _run(project, "run", "demo", "--preset", "smoke") == 0
    assert book.unfinished(out, "00_demo") is None
    notebook = nbformat.read(out / "00_demo.ipynb", as_version=4)
    notebook.cells[-1].metadata.papermill["status"] = "running"  # as a kill leaves it
    nbformat.write(notebook, out / "00_demo.ipynb")
    assert _run(project, "build", "--no-run") == 2
    assert "00_demo did not finish executing" in capsys.readouterr().err
    (out / "00_demo.results.json").unlink()
    assert book.unfinished(out, "00_demo") == "has no results JSON"


def test_a_killed_runs_private_folder_is_removed_by_the_next_run(project, tmp_path):
    out = tmp_path / "out"
    stale = out / f"{book.RUNNING}{2**22 + 12345}-00_demo-abc"  # a pid that does not exist
    stale.mkdir(parents=True)
    (stale / "half.ipynb").write_text("{}")
    assert _run(project, "run", "demo", "--preset", "smoke", "--out", str(out)) == 0
    assert not stale.exists() and _leftovers(out) == []


# --- real processes: signals, kills and two runs at once -----------------------------------

@pytest.fixture
def short_tmp():
    """A temp folder short enough to hold a kernel's Unix sockets, private to the test."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(dir="/tmp", prefix="mu-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _mu_book(project, tmpdir, *args, marker=None, release="never"):
    """`mu-book run demo` in its own process, with its own temp folder `tmpdir` (where its
    kernel's files go)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, TMPDIR=str(tmpdir))
    extra = ["-p", f"marker={marker}", "-p", f"release={release}"] if marker else []
    return subprocess.Popen(
        [sys.executable, "-m", "mu_core.cli", "--root", str(project), "run", "demo",
         "--preset", "smoke", *extra, *args], env=env, stdout=subprocess.PIPE,
        # not the project folder: its mu_core/presets would shadow the package on sys.path
        cwd=project / "notebooks",
        stderr=subprocess.PIPE, text=True)


def _wait_for(path, process, seconds=60):
    import time

    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def _kernel_folders(tmpdir):
    return sorted(tmpdir.glob(f"{book.KERNEL_FOLDER}*"))


def test_sigterm_mid_chapter_is_one_line_exit_130_and_leaves_no_kernel_files(project, tmp_path,
                                                                             short_tmp):
    import signal

    marker, out = tmp_path / "started", tmp_path / "out"
    process = _mu_book(project, short_tmp, "--out", str(out), marker=marker,
                       release=tmp_path / "never")
    _wait_for(marker, process)
    (kernel,) = _kernel_folders(short_tmp)  # the connection file lives there while it runs
    assert (kernel / "kernel.json").exists()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "mu-book: interrupted; finished chapters and cached models are kept.\n"
    assert list(short_tmp.iterdir()) == []
    assert _leftovers(out) == []


def test_a_sigkilled_runs_kernel_files_are_removed_by_the_next_run(project, tmp_path,
                                                                     short_tmp, capsys):
    import signal

    marker = tmp_path / "started"
    process = _mu_book(project, short_tmp, marker=marker,
                       release=tmp_path / "never")
    _wait_for(marker, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    (left,) = _kernel_folders(short_tmp)  # what a kill cannot clean: the HMAC key is in it
    assert (left / "kernel.json").exists()
    assert _run(project, "build", "--no-run") == 2  # nothing of the killed run is published
    assert "00_demo has not been executed" in capsys.readouterr().err
    again = _mu_book(project, short_tmp)
    stdout, stderr = again.communicate(timeout=120)
    assert again.returncode == 0 and stderr == "", stderr  # no kernel warning either
    assert list(short_tmp.iterdir()) == []


def test_two_runs_into_one_output_folder_both_publish_complete_results(project, tmp_path,
                                                                        short_tmp):
    """The first run is still executing when the second starts and finishes: each publishes
    complete results, neither deletes the other's, and no private folder is left."""
    out, marker = tmp_path / "out", tmp_path / "first"
    release = tmp_path / "release"
    first = _mu_book(project, short_tmp, "--out", str(out), "-p", "lr=0.5", marker=marker,
                     release=release)
    _wait_for(marker, first)
    second = _mu_book(project, short_tmp, "--out", str(out), "-p", "lr=0.25")
    assert second.wait(timeout=120) == 0, second.communicate()
    assert first.poll() is None  # still running: it waits for `release`
    assert json.loads((out / "00_demo.results.json").read_text())["results"][
        "epochs_times_lr"] == 0.75
    release.touch()
    assert first.wait(timeout=120) == 0, first.communicate()
    assert json.loads((out / "00_demo.results.json").read_text())["results"][
        "epochs_times_lr"] == 1.5
    assert book.unfinished(out, "00_demo") is None
    assert _leftovers(out) == []


def test_a_dry_run_lands_apart_from_the_book_and_the_build_refuses_it(project, capsys):
    assert _run(project, "run", "demo", "--preset", "smoke", "--dry-run") == 0
    output = capsys.readouterr().out
    assert "dry run: no training loop ran" in output  # the demo trains nothing
    results = json.loads((project / book.DRY_DIR / "00_demo.results.json").read_text())
    assert results["provenance"]["dry_run"] is True
    assert results["dry_run_estimate"]["training_loops"] == 0
    assert not (book.output_dir(project) / "00_demo.results.json").exists()
    dry = project / book.DRY_DIR
    assert book.unfinished(dry, "00_demo") == \
        "holds a dry run's results (synthetic data, cut budgets)"


def test_data_download_checks_every_name_first_and_a_missing_dataset_names_it(
        project, tmp_path, monkeypatch, capsys):
    from mu_core import data

    assert _run(project, "data", "download", "mnist5k", "cifar11") == 2
    assert "unknown dataset 'cifar11'" in capsys.readouterr().err
    assert _run(project, "data", "download", "digits") == 0
    assert "digits: 1438 training and 359 test images" in capsys.readouterr().out
    monkeypatch.setenv("MU_DATA_DIR", str(tmp_path / "empty"))

    def offline(root, download, image_size):
        raise OSError("no network")

    monkeypatch.setitem(data.DATASETS, "svhn", offline)
    with pytest.raises(data.DatasetUnavailable, match="mu-book data download svhn"):
        data.load("svhn")


def test_a_kernel_killed_from_outside_is_one_sentence_and_exit_1(project, tmp_path, short_tmp):
    import signal

    marker = tmp_path / "started"
    process = _mu_book(project, short_tmp, marker=marker, release=tmp_path / "never")
    _wait_for(marker, process)
    (kernel,) = _kernel_folders(short_tmp)
    pid = int(__import__("subprocess").run(
        ["pgrep", "-f", str(kernel / "kernel.json")], capture_output=True, text=True
    ).stdout.split()[0])
    __import__("os").kill(pid, signal.SIGKILL)  # as the out-of-memory killer does
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stderr.startswith("mu-book: error: chapter 00_demo: its kernel died") and \
        "Traceback" not in stderr, stderr


def test_a_run_shows_a_bar_named_by_section(project, tmp_path, capsys):
    book.run_chapter(project, book.find_chapter(project, "demo"), "smoke", out=tmp_path,
                     progress=True)
    assert "Executing 'A demo chapter'" in capsys.readouterr().err


def test_runs_end_with_a_summary_table_and_no_bar_outside_a_terminal(project, tmp_path,
                                                                      capsys):
    assert _run(project, "run", "demo", "demo", "--preset", "smoke", "--out",
                str(tmp_path / "out")) == 0
    captured = capsys.readouterr()
    assert "Executing" not in captured.err
    table = [line.split() for line in captured.out.splitlines()[-3:]]
    assert table[0] == ["chapter", "preset", "seconds", "status", "results"]
    assert [row[:2] + row[3:4] for row in table[1:]] == [["00_demo", "smoke", "finished"]] * 2
    assert table[1][4] == str(tmp_path / "out" / "00_demo.results.json")


def test_one_chapter_in_a_log_shows_each_cell_and_loop_and_ends_with_the_summary(
        project, tmp_path, capsys):
    import re

    assert _run(project, "run", "00", "--preset", "smoke", "--out", str(tmp_path / "out")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].split() == ["chapter", "preset", "seconds", "status", "results"]
    assert lines[-1].split()[:2] + lines[-1].split()[3:4] == ["00_demo", "smoke", "finished"]
    assert [line for line in lines if "demo loop" in line] == [
        line for line in lines
        if re.fullmatch(r"  00_demo: 'A demo chapter' demo loop: 3 steps in \d+\.\d s", line)]
    assert sum("demo loop" in line for line in lines) == 1
    cells = [line for line in lines
             if re.fullmatch(r"  00_demo: cell \d+/\d+ ('A demo chapter' )?\d+\.\d s", line)]
    assert len(cells) == 6  # the code cells, papermill's injected parameters among them


def test_section_titles_follow_the_last_heading_above_each_cell():
    from mu_core.progress import section_titles

    cells = [{"cell_type": "code", "source": "x = 1"},
             {"cell_type": "markdown", "source": "# Title\n\ntext\n\n## First part"},
             {"cell_type": "code", "source": "# a comment, not a heading"},
             {"cell_type": "markdown", "source": "just text"},
             {"cell_type": "markdown", "source": "### Second part  "}]
    assert section_titles(cells) == ["", "First part", "First part", "First part",
                                     "Second part"]


def test_papermill_by_hand_refuses_a_misspelled_parameter_like_mu_book(tmp_path, monkeypatch):
    """`papermill ... -p epoch 3` on chapter 00 at the smoke preset: the chapter's first
    cell refuses it with the sentence `mu-book run 00 -p epoch=3` gives, as one line (no
    traceback), and papermill stops there, before any data is loaded or model trained."""
    import nbformat
    import papermill

    from conftest import ROOT

    monkeypatch.setenv("MU_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MU_DATA_DIR", str(tmp_path / "no-data"))
    chapter = book.find_chapter(ROOT, "00")
    with pytest.raises(ConfigError) as refused:
        book.chapter_parameters(ROOT, chapter, "smoke", ["epoch=3"])
    source, executed = tmp_path / "00.ipynb", tmp_path / "run.ipynb"
    nbformat.write(book.read_notebook(chapter.source), source)
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        papermill.execute_notebook(str(source), str(executed), cwd=str(tmp_path),
                                   parameters={"preset": "smoke", "epoch": 3},
                                   kernel_name="python3", progress_bar=False)
    assert (failed.value.ename, failed.value.evalue) == ("ConfigError", str(refused.value))
    assert str(refused.value).startswith("unknown parameter 'epoch' in the command line")
    cells = [c for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"]
    errors = [(c, o) for c in cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [o.traceback for _, o in errors] == [[f"ConfigError: {refused.value}"]]
    assert "Chapter(" in errors[0][0].source  # the chapter's first cell, before any training
    assert not (tmp_path / "cache").exists() and not (tmp_path / "no-data").exists()


def test_injected_parameters_are_read_from_the_kernels_history():
    from mu_core.chapter import check_injected

    with pytest.raises(ConfigError, match=r"^unknown parameter 'c' in the command line; "
                                          r"accepted: a, b\.$"):
        check_injected({"In": ["", "import sys", "a = 1\nb = [1]\n", "# Parameters\nc = 3\n"]})
    with pytest.raises(ConfigError, match="parameter a in the command line must be an int"):
        check_injected({"In": ["", "a = 1", "# Parameters\na = 'x'\n"]})
    check_injected({"In": ["", "a = 1.0", "# Parameters\na = 2\n"]})  # an int is a float
    check_injected({"In": ["", "x = f()", "# Parameters\nc = 2\n"]})  # not after parameters
    check_injected({"a": 1})  # no kernel history: nothing injected
