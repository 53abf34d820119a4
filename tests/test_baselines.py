import dataclasses
import inspect
import json
import math

import pandas as pd
import pytest
import torch
from torch import nn

from mu_core import book, zoo
from mu_core.attacks.mia import metric
from mu_core.chapter import jsonable
from mu_core.claims import Interval
from mu_core.data import ImageData
from mu_core.studies import baselines
from mu_core.errors import ConfigError
from mu_core.regime import Leakage
from mu_core.splits import make_split, scored_split
from mu_core.train import Recipe
from mu_core.unlearn import unlearn

from conftest import ROOT, equal_with_nan


def _rows():
    def row(setting, seed, method, ua, mia, ra, ta):
        return {"setting": setting, "seed": seed, "method": method, "UA": ua, "MIA": mia,
                "RA": ra, "TA": ta, "TA_forgotten": math.nan, "seconds": 1.0 + seed}
    return pd.DataFrame([
        row("random", 0, "retrain", 0.10, 0.20, 1.00, 0.90),
        row("random", 0, "ft", 0.02, 0.04, 1.00, 0.90),
        row("random", 1, "retrain", 0.20, 0.20, 1.00, 0.90),
        row("random", 1, "ft", 0.04, 0.08, 0.96, 0.86),
    ])


def test_disparity_is_against_retraining_of_the_same_seed():
    rows = baselines.with_disparity(_rows())
    ft = rows[rows.method == "ft"].disparity.tolist()
    assert ft == pytest.approx([(0.08 + 0.16 + 0 + 0) / 4, (0.16 + 0.12 + 0.04 + 0.04) / 4])
    assert rows[rows.method == "retrain"].disparity.tolist() == [0.0, 0.0]


def test_summary_reduces_seeds_to_mean_and_std():
    summary = baselines.summarize(_rows())
    assert summary.loc[("random", "ft"), "UA_mean"] == pytest.approx(0.03)
    assert summary.loc[("random", "ft"), "UA_std"] == pytest.approx(0.01)
    assert summary.loc[("random", "ft"), "disparity_mean"] == pytest.approx((0.06 + 0.09) / 2)
    table = baselines.formatted(summary, "random")
    assert table.loc["ft", "UA"] == "3.00\u00a0±\u00a01.00" and list(table.index) == ["retrain", "ft"]


def test_a_missing_retrain_gives_no_disparity():
    rows = baselines.with_disparity(_rows()[lambda f: f.method == "ft"])
    assert all(math.isnan(d) for d in rows.disparity)


def _summary(*runs):
    """A one-seed summary of hand-made runs (setting, method, UA, seconds); MIA, RA and TA
    are those of retraining, so a method's disparity is |UA - retrain's UA| / 4."""
    return baselines.summarize(pd.DataFrame([
        {"setting": setting, "seed": 0, "method": method, "UA": ua, "MIA": 0.5, "RA": 1.0,
         "TA": 0.9, "TA_forgotten": 0.0 if setting == "class" else math.nan,
         "seconds": seconds} for setting, method, ua, seconds in runs]))


def _random(**ua_and_seconds):
    return [("random", m, ua, s) for m, (ua, s) in ua_and_seconds.items()]


def _class(**ua):
    return [("class", m, value, 1.0) for m, value in ua.items()]


def test_forget_class_table_averages_each_class_over_the_seeds_in_methods_order():
    runs = pd.DataFrame([
        {"setting": "classwise", "method": m, "forget_class_accuracy": {1: a1, 3: a3}}
        for m, a1, a3 in (("retrain", 0.2, 0.4), ("ft", 0.9, 0.8), ("retrain", 0.4, 0.6),
                          ("ft", 0.7, 1.0))] + [
        {"setting": "random", "method": "ga", "forget_class_accuracy": {0: 0.5}}])
    table = baselines.forget_class_table(runs, "classwise")
    assert list(table.index) == ["retrain", "ft"]
    assert list(table.columns) == ["class 1", "class 3"]
    assert table.loc["retrain"].tolist() == pytest.approx([0.3, 0.5])
    assert table.loc["ft"].tolist() == pytest.approx([0.8, 0.9])


def test_beside_paper_puts_the_paper_row_under_ours():
    table = baselines.beside_paper(_summary(*_random(retrain=(0.1, 9.0), wp=(0.05, 2.0))),
                                   "random", "cifar10")
    assert table.loc[("wp", "here"), "UA"] == "5.00\u00a0±\u00a00.00"
    assert ("wp", "paper") not in table.index  # the paper did not run WP
    assert table.loc[("ga", "paper"), "UA"] == 0.0 and ("ga", "here") not in table.index
    assert table.loc[("retrain", "paper"), "disparity"] == 0.0
    assert table.loc[("retrain", "paper"), "run time (s)"] == "–"  # the paper's is minutes
    assert list(table.index[:3]) == [("retrain", "here"), ("retrain", "paper"), ("wp", "here")]
    assert list(table.columns) == ["UA", "MIA", "RA", "TA", "disparity", "run time (s)"]
    hundred = baselines.beside_paper(_summary(*_random(retrain=(0.1, 9.0))), "random",
                                     "cifar100")  # the paper's CIFAR-100 dense rows
    assert hundred.loc[("retrain", "paper"), "UA"] == 24.75
    assert hundred.loc[("ga", "paper"), "TA"] == 75.38


def test_summary_rows_are_one_record_per_method():
    records = baselines.summary_rows(_summary(*_random(retrain=(0.1, 9.0), ft=(0.02, 2.0))),
                                     "random")
    assert [r["method"] for r in records] == ["retrain", "ft"]
    assert records[1]["UA_mean"] == pytest.approx(0.02)
    assert records[1]["disparity_mean"] == pytest.approx(0.02)
    assert records[1]["seconds_mean"] == 2.0


def test_disparity_figure_draws_no_bar_where_a_method_did_not_run():
    summary = _summary(*_random(retrain=(0.1, 9.0), ga=(0.02, 1.0)),
                       *_class(retrain=1.0, ga=0.6, bu=0.8))
    figure = baselines.disparity_figure(summary, ["retrain", "ga", "bu"])
    heights = {bars.get_label(): [round(b.get_height(), 6) for b in bars]
               for bars in figure.axes[0].containers}
    assert heights["class"] == [0.0, 10.0, 5.0] and heights["random"][:2] == [0.0, 2.0]
    assert math.isnan(heights["random"][2])  # bu did not run there: no bar, not a zero


def test_forget_accuracy_figure_has_a_group_per_forget_class():
    per_class = pd.DataFrame({"class 1": [0.2, 0.9], "class 3": [0.4, 0.8]},
                             index=["retrain", "ft"])
    figure = baselines.forget_accuracy_figure(per_class)
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["class 1", "class 3"]
    assert [b.get_height() for b in figure.axes[0].containers[1]] == [0.9, 0.8]


# ---------------------------------------------------------------------------------------
# Whole-class forgetting: TA and the MIA's non-members read the remaining classes only

def _tiny_data():
    """12 training and 6 test one-pixel images whose pixel is their index and whose label is
    the index mod 3: the test samples 12..17 have labels 0, 1, 2, 0, 1, 2."""
    images = torch.arange(18, dtype=torch.uint8).view(18, 1, 1, 1)
    return ImageData("tiny", images, torch.arange(18) % 3, torch.arange(12),
                     torch.arange(12, 18), ("a", "b", "c"), (0.0,), (1.0,))


def _always_class_0():
    """logits (1 + 10 x, 0, 0) for the pixel x = index / 255: every prediction is class 0,
    and the probability of class 0 tells which sample it was."""
    model = nn.Linear(1, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[10.0], [0.0], [0.0]]))
        model.bias.copy_(torch.tensor([1.0, 0.0, 0.0]))
    return nn.Sequential(nn.Flatten(), model)


def _class_0_probability(indices):
    x = torch.tensor(indices, dtype=torch.float64) / 255
    return torch.exp(1 + 10 * x) / (torch.exp(1 + 10 * x) + 2)


def test_whole_class_forgetting_scores_the_test_samples_of_the_remaining_classes():
    data = _tiny_data()
    split = make_split(data, forget_classes=[2], forget_fraction=1.0)
    scored, forgotten = scored_split(data, split)
    assert scored.test.tolist() == [12, 13, 15, 16] and forgotten.tolist() == [14, 17]
    assert scored.forget.tolist() == [2, 5, 8, 11] and torch.equal(scored.retain, split.retain)
    random = make_split(data, random_fraction=0.25)
    assert scored_split(data, random)[0].test.tolist() == list(range(12, 18))
    assert scored_split(data, random)[1].tolist() == []


