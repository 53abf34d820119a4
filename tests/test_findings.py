"""The box "What this chapter found": made from the run's claims, in every chapter, right
after the cell that runs its study and before its first figure."""

import jupytext
import pytest

from mu_core import book
from mu_core.claims import HELD, INCONCLUSIVE, NOT_HELD, Claim
from mu_core.errors import ConfigError
from mu_core.findings import Findings

from conftest import ROOT

CLAIMS = [Claim("a_holds", "A beats B", "Table 1", "A - B: +0.100 [+0.050, +0.150], 3 seeds; "
                "C - B: +0.020 [-0.010, +0.050], 3 seeds", HELD),
          Claim("b_fails", "B <beats> C", "Fig. 2", "B - C: -0.200 [-0.300, -0.100], 3 seeds",
                NOT_HELD),
          Claim("c_unsure", "C is fast", "Sec. 4", "time: +1.0 [-1.0, +3.0], 3 seeds",
                INCONCLUSIVE),
          Claim("d_more", "D", "Sec. 5", "d: +1.0 [+0.5, +1.5], 3 seeds", HELD)]


def test_the_box_counts_every_verdict_and_shows_the_key_claims_measured_effect():
    box = Findings("01_demo", CLAIMS)
    assert box.counts_text() == ("2 held, 1 did not hold, 1 inconclusive, 0 not testable "
                                 "here (of 4 claims)")
    assert [line[0] for line in box.lines()] == [HELD, NOT_HELD, INCONCLUSIVE]  # first three
    assert box.lines()[0][2] == ("A - B: +0.100 [+0.050, +0.150], 3 seeds "
                                 "(more in the claims section)")
    html = box._repr_html_()
    assert 'href="#claims-01-demo"' in html and "B &lt;beats&gt; C" in html
    assert "[did not hold] B <beats> C\n      here: B - C: -0.200 [-0.300, -0.100]" in repr(box)


def test_the_box_shows_the_claims_it_is_told_and_refuses_an_unknown_one():
    assert [line[1] for line in Findings("x", CLAIMS, key=["d_more"]).lines()] == ["D"]
    with pytest.raises(ConfigError, match="unknown claim.*nope; accepted: a_holds"):
        Findings("x", CLAIMS, key=["nope"])


def test_a_chapter_without_claims_shows_its_numbers_and_no_link():
    box = Findings("00_demo", numbers={"test accuracy": 0.98765, "other": None})
    assert box.counts_text() == "this chapter checks no claim of a paper"
    assert box.lines() == [("", "test accuracy", "0.988"), ("", "other", "no value")]
    assert "href" not in box._repr_html_()


@pytest.mark.parametrize("chapter", book.chapters(ROOT), ids=lambda c: c.slug)
def test_every_chapter_shows_the_box_before_its_first_figure(chapter):
    cells = [c for c in jupytext.read(chapter.source).cells if c.cell_type == "code"]
    box = next(i for i, c in enumerate(cells) if "chapter.findings(" in c.source)
    first_figure = next((i for i, c in enumerate(cells) if "savefig(" in c.source), len(cells))
    assert box < first_figure
    assert "remove-input" in cells[box].metadata.get("tags", [])
    ran = cells[box - 1].source
    assert ".run(" in ran or "trained_model(" in ran  # right after the study's run


def test_at_a_reduced_budget_the_box_says_so_before_its_counts():
    mark = "reduced budget (paper_lite preset, not the paper's full run)"
    box = Findings("03_demo", CLAIMS, budget=mark)
    html = box._repr_html_()
    assert html.index("mu-findings-budget") < html.index("mu-findings-counts")
    assert "Reduced budget (paper_lite preset, not the paper&#x27;s full run): what follows" \
        in html
    assert repr(box).splitlines()[1].startswith("  Reduced budget (paper_lite preset")
    plain = Findings("03_demo", CLAIMS)
    assert plain.budget_text() is None
    assert "budget" not in plain._repr_html_() and "budget" not in repr(plain)
