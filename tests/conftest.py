import math
import os
import tempfile
from pathlib import Path

import pytest
import torch

from mu_core.workers import cores
from demo_project import project  # noqa: F401  (the demo book project fixture)

# Quiet progress bars and a private model cache for the whole session (chapter kernels
# inherit the environment).
os.environ["MU_PROGRESS"] = "0"
os.environ["MU_CACHE_DIR"] = tempfile.mkdtemp(prefix="mu_cache_tests_")
# Each xdist worker is one process of the machine's share: a study's pieces run in it, one
# after another, never in processes of their own (tests/test_workers.py runs them so).
os.environ["MU_WORKERS"] = "1"

# One share of the cores per xdist worker, for it and the chapter kernels it starts (which
# inherit the environment): torch's default of every core in every worker oversubscribes
# the machine, and the suite ran 3x slower for it. A caller's OMP_NUM_THREADS wins. The
# caller's value is kept aside because xdist's controller imports this file first and its
# workers inherit the environment it leaves.
os.environ.setdefault("MU_TESTS_CALLER_THREADS", os.environ.get("OMP_NUM_THREADS", ""))
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
THREADS = os.environ["MU_TESTS_CALLER_THREADS"] or str(max(1, cores() // _workers))
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = THREADS
torch.set_num_threads(int(THREADS))

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def torch_threads_kept():
    """Whatever thread count a test sets, the next test in this worker starts with the
    worker's share again (a test that left 2 behind failed test_suite_threads in CI)."""
    kept = torch.get_num_threads()
    yield
    torch.set_num_threads(kept)


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


def equal_with_nan(a, b) -> bool:
    """Equal values, NaN equal to NaN, in nested lists, tuples and dicts (and dataclasses):
    what a results file's round trip must give back."""
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and equal_with_nan(vars(a), vars(b))
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(equal_with_nan(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(equal_with_nan, a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b