def test_whole_class_scores_and_the_mias_shadow_sets_by_hand(monkeypatch):
    data = _tiny_data()
    shadow = {}

    def recording(member_probs, member_labels, nonmember_probs, nonmember_labels,
                  target_probs, target_labels, *, feature):
        shadow.update(members=member_probs[:, 0], nonmembers=nonmember_probs[:, 0],
                      nonmember_labels=nonmember_labels, targets=target_probs[:, 0])
        return torch.zeros(len(target_labels))  # every forget sample called a non-member
    monkeypatch.setattr(metric, "membership_predictions", recording)
    row = baselines.score(_always_class_0(), data, make_split(data, forget_classes=[2]), seed=0)
    # class 0 is right on 12, 15 of the remaining 12, 13, 15, 16, wrong on 14, 17 (class 2)
    assert row["TA"] == 0.5 and row["TA_forgotten"] == 0.0  # the whole test set: 2/6
    assert row["UA"] == 1.0 and row["RA"] == 0.5 and row["MIA"] == 1.0
    assert row["forget_class_accuracy"] == {2: 0.0}
    # 4 non-members (the remaining classes' 4 test samples) and as many of the 8 retain ones
    assert sorted(shadow["nonmembers"].tolist()) == pytest.approx(
        _class_0_probability([12, 13, 15, 16]).tolist(), abs=1e-6)
    assert sorted(shadow["nonmember_labels"].tolist()) == [0, 0, 1, 1]
    retain_probabilities = _class_0_probability([0, 1, 3, 4, 6, 7, 9, 10])
    assert len(shadow["members"]) == 4 and all(
        torch.isclose(retain_probabilities, p.double(), atol=1e-6).any()
        for p in shadow["members"])
    assert shadow["targets"].tolist() == pytest.approx(
        _class_0_probability([2, 5, 8, 11]).tolist(), abs=1e-6)


def test_random_forgetting_keeps_the_whole_test_set_and_no_forgotten_class():
    data = _tiny_data()
    row = baselines.score(_always_class_0(), data, make_split(data, random_fraction=0.25),
                          seed=0)
    assert row["TA"] == pytest.approx(2 / 6) and math.isnan(row["TA_forgotten"])


def test_the_whole_class_table_has_the_forgotten_class_beside_ta():
    summary_runs = pd.DataFrame([
        {"setting": "class", "seed": seed, "method": method, "UA": 1.0, "MIA": 1.0, "RA": 1.0,
         "TA": 0.95, "TA_forgotten": forgotten, "seconds": 1.0}
        for seed, method, forgotten in ((0, "retrain", 0.0), (0, "ft", 0.2), (1, "retrain", 0.0),
                                        (1, "ft", 0.4))])
    summary = baselines.summarize(summary_runs)
    table = baselines.beside_paper(summary, "class", "cifar10")
    assert list(table.columns[:6]) == ["UA", "MIA", "RA", "TA", "TA forgotten class",
                                       "disparity"]
    assert table.loc[("ft", "here"), "TA forgotten class"] == "30.00\u00a0±\u00a010.00"
    assert table.loc[("retrain", "here"), "TA forgotten class"] == "0.00\u00a0±\u00a00.00"
    results = _results(summary_runs)
    assert baselines.headline(results)["class/ft/TA_forgotten_mean"] == pytest.approx(0.3)
    assert baselines.headline(results)["class/ft/TA_mean"] == pytest.approx(0.95)


# No shadow models: LiRA not run, so its AUC and TPRs are NaN and its interval unbounded
NO_LIRA = Leakage(train_accuracy=1.0, test_accuracy=0.9,
                  auc=Interval(math.nan, -math.inf, math.inf, "not run"),
                  tpr_at_1pct_fpr=math.nan, shadow_auc=math.nan,
                  shadow_tpr_at_1pct_fpr=math.nan, shadow_count=0, pool_size=0)


def _results(runs, leakage=NO_LIRA):
    """A hand-made `baselines.Results` of per-seed `runs` (every setting they name)."""
    settings = {s: {} for s in dict.fromkeys(runs.setting)}
    return baselines.Results(settings, list(dict.fromkeys(runs.method)),
                             sorted(set(runs.seed)), len(runs), runs, leakage)


def _verdicts(runs):
    return {c.id: c.verdict for c in baselines.claims(_results(runs))}


CLAIM_IDS = ["random_baselines_forget_less_than_retrain", "random_baselines_mia_below_retrain",
             "random_ff_utility_gap", "class_ft_farthest_from_retrain", "ga_fastest",
             "baselines_faster_than_retrain"]

# Three seeds. Retraining's scores and those of a method that matches it, over which each
# test writes the per-seed values its claim reads; the trained model (written first in each
# setting) has UA 0 and a clear membership signal, unless a test says otherwise.
SEEDS = (0, 1, 2)
_NEUTRAL = {"UA": 0.06, "MIA": 0.14, "RA": 1.0, "TA": 0.94, "seconds": 1.0, "cached": False}
_TRAINED = {"UA": 0.0, "seconds": math.nan,
            **{baselines.signal_column(f): 0.7 for f in baselines.MEMBER_DIRECTION},
            **{baselines.signal_column(f) + baselines.VARIANCE: 0.02 ** 2
               for f in baselines.MEMBER_DIRECTION}}  # DeLong's, a standard error of 0.02


def _per_seed(value, seed):
    return value[seed] if isinstance(value, (list, tuple)) else value


def _runs(**settings):
    """Per-seed runs: {setting: {method: {score: value or [one per seed]}}} over _NEUTRAL,
    with the trained model's rows (method "trained": _TRAINED, then its own entry)."""
    records = []
    for setting, methods in settings.items():
        methods = {"trained": {}, **methods}
        for method, values in methods.items():
            base = {**_NEUTRAL, **(_TRAINED if method == "trained" else {})}
            for seed in SEEDS:
                records.append({"setting": setting, "seed": seed, "method": method,
                                "TA_forgotten": 0.0 if setting == "class" else math.nan,
                                **{k: _per_seed(v, seed) for k, v in {**base, **values}.items()}})
    return pd.DataFrame(records)


def _paper_random(**changes):
    """Every Table 1 method in random forgetting, retraining slowest."""
    runs = {m: {} for m in baselines.PAPER_METHODS}
    runs["retrain"] = {"seconds": 9.0}
    for method, values in changes.items():
        runs[method] = {**runs[method], **values}
    return runs


def test_baselines_forget_less_than_retraining_reads_the_paired_interval_of_each():
    def runs(iu_ua, **others):
        return _runs(random={"retrain": {"UA": [0.06, 0.07, 0.05]},
                             "ft": {"UA": [0.01, 0.02, 0.0]}, "ga": {"UA": 0.0},
                             "iu": {"UA": iu_ua}, **others})
    claim = baselines.random_baselines_forget_less(runs([0.04, 0.05, 0.03],
                                                        ff={"UA": 0.09}))  # ff: not claimed
    assert claim.verdict == "held"
    assert claim.here.startswith("retrain UA - method UA (points): ft +5.00 [+5.00, +5.00], "
                                 "3 seeds, paired; ga +6.00 [+3.52, +8.48]")
    assert claim.paper == "paper (CIFAR-10) UA: retrain 5.80, ft 0.18, ga 0.00, iu 0.42"
    # iu's paired differences straddle 0: the mean is lower, but not beyond the spread
    assert baselines.random_baselines_forget_less(
        runs([0.02, 0.09, 0.05])).verdict == "inconclusive"
    # iu forgets more than retraining on every seed (swapping the two would hold)
    assert baselines.random_baselines_forget_less(
        runs([0.08, 0.09, 0.07])).verdict == "did not hold"
    # equal on every seed: a point at 0 is not above it
    assert baselines.random_baselines_forget_less(
        runs([0.06, 0.07, 0.05])).verdict == "did not hold"
    # retraining kept its forget set as the trained model did (UA 0 on every seed): no
    # method can forget less, and the ties are not a counter-example
    kept = baselines.random_baselines_forget_less(runs([0.0, 0.0, 0.0],
                                                       retrain={"UA": 0.0}))
    assert kept.verdict == "not testable here"
    assert kept.here.startswith("retrain (random) did not forget: forget accuracy 1.000")
    without_iu = _runs(random={"retrain": {"UA": 0.06}, "ft": {"UA": 0.01}, "ga": {"UA": 0.0}})
    claim = baselines.random_baselines_forget_less(without_iu)
    assert claim.verdict == "not testable here" and "not run: iu (random)" in claim.here


def test_baselines_mia_below_retraining_needs_a_signal_on_the_trained_model():
    paper = _paper_random(retrain={"MIA": [0.13, 0.14, 0.15]}, ft={"MIA": 0.017},
                          ga={"MIA": 0.0035}, ff={"MIA": [0.10, 0.09, 0.11]},
                          iu={"MIA": 0.0149})
    claim = baselines.random_baselines_mia_below_retrain(_runs(random=paper))
    assert claim.verdict == "held" and "ff +4.00 [+1.52, +6.48]" in claim.here
    assert claim.paper == ("paper (CIFAR-10) MIA-efficacy: retrain 13.91, ft 1.70, ga 0.35, ff 10.24, "
                           "iu 1.49")
    straddles = dict(paper, ff={"MIA": [0.16, 0.10, 0.12]})
    assert baselines.random_baselines_mia_below_retrain(
        _runs(random=straddles)).verdict == "inconclusive"
    above = dict(paper, ga={"MIA": [0.2, 0.2, 0.2]})
    assert baselines.random_baselines_mia_below_retrain(
        _runs(random=above)).verdict == "did not hold"
    # the same numbers on a trained model whose confidence does not tell members apart
    no_signal = dict(paper, trained={"signal_confidence": [0.49, 0.52, 0.50]})
    claim = baselines.random_baselines_mia_below_retrain(_runs(random=no_signal))
    assert claim.verdict == "not testable here"
    assert claim.here.startswith("the confidence SVC has no signal on the trained model: "
                                 "AUC 0.503")
    # each seed's own DeLong variance decides, not only their spread: three seeds at 0.55 to
    # 0.62 with standard errors of 0.02 show a signal a t interval over them (2 df) misses
    clear = dict(paper, trained={"signal_confidence": [0.55, 0.62, 0.58]})
    assert baselines.random_baselines_mia_below_retrain(_runs(random=clear)).verdict == "held"
    noisy = dict(paper, trained={"signal_confidence": 0.6, "signal_confidence_variance": 0.01})
    assert baselines.random_baselines_mia_below_retrain(
        _runs(random=noisy)).verdict == "not testable here"  # 0.6 +- 0.11 on every seed
    runs = dict(paper)
    del runs["ff"]
    assert baselines.random_baselines_mia_below_retrain(
        _runs(random=runs)).verdict == "not testable here"


