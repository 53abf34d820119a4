"""Every chapter listed in _toc.yml runs with its smoke preset, and its numbers make sense."""

import json

import jupytext
import nbformat
import pytest

from mu_core import book

from conftest import ROOT

CHAPTERS = book.chapters(ROOT)


def check_foundations(results, out):
    r = results["results"]
    assert r["split_sizes"] == {"train": 4000, "forget": 1000, "retain": 3000, "test": 1000,
                                "val": 0}
    assert r["accuracy"]["test"] > 0.9  # two epochs of the small CNN on mnist5k
    assert len(r["per_class_test_accuracy"]) == 10
    assert 0 <= r["forget_class_test_accuracy"] <= 1


def check_baselines(results, out):
    r = results["results"]
    methods = {row["method"] for row in r["settings"]["classwise"]}
    assert len(methods) == 12
    assert {row["method"] for row in r["settings"]["random"]} == methods - {"bu", "unsc"}
    retrain = next(row for row in r["settings"]["class"] if row["method"] == "retrain")
    assert retrain["UA_mean"] == 1.0 and retrain["disparity_mean"] == 0.0
    assert all(0 <= row["MIA_mean"] <= 1 for rows in r["settings"].values() for row in rows)
    assert {c["verdict"] for c in r["claims"]} <= {"held", "did not hold"}


def check_mra(results, out):
    r = results["results"]
    closed = {(row["method"], row["subset"], row["model"]): row["mean"]
              for row in r["table2_closed"]}
    assert {m for m, _, _ in closed} == {"ga", "iu", "salun", "unsc"}
    for method in ("ga", "iu", "salun", "unsc"):
        gain = closed[(method, "forget", "RCM")] - closed[(method, "forget", "ULM")]
        assert gain == pytest.approx(closed[(method, "forget", "ΔAcc")])
        assert 0 <= closed[(method, "forget", "ULM")] <= 1
    assert set(r["table4_ablation"]) == {"salun/test", "salun/forget", "unsc/test", "unsc/forget"}
    attacks = {run["attack"] for run in r["runs"]}
    assert attacks == {"closed", "open", "dst", "closed, other student", "open, other student"}
    assert {c["verdict"] for c in r["claims"]} <= {"held", "did not hold"}


def check_cmira(results, out):
    r = results["results"]
    table1 = {(row["dataset"], row["backbone"], row["method"]): row for row in r["table1"]}
    assert set(table1) == {("digits", b, m) for b in ("ResNet-18", "VGG-16")
                           for m in ("retrain", "ga")}
    for row in table1.values():
        assert 0 <= row["acc_u"] <= 1 and 0 <= row["acc_a"] <= 1
        assert row["r_i"] == pytest.approx(row["acc_a"] - row["acc_u"])
    for row in r["table2_classwise"]:
        assert len(row["acc_u"]) == len(row["acc_a"]) == 5
    stages = {(row["backbone"], row["method"], row["components"]) for row in r["table3_ablation"]}
    assert len(stages) == 3 * len(table1)
    p_rows = [row["acc_a"] for row in r["table3_ablation"] if row["components"] == "p"
              and row["backbone"] == "VGG-16"]
    assert p_rows[0] == pytest.approx(p_rows[1])  # P never sees the unlearned model
    assert {c["verdict"] for c in r["claims"]} <= {"held", "did not hold"}
    assert len(results["figures"]) == 6


def check_unlearnguard(results, out):
    r = results["results"]
    assert 0 < r["tau"] <= 1 and len(r["null"]) == 30  # smoke: 3 samples x 10 classes
    for subset in r["sample_level"].values():
        for when in ("before", "after"):
            assert set(subset[when]) == {"MIA", "Backdoor", "Accuracy", "Ours"}
            assert all(-1 <= v <= 1 for v in subset[when].values())
    # retraining without class 3 cannot classify it: the accuracy scheme must see that
    class_rows = r["class_level"]["unlearning class 3"]
    assert class_rows["before"]["Accuracy"] == 1.0 and class_rows["after"]["Accuracy"] == 0.0
    assert len(r["prior"]["phase1"]) == len(r["prior"]["phase2"]) == 30
    assert set(r["robustness"]) == {"trained", "pruned", "fine-tuned", "unlearned + fine-tuned"}
    # a provider that returns the trained model shows no drop: nothing is marked unlearned
    assert r["robustness"]["trained"]["paired: requested marked unlearned"] == 0
    skipped = r["providers"]["skips unlearning"]
    assert skipped["unlearning executed"] == 0 and skipped["paired: marked unlearned"] == 0
    assert len(r["paired"]["unlearned"]) == 10 and -1 <= r["paired"]["threshold"] <= 1
    assert len(r["claims"]) == 10
    assert {c["verdict"] for c in r["claims"]} <= {"held", "did not hold"}
    assert len(results["figures"]) == 11


CHECKS = {"00_foundations": check_foundations, "01_unlearning_baselines": check_baselines,
          "02_mra": check_mra, "03_cmira": check_cmira, "04_unlearnguard": check_unlearnguard}


@pytest.mark.chapter
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_chapter_smoke_run(chapter, tmp_path):
    assert chapter.slug in CHECKS, f"add a results check for {chapter.slug} to CHECKS"
    path = book.run_chapter(ROOT, chapter, "smoke", out=tmp_path)
    results = json.loads(path.read_text())
    assert results["provenance"]["preset"] == "smoke"
    for figure in results["figures"]:
        assert (tmp_path / figure).stat().st_size > 1000
    executed = nbformat.read(path.with_name(f"{chapter.slug}.ipynb"), as_version=4)
    shown = sum("image/png" in output.get("data", {})
                for cell in executed.cells for output in cell.get("outputs", []))
    assert shown >= len(results["figures"]), "a saved figure is not displayed in the book"
    CHECKS[chapter.slug](results, tmp_path)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_paired_notebook_is_in_sync_and_output_free(chapter):
    source = jupytext.read(chapter.source)
    paired = nbformat.read(chapter.source.with_suffix(".ipynb"), as_version=4)
    assert [(c.cell_type, c.source) for c in source.cells] == \
        [(c.cell_type, c.source) for c in paired.cells], \
        f"run: jupytext --sync {chapter.source.relative_to(ROOT)}"
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in paired.cells if c.cell_type == "code")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_every_preset_fits_the_parameters_cell(chapter):
    assert set(chapter.presets(ROOT)) == set(book.PRESETS)
    for preset in book.PRESETS:
        book.chapter_parameters(ROOT, chapter, preset)  # raises on unknown names or types
