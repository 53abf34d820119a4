"""The statistics every claim rule decides with, against hand-worked values and published
examples, and the four verdicts on hand-made intervals."""

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from mu_core import claims
from mu_core.claims import (HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE, Claim, Interval,
                            all_of, any_of, side)
from mu_core.errors import ConfigError

T_975_2DF = 4.302652729911275  # Student t, 97.5% quantile, 2 degrees of freedom
Z_975 = 1.959963984540054


def test_mean_interval_is_the_student_t_interval():
    ci = claims.mean_interval([1.0, 2.0, 3.0])  # mean 2, sd 1
    half = T_975_2DF / math.sqrt(3)
    assert ci.estimate == 2.0
    assert ci.low == pytest.approx(2 - half) and ci.high == pytest.approx(2 + half)
    assert ci.n == "3 seeds"


def test_mean_interval_of_one_value_is_unbounded_and_of_equal_values_a_point():
    one = claims.mean_interval([0.4])
    assert one.low == -math.inf and one.high == math.inf
    same = claims.mean_interval([0.4, 0.4, 0.4])
    assert (same.low, same.high) == (0.4, 0.4)


def test_paired_difference_reads_the_differences_not_the_groups():
    # The groups overlap widely, their differences (2, 3, 4) do not straddle zero.
    ci = claims.paired_difference([3.0, 5.0, 7.0], [1.0, 2.0, 3.0])
    half = T_975_2DF / math.sqrt(3)
    assert ci.estimate == 3.0 and ci.low == pytest.approx(3 - half)
    assert ci.n == "3 seeds, paired"
    with pytest.raises(ConfigError, match="as many runs"):
        claims.paired_difference([1, 2], [1, 2, 3])


def test_welch_difference_matches_the_welch_satterthwaite_formula():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0])
    va, vb = a.var(ddof=1) / 4, b.var(ddof=1) / 3  # 0.41667, 1.33333
    df = (va + vb) ** 2 / (va ** 2 / 3 + vb ** 2 / 2)
    from scipy.stats import t
    half = t.ppf(0.975, df) * math.sqrt(va + vb)
    ci = claims.welch_difference(a, b)
    assert ci.estimate == pytest.approx(-1.5)
    assert ci.low == pytest.approx(-1.5 - half) and ci.high == pytest.approx(-1.5 + half)


def test_wilson_interval_of_8_in_10():
    ci = claims.wilson(8, 10)  # the textbook value: 0.490 to 0.943
    assert ci.estimate == 0.8
    assert ci.low == pytest.approx(0.4902, abs=1e-4) and ci.high == pytest.approx(0.9433, abs=1e-4)


def test_rate_difference_is_newcombes_method_10():
    # Newcombe (1998), Statistics in Medicine 17, Table II, example (a): 56/70 - 48/80.
    ci = claims.rate_difference(56, 70, 48, 80)
    assert ci.estimate == pytest.approx(0.2)
    assert ci.low == pytest.approx(0.0524, abs=1e-4) and ci.high == pytest.approx(0.3339, abs=1e-4)


def test_bootstrap_difference_agrees_with_normal_theory_and_is_seeded():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 1.0, 400), rng.normal(0.0, 1.0, 400)
    ci = claims.bootstrap_difference(a, b)
    half = Z_975 * math.sqrt(a.var(ddof=1) / 400 + b.var(ddof=1) / 400)
    assert ci.estimate == pytest.approx(a.mean() - b.mean())
    assert (ci.high - ci.low) / 2 == pytest.approx(half, rel=0.15)
    assert ci.low < ci.estimate < ci.high
    assert claims.bootstrap_difference(a, b) == ci
    median = claims.bootstrap_difference([5, 6, 7, 100], [1, 2, 3, 4], statistic="median")
    assert median.estimate == 6.5 - 2.5
    with pytest.raises(ConfigError, match="statistic must be one of mean, median"):
        claims.bootstrap_difference(a, b, statistic="mode")


def test_auc_interval_by_hand_delong():
    members, non_members = [0.9, 0.8, 0.4], [0.5, 0.3]
    ci = claims.auc_interval(members, non_members)
    # placements: rows 1, 1, 1/2 (var 1/12); columns 2/3, 1 (var 1/18): V = 1/36 + 1/36
    assert ci.estimate == pytest.approx(5 / 6)
    assert ci.estimate == pytest.approx(roc_auc_score([1, 1, 1, 0, 0], members + non_members))
    assert ci.low == pytest.approx(5 / 6 - Z_975 * math.sqrt(1 / 18))
    assert ci.high == 1.0  # clipped


