"""Colab, from one place: `_config.yml`'s repository (url and branch) gives every chapter's
install cell and its launch link, so the two can never point at different repositories.

`sync` rewrites the install cell of every chapter (its source and paired notebook) from the
configuration; a test fails when a chapter's cell has drifted from it.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import book
from .yamlrules import read_text, read_yaml
from .errors import ConfigError

COLAB = "https://colab.research.google.com"
_GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")


def repository(root: Path) -> tuple[str, str]:
    """(url, branch) of the book's repository in `root`/_config.yml."""
    config = read_yaml(read_text(root / "_config.yml"), "_config.yml") or {}
    entry = config.get("repository") or {}
    url, branch = entry.get("url"), entry.get("branch")
    if not isinstance(url, str) or not _GITHUB.match(url):
        raise ConfigError(f"_config.yml's repository.url must be https://github.com/OWNER/NAME, "
                          f"got {url!r}.")
    if not isinstance(branch, str) or not branch.strip():
        raise ConfigError(f"_config.yml's repository.branch must name a branch, got {branch!r}.")
    return url.rstrip("/").removesuffix(".git"), branch


def install_source(url: str, branch: str) -> str:
    """The chapters' first code cell: in Colab, pip-install mu_core (presets included, they
    are package data) from the repository's branch; elsewhere, nothing."""
    return ('import sys\n\n'
            'if "google.colab" in sys.modules:  # in Colab, install mu_core first; elsewhere it is there\n'
            '    import subprocess\n\n'
            '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
            f'                    "mu-core @ git+{url}@{branch}"], check=True)')


def launch_link(url: str, branch: str, slug: str) -> str:
    """The Colab link of a chapter's committed notebook."""
    owner, name = _GITHUB.match(url).groups()
    return f"{COLAB}/github/{owner}/{name}/blob/{branch}/notebooks/{slug}.ipynb"


def install_cell(notebook):
    """The chapter's install cell: tagged remove-cell, it checks for google.colab."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "google.colab" in cell.source and \
                "remove-cell" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise ConfigError("a chapter needs a Colab install cell (a code cell tagged remove-cell "
                      "that checks for google.colab).")


def sync(root: Path) -> list[str]:
    """Rewrite every chapter's install cell from _config.yml; the chapters changed."""
    import jupytext

    wanted = install_source(*repository(root))
    changed = []
    for chapter in book.chapters(root):
        old = install_cell(jupytext.read(chapter.source)).source
        if old == wanted:
            continue
        text = read_text(chapter.source)
        chapter.source.write_text(text.replace(old, wanted, 1), encoding="utf-8")
        jupytext.write(jupytext.read(chapter.source), chapter.source.with_suffix(".ipynb"))
        changed.append(chapter.slug)
    return changed
