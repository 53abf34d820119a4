"""`mu-book sweep`: the grid, resumption, failures, the gathered tables and the engines."""

import builtins
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from mu_core import book
from mu_core.cli import main
from mu_core.errors import ConfigError
from mu_core.sweep import grid
from mu_core.sweep.point import finished

from conftest import ROOT


def _sweep(project, out, *args):
    return main(["--root", str(project), "sweep", "demo", "--preset", "smoke", "--out",
                 str(out), "--name", "s", *args])


# The grid

def test_values_split_on_commas_outside_brackets():
    assert grid.split_values("1,2,[3, 4],{a: 1, b: 2}") == ["1", "2", "[3, 4]", "{a: 1, b: 2}"]


def test_the_grid_is_the_cartesian_product_with_the_last_key_fastest():
    found = grid.points(grid.parse_grid(["lr=0.1,0.5", "classes=[1, 2],[3]"]), ["epochs=4"])
    assert [p.name for p in found] == ["lr=0.1_classes=1,2", "lr=0.1_classes=3",
                                       "lr=0.5_classes=1,2", "lr=0.5_classes=3"]
    assert found[1].values == {"lr": 0.1, "classes": [3]}
    assert found[1].overrides == ("epochs=4", "lr=0.1", "classes=[3]")


def test_names_that_would_collide_get_a_suffix():
    names = [p.name for p in grid.points({"tag": ['"a b"', "ab"]})]
    assert names == ["tag=ab", "tag=ab-2"]


@pytest.mark.parametrize("texts, fixed, message", [
    (["lr"], [], "given as -g key=value1"),
    (["lr="], [], "given as -g key=value1"),
    (["lr=0.1,,0.2"], [], "empty value"),
    (["lr=0.1", "lr=0.2"], [], "gives lr twice"),
    (["lr=[0.1"], [], "not readable YAML"),
    (["lr=0.1,0.2"], ["lr=0.3"], "both as -g and as -p"),
    (["preset=cpu,paper"], [], "one preset"),
    ([f"k{i}=" + ",".join(map(str, range(30))) for i in range(3)], [], "from 1 to 10000"),
])
def test_a_bad_grid_is_refused_with_a_sentence(texts, fixed, message):
    with pytest.raises(ConfigError, match=message):
        grid.points(grid.parse_grid(texts), fixed)


# A point's folder

def _results(folder, params, dry_run=False):
    folder.mkdir(parents=True, exist_ok=True)
    document = {"chapter": "00_demo", "params": params, "results": {"claims": []},
                "provenance": {"dry_run": dry_run}}
    (folder / "00_demo.results.json").write_text(json.dumps(document))


