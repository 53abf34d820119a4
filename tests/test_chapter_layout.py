"""Chapters tell the story and call the library: no definitions, few code lines."""

import ast

import jupytext
import nbformat
import pytest

from mu_core import book

from conftest import ROOT

CHAPTERS = book.chapters(ROOT)
MAX_CODE_LINES = 100


def _is_setup_cell(cell) -> bool:
    """The parameters cell and the Colab install cell are not counted."""
    tags = cell.get("metadata", {}).get("tags", [])
    return "parameters" in tags or ("remove-cell" in tags and "google.colab" in cell.source)


def code_lines(notebook) -> int:
    """Code lines of a chapter: code cells other than the setup cells, blank lines and
    comment lines left out."""
    return sum(1 for cell in notebook.cells
               if cell.cell_type == "code" and not _is_setup_cell(cell)
               for line in cell.source.splitlines()
               if line.strip() and not line.strip().startswith("#"))


def definitions(notebook) -> list[str]:
    """Names of the functions and classes a chapter defines (lambdas included)."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.append(node.name)
            elif isinstance(node, ast.Lambda):
                found.append("lambda")
    return found


def test_the_counter_on_a_hand_made_notebook():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import sys\nif 'google.colab' in sys.modules:\n    pass",
                                  metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell("a = 1\nb = 2", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("# not code\ntext"),
        nbformat.v4.new_code_cell("x = f(a,\n      b)\n\n# a comment\ny = x  # trailing\n"),
        nbformat.v4.new_code_cell("def g():\n    return lambda: 1\nclass K:\n    pass"),
    ])
    assert code_lines(notebook) == 3 + 4
    assert definitions(notebook) == ["g", "K", "lambda"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_chapter_defines_nothing(chapter):
    found = definitions(jupytext.read(chapter.source))
    assert not found, f"{chapter.slug} defines {found}: move them into its study module"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_chapter_has_at_most_100_code_lines(chapter):
    count = code_lines(jupytext.read(chapter.source))
    assert count <= MAX_CODE_LINES, f"{chapter.slug} has {count} code lines"
