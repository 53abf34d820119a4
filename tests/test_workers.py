"""A study's independent pieces in worker processes: the same results, in the same order,
as one after another; and one after another wherever workers cannot help."""

import os
import warnings

import pytest
import torch

from mu_core import dryrun, workers
from mu_core.attacks.mia.lira import shadow_keep_masks
from mu_core.ensemble import fit_ensemble
from mu_core.errors import ConfigError
from mu_core.train import Recipe


def power_and_process(base: int, exponent: int) -> tuple[int, int]:
    if exponent == 0:
        warnings.warn(f"{base} to the power 0", UserWarning)
    return base ** exponent, os.getpid()


def test_pieces_run_in_other_processes_and_come_back_in_order(monkeypatch):
    monkeypatch.setenv(workers.ENV, "2")
    with pytest.warns(UserWarning, match="5 to the power 0"):  # raised again here
        found = workers.run_each(power_and_process, [(2, 3), (3, 2), (4, 1), (5, 0)],
                                 device="cpu")
    assert [value for value, _ in found] == [8, 9, 4, 1]
    assert os.getpid() not in {pid for _, pid in found}


def test_pieces_run_here_where_workers_cannot_help(monkeypatch):
    monkeypatch.setenv(workers.ENV, "2")
    assert workers.worker_count(4, "cpu") == 2
    assert workers.worker_count(4, "cuda") == 1  # one device, already busy
    assert workers.worker_count(1, "cpu") == 1
    monkeypatch.setenv(dryrun.ENV, "1")
    assert workers.worker_count(4, "cpu") == 1  # a dry run's ledger lives in this process
    monkeypatch.delenv(dryrun.ENV)
    monkeypatch.setenv(workers.ENV, "1")
    found = workers.run_each(power_and_process, [(2, 3), (3, 2)], device="cpu")
    assert found == [(8, os.getpid()), (9, os.getpid())]


@pytest.mark.parametrize("asked", ["two", "0", "-1"])
def test_a_bad_worker_count_is_refused_with_a_sentence(monkeypatch, asked):
    monkeypatch.setenv(workers.ENV, asked)
    with pytest.raises(ConfigError, match="MU_WORKERS must be a whole number"):
        workers.worker_count(4, "cpu")


def test_shadow_models_trained_in_workers_match_those_trained_here(monkeypatch, digits):
    pool = digits.train[:120]
    keep = shadow_keep_masks(4, len(pool), seed=0)
    recipe = Recipe(epochs=2, lr=0.05, batch_size=16)

    def trained(count: str):
        monkeypatch.setenv(workers.ENV, count)
        ensemble = fit_ensemble(digits, pool, keep, "mlp", recipe, seeds=[1, 2, 3, 4],
                                vectorized=False, hidden=[16])
        return ensemble.logits(digits, pool)

    here, elsewhere = trained("1"), trained("2")
    assert here.shape == (4, len(pool), digits.num_classes)
    assert torch.allclose(here, elsewhere, atol=1e-4)  # the same training, up to rounding
    assert not torch.allclose(here[0], here[1], atol=1e-2)  # and four different models
