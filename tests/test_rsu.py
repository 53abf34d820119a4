"""RSU (Chen et al.): the Ranking and SeqUnlearn modules, the shadow-model ensemble, the
study's measurements and claim rules on hand-made examples, and the chapter's smoke
results."""

import copy
import dataclasses
import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from torch import nn

from mu_core import book, claims, ensemble
from mu_core.attacks.mia import leave_one_out_scores, lira_statistic, roc_summary
from mu_core.chapter import jsonable
from mu_core.claims import Interval
from mu_core.errors import ConfigError
from mu_core.regime import Leakage
from mu_core.splits import make_split
from mu_core.studies import rsu
from mu_core.train import Recipe
from mu_core.unlearn import METHODS, sequence, unlearn
from mu_core.unlearn.registry import Method
from mu_core.unlearn.sequence import nested_subsets, sample_losses, self_paced_weights
from mu_core.zoo import plan, shadow_models, trained_model

from conftest import ROOT, equal_with_nan


@pytest.fixture(scope="module")
def trained(mnist):
    split = make_split(mnist, random_fraction=0.02, seed=0)
    model, _ = trained_model(mnist, split, "cnn", Recipe(epochs=1), hidden=0)
    return model, split


class ConstantLogits(nn.Module):
    """A model whose logits are the same for every input (a hand-computable predictor)."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits, dtype=torch.float32))

    def forward(self, x):
        return self.logits.expand(len(x), -1)


def _one_hot_logits(value, classes=10):
    return [value] + [0.0] * (classes - 1)


# ---------------------------------------------------------------------------------------
# Eq. 5, the ranking and the nested subsets

def test_self_paced_weights_select_the_losses_below_the_age():
    losses = torch.tensor([0.5, 0.1, 0.9, 0.6])
    assert self_paced_weights(losses, 0.6).tolist() == [1.0, 1.0, 0.0, 0.0]
    assert self_paced_weights(losses, 0.05).tolist() == [0.0, 0.0, 0.0, 0.0]


def test_nested_subsets_on_a_hand_made_example():
    losses = torch.tensor([0.3, 0.1, 0.4, 0.2, 0.5])
    # hard first = lowest loss first: ranks 0.1, 0.2, 0.3 are positions 1, 3, 0
    hard = nested_subsets(losses, 2, "hard_first")
    assert [s.tolist() for s in hard] == [[0, 1, 3], [0, 1, 2, 3, 4]]
    easy = nested_subsets(losses, 2, "easy_first")
    assert [s.tolist() for s in easy] == [[0, 2, 4], [0, 1, 2, 3, 4]]
    five = nested_subsets(losses, 5, "hard_first")
    assert [s.tolist() for s in five] == [[1], [1, 3], [0, 1, 3], [0, 1, 2, 3], [0, 1, 2, 3, 4]]


def test_nested_subsets_grow_by_equal_shares_and_end_with_everything():
    losses = torch.rand(103, generator=torch.Generator().manual_seed(0))
    subsets = nested_subsets(losses, 4)
    assert [len(s) for s in subsets] == [26, 52, 78, 103]
    for smaller, larger in zip(subsets, subsets[1:]):
        assert set(smaller.tolist()) < set(larger.tolist())
        # every sample added later has a higher loss than every sample already in
        added = sorted(set(larger.tolist()) - set(smaller.tolist()))
        assert losses[added].min() > losses[smaller].max()


def test_sample_losses_are_each_samples_cross_entropy(mnist):
    # logits (2, 0, ..., 0): label 0 costs log(e^2 + 9) - 2, any other label log(e^2 + 9)
    model = ConstantLogits(_one_hot_logits(2.0))
    zeros, ones = mnist.train[mnist.labels[mnist.train] == 0][:2], mnist.train[-2:]
    losses = sample_losses(model, mnist, torch.cat([zeros, ones]))
    normaliser = math.log(math.exp(2) + 9)
    assert losses.tolist() == pytest.approx([normaliser - 2] * 2 + [normaliser] * 2, abs=1e-5)


# ---------------------------------------------------------------------------------------
# The method

def test_rsu_with_one_round_is_its_base_method(mnist, trained):
    model, split = trained
    settings = {"epochs": 1, "lr": 0.01}
    alone = unlearn("ga", model, mnist, split, seed=3, **settings)
    sequenced = unlearn("rsu", model, mnist, split, base="ga", rounds=1, base_settings=settings,
                        seed=3)
    for (name, a), b in zip(alone.state_dict().items(), sequenced.state_dict().values()):
        assert torch.equal(a, b), name


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values()))


def test_ga_stopping_rule_ends_at_the_first_step_that_reaches_its_accuracy(mnist, trained):
    # stop_at 1 is met after any step: three epochs in one batch stop after the first, so
    # they equal one epoch; stop_at 0 is not met by a tiny rate, which runs every epoch.
    model, split = trained
    whole = {"lr": 0.01, "batch_size": len(split.forget), "momentum": 0.0,
             "weight_decay": 0.0}
    one_step = unlearn("ga", model, mnist, split, epochs=1, **whole)
    stopped = unlearn("ga", model, mnist, split, epochs=3, stop_at=1.0, **whole)
    assert _same_weights(stopped, one_step)
    tiny = dict(whole, lr=1e-9)
    assert _same_weights(unlearn("ga", model, mnist, split, epochs=3, stop_at=0.0, **tiny),
                         unlearn("ga", model, mnist, split, epochs=3, **tiny))
    assert not _same_weights(unlearn("ga", model, mnist, split, epochs=3, **whole), one_step)


def test_ga_stopping_rule_reads_the_forget_sets_accuracy(mnist, trained, monkeypatch):
    # the rule GA hands to fit: is the accuracy on the forget set at most stop_at? (never,
    # without stop_at or max_steps: every epoch runs)
    from mu_core.unlearn import finetune

    model, split = trained
    rules = []
    monkeypatch.setattr(finetune, "fit", lambda *args, stop=None, **kwargs: rules.append(stop))
    accuracy = trained_accuracy(mnist, model, split)
    assert 0.05 < accuracy
    for stop_at in (accuracy, accuracy - 0.05):
        unlearn("ga", model, mnist, split, stop_at=stop_at)
    unlearn("ga", model, mnist, split)
    assert [rule(model) for rule in rules[:2]] == [True, False]
    assert not any(rules[2](model) for _ in range(1000))


def test_ga_inside_rsu_stops_on_the_whole_forget_request_not_its_round(mnist, trained):
    # a round trains on D_k, the part the model still gets right (accuracy 1), while all of
    # D_u is at 0.5 or below: the rule must read D_u and say "forgot"
    from mu_core.train import predict
    from mu_core.unlearn.finetune import forgot_to

    model, split = trained
    right = predict(model, mnist, split.forget).argmax(1).cpu() == \
        mnist.targets(split.forget).cpu()
    accuracy = right.float().mean().item()
    assert 0 < accuracy < 1
    round_split = dataclasses.replace(split, forget=split.forget[right])
    assert forgot_to(model, mnist, round_split, accuracy)
    assert not forgot_to(model, mnist, round_split, accuracy - 0.01)


def test_rsu_runs_no_round_once_the_forget_request_is_at_the_level(mnist, trained):
    # stop_at 1 is met before any round: RSU over GA leaves the model as it was (a round
    # that always took a step would move it)
    model, split = trained
    settings = {"epochs": 3, "lr": 0.01, "stop_at": 1.0}
    sequenced = unlearn("rsu", model, mnist, split, base="ga", rounds=3,
                        base_settings=settings, seed=3)
    assert _same_weights(sequenced, model)
    moved = unlearn("rsu", model, mnist, split, base="ga", rounds=3,
                    base_settings={"epochs": 3, "lr": 0.01}, seed=3)
    assert not _same_weights(moved, model)


def trained_accuracy(data, model, split) -> float:
    from mu_core.train import predict

    labels = data.targets(split.forget).cpu()
    return (predict(model, data, split.forget).argmax(1) == labels).float().mean().item()


@pytest.mark.parametrize("stop_at", [1.5, -0.1, "unseen"])
def test_ga_refuses_a_stop_at_that_is_not_an_accuracy(mnist, trained, stop_at):
    with pytest.raises(ConfigError, match="ga stop_at"):
        unlearn("ga", trained[0], mnist, trained[1], stop_at=stop_at)


def _recorder(monkeypatch, name, default_epochs=3):
    """Replace method `name` by one that records the split, seed and epochs of every call."""
    seen = []

    def record(model, data, split, *, epochs: int = default_epochs, seed: int = 0):
        seen.append((split, seed, epochs))

    monkeypatch.setitem(METHODS, name, Method(name, record, METHODS[name].kinds, "recorder"))
    return seen


@pytest.fixture
def five_forget(mnist, monkeypatch):
    """A forget set of five samples whose losses are 0.3, 0.1, 0.4, 0.2, 0.5."""
    split = make_split(mnist, forget_indices=mnist.train[[0, 10, 20, 30, 40]].tolist())
    monkeypatch.setattr(sequence, "sample_losses",
                        lambda model, data, indices: torch.tensor([0.3, 0.1, 0.4, 0.2, 0.5]))
    return split


def test_rsu_unlearns_the_lowest_loss_samples_first(mnist, trained, five_forget, monkeypatch):
    seen = _recorder(monkeypatch, "ga")
    unlearn("rsu", trained[0], mnist, five_forget, base="ga", rounds=3, seed=10)
    f = five_forget.forget.tolist()
    # ranks by loss: f[1] (0.1), f[3] (0.2), f[0] (0.3), f[2] (0.4), f[4] (0.5); ages 2, 4, 5
    assert [s.forget.tolist() for s, _, _ in seen] == [[f[1], f[3]], [f[0], f[1], f[2], f[3]],
                                                       f]
    assert [seed for _, seed, _ in seen] == [10, 11, 12]
    assert [epochs for _, _, epochs in seen] == [1, 1, 1]  # the base's 3 epochs, shared
    assert all(torch.equal(s.retain, five_forget.retain) for s, _, _ in seen)  # never shrinks


def test_rsu_rounds_share_the_base_methods_epochs(mnist, trained, five_forget, monkeypatch):
    # Algorithm 1: T iterations in all, the age grown every epoch. 5 epochs over 2 rounds
    # are 2 + 3; by default one round per epoch; "per_round" repeats all of them.
    seen = _recorder(monkeypatch, "ga")
    unlearn("rsu", trained[0], mnist, five_forget, base="ga", rounds=2,
            base_settings={"epochs": 5})
    assert [epochs for _, _, epochs in seen] == [2, 3]
    seen.clear()
    unlearn("rsu", trained[0], mnist, five_forget, base="ga", base_settings={"epochs": 4})
    assert [len(s.forget) for s, _, _ in seen] == [2, 3, 4, 5]  # ages ceil(5k/4)
    assert [epochs for _, _, epochs in seen] == [1, 1, 1, 1]
    seen.clear()
    unlearn("rsu", trained[0], mnist, five_forget, base="ga", rounds=2, budget="per_round",
            base_settings={"epochs": 5})
    assert [epochs for _, _, epochs in seen] == [5, 5]


def test_round_epochs_on_hand_made_examples():
    assert sequence.round_epochs(5, 5) == [1, 1, 1, 1, 1]
    assert sequence.round_epochs(5, 2) == [2, 3]
    assert sequence.round_epochs(10, 4) == [2, 3, 2, 3]
    assert sequence.round_epochs(7, 1) == [7]
    assert sequence.round_epochs(2, 3, "per_round") == [2, 2, 2]
    with pytest.raises(ConfigError, match="rsu rounds must be at most the base method's 2 "
                                          "epochs"):
        sequence.round_epochs(2, 3)
    with pytest.raises(ConfigError, match="unknown rsu budget 'all'; accepted: shared, "
                                          "per_round"):
        sequence.round_epochs(2, 1, "all")


def test_rsu_reverse_order_starts_with_the_highest_losses(mnist, trained, five_forget,
                                                          monkeypatch):
    seen = _recorder(monkeypatch, "rl")
    unlearn("rsu", trained[0], mnist, five_forget, base="rl", rounds=2, order="easy_first")
    f = five_forget.forget.tolist()
    assert [s.forget.tolist() for s, _, _ in seen] == [[f[0], f[2], f[4]], f]


@pytest.mark.parametrize("settings, message", [
    ({"base": "retrain"}, "other than rsu and retrain, got .retrain.; accepted: bu, "),
    ({"base": "gaa"}, "got 'gaa'"),
    ({"base": "ff"}, "rsu base must be an unlearning method that trains for epochs"),
    ({"rounds": 0}, "rsu rounds must be a positive integer"),
    ({"rounds": 3}, "rsu rounds must be at most the base method's 2 epochs"),  # GA's default
    ({"rounds": 3, "base_settings": {"epochs": 3}, "budget": "all"}, "unknown rsu budget"),
    ({"rounds": 10**6}, "at most the 80 forget samples"),
    ({"order": "random"}, "rsu order"),
    ({"base_settings": {"seed": 1}}, "without 'seed'"),
    ({"base_settings": {"epochs": 1, "nesterov": True}},
     "method 'ga' has no hyper-parameter nesterov"),
    ({"base_settings": {"lr": float("nan")}}, "ga lr must be a finite number"),
])
def test_rsu_refuses_bad_settings_before_training(mnist, settings, message):
    split = make_split(mnist, random_fraction=0.02, seed=0)
    with pytest.raises(ConfigError, match=message):
        plan(mnist, {"random": {"random_fraction": 0.02}}, ["rsu"], [0], {"rsu": settings})
    assert len(split.forget) == 80


# ---------------------------------------------------------------------------------------
# The shadow-model ensemble

def test_batch_streams_walk_each_models_kept_samples_once_per_epoch():
    keep = torch.zeros(3, 40, dtype=torch.bool)
    for m in range(3):
        keep[m, torch.randperm(40, generator=torch.Generator().manual_seed(m))[:20]] = True
    streams = ensemble.batch_streams(keep, epochs=2, batch_size=5, seeds=[0, 1, 2])
    assert streams.shape == (8, 3, 5)  # 2 epochs x 20 / 5 steps, 3 models, 5 per batch
    for m in range(3):
        visits = torch.bincount(streams[:, m].flatten(), minlength=40)
        assert torch.equal(visits, keep[m].long() * 2)


def _random_pool(data, size):
    """`size` random training samples (mnist5k's training split is sorted by class)."""
    order = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(0))
    return data.train[order[:size]].sort().values