def test_ff_utility_gap_needs_both_gaps_beyond_five_points_over_the_seeds():
    def runs(ff_ta):
        return _runs(random={"retrain": {"RA": 1.0, "TA": 0.943},
                             "ff": {"RA": [0.92, 0.91, 0.93], "TA": ff_ta}})
    claim = baselines.random_ff_utility_gap(runs([0.87, 0.86, 0.875]))
    assert claim.verdict == "held"
    assert claim.here.startswith("retrain - ff (points): RA +8.00 [+5.52, +10.48]")
    assert claim.paper == "paper (CIFAR-10): retrain - ff = RA 6.91, TA 5.79 points"
    assert baselines.random_ff_utility_gap(runs([0.90, 0.85, 0.88])).verdict == "inconclusive"
    # a TA gap of 2 points on every seed (the RA gap alone would hold)
    assert baselines.random_ff_utility_gap(runs([0.923, 0.923, 0.923])).verdict == \
        "did not hold"
    # FF above retraining: the gap is negative, the sign matters
    assert baselines.random_ff_utility_gap(_runs(random={
        "retrain": {"RA": 0.9, "TA": 0.8}, "ff": {"RA": 1.0, "TA": 0.95}})).verdict == \
        "did not hold"
    assert baselines.random_ff_utility_gap(
        _runs(random={"retrain": {}})).verdict == "not testable here"
    # an FF that forgot nothing (the trained model's forget accuracy on every seed) pays no
    # price for forgetting: its gaps, however large, are not the paper's trade
    kept = baselines.random_ff_utility_gap(runs([0.87, 0.86, 0.875]).assign(
        UA=lambda r: r.UA.where(r.method != "ff", 0.0)))
    assert kept.verdict == "not testable here" and "ff (random) did not forget" in kept.here


def test_ft_farthest_from_retraining_checks_the_ordering_against_the_seeds_spread():
    # disparity = (|UA - 1| + |RA - 1|) / 4 (MIA and TA are retraining's); the trained
    # model's UA is 0, so a method forgot when its UA is above half of retraining's 1
    def runs(ga, ft_ua=(0.1, 0.2, 0.15), iu=None):
        return _runs(**{"class": {"retrain": {"UA": 1.0}, "ft": {"UA": list(ft_ua)},
                                  "ga": ga, "ff": {"UA": 0.7}, "iu": iu or {"UA": 0.6}}})
    claim = baselines.class_ft_farthest_from_retrain(runs({"UA": 0.9}))
    assert claim.verdict == "held"
    assert claim.here.startswith("disparity difference (points): ft - ga +18.75 [+15.64, "
                                 "+21.86]")
    assert claim.paper == "paper (CIFAR-10) disparity: ft 37.84, ga 6.00, ff 8.14, iu 14.27"
    # ft scattered around ga's distance (ft's disparity 2.5, 22.5, 12.5 points against
    # ga's 10): no ordering at this spread
    assert baselines.class_ft_farthest_from_retrain(
        runs({"UA": 0.6}, ft_ua=(0.9, 0.1, 0.5))).verdict == "inconclusive"
    # ga forgot but wrecked its retain accuracy: farther than ft on every seed (a rule that
    # swapped ft and ga would hold)
    assert baselines.class_ft_farthest_from_retrain(
        runs({"UA": 0.9, "RA": 0.0})).verdict == "did not hold"
    # a ga that kept the class as ft does (forget accuracy 95%, the margin is 50 points)
    # cannot show the paper's ordering, whatever its distance: that part is not testable,
    # with the measured reason, and so is the claim ...
    kept = baselines.class_ft_farthest_from_retrain(runs({"UA": 0.05}))
    assert kept.verdict == "not testable here"
    assert "ft - ga not testable (ga (class) did not forget: forget accuracy 0.950" in kept.here
    assert "ft - ff +" in kept.here  # the tested parts keep their intervals
    # ... unless another part is a counter-example (iu forgot and is farther on every seed)
    assert baselines.class_ft_farthest_from_retrain(
        runs({"UA": 0.05}, iu={"UA": 0.9, "RA": 0.0})).verdict == "did not hold"
    no_ff = _runs(**{"class": {"retrain": {"UA": 1.0}, "ft": {"UA": 0.1}, "ga": {"UA": 0.9},
                               "iu": {"UA": 0.6}}})
    claim = baselines.class_ft_farthest_from_retrain(no_ff)
    assert claim.verdict == "not testable here" and "not run: ff (class)" in claim.here


def _timed(random, whole_class, cached=False):
    """Table 1's methods in both settings with the given run times (s, or one per seed)."""
    return _runs(random={m: {"seconds": t, "cached": cached} for m, t in random.items()},
                 **{"class": {m: {"seconds": t, "cached": cached}
                              for m, t in whole_class.items()}})


PAPER_TIMES = {"retrain": 82.15, "ft": 4.91, "ga": [0.37, 0.35, 0.39], "ff": 42.9, "iu": 4.93}


def test_ga_fastest_reads_paired_run_times_in_both_settings():
    holds = _timed(PAPER_TIMES, PAPER_TIMES)
    claim = baselines.ga_fastest(holds)
    assert claim.verdict == "held"
    assert claim.here.startswith("run-time difference (s, measured in this run; varies with "
                                 "the machine): random retrain - ga +81.78 [+81.73, +81.83]")
    assert claim.paper == ("paper (CIFAR-10, min): random retrain 82.15, ft 4.91, ga 0.37, ff 42.90, "
                           "iu 4.93; class retrain 82.00, ft 4.88, ga 0.39, ff 42.70, iu 4.40")
    cached = baselines.ga_fastest(_timed(PAPER_TIMES, PAPER_TIMES, cached=True))
    assert "first build's seconds" in cached.here
    faster_other = _runs(random={**{m: {"seconds": t} for m, t in PAPER_TIMES.items()},
                                 "bad_teacher": {"seconds": 0.1}},
                         **{"class": {m: {"seconds": t} for m, t in PAPER_TIMES.items()}})
    assert baselines.ga_fastest(faster_other).verdict == "held"  # not a Table 1 method
    close = _timed(PAPER_TIMES, {**PAPER_TIMES, "ft": [0.30, 0.45, 0.40]})
    assert baselines.ga_fastest(close).verdict == "inconclusive"
    slower_in_class = _timed(PAPER_TIMES, {**PAPER_TIMES, "ga": 5.0})
    assert baselines.ga_fastest(slower_in_class).verdict == "did not hold"
    only_random = _runs(random={m: {"seconds": t} for m, t in PAPER_TIMES.items()})
    assert baselines.ga_fastest(only_random).verdict == "not testable here"
    # a GA that kept the whole class (forget accuracy 100%, where retraining's is 94%) is
    # fast at nothing the paper timed: that part is not testable, with the measured reason
    kept = _timed(PAPER_TIMES, PAPER_TIMES)
    kept.loc[(kept.setting == "class") & (kept.method == "ga"), "UA"] = 0.0
    claim = baselines.ga_fastest(kept)
    assert claim.verdict == "not testable here"
    assert "class retrain - ga not testable (ga (class) did not forget" in claim.here
    assert "random retrain - ga +81.78" in claim.here  # the tested parts keep their intervals
    # ... unless a tested part is a counter-example
    kept.loc[(kept.setting == "random") & (kept.method == "ga"), "seconds"] = 50.0
    assert baselines.ga_fastest(kept).verdict == "did not hold"


def test_baselines_faster_than_retraining_in_both_settings():
    assert baselines.baselines_faster_than_retrain(
        _timed(PAPER_TIMES, PAPER_TIMES)).verdict == "held"
    ff_slow = _timed(PAPER_TIMES, {**PAPER_TIMES, "ff": 90.0})
    assert baselines.baselines_faster_than_retrain(ff_slow).verdict == "did not hold"
    ff_close = _timed(PAPER_TIMES, {**PAPER_TIMES, "ff": [70.0, 95.0, 75.0]})
    assert baselines.baselines_faster_than_retrain(ff_close).verdict == "inconclusive"
    # iu claimed faster where it forgot nothing: not testable (its parts alone)
    iu_kept = _timed(PAPER_TIMES, PAPER_TIMES)
    iu_kept.loc[iu_kept.method == "iu", "UA"] = 0.0
    claim = baselines.baselines_faster_than_retrain(iu_kept)
    assert claim.verdict == "not testable here"
    assert "random retrain - iu not testable (iu (random) did not forget" in claim.here
    assert "random retrain - ft +" in claim.here
    times = dict(PAPER_TIMES)
    del times["iu"]
    assert baselines.baselines_faster_than_retrain(
        _timed(times, PAPER_TIMES)).verdict == "not testable here"


def test_claims_without_their_methods_are_not_testable_but_present():
    no_retrain = _runs(random={"ft": {}, "ga": {}, "ff": {}, "iu": {}},
                       **{"class": {"ft": {}, "ga": {}, "ff": {}, "iu": {}}})
    assert list(_verdicts(no_retrain)) == CLAIM_IDS
    assert set(_verdicts(no_retrain).values()) == {"not testable here"}
    only_retrain = _runs(random={"retrain": {}}, **{"class": {"retrain": {}}})
    assert list(_verdicts(only_retrain)) == CLAIM_IDS
    assert set(_verdicts(only_retrain).values()) == {"not testable here"}


