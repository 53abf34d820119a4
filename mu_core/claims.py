"""A paper's claims as data, and the statistics every claim rule decides with.

Each claim has a stable id, what the paper says, what we measured `here` (the effect, its
interval and n, or the precondition that failed) and one of four verdicts:

* `held` / `did not hold`: the effect's 95% interval lies wholly on one side of the
  claim's boundary;
* `inconclusive`: the interval straddles the boundary, so at this scale the evidence cannot
  separate the outcomes;
* `not testable here`: something the claim presupposes failed (the attack has no signal on
  the trained model, the method did not forget, the regime is not the paper's, a method
  it names did not run); `here` names it with the measured number.

A rule builds its `Interval` with one of the primitives below (over seeds, over samples,
for counts) and hands it to `judge`, never compares two bare means. A claim on several
effects at once ("for every method", "A and B") is a conjunction of named `Part`s, each with
its own verdict or its own failed precondition, decided by `judge_parts`. Batch runs and the
verdicts page read verdicts by id, so an id names the claim, not its position.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ConfigError

HELD, NOT_HELD = "held", "did not hold"
INCONCLUSIVE, NOT_TESTABLE = "inconclusive", "not testable here"
VERDICTS = (HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE)
CONFIDENCE = 0.95  # every interval in the book
BOOTSTRAP_RESAMPLES = 2000
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Claim:
    """One checked claim: `id` (snake_case), the `claim`, the `paper`'s evidence, what we
    found `here`, and the `verdict` (one of `VERDICTS`)."""

    id: str
    claim: str
    paper: str
    here: str
    verdict: str

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ConfigError(f"a claim id is snake_case (letters, digits, _), got {self.id!r}.")
        if self.verdict not in VERDICTS:
            raise ConfigError(f"claim {self.id}: verdict must be one of {', '.join(VERDICTS)}, "
                              f"got {self.verdict!r}.")


@dataclass(frozen=True)
class Interval:
    """An effect's point `estimate` and its 95% interval [`low`, `high`], over `n` (a
    phrase: "3 seeds, paired", "50 + 50 samples")."""

    estimate: float
    low: float
    high: float
    n: str

    def text(self, digits: int = 3, scale: float = 1.0) -> str:
        """"+0.040 [-0.010, +0.090], 50 + 50 samples" (values times `scale`)."""
        def number(value):
            return f"{value * scale:+.{digits}f}" if math.isfinite(value) else f"{value:+}"
        return f"{number(self.estimate)} [{number(self.low)}, {number(self.high)}], {self.n}"

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.estimate, self.low, self.high))


# ----------------------------------------------------------------------------- primitives

def mean_interval(values, unit: str = "seeds") -> Interval:
    """The mean of `values` with its Student-t interval (one value: an unbounded interval;
    equal values: a point)."""
    values = _finite_array(values)
    n, mean = len(values), float(np.mean(values)) if len(values) else math.nan
    if n < 2:
        return Interval(mean, -math.inf, math.inf, f"{n} {unit}")
    if np.ptp(values) == 0:
        return Interval(float(values[0]), float(values[0]), float(values[0]), f"{n} {unit}")
    sem = float(np.std(values, ddof=1)) / math.sqrt(n)
    low, high = stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=sem)
    return Interval(mean, float(low), float(high), f"{n} {unit}")


def paired_difference(a, b, unit: str = "seeds") -> Interval:
    """Mean of a - b over paired runs (the same seeds), with its t interval."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ConfigError(f"a paired difference needs as many runs on each side, got "
                          f"{a.size} and {b.size}.")
    paired = mean_interval(a - b, unit)
    return Interval(paired.estimate, paired.low, paired.high, paired.n + ", paired")