def test_auc_and_its_delong_variance_by_hand():
    assert claims.auc_and_variance([0.9, 0.8, 0.4], [0.5, 0.3]) == \
        pytest.approx((5 / 6, 1 / 18))  # the hand-worked case above
    assert all(math.isnan(v) for v in claims.auc_and_variance([0.9], [0.5, 0.3]))


def test_the_mean_of_estimates_reads_their_own_variances():
    found = claims.mean_of_estimates([0.6, 0.7, math.nan], [0.01, 0.03, 0.02], "2 seeds")
    # mean 0.65, variance (0.01 + 0.03) / 2² = 0.01: a standard error of 0.1
    assert (found.estimate, found.n) == (pytest.approx(0.65), "2 seeds")
    assert (found.low, found.high) == (pytest.approx(0.65 - Z_975 * 0.1),
                                       pytest.approx(0.65 + Z_975 * 0.1))
    # correlated (shared samples): (0.1 + sqrt(0.03)) / 2, at least the independent error
    shared = claims.mean_of_estimates([0.6, 0.7], [0.01, 0.03], "2 seeds", independent=False)
    assert shared.high - shared.estimate == pytest.approx(Z_975 * (0.1 + math.sqrt(0.03)) / 2)
    # three tight seeds: the t interval over their spread (2 df) is far wider
    tight = claims.mean_of_estimates([0.57, 0.55, 0.56], [1e-4] * 3, "3 seeds")
    assert tight.low > 0.54 and claims.mean_interval([0.57, 0.55, 0.56]).low < 0.54
    assert not claims.mean_of_estimates([math.nan], [0.1], "0 seeds").finite


def test_auc_interval_counts_ties_one_half_and_matches_sklearn():
    rng = np.random.default_rng(0)
    members, non_members = rng.integers(0, 5, 60), rng.integers(0, 4, 50)
    ci = claims.auc_interval(members, non_members)
    labels = np.r_[np.ones(60), np.zeros(50)]
    assert ci.estimate == pytest.approx(roc_auc_score(labels, np.r_[members, non_members]))


def test_spearman_interval_is_fisher_z_with_the_fieller_error():
    x = np.arange(30, dtype=float)
    y = x.copy()
    y[::3] = y[::3][::-1]  # a partial reversal: rho below one
    d = x - y  # ranks are the values themselves
    rho = 1 - 6 * (d ** 2).sum() / (30 * (30 ** 2 - 1))
    half = Z_975 * math.sqrt(1.06 / 27)
    ci = claims.spearman_interval(x, y)
    assert ci.estimate == pytest.approx(rho)
    assert ci.low == pytest.approx(math.tanh(math.atanh(rho) - half))
    assert ci.high == pytest.approx(math.tanh(math.atanh(rho) + half))


@pytest.mark.parametrize("low, high, above, expected", [
    (0.01, 0.2, True, HELD), (-0.2, -0.01, True, NOT_HELD), (-0.1, 0.1, True, INCONCLUSIVE),
    (-0.2, 0.0, True, NOT_HELD),  # touching: a strict claim is refuted
    (0.0, 0.2, True, INCONCLUSIVE),
    (-0.2, -0.01, False, HELD), (0.01, 0.2, False, NOT_HELD), (-0.1, 0.1, False, INCONCLUSIVE),
])
def test_side_of_the_boundary(low, high, above, expected):
    assert side(Interval((low + high) / 2, low, high, "3 seeds"), above=above) == expected


def test_side_reads_the_boundary_not_zero():
    ci = Interval(0.6, 0.55, 0.65, "100 samples")
    assert side(ci, 0.5) == HELD and side(ci, 0.7) == NOT_HELD and side(ci, 0.6) == INCONCLUSIVE
    assert side(ci, 0.7, above=False) == HELD
    assert side(Interval(math.nan, -math.inf, math.inf, "0 seeds")) == NOT_TESTABLE