def test_claims_read_the_runs_of_the_results():
    # random forgetting as in Table 1 (retraining slowest, the baselines below its UA and
    # MIA-efficacy, FF forgetting like retraining with its RA and TA 8 points below); no
    # whole-class runs
    random = _paper_random(retrain={"UA": [0.06, 0.07, 0.05], "MIA": [0.13, 0.14, 0.15]},
                           ft={"UA": [0.01, 0.02, 0.0], "MIA": 0.02},
                           ga={"UA": 0.0, "MIA": 0.0, "seconds": 0.1},
                           ff={"UA": 0.06, "MIA": 0.02, "RA": [0.92, 0.91, 0.93],
                               "TA": [0.86, 0.85, 0.87]},
                           iu={"UA": [0.04, 0.05, 0.03], "MIA": 0.02})
    assert _verdicts(_runs(random=random)) == {
        "random_baselines_forget_less_than_retrain": "held",
        "random_baselines_mia_below_retrain": "held", "random_ff_utility_gap": "held",
        "class_ft_farthest_from_retrain": "not testable here",
        "ga_fastest": "not testable here", "baselines_faster_than_retrain": "not testable here"}
    random["ff"]["TA"] = 0.94  # FF's TA as retraining's: no gap
    assert _verdicts(_runs(random=random))["random_ff_utility_gap"] == "did not hold"


LIRA = Leakage(train_accuracy=1.0, test_accuracy=0.92,
               auc=Interval(0.71, 0.66, 0.76, "500 + 500 samples"), tpr_at_1pct_fpr=0.08,
               shadow_auc=math.nan, shadow_tpr_at_1pct_fpr=0.05, shadow_count=6, pool_size=1000)


def _full_results(leakage):
    """Results of every setting with the columns `compare_methods` writes, NaN included
    (the trained model's run time, TA_forgotten outside whole-class forgetting, the signal
    columns of the unlearned models, one class's forget accuracy)."""
    runs = _runs(classwise={"retrain": {"UA": 0.5}, "ft": {}}, random={"retrain": {}, "ga": {}},
                 **{"class": {"retrain": {"UA": 1.0}, "ft": {"UA": 0.2}}})
    runs["forget_class_accuracy"] = [{1: 0.5, 3: math.nan if i == 4 else 0.25}
                                     for i in range(len(runs))]
    runs[baselines.FORGET_SIZE] = 25
    settings = baselines.forget_settings([1, 3], 0.5, 0.1, [3], 500)
    return baselines.Results(settings, ["retrain", "ft", "ga"], list(SEEDS), 18, runs, leakage)


def _assert_same_results(found, expected):
    assert (found.settings, found.methods, found.seeds, found.planned) == \
        (expected.settings, expected.methods, expected.seeds, expected.planned)
    column = "forget_class_accuracy"
    pd.testing.assert_frame_equal(found.runs.drop(columns=column),
                                  expected.runs.drop(columns=column))
    assert equal_with_nan(list(found.runs[column]), list(expected.runs[column]))
    assert equal_with_nan(found.leakage, expected.leakage)


@pytest.mark.parametrize("leakage", [LIRA, NO_LIRA], ids=["lira", "no_lira"])
def test_results_round_trip_through_json_nan_included(leakage):
    results = _full_results(leakage)
    assert math.isnan(results.runs.seconds[0]) and math.isnan(results.runs.TA_forgotten[0])
    _assert_same_results(baselines.Results.from_json(results.to_json()), results)
    # through a results file: NaN and infinities written as null, read back as NaN and as
    # the interval's open ends
    text = json.dumps(jsonable(results.to_json()), allow_nan=False)
    read = baselines.Results.from_json(json.loads(text))
    _assert_same_results(read, results)
    assert read.runs.seconds.dtype == float and math.isnan(read.runs.seconds[0])
    assert read.runs.forget_class_accuracy[4] == {1: 0.5, 3: pytest.approx(math.nan,
                                                                            nan_ok=True)}
    assert _verdicts(read.runs) == _verdicts(results.runs)


def test_results_json_keeps_the_keys_the_chapters_readers_read():
    document = _full_results(LIRA).to_json()
    assert {"settings", "runs", "forget_class_accuracy", "forgot", "regime",
            "regime_lira"} <= set(document)
    assert [row["method"] for row in document["settings"]["class"]] == \
        ["trained", "retrain", "ft"]
    assert document["regime_lira"]["auc_n"] == "500 + 500 samples"
    assert document["forget_class_accuracy"]["retrain"] == {"class 1": 0.5, "class 3": 0.25}


def _chapter_params(**changes):
    """The chapter's parameters cell, with `changes`, on the CPU."""
    notebook = book.read_notebook(ROOT / "notebooks" / "01_baselines.py")
    return {**book.notebook_parameters(notebook), "device": "cpu", **changes}


def test_run_checks_every_parameter_before_training(monkeypatch, cache_dir):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before every parameter was checked")
    monkeypatch.setattr(baselines, "compare_methods", no_training)
    monkeypatch.setattr(baselines.regime, "of_setting", no_training)
    with pytest.raises(ConfigError, match="unknown unlearning method 'fft'"):
        baselines.run(_chapter_params(methods=["retrain", "fft"]))
    with pytest.raises(ConfigError, match="hyperparameters name unknown methods"):
        baselines.run(_chapter_params(hyperparameters={"gd": {}}))
    with pytest.raises(ConfigError, match="out of range"):
        baselines.run(_chapter_params(forget_classes=[12]))
    with pytest.raises(ConfigError, match="shadow_count must be 0"):
        baselines.run(_chapter_params(shadow_count=1))
    with pytest.raises(ConfigError, match="unknown dataset|dataset"):
        baselines.run(_chapter_params(dataset="mnist5"))


def test_run_passes_the_chapters_parameters_to_the_study(monkeypatch, cache_dir):
    calls = {}

    def compare(data, settings, methods, seeds, **options):
        calls["compare"] = (settings, methods, seeds, options)
        return pd.DataFrame({"setting": ["random"]})

    def of_setting(data, spec, architecture, recipe, **options):
        calls["regime"] = (spec, architecture, recipe, options)
        return LIRA
    monkeypatch.setattr(baselines, "compare_methods", compare)
    monkeypatch.setattr(baselines.regime, "of_setting", of_setting)
    params = _chapter_params(seeds=[4, 2], methods=["retrain", "ga", "bu"], shadow_count=0,
                             whole_classes=[5], train_size=300, epochs=3)
    results = baselines.run(params)
    settings = baselines.forget_settings(params["forget_classes"], params["forget_fraction"],
                                         params["random_fraction"], [5], 300)
    assert results.settings == settings and calls["compare"][0] == settings
    assert (results.methods, results.seeds) == (["retrain", "ga", "bu"], [4, 2])
    assert results.planned == 3 * 2 * 3 - 2  # bu has no random-forgetting runs
    options = calls["compare"][3]
    assert options["architecture"] == "cnn" and options["recipe"].epochs == 3
    assert options["hyperparameters"] == params["hyperparameters"]
    spec, architecture, recipe, options = calls["regime"]
    assert spec == settings["random"] and options == {"seed": 4, "shadow_count": 0}
    assert results.leakage is LIRA and list(results.runs.setting) == ["random"]


def test_a_method_forgot_when_its_drop_exceeds_half_of_retrainings():
    # retraining drops forget accuracy by 4 points, so the margin is 2 points
    runs = _runs(random={"retrain": {"UA": [0.04, 0.05, 0.03]}, "ft": {"UA": [0.0, 0.01, 0.0]},
                         "ga": {"UA": [0.2, 0.3, 0.25]}, "rl": {"UA": [0.0, 0.06, 0.01]}})
    assert baselines.forgot_margin(runs, "random") == pytest.approx(0.02)
    assert baselines.not_forgotten(runs, "random", "ga") is None
    assert "ft (random) did not forget" in baselines.not_forgotten(runs, "random", "ft")
    # rl's mean drop (2.3 points) passes the margin, but its interval over 3 seeds reaches 0
    assert "interval reaches 0" in baselines.not_forgotten(runs, "random", "rl")
    table = baselines.forgetting_table(runs)
    assert table.loc[("random", "ga"), "forgot"] == "yes"
    assert table.loc[("random", "ft"), "forgot"] == "no"
    assert table.loc[("random", "ga"), "forget accuracy (%)"].startswith("75.00 [")
    assert ("random", "trained") not in table.index


def test_forgetting_pools_the_seeds_forget_samples_where_their_count_is_recorded():
    # 7 of 150 forget samples forgotten (2.0, 0.6 and 2.0 of 50): over 3 seeds the t interval
    # reaches 0, the Wilson interval over the 150 samples does not (scipy's binomtest agrees)
    from scipy.stats import binomtest
    runs = _runs(random={"retrain": {"UA": [0.06, 0.04, 0.08]},
                         "adversarial": {"UA": [0.06, 0.02, 0.06]}})
    assert "interval reaches 0" in baselines.not_forgotten(runs, "random", "adversarial")
    runs[baselines.FORGET_SIZE] = 50
    accuracy = baselines.forget_accuracy(runs, "random", "adversarial")
    wilson = binomtest(143, 150).proportion_ci(0.95, method="wilson")
    assert (accuracy.low, accuracy.high) == pytest.approx((wilson.low, wilson.high))
    assert accuracy.n == "150 forget samples, 3 seeds"
    assert baselines.not_forgotten(runs, "random", "adversarial") is None
    # a seed without a score drops out of both the count and the total (7 - 3 of 100)
    runs.loc[(runs.method == "adversarial") & (runs.seed == runs.seed.min()), "UA"] = None
    assert baselines.forget_accuracy(runs, "random", "adversarial").estimate == \
        pytest.approx(96 / 100)



