"""No chapter's prose holds a number typed by hand: quoted values are glued from the run.

A markdown cell may name equations, tables, figures and sections by number, cite years,
and name models and datasets (ResNet-18, CIFAR-10); small counts (one digit) are words in
all but spelling. Every other number, a decimal, a percentage or a count of 10 or more,
must come through MyST-NB's ``{glue:text}`name``` role from a value the run glued.
"""

import re

import jupytext
import nbformat
import pytest

from mu_core import book

from conftest import ROOT

CHAPTERS = book.chapters(ROOT)

_SPANS = re.compile(r"\$[^$]*\$|`[^`]*`|\{[\w:-]+\}`[^`]*`|\]\([^)]*\)")  # math, code, roles, links
_REFERENCE = re.compile(
    r"\b(?:Eqs?\.|Equations?|Tables?|Fig(?:ure)?s?\.?|Sections?|Algorithms?|Appendix)"
    r"(?:\s*[A-Z]?\d+(?:\.\d+)*(?:\s*(?:-|–|,|and|/)\s*[A-Z]?\d+(?:\.\d+)*)*)")
_CITED_YEAR = re.compile(r"\b(?:19|20)\d\d[a-z]?\b")
_NAME = re.compile(r"[A-Za-z][\w]*(?:-[A-Za-z\d]+)*-\d+\w*")  # ResNet-18, Swin-V2-T, mnist5k
_PANEL = re.compile(r"\(\d+[a-z]\)")  # Figure 10's panel (10b)
_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?%)?")


def typed_numbers(markdown: str) -> list[str]:
    """The numbers of `markdown` that are not a reference, a year, a name or a digit."""
    text = _SPANS.sub(" ", markdown)
    for pattern in (_REFERENCE, _CITED_YEAR, _NAME, _PANEL):
        text = pattern.sub(" ", text)
    return [number.strip() for number in _NUMBER.findall(text)
            if not re.fullmatch(r"\d", number.strip())]


def test_the_reader_on_a_hand_made_paragraph():
    markdown = ("As Table 3 and Eqs. 10-11 (Haim et al. 2022) show, ResNet-18 on CIFAR-10 "
                "reaches {glue:text}`acc:.1f` with `epochs=20` and $10^6$ steps; "
                "in 2 of 5 runs (Figure 10's panel (10b)) the paper's 94.81 holds, 15 epochs, "
                "10% of D, 1,000 steps, the 95th percentile.")
    assert typed_numbers(markdown) == ["94.81", "15", "10%", "1,000", "95"]


def _markdown_cells(chapter):
    return [cell.source for cell in jupytext.read(chapter.source).cells
            if cell.cell_type == "markdown"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_chapter_prose_quotes_no_number_by_hand(chapter):
    typed = [number for source in _markdown_cells(chapter) for number in typed_numbers(source)]
    assert not typed, f"{chapter.slug} types {len(typed)} numbers by hand: {typed}"


def glued_names_used(notebook) -> set[str]:
    """Names the markdown cells of `notebook` paste with {glue:...}`name[:format]`."""
    return {match.split(":")[0] for cell in notebook.cells if cell.cell_type == "markdown"
            for match in re.findall(r"\{glue(?::\w*)?\}`([^`]+)`", cell.source)}


def glued_names_stored(notebook: nbformat.NotebookNode) -> set[str]:
    """Names the executed `notebook`'s outputs glued (MyST-NB's scrapbook metadata)."""
    return {output.get("metadata", {}).get("scrapbook", {}).get("name")
            for cell in notebook.cells for output in cell.get("outputs", [])} - {None}


def test_glued_names_on_a_hand_made_notebook():
    stored = nbformat.v4.new_output("display_data", data={"text/plain": "0.9"},
                                    metadata={"scrapbook": {"name": "tau", "mime_prefix": ""}})
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("tau = {glue:text}`tau:.1f`, {glue:}`acc` and\n"
                                      "{glue:text}`rounds`"),
        nbformat.v4.new_code_cell("quote(...)", outputs=[stored]),
    ])
    assert glued_names_used(notebook) == {"tau", "acc", "rounds"}
    assert glued_names_stored(notebook) == {"tau"}
