"""LiRA (Carlini et al. 2022) and RSU's per-example privacy score, against hand arithmetic,
scipy and brute-force loops."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from mu_core.attacks.mia import (LIRA_STATISTICS, leave_one_out_scores, lira_scores,
                                 lira_statistic, privacy_scores, roc_summary,
                                 shadow_keep_masks)
from mu_core.errors import ConfigError

# Four shadow models, two samples. Sample 0: in {1, 2}, out {3, 4}; sample 1: in {2, 1},
# out {0, 5}.
HAND_STATS = torch.tensor([[1.0, 0.0], [3.0, 2.0], [2.0, 5.0], [4.0, 1.0]], dtype=torch.float64)
HAND_IN = torch.tensor([[True, False], [False, True], [True, False], [False, True]])
HAND_TARGET = torch.tensor([2.0, 4.0], dtype=torch.float64)


def log_normal(x, mean, variance):
    return -0.5 * math.log(2 * math.pi * variance) - (x - mean) ** 2 / (2 * variance)


def log_phi(z):
    return math.log(0.5 * (1 + math.erf(z / math.sqrt(2))))


def random_shadows(models, samples, seed, *, min_each=1, member_shift=1.5):
    """Statistics with a per-sample offset, shifted up where the model trained on the
    sample, and a Bernoulli(1/2) keep mask with at least `min_each` in and out per sample."""
    rng = np.random.default_rng(seed)
    keep = rng.random((models, samples)) < 0.5
    keep[:min_each] = True
    keep[min_each:2 * min_each] = False
    stats = rng.normal(size=(models, samples)) + rng.normal(0, 3, size=samples) \
        + member_shift * keep
    return stats, keep


def scipy_reference(stats, keep, target, *, online, fix_variance):
    """Per-sample loop with np.mean, np.var(ddof=1) * (1 + 1/n) (the posterior predictive
    variance) and scipy's normal log pdf / log cdf; the fixed variance pools the residuals
    about each sample's own mean over sum (n - 1), times each sample's 1 + 1/n. Every
    variance gets the documented floor of 1e-12 (it matters where two values nearly agree)."""
    samples = stats.shape[1]
    groups = {"in": keep, "out": ~keep}
    means = {g: np.array([stats[m[:, j], j].mean() for j in range(samples)])
             for g, m in groups.items()}
    stds = {}
    for g, m in groups.items():
        counts = m.sum(0)
        if fix_variance:
            residuals = np.concatenate([stats[m[:, j], j] - means[g][j] for j in range(samples)])
            pooled = np.sum(residuals ** 2) / np.sum(counts - 1)
            stds[g] = np.sqrt(pooled * (1 + 1 / counts) + 1e-12)
        else:
            stds[g] = np.array([np.sqrt(np.var(stats[m[:, j], j], ddof=1) * (1 + 1 / counts[j])
                                        + 1e-12) for j in range(samples)])
    out = np.empty_like(target)
    for index in np.ndindex(target.shape):
        j = index[-1]
        t = target[index]
        if online:
            out[index] = norm.logpdf(t, means["in"][j], stds["in"][j]) \
                - norm.logpdf(t, means["out"][j], stds["out"][j])
        else:
            out[index] = norm.logcdf(t, means["out"][j], stds["out"][j])
    return out


# ---- lira_scores ---------------------------------------------------------------------------

# Every group holds n = 2 values, so the variance is M2 / (n - 1) * (1 + 1/n) = 1.5 M2.
# Sample 0: in {1, 2} and out {3, 4}, M2 = 0.5 each: N(1.5, 0.75) and N(3.5, 0.75).
# Sample 1: in {1, 2}, M2 = 0.5: N(1.5, 0.75); out {0, 5}, M2 = 12.5: N(2.5, 18.75).


def test_lira_scores_online_matches_hand_arithmetic():
    # Sample 0, t = 2: equal variances, so the log-variance terms cancel.
    expected_0 = (-(2 - 1.5) ** 2 + (2 - 3.5) ** 2) / (2 * 0.75)  # = 4/3
    # Sample 1, t = 4.
    expected_1 = (-0.5 * math.log(2 * math.pi * 0.75) - 2.5 ** 2 / 1.5) \
        - (-0.5 * math.log(2 * math.pi * 18.75) - 1.5 ** 2 / 37.5)
    assert expected_0 == pytest.approx(4 / 3)
    assert expected_1 == pytest.approx(math.log(5) - 25 / 6 + 0.06)
    scores = lira_scores(HAND_STATS, HAND_IN, HAND_TARGET)
    assert scores.dtype == torch.float64 and scores.shape == (2,)
    assert scores.tolist() == pytest.approx([expected_0, expected_1], abs=1e-9)


def test_lira_scores_offline_matches_hand_arithmetic():
    # log Phi((t - mu_out) / s_out): sample 0 (2 - 3.5) / sqrt(0.75) = -sqrt(3),
    # sample 1 (4 - 2.5) / sqrt(18.75) = sqrt(0.12).
    expected = [log_phi((2 - 3.5) / math.sqrt(0.75)), log_phi((4 - 2.5) / math.sqrt(18.75))]
    assert expected == pytest.approx([log_phi(-math.sqrt(3)), log_phi(math.sqrt(0.12))])
    scores = lira_scores(HAND_STATS, HAND_IN, HAND_TARGET, online=False)
    assert scores.tolist() == pytest.approx(expected, abs=1e-9)


def test_lira_scores_fixed_variance_matches_hand_arithmetic():
    # Pooled in: M2 0.5 + 0.5 over (2 - 1) + (2 - 1) -> 0.5; out: (0.5 + 12.5) / 2 -> 6.5.
    # Each times 1 + 1/n = 1.5 (n = 2 everywhere).
    var_in, var_out = 0.5 * 1.5, 6.5 * 1.5
    online = [log_normal(2, 1.5, var_in) - log_normal(2, 3.5, var_out),
              log_normal(4, 1.5, var_in) - log_normal(4, 2.5, var_out)]
    offline = [log_phi((2 - 3.5) / math.sqrt(var_out)), log_phi((4 - 2.5) / math.sqrt(var_out))]
    got_online = lira_scores(HAND_STATS, HAND_IN, HAND_TARGET, fix_variance=True)
    got_offline = lira_scores(HAND_STATS, HAND_IN, HAND_TARGET, online=False, fix_variance=True)
    assert got_online.tolist() == pytest.approx(online, abs=1e-9)
    assert got_offline.tolist() == pytest.approx(offline, abs=1e-9)


@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fix_variance", [False, True])
def test_lira_scores_match_scipy_loop(online, fix_variance):
    stats, keep = random_shadows(8, 50, seed=3, min_each=2)  # scipy needs a nonzero std
    target = np.random.default_rng(4).normal(0, 3, size=(3, 50))
    expected = scipy_reference(stats, keep, target, online=online, fix_variance=fix_variance)
    got = lira_scores(torch.from_numpy(stats), torch.from_numpy(keep), torch.from_numpy(target),
                      online=online, fix_variance=fix_variance)
    assert got.dtype == torch.float64 and got.shape == (3, 50)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-9)


def test_lira_scores_are_finite_when_shadow_statistics_are_all_equal():
    stats = torch.ones(4, 3, dtype=torch.float64)
    keep = torch.tensor([[True] * 3, [True] * 3, [False] * 3, [False] * 3])
    for online in (True, False):
        scores = lira_scores(stats, keep, torch.tensor([1.0, 1.5, 0.5]), online=online)
        assert torch.isfinite(scores).all()
    # At the common value both Gaussians coincide, so the online ratio is exactly 0.
    assert lira_scores(stats, keep, torch.ones(3))[0] == 0


def test_lira_scores_accept_1d_and_2d_targets_alike():
    stats, keep = random_shadows(6, 20, seed=5, min_each=2)
    stats, keep = torch.from_numpy(stats), torch.from_numpy(keep)
    targets = torch.randn(4, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for online in (True, False):
        batched = lira_scores(stats, keep, targets, online=online)
        rows = torch.stack([lira_scores(stats, keep, row, online=online) for row in targets])
        assert batched.shape == (4, 20) and rows.shape == (4, 20)
        assert torch.allclose(batched, rows, rtol=0, atol=1e-12)


def test_lira_scores_float32_inputs_give_float64_scores():
    scores = lira_scores(HAND_STATS.float(), HAND_IN, HAND_TARGET.float())
    assert scores.dtype == torch.float64
    assert scores[0].item() == pytest.approx(4 / 3, abs=1e-6)


# ---- privacy_scores ------------------------------------------------------------------------

def balanced_rows(keep, m, j):
    """The models whose statistics on sample j the leave-one-out fit for model m uses: all
    but m and the last model of the group (in or out) that m is not in."""
    other_group = [i for i in range(len(keep)) if keep[i, j] != keep[m, j]]
    return [i for i in range(len(keep)) if i not in (m, other_group[-1])]


def brute_force_privacy(stats, keep, *, online):
    """Per-sample variances: lira_scores refitted for every model m and sample j on the
    balanced rows, one column at a time."""
    models, samples = stats.shape
    scores = torch.empty(models, samples, dtype=torch.float64)
    for m in range(models):
        for j in range(samples):
            rows = balanced_rows(keep, m, j)
            scores[m, j] = lira_scores(stats[rows, j:j + 1], keep[rows, j:j + 1],
                                       stats[m, j:j + 1], online=online)[0]
    return scores


def pooled_privacy(stats, keep, *, online):
    """Pooled variances, in numpy: for every model m, each group's residuals about each
    sample's own mean over the balanced rows, over sum (n - 1), times 1 + 1/n."""
    stats, keep = stats.numpy(), keep.numpy()
    models, samples = stats.shape
    scores = np.empty((models, samples))
    for m in range(models):
        fits = {}
        for group in (True, False):
            values = [stats[[i for i in balanced_rows(keep, m, j) if keep[i, j] == group], j]
                      for j in range(samples)]
            means = np.array([v.mean() for v in values])
            counts = np.array([len(v) for v in values])
            pooled = sum(((v - v.mean()) ** 2).sum() for v in values) / np.sum(counts - 1)
            fits[group] = means, np.sqrt(pooled * (1 + 1 / counts) + 1e-12)
        t = stats[m]
        if online:
            scores[m] = norm.logpdf(t, *fits[True]) - norm.logpdf(t, *fits[False])
        else:
            scores[m] = norm.logcdf(t, *fits[False])
    return torch.from_numpy(scores)


