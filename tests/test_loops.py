"""The loop layer (`loops`): what a loop reports and to whom, how `mu-book` shows it
(`progress.Watch`), and which modules may import the dry run."""

import ast
import json
import os
import time
from pathlib import Path

import pytest

from mu_core import loops
from mu_core.progress import Watch, clock, eta

PACKAGE = Path(loops.__file__).resolve().parent


def test_a_loop_reports_its_steps_in_order_and_its_total():
    seen = []
    with loops.subscribed(lambda event, loop: seen.append(
            (event, loop.name, loop.unit, loop.done, loop.total, loop.depth))):
        for _ in loops.track(range(3), "epochs", unit="epoch"):
            with loops.loop("inner", 1, "batch") as inner:
                inner.step()
    outer = [s for s in seen if s[1] == "epochs"]
    assert outer == [("start", "epochs", "epoch", 0, 3, 0), ("step", "epochs", "epoch", 1, 3, 0),
                     ("step", "epochs", "epoch", 2, 3, 0), ("step", "epochs", "epoch", 3, 3, 0),
                     ("end", "epochs", "epoch", 3, 3, 0)]
    assert [s[0] for s in seen if s[1] == "inner"] == ["start", "step", "end"] * 3
    assert {s[5] for s in seen if s[1] == "inner"} == {1}


def test_a_loop_that_stops_early_still_ends(tmp_path):
    seen = []
    with loops.subscribed(lambda event, loop: seen.append((event, loop.done))):
        for step in loops.track(range(10), "search"):
            if step == 2:
                break
    assert seen[0] == ("start", 0) and seen[-1] == ("end", 2)


def test_the_kernel_writes_rate_limited_json_lines_where_mu_book_says(tmp_path, monkeypatch):
    path = tmp_path / "loops.jsonl"
    monkeypatch.setenv(loops.FILE_ENV, str(path))
    started = time.perf_counter()
    for _ in loops.track(range(1000), "train", unit="epoch"):
        pass
    most = 3 + 2 * (time.perf_counter() - started) / loops.INTERVAL  # start, end, steps
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"event": "start", "loop": "train", "unit": "epoch", "done": 0,
                        "total": 1000, "depth": 0, "seconds": lines[0]["seconds"],
                        "pid": os.getpid()}
    assert lines[-1]["event"] == "end" and lines[-1]["done"] == 1000
    assert len(lines) <= most
    path.unlink()
    time.sleep(loops.INTERVAL)  # a report less than INTERVAL after the last one waits
    started = time.perf_counter()
    for _ in loops.track(range(200), "rounds"):
        for _ in loops.track(range(5), "per-sample chunks"):
            pass
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) <= 3 + 2 * (time.perf_counter() - started) / loops.INTERVAL
    assert lines[-1]["loop"] == "rounds" and lines[-1]["event"] == "end"


def test_a_report_that_cannot_be_written_never_breaks_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv(loops.FILE_ENV, str(tmp_path / "missing" / "loops.jsonl"))
    assert list(loops.track(range(3), "train")) == [0, 1, 2]


def test_outside_mu_book_a_loop_shows_a_tqdm_bar(monkeypatch, capsys):
    monkeypatch.delenv(loops.FILE_ENV, raising=False)
    monkeypatch.setenv(loops.BARS_ENV, "1")
    monkeypatch.setattr(loops.Bars, "DELAY", 0.0)
    for _ in loops.track(range(4), "shadow models", unit="model"):
        pass
    assert "shadow models" in capsys.readouterr().err
    monkeypatch.setenv(loops.BARS_ENV, "0")
    for _ in loops.track(range(4), "shadow models", unit="model"):
        pass
    assert capsys.readouterr().err == ""


def _report(event, loop, done, total, depth=0, seconds=0.0, unit="epoch"):
    return json.dumps({"event": event, "loop": loop, "unit": unit, "done": done,
                       "total": total, "depth": depth, "seconds": seconds})