def test_ensemble_equals_training_each_model_alone(mnist):
    pool = _random_pool(mnist, 300)
    keep = torch.rand(3, 300, generator=torch.Generator().manual_seed(0)) < 0.5
    recipe = Recipe(epochs=2, lr=0.05, batch_size=32)
    stacked = ensemble.fit_ensemble(mnist, pool, keep, "cnn", recipe, seeds=[4, 5, 6],
                                    vectorized=True, hidden=0)
    alone = ensemble.fit_ensemble(mnist, pool, keep, "cnn", recipe, seeds=[4, 5, 6],
                                  vectorized=False, hidden=0)
    for name, value in stacked.params.items():
        # float sums in another order, amplified over 20 steps: ~5e-4 at most (weights of
        # order 0.1-1); another batch order or seed would differ by the weights' own size
        assert torch.allclose(value, alone.params[name], atol=2e-3, rtol=0), name
        assert not torch.allclose(value[0], value[1])  # the models differ
    logits = stacked.logits(mnist, mnist.test[:50])
    with torch.no_grad():
        each = torch.stack([alone.model(m)(mnist.inputs(mnist.test[:50])) for m in range(3)])
    assert logits.shape == (3, 50, 10)
    assert torch.allclose(logits, each, atol=2e-2, rtol=0)
    assert torch.equal(logits.argmax(2), each.argmax(2))


def test_online_lira_separates_members_of_real_shadow_models(mnist):
    # 8 shadow models, each trained on half of 256 random samples until it fits them:
    # leave-one-out LiRA must tell its training samples from the others well above chance.
    pool = _random_pool(mnist, 256)
    recipe = Recipe(epochs=20, lr=0.1, batch_size=32, schedule="step")
    shadows, keep, _ = shadow_models(mnist, pool, "cnn", recipe, count=8, seed=0, hidden=0)
    assert keep.sum(0).eq(4).all()  # every sample in exactly half of them
    stats = lira_statistic(shadows.logits(mnist, pool))
    for fix_variance in (True, False):
        scores = leave_one_out_scores(stats, keep, fix_variance=fix_variance)
        assert roc_summary(scores, keep)["auc"] > 0.65


def test_ensemble_refuses_bad_requests(mnist):
    pool = mnist.train[:10]
    keep = torch.ones(2, 10, dtype=torch.bool)
    recipe = Recipe(epochs=1)
    with pytest.raises(ConfigError, match="keep must be a bool tensor"):
        ensemble.fit_ensemble(mnist, pool, keep.float(), "cnn", recipe, seeds=[0, 1])
    with pytest.raises(ConfigError, match="seeds must be 2 non-negative integers"):
        ensemble.fit_ensemble(mnist, pool, keep, "cnn", recipe, seeds=[0])
    with pytest.raises(ConfigError, match="plain SGD"):
        ensemble.fit_ensemble(mnist, pool, keep, "cnn",
                              dataclasses.replace(recipe, optimizer="adamw"), seeds=[0, 1])
    keep[1] = False
    with pytest.raises(ConfigError, match="a row of keep is all False"):
        ensemble.fit_ensemble(mnist, pool, keep, "cnn", recipe, seeds=[0, 1])


# ---------------------------------------------------------------------------------------
# The study's settings and checks

def test_setup_settings_repeat_the_recipe_for_retraining_only(mnist):
    recipe = Recipe(epochs=7, lr=0.3, schedule="step")
    setup = rsu.Setup(mnist, "cnn", {"hidden": 0}, recipe, {"ga": {"lr": 0.5}})
    assert setup.settings("ga", 3) == {"lr": 0.5, "seed": 3}
    assert setup.settings("ga", 3, {"epochs": 1}) == {"epochs": 1, "seed": 3}
    retrain = setup.settings("retrain", 2)
    assert (retrain["epochs"], retrain["lr"], retrain["schedule"], retrain["seed"]) == \
        (7, 0.3, "step", 2)


def test_unseen_level_is_zero_for_a_class_and_test_accuracy_for_random_samples(mnist):
    model = ConstantLogits(_one_hot_logits(5.0))  # predicts class 0 for every input
    by_class = make_split(mnist, forget_classes=[0], seed=0)
    by_chance = make_split(mnist, random_fraction=0.1, seed=0)
    assert rsu.unseen_level(mnist, by_class, model) == 0.0
    share = (mnist.targets(by_chance.test) == 0).float().mean().item()
    assert rsu.unseen_level(mnist, by_chance, model) == pytest.approx(share)


def test_unseen_stop_is_set_once_from_the_trained_model_alone_and_inside_rsu(
        mnist, monkeypatch):
    # GA alone and GA inside RSU's rounds stop at the same level: the trained model's,
    # not the level of a model some rounds have already changed
    seen = []
    monkeypatch.setattr(rsu.experiment, "unlearned_model",
                        lambda data, split, method, trained, **settings: seen.append(settings))
    monkeypatch.setattr(rsu.experiment, "unseen_level", lambda data, split, model: 0.875)
    setup = rsu.Setup(mnist, "cnn", {"hidden": 0}, Recipe(epochs=1), {})
    split = make_split(mnist, random_fraction=0.1, seed=0)
    ga = {"lr": 0.01, "stop_at": "unseen"}
    setup.unlearned(split, (None, {}), "ga", ga, 0)
    setup.unlearned(split, (None, {}), "rsu", {"base": "ga", "base_settings": ga}, 0)
    setup.unlearned(split, (None, {}), "ga", {"lr": 0.01, "stop_at": 0.5}, 0)
    assert seen[0]["stop_at"] == seen[1]["base_settings"]["stop_at"] == 0.875
    assert seen[1]["base_settings"]["lr"] == 0.01 and ga["stop_at"] == "unseen"
    assert seen[2]["stop_at"] == 0.5


def test_check_requests_accept_an_unseen_stop_and_refuse_a_misspelt_one(mnist, cache_dir):
    setup = rsu.Setup(mnist, "cnn", {"hidden": 0}, Recipe(epochs=1), {"ga": {"epochs": 2}})
    scenarios = {"class": {"forget_classes": [0]}}

    def plan_for(stop):
        return rsu.scenario_variants(scenarios, ["ga"], setup.hyperparameters,
                                     {"class": {"ga": {"stop_at": stop}}}, 2, "ga")
    options = {"candidates": 10, "shadow_count": 6, "fix_variance": True,
               "inversion_steps": 5, "relearn_lr": 0.01, "relearn_epochs": 2}
    rsu.check_requests(setup, scenarios, plan_for("unseen"), ["ga"], [0], 10, **options)
    with pytest.raises(ConfigError, match="ga stop_at"):
        rsu.check_requests(setup, scenarios, plan_for("unsen"), ["ga"], [0], 10, **options)


def test_sizes_and_shadow_counts_are_checked_before_training():
    rsu.check_sizes(5, 10, 100)
    with pytest.raises(ConfigError, match="at most inversion_candidates"):
        rsu.check_sizes(11, 10, 100)
    with pytest.raises(ConfigError, match="at most the 100 training samples"):
        rsu.check_sizes(5, 101, 100)
    # a separate MI High size: it, not subset_size, must fit the candidates
    rsu.check_sizes(50, 30, 100, mi_high_size=20)
    with pytest.raises(ConfigError, match=r"mi_high_size \(31\) must be at most "
                                          r"inversion_candidates \(30\)"):
        rsu.check_sizes(50, 30, 100, mi_high_size=31)
    with pytest.raises(ConfigError, match=r"subset_size \(101\) must be at most the 100"):
        rsu.check_sizes(101, 30, 100, mi_high_size=20)
    with pytest.raises(ConfigError, match="mi_high_size must be a positive integer"):
        rsu.check_sizes(50, 30, 100, mi_high_size=0)
    # leave-one-out with a pooled variance needs some sample in and out of 3 models; with
    # every sample in half of them, 6 models is the least
    rsu.check_shadow_count(6, True)
    rsu.check_shadow_count(6, False)
    for fix_variance in (True, False):
        with pytest.raises(ConfigError, match="shadow_count 4 is too few"):
            rsu.check_shadow_count(4, fix_variance)