def test_the_membership_signal_is_the_auc_of_each_feature_members_side_up():
    confident = torch.tensor([[0.9, 0.1], [0.8, 0.2]])
    unsure = torch.tensor([[0.6, 0.4], [0.4, 0.6]])
    labels = torch.tensor([0, 0])
    signal = baselines.membership_signal((confident, labels), (unsure, labels))
    assert signal["signal_confidence"] == 1.0  # members more confident
    assert signal["signal_entropy"] == 1.0  # and lower entropy, turned members' side up
    assert signal["signal_modified_entropy"] == 1.0
    assert signal["signal_correctness"] == 0.75  # one non-member wrong, ties count a half
    assert baselines.membership_signal((unsure, labels), (confident, labels))[
        "signal_confidence"] == 0.0


def test_plan_checks_every_request_before_training(mnist):
    settings = baselines.forget_settings([1, 3], 0.5, 0.1, [3])
    runs = zoo.plan(mnist, settings, ["retrain", "bu"], [0, 1], {})
    assert len(runs) == 2 * 2 + 2 * 1 + 2 * 2  # bu has no random-forgetting runs
    with pytest.raises(ConfigError, match="unknown unlearning method 'fft'"):
        zoo.plan(mnist, settings, ["fft"], [0], {})
    with pytest.raises(ConfigError, match="no hyper-parameter epoch"):
        zoo.plan(mnist, settings, ["ft"], [0], {"ft": {"epoch": 3}})
    with pytest.raises(ConfigError, match="hyperparameters name unknown methods"):
        zoo.plan(mnist, settings, ["ft"], [0], {"gd": {}})
    with pytest.raises(ConfigError, match="out of range"):
        zoo.plan(mnist, baselines.forget_settings([12], 0.5, 0.1, [3]), ["ft"], [0], {})


def check_smoke_results(results, out):
    """The chapter's smoke-run results (tests/test_chapters.py runs it)."""
    r = results["results"]
    # the results file holds the whole Results: the claims recomputed from it are those recorded
    read = baselines.Results.from_json(r)
    assert [dataclasses.asdict(c) for c in baselines.claims(read)] == r["claims"]
    methods = {row["method"] for row in r["settings"]["classwise"]}
    assert len(methods) == 13 and "trained" in methods  # twelve methods and the trained model
    assert {row["method"] for row in r["settings"]["random"]} == methods - {"bu", "unsc"}
    trained = [row for row in r["runs"] if row["method"] == "trained"]
    assert len(trained) == 3 * len(results["params"]["seeds"])  # one per setting and seed
    assert all(0 <= row["signal_confidence"] <= 1 for row in trained)
    assert all(row["signal_confidence_variance"] > 0 for row in trained)  # DeLong's, per seed
    leakage = r["regime_lira"]  # LiRA on the first seed's trained model, 500 + 500 samples
    assert leakage["shadow_count"] == results["params"]["shadow_count"]
    assert leakage["auc_n"] == f"{results['params']['train_size']} + " \
                               f"{results['params']['train_size']} samples"
    retrain = next(row for row in r["settings"]["class"] if row["method"] == "retrain")
    assert retrain["UA_mean"] == 1.0 and retrain["disparity_mean"] == 0.0
    assert all(0 <= row["MIA_mean"] <= 1 for rows in r["settings"].values() for row in rows)
    assert [c["id"] for c in r["claims"]] == CLAIM_IDS
    # every method ran, so no claim lacks its methods (a precondition may still fail)
    assert not any("not run:" in c["here"] for c in r["claims"])
    assert "forgot" in r and {row["forgot"] for row in r["forgot"]} <= {"yes", "no", "unclear"}


# ---------------------------------------------------------------------------------------
# The methods aligned with their references (issue 15, item 2)

def _linear_on_one_pixel(weight, bias):
    model = nn.Linear(1, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(weight).view(3, 1))
        model.bias.copy_(torch.tensor(bias))
    return nn.Sequential(nn.Flatten(), model)


def _sgd_by_hand(weight, bias, pixels, labels, *, lr, momentum, weight_decay, l1_weights=(0,),
                 ascent=False, steps=None):
    """Full-batch SGD (momentum buffer, coupled weight decay) on the mean cross-entropy of a
    linear model of one input, descending (ascending with `ascent`), plus l1_weights[k] times
    the l1 norm of all parameters at step k; in float64."""
    w, b = torch.tensor(weight, dtype=torch.float64), torch.tensor(bias, dtype=torch.float64)
    x = torch.tensor(pixels, dtype=torch.float64) / 255
    onehot = torch.eye(3, dtype=torch.float64)[torch.tensor(labels)]
    buffers = None
    for step in range(steps or len(l1_weights)):
        p = torch.softmax(x[:, None] * w[None] + b[None], dim=1)
        dz = (p - onehot) / len(x) * (-1 if ascent else 1)  # d(+-CE)/dz, batch mean
        l1 = l1_weights[step % len(l1_weights)]
        steps_w = dz.T @ x + l1 * w.sign() + weight_decay * w
        steps_b = dz.sum(0) + l1 * b.sign() + weight_decay * b
        if buffers is None:
            buffers = [steps_w, steps_b]
        else:
            buffers = [momentum * buffers[0] + steps_w, momentum * buffers[1] + steps_b]
        w, b = w - lr * buffers[0], b - lr * buffers[1]
    return w, b


def test_ga_takes_the_references_sgd_steps_with_momentum_and_weight_decay():
    from mu_core.unlearn import unlearn

    data = _tiny_data()
    weight, bias = [6.0, -4.0, 2.0], [1.0, 0.5, -1.0]
    split = make_split(data, forget_indices=[4, 7])  # labels 1 and 1, pixels 4 and 7
    unlearned = unlearn("ga", _linear_on_one_pixel(weight, bias), data, split, lr=0.5,
                        epochs=3, batch_size=2)
    layer = unlearned[1]
    w, b = _sgd_by_hand(weight, bias, [4, 7], [1, 1], lr=0.5, steps=3, momentum=0.9,
                        weight_decay=5e-4, ascent=True)
    assert layer.weight.view(-1).tolist() == pytest.approx(w.tolist(), abs=1e-5)
    assert layer.bias.tolist() == pytest.approx(b.tolist(), abs=1e-5)
    plain_w, _ = _sgd_by_hand(weight, bias, [4, 7], [1, 1], lr=0.5, steps=3, momentum=0.0,
                              weight_decay=0.0, ascent=True)
    assert (plain_w - w).abs().max() > 1e-3  # the old plain SGD is told apart
    plain = unlearn("ga", _linear_on_one_pixel(weight, bias), data, split, lr=0.5, epochs=3,
                    batch_size=2, momentum=0.0, weight_decay=0.0)  # the named option
    assert plain[1].weight.view(-1).tolist() == pytest.approx(plain_w.tolist(), abs=1e-5)


# Which samples each method steps on (Unlearn-Sparse, Unlearn-Saliency, Boundary-Unlearning-
# Code, HQC-ML/UNSC): FT, l1-sparse and WP the retain set; GA, BU and UNSC the forget set;
# RL and SalUn both, shuffled together; retraining the retain set from fresh weights.
STEPS_ON = {"retrain": "retain", "ft": "retain", "l1_sparse": "retain", "wp": "retain",
            "ga": "forget", "bu": "forget", "unsc": "forget", "rl": "forget+retain",
            "salun": "forget+retain"}


@pytest.mark.parametrize("method", sorted(STEPS_ON))
def test_each_method_steps_on_the_samples_its_reference_steps_on(monkeypatch, method):
    from mu_core import train
    from mu_core.unlearn import unlearn

    stepped = []
    real_fit = train.fit

    def recording_fit(model, data, indices, *args, **kwargs):
        stepped.append(sorted(indices.tolist()))
        return real_fit(model, data, indices, *args, **kwargs)
    for module in ("finetune", "pruning", "saliency", "boundary", "nullspace"):
        monkeypatch.setattr(f"mu_core.unlearn.{module}.fit", recording_fit, raising=False)
    data = _tiny_data()
    split = make_split(data, forget_indices=[0, 3, 6])  # class 0's: a class-level split
    split = dataclasses.replace(split, kind="classwise") if method in ("bu", "unsc") else split
    unlearn(method, _conv_model(), data, split, epochs=1, **(
        {"max_samples": 9} if method == "unsc" else {}))
    forget, retain = split.forget.tolist(), split.retain.tolist()
    expected = {"retain": retain, "forget": forget,
                "forget+retain": sorted(forget + retain)}[STEPS_ON[method]]
    assert stepped == [sorted(expected)]


@pytest.mark.parametrize("method", ["ft", "ga", "rl", "l1_sparse", "wp", "salun", "bu"])
def test_unlearning_runs_keep_their_learning_rate_constant(monkeypatch, method):
    from mu_core import train
    from mu_core.unlearn import unlearn

    used = []

    class RecordingSGD(torch.optim.SGD):
        def step(self, closure=None):
            used.append(self.param_groups[0]["lr"])
            return super().step(closure)
    monkeypatch.setattr(train, "make_optimizer", lambda model, recipe: RecordingSGD(
        model.parameters(), lr=recipe.lr, momentum=recipe.momentum))
    data = _tiny_data()
    split = make_split(data, forget_classes=[2], forget_fraction=0.5)
    unlearn(method, _conv_model(), data, split, lr=0.01, epochs=3, batch_size=2)
    assert len(used) >= 3 and used == [0.01] * len(used)
    used.clear()
    unlearn(method, _conv_model(), data, split, lr=0.01, epochs=3, batch_size=2,
            schedule="cosine")  # the named option for the old schedule
    assert used[0] == 0.01 and used[-1] < 0.01