def welch_difference(a, b, unit: str = "seeds") -> Interval:
    """Difference of the means of two independent groups, Welch's t interval."""
    a, b = _finite_array(a), _finite_array(b)
    n = f"{len(a)} + {len(b)} {unit}"
    estimate = float(np.mean(a) - np.mean(b)) if len(a) and len(b) else math.nan
    if len(a) < 2 or len(b) < 2:
        return Interval(estimate, -math.inf, math.inf, n)
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return Interval(estimate, estimate, estimate, n)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(CONFIDENCE)
    return Interval(estimate, float(ci.low), float(ci.high), n)


def bootstrap_difference(a, b, statistic: str = "mean", seed: int = 0,
                         unit: str = "samples") -> Interval:
    """statistic(a) - statistic(b) for two independent samples (`statistic`: mean or
    median), with a percentile bootstrap interval (`BOOTSTRAP_RESAMPLES`, seeded, so the
    same samples give the same interval)."""
    if statistic not in _STATISTICS:
        raise ConfigError(f"statistic must be one of {', '.join(_STATISTICS)}, got "
                          f"{statistic!r}.")
    a, b = _finite_array(a), _finite_array(b)
    function = _STATISTICS[statistic]
    n = f"{len(a)} + {len(b)} {unit}"
    if len(a) < 2 or len(b) < 2:
        estimate = float(function(a) - function(b)) if len(a) and len(b) else math.nan
        return Interval(estimate, -math.inf, math.inf, n)
    estimate = float(function(a) - function(b))
    rng = np.random.default_rng(seed)
    resampled = (function(rng.choice(a, (BOOTSTRAP_RESAMPLES, len(a))), axis=1)
                 - function(rng.choice(b, (BOOTSTRAP_RESAMPLES, len(b))), axis=1))
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high), n)


_STATISTICS = {"mean": np.mean, "median": np.median}


def wilson(successes: int, trials: int, unit: str = "samples") -> Interval:
    """A rate successes / trials with its Wilson score interval."""
    successes, trials = int(successes), int(trials)
    if trials <= 0:
        return Interval(math.nan, -math.inf, math.inf, f"0 {unit}")
    ci = stats.binomtest(successes, trials).proportion_ci(CONFIDENCE, method="wilson")
    return Interval(successes / trials, float(ci.low), float(ci.high), f"{trials} {unit}")


def clustered_rate(successes, trials, unit: str = "samples") -> Interval:
    """A rate pooled over clusters (e.g. the seeds' forget sets), successes / trials summed,
    with a Wilson interval on the effective sample size trials / phi, where phi >= 1 is the
    clusters' overdispersion (Pearson's chi-square over k - 1: the quasi-binomial scale).
    Clusters that agree as well as binomial noise allows (phi <= 1) give the plain Wilson
    interval of the pooled counts; clusters that disagree (a seed that forgot and one that
    did not) widen it, so pooling never hides their spread."""
    successes, trials = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    used = trials > 0
    successes, trials = successes[used], trials[used]
    total = trials.sum()
    unit = f"{int(total)} {unit}, {len(trials)} clusters"
    if total <= 0:
        return Interval(math.nan, -math.inf, math.inf, unit)
    rate = successes.sum() / total
    phi = 1.0
    if len(trials) > 1 and 0 < rate < 1:
        chi_square = (((successes - trials * rate) ** 2) / (trials * rate * (1 - rate))).sum()
        phi = max(1.0, chi_square / (len(trials) - 1))
    low, high = _wilson_bounds(rate, total / phi)
    return Interval(rate, low, high, unit)


def _wilson_bounds(rate: float, n: float) -> tuple[float, float]:
    """Wilson's score interval of a rate observed on n (possibly fractional) trials."""
    z = stats.norm.ppf(0.5 + CONFIDENCE / 2)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_difference(successes_a: int, trials_a: int, successes_b: int, trials_b: int,
                    unit: str = "samples") -> Interval:
    """rate_a - rate_b for two independent counts, Newcombe's hybrid score interval (his
    method 10, built from the two Wilson intervals)."""
    a, b = wilson(successes_a, trials_a, unit), wilson(successes_b, trials_b, unit)
    n = f"{int(trials_a)} + {int(trials_b)} {unit}"
    if not (a.finite and b.finite):
        return Interval(math.nan, -math.inf, math.inf, n)
    estimate = a.estimate - b.estimate
    low = estimate - math.hypot(a.estimate - a.low, b.high - b.estimate)
    high = estimate + math.hypot(a.high - a.estimate, b.estimate - b.low)
    return Interval(estimate, low, high, n)