def test_check_requests_refuses_bad_requests_before_any_training(mnist, cache_dir):
    setup = rsu.Setup(mnist, "cnn", {"hidden": 0}, Recipe(epochs=1), {})
    scenarios = {"class": {"forget_classes": [0]}, "random": {"random_fraction": 0.1}}
    runs = rsu.scenario_variants(scenarios, ["ga"], {}, {}, 2, "ga")
    sizes = {"candidates": 10, "shadow_count": 6, "fix_variance": True, "inversion_steps": 5,
             "relearn_lr": 0.01, "relearn_epochs": 3}
    full = rsu.check_requests(setup, scenarios, runs, ["ga", "retrain"], [0], 5, **sizes)
    assert torch.equal(full.train, mnist.train)  # the trained model's training set
    with pytest.raises(ConfigError, match="at most inversion_candidates"):
        rsu.check_requests(setup, scenarios, runs, ["ga"], [0], 11, **sizes)
    with pytest.raises(ConfigError, match="shadow_count 4 is too few"):
        rsu.check_requests(setup, scenarios, runs, ["ga"], [0], 5,
                           **{**sizes, "shadow_count": 4})
    for budget, value in [("relearn_epochs", 10**9), ("inversion_steps", 0),
                          ("shadow_count", 10**6)]:
        with pytest.raises(ConfigError, match=f"{budget} must be an integer from"):
            rsu.check_requests(setup, scenarios, runs, ["ga"], [0], 5,
                               **{**sizes, budget: value})
    with pytest.raises(ConfigError, match="relearn_lr must be > 0"):
        rsu.check_requests(setup, scenarios, runs, ["ga"], [0], 5, **{**sizes, "relearn_lr": 0})
    for key, value, message in [("inversion_precision", "float16", "unknown "
                                 "inversion_precision 'float16'; accepted: float64, float32"),
                                ("inversion_success", 1.5, "SSIM threshold from -1 to 1"),
                                ("fix_variance", "yes", "lira_fix_variance must be True")]:
        with pytest.raises(ConfigError, match=message):
            rsu.check_requests(setup, scenarios, runs, ["ga"], [0], 5, **{**sizes, key: value})
    for methods in (["gaa"], ["retrain"], [], "ga"):
        with pytest.raises(ConfigError, match="rsu_methods must be a non-empty list of methods "
                                              "RSU can sequence"):
            rsu.scenario_variants(scenarios, methods, {}, {}, 2, "ga")
    with pytest.raises(ConfigError, match="ablation_method must be one of rsu_methods that "
                                          r"can be .* \(max_steps; here: ga\), got 'rl'"):
        rsu.scenario_variants(scenarios, ["ga"], {}, {}, 2, "rl")
    bad_retrain = dataclasses.replace(setup, hyperparameters={"retrain": {"momentum": 0.9}})
    with pytest.raises(ConfigError, match="'retrain' has no hyper-parameter momentum"):
        rsu.check_requests(bad_retrain, scenarios, runs, ["ga"], [0], 5, **sizes)


def test_differences_name_the_rounds_and_the_scenario_settings(mnist):
    setup = rsu.Setup(mnist, "cnn", {"hidden": 0}, Recipe(epochs=8, lr=0.1, schedule="step"),
                      {"ga": {"epochs": 5}})
    params = {"risk_methods": ["ga"], "rsu_methods": ["ga"], "subset_size": 50,
              "forget_class": 0, "random_fraction": 0.1, "rounds": 5, "shadow_count": 16,
              "lira_fix_variance": True, "inversion_candidates": 200, "inversion_steps": 150,
              "inversion_precision": "float32", "seeds": [0, 1, 2],
              "scenario_hyperparameters": {"class": {"ga": {"lr": 0.005}}}}
    table = rsu.differences(setup, params)
    assert table.loc["RSU rounds", "here"].startswith("5, sharing the method's epochs")
    # the paper does not say whether it augments; ours does not (issue 32: it was unnamed)
    assert table.loc["training", "paper"].endswith("; augmentation not stated")
    assert "; no augmentation (the shadow models train on fixed images)" in \
        table.loc["training", "here"]
    assert table.loc["unlearning in class forgetting", "here"] == "ga: lr 0.005 (the rest as " \
                                                                   "above)"
    assert "epochs 5" in table.loc["unlearning: ga", "here"]
    assert table.loc["unlearning: ga", "paper"] == "5 epochs, lr tuned in [0.0001, 0.01]"
    assert table.loc["risk sets (Tables 1-2)", "here"].startswith("MI High 50 samples, MIA "
                                                                  "High and Low 50")
    reference = table.loc["gradient inversion, as Geiping et al.'s reference code"]
    assert "Adam on the gradient's sign, lr 0.1 on normalised inputs" in reference.paper
    assert "4,000 steps, total variation 0.0001" in reference.paper
    assert "plain Adam, lr 0.3 on [0, 1] pixels" in reference.here and "150 steps" in \
        reference.here
    smaller = rsu.differences(setup, {**params, "mi_high_size": 20})
    assert smaller.loc["risk sets (Tables 1-2)", "here"].startswith("MI High 20 samples")
    # a smaller MI High is a smaller dose of GA (fewer batches an epoch): named
    assert smaller.loc["risk sets (Tables 1-2)", "here"].endswith(
        "; GA takes fewer steps on the smaller MI High")
    assert "fewer steps" not in table.loc["risk sets (Tables 1-2)", "here"]
    assert smaller.loc["gradient inversion", "here"].endswith("MI High: the 20 of highest SSIM")


def test_paper_dataset_names_the_rows_beside_ours():
    assert rsu.paper_dataset("cifar10") == ("cifar10", "the paper's cifar10 rows (ResNet-18)")
    key, note = rsu.paper_dataset("mnist5k")
    assert key == "mnist" and "has no mnist5k rows" in note


# ---------------------------------------------------------------------------------------
# Part one on hand-made risks

def _risks(train, **fields):
    """A `Risks` over `train` with every per-sample field zero unless given."""
    n = len(train)
    zeros = torch.zeros(n)
    values = dict(asr=zeros, loss=zeros, confidence=zeros, entropy=zeros,
                  shadow_stats=torch.zeros(4, n, dtype=torch.float64),
                  shadow_in=torch.zeros(4, n, dtype=torch.bool), fix_variance=True, lira=None,
                  pool_size=2 * n,
                  candidates=train, inversion_ssim=zeros, reconstructions=None)
    return rsu.Risks(train=torch.as_tensor(train), **{**values, **fields})


def test_positions_refuse_samples_outside_the_training_set():
    risks = _risks(torch.tensor([2, 5, 9]))
    assert risks.positions(torch.tensor([5, 9])).tolist() == [1, 2]
    for outside in ([4], [10]):
        with pytest.raises(ConfigError, match="must be training samples"):
            risks.positions(torch.tensor(outside))


def test_forget_sets_take_the_best_inverted_and_the_highest_asr():
    train = torch.tensor([10, 20, 30, 40, 50, 60])
    risks = _risks(train, asr=torch.tensor([0.1, 0.9, 0.5, 0.8, 0.2, 0.3]),
                   candidates=torch.tensor([20, 40, 60]),
                   inversion_ssim=torch.tensor([0.2, 0.7, 0.9]))
    sets = rsu.forget_sets(risks, 2, seed=0)
    assert sets["mi_high"].tolist() == [40, 60]
    assert sets["mia_high"].tolist() == [20, 40]
    assert len(sets["low"]) == 2 and set(sets["low"].tolist()) <= set(train.tolist())
    assert torch.equal(sets["low"], rsu.forget_sets(risks, 2, seed=0)["low"])
    with pytest.raises(ConfigError, match="at most the 3 inversion candidates"):
        rsu.forget_sets(risks, 4, seed=0)
    # MI High of its own size, the other sets of `size`
    mixed = rsu.forget_sets(risks, 4, seed=0, mi_high_size=1)
    assert mixed["mi_high"].tolist() == [60]
    assert len(mixed["mia_high"]) == len(mixed["low"]) == 4
    with pytest.raises(ConfigError, match="mi_high_size must be at most the 3 inversion"):
        rsu.forget_sets(risks, 2, seed=0, mi_high_size=4)


def test_highest_breaks_ties_at_random_not_by_position():
    values = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.5, 2.0])
    picks = {tuple(sorted(rsu.highest(values, 3, seed).tolist())) for seed in range(20)}
    assert all(5 in p and 4 not in p for p in picks)  # the top is always in, 0.5 never
    assert len(picks) > 1  # which two of the tied four, the seed decides
    assert torch.equal(rsu.highest(values, 3, 7), rsu.highest(values, 3, 7))


def test_in_class_tail_marks_samples_below_their_class_boundary():
    labels = torch.tensor([0] * 5 + [1] * 5)
    data = SimpleNamespace(targets=lambda idx: labels[idx], num_classes=2)
    confidence = torch.tensor([0.99, 0.98, 0.97, 0.96, 0.10, 0.9, 0.8, 0.7, 0.6, 0.5])
    risks = _risks(torch.arange(10), confidence=confidence)
    # boundaries 0.96 and 0.6 (the lowest of each class's top 80%): at it is not below
    assert rsu.in_class_tail(data, risks, torch.tensor([3, 4, 8, 9, 0])).tolist() == \
        [False, True, False, True, False]


def test_in_class_tail_agrees_with_a_loop_over_samples_on_ragged_classes():
    # classes of 1 to 9 samples (one class absent), tied confidences, in shuffled order:
    # each sample against its class's boundary, found one sample at a time
    generator = torch.Generator().manual_seed(0)
    labels = torch.cat([torch.full((k,), c) for c, k in enumerate([1, 2, 0, 5, 9, 3, 7, 4])])
    labels = labels[torch.randperm(len(labels), generator=generator)]
    confidence = torch.randint(0, 6, (len(labels),), generator=generator).float() / 5
    data = SimpleNamespace(targets=lambda idx: labels[idx], num_classes=9)
    risks = _risks(torch.arange(len(labels)), confidence=confidence)
    expected = []
    for i in range(len(labels)):
        mine = confidence[labels == labels[i]].sort(descending=True).values
        expected.append(bool(confidence[i] < mine[math.ceil(0.8 * len(mine)) - 1]))
    picked = torch.randperm(len(labels), generator=generator)
    assert rsu.in_class_tail(data, risks, picked.sort().values).tolist() == \
        [expected[i] for i in picked.sort().values.tolist()]
    assert any(expected) and not all(expected)
    boundary = rsu.class_boundaries(confidence, labels, 9)
    assert math.isnan(boundary[2]) and math.isnan(boundary[8])  # classes with no sample


def _lira_risks(train):
    """Shadow statistics of 4 models on 4 samples, each in 2 of them: samples 0 and 1 score
    about 5 when in and 0 when out, samples 2 and 3 about 10 when in and 5 when out."""
    keep = torch.tensor([[1, 0, 1, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 1, 0, 1]]).bool()
    in_mean = torch.tensor([5.0, 5.0, 10.0, 10.0])
    noise = torch.tensor([[0.1, -0.1, 0.1, -0.1], [-0.1, 0.1, -0.1, 0.1]] * 2)
    stats = torch.where(keep, in_mean, in_mean - 5) + noise
    return _risks(train, shadow_stats=stats.double(), shadow_in=keep)


def test_membership_share_is_the_share_lira_calls_members(mnist):
    train = mnist.train[:4]
    risks = _lira_risks(train)
    # a logit gap of 5 is "in" for samples 0-1 and "out" for samples 2-3
    share = rsu.membership_share(ConstantLogits(_one_hot_logits(5.0)), mnist, train, risks)
    assert share == 0.5
    assert rsu.membership_share(ConstantLogits(_one_hot_logits(10.0)), mnist, train, risks) == 1
    assert rsu.membership_share(ConstantLogits(_one_hot_logits(0.0)), mnist, train, risks) == 0
    assert rsu.membership_share(ConstantLogits(_one_hot_logits(5.0)), mnist, train[:2],
                                risks) == 1


def test_scores_are_the_accuracies_of_each_subset(mnist):
    # always predicting class 0: each accuracy is the subset's share of label 0
    zeros = mnist.train[mnist.labels[mnist.train] == 0]
    split = make_split(mnist, forget_indices=zeros[:4].tolist())
    risks = _lira_risks(zeros[:4])
    measured = rsu.scores(ConstantLogits(_one_hot_logits(5.0)), mnist, split, risks)
    share = {name: (mnist.labels[getattr(split, name)] == 0).float().mean().item()
             for name in ("retain", "test")}
    assert measured["forget"] == 1.0
    assert measured["retain"] == pytest.approx(share["retain"])
    assert measured["val"] == pytest.approx(share["test"])
    assert measured["val_kept"] == measured["val"]  # no class forgotten whole
    assert measured["mia"] == 0.5
    assert "forget_correct" not in measured
    each = rsu.scores(ConstantLogits(_one_hot_logits(5.0)), mnist, split, risks, per_sample=True)
    assert each["forget_correct"] == [1, 1, 1, 1] and each["member_calls"] == [1, 1, 0, 0]


