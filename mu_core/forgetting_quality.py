"""Forgetting quality as the NeurIPS 2023 unlearning challenge scores it.

Triantafillou et al. 2024, "Are we making progress in unlearning? Findings from the first
NeurIPS unlearning competition" (arXiv 2406.09073), Section 3, reports this evaluation. Its
definitions are those of the organisers' technical report "Evaluation for the NeurIPS
Machine Unlearning Competition" (August 2023, unlearning-challenge.github.io/assets/data/
Machine_Unlearning_Metric.pdf; cited below as "report"), which the released scoring code
(github.com/google-deepmind/unlearning_evaluation, `metric.py` and `main.py`; cited as
"kit") names as its definition. (The paper's own text beyond its abstract was not at hand
when this was written, nor in the audit of issue 33, which checked every step below against
the kit line by line: `_get_epsilons`, the two rule families, `compute_forget_score_from_confs`
and `main.py`'s final score; each difference is listed at the end.)

For each forget example s, N retrained and N unlearned models (different seeds) give two
samples of a scalar output f(M(s)) (the kit's f: `logit_scaled_confidence`). Decision rules
("attacks") tell the samples apart with a false positive rate FPR and a false negative rate
FNR, and each attack bounds epsilon at the fixed delta (report Eq. 1, after Kairouz et al.
2015):

    eps = max( ln((1 - delta - FPR) / FNR), ln((1 - delta - FNR) / FPR) ).

Report Algorithm 1: an attack with FPR = FNR = 0 separates the samples perfectly and gives
eps = inf; one with exactly one of them 0 is discarded (an artefact of few models); a
logarithm of a non-positive number is NaN and drops out of the maximum; the example's
epsilon is the NaN-ignoring maximum over attacks. The attacks are the kit's two families of
decision rules, evaluated at every distinct cut point of the pooled sample:

* one threshold: predict the distribution with the larger median at or above t
  (kit `_get_single_threshold_rates`);
* two thresholds: predict the peakier distribution (smaller range) inside [l, r]
  (kit `_get_double_threshold_rates`).

With every cut point available, the first family is inside the second: a threshold rule's
rates are those of the interval [t, inf) or (-inf, t) for the peakier sample, or the same
two rates swapped, and Eq. 1 is symmetric in FPR and FNR. So only intervals are enumerated
(tests/test_forgetting_quality.py checks both families, listed one by one).

Each example earns H = 2 / 2^n points, n its epsilon's bin (width 0.5, from 0: n = 1 for
eps in [0, 0.5) earns 1, [0.5, 1) earns 0.5, ...), over the range where N models can
observe an epsilon at all (B bins; B = 13, [0, 6.5), for N = 512); the forgetting quality
is the mean of H over the forget set (report Section 4), and the final score
F * (RA_U / RA_R) * (TA_U / TA_R) with accuracies averaged over the N models (report
Section 5; kit `main.py`).

How delta and N shape the estimate (measured in tests/test_forgetting_quality.py): every
rule is a ratio of counts of models, so the estimate is biased upwards. At delta = 0.1 a
rule must catch a tenth of a sample to count and the bias on identical samples shrinks as N
grows (mean epsilon 1.41 at N = 16, 0.03 at N = 256); at the kit's delta = 1e-5 a threshold
above all but a few models counts too (1 model against 3 gives ln 3 whatever N), so the
estimate for identical samples does not shrink (1.8 at N = 16, 2.4 at N = 256) and F stays
near 0.05-0.12: read F against retraining scored against retraining.

Where the kit departs from the report, this module follows the report:

* the kit evaluates thresholds on a grid of step 0.01 (and interval widths within 2 of the
  peakier range); here every distinct cut point and every interval, the limit of that grid
  (the estimate can only be as large or larger);
* the kit sets eps to its cap 50 when one sample's range is under 1% of the other's (a
  heuristic the report does not have); here the interval family detects such a peaky
  sample by itself (a point mass is separated perfectly unless the other sample hits it);
* the kit clips epsilons to [0, 50]; here they are clipped below at 0 (the report's bins
  start at 0) and perfect separation stays inf;
* the kit's last bin ends at ceil(ln(N - 1)) (14 bins for N = 512), the report's at
  ln(N - 1) rounded up to a half (13 bins): the same score for every epsilon N models a
  side can give (each finite one is below ln(N - 1)); they differ at N = 2 only, where the
  kit has no bin at all;
* with no surviving attack (both samples constant and equal) the kit fails an assertion;
  here epsilon is 0, no attack telling them apart;
* the report also rejects a method slower than about 20% of retraining before scoring;
  `final_score` leaves that to its caller.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError, check_positive_int, describe

DELTA = 1e-5  # kit metric.py line 24; the report fixes one delta and does not state it
BIN_WIDTH = 0.5  # report Section 4, "Aggregating per-example epsilons"
CHUNK = 64  # examples at a time: bounds the memory of one interval length's arrays


def logit_scaled_confidence(logits, targets) -> np.ndarray:
    """ln(p_y / (1 - p_y)) of the softmax of `logits` [n, classes] at `targets` [n]: the
    kit's summary statistic f (`compute_logit_scaled_confidence`), computed here as
    z_y - logsumexp_{j != y} z_j, exact where the kit's +1e-45 caps it near +-103."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets).astype(np.int64).reshape(-1)
    if z.ndim != 2 or len(y) != len(z):
        raise ConfigError(f"logits must be [n, classes] with n targets, got shapes "
                          f"{z.shape} and {y.shape}.")
    rows = np.arange(len(z))
    correct = z[rows, y]
    others = z.copy()
    others[rows, y] = -np.inf
    top = others.max(axis=1, keepdims=True)
    rest = top[:, 0] + np.log(np.exp(others - top).sum(axis=1))
    return correct - rest


