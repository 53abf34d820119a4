"""A study's independent pieces in worker processes: the results in the pieces' order, the
same as one after another up to float rounding (a worker runs fewer threads); and one
after another wherever workers cannot help."""

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


def failing_piece(value: int) -> int:
    if value == 2:
        raise ValueError("piece two failed")
    return value


def test_a_failing_piece_raises_at_once_and_names_itself(monkeypatch):
    monkeypatch.setenv(workers.ENV, "2")
    with pytest.raises(ValueError, match="piece two failed") as error:
        workers.run_each(failing_piece, [(1,), (2,), (3,), (4,)], device="cpu")
    assert "in piece 2 of 4 of failing_piece" in error.value.__notes__


def test_cmira_pieces_in_workers_give_the_rows_and_models_of_one_process(monkeypatch, digits,
                                                                          tmp_path):
    from mu_core.studies import cmira
    from test_cmira import TINY_STUDY as run

    found = {}
    for count in ("1", "2"):
        monkeypatch.setenv(workers.ENV, count)
        monkeypatch.setenv("MU_CACHE_DIR", str(tmp_path / f"cache{count}"))
        found[count] = cmira.recovery_studies(["digits"], {"digits": [1, 3, 5]}, **run)
    here, elsewhere = found["1"], found["2"]
    keys = ["backbone", "method", "components"]
    assert here.rows[keys].values.tolist() == elsewhere.rows[keys].values.tolist()
    assert (here.rows[["acc_u", "acc_a"]] - elsewhere.rows[["acc_u", "acc_a"]]).abs().max().max() \
        < 0.2  # the same runs up to rounding, which a few steps of training amplify little
    kept = elsewhere.kept["digits"][("R", "ga")]
    assert set(kept) == {"unlearned", "split", "probe", "p", "p+u", "p+u+a"}
    images = digits.inputs(kept["split"].forget[:16])
    with torch.no_grad():  # the attack model came back whole from its state dict
        assert kept["p+u+a"](images).shape == (16, digits.num_classes)