def test_conjunction_and_disjunction():
    assert all_of([HELD, HELD]) == HELD
    assert all_of([HELD, INCONCLUSIVE]) == INCONCLUSIVE
    assert all_of([INCONCLUSIVE, NOT_HELD, NOT_TESTABLE]) == NOT_HELD
    assert all_of([HELD, NOT_TESTABLE, INCONCLUSIVE]) == NOT_TESTABLE
    assert all_of([]) == NOT_TESTABLE
    assert any_of([NOT_HELD, HELD]) == HELD
    assert any_of([NOT_HELD, NOT_HELD]) == NOT_HELD
    assert any_of([NOT_HELD, INCONCLUSIVE]) == INCONCLUSIVE
    assert any_of([NOT_TESTABLE]) == NOT_TESTABLE


def test_judge_names_a_failed_precondition_instead_of_deciding():
    strong = Interval(0.3, 0.2, 0.4, "3 seeds, paired")
    no_signal = claims.attack_signal(Interval(0.51, 0.47, 0.55, "50 + 50 samples"), "LiRA")
    assert no_signal.startswith("LiRA has no signal on the trained model: AUC 0.510")
    claim = claims.judge("c", "claim", "paper", strong, label="ASR gain",
                         unmet_reasons=[None, no_signal])
    assert claim.verdict == NOT_TESTABLE and claim.here == no_signal
    claim = claims.judge("c", "claim", "paper", strong, label="ASR gain", unmet_reasons=[None])
    assert claim.verdict == HELD
    assert claim.here == "ASR gain: +0.300 [+0.200, +0.400], 3 seeds, paired"
    assert claims.attack_signal(Interval(0.6, 0.55, 0.65, "n"), "LiRA") is None


def test_forgot_needs_a_drop_above_zero_with_confidence_and_above_the_margin_by_its_estimate():
    trained = 0.99
    assert claims.forgot("ga", Interval(0.5, 0.4, 0.6, "3 seeds"), trained, 0.05) is None
    # a mean drop beyond the margin whose interval stays below the trained accuracy
    assert claims.forgot("ga", Interval(0.8, 0.5, 0.97, "3 seeds"), trained, 0.05) is None
    reason = claims.forgot("l1_sparse", Interval(0.97, 0.95, 0.99, "3 seeds"), trained, 0.05)
    assert reason == ("l1_sparse did not forget: forget accuracy 0.970 [0.950, 0.990], 3 seeds, "
                      "against the trained model's 0.990, a drop of 0.02 (its interval "
                      "reaches 0 and not above 0.05)")
    # a large mean drop whose interval reaches back to the trained accuracy
    assert "interval reaches 0)" in claims.forgot("ga", Interval(0.8, 0.5, 1.0, "3 seeds"),
                                                  trained, 0.05)
    # a drop sure to be above 0 but, by its estimate, within the margin
    assert claims.forgot("ft", Interval(0.96, 0.95, 0.97, "150 samples"), trained,
                         0.05).endswith("a drop of 0.03 (not above 0.05)")


def test_judge_each_is_the_conjunction_and_lists_every_effect():
    effects = {"ft": Interval(0.1, 0.05, 0.15, "3 seeds, paired"),
               "ga": Interval(0.1, -0.05, 0.25, "3 seeds, paired")}
    claim = claims.judge_each("c", "claim", "paper", effects, label="UA gap")
    assert claim.verdict == INCONCLUSIVE
    assert claim.here.startswith("UA gap: ft +0.100 [+0.050, +0.150], 3 seeds, paired; ga ")
    effects["ga"] = Interval(-0.1, -0.2, -0.05, "3 seeds, paired")
    assert claims.judge_each("c", "claim", "paper", effects, label="x").verdict == NOT_HELD


def test_within_is_held_inside_the_band_only():
    assert claims.within(Interval(0.0, -0.1, 0.1, "n"), 0.2) == HELD
    assert claims.within(Interval(0.0, -0.1, 0.2, "n"), 0.2) == INCONCLUSIVE  # touches it
    assert claims.within(Interval(0.0, -0.2, 0.1, "n"), 0.2) == INCONCLUSIVE  # either edge
    assert claims.within(Interval(0.3, 0.2, 0.4, "n"), 0.2) == NOT_HELD
    assert claims.within(Interval(-0.3, -0.4, -0.2, "n"), 0.2) == NOT_HELD
    assert claims.within(Interval(0.0, -0.5, 0.5, "n"), 0.2) == INCONCLUSIVE
    assert claims.within(Interval(math.nan, -math.inf, math.inf, "0 seeds"), 0.2) == \
        NOT_TESTABLE