def test_scores_read_the_kept_classes_in_whole_class_forgetting(mnist):
    # always predicting class 0 with class 0 forgotten: no kept test sample is right
    split = make_split(mnist, forget_classes=[0])
    risks = _risks(mnist.train, shadow_stats=torch.zeros(4, len(mnist.train),
                                                         dtype=torch.float64),
                   shadow_in=torch.tensor([[1], [1], [0], [0]]).bool().expand(
                       4, len(mnist.train)))
    measured = rsu.scores(ConstantLogits(_one_hot_logits(5.0)), mnist, split, risks)
    assert measured["val_kept"] == 0.0
    assert measured["val"] == pytest.approx((mnist.labels[split.test] == 0).float().mean().item())


def test_per_sample_predictions_on_a_constant_model(mnist):
    model = ConstantLogits([math.log(0.5), math.log(0.25), math.log(0.25)] + [-1e4] * 7)
    zero, one = (mnist.train[mnist.labels[mnist.train] == c][:1] for c in (0, 1))
    loss, confidence, entropy = rsu.per_sample_predictions(model, mnist, torch.cat([zero, one]))
    assert confidence.tolist() == pytest.approx([0.5, 0.25])
    assert loss.tolist() == pytest.approx([math.log(2), math.log(4)])
    assert entropy.tolist() == pytest.approx([1.5 * math.log(2)] * 2)


def test_risk_profile_averages_each_set():
    risks = _risks(torch.arange(4), asr=torch.tensor([0.2, 0.4, 0.6, 1.0]),
                   loss=torch.tensor([1.0, 2.0, 3.0, 4.0]))
    profile = rsu.risk_profile(risks, {"a": torch.tensor([0, 1]), "b": torch.tensor([2, 3])})
    assert profile.loc["a", "ASR"] == pytest.approx(0.3)
    assert profile.loc["b", "loss"] == pytest.approx(3.5)


def test_risk_figure_names_each_sets_size():
    # MI High (12 at the cpu preset) is smaller than MIA High and Low (50): a box must say
    # how many samples it summarises (before, three boxes looked alike)
    risks = _risks(torch.arange(6), asr=torch.tensor([0.2, 0.4, 0.6, 1.0, 0.5, 0.1]))
    figure = rsu.risk_figure(risks, {"mi_high": torch.tensor([0]),
                                     "low": torch.tensor([1, 2, 3, 4, 5])})
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels == ["mi_high\n(n=1)", "low\n(n=5)"]


def test_inversion_figure_shows_the_best_and_the_worst(mnist):
    risks = _risks(mnist.train[:6], candidates=mnist.train[:6],
                   inversion_ssim=torch.tensor([0.1, 0.9, 0.5, 0.3, 0.7, 0.2]),
                   reconstructions=torch.zeros(6, 1, 28, 28))
    figure = rsu.inversion_figure(mnist, risks, 0.6, count=4)
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles == ["0.90 ok", "0.70 ok", "0.20", "0.10"]


def test_logit_distribution_splits_each_class_at_its_top_80_percent():
    labels = torch.tensor([0] * 5 + [1] * 5)
    data = SimpleNamespace(targets=lambda idx: labels[idx], num_classes=2)
    confidence = torch.tensor([0.99, 0.98, 0.97, 0.96, 0.10, 0.9, 0.8, 0.7, 0.6, 0.5])
    risks = _risks(torch.arange(10), confidence=confidence)
    sets = {"mi_high": torch.tensor([4, 8, 9]), "low": torch.tensor([0, 1, 5])}
    table = rsu.logit_distribution(data, risks, sets)
    assert table.loc[0, "top 80%"] == "0.9900-0.9600"
    assert table.loc[0, "bottom 20%"] == "0.1000-0.1000"
    assert table.boundary.tolist() == pytest.approx([0.96, 0.6])
    assert table["MI High median"].tolist() == pytest.approx([0.10, 0.55])  # mid of 0.6, 0.5
    assert table["Low median"].tolist() == pytest.approx([0.985, 0.9])
    assert table.loc[0, "paper MI High"] == 0.9981  # CIFAR-10, class 0


def test_loss_intervals_and_correlation_on_a_hand_made_example():
    loss = torch.tensor([0.5, 0.1, 0.3, 0.2, 0.4, 0.6])
    risks = _risks(torch.arange(6), loss=loss, asr=torch.tensor([0.6, 0.2, 0.4, 0.3, 0.5, 0.7]))
    intervals = rsu.loss_intervals(risks, 3)
    assert intervals["mean ASR"].tolist() == pytest.approx([0.25, 0.45, 0.65])
    assert intervals["loss to"].tolist() == pytest.approx([0.2, 0.4, 0.6])
    assert rsu.loss_asr_correlation(risks) == pytest.approx(1.0)
    reversed_risks = _risks(torch.arange(6), loss=loss, asr=1 - loss)
    assert rsu.loss_asr_correlation(reversed_risks) == pytest.approx(-1.0)


SAMPLES = 40  # per forget set in the hand-made runs of part one


def _flags(share, n=SAMPLES):
    """n 0/1 values, the first round(share * n) of them 1."""
    k = int(round(share * n))
    return [1] * k + [0] * (n - k)


def _runs(high_forget=(0.5, 0.6), low_forget=(0.9, 0.95), high_calls=0.4, low_calls=0.9,
          relearn=(3.0, 1.0), methods=("ga", "rl"), original_high=1.0):
    """Rows of `risk_runs` over `SAMPLES` samples a set: every method on both High sets and
    the Low set (Acc_Du `high_forget` / `low_forget` per method; the share LiRA calls
    members `high_calls` / `low_calls`, a number or one per method), and the original
    model (Acc_Du `original_high` on the High sets, 1 on the Low set; every sample called
    a member)."""
    originals = {"mi_high": original_high, "mia_high": original_high, "low": 1.0}
    per_method = (lambda v: v if isinstance(v, (tuple, list)) else [v] * len(methods))
    rows = []
    for method, hf, lf, hc, lc in zip(methods, high_forget, low_forget, per_method(high_calls),
                                      per_method(low_calls)):
        for name, forget, calls, epochs in (("mi_high", hf, hc, relearn[0]),
                                            ("mia_high", hf, hc, relearn[0]),
                                            ("low", lf, lc, relearn[1])):
            rows.append({"set": name, "method": method, "retain": 0.5, "val": 0.4,
                         "forget": forget, "forget_drop": originals[name] - forget,
                         "mia": calls, "mia_gap": 1 - calls, "relearn": epochs,
                         "forget_correct": _flags(forget), "member_calls": _flags(calls)})
    for name, forget in originals.items():
        rows.append({"set": name, "method": "original", "retain": 0.6, "val": 0.5,
                     "forget": forget, "forget_drop": 0.0, "mia": 1.0, "mia_gap": float("nan"),
                     "relearn": 0.0, "forget_correct": _flags(forget),
                     "member_calls": _flags(1.0)})
    return pd.DataFrame(rows)


def test_risk_runs_score_each_set_against_the_original(mnist, monkeypatch):
    # The original always says 0 with a logit gap of 5, the unlearned model always says 1
    # with a gap of 10. On a set of four zeros: Acc_Du 1 -> 0 (a drop of 1); LiRA calls
    # samples 0-1 members at a gap of 5 and all four at 10 (`_lira_risks`): MIA 0.5 -> 1.
    zeros = mnist.train[mnist.labels[mnist.train] == 0][:4]
    original, unlearned = ConstantLogits(_one_hot_logits(5.0)), \
        ConstantLogits([0.0, 10.0] + [0.0] * 8)
    calls = []

    def fake_unlearned(split, trained, method, settings, seed):
        calls.append((method, split.forget.tolist(), seed))
        return unlearned, {"seconds": 2.0}

    setup = SimpleNamespace(data=mnist, unlearned=fake_unlearned)
    relearn = {"ga": None, "rl": 3}
    monkeypatch.setattr(rsu.experiment, "relearn_time", lambda model, data, split, reference, **kw:
                        relearn[calls[-1][0]])
    runs = rsu.risk_runs(setup, (original, {}), {"low": zeros}, ["ga", "rl"],
                         _lira_risks(zeros), seed=7, relearn_lr=0.01, relearn_epochs=5)
    assert calls == [("ga", zeros.tolist(), 7), ("rl", zeros.tolist(), 7)]
    rows = runs.set_index("method")
    assert rows.loc["original", "forget"] == 1.0 and rows.loc["original", "mia"] == 0.5
    assert rows.loc["ga", "forget"] == 0.0 and rows.loc["ga", "forget_drop"] == 1.0
    assert rows.loc["ga", "mia"] == 1.0 and rows.loc["ga", "mia_gap"] == 0.5
    assert np.isnan(rows.loc["ga", "relearn"]) and rows.loc["rl", "relearn"] == 3.0
    share_of_ones = (mnist.labels[mnist.test] == 1).float().mean().item()
    assert rows.loc["rl", "val"] == pytest.approx(share_of_ones)


def test_risk_table_puts_the_papers_row_beside_ours():
    runs = _runs()
    table = rsu.risk_table(runs, "mi", "mnist5k")
    assert list(table.index) == [("ga", "low"), ("ga", "high"), ("rl", "low"), ("rl", "high"),
                                 ("original", "low"), ("original", "high")]
    assert table.loc[("ga", "high"), "Acc_Du"] == "50.00"
    assert table.loc[("ga", "high"), "paper Acc_Du"] == "89.00"  # Table 1, MNIST, GA
    assert table.loc[("rl", "low"), "paper MIA gap"] == "0.02"
    assert table.loc[("ga", "high"), "MIA gap"] == "0.60"
    assert table.loc[("original", "high"), "paper MIA gap"] == ""  # printed "-"
    two = rsu.risk_table(runs, "mia", "cifar10")
    assert two.loc[("ga", "high"), "paper Acc_Du"] == "80.00"  # Table 2, CIFAR10, GA
    assert two.loc[("ga", "high"), "paper Acc_Dr"] == ""  # unreadable in print
    assert two.loc[("ga", "low"), "paper Acc_val"] == "94.38"


def _rsu_rows(values, forget=None, trained_forget=1.0):
    """Rows of `rsu_runs`: values[(scenario, run)] = per seed ToW (Acc_Dr, Acc_val and
    Acc_val on the kept classes equal it); Acc_Du 0 unless `forget`[(scenario, run)] gives
    it per seed; the trained model's Acc_Du `trained_forget` on every seed of each
    scenario."""
    forget = forget or {}
    rows = []
    for (scenario, run), per_seed in values.items():
        for seed, value in enumerate(per_seed):
            rows.append({"scenario": scenario, "seed": seed, "run": run, "tow": value,
                         "retain": value, "val": value, "val_kept": value,
                         "forget": forget.get((scenario, run), [0.0] * len(per_seed))[seed],
                         "mia_gap": 0.0})
    for scenario, seeds in {s: len(v) for (s, _), v in values.items()}.items():
        for seed in range(seeds):
            rows.append({"scenario": scenario, "seed": seed, "run": "trained", "tow": 0.0,
                         "retain": 1.0, "val": 1.0, "val_kept": 1.0, "forget": trained_forget,
                         "mia_gap": 0.0})
    return pd.DataFrame(rows)


def test_rsu_table_puts_the_papers_row_beside_ours():
    rows = _rsu_rows({("class", "retrain"): (1.0, 1.0), ("class", "ga"): (0.5, 0.7),
                      ("class", "ga+rsu"): (0.6, 0.6), ("random", "retrain"): (1.0, 1.0),
                      ("random", "ga"): (0.9, 0.9), ("random", "ga+rsu"): (0.8, 1.0)})
    table = rsu.rsu_table(rows, "class", ["ga"], "mnist5k")
    assert list(table.index) == ["trained", "retrain", "ga", "ga+rsu"]
    assert table.loc["ga", "Acc_Dr"] == "60.00\u00a0±\u00a010.00"
    assert table.loc["ga+rsu", "ToW"] == "0.60\u00a0±\u00a00.00"
    assert table.loc["ga", "paper Acc_Dr"] == "96.96"  # Table 5, MNIST, GA without
    assert table.loc["ga+rsu", "paper Acc_val"] == "87.52"  # with RSU
    assert table.loc["ga", "paper MIA gap"] == ""  # Table 5 has none
    random = rsu.rsu_table(rows, "random", ["ga"], "mnist5k")
    assert random.loc["ga+rsu", "ToW"] == "0.90\u00a0±\u00a00.10"
    assert random.loc["ga", "paper MIA gap"] == "0.05"  # Table 6, MNIST, GA: 0.0502