def _conv_model(conv=(0.3, -0.1, 0.5, -0.2), linear=0.01):
    """A 1x1 convolution to 4 channels, then a linear layer to 3 classes, of given weights."""
    model = nn.Sequential(nn.Conv2d(1, 4, 1), nn.Flatten(), nn.Linear(4, 3))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(conv).view(4, 1, 1, 1))
        model[2].weight.fill_(linear)
    return model


def test_wp_prunes_the_convolutions_only_like_the_references_omp():
    from mu_core.unlearn import unlearn

    data = _tiny_data()
    split = make_split(data, forget_indices=[0])
    pruned = unlearn("wp", _conv_model(), data, split, sparsity=0.5, epochs=1, lr=1e-3)
    assert (pruned[0].weight.view(-1) == 0).tolist() == [False, True, False, True]
    assert (pruned[2].weight != 0).all()  # its 0.01 weights are the smallest, yet kept
    both = unlearn("wp", _conv_model(), data, split, sparsity=0.5, epochs=1, lr=1e-3,
                   layers="conv_linear")  # the named option: 8 of the 16 weights, all linear
    assert (both[0].weight != 0).all() and int((both[2].weight == 0).sum()) == 8
    with pytest.raises(ConfigError, match="wp with layers='conv' finds no layer to prune"):
        unlearn("wp", _always_class_0(), data, split, epochs=1)
    with pytest.raises(ConfigError, match="wp layers"):
        zoo.plan(data, {"random": {"random_fraction": 0.25}}, ["wp"], [0],
                 {"wp": {"layers": "linear"}})


def test_l1_sparse_decays_its_penalty_per_epoch():
    from mu_core.unlearn.finetune import l1_weight

    fractions = [step / 6 for step in range(6)]  # 2 epochs of 3 steps
    assert [l1_weight(0.4, f, 2) for f in fractions] == pytest.approx([0.4] * 3 + [0.2] * 3)
    fractions = [step / 9 for step in range(9)]  # 3 epochs of 3 steps
    assert [l1_weight(0.3, f, 3) for f in fractions] == pytest.approx(
        [0.3] * 3 + [0.2] * 3 + [0.1] * 3)


def test_l1_sparse_steps_by_hand_with_the_references_weight_decay():
    from mu_core.unlearn import unlearn

    data = _tiny_data()
    weight, bias = [6.0, -4.0, 2.0], [1.0, 0.5, -1.0]
    split = make_split(data, forget_indices=[0])  # retain: 1..11, one batch of 11
    unlearned = unlearn("l1_sparse", _linear_on_one_pixel(weight, bias), data, split,
                        lr=0.5, epochs=2, batch_size=11, alpha=0.05)
    retain = list(range(1, 12))
    w, b = _sgd_by_hand(weight, bias, retain, [i % 3 for i in retain], lr=0.5, momentum=0.9,
                        weight_decay=5e-4, l1_weights=(0.05, 0.025))
    assert unlearned[1].weight.view(-1).tolist() == pytest.approx(w.tolist(), abs=1e-5)
    assert unlearned[1].bias.tolist() == pytest.approx(b.tolist(), abs=1e-5)


def test_the_reference_table_reads_our_choices_from_the_registered_defaults():
    from mu_core.unlearn import METHODS

    table = baselines.reference_table()
    assert table.loc["ga", "our choice"] == "SGD, momentum 0.9, weight decay 0.0005"
    assert table.loc["wp", "our choice"] == "layers='conv'"
    assert table.loc["rl", "our choice"].startswith("labels='redrawn': drawn anew")
    assert table.loc["bu", "our choice"] == ("labels='neighbour', bound 0.1, recomputed per "
                                             "batch; SGD with momentum 0.9, no weight decay, "
                                             "at lr 0.002 for 3 epochs")
    assert table.loc["unsc", "our choice"] == ("energy 0.97, one basis per layer from 500 "
                                               "retain samples, SGD lr 0.02 with momentum "
                                               "0.9, no weight decay, 5 epochs of "
                                               "batches of 64")
    assert table.loc["ff", "our choice"] == ("fisher='batch_mean', batches of 32, "
                                             "zero_forgotten_rows=True, 500 retain samples")
    assert not any("not aligned" in why for why in table["why"])
    assert table.loc["ft, rl, l1_sparse, wp, salun, bu", "our choice"] == "constant rate"
    assert table.loc["bad_teacher", "our choice"] == ("Adam, lr 0.0001, 1 epoch(s) of batches of "
                                                      "256, 30% of the retain set")
    named = {m for label in table.index for m in label.split(", ")}
    assert named <= set(METHODS)
    for method in ("ft", "rl", "l1_sparse", "wp", "salun", "bu"):  # the schedule row's claim
        assert METHODS[method].hyperparameters()["schedule"] == "constant"



def test_bad_teacher_takes_the_references_adam_rate_epoch_batch_and_retain_share(monkeypatch):
    from mu_core import train
    from mu_core.unlearn import METHODS, distill, unlearn

    runs = []
    monkeypatch.setattr(distill, "fit", lambda model, data, indices, recipe, **kwargs:
                        runs.append((indices, recipe)))
    data = _tiny_data()
    split = make_split(data, forget_indices=[0, 1])  # 10 retain samples: int(0.3 x 10) drawn
    unlearn("bad_teacher", _linear_on_one_pixel([1.0, 0.0, -1.0], [0.0, 0.0, 0.0]), data, split)
    ((indices, recipe),) = runs
    assert len(indices) == 3 + 2 and indices[-2:].tolist() == [0, 1]
    assert (recipe.optimizer, recipe.lr, recipe.weight_decay, recipe.epochs,
            recipe.batch_size) == ("adam", 1e-4, 0.0, 1, 256)
    assert type(train.make_optimizer(nn.Linear(1, 3), recipe)) is torch.optim.Adam
    assert METHODS["bad_teacher"].hyperparameters()["lr"] == 1e-4


def _recording_relabel(monkeypatch, module, factory_name):
    """Wrap `module.<factory_name>`'s relabel hooks so each call's (positions, targets) is
    recorded."""
    calls, factory = [], getattr(module, factory_name)

    def recording_factory(*args, **kwargs):
        relabel = factory(*args, **kwargs)

        def recorded(x, targets, positions, generator):
            out = relabel(x, targets, positions, generator)
            calls.append((positions.clone(), out.cpu().clone()))
            return out
        return recorded
    monkeypatch.setattr(module, factory_name, recording_factory)
    return calls


def test_rl_redraws_each_forget_label_uniformly_over_all_classes_every_epoch(monkeypatch):
    from mu_core.unlearn import finetune, unlearn

    calls = _recording_relabel(monkeypatch, finetune, "uniform_labels_below")
    data = _tiny_data()
    split = make_split(data, forget_indices=[0, 1, 2, 3])  # labels 0, 1, 2, 0
    epochs = 300
    model = _linear_on_one_pixel([1.0, 0.0, -1.0], [0.0, 0.0, 0.0])
    first = unlearn("rl", model, data, split, epochs=epochs, batch_size=4, lr=1e-3)
    drawn = {position: [] for position in range(12)}  # forget first, then retain
    for positions, targets in calls:
        for position, target in zip(positions.tolist(), targets.tolist()):
            drawn[position].append(target)
    assert all(len(labels) == epochs for labels in drawn.values())  # once an epoch each
    truth = data.labels[torch.cat([split.forget, split.retain])].tolist()
    for position in range(4, 12):  # retain samples keep their labels
        assert set(drawn[position]) == {truth[position]}
    forget = [label == truth[p] for p in range(4) for label in drawn[p]]
    assert all(set(drawn[p]) == {0, 1, 2} for p in range(4))  # they vary
    # the true label comes up at rate 1/3 (the old wrong labels never hit it): within four
    # binomial standard deviations of 1200 draws
    n, rate = len(forget), 1 / 3
    assert abs(sum(forget) - n * rate) < 4 * math.sqrt(n * rate * (1 - rate))
    again = unlearn("rl", model, data, split, epochs=epochs, batch_size=4, lr=1e-3)
    assert torch.equal(first[1].weight, again[1].weight)  # a function of the seed


def test_rl_keeps_one_wrong_label_per_forget_sample_as_a_named_option(monkeypatch):
    from mu_core.unlearn import finetune, unlearn

    runs = []
    monkeypatch.setattr(finetune, "fit", lambda model, data, indices, recipe, **kwargs:
                        runs.append((indices, kwargs)))
    data = _tiny_data()
    split = make_split(data, forget_indices=[0, 1, 2, 3])
    unlearn("rl", _always_class_0(), data, split, labels="fixed_wrong")
    ((indices, kwargs),) = runs
    assert kwargs["relabel"] is None and indices[:4].tolist() == [0, 1, 2, 3]
    assert (kwargs["targets"][:4] != data.labels[:4]).all()
    assert torch.equal(kwargs["targets"][4:], data.labels[indices[4:]])
    with pytest.raises(ConfigError, match="rl labels"):
        zoo.plan(data, {"random": {"random_fraction": 0.25}}, ["rl"], [0],
                 {"rl": {"labels": "fixed"}})