def auc_and_variance(members, non_members) -> tuple[float, float]:
    """The AUC of scores that should be higher for `members` (ties count one half) and
    DeLong's variance of it; NaN for both with fewer than two scores on either side."""
    x, y = _finite_array(members), _finite_array(non_members)
    if len(x) < 2 or len(y) < 2:
        return math.nan, math.nan
    placements = (np.sign(x[:, None] - y[None, :]) + 1) / 2  # psi(x_i, y_j)
    variance = np.var(placements.mean(1), ddof=1) / len(x) + \
        np.var(placements.mean(0), ddof=1) / len(y)
    return float(placements.mean()), float(variance)


def auc_interval(members, non_members) -> Interval:
    """The AUC of scores that should be higher for `members`, with DeLong's variance and a
    normal interval clipped to [0, 1] (ties count one half)."""
    n = f"{len(_finite_array(members))} + {len(_finite_array(non_members))} samples"
    auc, variance = auc_and_variance(members, non_members)
    if math.isnan(auc):
        return Interval(math.nan, -math.inf, math.inf, n)
    half = stats.norm.ppf(0.5 + CONFIDENCE / 2) * math.sqrt(variance)
    return Interval(auc, max(0.0, auc - half), min(1.0, auc + half), n)


def mean_of_estimates(estimates, variances, n: str, *, independent: bool = True) -> Interval:
    """The mean of estimates (one per seed, say) whose variances are known (DeLong's, for
    AUCs), with a normal interval. Independent estimates: variance sum(variances) / k².
    Estimates that share samples (every seed's AUC against the same test samples) are
    correlated, which that would understate: `independent=False` takes the bound that holds
    at any correlation, (sum of standard errors / k)² (Cauchy-Schwarz). Either reads each
    estimate's own sampling error, where a t interval over a few seeds (`mean_interval`)
    reads only their spread, with k - 1 degrees of freedom."""
    estimates, variances = np.asarray(estimates, dtype=float), np.asarray(variances, dtype=float)
    keep = np.isfinite(estimates) & np.isfinite(variances)
    if not keep.any():
        return Interval(math.nan, -math.inf, math.inf, n)
    k, mean = keep.sum(), float(estimates[keep].mean())
    error = math.sqrt(variances[keep].sum()) / k if independent else \
        float(np.sqrt(variances[keep]).sum()) / k
    half = stats.norm.ppf(0.5 + CONFIDENCE / 2) * error
    return Interval(mean, mean - half, mean + half, n)


