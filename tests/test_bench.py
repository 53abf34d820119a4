"""The GPU benchmark's code path, on the CPU (its numbers are only meaningful on CUDA)."""

import json

import pytest
import torch

from mu_core import bench
from mu_core.errors import ConfigError


def test_the_training_variants_run_and_are_measured_against_fp32_on_the_cpu():
    found = bench.gpu_training_throughput("cpu", batch=4, steps=1, warmup=1,
                                          variants=("fp32_eager", "bf16_channels_last"))
    assert set(found) == {"fp32_eager", "bf16_channels_last"}
    assert found["fp32_eager"]["ratio_to_fp32"] == 1.0
    assert all(r["images_per_s"] > 0 for r in found.values())


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_the_gpu_benchmark_is_skipped_without_cuda():
    assert bench.gpu_training_throughput() is None


def test_a_dry_runs_price_of_a_small_chapter_is_near_its_real_run():
    # The dry run prices the whole run (its loops at the preset's budgets, and its own time
    # outside them); beside the real run on the same machine, side by side, it lands within
    # a factor of three (generous: the bench prints the ratio, which for the foundations
    # chapter's cpu preset came out at 1.12 here, on two busy cores).
    from conftest import ROOT

    found = bench.dry_run_calibration(ROOT, "00_foundations", preset="smoke")
    assert found["measured_s"] > 0 and found["loops_s"] > 0
    assert 1 / 3 < found["ratio"] < 3, found


def test_calibration_refuses_a_preset_a_chapter_lacks_before_any_run(capsys):
    from conftest import ROOT

    with pytest.raises(ConfigError, match="no 'nope' preset"):
        bench.calibration_table(ROOT, ["00_foundations"], "nope")
    assert "estimated" not in capsys.readouterr().out  # refused before the table's first line


def test_the_readmes_price_table_is_what_the_code_computes_from_the_committed_dry_runs():
    # `python -m mu_core.bench prices table` writes it; a hand edit, or a committed run
    # whose estimate no longer follows from its ledger, fails here
    from conftest import ROOT

    from mu_core import dryrun, prices

    runs = prices.committed()
    assert runs, "no paper dry run is committed in mu_core/paper_prices/"
    for slug, run in runs.items():
        found = run["estimate"]
        again = dryrun.estimate_entries(found["ledger"], found["seeds"], found["ratios"],
                                        found["wall_seconds"])
        assert json.loads(json.dumps(again)) == found, slug
    readme = (ROOT / "README.md").read_text()
    start = readme.index(prices.README_START)
    end = readme.index(prices.README_END) + len(prices.README_END)
    assert readme[start:end] == prices.readme_table()
    for run in runs.values():
        assert f"| {prices.label(run)} |" in readme


def test_writing_the_price_table_replaces_only_what_lies_between_its_markers(tmp_path):
    from mu_core import prices

    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{prices.README_START}\nold table\n{prices.README_END}\nafter\n")
    assert bench.write_price_table(tmp_path)
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("\nafter\n")
    assert "old table" not in text and prices.readme_table() in text
    assert not bench.write_price_table(tmp_path)  # already matched


def _estimate(hours_by_loop: dict) -> dict:
    return {"training_loops": 1, "seeds": 1, "hours": sum(hours_by_loop.values()),
            "devices": ["CPU (1 threads)"], "samples": 1e6, "hours_by_loop": hours_by_loop,
            "work": [{"loop": "train", "kind": "training", "count": 1e6, "hours": 1.0,
                      "network": {"model": "ResNet", "parameters": 11173962,
                                  "input": [3, 32, 32]}}]}


def test_a_paper_lite_price_is_stored_beside_the_papers_and_shown_as_its_own_row(
        tmp_path, monkeypatch):
    # `prices record 03 --preset paper_lite` runs that preset's dry run and keeps the paper
    # preset's stored run; the README's table and the chapter's rows show both
    from conftest import ROOT

    from mu_core import book, prices

    ran = []

    def dry_run(root, source, preset, out, dry_run):
        ran.append((source.slug, preset, dry_run))
        out.mkdir(parents=True)
        hours = {"M_A": 3.0, "M_U": 1.0} if preset == "paper" else {"M_A": 1.0}
        (out / "r.json").write_text(json.dumps({"dry_run_estimate": _estimate(hours)}))
        return out / "r.json"

    monkeypatch.setattr(book, "run_chapter", dry_run)
    paper = bench.record_paper_price(ROOT, "03", tmp_path)
    lite = bench.record_paper_price(ROOT, "03", tmp_path, preset="paper_lite")
    assert ran == [("03_cmira", "paper", True), ("03_cmira", "paper_lite", True)]
    assert (paper.name, lite.name) == ("03_cmira.json", "03_cmira.paper_lite.json")
    assert json.loads(paper.read_text())["estimate"]["hours"] == 4.0  # not overwritten
    assert json.loads(lite.read_text())["preset"] == "paper_lite"
    table = prices.readme_table(tmp_path)
    assert "| 03_cmira | 1 |" in table and "| 03_cmira (paper_lite) | 1 |" in table
    assert "03_cmira (paper_lite): dry run of" in table
    shown = prices.chapter_price("03_cmira", tmp_path).data
    assert shown.startswith("| per seed | the paper preset | the paper_lite preset |")
    assert "| dry run's machine | 4.0 h (CPU (1 threads)) | 1.0 h (CPU (1 threads)) |" in shown
    assert prices.loop_shares("03_cmira", folder=tmp_path) == {"M_A": 0.75, "M_U": 0.25}
    assert prices.loop_shares("03_cmira", "paper_lite", tmp_path) == {"M_A": 1.0}
    with pytest.raises(ConfigError, match="no paper_cifar100 dry run of 03_cmira is committed"):
        prices.loop_shares("03_cmira", "paper_cifar100", tmp_path)


def test_a_price_is_recorded_only_for_a_paper_preset_the_chapter_has(tmp_path):
    from conftest import ROOT

    with pytest.raises(ConfigError, match="holds paper presets .*, not 'cpu'"):
        bench.record_paper_price(ROOT, "03", tmp_path, preset="cpu")
    with pytest.raises(ConfigError, match="chapter 00_foundations has no 'paper_lite' preset"):
        bench._prices_command(["record", "03", "00", "--preset", "paper_lite"])
    assert not list(tmp_path.iterdir())  # refused before any dry run


def test_cmiras_rounds_dominate_its_paper_price_as_its_prose_says():
    # 03's paper-scale paragraph glues M_A's and M_U's shares and calls them nearly all
    from mu_core import prices

    shares = prices.loop_shares("03_cmira")
    assert list(shares)[:2] == ["M_A", "M_U"] and shares["M_A"] + shares["M_U"] > 0.9
    assert sum(shares.values()) == pytest.approx(1.0)


def test_the_scorecards_retrained_row_trains_the_same_both_ways():
    # The bench's side-by-side entry for the scorecard's N retrained models: the vmap
    # ensemble and the models one after another follow the same batches to the same weights
    # (up to float rounding), so the ratio it prints compares like with like.
    found = bench.scorecard_ensemble_speed(count=2, device="cpu")
    assert found["vmap_s"] > 0 and found["one_by_one_s"] > 0
    assert found["ratio"] == pytest.approx(found["one_by_one_s"] / found["vmap_s"])
    assert found["max_weight_difference"] < 1e-4
