import os
import subprocess
import sys
import math

import pytest
import torch

from mu_core import models
from mu_core.errors import ConfigError
from mu_core.splits import make_split
from mu_core.train import (Recipe, evaluate, fit, lr_factor, make_optimizer, predict,
                           resolve_device)


@pytest.fixture(scope="module")
def split(mnist):
    return make_split(mnist, forget_classes=[1, 3], forget_fraction=0.5)


def _fresh(mnist, seed=0):
    return models.create_for("cnn", mnist, seed=seed)


def test_fit_learns_mnist(mnist, split):
    model = _fresh(mnist)
    history = fit(model, mnist, split.train, Recipe(epochs=2, lr=0.05))
    assert history[1] < history[0]
    assert evaluate(model, mnist, split, ("test",))["test"] > 0.9


def test_fit_is_deterministic_on_cpu_for_a_seed(mnist):
    idx = mnist.train[:600]
    recipe = Recipe(epochs=1, augment="crop", batch_size=64)
    a, b, c = _fresh(mnist), _fresh(mnist), _fresh(mnist)
    fit(a, mnist, idx, recipe, seed=3)
    fit(b, mnist, idx, recipe, seed=3)
    fit(c, mnist, idx, recipe, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a[0].weight, c[0].weight)


def test_soft_one_hot_targets_train_like_hard_labels(mnist):
    idx = mnist.train[:300]
    hard, soft = _fresh(mnist), _fresh(mnist)
    recipe = Recipe(epochs=1, batch_size=100)
    fit(hard, mnist, idx, recipe)
    fit(soft, mnist, idx, recipe, targets=torch.nn.functional.one_hot(mnist.labels[idx], 10).float())
    for p, q in zip(hard.parameters(), soft.parameters()):
        assert torch.allclose(p, q, atol=1e-5)


def test_targets_replace_the_labels(mnist):
    idx = mnist.train[:400]
    shifted = (mnist.labels[idx] + 1) % 10
    model = _fresh(mnist)
    fit(model, mnist, idx, Recipe(epochs=6, lr=0.05, batch_size=50), targets=shifted)
    predicted = predict(model, mnist, idx).argmax(1)
    assert (predicted == shifted).float().mean() > 0.9


def test_step_hook_runs_after_every_optimiser_step(mnist):
    calls = []
    fit(_fresh(mnist), mnist, mnist.train[:250], Recipe(epochs=2, batch_size=100),
        step_hook=lambda model: calls.append(model))
    assert len(calls) == 2 * math.ceil(250 / 100)


def test_drop_last_skips_the_incomplete_batch_only_when_a_full_one_exists(mnist):
    def steps(count, drop_last):
        calls = []
        fit(_fresh(mnist), mnist, mnist.train[:count], Recipe(epochs=2, batch_size=100),
            drop_last=drop_last, step_hook=lambda model: calls.append(model))
        return len(calls)

    assert steps(202, drop_last=False) == 2 * 3  # batches of 100, 100 and 2
    assert steps(202, drop_last=True) == 2 * 2  # the 2 left over are skipped
    assert steps(60, drop_last=True) == 2 * 1  # no full batch: the short one trains


@pytest.mark.parametrize("name, kind", [("sgd", torch.optim.SGD), ("adam", torch.optim.Adam),
                                        ("adamw", torch.optim.AdamW)])
def test_make_optimizer_builds_the_named_optimizer_with_the_recipes_rate_and_decay(name, kind):
    model = torch.nn.Linear(2, 3)
    optimizer = make_optimizer(model, Recipe(optimizer=name, lr=1e-4, weight_decay=0.1))
    assert type(optimizer) is kind  # Adam is not AdamW: its weight decay joins the gradient
    assert optimizer.param_groups[0]["lr"] == 1e-4
    assert optimizer.param_groups[0]["weight_decay"] == 0.1


def test_lr_schedules():
    assert lr_factor("cosine", 0.0) == 1.0 and lr_factor("cosine", 0.5) == pytest.approx(0.5)
    assert lr_factor("cosine", 1.0) == pytest.approx(0.0, abs=1e-12)
    assert [lr_factor("step", f) for f in (0.1, 0.5, 0.8)] == pytest.approx([1, 0.1, 0.01])
    assert lr_factor("constant", 0.9) == 1.0


def test_predict_and_evaluate_agree(mnist, split):
    model = _fresh(mnist)
    probs = predict(model, mnist, split.test)
    logits = predict(model, mnist, split.test, output="logits", batch_size=77)
    assert torch.allclose(probs.sum(1), torch.ones(len(split.test)), atol=1e-5)
    assert torch.equal(probs.argmax(1), logits.argmax(1))
    manual = (logits.argmax(1) == mnist.labels[split.test]).float().mean().item()
    assert evaluate(model, mnist, split)["test"] == pytest.approx(manual)
    raw = predict(model, mnist.inputs(split.test[:10]), output="logits")
    assert torch.allclose(raw, logits[:10], atol=1e-5)
    assert math.isnan(evaluate(model, mnist, split, ("val",))["val"])


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -0.1}, "lr must be > 0"),
    ({"lr": float("nan")}, "lr must be a finite number, got nan"),
    ({"weight_decay": float("inf")}, "weight_decay must be a finite number, got inf"),
    ({"lr": "0.1"}, "lr must be a number, got str '0.1'"),
    ({"epochs": 0}, "epochs must be an integer from 1 to 10000"),
    ({"optimizer": "adagrad"}, "unknown optimizer 'adagrad'; accepted: sgd, adam, adamw"),
    ({"schedule": "linear"}, "unknown schedule"),
    ({"label_smoothing": 1.0}, "label_smoothing must be below 1"),
])
def test_bad_recipes_fail_before_training(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Recipe(**kwargs)


def test_bad_targets_and_devices(mnist):
    with pytest.raises(ConfigError, match="targets must align"):
        fit(_fresh(mnist), mnist, mnist.train[:10], targets=torch.zeros(3, dtype=torch.long))
    with pytest.raises(ConfigError, match="no training samples"):
        fit(_fresh(mnist), mnist, mnist.train[:0])
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(ConfigError, match="device must be"):
        resolve_device("gpu0")


def test_a_narrow_resnet_trains_on_one_cpu_thread():
    # Width 4 gives 1x1 stride-2 downsamples with 4 and 8 input channels; in channels_last
    # memory oneDNN's single-threaded kernel for the 4-channel one corrupts the heap and the
    # process aborts. It runs in its own process, on one thread.
    script = ("import torch; from mu_core import models; from mu_core.data import load; "
              "from mu_core.train import Recipe, fit; d = load('digits'); "
              "m = models.create_for('resnet18', d, seed=0, width=4); "
              "[fit(m, d, torch.arange(256), Recipe(epochs=2, lr=0.05, batch_size=64)) "
              "for _ in range(3)]")
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MU_PROGRESS": "0"}
    done = subprocess.run([sys.executable, "-c", script], env=environment,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