def test_balanced_rows_leave_out_the_last_model_of_the_other_group():
    # Sample 0 is in models 0 and 2, out of 1 and 3.
    assert balanced_rows(HAND_IN, 0, 0) == [1, 2]  # m = 0 is in: drop the last out, 3
    assert balanced_rows(HAND_IN, 3, 0) == [0, 1]  # m = 3 is out: drop the last in, 2
    assert balanced_rows(HAND_IN, 2, 0) == [0, 1]


@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fix_variance", [False, True])
def test_privacy_scores_match_a_balanced_leave_one_model_out_loop(online, fix_variance):
    stats, keep = random_shadows(10, 40, seed=7, min_each=3)  # 2 per group left out
    stats, keep = torch.from_numpy(stats), torch.from_numpy(keep)
    expected = (pooled_privacy if fix_variance else brute_force_privacy)(stats, keep,
                                                                         online=online)
    # The vectorised leave-one-out scores agree with the refits...
    scores = leave_one_out_scores(stats, keep, online=online, fix_variance=fix_variance)
    assert torch.allclose(scores, expected, rtol=1e-9, atol=1e-9)
    # ...and the privacy score is the share of models on which they guess right.
    got = privacy_scores(stats, keep, online=online, fix_variance=fix_variance)
    assert got.dtype == torch.float64 and got.shape == (40,)
    guesses = expected > (0.0 if online else math.log(0.5))
    assert torch.equal(got, (guesses == keep).double().mean(0))