def spearman_interval(x, y) -> Interval:
    """Spearman's rank correlation with a Fisher-z interval (standard error
    sqrt(1.06 / (n - 3)), Fieller et al. 1957)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    if n < 4:
        return Interval(math.nan, -math.inf, math.inf, f"{n} samples")
    rho = float(stats.spearmanr(x, y).statistic)
    if abs(rho) == 1:
        return Interval(rho, rho, rho, f"{n} samples")
    half = stats.norm.ppf(0.5 + CONFIDENCE / 2) * math.sqrt(1.06 / (n - 3))
    z = math.atanh(rho)
    return Interval(rho, math.tanh(z - half), math.tanh(z + half), f"{n} samples")


def _finite_array(values) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    return values[np.isfinite(values)]


# ------------------------------------------------------------------------------- verdicts

def side(interval: Interval, boundary: float = 0.0, *, above: bool = True) -> str:
    """The verdict on "the effect is above `boundary`" (or below, `above=False`): held when
    the whole interval is strictly beyond it, did not hold when the whole interval is on
    the other side (touching the boundary counts there: the claims are strict),
    inconclusive when it straddles. An effect with no value is not testable."""
    if not math.isfinite(interval.estimate):
        return NOT_TESTABLE
    low, high = (interval.low, interval.high) if above else (-interval.high, -interval.low)
    boundary = boundary if above else -boundary
    if low > boundary:
        return HELD
    if high <= boundary:
        return NOT_HELD
    return INCONCLUSIVE


def not_above(interval: Interval, boundary: float = 0.0) -> str:
    """The verdict on "the effect is not above `boundary`" (at most it; a tie holds): held
    when the whole interval is at or below it, did not hold when the whole interval is
    strictly above, inconclusive when it straddles (`side` with the outcomes swapped)."""
    outcome = side(interval, boundary)
    return {HELD: NOT_HELD, NOT_HELD: HELD}.get(outcome, outcome)


def within(interval: Interval, margin: float) -> str:
    """The verdict on "the change is none" (|change| < `margin`): held when the whole
    interval lies strictly inside (-margin, margin), did not hold when it lies wholly
    outside on one side (touching a band edge counts there), inconclusive when it crosses
    a band edge. An effect with no value is not testable."""
    if not math.isfinite(interval.estimate):
        return NOT_TESTABLE
    if -margin < interval.low and interval.high < margin:
        return HELD
    if interval.low >= margin or interval.high <= -margin:
        return NOT_HELD
    return INCONCLUSIVE


def all_of(verdicts) -> str:
    """The verdict of a conjunction ("each of the named methods"): did not hold if any part
    did not hold, not testable if any part could not be tested, inconclusive if any part is,
    held only if every part held."""
    verdicts = list(verdicts)
    for outcome in (NOT_HELD, NOT_TESTABLE, INCONCLUSIVE):
        if outcome in verdicts:
            return outcome
    return HELD if verdicts else NOT_TESTABLE


def any_of(verdicts) -> str:
    """The verdict of a disjunction ("at least one"): held if any part held, did not hold
    if every part did not hold, otherwise inconclusive (not testable if nothing could be)."""
    verdicts = list(verdicts)
    if HELD in verdicts:
        return HELD
    if verdicts and all(v == NOT_HELD for v in verdicts):
        return NOT_HELD
    testable = [v for v in verdicts if v != NOT_TESTABLE]
    return INCONCLUSIVE if testable else NOT_TESTABLE


def verdict(held) -> str:
    """The verdict of an exact, noise-free outcome (a count of cells that match, a setting
    that was not run): True held, False did not hold, None not testable. Measured effects
    go through `side` with an interval instead."""
    if held is None:
        return NOT_TESTABLE
    return HELD if bool(held) else NOT_HELD


# -------------------------------------------------------------------------- preconditions

def unmet(condition: bool, reason: str) -> str | None:
    """`reason` when `condition` fails (a precondition of a claim), else None."""
    return None if condition else reason


def attack_signal(auc: Interval, attack: str, model: str = "the trained model") -> str | None:
    """Why a membership claim cannot be tested when the attack has no signal on `model`:
    its AUC's interval is not above chance."""
    return unmet(auc.finite and auc.low > 0.5,
                 f"{attack} has no signal on {model}: AUC {auc.estimate:.3f} "
                 f"[{auc.low:.3f}, {auc.high:.3f}], {auc.n}, not above 0.5")