def attack_epsilon(fpr, fnr, delta: float = DELTA) -> np.ndarray:
    """Each attack's epsilon from its FPR and FNR (report Eq. 1 and Algorithm 1): inf when
    both are 0, NaN (discarded) when exactly one is, else the NaN-ignoring maximum of the
    two logarithms (natural), NaN when both are undefined."""
    fpr, fnr = np.asarray(fpr, dtype=np.float64), np.asarray(fnr, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.log(1 - delta - fpr) - np.log(fnr)
        second = np.log(1 - delta - fnr) - np.log(fpr)
    both = np.where(np.isnan(first), second, np.where(np.isnan(second), first,
                                                      np.maximum(first, second)))
    both = np.where((fpr == 0) != (fnr == 0), np.nan, both)
    return np.where((fpr == 0) & (fnr == 0), np.inf, both)


def per_example_epsilon(retrained, unlearned, delta: float = DELTA) -> np.ndarray:
    """Epsilon of each forget example, [E], from the outputs of N_r retrained models
    `retrained` [N_r, E] and N_u unlearned models `unlearned` [N_u, E]: the strongest attack
    of the decision rules (see the module's docstring), clipped below at 0.

    Cost: O(E (N_r + N_u)^2) table look-ups (every interval of the pooled sample)."""
    retrained, unlearned = _check_outputs(retrained, unlearned)
    delta = _check_delta(delta)
    below_r, below_u = _pooled_counts(retrained, unlearned)
    eps = _interval_epsilon(retrained, unlearned, below_r, below_u, delta)
    return np.maximum(eps, 0.0)  # -inf: no surviving attack, epsilon 0


def score_bins(n_models: int) -> int:
    """B, the number of scored bins: ln(N - 1), the largest epsilon N models per side can
    show, rounded up to a bin edge (report Section 4: B = 13 for N = 512); at least 1."""
    if n_models < 2:
        raise ConfigError(f"the number of models must be at least 2, got {n_models}.")
    return max(1, math.ceil(math.log(n_models - 1) / BIN_WIDTH - 1e-12))


def per_example_score(epsilon, bins: int) -> np.ndarray:
    """H = 2 / 2^n for each epsilon, n = 1 + floor(eps / 0.5) its bin (report Section 4),
    and 0 at or beyond the last of `bins` bins (perfect separation included)."""
    check_positive_int("bins", bins)
    eps = np.asarray(epsilon, dtype=np.float64)
    if np.isnan(eps).any() or (eps < 0).any():
        raise ConfigError("epsilons must be non-negative numbers (inf allowed), got a "
                          "negative or NaN value.")
    index = np.floor(np.minimum(eps, bins * BIN_WIDTH) / BIN_WIDTH) + 1
    return np.where(index <= bins, 2.0 / 2.0 ** index, 0.0)


def forgetting_quality(retrained, unlearned, delta: float = DELTA) -> float:
    """F, the mean per-example score over the forget set (report Section 4), from outputs
    [N_r, E] of retrained and [N_u, E] of unlearned models; 1 is the best score."""
    eps = per_example_epsilon(retrained, unlearned, delta)
    bins = score_bins(min(len(retrained), len(unlearned)))
    return float(per_example_score(eps, bins).mean())


def final_score(quality: float, ra: float, ta: float, ra_retrain: float,
                ta_retrain: float) -> float:
    """F * (RA_U / RA_R) * (TA_U / TA_R) (report Section 5; kit `main.py`): the forgetting
    quality scaled by the unlearned models' mean retain and test accuracies relative to
    retraining's (a ratio above 1 is not capped, as in both)."""
    for name, value in (("quality", quality), ("ra", ra), ("ta", ta)):
        _check_unit(name, value, allow_zero=True)
    for name, value in (("ra_retrain", ra_retrain), ("ta_retrain", ta_retrain)):
        _check_unit(name, value, allow_zero=False)
    return float(quality * (ra / ra_retrain) * (ta / ta_retrain))


def _pooled_counts(retrained, unlearned) -> tuple[np.ndarray, np.ndarray]:
    """`below_r[e, j]` / `below_u[e, j]`: how many retrained / unlearned outputs of example e
    lie below the j-th smallest of its pooled outputs (j = 0 .. N_r + N_u). A threshold
    cannot fall between equal values, so a position inside a run of ties takes the counts
    of the run's end: a rule placed there is a copy of a realisable one."""
    pooled = np.concatenate([retrained, unlearned]).T  # [E, T]
    order = np.argsort(pooled, axis=1, kind="stable")
    values = np.take_along_axis(pooled, order, axis=1)
    is_r = order < len(retrained)
    zero = np.zeros((len(pooled), 1), dtype=np.int64)
    below_r = np.concatenate([zero, np.cumsum(is_r, axis=1)], axis=1)
    below_u = np.concatenate([zero, np.cumsum(~is_r, axis=1)], axis=1)
    ends = np.ones((len(pooled), 1), dtype=bool)
    cut = np.concatenate([ends, values[:, 1:] != values[:, :-1], ends], axis=1)
    positions = np.arange(cut.shape[1])
    # index of the first cut at or after each position (a backward fill)
    next_cut = np.flip(np.minimum.accumulate(
        np.flip(np.where(cut, positions, cut.shape[1]), axis=1), axis=1), axis=1)
    return (np.take_along_axis(below_r, next_cut, axis=1),
            np.take_along_axis(below_u, next_cut, axis=1))


def _epsilon_table(n_other: int, n_predicted: int, delta: float) -> np.ndarray:
    """eps[k, m] of an attack predicting distribution X (N_X = `n_predicted` outputs) for
    k of the other's outputs and m of X's: FPR = k / N_other, FNR = 1 - m / N_X; a discarded
    or undefined attack is -inf, so it never wins a maximum."""
    k = np.arange(n_other + 1)[:, None] / n_other
    m = np.arange(n_predicted + 1)[None, :] / n_predicted
    return np.nan_to_num(attack_epsilon(k, 1 - m, delta), nan=-np.inf, posinf=np.inf)


def _oriented(retrained, unlearned, below_r, below_u, u_predicted, delta):
    """For the examples whose predicted distribution is U (`u_predicted`), then for those
    whose is R: (their rows, counts of the predicted, counts of the other, table, width of
    a table row)."""
    n_r, n_u = len(retrained), len(unlearned)
    for predicted_is_u in (True, False):
        rows = u_predicted == predicted_is_u
        if not rows.any():
            continue
        if predicted_is_u:
            yield rows, below_u[rows], below_r[rows], _epsilon_table(n_r, n_u, delta), n_u + 1
        else:
            yield rows, below_r[rows], below_u[rows], _epsilon_table(n_u, n_r, delta), n_r + 1


def _interval_epsilon(retrained, unlearned, below_r, below_u, delta) -> np.ndarray:
    """Strongest two-threshold rule: the peakier distribution inside [l, r], over every
    pair of positions (a loop over interval lengths, vectorised over examples)."""
    u_predicted = np.ptp(unlearned, axis=0) <= np.ptp(retrained, axis=0)  # kit: peakier
    best = np.full(below_r.shape[0], -np.inf)
    for rows, below_in, below_out, table, width in _oriented(
            retrained, unlearned, below_r, below_u, u_predicted, delta):
        index = below_out * width + below_in  # differences of it index the table
        best[rows] = np.concatenate([_best_interval(table.ravel(), index[start:start + CHUNK])
                                     for start in range(0, len(index), CHUNK)])
    return best


def _best_interval(flat_table: np.ndarray, index: np.ndarray) -> np.ndarray:
    best = np.full(len(index), -np.inf)
    for length in range(1, index.shape[1]):
        inside = index[:, length:] - index[:, :-length]
        best = np.maximum(best, flat_table[inside].max(axis=1))
    return best


def _check_outputs(retrained, unlearned) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, value in (("retrained", retrained), ("unlearned", unlearned)):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} outputs must be a numeric array [models, examples], "
                              f"got {describe(value)[:80]}.") from None
        if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < 1:
            raise ConfigError(f"{name} outputs must be an array [models, examples] with at "
                              f"least 2 models and 1 example, got shape {array.shape}.")
        if not np.isfinite(array).all():
            raise ConfigError(f"{name} outputs must be finite numbers, got "
                              f"{int((~np.isfinite(array)).sum())} NaN or infinite values.")
        arrays.append(array)
    if arrays[0].shape[1] != arrays[1].shape[1]:
        raise ConfigError(f"retrained and unlearned outputs must cover the same examples, got "
                          f"{arrays[0].shape[1]} and {arrays[1].shape[1]} columns.")
    return arrays[0], arrays[1]


def _check_delta(delta) -> float:
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) \
            or not 0 < delta < 1:
        raise ConfigError(f"delta must be a number in (0, 1), got {describe(delta)}.")
    return float(delta)


def _check_unit(name: str, value, *, allow_zero: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number in [0, 1], got {describe(value)}.")
    if not (0 <= value <= 1) or (value == 0 and not allow_zero):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ConfigError(f"{name} must be in {interval}, got {value}.")
