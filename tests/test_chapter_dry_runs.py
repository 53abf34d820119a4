"""The `paper` preset of every chapter, dry (synthetic data of the papers' shapes, budgets
cut): it runs on this CPU, its results are marked as a dry run, and it estimates the real
run's training cost. Chapters whose dry run does not yet fit the suite's time are listed
in DRY_RUN_PENDING with the reason (issue 16)."""

import json

import pytest

from conftest import ROOT
from mu_core import book

# chapter -> why its dry run is not in the suite yet
DRY_RUN_PENDING = {
    "01_baselines": "36 full-width ResNet-18 models: minutes of evaluation on a CPU",
    "02_mra": "FF/IU per-sample work on EfficientNet-V2-S needs the memory budget",
    "03_cmira": "full-width ResNet-18 and VGG-16 on three datasets: minutes on a CPU",
    "05_rsu": "passes, in 324 s on this CPU (8 full-width ResNet-18 shadow models)",
    "06_adversarial": "not yet run to its end on this CPU",
}

# chapter -> why its dry run has no cost estimate yet
NOT_ESTIMATED = {
    "04_unlearnguard": "its margin training (maxmargin) is cut by its steps parameter, "
                       "so the dry run cannot see the real budget",
}

CHAPTERS = [c for c in book.chapters(ROOT) if "paper" in c.presets(ROOT)
            and c.slug not in DRY_RUN_PENDING]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_paper_preset_dry_run(chapter, tmp_path):
    results = book.run_chapter(ROOT, chapter, "paper", out=tmp_path, dry_run=True)
    found = json.loads(results.read_text())
    assert found["provenance"]["dry_run"] is True and found["provenance"]["preset"] == "paper"
    estimate = found["dry_run_estimate"]
    if chapter.slug in NOT_ESTIMATED:
        assert estimate["training_loops"] == 0
    else:
        assert estimate["training_loops"] >= 1 and estimate["hours"] > 0
    assert book.unfinished(tmp_path, chapter.slug).startswith("holds a dry run")
