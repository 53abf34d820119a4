"""Colab from one place: _config.yml's repository gives every install cell and launch link."""

import shutil

import jupytext
import pytest

from mu_core import book, colab
from mu_core.errors import ConfigError

from conftest import ROOT

CHAPTERS = book.chapters(ROOT)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_each_install_cell_is_the_one_config_yml_gives(chapter):
    cell = colab.install_cell(jupytext.read(chapter.source))
    assert cell.source == colab.install_source(*colab.repository(ROOT)), \
        "run: mu-book sync-colab"


def test_the_install_cell_installs_the_configured_branch():
    source = colab.install_source("https://github.com/someone/book", "dev")
    assert '"mu-core @ git+https://github.com/someone/book@dev"' in source
    compile(source, "install cell", "exec")


def test_the_launch_link_opens_the_committed_notebook_on_the_branch():
    assert colab.launch_link("https://github.com/someone/book", "dev", "02_mra") == (
        "https://colab.research.google.com/github/someone/book/blob/dev/notebooks/02_mra.ipynb")


def _copy_project(tmp_path):
    for name in ("_config.yml", "_toc.yml", "notebooks"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name)
    return tmp_path


def test_sync_rewrites_every_cell_from_a_changed_config_then_has_nothing_to_do(tmp_path):
    root = _copy_project(tmp_path)
    config = root / "_config.yml"
    config.write_text(config.read_text().replace(
        "url: https://github.com/mu-privacy/mu-book", "url: https://github.com/fork/book")
        .replace("branch: main", "branch: next"))
    assert colab.sync(root) == [c.slug for c in CHAPTERS]
    for chapter in book.chapters(root):
        for path in (chapter.source, chapter.source.with_suffix(".ipynb")):
            cell = colab.install_cell(jupytext.read(path))
            assert "git+https://github.com/fork/book@next" in cell.source
    assert colab.sync(root) == []


@pytest.mark.parametrize("repository, message", [
    ("url: https://gitlab.com/a/b\n  branch: main", "must be https://github.com/OWNER/NAME"),
    ("url: https://github.com/a/b\n  branch: ''", "must name a branch"),
])
def test_a_repository_colab_cannot_use_is_refused(tmp_path, repository, message):
    (tmp_path / "_config.yml").write_text(f"repository:\n  {repository}\n")
    with pytest.raises(ConfigError, match=message):
        colab.repository(tmp_path)