def test_a_point_is_finished_only_with_complete_results_of_its_parameters(tmp_path):
    params = {"lr": 0.5, "classes": (1, 2)}
    _results(tmp_path / "done", {"lr": 0.5, "classes": [1, 2], "epochs": 3})
    assert finished(tmp_path / "done", "00_demo", params)
    _results(tmp_path / "other", {"lr": 0.1, "classes": [1, 2]})
    assert not finished(tmp_path / "other", "00_demo", params)
    _results(tmp_path / "dry", {"lr": 0.5, "classes": [1, 2]}, dry_run=True)
    assert not finished(tmp_path / "dry", "00_demo", params)
    (tmp_path / "half").mkdir()
    text = (tmp_path / "done" / "00_demo.results.json").read_text()
    (tmp_path / "half" / "00_demo.results.json").write_text(text[:len(text) // 2])
    assert not finished(tmp_path / "half", "00_demo", params)
    assert not finished(tmp_path / "missing", "00_demo", params)


# Sweeps of the demo chapter (seconds per point)

def test_a_sweep_runs_every_point_and_gathers_numbers_and_claims(project, tmp_path, capsys):
    assert _sweep(project, tmp_path, "-g", "lr=0.1,0.5") == 0
    folder = tmp_path / "s"
    for point in ("lr=0.1", "lr=0.5"):
        files = {p.name for p in (folder / point).iterdir()}
        assert {"00_demo.ipynb", "00_demo.results.json", "log.txt", "point.json"} <= files
    numbers = pd.read_csv(folder / "results.csv")
    assert numbers.to_dict("list") == {"point": ["lr=0.1", "lr=0.5"], "lr": [0.1, 0.5],
                                       "number": ["epochs_times_lr"] * 2,
                                       "value": [pytest.approx(0.3), 1.5]}  # smoke: 3 epochs
    claims = pd.read_csv(folder / "claims.csv")
    assert claims[["lr", "claim", "verdict"]].values.tolist() == [
        [0.1, "small_step", "held"], [0.5, "small_step", "did not hold"]]
    out = capsys.readouterr().out
    assert "2 finished of 2 point(s)" in out and "small_step" in out


def test_a_rerun_skips_finished_points_and_redoes_a_half_written_one(project, tmp_path, capsys):
    assert _sweep(project, tmp_path, "-g", "lr=0.1,0.5") == 0
    kept, broken = tmp_path / "s" / "lr=0.1", tmp_path / "s" / "lr=0.5"
    stamp = os.stat(kept / "00_demo.ipynb").st_mtime_ns
    results = broken / "00_demo.results.json"
    results.write_text(results.read_text()[:40])  # as a copy cut short leaves it
    capsys.readouterr()
    assert _sweep(project, tmp_path, "-g", "lr=0.1,0.5") == 0
    out = capsys.readouterr().out
    assert "lr=0.1: skipped" in out and "lr=0.5: finished" in out
    assert os.stat(kept / "00_demo.ipynb").st_mtime_ns == stamp
    assert json.loads(results.read_text())["headline"] == {"epochs_times_lr": 1.5}


def test_a_failing_point_is_recorded_and_the_others_go_on(project, tmp_path, capsys):
    assert _sweep(project, tmp_path, "-g", "fail=false,true", "-g", "epochs=2,1000") == 1
    statuses = pd.read_csv(tmp_path / "s" / "points.csv").set_index("point")
    assert statuses["status"].to_dict() == {
        "fail=false_epochs=2": "finished", "fail=false_epochs=1000": "failed",
        "fail=true_epochs=2": "failed", "fail=true_epochs=1000": "failed"}
    crashed = json.loads((tmp_path / "s" / "fail=true_epochs=2" / "point.json").read_text())
    assert "ValueError: the demo was asked to fail" in crashed["error"]
    source = book.read_notebook(project / "notebooks" / "00_demo.py").cells
    raising = next(i for i, cell in enumerate(source) if cell.source.startswith("if fail:"))
    assert crashed["cell"] == raising + 1  # papermill injects a parameters cell before it
    refused = json.loads((tmp_path / "s" / "fail=false_epochs=1000" / "point.json").read_text())
    assert "refused its parameters: epochs must be at most 100" in refused["error"]
    assert f"[cell {crashed['cell']} error] ValueError" in (tmp_path / "s" / "fail=true_epochs=2" /
                                           "log.txt").read_text()
    assert len(pd.read_csv(tmp_path / "s" / "claims.csv")) == 1  # the finished point's
    assert "1 finished, 3 failed of 4 point(s)" in capsys.readouterr().out


def test_a_failing_rerun_keeps_the_points_finished_run(project, tmp_path):
    """A finished point is rerun with other parameters (here: told to fail): its finished
    notebook, results and figures stay in the point's folder, under previous-finished/."""
    assert _sweep(project, tmp_path, "-g", "lr=0.1") == 0
    point = tmp_path / "s" / "lr=0.1"
    finished_files = {p.relative_to(point): p.read_bytes() for p in point.rglob("*")
                      if p.is_file() and p.name not in ("point.json", "log.txt")}
    assert Path("00_demo.results.json") in finished_files
    assert _sweep(project, tmp_path, "-g", "lr=0.1", "-p", "fail=true") == 1
    kept = {p.relative_to(point / "previous-finished"): p.read_bytes()
            for p in point.rglob("*") if p.is_file() and "previous-finished" in p.parts}
    assert kept == finished_files
    assert json.loads((point / "point.json").read_text())["status"] == "failed"
    assert (point / "00_demo.failed.ipynb").exists()
    assert _sweep(project, tmp_path, "-g", "lr=0.1", "-p", "fail=true") == 1  # twice in a row
    assert {p.relative_to(point / "previous-finished"): p.read_bytes()
            for p in point.rglob("*") if p.is_file() and "previous-finished" in p.parts} == kept


def test_a_killed_points_temporary_folder_is_removed_by_the_next_point(project, tmp_path,
                                                                       monkeypatch):
    import tempfile

    from mu_core.sweep.point import run_point

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"mu-sweep-point-{2**22 + 12345}-abc"  # a pid that does not exist
    (stale / "figures").mkdir(parents=True)
    outcome = run_point(str(project), "no-such-chapter", "smoke", [], {})
    assert outcome["status"] == "failed" and "unknown chapter" in outcome["error"]
    assert list(tmp_path.glob("mu-sweep-point-*")) == []


@pytest.mark.parametrize("args, message", [
    (["-g", "lr=0.1,fast"], "point lr=fast: parameter lr in the command line must be a float"),
    (["-g", "speed=1,2"], "point speed=1: unknown parameter 'speed'"),
    (["-g", "lr=0.1", "--address", "1.2.3.4:6379"], "give it with --engine ray"),
    (["-g", "lr=0.1", "--engine", "spark"], "unknown engine 'spark'; accepted: local, ray"),
    (["-g", "lr=0.1", "--cpus-per-run", "0"], "--cpus-per-run must be a positive integer"),
    (["-g", "lr=0.1", "--name", "../up"], "a sweep name holds letters"),
    ([], "a sweep needs a grid: give at least one -g"),
    (["-g", "lr=0.1", "--cpus-per-run", "100000"], "--cpus-per-run 100000 is more than the"),
])
def test_bad_input_is_refused_before_any_point_runs(project, tmp_path, capsys, args, message):
    out = tmp_path / "sweeps"
    assert main(["--root", str(project), "sweep", "demo", "--preset", "smoke", "--out",
                 str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_the_ray_engine_without_its_extra_names_the_install_command(project, tmp_path, capsys,
                                                                    monkeypatch):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    assert _sweep(project, tmp_path, "-g", "lr=0.1", "--engine", "ray") == 2
    assert 'needs Ray, an optional extra: pip install -e ".[sweep]"' in capsys.readouterr().err


# The engines give the same numbers

@pytest.mark.xdist_group("ray")  # one Ray test at a time
def test_local_and_ray_engines_give_identical_numbers_for_the_foundations(tmp_path,
                                                                           monkeypatch):
    pytest.importorskip("ray")
    tables = {}
    for engine in ("local", "ray"):
        monkeypatch.setenv("MU_CACHE_DIR", str(tmp_path / f"cache-{engine}"))  # both train
        assert main(["--root", str(ROOT), "sweep", "foundations", "--preset", "smoke",
                     "-g", "seed=0,1", "-p", "epochs=1", "--engine", engine,
                     "--out", str(tmp_path), "--name", engine]) == 0
        tables[engine] = pd.read_csv(tmp_path / engine / "results.csv")
    assert len(tables["local"]) == 2 * 4 and set(tables["local"]["seed"]) == {0, 1}
    pd.testing.assert_frame_equal(tables["local"], tables["ray"], check_exact=True)


# Headline numbers

def test_named_numbers_name_each_number_by_its_record():
    from mu_core.studies import named_numbers

    records = [{"method": "ga", "setting": "random", "UA": 0.1, "TA": 0.9},
               {"method": "ft", "setting": "class", "UA": 1.0, "TA": 0.8}]
    assert named_numbers(records, ("setting", "method"), ("UA",)) == {
        "random/ga/UA": 0.1, "class/ft/UA": 1.0}


@pytest.mark.parametrize("headline, message", [
    ([0.5], "is a dict of name -> number, got list"),
    ({"ua": "high"}, "maps names to numbers, got 'ua': str"),
    ({"ua": True}, "maps names to numbers, got 'ua': bool"),
])
def test_a_headline_that_is_not_named_numbers_is_refused(headline, message):
    from mu_core.chapter import headline_numbers

    with pytest.raises(ConfigError, match=message):
        headline_numbers(headline)


def test_a_headline_keeps_numbers_and_turns_nan_into_none():
    import numpy as np
    from mu_core.chapter import headline_numbers

    assert headline_numbers({"a": np.float32(0.5), "b": float("nan"), "c": 3}) == {
        "a": 0.5, "b": None, "c": 3}


@pytest.fixture
def ray_cluster(monkeypatch):
    """A one-node Ray cluster started with `ray start --head` (what a cluster's head node
    runs), stopped when the test ends; its address."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # a test cluster of one machine
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray = Path(sys.executable).parent / "ray"
    head = subprocess.Popen([str(ray), "start", "--head", "--block", "--num-cpus", "1",
                             "--port", str(port), "--include-dashboard", "false",
                             "--disable-usage-stats"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        for line in head.stdout:
            if "Ray runtime started" in line:
                break
        time.sleep(1)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()
        head.wait(timeout=60)


@pytest.mark.xdist_group("ray")
def test_a_sweep_joins_a_ray_cluster_which_runs_the_shipped_project(project, tmp_path,
                                                                   ray_cluster):
    import shutil

    shutil.copytree(ROOT / "mu_core", project / "mu_core", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))  # a project holds its code
    assert _sweep(project, tmp_path / "out", "-g", "lr=0.1", "--engine", "ray",
                  "--address", ray_cluster) == 0
    results = json.loads((tmp_path / "out" / "s" / "lr=0.1" / "00_demo.results.json").read_text())
    assert results["headline"] == {"epochs_times_lr": pytest.approx(0.3)}
    assert results["provenance"]["git"] != "unknown"  # the driver's revision, told to the worker