def forgot(method: str, forget_accuracy: Interval, trained_accuracy: float,
           margin: float) -> str | None:
    """Why a claim about what `method` hid cannot be tested when it did not forget: its
    forget-set accuracy is not below the trained model's with confidence (the drop's
    interval above 0), or its drop's estimate is not above `margin`.

    The margin is read on the estimate, not on the interval: in random forgetting the whole
    drop retraining makes is a few samples of a small forget set, and retraining's own drop
    is not significantly above a share of itself. The verdict of the claim carries its own
    interval; this gate only asks whether the method moved off the trained model, and far
    enough by the best estimate."""
    drop = Interval(trained_accuracy - forget_accuracy.estimate,
                    trained_accuracy - forget_accuracy.high,
                    trained_accuracy - forget_accuracy.low, forget_accuracy.n)
    if not drop.finite:
        return f"{method}: its forget accuracy was not measured"
    shortfalls = ([] if drop.low > 0 else ["its interval reaches 0"]) + (
        [] if drop.estimate > margin else [f"not above {margin:.3g}"])
    return unmet(not shortfalls,
                 f"{method} did not forget: forget accuracy {forget_accuracy.estimate:.3f} "
                 f"[{forget_accuracy.low:.3f}, {forget_accuracy.high:.3f}], {forget_accuracy.n}, "
                 f"against the trained model's {trained_accuracy:.3f}, a drop of "
                 f"{drop.estimate:.3g} ({' and '.join(shortfalls)})")


def reasons_text(reasons) -> str | None:
    """The failed preconditions among `reasons` (strings or None) joined by "; ", or None
    when every one held."""
    return "; ".join(r for r in reasons if r) or None


@dataclass(frozen=True)
class Part:
    """One named part of a conjunction (`judge_parts`): its `effect` and the `outcome` read
    from it (`side`, `not_above`, `within`, ...), or, when a precondition of this part
    failed, the `reason` (the part is then not testable, whatever `outcome` says, and
    `effect` may be None). `note` follows the effect's interval in `here`."""

    effect: Interval | None
    outcome: str = NOT_TESTABLE
    reason: str | None = None
    note: str = ""

    def __post_init__(self):
        if self.outcome not in VERDICTS:
            raise ConfigError(f"a part's outcome must be one of {', '.join(VERDICTS)}, got "
                              f"{self.outcome!r}.")
        if not self.reason and not isinstance(self.effect, Interval):
            raise ConfigError("a part needs an effect (an Interval) or the reason it has none.")

    @property
    def verdict(self) -> str:
        return NOT_TESTABLE if self.reason else self.outcome

    def text(self, digits: int = 3, scale: float = 1.0) -> str:
        """The effect's interval and the note, or "not testable (<reason>)"."""
        if self.reason:
            return f"not testable ({self.reason})"
        return self.effect.text(digits, scale) + self.note


def part(effect: Interval | None, boundary: float = 0.0, *, above: bool = True,
         reason: str | None = None, note: str = "") -> Part:
    """A `Part` on "the effect is above `boundary`" (below, `above=False`): the `side` of it
    the effect's interval lies on, or not testable with `reason`."""
    outcome = NOT_TESTABLE if reason else side(effect, boundary, above=above)
    return Part(effect, outcome, reason, note)


def judge_parts(claim_id: str, claim: str, paper: str, parts: dict[str, Part], *,
                label: str = "", unmet_reasons=(), note: str = "", empty: str | None = None,
                digits: int = 3, scale: float = 1.0, outcomes: bool = False,
                brief: str = "") -> Claim:
    """A claim on several named parts at once (`parts`: name -> `Part`).

    The verdict: `not testable here` with the reasons when a precondition of the whole
    claim failed (`unmet_reasons`: strings or None), or when there is no part; else the
    conjunction (`all_of`) of the parts' verdicts, a part with a reason counting as not
    testable. So the claim did not hold when any part did not hold, even beside parts that
    could not be tested or were inconclusive (one counter-example decides a conjunction);
    else it is not testable when any part could not be tested (no amount of data at this
    scale would settle it); else inconclusive when any part straddles its boundary; held
    only when every part held.

    `here`: "<label>: <name> <interval>; <name> not testable (<reason>); ...; <note>"
    (no "<label>: " without a label, and a part named "" shows its interval alone), each
    interval with `digits` and times `scale`; with `outcomes`, each tested part's verdict
    in parentheses after it. With `brief` (what the parts are, e.g. "comparisons"), `here`
    opens with how many of them held and lists only the others, with their verdicts. With
    no part, `here` is `empty` (default "<label>: nothing to compare")."""
    reason = reasons_text(unmet_reasons)
    if reason:
        return Claim(claim_id, claim, paper, reason, NOT_TESTABLE)
    prefix = f"{label}: " if label else ""
    if not parts:
        here = empty if empty is not None else f"{prefix}nothing to compare"
        return Claim(claim_id, claim, paper, here + (f"; {note}" if note else ""),
                     NOT_TESTABLE)

    def shown(name: str, p: Part) -> str:
        text = f"{name} {p.text(digits, scale)}" if name else p.text(digits, scale)
        return text + (f" ({p.verdict})" if (outcomes or brief) and not p.reason else "")
    listed = {n: p for n, p in parts.items() if not (brief and p.verdict == HELD)}
    here = (prefix + "; ".join(shown(n, p) for n, p in listed.items())) if listed else ""
    if brief:
        held = sum(p.verdict == HELD for p in parts.values())
        here = f"held in {held} of {len(parts)} {brief}" + (f"; {here}" if here else "")
    return Claim(claim_id, claim, paper, here + (f"; {note}" if note else ""),
                 all_of(p.verdict for p in parts.values()))


