"""Per-sample work bounded by a memory budget (issue 16): chunk sizes from the budget, the
matrix-free Fisher-vector product, and influence unlearning by conjugate gradient."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from mu_core import models, persample
from mu_core.data import ImageData
from mu_core.errors import ConfigError
from mu_core.splits import make_split
from mu_core.train import Recipe
from mu_core.unlearn import fisher, unlearn
from mu_core.zoo import trained_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tiny_model():
    return models.create("cnn", 10, 1, 8, width=4, seed=0).eval()


def synthetic_images(count: int, size: int = 32, channels: int = 3, seed: int = 0) -> ImageData:
    """Random uint8 images and labels: the first 7/8 the training split, the rest the test."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, channels, size, size), dtype=torch.uint8,
                           generator=generator)
    labels = torch.randint(0, 10, (count,), generator=generator)
    train = count * 7 // 8
    return ImageData("synthetic", images, labels, torch.arange(train), torch.arange(train, count),
                     tuple(str(c) for c in range(10)), (0.5,) * channels, (0.25,) * channels)


# (a) The matrix-free product is the product with the matrix of Fisher rows.

@pytest.mark.parametrize("kind", ["empirical", "expected"])
def test_the_matrix_free_fisher_product_equals_the_product_with_the_rows(digits, kind):
    model = _tiny_model()
    indices = digits.train[:30]
    rows = persample.fisher_rows(model, digits, indices, kind=kind)
    vector = torch.randn(rows.shape[1], generator=torch.Generator().manual_seed(0))
    expected = rows.T @ (rows @ vector) / len(indices)
    # chunks of 7: four full chunks and a short one
    product = persample.fisher_product(model, digits, indices, kind=kind, chunk_size=7)(vector)
    assert ((product - expected).norm() / expected.norm()).item() < 1e-5


def test_an_unknown_fisher_kind_is_refused_with_a_sentence(digits):
    with pytest.raises(ConfigError, match="unknown Fisher kind 'true'; accepted: expected"):
        persample.fisher_product(_tiny_model(), digits, digits.train[:4], kind="true")


# (b) Influence unlearning by conjugate gradient takes Woodbury's step.

@pytest.fixture(scope="module")
def trained(mnist):
    split = make_split(mnist, forget_classes=[1, 3, 5, 7, 9], forget_fraction=0.5)
    model, _ = trained_model(mnist, split, "cnn", Recipe(epochs=4))
    return model, split


def _step(model, unlearned):
    return torch.cat([(a - b).detach().flatten() for a, b in
                      zip(unlearned.parameters(), model.parameters())])


# Measured on this model: CG stops at relative residual 1e-6 after 19 (empirical, 512
# samples) products; its step and float32 Woodbury's each lie within 1e-5 of a float64
# Woodbury solve, which is the float32 floor. The system's condition number is at most
# 1 + 45 / damping, so a residual of 1e-6 bounds the relative error by about 5e-5: 1e-4
# holds that bound, while a wrong normalisation or product is off by order one.
STEP_TOLERANCE = 1e-4


@pytest.mark.parametrize("kind, samples", [("empirical", 512), ("expected", 128)])
def test_iu_by_conjugate_gradient_takes_the_woodbury_step(mnist, trained, kind, samples):
    model, split = trained
    steps = {solver: _step(model, unlearn("iu", model, mnist, split, fisher=kind,
                                          max_samples=samples, solver=solver))
             for solver in ("woodbury", "cg")}
    difference = (steps["cg"] - steps["woodbury"]).norm() / steps["woodbury"].norm()
    assert difference.item() < STEP_TOLERANCE


def test_auto_keeps_woodbury_on_a_small_model_and_solves_by_cg_over_the_budget(
        mnist, trained, monkeypatch):
    model, split = trained
    retain = fisher.subsample(split.retain, 512, 0)
    assert fisher.chosen_solver("auto", model, mnist, len(retain), "expected") == "woodbury"
    monkeypatch.setenv("MU_MEMORY_BUDGET", str(2**20))
    assert fisher.chosen_solver("auto", model, mnist, len(retain), "empirical") == "cg"


def test_conjugate_gradient_warns_when_its_iteration_cap_stops_it(mnist, trained, monkeypatch):
    model, split = trained
    monkeypatch.setattr(fisher, "CG_MAX_ITERATIONS", 2)
    with pytest.warns(fisher.SolverWarning, match="stopped at its cap of 2 iterations"):
        unlearn("iu", model, mnist, split, max_samples=64, solver="cg")


def test_an_unknown_solver_is_refused_with_a_sentence(mnist, trained):
    model, split = trained
    with pytest.raises(ConfigError, match="unknown iu solver 'lu'; accepted: auto, woodbury, cg"):
        unlearn("iu", model, mnist, split, solver="lu")


def test_conjugate_gradient_solves_a_small_system_and_returns_zero_for_zero():
    generator = torch.Generator().manual_seed(0)
    factor = torch.randn(6, 6, generator=generator, dtype=torch.float64)
    matrix = factor @ factor.T + torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, generator=generator, dtype=torch.float64)
    x, iterations, residual = fisher.conjugate_gradient(lambda v: matrix @ v, b, 1e-12, 50)
    assert torch.allclose(x, torch.linalg.solve(matrix, b)) and residual <= 1e-12
    zero, iterations, _ = fisher.conjugate_gradient(lambda v: matrix @ v, 0 * b, 1e-12, 50)
    assert iterations == 0 and not zero.any()