def test_the_live_line_names_the_running_loops_and_the_innermost_eta(tmp_path):
    shown = []
    watch = Watch("00_foundations", tmp_path / "none", live=True)
    watch.on_change = shown.append
    watch.feed(_report("start", "unlearning", 0, 12, unit="run"))
    watch.feed(_report("step", "unlearning", 2, 12, seconds=50.0, unit="run"))
    watch.feed(_report("start", "train", 0, 8, depth=1))
    watch.feed(_report("step", "train", 2, 8, depth=1, seconds=10.0))
    assert shown[-1] == "unlearning 2/12 > train 2/8 epoch, ETA 0:30"
    watch.feed(_report("end", "train", 8, 8, depth=1, seconds=40.0))
    assert shown[-1] == "unlearning 2/12 run, ETA 4:10"
    for foreign in ("not json", "[1]", '{"depth": 0}', _report("step", "x", "many", 3)):
        watch.feed(foreign)  # a torn or foreign line is skipped
    watch.feed(_report("end", "unlearning", 12, 12, seconds=300.0, unit="run"))
    assert shown[-1] == ""


def test_a_log_gets_one_line_per_finished_cell_and_outermost_loop_with_seconds(tmp_path):
    path = tmp_path / "loops.jsonl"
    lines = []
    with Watch("00_foundations", path, live=False, write=lines.append) as watch:
        watch.section = "Training the model"
        path.write_text("\n".join([_report("start", "train", 0, 8),
                                   _report("start", "chunks", 0, 2, depth=1, unit="chunk"),
                                   _report("end", "chunks", 2, 2, depth=1, unit="chunk"),
                                   _report("end", "train", 8, 8, seconds=12.25)]) + "\n")
        watch.read()
        watch.cell_done(8, 17, 20.31)
    assert lines == ["  00_foundations: 'Training the model' train: 8 epochs in 12.2 s",
                     "  00_foundations: cell 9/17 'Training the model' 20.3 s"]


def test_a_partial_line_waits_for_its_end(tmp_path):
    path = tmp_path / "loops.jsonl"
    lines = []
    watch = Watch("00_x", path, live=False, write=lines.append)
    whole = _report("end", "train", 1, 1, seconds=1.0)
    path.write_text(whole[:10])
    watch.read()
    assert lines == []
    path.write_text(whole + "\n")
    watch.read()
    assert lines == ["  00_x: train: 1 epoch in 1.0 s"]


def test_eta_and_clock():
    assert eta(0, 10, 5.0) is None and eta(3, None, 5.0) is None
    assert eta(2, 10, 5.0) == 20.0
    assert clock(20.0) == "0:20" and clock(3725.0) == "1:02:05"


# The loops, where the dry run times what runs (train.fit, the shadow-model ensemble) and
# the layer every other loop reports through; the book and the benchmarks drive dry runs.
MAY_IMPORT_DRYRUN = {"loops", "train", "ensemble", "book", "bench"}


def _imports() -> dict[str, set[str]]:
    """Module (dotted, under mu_core) -> the mu_core modules it imports anywhere in its
    text (also inside functions)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = parts[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name[len("mu_core."):] for a in node.names
                          if a.name.startswith("mu_core.")}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = list(package[:len(package) - node.level + 1])
                    stem = ".".join(base + ([node.module] if node.module else []))
                elif (node.module or "").startswith("mu_core"):
                    stem = node.module[len("mu_core."):] if node.module != "mu_core" else ""
                else:
                    continue
                for alias in node.names:  # `from . import x`: x may be a module
                    found.add(f"{stem}.{alias.name}".strip("."))
                found.add(stem)
        graph[name] = {f for f in found if f}
    return graph


def _reaches(graph, start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        for target in graph.get(module, ()):
            if target == goal:
                return True
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return False


def test_only_the_loops_import_the_dry_run():
    graph = _imports()
    importers = {m for m, targets in graph.items() if "dryrun" in targets or any(
        t.startswith("dryrun.") for t in targets)}
    assert "loops" in importers  # the graph is read right
    assert importers <= MAY_IMPORT_DRYRUN, sorted(importers - MAY_IMPORT_DRYRUN)


@pytest.mark.parametrize("first, second", [("data", "dryrun"), ("book", "presets"),
                                           ("loops", "dryrun")])
def test_the_import_circles_stay_broken(first, second):
    graph = _imports()
    assert not (_reaches(graph, first, second) and _reaches(graph, second, first)), \
        f"{first} and {second} import each other (directly or through other modules)"