def test_privacy_scores_are_high_for_separable_and_chance_for_identical_statistics():
    stats, keep = random_shadows(16, 100, seed=11, min_each=3, member_shift=4.0)
    asr = privacy_scores(torch.from_numpy(stats), torch.from_numpy(keep))
    assert ((asr >= 0) & (asr <= 1)).all()
    assert asr.mean() > 0.9
    stats, keep = random_shadows(16, 100, seed=12, min_each=3, member_shift=0.0)
    assert privacy_scores(torch.from_numpy(stats), torch.from_numpy(keep)).mean() < 0.65


def null_and_signal_shadows(models, *, member_shift, samples=4000, seed=0):
    """Statistics N(0, 1), i.i.d. over models and samples, plus `member_shift` where the
    model trained on the sample (0: no membership signal at all), with Carlini et al.'s
    keep masks (every sample in exactly half of the models)."""
    keep = shadow_keep_masks(models, samples, seed=seed)
    noise = torch.randn(models, samples, generator=torch.Generator().manual_seed(seed + 1),
                        dtype=torch.float64)
    return noise + member_shift * keep, keep


@pytest.mark.parametrize("models", [8, 16])
@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fix_variance", [False, True])
def test_leave_one_out_auc_is_chance_without_membership_signal(models, online, fix_variance):
    # Leaving model m out of both groups would make its own group one model smaller than
    # the other, and the better-estimated larger group wins: on these very statistics the
    # reference's fits (ddof-0 variance, all other models) gave an online AUC of 0.433
    # per-sample and 0.480 pooled with 8 models (0.494 and 0.500 with 16), and the
    # posterior predictive variance alone 0.446 and 0.457 (0.493 and 0.492). Leaving out
    # one model of the other group as well balances the groups. Across seeds the AUC here
    # varies by about 0.003.
    stats, keep = null_and_signal_shadows(models, member_shift=0.0)
    scores = leave_one_out_scores(stats, keep, online=online, fix_variance=fix_variance)
    assert roc_summary(scores, keep)["auc"] == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("models, least_auc", [(8, 0.6), (16, 0.68)])
