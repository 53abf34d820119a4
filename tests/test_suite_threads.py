import os

import pytest
import torch

from mu_core.workers import cores


@pytest.mark.skipif("PYTEST_XDIST_WORKER" not in os.environ, reason="runs in an xdist worker")
def test_each_xdist_worker_gets_its_share_of_the_cores():
    # xdist's controller imports conftest first; its workers must not inherit its choice.
    if os.environ["MU_TESTS_CALLER_THREADS"]:
        pytest.skip("the caller chose OMP_NUM_THREADS")
    share = max(1, cores() // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    assert torch.get_num_threads() == share
    assert os.environ["OMP_NUM_THREADS"] == str(share)
