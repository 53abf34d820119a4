"""The `paper` preset of every chapter, dry (synthetic data of the papers' shapes, budgets
cut): it runs on this CPU, its results are marked as a dry run, and it estimates the real
run's training cost. Chapters whose dry run takes minutes are in SLOW, run by .ci/run after
the suite."""

import json

import pytest

from conftest import ROOT
from mu_core import book, presets

# Chapters whose dry run takes several minutes on 2 CPU cores, and why: marked
# paper_dry_run, so the default suite leaves them out and .ci/run runs them after it
# (pytest -m paper_dry_run).
SLOW = {
    "01_baselines": "36 full-width ResNet-18 models, each evaluated on every subset",
    "02_mra": "EfficientNet-V2-S and ResNet-18 students over 8 methods",
    "03_cmira": "ResNet-18 and VGG-16 on three datasets, two rounds of M_U and M_A each",
    "04_unlearnguard": "reconstruction steps over every candidate, uncut so that they are "
                       "priced at their real batch (8 minutes on 2 loaded cores)",
    "05_rsu": "8 full-width ResNet-18 shadow models, inversion and relearning",
    "06_adversarial": "four configurations of a full-width ResNet-18, dense and sparse",
    "07_scorecard": "thirteen methods and two retraining rows of a full-width ResNet-18 in "
                    "three settings, every attack on one model per setting",
}
# Chapters whose paper dry run has not yet finished on a CPU, and what was seen: left out of
# CI (a run that does not end would stop it) until the dry run is proven; named here so
# that the gap stays visible.
UNPROVEN: dict[str, str] = {}

CHAPTERS = [pytest.param(c, id=c.slug, marks=[pytest.mark.paper_dry_run] if c.slug in SLOW
                         else []) for c in book.chapters(ROOT)
            if "paper" in c.presets(ROOT) and c.slug not in UNPROVEN]


def test_every_unproven_chapter_exists_and_has_a_paper_preset():
    found = {c.slug: c for c in book.chapters(ROOT)}
    assert all(slug in found and "paper" in found[slug].presets(ROOT) for slug in UNPROVEN)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_paper_preset_dry_run(chapter, tmp_path):
    results = book.run_chapter(ROOT, chapter, "paper", out=tmp_path, dry_run=True)
    found = json.loads(results.read_text())
    assert found["provenance"]["dry_run"] is True and found["provenance"]["preset"] == "paper"
    estimate = found["dry_run_estimate"]
    assert estimate["training_loops"] >= 1 and estimate["hours"] > 0
    assert book.unfinished(tmp_path, chapter.slug).startswith("holds a dry run")


# Chapters with a paper_lite preset (the paper's setting at a reduced budget, issue 34); its
# dry run takes minutes like the paper preset's (on one loaded thread, 03's 3.5 minutes,
# 07's 4.5).
LITE = [pytest.param(c, id=c.slug, marks=[pytest.mark.paper_dry_run])
        for c in book.chapters(ROOT) if presets.LITE in c.presets(ROOT)]


def test_the_cmira_and_scorecard_chapters_have_a_lite_preset():
    assert [p.values[0].slug for p in LITE] == ["03_cmira", "07_scorecard"]


@pytest.mark.parametrize("chapter", LITE)
def test_paper_lite_dry_run_marks_every_verdict_as_a_reduced_budget(chapter, tmp_path):
    results = book.run_chapter(ROOT, chapter, presets.LITE, out=tmp_path, dry_run=True)
    found = json.loads(results.read_text())
    assert found["provenance"]["preset"] == presets.LITE and found["dry_run_estimate"]["hours"]
    claims = found["results"]["claims"]
    mark = presets.budget_mark(presets.LITE)
    assert claims and all(c["here"].startswith(f"{mark}: ") for c in claims)