def test_bu_labels_every_batch_by_the_frozen_original_models_fgsm_neighbour(monkeypatch):
    from mu_core.unlearn import boundary, unlearn

    data = _tiny_data()
    split = make_split(data, forget_classes=[0, 1])  # samples 0, 1, 3, 4, 6, 7, 9, 10
    # Logits (3 - 10 x, 1, 10 x - 3) at the pixel x = index / 255 (at most 0.04 here): class
    # 0 below x = 0.2, class 1 up to 0.4. The loss gradient moves a sample of class 0 up and
    # one of class 1 down (to 0, class 0).
    original = _linear_on_one_pixel([-10.0, 0.0, 10.0], [3.0, 1.0, -3.0])
    neighbour_labels = boundary.neighbour_labels

    def neighbour(model, bound, **kwargs):
        relabel = neighbour_labels(model.eval(), data, bound, **kwargs)
        return relabel(data.inputs(split.forget), data.targets(split.forget), None, None).tolist()
    assert neighbour(original, 0.05) == [0] * 8  # up by 0.05 stays in class 0: kept
    assert neighbour(original, 0.05, wrong=True) == [1, 0] * 4  # the former forced label
    assert neighbour(original, 0.25) == [1, 0] * 4  # up by 0.25 crosses into class 1
    calls = _recording_relabel(monkeypatch, boundary, "neighbour_labels")
    # a large rate, so that the model being trained soon labels the neighbours otherwise
    unlearned = unlearn("bu", original, data, split, bound=0.25, lr=5.0, epochs=3, batch_size=4)
    assert len(calls) == 3 * 2  # an attack per batch
    by_position = [1, 0] * 4
    for positions, labels in calls:
        assert labels.tolist() == [by_position[p] for p in positions]
    assert neighbour(unlearned, 0.25) != by_position
    with pytest.raises(ConfigError, match="bu labels"):
        unlearn("bu", original, data, split, labels="wrong")


def test_ff_restarts_the_forgotten_classs_head_row_in_whole_class_forgetting():
    from mu_core.unlearn import unlearn
    from mu_core.unlearn.fisher import FORGOTTEN_ROW_VARIANCE

    data = _tiny_data()
    split = make_split(data, forget_classes=[2])
    model, other = _conv_model(), _conv_model()
    with torch.no_grad():
        other[2].weight[2] = 5.0
        other[2].bias[2] = -3.0
    tiny = 1e-10  # alpha: noise of standard deviation at most 3e-4 elsewhere
    restarted, restarted_other = (unlearn("ff", m, data, split, alpha=tiny) for m in (model, other))
    # the row is drawn afresh around zero, whatever it was: the same draw for both models
    assert torch.equal(restarted[2].weight[2], restarted_other[2].weight[2])
    assert torch.equal(restarted[2].bias[2], restarted_other[2].bias[2])
    assert restarted_other[2].weight[2].abs().max() < 6 * math.sqrt(10 * FORGOTTEN_ROW_VARIANCE)
    assert torch.allclose(restarted_other[2].weight[:2], other[2].weight[:2], atol=1e-2)
    kept = unlearn("ff", other, data, split, alpha=tiny, zero_forgotten_rows=False)
    partial = make_split(data, forget_classes=[2], forget_fraction=0.5)  # not the whole class
    for unlearned in (kept, unlearn("ff", other, data, partial, alpha=tiny)):
        assert torch.allclose(unlearned[2].weight[2], other[2].weight[2], atol=1e-2)
        assert torch.allclose(unlearned[2].bias[2], other[2].bias[2], atol=1e-2)
    # random forgetting restarts no row, not even the last class's, which the reference's
    # fisher_new restarts there (its test: 4,500 CIFAR-10 samples; row class_to_replace, -1);
    # the reference table says so
    last = other[2].weight.shape[0] - 1
    randomly = unlearn("ff", other, data, make_split(data, random_fraction=0.3), alpha=tiny)
    assert torch.allclose(randomly[2].weight[last], other[2].weight[last], atol=1e-2)
    row = baselines.reference_table().loc["ff"]
    assert "in random forgetting of 4,500 samples (class_to_replace -1) the last class's" in \
        row["reference"]
    assert "in random forgetting no row restarts" in row["why"]
    with pytest.raises(ConfigError, match="ff fisher"):
        unlearn("ff", model, data, split, fisher="exact")


def test_ff_takes_the_batch_mean_fisher_by_default_and_the_per_sample_one_by_name(monkeypatch):
    from mu_core.unlearn import fisher, unlearn

    used = []
    for name in ("batch_mean_fisher_diagonal", "fisher_diagonal"):
        def recording(*args, _real=getattr(fisher, name), _name=name, **kwargs):
            used.append((_name, kwargs))
            return _real(*args, **kwargs)
        monkeypatch.setattr(fisher, name, recording)
    data = _tiny_data()
    split = make_split(data, forget_indices=[0])
    unlearn("ff", _conv_model(), data, split)
    unlearn("ff", _conv_model(), data, split, fisher="per_sample")
    assert used == [("batch_mean_fisher_diagonal", {"batch_size": 32}), ("fisher_diagonal", {})]


# ---------------------------------------------------------------------------------------
# The paper's numbers: every cell of Table 1's CIFAR-10 rows against the paper's own text

from pathlib import Path  # noqa: E402
import re  # noqa: E402

from mu_core.papers.adversarial import TABLE1  # noqa: E402

PAPER = Path(__file__).resolve().parents[2] / "shared" / "papers" / "adversarial_unlearning.md"
_LABELS = {"Retrain": "retrain", "FT": "ft", "GA": "ga", "FF": "ff", "IU": "iu", "Ours": "ours"}
# a row's cells after the method: UA, MIA, RA, TA, disparity (dense, then 95% sparse), minutes
_COLUMNS = [(key, density) for key in ("UA", "MIA", "RA", "TA", "disparity")
            for density in ("dense", "sparse")] + [("minutes", "dense"), ("minutes", "sparse")]


