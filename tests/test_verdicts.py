"""The verdicts page and `mu-book claims`, from hand-made results files."""

import json

import yaml

from mu_core import book, cli, verdicts
from mu_core.claims import HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE

LONG_HERE = "ASR gain: " + "; ".join(f"method{i} +0.0{i} [-0.01, +0.09], 3 seeds" for i in range(8))


def _results(out, slug, claims):
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"id": i, "claim": f"claim {i} | with a bar", "paper": "p", "here": here,
             "verdict": v} for i, v, here in claims]
    (out / f"{slug}.results.json").write_text(json.dumps({"results": {"claims": rows}}))


def _two_chapters(out):
    _results(out, "01_a", [("x", HELD, "h"), ("y", NOT_HELD, LONG_HERE),
                           ("z", INCONCLUSIVE, "h")])
    _results(out, "02_b", [("w", NOT_TESTABLE, "LiRA has no signal"), ("v", HELD, "h")])


def test_counts_per_chapter_and_verdict(tmp_path):
    _two_chapters(tmp_path)
    found = verdicts.gather(tmp_path, ["01_a", "02_b", "03_missing"])
    assert found["03_missing"] is None
    rows = verdicts.counts_table(found)
    assert rows[0] == ["01_a", "1", "1", "1", "0", "3"]
    assert rows[1] == ["02_b", "1", "0", "0", "1", "2"]
    assert rows[2] == ["03_missing", "-", "-", "-", "-", "-"]
    assert rows[3] == ["all", "2", "1", "1", "1", "5"]


def test_the_page_holds_every_claim_whole_and_links_its_chapter(tmp_path):
    _two_chapters(tmp_path)
    text = verdicts.page(verdicts.gather(tmp_path, ["01_a", "02_b"]))
    assert verdicts._markdown_table(["h"], [[LONG_HERE]]).splitlines()[-1] in text  # whole
    assert "claim x \\| with a bar" in text  # a bar cannot break the markdown table
    assert "{ref}`its claims section <claims-01_a>`" in text
    assert "\\[-0.01, +0.09\\]" in text and "method0 +0.00" in text  # literal, not a link
    assert "| all | 2 | 1 | 1 | 1 | 5 |" in text


def test_a_chapter_without_claims_links_no_section(tmp_path):
    _results(tmp_path, "00_a", [])
    text = verdicts.page(verdicts.gather(tmp_path, ["00_a"]))
    assert "claims-00_a" not in text and "checks no claim" in text


def test_the_terminal_table_wraps_and_counts(tmp_path):
    _two_chapters(tmp_path)
    text = verdicts.terminal(verdicts.gather(tmp_path, ["01_a", "02_b"]), width=60)
    assert "did not hold" in text and "method7 +0.07" in text
    assert all(len(line) <= 60 + 21 for line in text.splitlines())


def test_mu_book_claims_prints_the_table(project, capsys):
    out = project / "book" / "notebooks"
    _results(out, "00_demo", [("small_step", HELD, "lr 0.1")])
    assert cli.main(["--root", str(project), "claims"]) == 0
    printed = capsys.readouterr().out
    assert "small_step" in printed and "held" in printed


def test_mu_book_claims_fails_when_nothing_ran(project, capsys):
    assert cli.main(["--root", str(project), "claims", "00"]) == 1
    assert "no results" in capsys.readouterr().out


def test_the_build_writes_the_page_only_where_the_toc_lists_it(project):
    _results(project / "book" / "notebooks", "00_demo", [("small_step", HELD, "lr 0.1")])
    assert book.write_verdicts_page(project) is None
    toc = yaml.safe_load((project / "_toc.yml").read_text())
    toc["parts"].insert(0, {"caption": "Results", "chapters": [{"file": "verdicts"}]})
    (project / "_toc.yml").write_text(yaml.safe_dump(toc))
    page = book.write_verdicts_page(project)
    assert page == project / "book" / "verdicts.md" and "small\\_step" in page.read_text()