def test_scenario_settings_update_the_chapters_settings_in_their_scenario_only():
    scenarios = {"class": {"forget_classes": [0]}, "random": {"random_fraction": 0.1}}
    runs = rsu.scenario_variants(scenarios, ["ga"], {"ga": {"epochs": 3, "lr": 0.01}},
                                 {"class": {"ga": {"lr": 0.005}}}, 3, "ga")
    assert runs["class"]["ga"] == ("ga", {"epochs": 3, "lr": 0.005})
    assert runs["random"]["ga"] == ("ga", {"epochs": 3, "lr": 0.01})
    assert runs["class"]["ga+rsu"][1]["base_settings"] == {"epochs": 3, "lr": 0.005}
    with pytest.raises(ConfigError, match="scenario_hyperparameters must map scenarios"):
        rsu.scenario_variants(scenarios, ["ga"], {}, {"klass": {"ga": {}}}, 3, "ga")


def test_variants_add_reverse_and_a_control_held_to_rsus_steps():
    ga = {"epochs": 5, "lr": 0.01, "stop_at": "unseen"}
    runs = rsu.variants(["ga", "rl"], {"ga": ga}, 5, "ga")
    assert runs["ga+rsu"] == ("rsu", {"base": "ga", "rounds": 5, "base_settings": ga})
    assert runs["ga reverse"][1]["order"] == "easy_first"
    # the control: GA in one go, no stopping rule, as many steps as GA took inside RSU
    assert runs["ga same steps"] == ("ga", {"epochs": 5, "lr": 0.01, "max_steps": "rsu"})
    assert "rl reverse" not in runs and "rl same steps" not in runs
    assert rsu.checked_settings(runs["ga same steps"][1])["max_steps"] == 1
    with pytest.raises(ConfigError, match=r"can be held to a number of steps \(max_steps; "
                                          r"here: ga\), got 'rl'"):
        rsu.scenario_variants({"class": {"forget_classes": [0]}}, ["ga", "rl"], {}, {}, 2,
                              "rl")


def test_the_control_takes_exactly_the_steps_ga_took_inside_rsu(mnist, monkeypatch):
    # each seed's control is given the steps its own GA+RSU recorded, after that run, and
    # runs without the stopping rule; RSU's other runs are untouched
    seen = []
    steps = {("class", 0): 37, ("class", 1): 12}

    def unlearned(split, trained, method, settings, seed):
        seen.append((seed, method, settings))
        return None, {"seconds": 0.0, "steps": steps[("class", seed)] if method == "rsu"
                      and settings.get("order") is None else 99}

    setup = SimpleNamespace(data=mnist, trained=lambda split, seed: (None, {}),
                            unlearned=unlearned)
    monkeypatch.setattr(rsu.experiment, "scores", lambda *args, **kwargs: {
        "retain": 1.0, "val": 1.0, "val_kept": 1.0, "forget": 0.0, "mia": 0.5})
    scenarios = {"class": {"forget_classes": [0]}}
    runs = rsu.scenario_variants(scenarios, ["ga"], {"ga": {"epochs": 5, "stop_at": 0.0}},
                                 {}, 5, "ga")
    rows = rsu.rsu_runs(setup, scenarios, runs, [0, 1], None)
    controls = [(seed, settings) for seed, method, settings in seen
                if method == "ga" and "max_steps" in settings]
    assert controls == [(0, {"epochs": 5, "max_steps": 37}), (1, {"epochs": 5, "max_steps": 12})]
    assert all(s.get("stop_at") == 0.0 for _, m, s in seen if m == "ga" and "max_steps" not in s)
    recorded = rows.set_index(["seed", "run"]).steps
    assert recorded[(1, "ga+rsu")] == 12 and recorded[(0, "trained")] == 0
    with pytest.raises(ConfigError, match="needs the steps of ga\\+rsu"):
        rsu.rsu_steps({"ga+rsu": (None, {"seconds": 1.0})}, "ga")


def test_ga_stops_after_max_steps_and_records_its_steps(mnist, trained):
    # 40 forget samples in batches of 8: 5 steps an epoch. Capped at 5, three epochs are
    # one; capped at 7, they are 7 steps (more than one epoch, fewer than two); 0 takes none
    model, split = trained
    settings = {"lr": 0.01, "batch_size": 8, "seed": 2}
    forget = dataclasses.replace(split, forget=split.forget[:40])
    assert _same_weights(unlearn("ga", model, mnist, forget, epochs=3, max_steps=5, **settings),
                         unlearn("ga", model, mnist, forget, epochs=1, **settings))
    for epochs, cap, expected in ((3, 7, 7), (1, None, 5), (3, None, 15), (2, 0, 0)):
        net = copy.deepcopy(model)
        record = METHODS["ga"].run(net, mnist, forget, epochs=epochs, max_steps=cap, **settings)
        assert record == {"steps": expected}
        assert _same_weights(net, model) == (expected == 0)
    with pytest.raises(ConfigError, match="ga max_steps"):
        unlearn("ga", model, mnist, forget, max_steps=-1)


def test_rsu_records_the_steps_of_its_rounds(mnist, trained):
    # 40 forget samples in 4 rounds of one epoch on 10, 20, 30, 40 of them, batches of 8:
    # 2 + 3 + 4 + 5 steps (a last batch of 2 or 6 is a step, a lone sample would not be)
    model, split = trained
    forget = dataclasses.replace(split, forget=split.forget[:40])
    net = copy.deepcopy(model)
    record = METHODS["rsu"].run(net, mnist, forget, base="ga", rounds=4,
                                base_settings={"epochs": 4, "lr": 0.01, "batch_size": 8})
    assert record == {"steps": 14}
    assert METHODS["rsu"].records == METHODS["ga"].records == ("steps",)


def test_gains_pair_seeds_with_a_t_interval():
    rows = _rsu_rows({("class", "ga"): (0.5, 0.7), ("class", "ga+rsu"): (0.6, 0.8),
                      ("random", "ga"): (0.5, 0.5), ("random", "ga+rsu"): (0.7, 0.3)})
    table = rsu.gains(rows, ["ga"]).set_index(["scenario", "metric"])
    # class: +0.1 on both seeds, a point; random: +0.2 and -0.2, mean 0, t(1) interval
    assert table.loc[("class", "tow"), ["gain", "low", "high"]].tolist() == \
        pytest.approx([0.1, 0.1, 0.1])
    assert table.loc[("random", "tow"), "gain"] == pytest.approx(0.0)
    half = stats.t.ppf(0.975, 1) * 0.2  # sd 0.2 * sqrt(2) over sqrt(2)
    assert table.loc[("random", "tow"), ["low", "high"]].tolist() == pytest.approx([-half, half])
    assert table.loc[("random", "tow"), "seeds"] == "2 seeds, paired"
    text = rsu.gains_table(rsu.gains(rows, ["ga"]))
    assert text.loc[("class", "ga"), "Acc_Dr"] == "+10.00 [+10.00, +10.00]"
    one_seed = _rsu_rows({("class", "ga"): (0.5,), ("class", "ga+rsu"): (0.9,)})
    assert np.isinf(rsu.gains(one_seed, ["ga"]).low).all()  # one seed: no spread, no bound


# ---------------------------------------------------------------------------------------
# Claim rules, each on hand-made results for every verdict it can give

SIGNAL = Interval(0.70, 0.66, 0.74, "2500 + 2500 samples")
NO_SIGNAL = Interval(0.51, 0.49, 0.53, "2500 + 2500 samples")


def _results(inverted=(0.9,) * 40, **fields):
    """Hand-made `rsu.Results`: LiRA with a signal, the part-one runs of `_runs`, no part
    two, GA and RL in part one, GA in part two, the MI High samples' inversion SSIM
    `inverted` against a success threshold of 0.3, unless `fields` say otherwise."""
    values = dict(lira_auc=SIGNAL, set_samples={}, loss=[], asr=[], risk_runs=_runs(),
                  rsu_runs=_rsu_rows({}), risk_methods=["ga", "rl"], rsu_methods=["ga"],
                  ablation_method="ga", relearn_budget=5, inversion_success=0.3)
    values = {**values, **fields}
    samples = {name: dict(columns) for name, columns in values["set_samples"].items()}
    if inverted is not None:
        samples.setdefault("mi_high", {})["inversion_ssim"] = list(inverted)
    return rsu.Results(**{**values, "set_samples": samples})


@pytest.mark.parametrize("inverted, verdict", [
    ((0.9,) * 40, "held"), ((0.9,) * 10 + (0.1,) * 30, "not testable here"),
    (None, "not testable here"), ((math.nan,) * 40, "not testable here")])
def test_mi_high_claims_need_the_inversion_to_have_worked(inverted, verdict):
    # MI High is the candidates easiest to invert: a claim on it says nothing when the
    # inversion failed on most of them (10 of 40 reach SSIM 0.3: [0.14, 0.40])
    found = rsu.risk_claim(_results(inverted=inverted), "mi", "forget")
    assert found.verdict == verdict, found.here
    if inverted is not None and verdict == "not testable here" and inverted[0] == 0.9:
        assert "gradient inversion did not succeed on most of MI High: 10 of 40 reach SSIM " \
               "0.3 to their original, share +0.250 [" in found.here
    if inverted is None:
        assert "the run did not record the MI High samples' inversion SSIM" in found.here
    if inverted is not None and math.isnan(inverted[0]):
        assert "no MI High sample has a finite inversion SSIM" in found.here
    # the MIA High set is not the inversion's: its claim is judged whatever the inversion did
    assert rsu.risk_claim(_results(inverted=inverted), "mia", "forget").verdict == "held"
    failed = _results(inverted=(0.1,) * 40, set_samples={
        name: {"ASR": [0.9 if name != "low" else 0.1] * 40, "entropy": [1.0] * 40,
               "in_tail": [1] * 40} for name in ("mi_high", "mia_high", "low")})
    for rule in (rsu.asr_claim, rsu.overlap_claim):
        assert "gradient inversion did not succeed" in rule(failed).here
    assert "MI High not testable (gradient inversion" in rsu.entropy_claim(failed).here
    assert "MI High in the tail not testable (gradient inversion" in rsu.tail_claim(failed).here
    assert "MI not testable (gradient inversion" in rsu.relearn_claim(failed).here


def test_absolute_mean_difference_draws_as_the_claims_bootstrap():
    rng = np.random.default_rng(1)
    a, b = rng.random(30), rng.random(25)  # non-negative: |mean| is the mean
    ours = rsu.absolute_mean_difference(a, b, seed=4)
    reference = claims.bootstrap_difference(a, b, "mean", seed=4)
    assert (ours.estimate, ours.low, ours.high) == pytest.approx(
        (reference.estimate, reference.low, reference.high))
    # the sign of a change does not count: -a has the gaps of a
    assert rsu.absolute_mean_difference(-a, b, seed=4) == ours
    assert not rsu.absolute_mean_difference([1.0], b).finite


def test_risk_claim_compares_what_each_method_removed_from_high_and_low():
    # Acc_Du 1 -> 0.5 on High, 1 -> 0.9 on Low: 40 points more of High forgotten
    claim = rsu.risk_claim(_results(), "mi", "forget")
    assert (claim.id, claim.verdict) == ("mi_high_forgotten_more", "held")
    assert claim.here.startswith("share forgotten (points), High minus Low: ga +40.0 [")
    assert "40 + 40 samples" in claim.here and "not run: ft, retrain" in claim.here
    swapped = _results(risk_runs=_runs(high_forget=(0.9, 0.95), low_forget=(0.5, 0.6)))
    assert rsu.risk_claim(swapped, "mi", "forget").verdict == "did not hold"
    close = _results(risk_runs=_runs(high_forget=(0.7, 0.7), low_forget=(0.75, 0.7)))
    assert rsu.risk_claim(close, "mi", "forget").verdict == "inconclusive"
    # nothing of High forgotten, one Low sample: Newcombe's interval keeps a width
    one = _results(risk_runs=_runs(high_forget=(1.0, 1.0), low_forget=(0.975, 0.975)))
    assert rsu.forgotten_share_difference(one.risk_runs, "mi", "ga").high > 0.05
    # the paper's own tables, counted: Table 1 prints 24 (dataset, method) pairs, one
    # unreadable ("720")
    assert claim.paper == ("paper: Table 1, Acc_Du lower on High in 23 of 23 readable "
                           "(dataset, method) cells; its example, retrain on cifar100: "
                           "87.00 → 55.00")