@pytest.mark.parametrize("online", [True, False])
@pytest.mark.parametrize("fix_variance", [False, True])
def test_leave_one_out_auc_finds_a_membership_shift(models, least_auc, online, fix_variance):
    # Knowing both Gaussians, N(1, 1) against N(0, 1) gives AUC Phi(1 / sqrt(2)) = 0.76; with
    # 3 or 7 statistics per Gaussian the online per-sample fit reaches 0.63 and 0.70.
    stats, keep = null_and_signal_shadows(models, member_shift=1.0)
    scores = leave_one_out_scores(stats, keep, online=online, fix_variance=fix_variance)
    assert roc_summary(scores, keep)["auc"] > least_auc


# ---- roc_summary ---------------------------------------------------------------------------

def test_lira_separates_gaussian_members_from_nonmembers():
    gen = torch.Generator().manual_seed(0)
    models, targets, samples = 16, 4, 200
    keep = shadow_keep_masks(models + targets, samples, seed=1)
    centre = 3 * torch.randn(samples, generator=gen, dtype=torch.float64)
    stats = centre + torch.randn(models + targets, samples, generator=gen,
                                 dtype=torch.float64) + 2.0 * keep
    for online in (True, False):
        scores = lira_scores(stats[:models], keep[:models], stats[models:], online=online)
        summary = roc_summary(scores, keep[models:])
        assert summary["auc"] > 0.85, (online, summary)
        assert 0 <= summary["tpr_at_0.1%_fpr"] <= summary["tpr_at_1%_fpr"] <= 1


