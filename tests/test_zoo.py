"""The plan of unlearning runs refuses every bad request before any training."""

import pytest

from mu_core import models, zoo
from mu_core.errors import ConfigError
from mu_core.splits import make_split
from mu_core.train import Recipe, resolve_device
from mu_core.unlearn.pruning import weight_sparsity

SETTINGS = {"classwise": {"forget_classes": [1, 3], "forget_fraction": 0.5}}


@pytest.mark.parametrize("methods, seeds, hyperparameters, message", [
    ([], [0], {}, "methods must be a non-empty list, got \\[\\]"),
    (["ga"], [], {}, "seeds must be a non-empty list"),
    ("ga", [0], {}, "methods must be a non-empty list, got 'ga'"),
    (["ga"], [0], {"ga": 3}, "hyperparameters\\['ga'\\] must map setting names to values"),
    (["ga"], [0], [("ga", {})], "hyperparameters must map method names"),
    (["ga"], [0], {"gaa": {}}, "unknown methods \\['gaa'\\]"),
    (["ga"], [-1], {}, "seed must be a non-negative integer"),
    (["ga"], [0], {"ga": {"lr": float("nan")}}, "lr must be a finite number"),
])
def test_bad_plans_are_refused_before_training(mnist, methods, seeds, hyperparameters, message):
    with pytest.raises(ConfigError, match=message):
        zoo.plan(mnist, SETTINGS, methods, seeds, hyperparameters)


def test_an_unwritable_cache_is_refused_before_training(mnist, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("MU_CACHE_DIR", str(tmp_path / "file" / "cache"))
    with pytest.raises(ConfigError, match="model cache .* cannot be written.*MU_CACHE=0"):
        zoo.plan(mnist, SETTINGS, ["ga"], [0], {})
    monkeypatch.setenv("MU_CACHE", "0")
    assert len(zoo.plan(mnist, SETTINGS, ["ga"], [0], {})) == 1  # no cache, nothing to write


@pytest.mark.parametrize("call, message", [
    (lambda: models.create("cnn", 10, 1, 28, width=0), "width must be a positive integer"),
    (lambda: models.create("cnn", 10, 1, 28, width=-3), "width must be a positive integer"),
    (lambda: models.create("mlp", 10, 1, 28, hidden=[0]), "hidden must be a list of positive"),
    (lambda: Recipe(epochs=10**9), "epochs must be an integer from 1 to 10000"),
    (lambda: resolve_device("meta"), "device must be 'auto', 'cpu' or 'cuda"),
    (lambda: resolve_device("mps"), "device must be 'auto', 'cpu' or 'cuda|"),
])
def test_bad_models_recipes_and_devices_fail_with_a_sentence(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_a_diverged_unlearning_run_is_named_and_never_cached(mnist, cache_dir, monkeypatch):
    # A method that leaves non-finite weights (a rate too high for it) raises one sentence
    # naming the method before the model is scored or cached; a finite one passes.
    import dataclasses

    import torch

    from mu_core.errors import Diverged
    from mu_core.splits import make_split

    split = make_split(mnist, random_fraction=0.1, seed=0)
    model = models.create_for("mlp", mnist, seed=0, hidden=[8])
    trained = (model, {"config": {"role": "trained", "name": "tiny"}})
    def blow_up(net, *args, **kwargs):
        with torch.no_grad():
            next(net.parameters()).fill_(float("nan"))

    registered = dataclasses.replace(zoo.check_request("ft", split, {}), run=blow_up)
    monkeypatch.setattr(zoo, "check_request", lambda *args: registered)
    with pytest.raises(Diverged, match="unlearning with ft .* diverged.*lower its learning"):
        zoo.unlearned_model(mnist, split, "ft", trained)
    assert not list(cache_dir.glob("*.pt"))


def test_a_dry_run_only_warns_of_a_diverged_model(mnist, cache_dir, monkeypatch):
    # a dry run's models barely trained on synthetic data: their divergence proves nothing
    import torch

    from mu_core import dryrun

    model = models.create_for("mlp", mnist, seed=0, hidden=[8])
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    monkeypatch.setenv(dryrun.ENV, "1")
    with pytest.warns(UserWarning, match="dry run: unlearning with ft .* diverged"):
        zoo.check_finite(model, "unlearning with ft (lr 1)")
    monkeypatch.delenv(dryrun.ENV)
    with pytest.raises(zoo.Diverged):
        zoo.check_finite(model, "unlearning with ft (lr 1)")


@pytest.mark.parametrize("layers, share", [("conv", (144 + 4608) / 71568), ("conv_linear", 1.0)],
                         ids=["conv", "conv_linear"])
def test_a_sparse_model_prunes_the_layers_it_is_given(mnist, cache_dir, layers, share):
    split = make_split(mnist, random_fraction=0.1, train_size=200, seed=0)
    trained = zoo.trained_model(mnist, split, "cnn", Recipe(epochs=1), seed=0)
    model, meta = zoo.sparse_model(mnist, split, trained, sparsity=0.95, recipe=Recipe(epochs=1),
                                   layers=layers)
    assert weight_sparsity(model) == pytest.approx(0.95 * share, abs=1e-3)
    assert meta["config"]["layers"] == layers  # so the two are cached apart


def test_a_bad_sparse_layers_is_refused_naming_the_accepted_ones(mnist):
    with pytest.raises(ConfigError, match=r"unknown sparse_layers 'linear'; accepted: "
                                          r"conv_linear, conv, conv_linear_but_classifier\.$"):
        zoo.check_sparse_layers(mnist, "cnn", "linear")
    with pytest.raises(ConfigError, match="sparse_layers='conv' finds no layer to prune"):
        zoo.check_sparse_layers(mnist, "mlp", "conv")
