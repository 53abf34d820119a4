"""RSU (Chen et al.): the Ranking and SeqUnlearn modules, the shadow-model ensemble, the
study's claim rules and the chapter's smoke results."""

import dataclasses

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from mu_core import ensemble
from mu_core.errors import ConfigError
from mu_core.splits import make_split
from mu_core.studies import rsu
from mu_core.train import Recipe
from mu_core.unlearn import METHODS, unlearn
from mu_core.unlearn.registry import Method
from mu_core.unlearn.sequence import nested_subsets, self_paced_weights
from mu_core.attacks.mia import leave_one_out_scores, lira_statistic, roc_summary
from mu_core.zoo import plan, shadow_models, trained_model


@pytest.fixture(scope="module")
def trained(mnist):
    split = make_split(mnist, random_fraction=0.02, seed=0)
    model, _ = trained_model(mnist, split, "cnn", Recipe(epochs=1), hidden=0)
    return model, split


# ---------------------------------------------------------------------------------------
# Eq. 5 and the nested subsets

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


def test_rsu_unlearns_the_lowest_loss_samples_first(mnist, trained, monkeypatch):
    model, split = trained
    seen = _recorder(monkeypatch, "ga")
    unlearn("rsu", model, mnist, split, base="ga", rounds=3, seed=10)
    with torch.no_grad():
        model.eval()
        losses = F.cross_entropy(model(mnist.inputs(split.forget)), mnist.targets(split.forget),
                                 reduction="none")
    by_loss = split.forget[torch.argsort(losses)].tolist()
    n = len(by_loss)
    expected = [sorted(by_loss[:-(-k * n // 3)]) for k in (1, 2, 3)]
    assert [s.forget.tolist() for s, _ in seen] == expected
    assert [seed for _, seed in seen] == [10, 11, 12]


def test_rsu_reverse_order_starts_with_the_highest_losses(mnist, trained, monkeypatch):
    model, split = trained
    seen = _recorder(monkeypatch, "rl")
    unlearn("rsu", model, mnist, split, base="rl", rounds=2, order="easy_first")
    with torch.no_grad():
        model.eval()
        losses = F.cross_entropy(model(mnist.inputs(split.forget)), mnist.targets(split.forget),
                                 reduction="none")
    first = set(seen[0][0].forget.tolist())
    rest = [i for i in split.forget.tolist() if i not in first]
    loss_of = dict(zip(split.forget.tolist(), losses.tolist()))
    assert min(loss_of[i] for i in first) >= max(loss_of[i] for i in rest)
    assert all(torch.equal(s.retain, split.retain) for s, _ in seen)  # the retain never shrinks


def _recorder(monkeypatch, name):
    """Replace method `name` by one that records the split and seed of every call."""
    seen = []

    def record(model, data, split, *, seed: int = 0):
        seen.append((split, seed))

    monkeypatch.setitem(METHODS, name, Method(name, record, METHODS[name].kinds, "recorder"))
    return seen


@pytest.mark.parametrize("settings, message", [
    ({"base": "retrain"}, "rsu base must be an unlearning method other than rsu and retrain"),
    ({"base": "gaa"}, "got 'gaa'"),
    ({"rounds": 0}, "rsu rounds must be a positive integer"),
    ({"rounds": 10**6}, "at most the 80 forget samples"),
    ({"order": "random"}, "rsu order"),
    ({"base_settings": {"seed": 1}}, "without 'seed'"),
    ({"base_settings": {"epochs": 1, "momentum": 0.9}}, "method 'ga' has no hyper-parameter momentum"),
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
        assert torch.allclose(value, alone.params[name], atol=2e-4), name
        assert not torch.allclose(value[0], value[1])  # the models differ
    logits = stacked.logits(mnist, mnist.test[:50])
    with torch.no_grad():
        each = torch.stack([alone.model(m)(mnist.inputs(mnist.test[:50])) for m in range(3)])
    assert logits.shape == (3, 50, 10)
    assert torch.allclose(logits, each, atol=2e-3)


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
        ensemble.fit_ensemble(mnist, pool, keep, "cnn", dataclasses.replace(recipe, optimizer="adamw"),
                              seeds=[0, 1])
    keep[1] = False
    with pytest.raises(ConfigError, match="a row of keep is all False"):
        ensemble.fit_ensemble(mnist, pool, keep, "cnn", recipe, seeds=[0, 1])


# ---------------------------------------------------------------------------------------
# Claim rules, on hand-made tables

def _risk_runs(high_forget, low_forget, high_gap=0.3, low_gap=0.1, relearn=(3.0, 1.0)):
    rows = []
    for method, hf, lf in zip(("ga", "rl"), high_forget, low_forget):
        for name, forget, gap, epochs in (("mi_high", hf, high_gap, relearn[0]),
                                          ("mia_high", hf, high_gap, relearn[0]),
                                          ("low", lf, low_gap, relearn[1])):
            rows.append({"set": name, "method": method, "forget": forget, "mia_gap": gap,
                         "relearn": epochs})
    rows.append({"set": "low", "method": "original", "forget": 1.0, "mia_gap": float("nan"),
                 "relearn": 0.0})
    return pd.DataFrame(rows)


def test_high_vs_low_needs_every_method_strictly():
    held, _ = rsu.high_vs_low(_risk_runs((0.8, 0.9), (1.0, 1.0)), "mi", "forget", higher=False)
    assert held is True
    held, here = rsu.high_vs_low(_risk_runs((0.8, 1.0), (1.0, 1.0)), "mi", "forget", higher=False)
    assert held is False and "not for rl" in here  # equal is not lower
    held, _ = rsu.high_vs_low(_risk_runs((0.8, 0.9), (1.0, 1.0)), "mia", "mia_gap", higher=True)
    assert held is True
    held, _ = rsu.high_vs_low(_risk_runs((0.8, 0.9), (1.0, 1.0), high_gap=0.1), "mia",
                              "mia_gap", higher=True)
    assert held is False


def test_relearn_claim_counts_beyond_the_budget_as_longest():
    assert rsu.relearn_claim(_risk_runs((0, 0), (1, 1))).verdict == "held"
    assert rsu.relearn_claim(_risk_runs((0, 0), (1, 1), relearn=(float("nan"), 4.0))).verdict \
        == "held"
    assert rsu.relearn_claim(_risk_runs((0, 0), (1, 1), relearn=(2.0, 2.0))).verdict \
        == "did not hold"
    assert rsu.relearn_claim(_risk_runs((0, 0), (1, 1), relearn=(2.0, float("nan")))).verdict \
        == "did not hold"


def test_tail_claim_needs_every_class():
    frame = pd.DataFrame({"boundary": [0.9, 0.8], "mi_high": [0.5, 0.7], "low": [0.95, 0.8]})
    assert rsu.tail_claim(frame).verdict == "held"  # low exactly at the boundary is in the top
    frame.loc[1, "mi_high"] = 0.85
    assert rsu.tail_claim(frame).verdict == "did not hold"
    frame.loc[:, "low"] = float("nan")
    assert rsu.tail_claim(frame).verdict == "not testable here"


def _rsu_rows(tows):
    """Rows of `rsu_runs` for GA and RL, two seeds: tows[(scenario, run)] = (seed0, seed1)."""
    rows = []
    for (scenario, run), values in tows.items():
        for seed, tow in enumerate(values):
            rows.append({"scenario": scenario, "seed": seed, "run": run, "tow": tow,
                         "retain": tow, "val": tow, "forget": 0.0, "mia_gap": 0.0})
    return pd.DataFrame(rows)


def test_rsu_claims_compare_paired_means_strictly():
    tows = {("class", "ga"): (0.5, 0.6), ("class", "ga+rsu"): (0.7, 0.8),
            ("class", "ga reverse"): (0.4, 0.5),
            ("random", "ga"): (0.9, 0.9), ("random", "ga+rsu"): (0.95, 0.93)}
    rows = _rsu_rows(tows)
    claims = {c.id: c for c in rsu.rsu_claims(rows, rsu.gains(rows, ["ga"]), ["ga"], "ga")}
    assert {i: c.verdict for i, c in claims.items()} == {
        "rsu_improves_class": "held", "rsu_improves_random": "held",
        "rsu_gain_larger_for_class": "held", "rsu_beats_original_and_reverse": "held"}
    tows[("random", "ga+rsu")] = (0.9, 0.9)  # no gain is not an improvement
    tows[("class", "ga reverse")] = (0.7, 0.8)  # a tie with reverse is not beating it
    rows = _rsu_rows(tows)
    claims = {c.id: c for c in rsu.rsu_claims(rows, rsu.gains(rows, ["ga"]), ["ga"], "ga")}
    assert claims["rsu_improves_random"].verdict == "did not hold"
    assert claims["rsu_beats_original_and_reverse"].verdict == "did not hold"
    assert claims["rsu_gain_larger_for_class"].verdict == "held"


def test_gains_pair_seeds_and_mark_gains_beyond_the_spread():
    rows = _rsu_rows({("class", "ga"): (0.5, 0.7), ("class", "ga+rsu"): (0.6, 0.8),
                      ("random", "ga"): (0.5, 0.5), ("random", "ga+rsu"): (0.7, 0.3)})
    table = rsu.gains(rows, ["ga"]).set_index(["scenario", "metric"])
    # class: +0.1 on both seeds, spread 0 -> beyond; random: +0.2 and -0.2 -> mean 0
    assert table.loc[("class", "tow"), "gain"] == pytest.approx(0.1)
    assert table.loc[("class", "tow"), "exceeds spread"]
    assert table.loc[("random", "tow"), "gain"] == pytest.approx(0.0)
    assert table.loc[("random", "tow"), "std"] == pytest.approx(0.2)
    assert not table.loc[("random", "tow"), "exceeds spread"]


def test_variants_add_reverse_and_a_same_passes_control():
    runs = rsu.variants(["ga", "rl"], {"ga": {"epochs": 2}}, 5, "ga")
    assert runs["ga+rsu"] == ("rsu", {"base": "ga", "rounds": 5, "base_settings": {"epochs": 2}})
    assert runs["ga reverse"][1]["order"] == "easy_first"
    # five nested subsets of 1/5 .. 5/5 of the forget set: 3 passes per pass of one go
    assert runs["ga same passes"] == ("ga", {"epochs": 6})
    assert "rl reverse" not in runs


# ---------------------------------------------------------------------------------------
# The chapter's smoke run (tests/test_chapters.py calls this)

EXPECTED_IDS = ["mi_high_forgotten_more", "mi_high_larger_mia_gap", "mia_high_forgotten_more",
                "mia_high_larger_mia_gap", "mi_high_higher_asr", "high_more_entropy",
                "high_in_tail", "high_relearn_longer", "loss_correlates_with_asr",
                "rsu_improves_class", "rsu_improves_random", "rsu_gain_larger_for_class",
                "rsu_beats_original_and_reverse"]


def check_smoke_results(results, out):
    r = results["results"]
    assert [c["id"] for c in r["claims"]] == EXPECTED_IDS
    assert all(c["verdict"] != "not testable here" for c in r["claims"])
    sets = r["forget_sets"]
    assert set(sets) == {"mi_high", "mia_high", "low"}
    assert all(len(v) == 12 for v in sets.values())
    assert set(r["lira"]) == {"auc", "tpr_at_0.1%_fpr", "tpr_at_1%_fpr"}
    runs = pd.DataFrame(r["risk_runs"])
    assert set(runs.method) == {"original", "ga", "bad_teacher"}
    rsu_rows = pd.DataFrame(r["rsu_runs"])
    assert set(rsu_rows.run) == {"retrain", "ga", "ga+rsu", "bad_teacher", "bad_teacher+rsu",
                                 "ga reverse", "ga same passes"}
    retrain = rsu_rows[(rsu_rows.run == "retrain") & (rsu_rows.scenario == "class")]
    assert (retrain.forget == 0).all()  # retraining never saw the forgotten class
    assert ((rsu_rows.tow >= 0) & (rsu_rows.tow <= 1)).all()