def test_roc_summary_on_a_tiny_hand_example():
    # Members 0.9 and 0.7, non-members 0.8 and 0.1: 3 of 4 pairs ordered right. The top
    # score is a member at FPR 0; the next point with TPR 1 costs FPR 1/2.
    summary = roc_summary(torch.tensor([0.9, 0.8, 0.7, 0.1]), torch.tensor([1, 0, 1, 0]))
    assert summary == {"auc": 0.75, "tpr_at_0.1%_fpr": 0.5, "tpr_at_1%_fpr": 0.5}


def test_roc_summary_tpr_at_low_fpr_on_a_thousand_nonmembers():
    # Non-members score 0..999; member i beats 1000, 999, 996 and 986 of them, i.e. it is
    # reached at FPR 0, 1/1000, 4/1000 and 14/1000.
    nonmembers = np.arange(1000.0)
    members = np.array([1000.5, 998.5, 995.5, 985.5])
    scores = np.concatenate([members, nonmembers]).reshape(4, 251)  # any shape, flattened
    is_member = np.concatenate([np.ones(4, bool), np.zeros(1000, bool)]).reshape(4, 251)
    summary = roc_summary(scores, is_member)
    assert summary["auc"] == pytest.approx((1000 + 999 + 996 + 986) / 4000, abs=1e-12)
    assert summary["tpr_at_0.1%_fpr"] == 0.5  # FPR exactly 0.1% counts (<=)
    assert summary["tpr_at_1%_fpr"] == 0.75


# ---- shadow_keep_masks ---------------------------------------------------------------------

def test_shadow_keep_masks_put_every_sample_in_exactly_k_models():
    keep = shadow_keep_masks(8, 300, seed=0)
    assert keep.dtype == torch.bool and keep.shape == (8, 300)
    assert torch.equal(keep.sum(0), torch.full((300,), 4))
    assert torch.equal(shadow_keep_masks(8, 300, seed=0, fraction=0.25).sum(0),
                       torch.full((300,), 2))
    # Each model gets about half of the samples, not a fixed block.
    assert ((keep.sum(1) > 100) & (keep.sum(1) < 200)).all()


def test_shadow_keep_masks_depend_on_the_seed_only():
    assert torch.equal(shadow_keep_masks(6, 100, seed=3), shadow_keep_masks(6, 100, seed=3))
    assert not torch.equal(shadow_keep_masks(6, 100, seed=3), shadow_keep_masks(6, 100, seed=4))


# ---- lira_statistic ------------------------------------------------------------------------

def test_logit_gap_on_a_hand_example():
    logits = torch.tensor([[1.0, 5.0, 3.0], [2.0, -1.0, 0.5], [4.0, 4.0, 0.0]])
    gap = lira_statistic(logits)
    assert gap.dtype == torch.float64
    assert gap.tolist() == [2.0, 1.5, 0.0]
    assert LIRA_STATISTICS == ("logit_gap", "scaled_confidence")


def test_scaled_confidence_equals_log_odds_of_the_softmax():
    gen = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(64, 10, generator=gen)
    labels = torch.randint(0, 10, (64,), generator=gen)
    p = logits.double().softmax(1)[torch.arange(64), labels]
    expected = torch.log(p / (1 - p))
    got = lira_statistic(logits, labels, kind="scaled_confidence")
    assert got.dtype == torch.float64
    assert torch.allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_scaled_confidence_stays_finite_for_extreme_logits():
    logits = torch.tensor([[100.0, 0.0], [0.0, 100.0], [1000.0, -1000.0]])
    got = lira_statistic(logits, torch.tensor([0, 0, 0]), kind="scaled_confidence")
    assert torch.isfinite(got).all()
    assert got.tolist() == pytest.approx([100.0, -100.0, 2000.0])


