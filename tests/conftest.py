import os
import tempfile
from pathlib import Path

import pytest

from demo_project import project  # noqa: F401  (the demo book project fixture)

# Quiet progress bars and a private model cache for the whole session (chapter kernels
# inherit the environment).
os.environ["MU_PROGRESS"] = "0"
os.environ["MU_CACHE_DIR"] = tempfile.mkdtemp(prefix="mu_cache_tests_")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist():
    from mu_core.data import load

    return load("mnist5k")


@pytest.fixture(scope="session")
def digits():
    from mu_core.data import load

    return load("digits")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MU_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"