def _printed_cifar10_rows(text: str, title: str) -> dict[str, list]:
    """The six method rows printed after `title`: each cell's first number (its mean), None
    for an empty cell; the run-time cell is the same for both densities."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    rows = {}
    for line in lines[start:]:
        cells = line.split("\t")
        if cells[0] in _LABELS and _LABELS[cells[0]] not in rows:
            numbers = [re.search(r"\d+\.\d+", cell) for cell in cells[1:12]]
            values = [float(n.group()) if n else None for n in numbers]
            rows[_LABELS[cells[0]]] = values + values[-1:]
        if len(rows) == len(_LABELS):
            return rows
    raise AssertionError(f"fewer than six rows after {title!r}")


@pytest.mark.parametrize("setting, title", [("random", "Cifar-10 Random Forgetting"),
                                            ("class", "Cifar-10 Class-wise Forgetting")])
def test_table1_cifar10_holds_every_cell_the_paper_prints(setting, title):
    if not PAPER.exists():
        pytest.skip(f"the paper's text is not at {PAPER}")
    printed = _printed_cifar10_rows(PAPER.read_text(), title)
    ours = TABLE1["cifar10"][setting]
    compared = 0
    for method, values in printed.items():
        for (key, density), value in zip(_COLUMNS, values):
            assert ours[density][method][key] == value, (setting, method, key, density)
            compared += 1
    assert compared == 6 * 12
    # the chapter's rows are the dense ones
    assert baselines.TABLE1_CIFAR10[setting] is ours["dense"]


def test_salun_redraws_forget_labels_like_its_reference_and_holds_the_unsalient_weights(
        monkeypatch):
    from mu_core.unlearn import finetune, saliency, unlearn

    calls = _recording_relabel(monkeypatch, finetune, "uniform_labels_below")
    data = _tiny_data()
    split = make_split(data, forget_indices=[0, 1, 2, 3])  # labels 0, 1, 2, 0
    model = _linear_on_one_pixel([1.0, 0.0, -1.0], [0.0, 0.0, 0.0])
    masks = saliency.saliency_masks(model, data, split, 0.5)
    unlearned = unlearn("salun", model, data, split, epochs=60, batch_size=4, lr=0.1)
    drawn = {position: set() for position in range(12)}  # forget first, then retain
    for positions, targets in calls:
        for position, target in zip(positions.tolist(), targets.tolist()):
            drawn[position].add(target)
    truth = data.labels[torch.cat([split.forget, split.retain])].tolist()
    assert all(drawn[p] == {0, 1, 2} for p in range(4))  # the true label among them
    assert all(drawn[p] == {truth[p]} for p in range(4, 12))
    moved = 0
    for name, p in unlearned.named_parameters():  # the weights outside the mask stay put
        before = dict(model.named_parameters())[name]
        assert torch.equal(p[~masks[name]], before[~masks[name]])
        moved += int((p[masks[name]] != before[masks[name]]).sum())
    assert moved == sum(int(m.sum()) for m in masks.values()) == 3  # half of the 6
    calls.clear()
    unlearn("salun", model, data, split, epochs=1, labels="fixed_wrong")  # the named option
    assert calls == []
    with pytest.raises(ConfigError, match="salun labels"):
        zoo.plan(data, {"random": {"random_fraction": 0.25}}, ["salun"], [0],
                 {"salun": {"labels": "fixed"}})


def test_bu_steps_as_its_reference_table_row_says(mnist, monkeypatch):
    # the row: SGD with momentum 0.9 and no weight decay, as Boundary-Unlearning-Code's
    # boundary_shrink (torch.optim.SGD(..., lr=1e-5, momentum=0.9))
    from mu_core import models
    from mu_core.splits import make_split
    from mu_core.unlearn import boundary

    recipes = []
    monkeypatch.setattr(boundary, "fit", lambda model, data, indices, recipe, **k:
                        recipes.append(recipe))
    split = make_split(mnist, forget_classes=[3], seed=0)
    boundary.bu(models.create_for("mlp", mnist, seed=0, hidden=[8]), mnist, split)
    (recipe,) = recipes
    assert (recipe.optimizer, recipe.momentum, recipe.weight_decay) == ("sgd", 0.9, 0.0)
    assert "momentum 0.9, no weight decay" in baselines.reference_table().loc["bu", "reference"]


def test_unsc_steps_as_its_reference_table_row_says(mnist, monkeypatch):
    # the reference (HQC-ML/UNSC's notebooks) steps with torch.optim.SGD(params, lr=0.04):
    # no momentum. Ours keeps momentum 0.9 by default, named in the row as a deliberate
    # difference, and momentum=0.0 gives the reference's plain SGD (the former code fixed
    # 0.9 and refused momentum as an unknown hyper-parameter)
    from mu_core import models
    from mu_core.splits import make_split
    from mu_core.unlearn import nullspace

    recipes = []
    monkeypatch.setattr(nullspace, "fit", lambda model, data, indices, recipe, **k:
                        recipes.append((recipe, k["frozen_norms"])))
    split = make_split(mnist, forget_classes=[3], seed=0)
    model = models.create_for("mlp", mnist, seed=0, hidden=[8])
    nullspace.unsc(model, mnist, split, max_samples=50)
    unlearn("unsc", model, mnist, split, max_samples=50, momentum=0.0)
    (ours, frozen), (plain, _) = recipes
    assert (ours.optimizer, ours.momentum, ours.weight_decay, frozen) == ("sgd", 0.9, 0.0, True)
    assert (plain.momentum, plain.weight_decay) == (0.0, 0.0)
    row = baselines.reference_table().loc["unsc"]
    assert "plain SGD (no momentum, no weight decay)" in row["reference"]
    assert "with momentum 0.9, no weight decay" in row["our choice"]
    assert "momentum=0.0 gives the reference's plain SGD" in row["why"]


def test_the_reference_table_names_salun_and_its_labels():
    table = baselines.reference_table()
    assert table.loc["salun", "our choice"] == ("labels='redrawn', mask_fraction 0.5, the "
                                                "others held")


def test_the_reference_table_names_ius_deliberate_difference():
    table = baselines.reference_table()
    assert table.loc["iu", "our choice"] == (
        "alpha 1.0 x (damping 1.0 I + F)^-1 (forget gradients summed, plus their weight-decay "
        "term) / retain size, F from 512 per-sample retain gradients (empirical), solved exactly")
    assert table.loc["iu", "why"].startswith("a deliberate difference")


def test_the_reference_table_describes_unlearn_sparses_wfisher_as_its_code_runs():
    # Wfisher (Unlearn-Sparse, unlearn/Wfisher.py) feeds woodfisher a retain loader of batch
    # size 1 (per-sample gradients, N = 1000, in order) and the vector
    # forget_grad / (total + total_2) - retain_grad * total / ((total + total_2) * total_2);
    # its recursion updates o_vec only by rescaling the first gradient. The former row said
    # batch-mean gradients of batches of 32, the forget set's mean gradient, and a step
    # retain size / forget size (about 9) times longer than ours: on the cpu preset's CNN
    # the reference's step is about 1.7 times ours at alpha 1 (2026-12-07).
    row = baselines.reference_table().loc["iu"]
    assert "per-sample gradients of the first 1,000 retain samples" in row["reference"]
    assert "minus forget size x the retain set's mean gradient) / training-set size" in \
        row["reference"]
    assert "batch-mean" not in row["reference"] and "times longer" not in row["why"]


def test_the_differences_the_chapter_names_still_hold():
    # Unlearn-Sparse's arg_parser.py: --epochs 182, --decreasing_lr "91,136" (gamma 0.1);
    # Unlearn-Saliency's README: SalUn (RL with the mask) at --unlearn_lr 0.013
    from mu_core import presets

    quoted = baselines.quoted()
    assert (quoted["reference_epochs"], quoted["reference_milestones"]) == (182, "91 and 136")
    assert quoted["salun_reference_lr"] == 0.013 and quoted["ff_gap_points"] == "5"
    paper = presets.values("01_baselines", "paper")
    # the chapter's differences: the paper preset trains fewer epochs than the reference,
    # with the cosine rate (the run's Recipe takes no schedule: its default), and runs
    # SalUn at FT's rate, not at SalUn's own
    assert paper["epochs"] < quoted["reference_epochs"]
    assert "schedule" not in paper and Recipe().schedule == "cosine"
    assert paper["hyperparameters"]["salun"]["lr"] == paper["hyperparameters"]["ft"]["lr"] != \
        quoted["salun_reference_lr"]


def test_the_cpu_preset_keeps_the_paper_presets_unlearning_rates_relative_to_training():
    from mu_core import presets

    cpu, paper = presets.values("01_baselines", "cpu"), presets.values("01_baselines", "paper")
    ratio = cpu["lr"] / paper["lr"]
    for method, values in cpu["hyperparameters"].items():
        assert values["lr"] == pytest.approx(paper["hyperparameters"][method]["lr"] * ratio)
    assert set(cpu["hyperparameters"]) == {"ft", "ga", "rl", "l1_sparse", "wp", "salun"}


def test_ff_variance_follows_fisher_news_rules_by_hand():
    from mu_core.unlearn.fisher import FORGOTTEN_ROW_VARIANCE, ff_variance

    assert FORGOTTEN_ROW_VARIANCE == 1e-4  # the reference's value for a forgotten row
    fisher = torch.tensor([[1e-8, 1.0], [0.5, 1e-3]])  # 1 / (F + 1e-8): ~5e7, 1, 2, ~1e3
    alpha = 0.01
    # a hidden weight: 1/F clamped at 1e3, times alpha, averaged over the row
    hidden = ff_variance(fisher, alpha, is_head=False, forgotten_rows=[])
    assert hidden.view(-1).tolist() == pytest.approx([alpha * (1e3 + 1) / 2,
                                                      alpha * (2 + 1e3 / (1 + 1e-5)) / 2])
    # the head: clamped at 1e2, a forgotten row at 1e-4 (not scaled by alpha), all times 10
    head = ff_variance(fisher, alpha, is_head=True, forgotten_rows=[1])
    assert head.view(-1).tolist() == pytest.approx([10 * alpha * (1e2 + 1) / 2, 10 * 1e-4])
    # a bias or norm (one axis): no averaging, times 10
    bias = ff_variance(torch.tensor([1e-8, 4.0]), alpha, is_head=False, forgotten_rows=[])
    assert bias.tolist() == pytest.approx([10 * alpha * 1e3, 10 * alpha * 0.25])


def test_the_cpu_preset_keeps_l1_sparses_summed_penalty_step_at_the_defaults():
    # lr x alpha is what the penalty moves a weight by each step: a preset that lowers the
    # rate raises alpha in proportion, or l1_sparse gives FT's numbers (2.5e-7 a step)
    import yaml

    from mu_core.unlearn.finetune import L1_ALPHA, l1_sparse

    default_lr = inspect.signature(l1_sparse).parameters["lr"].default
    for preset in ("cpu", "smoke"):
        chosen = yaml.safe_load((ROOT / "mu_core" / "presets" / preset /
                                 "01_baselines.yaml").read_text())["hyperparameters"]["l1_sparse"]
        assert chosen["lr"] * chosen["alpha"] == pytest.approx(default_lr * L1_ALPHA)


def test_l1_sparse_shrinks_the_weights_where_fine_tuning_does_not(mnist):
    # The default penalty must be felt: after the same retain fine-tuning, l1_sparse's mean
    # |weight| is well below FT's (measured about three quarters on the cpu CNN; a wide
    # margin, as the property holds whatever the CPU's rounding)
    split = make_split(mnist, forget_classes=[1], forget_fraction=0.5)
    model, _ = zoo.trained_model(mnist, split, "mlp", Recipe(epochs=1), hidden=(32,))
    mean_weight = {}
    for method in ("ft", "l1_sparse"):
        unlearned = unlearn(method, model, mnist, split, epochs=2)
        mean_weight[method] = torch.cat([p.abs().flatten() for p in unlearned.parameters()]).mean()
    assert mean_weight["l1_sparse"] < 0.9 * mean_weight["ft"]


def test_forgetting_does_not_pool_seeds_that_disagree_into_a_confident_rate():
    # whole-class forgetting, 500 forget samples a seed: one seed forgot (accuracy 0.1),
    # two did not (0.9, 0.95). Pooled as 1,000 independent samples they would read 0.65
    # [0.63, 0.67]; the seeds' overdispersion widens the interval to cover their spread
    runs = _runs(classwise={"retrain": {"UA": [1.0, 1.0, 1.0]},
                            "ga": {"UA": [0.9, 0.1, 0.05]}})
    runs[baselines.FORGET_SIZE] = 500
    accuracy = baselines.forget_accuracy(runs, "classwise", "ga")
    assert accuracy.estimate == pytest.approx(0.65)
    assert accuracy.low < 0.3 and accuracy.high > 0.9
    assert accuracy.n == "1500 forget samples, 3 seeds"