def test_lira_statistic_keeps_leading_batch_dims():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 5, 4, generator=gen)  # (models, samples, classes)
    labels = torch.randint(0, 4, (5,), generator=gen)
    for kind in LIRA_STATISTICS:
        batched = lira_statistic(logits, labels, kind=kind)
        assert batched.shape == (3, 5)
        for m in range(3):
            assert torch.equal(batched[m], lira_statistic(logits[m], labels, kind=kind))


# ---- errors --------------------------------------------------------------------------------

def test_lira_statistic_errors():
    logits = torch.zeros(4, 3)
    with pytest.raises(ConfigError, match="unknown LiRA statistic 'loss'; accepted: logit_gap"):
        lira_statistic(logits, kind="loss")
    with pytest.raises(ConfigError, match="needs the labels"):
        lira_statistic(logits, kind="scaled_confidence")
    with pytest.raises(ConfigError, match=r"labels must have shape \(samples,\)"):
        lira_statistic(logits, torch.zeros(5, dtype=torch.long), kind="scaled_confidence")
    with pytest.raises(ConfigError, match=r"class indices in \[0, 2\]"):
        lira_statistic(logits, torch.tensor([0, 1, 2, 3]), kind="scaled_confidence")
    with pytest.raises(ConfigError, match="at least 2 classes"):
        lira_statistic(torch.zeros(4, 1))


def test_lira_scores_shape_and_dtype_errors():
    with pytest.raises(ConfigError, match="shadow_in must be a bool tensor"):
        lira_scores(HAND_STATS, HAND_IN.long(), HAND_TARGET)
    with pytest.raises(ConfigError, match=r"shadow_in must have shadow_stats' shape \(4, 2\)"):
        lira_scores(HAND_STATS, HAND_IN[:3], HAND_TARGET)
    with pytest.raises(ConfigError, match="with 2 samples, got float64 tensor of shape \\(3,\\)"):
        lira_scores(HAND_STATS, HAND_IN, torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ConfigError, match=r"shadow_stats must be a floating tensor of shape"):
        lira_scores(HAND_STATS[0], HAND_IN[0], HAND_TARGET)
    with pytest.raises(ConfigError, match="must be finite, got 1 NaN"):
        lira_scores(_with_nan(HAND_STATS), HAND_IN, HAND_TARGET)


def _with_nan(stats):
    stats = stats.clone()
    stats[2, 1] = float("nan")
    return stats


def test_lira_scores_coverage_errors():
    keep = HAND_IN.clone()
    keep[:, 1] = True  # sample 1 is in every shadow model
    for fix_variance in (False, True):
        with pytest.raises(ConfigError, match="1 of 2 samples are out of (no|fewer than 2) "
                                              "shadow models; offline LiRA"):
            lira_scores(HAND_STATS, keep, HAND_TARGET, online=False, fix_variance=fix_variance)
    keep = HAND_IN.clone()
    keep[:, 0] = False  # sample 0 is in no shadow model: fine offline, not online
    assert torch.isfinite(lira_scores(HAND_STATS, keep, HAND_TARGET, online=False)).all()
    with pytest.raises(ConfigError, match="1 of 2 samples are in fewer than 2 shadow models; "
                                          "online LiRA with per-sample variances needs every "
                                          "sample out of at least 2 and in at least 2"):
        lira_scores(HAND_STATS, keep, HAND_TARGET)
    with pytest.raises(ConfigError, match="1 of 2 samples are in no shadow models; online "
                                          "LiRA with fix_variance=True needs every sample "
                                          "out of at least 1 and in at least 1"):
        lira_scores(HAND_STATS, keep, HAND_TARGET, fix_variance=True)