def test_risk_claim_reads_the_drop_not_the_accuracy():
    # The original already misses 40% of High and GA leaves it so (no drop), while GA
    # drops Low from 1.0 to 0.7: Acc_Du is lower on High, yet less was forgotten there.
    runs = _runs(high_forget=(0.6, 0.6), low_forget=(0.7, 0.7), original_high=0.6)
    assert rsu.risk_claim(_results(risk_runs=runs), "mi", "forget").verdict == "did not hold"


def test_risk_claim_leaves_a_method_that_did_not_forget_not_testable():
    # GA leaves both sets as the original had them (issue 32: GA at lr 2e-4 in part one)
    runs = _runs(high_forget=(1.0, 0.5), low_forget=(1.0, 0.9))
    claim = rsu.risk_claim(_results(risk_runs=runs), "mi", "forget")
    assert claim.verdict == "not testable here"
    assert "ga not testable (ga did not forget: forget accuracy 1.000" in claim.here
    assert "rl +40.0" in claim.here
    # a method that did not hold outweighs one that could not be tested
    runs = _runs(high_forget=(1.0, 0.95), low_forget=(1.0, 0.5))
    assert rsu.risk_claim(_results(risk_runs=runs), "mi", "forget").verdict == "did not hold"


def test_mia_gap_claim_needs_lirs_signal_and_a_larger_gap_on_high():
    # every sample a member before; after: 40% called members on High, 90% on Low
    claim = rsu.risk_claim(_results(), "mia", "mia_gap")
    assert (claim.id, claim.verdict) == ("mia_high_larger_mia_gap", "held")
    assert claim.here.startswith("MIA gap, High minus Low: ga +0.500 [")
    assert "24 of 24" in claim.paper and claim.paper.endswith("0.27 → 0.55")
    reversed_gaps = _results(risk_runs=_runs(high_calls=0.9, low_calls=0.4))
    assert rsu.risk_claim(reversed_gaps, "mi", "mia_gap").verdict == "did not hold"
    close = _results(risk_runs=_runs(high_calls=0.85, low_calls=0.9))
    assert rsu.risk_claim(close, "mi", "mia_gap").verdict == "inconclusive"
    for risk, metric in (("mi", "mia_gap"), ("mia", "forget"), ("mia", "mia_gap")):
        blind = rsu.risk_claim(_results(lira_auc=NO_SIGNAL), risk, metric)
        assert blind.verdict == "not testable here"
        assert blind.here.startswith("online LiRA has no signal on the trained model: AUC "
                                     "0.510 [0.490, 0.530]")
    assert rsu.risk_claim(_results(lira_auc=NO_SIGNAL), "mi", "forget").verdict == "held"


def _set_samples(high, low, column, mia_high=None):
    return {"mi_high": {column: list(high)}, "low": {column: list(low)},
            "mia_high": {column: list(high if mia_high is None else mia_high)}}


def test_asr_claim_bootstraps_the_mean_asr():
    rng = np.random.default_rng(0)
    high, low = 0.7 + 0.1 * rng.random(50), 0.5 + 0.1 * rng.random(50)
    claim = rsu.asr_claim(_results(set_samples=_set_samples(high, low, "ASR")))
    assert (claim.id, claim.verdict) == ("mi_high_higher_asr", "held")
    assert "50 + 50 samples" in claim.here
    assert rsu.asr_claim(_results(set_samples=_set_samples(low, high, "ASR"))).verdict == \
        "did not hold"
    assert rsu.asr_claim(_results(set_samples=_set_samples(low, low[::-1] + 0.001, "ASR"))) \
        .verdict == "inconclusive"
    blind = _results(set_samples=_set_samples(high, low, "ASR"), lira_auc=NO_SIGNAL)
    assert rsu.asr_claim(blind).verdict == "not testable here"
    assert rsu.asr_claim(_results()).verdict == "not testable here"  # no samples


def test_entropy_claim_compares_medians_of_both_high_sets():
    low = [0.5] * 40
    higher = [1.0] * 40
    claim = rsu.entropy_claim(_results(set_samples=_set_samples(higher, low, "entropy")))
    assert (claim.id, claim.verdict) == ("high_more_entropy", "held")
    assert "MI High +0.500" in claim.here and "MIA High +0.500" in claim.here
    # a few very uncertain samples lift the mean above Low's while the median is below
    skewed = [0.1] * 30 + [5.0] * 10
    assert rsu.entropy_claim(_results(set_samples=_set_samples(skewed, low, "entropy"))) \
        .verdict == "did not hold"
    # MI High above, MIA High below: the conjunction did not hold
    assert rsu.entropy_claim(_results(set_samples=_set_samples(higher, low, "entropy",
                                                                  mia_high=[0.2] * 40))) \
        .verdict == "did not hold"
    mixed = [0.4, 0.6] * 20
    assert rsu.entropy_claim(_results(set_samples=_set_samples(mixed, low, "entropy"))) \
        .verdict == "inconclusive"
    blind = rsu.entropy_claim(_results(set_samples=_set_samples(higher, low, "entropy"),
                                       lira_auc=NO_SIGNAL))
    assert blind.verdict == "not testable here"
    assert "MIA High not testable (online LiRA" in blind.here


def _tail_samples(high_in_tail, low_in_tail, n=40):
    return {"mi_high": {"in_tail": _flags(high_in_tail, n)},
            "low": {"in_tail": _flags(low_in_tail, n)}}


def test_tail_claim_needs_most_high_samples_in_the_tail_and_most_low_in_the_top():
    claim = rsu.tail_claim(_results(set_samples=_tail_samples(0.85, 0.2)))
    assert (claim.id, claim.verdict) == ("high_in_tail", "held")
    assert "MI High in the tail +0.850" in claim.here and "Low in the top 80% +0.800" \
        in claim.here
    assert claim.paper.endswith("MI High below the top 80% in 10 of 10 classes, MI Low "
                                "within it in 10 of 10")
    assert rsu.tail_claim(_results(set_samples=_tail_samples(0.2, 0.2))).verdict == \
        "did not hold"
    assert rsu.tail_claim(_results(set_samples=_tail_samples(0.85, 0.85))).verdict == \
        "did not hold"  # Low in the tail: the second part fails
    assert rsu.tail_claim(_results(set_samples=_tail_samples(0.55, 0.2))).verdict == \
        "inconclusive"
    assert rsu.tail_claim(_results()).verdict == "not testable here"


def _relearn_runs(high, low, forgot=None):
    """Part-one runs of three methods with relearn epochs `high` and `low` (one each)."""
    methods = ("ga", "rl", "ft")
    runs = _runs(high_forget=(0.5,) * 3, low_forget=(0.9,) * 3, methods=methods)
    for method, h, lo in zip(methods, high, low):
        runs.loc[(runs.method == method) & (runs.set != "low"), "relearn"] = h
        runs.loc[(runs.method == method) & (runs.set == "low"), "relearn"] = lo
    for method in forgot or ():
        for name in ("mi_high", "mia_high", "low"):
            at = (runs.method == method) & (runs.set == name)
            runs.loc[at, "forget_correct"] = pd.Series([_flags(1.0)], index=runs[at].index)
    return runs


def test_relearn_claim_pairs_the_methods_that_forgot():
    nan = float("nan")
    claim = rsu.relearn_claim(_results(risk_runs=_relearn_runs((4, 5, 4), (2, 2, 2))))
    assert (claim.id, claim.verdict) == ("high_relearn_longer", "held")
    assert "MI +2.33 [" in claim.here and "3 methods, paired" in claim.here
    assert rsu.relearn_claim(_results(risk_runs=_relearn_runs((1, 1, 2), (3, 4, 4)))) \
        .verdict == "did not hold"
    assert rsu.relearn_claim(_results(risk_runs=_relearn_runs((4, 1, 3), (2, 4, 2)))) \
        .verdict == "inconclusive"
    # beyond the budget (5) counts as 6 on High; both beyond it leaves the method out
    censored = rsu.relearn_claim(_results(risk_runs=_relearn_runs((nan, nan, nan),
                                                                   (2, 3, nan))))
    assert "left out, both beyond 5 epochs: ft" in censored.here
    assert censored.here.startswith("relearn epochs, High minus Low: MI +3.50 [")
    # only one method forgot: nothing to pair
    idle = rsu.relearn_claim(_results(risk_runs=_relearn_runs((4, 5, 4), (2, 2, 2),
                                                              forgot=("rl", "ft"))))
    assert idle.verdict == "not testable here"
    assert "left out, did not forget: rl and ft" in idle.here
    blind = rsu.relearn_claim(_results(risk_runs=_relearn_runs((4, 5, 4), (2, 2, 2)),
                                       lira_auc=NO_SIGNAL))
    assert blind.verdict == "not testable here" and "MIA not testable (online LiRA" in blind.here


def test_correlation_claim_needs_rho_above_zero():
    loss = np.linspace(0, 1, 60)
    noise = np.random.default_rng(0).random(60)
    claim = rsu.correlation_claim(_results(loss=list(loss), asr=list(loss + 0.1 * noise)))
    assert (claim.id, claim.verdict) == ("loss_correlates_with_asr", "held")
    assert "60 samples" in claim.here
    assert rsu.correlation_claim(_results(loss=list(loss), asr=list(-loss))).verdict == \
        "did not hold"
    assert rsu.correlation_claim(_results(loss=list(loss), asr=list(noise))).verdict == \
        "inconclusive"
    blind = _results(loss=list(loss), asr=list(loss), lira_auc=NO_SIGNAL)
    assert rsu.correlation_claim(blind).verdict == "not testable here"


def _part_two(values, **kwargs):
    return _results(rsu_runs=_rsu_rows(values, **kwargs))


def test_improvement_claim_needs_every_seed_and_the_kept_classes():
    values = {("class", "ga"): (0.5, 0.6, 0.7), ("class", "ga+rsu"): (0.6, 0.7, 0.8)}
    claim = rsu.improvement_claim(_part_two(values))
    assert (claim.id, claim.verdict) == ("rsu_improves_class", "held")
    assert "ga Acc_Dr +10.00 [+10.00, +10.00], 3 seeds, paired" in claim.here
    assert "ga Acc_val (kept classes) +10.00" in claim.here
    assert claim.paper == ("paper: Table 5, higher with RSU in 23 of 24 (dataset, method, "
                           "metric) cells (not cifar10 ga Acc_val)")
    worse = {("class", "ga"): (0.6, 0.7, 0.8), ("class", "ga+rsu"): (0.5, 0.61, 0.7)}
    assert rsu.improvement_claim(_part_two(worse)).verdict == "did not hold"
    mixed = {("class", "ga"): (0.5, 0.6, 0.7), ("class", "ga+rsu"): (0.6, 0.55, 0.9)}
    assert rsu.improvement_claim(_part_two(mixed)).verdict == "inconclusive"
    # an interval above 0 but one seed without a gain: not "consistently"
    five = {("class", "ga"): (0.5,) * 5, ("class", "ga+rsu"): (0.6, 0.6, 0.6, 0.6, 0.5)}
    claim = rsu.improvement_claim(_part_two(five))
    assert claim.verdict == "inconclusive" and "not on every seed" in claim.here
    # Acc_val with the forgotten class rises, on the kept classes it falls: not improved
    rows = _rsu_rows(values)
    rows.loc[rows.run == "ga+rsu", "val_kept"] -= 0.2
    assert rsu.improvement_claim(_results(rsu_runs=rows)).verdict == "did not hold"


