"""The book's own text: references a reader can follow, an intro that links its chapters."""

import re

import yaml

from conftest import ROOT

BIB = ROOT / "book" / "references.bib"
INTRO = ROOT / "book" / "intro.md"


def _entries() -> dict[str, str]:
    text = BIB.read_text()
    return {m.group(1): m.group(2) for m in re.finditer(r"@\w+\{(\w+),(.*?)\n\}", text, re.S)}


def test_every_reference_can_be_followed():
    # a URL or a DOI, or a plain statement that the work has no public identifier
    entries = _entries()
    assert len(entries) >= 27
    unfollowable = [key for key, body in entries.items()
                    if not re.search(r"^\s*(url|doi)\s*=", body, re.M)
                    and "no public identifier" not in body]
    assert unfollowable == []


def test_no_reference_carries_a_working_note_or_a_placeholder_author():
    for key, body in _entries().items():
        assert "descriptive" not in body.lower(), key
        assert "authors}" not in body, key  # "{The ... authors}" renders as a made-up label


def test_the_intro_links_each_paper_chapter_of_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    papers = [f for f in files if re.match(r"notebooks/0[2-6]_", f)]
    linked = re.findall(r"\{doc\}`[^<`]+<([^>]+)>`", INTRO.read_text())
    assert set(papers) <= set(linked)
