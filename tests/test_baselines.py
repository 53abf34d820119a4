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
    assert {c["verdict"] for c in r["claims"]} <= {"held", "did not hold"}