def test_improvement_claim_needs_both_runs_to_forget_the_class():
    values = {("class", "ga"): (0.5, 0.6, 0.7), ("class", "ga+rsu"): (0.6, 0.7, 0.8)}
    kept = {("class", "ga+rsu"): [0.96, 0.95, 0.97]}  # Fig. 7: GA+RSU keeps the class
    claim = rsu.improvement_claim(_part_two(values, forget=kept))
    assert claim.verdict == "not testable here"
    assert "ga+rsu did not forget: forget accuracy 0.960" in claim.here
    assert rsu.improvement_claim(_part_two({("random", "ga"): (0.5,), ("random", "ga+rsu"):
                                            (0.6,)})).verdict == "not testable here"


def test_improvement_claim_does_not_reward_forgetting_less_of_the_class():
    # both runs forgot more than half the class, but GA+RSU left 30% and 10% of it
    # recognised on two seeds where GA alone left none: its higher Acc_Dr may be what the
    # class it kept spared, so the gain is not testable (the old rule said "held")
    values = {("class", "ga"): (0.5, 0.6, 0.7), ("class", "ga+rsu"): (0.6, 0.7, 0.8)}
    less = {("class", "ga+rsu"): [0.3, 0.0, 0.1]}
    claim = rsu.improvement_claim(_part_two(values, forget=less))
    assert claim.verdict == "not testable here", claim.here
    assert "ga+rsu forgot less of the class than ga: Acc_Du higher with RSU on seeds 0 " \
           "(+30.00), 2 (+10.00)" in claim.here
    # forgetting as much (or more) is judged as before
    more = {("class", "ga"): [0.1, 0.0, 0.0]}
    assert rsu.improvement_claim(_part_two(values, forget=more)).verdict == "held"
    # a loss despite forgetting less stays a loss: less forgetting could only have helped
    worse = {("class", "ga"): (0.6, 0.7, 0.8), ("class", "ga+rsu"): (0.5, 0.61, 0.7)}
    claim = rsu.improvement_claim(_part_two(worse, forget=less))
    assert claim.verdict == "did not hold", claim.here


def test_tow_claims_pair_seeds_in_their_own_scenario():
    values = {("class", "ga"): (0.5, 0.6, 0.7), ("class", "ga+rsu"): (0.6, 0.72, 0.8),
              ("random", "ga"): (0.9, 0.9, 0.9), ("random", "ga+rsu"): (0.8, 0.82, 0.8)}
    closer = rsu.tow_claim(_part_two(values), "class")
    assert (closer.id, closer.verdict) == ("rsu_closer_to_retrain_class", "held")
    assert closer.here.startswith("ToW gain, with minus without RSU: ga +0.107 [")
    assert closer.here.endswith("; not run: rl and bad_teacher")
    assert closer.paper == ("paper: Table 5, higher with RSU in 11 of 12 (dataset, method, "
                            "metric) cells (not mnist rl ToW)")
    random = rsu.tow_claim(_part_two(values), "random")
    assert (random.id, random.verdict) == ("rsu_improves_random", "did not hold")
    assert random.paper.endswith("11 of 12 (dataset, method, metric) cells (not mnist "
                                 "bad_teacher ToW)")
    values[("random", "ga+rsu")] = (0.95, 0.85, 0.93)
    assert rsu.tow_claim(_part_two(values), "random").verdict == "inconclusive"
    del values[("random", "ga+rsu")]
    assert rsu.tow_claim(_part_two(values), "random").verdict == "not testable here"


@pytest.mark.parametrize("ga_rsu, ga_rsu_forget, verdict", [
    ((0.95, 0.96, 0.94), [0.0] * 3, "held"),
    ((0.8, 0.82, 0.8), [0.0] * 3, "did not hold"),
    ((0.95, 0.85, 0.93), [0.0] * 3, "inconclusive"),
    ((0.95, 0.96, 0.94), [0.99] * 3, "not testable here")])
def test_random_tow_claim_needs_one_of_the_two_runs_to_forget(ga_rsu, ga_rsu_forget, verdict):
    # the trained model knows the forget set (Acc_Du 1.0), retraining drops it to 0.9, so
    # forgetting is a drop above half of 0.1; GA without RSU keeps it (Acc_Du 1.0)
    values = {("random", "retrain"): (1.0,) * 3, ("random", "ga"): (0.9,) * 3,
              ("random", "ga+rsu"): ga_rsu}
    forget = {("random", "retrain"): [0.9] * 3, ("random", "ga"): [1.0] * 3,
              ("random", "ga+rsu"): ga_rsu_forget}
    claim = rsu.tow_claim(_part_two(values, forget=forget), "random")
    assert claim.verdict == verdict, claim.here
    if verdict == "not testable here":
        assert "ga did not forget" in claim.here and "ga+rsu did not forget" in claim.here
        assert "not above 0.05" in claim.here


def test_tow_claim_in_class_forgetting_needs_one_of_the_two_runs_to_forget():
    # GA that changed nothing with or without RSU: a gain of exactly 0, not a verdict
    values = {("class", "ga"): (0.5, 0.5, 0.5), ("class", "ga+rsu"): (0.5, 0.5, 0.5)}
    kept = {("class", "ga"): [0.96, 0.95, 0.97], ("class", "ga+rsu"): [0.96, 0.95, 0.97]}
    claim = rsu.tow_claim(_part_two(values, forget=kept), "class")
    assert claim.verdict == "not testable here", claim.here
    assert "ga did not forget" in claim.here and "ga+rsu did not forget" in claim.here
    # RSU that makes GA forget is judged: one of the two runs forgot
    values[("class", "ga+rsu")] = (0.6, 0.62, 0.6)
    del kept[("class", "ga+rsu")]
    assert rsu.tow_claim(_part_two(values, forget=kept), "class").verdict == "held"
    # Figure 7's order claims alike: GA, GA+RSU and GA reverse all kept the class
    same = {("class", run): (0.5, 0.5, 0.5) for run in ("ga", "ga+rsu", "ga reverse")}
    nothing = _results(rsu_runs=_rsu_rows(same, forget={k: [0.96] * 3 for k in same}),
                       ablation_method="ga")
    for claim in (rsu.order_claim(nothing), rsu.reverse_claim(nothing)):
        assert claim.verdict == "not testable here", claim.here
    judged = _results(rsu_runs=_rsu_rows(same), ablation_method="ga")
    assert rsu.reverse_claim(judged).verdict == "did not hold"  # forgot, and no change


def test_class_vs_random_claim_pairs_the_mean_gains_by_seed():
    values = {("class", "ga"): (0.5, 0.6, 0.7), ("class", "ga+rsu"): (0.6, 0.72, 0.8),
              ("random", "ga"): (0.9, 0.9, 0.9), ("random", "ga+rsu"): (0.9, 0.91, 0.9)}
    claim = rsu.class_vs_random_claim(_part_two(values))
    assert (claim.id, claim.verdict) == ("rsu_gain_larger_for_class", "held")
    assert "class minus random: +0.103" in claim.here
    # Table 5's 12 ToW gains sum to 0.53, Table 6's to 0.27
    assert claim.paper.startswith("paper: mean ToW gain Table 5 +0.044, Table 6 +0.02")
    values[("random", "ga+rsu")] = (1.1, 1.2, 1.2)
    assert rsu.class_vs_random_claim(_part_two(values)).verdict == "did not hold"
    values[("random", "ga+rsu")] = (0.9, 1.1, 0.7)
    assert rsu.class_vs_random_claim(_part_two(values)).verdict == "inconclusive"
    del values[("random", "ga+rsu")]
    assert rsu.class_vs_random_claim(_part_two(values)).verdict == "not testable here"


def test_class_vs_random_claim_leaves_out_a_method_that_forgot_nothing_in_a_scenario():
    # GA gains in class forgetting; in random forgetting neither GA nor GA+RSU moved off
    # the trained model (Acc_Du 1.0 both), so its random gain of exactly 0 says nothing:
    # "larger for class" is not testable, where the old rule said "held"
    values = {("class", "ga"): (0.5, 0.6, 0.7), ("class", "ga+rsu"): (0.6, 0.72, 0.8),
              ("random", "ga"): (0.9, 0.9, 0.9), ("random", "ga+rsu"): (0.9, 0.9, 0.9)}
    kept = {("random", "ga"): [1.0] * 3, ("random", "ga+rsu"): [1.0] * 3}
    claim = rsu.class_vs_random_claim(_part_two(values, forget=kept))
    assert claim.verdict == "not testable here", claim.here
    assert claim.here.startswith("random: ga did not forget") and "ga+rsu did not forget" \
        in claim.here
    # a second method that forgot in both scenarios is judged alone, the first one named
    values.update({("class", "rl"): (0.5, 0.6, 0.7), ("class", "rl+rsu"): (0.6, 0.72, 0.8),
                   ("random", "rl"): (0.9, 0.9, 0.9), ("random", "rl+rsu"): (0.9, 0.91, 0.9)})
    results = _results(rsu_runs=_rsu_rows(values, forget=kept), rsu_methods=["ga", "rl"])
    claim = rsu.class_vs_random_claim(results)
    assert claim.verdict == "held", claim.here
    assert claim.here.startswith("mean ToW gain over rl, class minus random: +0.103")
    assert "left out, in neither run forgotten: random: ga did not forget" in claim.here


def test_order_and_reverse_claims_pair_the_orders_by_seed():
    values = {("class", "ga"): (0.5, 0.6, 0.55), ("class", "ga+rsu"): (0.7, 0.8, 0.72),
              ("class", "ga reverse"): (0.4, 0.5, 0.43), ("class", "ga same steps"):
              (0.9, 0.9, 0.9)}
    order, reverse = (rule(_part_two(values)) for rule in (rsu.order_claim, rsu.reverse_claim))
    assert (order.id, order.verdict) == ("rsu_beats_original_and_reverse", "held")
    assert "RSU minus original +0.190" in order.here and "RSU minus reverse +0.297" \
        in order.here  # the same-steps control is shown in Fig. 7, not judged
    assert (reverse.id, reverse.verdict) == ("reverse_can_be_worse", "held")
    assert reverse.here.startswith("ga, ToW, the one case: original minus reverse +0.107")
    values[("class", "ga reverse")] = (0.8, 0.9, 0.85)  # reverse beats both
    assert rsu.order_claim(_part_two(values)).verdict == "did not hold"
    assert rsu.reverse_claim(_part_two(values)).verdict == "did not hold"
    values[("class", "ga reverse")] = (0.45, 0.7, 0.5)  # a seed spread larger than the gap
    assert rsu.reverse_claim(_part_two(values)).verdict == "inconclusive"
    assert rsu.order_claim(_part_two(values)).verdict == "inconclusive"
    del values[("class", "ga reverse")]
    for rule in (rsu.order_claim, rsu.reverse_claim):
        assert rule(_part_two(values)).verdict == "not testable here"


def test_order_table_gives_each_orders_steps_and_rsus_tow_gain_over_it():
    values = {("class", "ga"): (0.5, 0.7, 0.6), ("class", "ga+rsu"): (0.9, 0.9, 0.9),
              ("class", "ga reverse"): (0.2, 0.4, 0.3), ("class", "ga same steps"):
              (0.8, 0.9, 1.0)}
    rows = _rsu_rows(values)
    rows["steps"] = rows.run.map({"ga": 10, "ga+rsu": 20, "ga same steps": 20,
                                  "ga reverse": 30, "trained": 0})
    table = rsu.order_table(rows, "ga")
    assert list(table.index.get_level_values("run")) == ["original", "original, RSU's steps",
                                                         "reverse", "RSU"]
    assert table.loc[("class", "RSU"), "steps"] == "20\u00a0±\u00a00"
    assert table.loc[("class", "original"), "ToW"] == "0.60\u00a0±\u00a00.08"
    # RSU minus the control, by seed: +0.1, 0, -0.1 (mean 0, t interval about +-0.248)
    gain = table.loc[("class", "original, RSU's steps"), "RSU's ToW minus this"]
    assert gain.startswith("+0.000 [-0.248, +0.248], 3 seeds")
    assert table.loc[("class", "RSU"), "RSU's ToW minus this"] == ""