# (c) The chunk size comes from the budget.

def test_a_large_model_gets_a_small_chunk_and_a_small_model_todays_chunk(mnist):
    small = models.create_for("cnn", mnist, seed=0)
    for kind in ("empirical", "expected"):
        assert persample.budget_chunk(small, mnist, mnist.train[:8], kind) == persample.CHUNK[kind]
    data = synthetic_images(8)
    large = models.create("resnet18", 10, 3, 32, seed=0)
    for kind in ("empirical", "expected"):
        chunk = persample.budget_chunk(large, data, data.train, kind)
        rows = persample.rows_per_sample(kind, 10)
        assert 1 <= chunk < persample.CHUNK[kind]
        assert chunk * rows * persample.parameter_bytes(large) <= persample.memory_budget()
    product_chunk = persample.activation_chunk(large, data, data.train,
                                               persample.PRODUCT_ACTIVATION_COPIES)
    assert product_chunk < persample.CHUNK["empirical"]


def test_the_budget_is_read_from_the_environment_at_each_call(monkeypatch):
    assert persample.chunk_for(1000, 256, budget=10_000) == 10
    assert persample.chunk_for(10**12, 256) == 1  # at least one sample
    assert persample.chunk_for(1, 256) == 256  # at most today's chunk
    monkeypatch.setenv("MU_MEMORY_BUDGET", "5000")
    assert persample.memory_budget() == 5000 and persample.chunk_for(1000, 256) == 5
    monkeypatch.setenv("MU_MEMORY_BUDGET", "2GB")
    with pytest.raises(ConfigError, match="MU_MEMORY_BUDGET must be a positive whole number"):
        persample.memory_budget()


@pytest.mark.parametrize("kind", ["empirical", "expected"])
def test_the_fisher_diagonal_does_not_depend_on_the_chunk_the_budget_picks(digits, kind,
                                                                          monkeypatch):
    model, indices = _tiny_model(), digits.train[:20]
    default = persample.fisher_diagonal(model, digits, indices, kind=kind)
    monkeypatch.setenv("MU_MEMORY_BUDGET", "1")  # one sample per chunk
    single = persample.fisher_diagonal(model, digits, indices, kind=kind)
    for name in default:  # float32 sums in another order: equal to rounding, on any CPU
        scale = default[name].abs().max().item()
        assert torch.allclose(single[name], default[name], rtol=1e-4, atol=1e-6 * scale), name


def test_the_batch_mean_fisher_takes_as_many_classes_per_backward_as_the_budget_holds(
        digits, monkeypatch):
    model, indices = _tiny_model(), digits.train[:20]
    assert persample.class_chunk_for(model, digits, indices, 32) == 10  # all at once
    default = persample.batch_mean_fisher_diagonal(model, digits, indices, batch_size=8)
    monkeypatch.setenv("MU_MEMORY_BUDGET", "1")  # one class per backward
    assert persample.class_chunk_for(model, digits, indices, 8) == 1
    single = persample.batch_mean_fisher_diagonal(model, digits, indices, batch_size=8)
    for name in default:  # float32 sums in another order: equal to rounding, on any CPU
        scale = default[name].abs().max().item()
        assert torch.allclose(single[name], default[name], rtol=1e-4, atol=1e-6 * scale), name
    monkeypatch.delenv("MU_MEMORY_BUDGET")
    data = synthetic_images(8)
    large = models.create("resnet18", 10, 3, 32, seed=0)
    chunk = persample.class_chunk_for(large, data, data.train, 32)
    assert chunk * persample.parameter_bytes(large) <= persample.memory_budget()


# (d) IU on ResNet-18 with 512 samples at 32 px: the memory claim, in a fresh process.

PEAK_CHILD = textwrap.dedent("""
    import json, resource, sys, warnings
    import torch
    from mu_core import models
    from mu_core.splits import make_split
    from mu_core.unlearn import fisher, unlearn
    from tests.test_persample_memory import synthetic_images

    def peak_rss():  # ru_maxrss is kibibytes on Linux, bytes on macOS
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (
            1 if sys.platform == "darwin" else 1024)

    data = synthetic_images(720)
    split = make_split(data, random_fraction=0.1, seed=0)
    model = models.create("resnet18", 10, 3, 32, seed=0)
    fisher.CG_MAX_ITERATIONS = 1  # each product is a pass over the 512 samples
    baseline = peak_rss()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unlearn("iu", model, data, split, max_samples=512)
    print(json.dumps({"extra_bytes": peak_rss() - baseline, "retain": len(split.retain),
                      "cg": any(w.category is fisher.SolverWarning for w in caught)}))
""")


def test_iu_on_resnet18_with_512_samples_peaks_under_4_gb():
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MU_MEMORY_BUDGET": ""}
    done = subprocess.run([sys.executable, "-c", PEAK_CHILD], cwd=ROOT, env=environment,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["retain"] >= 512
    assert result["cg"]  # the rows (23 GB) overflow the budget: the matrix-free path ran
    assert result["extra_bytes"] < 4 * 2**30