def test_a_per_sample_variance_needs_two_statistics_and_a_pooled_one_some_sample_with_two():
    keep = HAND_IN.clone()
    keep[0, 0] = False  # sample 0: in model 2 only, out of models 0, 1 and 3
    with pytest.raises(ConfigError, match="1 of 2 samples are in fewer than 2 shadow models"):
        lira_scores(HAND_STATS, keep, HAND_TARGET)
    # One statistic is enough with a pooled variance, as sample 1 supplies the spread: the
    # in variance is 0.5 / (0 + 1) (sample 0's M2 is 0) times 1 + 1/1 for sample 0.
    got = lira_scores(HAND_STATS, keep, HAND_TARGET, fix_variance=True, online=True)
    # Out: sample 0's {1, 3, 4} (mean 8/3, M2 14/3) and sample 1's M2 12.5 over 2 + 1.
    var_out = (14 / 3 + 12.5) / (2 + 1)
    expected_0 = log_normal(2, 2.0, 0.5 * 2) - log_normal(2, 8 / 3, var_out * (1 + 1 / 3))
    assert got[0].item() == pytest.approx(expected_0, abs=1e-9)
    # Two models, each sample in one and out of the other: no spread to pool from.
    two_stats, two_in = HAND_STATS[:2], HAND_IN[:2]
    with pytest.raises(ConfigError, match="no sample is out of 2 or more shadow models, so "
                                          "offline LiRA with fix_variance=True has no spread"):
        lira_scores(two_stats, two_in, HAND_TARGET, online=False, fix_variance=True)


def test_privacy_scores_coverage_errors():
    # privacy_scores fits every group on one model fewer, so it needs one statistic more.
    with pytest.raises(ConfigError, match="2 of 2 samples are out of fewer than 3 shadow "
                                          "models; leave-one-out LiRA with per-sample "
                                          "variances needs every sample out "
                                          "of at least 3 and in at least 3"):
        privacy_scores(HAND_STATS, HAND_IN)
    # Six models; sample 0 is in models 0-2 and out of 3-5, sample 1 in 0-1 only.
    stats = torch.from_numpy(np.random.default_rng(0).normal(size=(6, 2)))
    keep = torch.tensor([[True, True], [True, True], [True, False], [False, False],
                         [False, False], [False, False]])
    with pytest.raises(ConfigError, match="1 of 2 samples are in fewer than 3 shadow models"):
        privacy_scores(stats, keep)
    assert privacy_scores(stats, keep, fix_variance=True).shape == (2,)  # 2 each, and 3 once
    keep[0, 0] = False  # sample 0 is in 2 and out of 4: sample 1 is out of 4 already
    privacy_scores(stats, keep, online=False, fix_variance=True)
    with pytest.raises(ConfigError, match="no sample is in 3 or more shadow models, so "
                                          "leave-one-out LiRA with fix_variance=True has no "
                                          "spread"):
        privacy_scores(stats, keep, fix_variance=True)
    keep[1, 1] = False  # sample 1 is in one model only
    with pytest.raises(ConfigError, match="1 of 2 samples are in fewer than 2 .*leave-one-out "
                                          "LiRA with fix_variance=True"):
        privacy_scores(stats, keep, fix_variance=True)


def test_roc_summary_and_keep_mask_errors():
    with pytest.raises(ConfigError, match="both members and non-members, got 3 members"):
        roc_summary(torch.tensor([0.1, 0.2, 0.3]), torch.ones(3, dtype=torch.bool))
    with pytest.raises(ConfigError, match="as many elements, got 3 and 2"):
        roc_summary(torch.tensor([0.1, 0.2, 0.3]), torch.tensor([True, False]))
    with pytest.raises(ConfigError, match="num_models must be an integer >= 2"):
        shadow_keep_masks(1, 10, seed=0)
    with pytest.raises(ConfigError, match=r"fraction must be in \(0, 1\)"):
        shadow_keep_masks(4, 10, seed=0, fraction=1.0)
    with pytest.raises(ConfigError, match="puts every sample in 0 models"):
        shadow_keep_masks(4, 10, seed=0, fraction=0.1)