def test_order_figure_shows_the_mean_of_each_order():
    values = {("class", "ga"): (0.5, 0.7), ("class", "ga+rsu"): (0.9, 0.9),
              ("class", "ga reverse"): (0.2, 0.4), ("class", "ga same steps"): (0.1, 0.1),
              ("random", "ga"): (0.0, 0.0)}
    figure = rsu.order_figure(_rsu_rows(values), "ga")
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Acc_Dr", "Acc_val", "Acc_Du",
                                                            "ToW"]
    heights = [round(bar.get_height(), 6) for bar in ax.patches]
    # four bars per order (Acc_Dr, Acc_val and ToW equal the per-seed value, Acc_Du 0)
    assert heights == [0.6, 0.6, 0.0, 0.6, 0.1, 0.1, 0.0, 0.1, 0.3, 0.3, 0.0, 0.3,
                       0.9, 0.9, 0.0, 0.9]
    # the legend sits right of the axes (inside, it covered the RSU bars)
    figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1 - 1


def _full_results():
    values = {("class", "ga"): (0.5, 0.6, 0.55), ("class", "ga+rsu"): (0.7, 0.8, 0.72),
              ("class", "ga reverse"): (0.4, 0.5, 0.43), ("random", "ga"): (0.9, 0.9, 0.9),
              ("random", "ga+rsu"): (0.95, 0.97, 0.96)}
    loss = list(np.linspace(0, 1, 60))
    samples = {"mi_high": {"ASR": [0.8, 0.9] * 20, "entropy": [1.0] * 40,
                           "in_tail": _flags(0.9)},
               "mia_high": {"ASR": [0.9] * 40, "entropy": [1.2] * 40},
               "low": {"ASR": [0.4, 0.5] * 20, "entropy": [0.5] * 40, "in_tail": _flags(0.1)}}
    return _results(set_samples=samples, loss=loss, asr=[v + 0.01 for v in loss],
                    risk_runs=_relearn_runs((4, 5, 4), (2, 2, 2)), rsu_runs=_rsu_rows(values),
                    risk_methods=["ga", "rl", "ft"], **_tables())


def _tables():
    """The fields of `rsu.Results` that only the tables and the results file read, NaN
    included (a class with no Low sample, an unbounded shadow AUC)."""
    profile = pd.DataFrame({"low": {"ASR": 0.4, "entropy": 0.5, "confidence": 0.9,
                                    "loss": 0.1},
                            "mi_high": {"ASR": 0.8, "entropy": 1.0, "confidence": 0.6,
                                        "loss": math.nan}}).T
    distribution = pd.DataFrame({c: {"top 80%": "1.0000-0.9000", "bottom 20%": "0.8-0.1",
                                     "boundary": 0.9, "MI High median": 0.5,
                                     "Low median": math.nan if c else 0.95,
                                     "paper MI High": None, "paper MI Low": 0.99}
                                 for c in (0, 1)}).T
    intervals = pd.DataFrame([{"loss from": 0.0, "loss to": 0.5, "mean ASR": 0.4, "samples": 30},
                              {"loss from": 0.5, "loss to": 1.0, "mean ASR": math.nan,
                               "samples": 30}])
    leakage = Leakage(train_accuracy=1.0, test_accuracy=0.9, auc=SIGNAL, tpr_at_1pct_fpr=0.07,
                      shadow_auc=math.nan, shadow_tpr_at_1pct_fpr=0.05, shadow_count=8,
                      pool_size=120)
    # MI High all within MIA High: 10 of 10 shared, against a chance share of 10 / 60
    return dict(leakage=leakage, forget_sets={"mi_high": list(range(10)),
                                              "mia_high": list(range(10)), "low": [7, 9]},
                risk_profile=profile, logit_distribution=distribution,
                loss_intervals=intervals, loss_asr_spearman=math.nan)


def test_claims_keep_their_ids_and_order():
    found = rsu.claims(_full_results())
    assert [c.id for c in found] == EXPECTED_IDS
    assert all(c.verdict == "held" for c in found), [c for c in found if c.verdict != "held"]


def _through_a_file(document: dict) -> dict:
    return json.loads(json.dumps(jsonable(document), allow_nan=False))


def test_results_survive_the_results_file():
    results = _full_results()
    document = _through_a_file(results.to_json())
    assert rsu.claims(rsu.Results.from_json(document)) == rsu.claims(results)
    assert rsu.claims(rsu.Results.from_json(results.to_json())) == rsu.claims(results)


def test_results_round_trip_through_json_nan_included():
    results = _full_results()
    for read in (rsu.Results.from_json(results.to_json()),
                 rsu.Results.from_json(_through_a_file(results.to_json()))):
        assert _through_a_file(read.to_json()) == _through_a_file(results.to_json())
        assert math.isnan(read.loss_asr_spearman)
        assert math.isnan(read.risk_profile.loc["mi_high", "loss"])
        assert math.isnan(read.logit_distribution.loc[1, "Low median"])
        assert math.isnan(read.loss_intervals["mean ASR"][1])
        assert equal_with_nan(read.leakage, results.leakage)
        assert read.risk_runs.relearn.isna().tolist() == results.risk_runs.relearn.isna().tolist()
        assert {k: v.tolist() for k, v in read.sets().items()} == results.forget_sets
        pd.testing.assert_frame_equal(read.gains(), results.gains())
        assert rsu.headline(read).keys() == rsu.headline(results).keys()
        assert read.setup is None and read.risks is None  # not in the results file


def test_results_json_keeps_the_keys_the_chapters_readers_read():
    document = _full_results().to_json()
    assert {"regime_lira", "forget_sets", "risk_profile", "logit_distribution",
            "loss_intervals", "loss_asr_spearman", "gains", "lira_auc", "risk_runs",
            "rsu_runs"} <= set(document)
    assert document["logit_distribution"][0]["boundary"] == 0.9
    assert {(g["scenario"], g["method"]) for g in document["gains"]} == \
        {("class", "ga"), ("random", "ga")}
    headline = rsu.headline(_full_results())
    assert headline["low/ASR"] == pytest.approx(0.4)
    assert math.isnan(headline["loss_asr_spearman"])


# ---------------------------------------------------------------------------------------
# The chapter's smoke run (tests/test_chapters.py calls this)

EXPECTED_IDS = ["mi_high_forgotten_more", "mi_high_larger_mia_gap", "mia_high_forgotten_more",
                "mia_high_larger_mia_gap", "mi_high_higher_asr", "mi_high_are_mia_high",
                "high_more_entropy",
                "high_in_tail", "high_relearn_longer", "loss_correlates_with_asr",
                "rsu_improves_class", "rsu_closer_to_retrain_class", "rsu_improves_random",
                "rsu_gain_larger_for_class", "rsu_beats_original_and_reverse",
                "reverse_can_be_worse"]


def check_smoke_results(results, out):
    r = results["results"]
    assert [c["id"] for c in r["claims"]] == EXPECTED_IDS
    # every verdict is earned: an interval in `here`, or the precondition that failed
    for claim in r["claims"]:
        assert claim["verdict"] in claims.VERDICTS
        assert "[" in claim["here"] or "not testable" in claim["here"] \
            or claim["verdict"] == "not testable here", claim
    sets = r["forget_sets"]
    assert set(sets) == {"mi_high", "mia_high", "low"}
    assert all(len(v) == 12 for v in sets.values())
    # MI High is drawn from the inversion candidates: each has its inversion SSIM
    mi_ssim = r["set_samples"]["mi_high"]["inversion_ssim"]
    assert len(mi_ssim) == 12 and all(v is not None and -1 <= v <= 1 for v in mi_ssim)
    assert r["inversion_success"] == book.notebook_parameters(
        book.read_notebook(ROOT / "notebooks" / "05_rsu.py"))["inversion_success"]
    # online LiRA on the trained model: its training samples against as many unseen ones
    counted = [int(part) for part in r["lira_auc"]["n"].split()[:3:2]]
    assert counted == [len(r["loss"])] * 2
    assert len(r["loss"]) == results["params"]["train_size"]  # a fixed subset of mnist5k
    leakage = r["regime_lira"]  # the regime table
    assert leakage["auc"] == r["lira_auc"]["estimate"]
    assert leakage["pool_size"] == 2 * len(r["loss"]) and r["lira_target"] == leakage["target"]
    assert leakage["target"] == "the trained model"
    assert 0 <= leakage["shadow_auc"] <= 1 and leakage["shadow_count"] == 8
    runs = pd.DataFrame(r["risk_runs"])
    assert set(runs.method) == {"original", "ga", "bad_teacher"}
    assert all(len(v) == 12 for v in runs.forget_correct)
    rsu_rows = pd.DataFrame(r["rsu_runs"])
    assert set(rsu_rows.run) == {"trained", "retrain", "ga", "ga+rsu", "bad_teacher",
                                 "bad_teacher+rsu", "ga reverse", "ga same steps"}
    # the dose control took exactly the steps GA took inside RSU, scenario by scenario and
    # seed by seed, recorded by both runs (0 where the smoke run's barely trained model
    # already missed the whole forget set: RSU then starts no round)
    steps = rsu_rows.pivot_table(index=["scenario", "seed"], columns="run", values="steps",
                                 dropna=False)
    assert len(steps) == 4 and steps[["ga+rsu", "ga same steps"]].notna().all().all()
    assert (steps["ga same steps"] == steps["ga+rsu"]).all()
    retrain = rsu_rows[(rsu_rows.run == "retrain") & (rsu_rows.scenario == "class")]
    assert (retrain.forget == 0).all()  # retraining never saw the forgotten class
    assert (retrain.val_kept > retrain.val).all()  # the forgotten class's test samples
    # ToW is Eq. 2 against retraining of the same scenario and seed
    reference = rsu_rows[rsu_rows.run == "retrain"].set_index(["scenario", "seed"])
    for row in rsu_rows.itertuples():
        ref = reference.loc[(row.scenario, row.seed)]
        expected = np.prod([1 - abs(getattr(row, k) - ref[k]) for k in ("forget", "retain",
                                                                          "val")])
        assert row.tow == pytest.approx(expected)


@pytest.mark.parametrize("shared, verdict", [
    (20, "held"),  # 20 of 50 MI High in MIA High: Wilson [0.28, 0.54], above 0.10
    (5, "inconclusive"),  # 5 of 50 is chance itself
    (1, "inconclusive"),  # 1 of 50 (the cpu run's): [0.004, 0.105] still reaches 0.10
])
def test_overlap_claim_reads_the_shared_share_against_chance(shared, verdict):
    # 500 training samples, MIA High the 50 of highest ASR: chance is 50 / 500 = 0.10
    mi_high = list(range(shared)) + list(range(100, 150 - shared))
    sets = {"mi_high": mi_high, "mia_high": list(range(50)), "low": list(range(400, 450))}
    claim = rsu.overlap_claim(_results(forget_sets=sets, asr=[0.5] * 500))
    assert claim.verdict == verdict, claim.here
    assert "(chance 0.10)" in claim.here


def test_overlap_claim_below_chance_does_not_hold_and_needs_a_signal():
    # 0 of 200 shared against a chance share of 0.5: wholly below it
    sets = {"mi_high": list(range(200, 400)), "mia_high": list(range(200))}
    assert rsu.overlap_claim(_results(forget_sets=sets, asr=[0.5] * 400)).verdict == \
        "did not hold"
    blind = rsu.overlap_claim(_results(forget_sets=sets, asr=[0.5] * 400, lira_auc=NO_SIGNAL))
    assert blind.verdict == "not testable here"
    assert rsu.overlap_claim(_results()).verdict == "not testable here"  # no sets recorded