def test_not_above_is_side_with_the_outcomes_swapped_so_a_tie_holds():
    tie = Interval(0.0, 0.0, 0.0, "3 seeds, paired")  # side(above=False) calls this NOT_HELD
    assert claims.not_above(tie) == HELD
    assert claims.not_above(Interval(-0.2, -0.3, -0.1, "n")) == HELD
    assert claims.not_above(Interval(0.2, 0.1, 0.3, "n"), 0.05) == NOT_HELD
    assert claims.not_above(Interval(0.2, 0.1, 0.3, "n"), 0.3) == HELD  # reads the boundary
    assert claims.not_above(Interval(0.0, -0.1, 0.1, "n")) == INCONCLUSIVE
    assert claims.not_above(Interval(math.nan, -math.inf, math.inf, "0 seeds")) == NOT_TESTABLE


ABOVE = Interval(0.3, 0.2, 0.4, "3 seeds, paired")  # above 0
BELOW = Interval(-0.3, -0.4, -0.2, "3 seeds, paired")
STRADDLES = Interval(0.1, -0.1, 0.3, "3 seeds, paired")


def test_a_part_takes_the_side_of_its_boundary_unless_a_precondition_failed():
    assert claims.part(ABOVE).verdict == HELD
    assert claims.part(ABOVE, 0.5).verdict == NOT_HELD  # reads the boundary
    assert claims.part(BELOW, above=False).verdict == HELD
    untested = claims.part(ABOVE, reason="the method did not forget")
    assert untested.verdict == NOT_TESTABLE and untested.effect == ABOVE
    # a reason makes the part not testable whatever outcome it was given
    assert claims.Part(ABOVE, HELD, "LiRA has no signal").verdict == NOT_TESTABLE
    assert claims.Part(None, reason="nothing was recorded").verdict == NOT_TESTABLE
    with pytest.raises(ConfigError, match="effect"):
        claims.Part(None, HELD)
    with pytest.raises(ConfigError, match="outcome"):
        claims.Part(ABOVE, "maybe")


def _verdict(*parts, **options) -> str:
    return claims.judge_parts("c", "claim", "paper", {f"p{i}": p for i, p in enumerate(parts)},
                              label="gap", **options).verdict


def test_judge_parts_is_held_only_when_every_part_held():
    assert _verdict(claims.part(ABOVE), claims.part(BELOW, above=False)) == HELD
    assert _verdict(claims.part(ABOVE)) == HELD


def test_judge_parts_did_not_hold_when_any_part_did_not_whatever_the_others():
    failed = claims.part(BELOW)
    assert _verdict(claims.part(ABOVE), failed) == NOT_HELD
    # one counter-example decides the conjunction, even beside untested and unclear parts
    assert _verdict(claims.part(ABOVE), claims.part(STRADDLES),
                    claims.part(ABOVE, reason="no signal"), failed) == NOT_HELD


def test_judge_parts_is_inconclusive_when_a_part_straddles_and_none_failed():
    assert _verdict(claims.part(ABOVE), claims.part(STRADDLES)) == INCONCLUSIVE
    assert _verdict(claims.Part(STRADDLES, claims.within(STRADDLES, 0.2))) == INCONCLUSIVE


def test_judge_parts_is_not_testable_when_a_part_has_a_reason_and_none_failed():
    # an untested part is not left out (that would make this held) ...
    assert _verdict(claims.part(ABOVE), claims.part(ABOVE, reason="no signal")) == NOT_TESTABLE
    # ... and outranks an unclear one: no more data at this scale would settle the claim
    assert _verdict(claims.part(STRADDLES), claims.part(ABOVE, reason="no signal")) == \
        NOT_TESTABLE
    assert _verdict() == NOT_TESTABLE  # nothing to compare


def test_judge_parts_names_a_claim_level_precondition_instead_of_deciding():
    claim = claims.judge_parts("c", "claim", "paper", {"a": claims.part(BELOW)}, label="gap",
                               unmet_reasons=[None, "LiRA has no signal", "nothing forgot"])
    assert claim.verdict == NOT_TESTABLE  # not NOT_HELD: the part is not read at all
    assert claim.here == "LiRA has no signal; nothing forgot"
    assert _verdict(claims.part(ABOVE), unmet_reasons=[None]) == HELD


