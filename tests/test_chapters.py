"""Every chapter listed in _toc.yml runs with its smoke preset, and its numbers make sense."""

import importlib
import json

import jupytext
import nbformat
import pytest

from mu_core import book, presets
from mu_core.claims import VERDICTS

from conftest import ROOT
from test_prose_numbers import glued_names_stored, glued_names_used

CHAPTERS = book.chapters(ROOT)


def check_foundations(results, out):
    r = results["results"]
    assert r["split_sizes"] == {"train": 4000, "forget": 1000, "retain": 3000, "test": 1000,
                                "val": 0}
    assert r["accuracy"]["test"] > 0.9  # two epochs of the small CNN on mnist5k
    assert len(r["per_class_test_accuracy"]) == 10
    assert 0 <= r["forget_class_test_accuracy"] <= 1


def check_claims(claims):
    """Every claim has the five fields, a unique snake_case id and an allowed verdict."""
    assert all(set(c) == {"id", "claim", "paper", "here", "verdict"} for c in claims)
    ids = [c["id"] for c in claims]
    assert len(ids) == len(set(ids)) and all(i.isidentifier() and i == i.lower() for i in ids)
    assert {c["verdict"] for c in claims} <= set(VERDICTS)


def numbers_in(value):
    """Every number anywhere in a JSON value."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers_in(v)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def check_headline(results):
    """The headline a sweep gathers: named numbers, most of them measured, each one a
    number the chapter reported in its results."""
    headline = results["headline"]
    assert headline and all(isinstance(name, str) for name in headline)
    measured = [v for v in headline.values() if v is not None]
    assert len(measured) >= len(headline) / 2
    reported = set(numbers_in(results["results"]))
    assert all(value in reported for value in measured)


def smoke_check(slug: str):
    """The results check of a chapter: `check_smoke_results` in tests/test_<name>.py, where
    <name> is the slug without its number (00_foundations's check is above)."""
    if slug == "00_foundations":
        return check_foundations
    name = slug.partition("_")[2]
    return importlib.import_module(f"test_{name}").check_smoke_results


@pytest.mark.chapter
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_chapter_smoke_run(chapter, tmp_path):
    path = book.run_chapter(ROOT, chapter, "smoke", out=tmp_path)
    results = json.loads(path.read_text())
    assert results["provenance"]["preset"] == "smoke"
    parameters = book.notebook_parameters(book.read_notebook(chapter.source))
    assert set(results["params"]) == set(parameters), "Chapter(...) must record every parameter"
    check_claims(results["results"]["claims"])
    check_headline(results)
    for figure in results["figures"]:
        assert (tmp_path / figure).stat().st_size > 1000
    executed = nbformat.read(path.with_name(f"{chapter.slug}.ipynb"), as_version=4)
    shown = sum("image/png" in output.get("data", {})
                for cell in executed.cells for output in cell.get("outputs", []))
    assert shown >= len(results["figures"]), "a saved figure is not displayed in the book"
    unglued = glued_names_used(executed) - glued_names_stored(executed)
    assert not unglued, f"the prose pastes values the run never glued: {sorted(unglued)}"
    smoke_check(chapter.slug)(results, tmp_path)


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
    assert set(chapter.presets(ROOT)) >= set(presets.PRESETS)
    for preset in chapter.presets(ROOT):
        book.chapter_parameters(ROOT, chapter, preset)  # raises on unknown names or types