def judge(claim_id: str, claim: str, paper: str, effect: Interval, *, label: str,
          boundary: float = 0.0, above: bool = True, unmet_reasons=(), digits: int = 3,
          scale: float = 1.0) -> Claim:
    """A claim on one effect (`judge_parts` with one part): `not testable here` with the
    reasons when any precondition failed (`unmet_reasons`: strings or None), else the side
    of `boundary` the effect's interval lies on. `here` reads "<label>: <estimate> [<low>,
    <high>], <n>"."""
    return judge_parts(claim_id, claim, paper, {"": part(effect, boundary, above=above)},
                       label=label, unmet_reasons=unmet_reasons, digits=digits, scale=scale)


def judge_each(claim_id: str, claim: str, paper: str, effects: dict[str, Interval], *,
               label: str, boundary: float = 0.0, above: bool = True, unmet_reasons=(),
               digits: int = 3, scale: float = 1.0) -> Claim:
    """A claim on every named effect at once (`effects`: name -> interval), each on the same
    side of `boundary`: `judge_parts` with no precondition of its own to any part; `here`
    lists them all."""
    parts = {name: part(effect, boundary, above=above) for name, effect in effects.items()}
    return judge_parts(claim_id, claim, paper, parts, label=label,
                       unmet_reasons=unmet_reasons, digits=digits, scale=scale)


# ------------------------------------------------------------------------------- display

class ClaimsTable:
    """The claims as a table that never truncates a cell: HTML that wraps (at a phone's
    width too) in a notebook, plain text in a terminal; `.frame` is the DataFrame."""

    def __init__(self, claims):
        rows = [asdict(c) for c in claims]
        self.frame = pd.DataFrame(rows, columns=["id", "claim", "paper", "here", "verdict"])

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{name}</th>" for name in self.frame.columns)
        body = "".join(
            f'<tr class="mu-verdict-{row.verdict.replace(" ", "-")}">'
            + "".join(f"<td>{html.escape(str(value))}</td>" for value in row)
            + "</tr>" for row in self.frame.itertuples(index=False))
        return (f'<table class="mu-claims"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        return "\n\n".join(
            f"{row.id} [{row.verdict}]\n  claim: {row.claim}\n  paper: {row.paper}\n"
            f"  here:  {row.here}" for row in self.frame.itertuples(index=False))

    def __len__(self) -> int:
        return len(self.frame)


def table(claims) -> ClaimsTable:
    """The claims for display (`ClaimsTable`: HTML in the book, never truncated)."""
    return ClaimsTable(claims)


def counts(claims) -> dict[str, int]:
    """How many claims have each verdict (claims as `Claim`s or their dicts)."""
    verdicts = [c["verdict"] if isinstance(c, dict) else c.verdict for c in claims]
    return {v: verdicts.count(v) for v in VERDICTS}