def test_judge_parts_here_names_every_part_with_its_interval_or_reason():
    parts = {"ga": claims.part(ABOVE),
             "salun": claims.part(ABOVE, reason="salun did not forget"),
             "ft": claims.part(STRADDLES, note=", not on every seed")}
    claim = claims.judge_parts("c", "claim", "paper", parts, label="gain", note="not run: rl")
    assert claim.here == ("gain: ga +0.300 [+0.200, +0.400], 3 seeds, paired; "
                          "salun not testable (salun did not forget); "
                          "ft +0.100 [-0.100, +0.300], 3 seeds, paired, not on every seed; "
                          "not run: rl")
    shown = claims.judge_parts("c", "claim", "paper", parts, outcomes=True, digits=1, scale=100)
    assert shown.here == ("ga +30.0 [+20.0, +40.0], 3 seeds, paired (held); "
                          "salun not testable (salun did not forget); "
                          "ft +10.0 [-10.0, +30.0], 3 seeds, paired, not on every seed "
                          "(inconclusive)")
    one = claims.judge_parts("c", "claim", "paper", {"": claims.part(ABOVE)}, label="rho")
    assert one.here == "rho: +0.300 [+0.200, +0.400], 3 seeds, paired"


def test_judge_parts_brief_counts_the_held_parts_and_lists_the_others():
    parts = {"a": claims.part(ABOVE), "b": claims.part(BELOW), "c": claims.part(ABOVE)}
    claim = claims.judge_parts("c", "claim", "paper", parts, label="gap", brief="comparisons")
    assert claim.here == ("held in 2 of 3 comparisons; "
                          "gap: b -0.300 [-0.400, -0.200], 3 seeds, paired (did not hold)")
    del parts["b"]
    assert claims.judge_parts("c", "claim", "paper", parts, label="gap",
                              brief="comparisons").here == "held in 2 of 2 comparisons"


def test_judge_parts_with_nothing_to_compare_says_so():
    claim = claims.judge_parts("c", "claim", "paper", {}, label="gain", note="not run: rl")
    assert (claim.verdict, claim.here) == (NOT_TESTABLE, "gain: nothing to compare; not run: rl")
    assert claims.judge_parts("c", "claim", "paper", {}, empty="needs the ablation").here == \
        "needs the ablation"


def test_the_claims_table_never_truncates_and_escapes():
    long_here = "here: " + ", ".join(f"method{i} +0.{i:03d}" for i in range(20)) + " <end>"
    table = claims.table([Claim("a_b", "claim", "paper", long_here, NOT_HELD)])
    page = table._repr_html_()
    assert "&lt;end&gt;" in page and "method19 +0.019" in page
    assert 'class="mu-verdict-did-not-hold"' in page
    assert long_here in repr(table)
    assert claims.counts(table.frame.to_dict("records"))[NOT_HELD] == 1


def test_a_claim_refuses_an_unknown_verdict():
    with pytest.raises(ConfigError, match="inconclusive"):
        Claim("a", "c", "p", "h", "maybe")


def test_a_clustered_rate_of_agreeing_clusters_is_the_pooled_wilson_interval():
    # 10, 11 and 9 of 50: a chi-square of 0.25 on 2 degrees of freedom, below binomial noise
    found = claims.clustered_rate([10, 11, 9], [50, 50, 50], unit="forget samples")
    pooled = stats.binomtest(30, 150).proportion_ci(0.95, method="wilson")
    assert found.estimate == pytest.approx(0.2)
    assert (found.low, found.high) == pytest.approx((pooled.low, pooled.high), abs=1e-12)
    assert found.n == "150 forget samples, 3 clusters"


def test_a_clustered_rate_of_disagreeing_clusters_widens_by_their_overdispersion():
    # 0, 25 and 50 of 50: rate 0.5; Pearson's chi-square 625/12.5 + 0 + 625/12.5 = 100 on
    # 2 degrees of freedom, so phi = 50 and the Wilson interval of 0.5 on 150 / 50 = 3 trials
    found = claims.clustered_rate([0, 25, 50], [50, 50, 50])
    z = stats.norm.ppf(0.975)
    n = 3.0
    centre = (0.5 + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(0.25 / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (found.low, found.high) == pytest.approx((centre - half, centre + half))
    assert found.high - found.low > 0.6  # nothing like the pooled 150 samples' 0.16
    assert claims.clustered_rate([0, 0], [0, 50]).n == "50 samples, 1 clusters"
    assert not claims.clustered_rate([], []).finite
