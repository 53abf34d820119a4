import math

import pandas as pd
import pytest

from mu_core import zoo
from mu_core.studies import baselines
from mu_core.errors import ConfigError


def _rows():
    def row(setting, seed, method, ua, mia, ra, ta):
        return {"setting": setting, "seed": seed, "method": method, "UA": ua, "MIA": mia,
                "RA": ra, "TA": ta, "seconds": 1.0 + seed}
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
    assert table.loc["ft", "UA"] == "3.00 ± 1.00" and list(table.index) == ["retrain", "ft"]


def test_a_missing_retrain_gives_no_disparity():
    rows = baselines.with_disparity(_rows()[lambda f: f.method == "ft"])
    assert all(math.isnan(d) for d in rows.disparity)


def _summary(*runs):
    """A one-seed summary of hand-made runs (setting, method, UA, seconds); MIA, RA and TA
    are those of retraining, so a method's disparity is |UA - retrain's UA| / 4."""
    return baselines.summarize(pd.DataFrame([
        {"setting": setting, "seed": 0, "method": method, "UA": ua, "MIA": 0.5, "RA": 1.0,
         "TA": 0.9, "seconds": seconds} for setting, method, ua, seconds in runs]))


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


def test_beside_paper_puts_the_paper_numbers_beside_ours():
    table = baselines.beside_paper(_summary(*_random(retrain=(0.1, 9.0), wp=(0.05, 2.0))),
                                   "random")
    assert table.loc["wp", "UA"] == "5.00 ± 0.00" and table.loc["wp", "paper UA"] == ""
    assert table.loc["ga", "paper UA"] == 0.0 and table.loc["ga", "UA"] == ""
    assert table.loc["retrain", "paper disparity"] == 0.0
    assert list(table.columns) == ["UA", "MIA", "RA", "TA", "disparity", "run time (s)",
                                   "paper UA", "paper MIA", "paper RA", "paper TA",
                                   "paper disparity"]


def test_summary_rows_are_one_record_per_method():
    records = baselines.summary_rows(_summary(*_random(retrain=(0.1, 9.0), ft=(0.02, 2.0))),
                                     "random")
    assert [r["method"] for r in records] == ["retrain", "ft"]
    assert records[1]["UA_mean"] == pytest.approx(0.02)
    assert records[1]["disparity_mean"] == pytest.approx(0.02)
    assert records[1]["seconds_mean"] == 2.0


def test_disparity_figure_has_a_zero_bar_where_a_method_did_not_run():
    summary = _summary(*_random(retrain=(0.1, 9.0), ga=(0.02, 1.0)),
                       *_class(retrain=1.0, ga=0.6, bu=0.8))
    figure = baselines.disparity_figure(summary, ["retrain", "ga", "bu"])
    heights = {bars.get_label(): [round(b.get_height(), 6) for b in bars]
               for bars in figure.axes[0].containers}
    assert heights == {"class": [0.0, 10.0, 5.0], "random": [0.0, 2.0, 0.0]}


def test_forget_accuracy_figure_has_a_group_per_forget_class():
    per_class = pd.DataFrame({"class 1": [0.2, 0.9], "class 3": [0.4, 0.8]},
                             index=["retrain", "ft"])
    figure = baselines.forget_accuracy_figure(per_class)
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["class 1", "class 3"]
    assert [b.get_height() for b in figure.axes[0].containers[1]] == [0.9, 0.8]


def _verdicts(summary):
    return {c.id: c.verdict for c in baselines.claims(summary)}


CLAIM_IDS = ["random_baselines_forget_less_than_retrain", "class_ft_farthest_from_retrain",
             "ga_fastest"]


def test_baselines_forget_less_than_retraining_needs_every_one_strictly_lower():
    holds = _summary(*_random(retrain=(0.06, 9.0), ft=(0.01, 2.0), ga=(0.0, 1.0),
                              iu=(0.05, 3.0)))
    assert _verdicts(holds)["random_baselines_forget_less_than_retrain"] == "held"
    claim = baselines.random_baselines_forget_less(holds)
    assert claim.here == "here: retrain 6.00, ft 1.00, ga 0.00, iu 5.00"
    assert claim.paper == "paper UA: retrain 5.8, ft 0.18, ga 0.0, iu 0.42"
    equal = _summary(*_random(retrain=(0.06, 9.0), ft=(0.01, 2.0), iu=(0.06, 3.0)))
    assert _verdicts(equal)["random_baselines_forget_less_than_retrain"] == "did not hold"


def test_ft_farthest_from_retraining_in_whole_class_forgetting():
    holds = _summary(*_class(retrain=1.0, ft=0.1, ga=0.9, ff=0.7, iu=0.6))
    claim = baselines.class_ft_farthest_from_retrain(holds)
    assert claim.verdict == "held" and claim.here == "here: farthest is ft (22.50)"
    assert claim.paper == "paper: ft 37.84 (largest)"
    other = _summary(*_class(retrain=1.0, ft=0.5, ga=0.9, iu=0.2))
    assert baselines.class_ft_farthest_from_retrain(other).verdict == "did not hold"
    assert "farthest is iu (20.00)" in baselines.class_ft_farthest_from_retrain(other).here


def test_ga_fastest_reads_the_measured_run_time():
    holds = _summary(*_random(retrain=(0.1, 9.0), ft=(0.1, 2.0), ga=(0.1, 0.5)))
    claim = baselines.ga_fastest(holds)
    assert claim.verdict == "held" and claim.here.startswith("here: fastest is ga (0.50 s")
    assert claim.paper == "paper: ga 0.37 min (fastest)"
    slower = _summary(*_random(retrain=(0.1, 9.0), ft=(0.1, 0.4), ga=(0.1, 0.5)))
    assert baselines.ga_fastest(slower).verdict == "did not hold"
    tie = _summary(*_random(retrain=(0.1, 9.0), ft=(0.1, 0.5), ga=(0.1, 0.5)))
    assert baselines.ga_fastest(tie).verdict == "did not hold"  # the first in methods order


def test_claims_without_their_methods_are_not_testable_but_present():
    no_retrain = _summary(*_random(ft=(0.0, 2.0), ga=(0.0, 1.0)), *_class(ft=0.1, ga=0.9))
    assert _verdicts(no_retrain) == {
        "random_baselines_forget_less_than_retrain": "not testable here",
        "class_ft_farthest_from_retrain": "not testable here", "ga_fastest": "held"}
    only_retrain = _summary(*_random(retrain=(0.1, 9.0)), *_class(retrain=1.0))
    assert list(_verdicts(only_retrain)) == CLAIM_IDS
    assert set(_verdicts(only_retrain).values()) == {"not testable here"}
    ft_alone = _summary(*_random(retrain=(0.1, 9.0), ff=(0.0, 1.0)),
                        *_class(retrain=1.0, ft=0.1, wp=0.2))
    assert set(_verdicts(ft_alone).values()) == {"not testable here"}


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
    methods = {row["method"] for row in r["settings"]["classwise"]}
    assert len(methods) == 12
    assert {row["method"] for row in r["settings"]["random"]} == methods - {"bu", "unsc"}
    retrain = next(row for row in r["settings"]["class"] if row["method"] == "retrain")
    assert retrain["UA_mean"] == 1.0 and retrain["disparity_mean"] == 0.0
    assert all(0 <= row["MIA_mean"] <= 1 for rows in r["settings"].values() for row in rows)
    # every method ran, so every claim is testable
    assert [c["id"] for c in r["claims"]] == CLAIM_IDS
    assert {c["verdict"] for c in r["claims"]} <= {"held", "did not hold"}
