"""The RSU chapter's claim rules, which read its `Results` (`results`).

Each rule builds a 95% interval (over the forget sets' samples in part one, which runs one
seed; over seeds, paired, in part two) and decides by the side of the claim's boundary it
lies on (`claims.side`); "every method" is the conjunction of the methods' parts
(`claims.judge_parts`). A claim on membership is not testable when online LiRA has no
signal on the trained model (on the shadow models where the trained model left no unseen
sample); a claim on what a method removed, when the method did not forget. Each
`paper` field counts how many of the paper's own printed cells bear the claim out (its
Tables 5-6 contradict some of its claims): exact counts of a transcription, not
measurements.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import claims as evidence
from ...claims import (HELD, Claim, Interval, Part, attack_signal, bootstrap_difference,
                       forgot, judge_parts, mean_interval, paired_difference, part,
                       rate_difference, spearman_interval, wilson)
from ...papers import rsu as paper
from .. import spoken_list
from .experiment import (LABELS, LOSS_INTERVALS, RISK_METHODS, RSU_BASES, TOP_SHARE, per_seed,
                         scale, seed_differences, seed_gain)
from .results import Results

PART_ONE_MARGIN = 0.0  # part one: forget accuracy on High + Low measurably below the original's
CLASS_FORGET_MARGIN = 0.5  # class forgetting: at least half the class forgotten
RANDOM_FORGET_SHARE = 0.5  # random forgetting: half of retraining's drop, as chapter 01's
BOOTSTRAP_SEED = 0  # every bootstrap interval of the chapter draws from this seed


def claims(results: Results) -> list[Claim]:
    """Every claim of the RSU chapter, in its order (the same ids whatever ran)."""
    return [risk_claim(results, "mi", "forget"), risk_claim(results, "mi", "mia_gap"),
            risk_claim(results, "mia", "forget"), risk_claim(results, "mia", "mia_gap"),
            asr_claim(results), overlap_claim(results), entropy_claim(results),
            tail_claim(results),
            relearn_claim(results), correlation_claim(results),
            improvement_claim(results), tow_claim(results, "class"),
            tow_claim(results, "random"), class_vs_random_claim(results),
            order_claim(results), reverse_claim(results)]


def _judge(claim_id: str, theirs: str, label: str, parts: dict[str, Part], reasons=(),
           **options) -> Claim:
    """`claims.judge_parts` with the claim's text from the paper module."""
    return judge_parts(claim_id, paper.CLAIMS[claim_id], theirs, parts, label=label,
                       unmet_reasons=reasons, **options)


def _lira_reason(results: Results) -> str | None:
    return attack_signal(results.lira_auc, "online LiRA", results.lira_target)


def inversion_reason(results: Results) -> str | None:
    """Why a claim on the MI High set cannot be tested: the set is the candidates easiest to
    invert, which says nothing unless the inversion worked on them. Most of them must reach
    the run's `inversion_success` SSIM to their original (the share's Wilson interval above
    one half); None when they do."""
    ssim = _set_values(results, "mi_high", "inversion_ssim")
    if ssim is None or np.isnan(results.inversion_success):
        return "the run did not record the MI High samples' inversion SSIM"
    ssim = ssim[np.isfinite(ssim)]
    if not len(ssim):
        return "no MI High sample has a finite inversion SSIM"
    reached = int((ssim >= results.inversion_success).sum())
    share = wilson(reached, len(ssim), unit="MI High samples")
    return evidence.unmet(evidence.side(share, 0.5) == HELD,
                          f"gradient inversion did not succeed on most of MI High: "
                          f"{reached} of {len(ssim)} reach SSIM "
                          f"{results.inversion_success:g} to their original, share "
                          f"{share.text()}, not above one half")


# --- part one: over samples, one seed

def _run_row(runs: pd.DataFrame, name: str, method: str) -> pd.Series | None:
    chosen = runs[(runs.set == name) & (runs.method == method)]
    return chosen.iloc[0] if len(chosen) else None


def _per_sample(runs: pd.DataFrame, name: str, method: str, column: str) -> np.ndarray | None:
    row = _run_row(runs, name, method)
    if row is None or not isinstance(row.get(column), (list, tuple, np.ndarray)):
        return None
    return np.asarray(row[column], dtype=float)


def _changes(runs: pd.DataFrame, name: str, method: str, column: str) -> np.ndarray | None:
    """Per forget sample of set `name`, the original's `column` (0/1) minus the method's."""
    before, after = (_per_sample(runs, name, m, column) for m in ("original", method))
    return None if before is None or after is None else before - after


def _both_sets(runs: pd.DataFrame, risk: str) -> list[str]:
    """The methods that ran on the `risk` High set and the Low set, in the run's order."""
    return [m for m in dict.fromkeys(runs.method) if m != "original"
            and _run_row(runs, f"{risk}_high", m) is not None
            and _run_row(runs, "low", m) is not None]


def part_one_forgot(runs: pd.DataFrame, risk: str, method: str) -> str | None:
    """Why `method` counts as not having forgotten in part one: its accuracy on the High
    and the Low set together (Wilson interval over their samples) is not below the
    original model's by more than `PART_ONE_MARGIN` (None when it forgot)."""
    sets = (f"{risk}_high", "low")
    before = [_per_sample(runs, name, "original", "forget_correct") for name in sets]
    after = [_per_sample(runs, name, method, "forget_correct") for name in sets]
    if any(v is None for v in before + after):
        return f"{method}: no per-sample correctness was recorded"
    after = np.concatenate(after)
    return forgot(method, wilson(after.sum(), len(after)), float(np.concatenate(before).mean()),
                  PART_ONE_MARGIN)


def absolute_mean_difference(a, b, seed: int = BOOTSTRAP_SEED,
                             unit: str = "samples") -> Interval:
    """|mean(a)| - |mean(b)| for two independent samples, with a percentile bootstrap
    interval drawn as `claims.bootstrap_difference` draws it (the MIA gap is the absolute
    change of a share, so its per-sample changes are averaged before the absolute value)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = f"{len(a)} + {len(b)} {unit}"
    if len(a) < 2 or len(b) < 2:
        return Interval(float("nan"), -np.inf, np.inf, n)
    estimate = float(abs(a.mean()) - abs(b.mean()))
    rng = np.random.default_rng(seed)
    draws = (np.abs(rng.choice(a, (evidence.BOOTSTRAP_RESAMPLES, len(a))).mean(1))
             - np.abs(rng.choice(b, (evidence.BOOTSTRAP_RESAMPLES, len(b))).mean(1)))
    tail = 100 * (1 - evidence.CONFIDENCE) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high), n)


def forgotten_share_difference(runs: pd.DataFrame, risk: str, method: str) -> Interval:
    """Of the samples the original model classified right, the share `method` no longer
    does, on the `risk` High set minus on the Low set, with Newcombe's interval: counts,
    so a set where nothing was forgotten still has a width (a bootstrap of zeros has
    none)."""
    counts = []
    for name in (f"{risk}_high", "low"):
        before = _per_sample(runs, name, "original", "forget_correct") == 1
        after = _per_sample(runs, name, method, "forget_correct") == 1
        counts += [int((before & ~after).sum()), int(before.sum())]
    return rate_difference(*counts)


def risk_claim(results: Results, risk: str, metric: str) -> Claim:
    """Tables 1-2, per method: the share forgotten of what the original model knew
    (`metric` 'forget', `forgotten_share_difference`) or the MIA gap ('mia_gap', a
    bootstrap over the sets' samples) is larger on the `risk` High set than on the Low
    set; held
    when it is above 0 for every method. The paper's original classifies both sets
    perfectly, so its lower Acc_Du is a larger drop; ours may not (the High sets hold
    atypical samples), so the rule compares what unlearning removed. A method that did
    not forget (`part_one_forgot`) leaves its part not testable; the MIA High set and
    every MIA gap need LiRA's signal."""
    claim_id = f"{risk}_high_" + ("larger_mia_gap" if metric == "mia_gap" else "forgotten_more")
    runs = results.risk_runs
    column = "forget_correct" if metric == "forget" else "member_calls"
    parts = {}
    for method in _both_sets(runs, risk):
        high, low = (_changes(runs, name, method, column) for name in (f"{risk}_high", "low"))
        if high is None or low is None:
            parts[method] = Part(None, reason="no per-sample values were recorded")
            continue
        if metric == "forget":
            effect = forgotten_share_difference(runs, risk, method)
        else:  # after minus before, so that the gap's sign does not matter
            effect = absolute_mean_difference(-high, -low)
        parts[method] = part(effect, reason=part_one_forgot(runs, risk, method))
    reasons = [_lira_reason(results)] if risk == "mia" or metric == "mia_gap" else []
    reasons += [inversion_reason(results)] if risk == "mi" else []
    measured = "share forgotten (points)" if metric == "forget" else "MIA gap"
    scale_, digits = (100, 1) if metric == "forget" else (1, 3)
    return _judge(claim_id, paper_high_vs_low(risk, metric, metric == "mia_gap"),
                  f"{measured}, High minus Low", parts, reasons,
                  note=_not_run(set(runs.method), RISK_METHODS), digits=digits, scale=scale_)


def _set_values(results: Results, name: str, column: str) -> np.ndarray | None:
    values = results.set_samples.get(name, {}).get(column)
    return None if values is None else np.asarray(values, dtype=float)


def asr_claim(results: Results) -> Claim:
    """Fig. 2a: the MI High samples' mean ASR is above the Low samples' (bootstrap over
    the samples of both sets). Needs LiRA's signal: without it every ASR is a coin's."""
    high, low = (_set_values(results, name, "ASR") for name in ("mi_high", "low"))
    parts = {} if high is None or low is None else {
        "MI High": part(bootstrap_difference(high, low, "mean", seed=BOOTSTRAP_SEED))}
    return _judge("mi_high_higher_asr", "paper: Fig. 2a (a plot, no numbers)",
                  "mean ASR, High minus Low", parts,
                  [_lira_reason(results), inversion_reason(results)])


def overlap_claim(results: Results) -> Claim:
    """Introduction: the samples easiest to invert "are identical to" those of highest ASR.
    Read as the testable part: the MI High set shares more samples with the MIA High set
    than chance would (the MIA High share of the training samples), the shared share with
    its Wilson interval above that share. Identity itself (a share of one) is far beyond
    what the paper's own Fig. 2a shows. Needs LiRA's signal, as every ASR reading."""
    sets = {name: [int(i) for i in indices] for name, indices in results.forget_sets.items()}
    parts = {}
    if {"mi_high", "mia_high"} <= set(sets) and len(results.asr) and len(sets["mi_high"]):
        shared = len(set(sets["mi_high"]) & set(sets["mia_high"]))
        chance = len(sets["mia_high"]) / len(results.asr)
        parts[f"shared with MIA High (chance {chance:.2f})"] = part(
            wilson(shared, len(sets["mi_high"]), unit="MI High samples"), chance)
    return _judge("mi_high_are_mia_high", "paper: its Introduction (no number)",
                  "share of MI High in MIA High", parts,
                  [_lira_reason(results), inversion_reason(results)])


def entropy_claim(results: Results) -> Claim:
    """Figs. 2b-c: the median predictive entropy of the MI High and of the MIA High
    samples is above the Low samples' (bootstrap over samples; medians, as the paper's
    box plots show, because a few ambiguous samples dominate a set's mean entropy). The
    MIA part needs LiRA's signal."""
    low = _set_values(results, "low", "entropy")
    parts = {}
    for name, label, reason in (("mi_high", "MI High", inversion_reason(results)),
                                ("mia_high", "MIA High", _lira_reason(results))):
        high = _set_values(results, name, "entropy")
        if high is not None and low is not None:
            parts[label] = part(bootstrap_difference(high, low, "median", seed=BOOTSTRAP_SEED),
                                reason=reason)
    return _judge("high_more_entropy", "paper: Figs. 2b-c (plots, no numbers)",
                  "median entropy (nats), High minus Low", parts)


def paper_tail() -> str:
    """How many classes of the paper's Table 3 have MI High below the top 80% and MI Low
    within it."""
    rows = paper.TABLE3.values()
    high = sum(row["mi_high"] < row["top80"][1] for row in rows)
    low = sum(row["mi_low"] >= row["top80"][1] for row in rows)
    return (f"paper: Table 3 (CIFAR-10), MI High below the top 80% in {high} of {len(rows)} "
            f"classes, MI Low within it in {low} of {len(rows)}")


def tail_claim(results: Results) -> Claim:
    """Table 3, pooled over classes: most MI High samples lie in their class's tail (the
    bottom 20% of its confidences) and most Low samples in its top 80%: each share's
    Wilson interval above one half. (Per class, as the paper's table reads, a handful of
    samples per class could not separate anything.)"""
    parts = {}
    for name, label, tail in (("mi_high", "MI High in the tail", True),
                              ("low", "Low in the top 80%", False)):
        flags = _set_values(results, name, "in_tail")
        if flags is not None:
            count = int(flags.sum()) if tail else int(len(flags) - flags.sum())
            parts[label] = part(wilson(count, len(flags)), 0.5,
                                reason=inversion_reason(results) if tail else None)
    return _judge("high_in_tail", paper_tail(), "share of the set", parts)


def relearn_difference(results: Results, risk: str) -> tuple[Interval | None, str]:
    """Relearn epochs on the `risk` High set minus the Low set over the methods that
    forgot (`part_one_forgot`), paired by method, with its t interval, and a note of the
    methods left out (None and why, with fewer than two methods): part one has one
    run per method and set, so the methods are the replicates. A time beyond the budget
    counts as budget + 1 (a lower bound, which understates a censored High set); a method
    beyond it on both sets has no known order and is left out, named."""
    runs, budget = results.risk_runs, results.relearn_budget
    high, low, censored, idle = [], [], [], []
    for method in _both_sets(runs, risk):
        if part_one_forgot(runs, risk, method):
            idle.append(method)
            continue
        times = [_run_row(runs, name, method).relearn for name in (f"{risk}_high", "low")]
        if all(np.isnan(times)):
            censored.append(method)
            continue
        high.append(np.nan_to_num(times[0], nan=budget + 1))
        low.append(np.nan_to_num(times[1], nan=budget + 1))
    notes = [f"left out, did not forget: {spoken_list(idle)}"] if idle else []
    notes += [f"left out, both beyond {budget} epochs: {spoken_list(censored)}"] if censored \
        else []
    note = f" ({'; '.join(notes)})" if notes else ""
    if len(high) < 2:
        return None, f"fewer than 2 methods to compare{note}"
    return paired_difference(high, low, unit="methods"), note


def relearn_claim(results: Results) -> Claim:
    """Figs. 3-4: relearning takes longer on both High sets than on the Low set
    (`relearn_difference` above 0 for MI and for MIA; the MIA part needs LiRA's
    signal)."""
    parts = {}
    for risk, reason in (("mi", inversion_reason(results)), ("mia", _lira_reason(results))):
        effect, note = relearn_difference(results, risk)
        parts[risk.upper()] = Part(None, reason=note) if effect is None else \
            part(effect, reason=reason, note=note)
    return _judge("high_relearn_longer", "paper: Figs. 3-4 (plots, no numbers)",
                  "relearn epochs, High minus Low", parts, digits=2,
                  note=_not_run(set(results.risk_runs.method), RISK_METHODS))


def correlation_claim(results: Results) -> Claim:
    """Fig. 5: the trained model's loss and the ASR are positively correlated over the
    training samples (Spearman's rho with a Fisher-z interval above 0; needs LiRA's
    signal)."""
    rho = spearman_interval(results.loss, results.asr)
    return _judge("loss_correlates_with_asr", "paper: Fig. 5 (a plot of "
                  f"{LOSS_INTERVALS} loss intervals, no numbers)",
                  "Spearman's rho of loss and ASR", {"": part(rho)}, [_lira_reason(results)])


# --- part two: over seeds, paired

def not_forgotten(rows: pd.DataFrame, run: str, scenario: str = "class") -> str | None:
    """Why `run` did not forget in `scenario`: its Acc_Du over seeds (t interval) is not
    below the trained model's mean by more than the scenario's margin (`forget_margin`)."""
    trained = per_seed(rows, scenario, "trained", "forget")
    if trained.empty:
        return f"the trained model was not scored in {scenario} forgetting"
    return forgot(run, mean_interval(per_seed(rows, scenario, run, "forget").to_numpy()),
                  float(trained.mean()), forget_margin(rows, scenario))


def forget_margin(rows: pd.DataFrame, scenario: str) -> float:
    """The drop in Acc_Du that counts as forgetting: `CLASS_FORGET_MARGIN` of the class;
    in random forgetting `RANDOM_FORGET_SHARE` of retraining's mean drop (its
    generalisation gap on the forget set; 0 where retraining did not run)."""
    if scenario == "class":
        return CLASS_FORGET_MARGIN
    retrain = per_seed(rows, scenario, "retrain", "forget")
    if retrain.empty:
        return 0.0
    drop = float(per_seed(rows, scenario, "trained", "forget").mean() - retrain.mean())
    return max(RANDOM_FORGET_SHARE * drop, 0.0)


def _consistent(rows: pd.DataFrame, scenario: str, run: str, baseline: str,
                metric: str) -> Part:
    """A gain that must hold on every seed ("consistently"): held when its interval is
    above 0 and every seed's gain is; inconclusive when the interval is above 0 but a seed
    disagrees."""
    gain = part(seed_gain(rows, scenario, run, baseline, metric))
    worst = seed_differences(rows, scenario, run, baseline, metric).min()
    if gain.outcome == HELD and not worst > 0:
        return Part(gain.effect, evidence.INCONCLUSIVE,
                    note=f", not on every seed (least {worst * scale(metric):+.2f})")
    return gain


def forgot_less(rows: pd.DataFrame, method: str, scenario: str = "class") -> str | None:
    """Why an accuracy gain of `method` with RSU may be bought by forgetting less: on some
    seed RSU left more of the forget set recognised than the method alone (a higher
    Acc_Du), and a run that removes less of the class keeps more of the rest; None when
    RSU's Acc_Du is at most the method alone's on every seed."""
    more = seed_differences(rows, scenario, f"{method}+rsu", method, "forget")
    more = more[more > 1e-12]
    seeds = ", ".join(f"{seed} ({100 * value:+.2f})" for seed, value in more.items())
    return evidence.unmet(more.empty, f"{method}+rsu forgot less of the class than {method}: "
                          f"Acc_Du higher with RSU on seed{'s' * (len(more) > 1)} {seeds} "
                          "(points of %)")


def improvement_claim(results: Results) -> Claim:
    """Table 5: with RSU, Acc_Dr and Acc_val improve for every method, consistently (on
    every seed, and the paired interval over seeds above 0). Acc_val is read on the kept
    classes: the test samples of the forgotten class reward a method that failed to
    forget it. Both runs of a method must have forgotten the class (`not_forgotten`),
    else a higher accuracy only says that less was removed; and a gain where RSU forgot
    less of the class than the method alone on some seed (`forgot_less`) is not
    testable: the paper compares runs that all forgot the class (Acc_Du about 0 in every
    row). A gain that did not hold despite that stays "did not hold": forgetting less
    could only have helped RSU's accuracies."""
    rows, parts = results.rsu_runs, {}
    for method in _ran(rows, "class", results.rsu_methods):
        reason = not_forgotten(rows, method) or not_forgotten(rows, f"{method}+rsu")
        less = None if reason else forgot_less(rows, method)
        for metric in ("retain", "val_kept"):
            name = f"{method} {LABELS[metric]}"
            gain = Part(None, reason=reason) if reason else \
                _consistent(rows, "class", f"{method}+rsu", method, metric)
            if less and gain.outcome != evidence.NOT_HELD:
                gain = Part(gain.effect, gain.outcome, reason=less)
            parts[name] = gain
    return _judge("rsu_improves_class", paper_improvement("class"),
                  "gain in points of %, with minus without RSU", parts, digits=2, scale=100,
                  note=_not_run(results.rsu_methods, RSU_BASES))


def _ran(rows: pd.DataFrame, scenario: str, methods) -> list[str]:
    """The `methods` that ran with and without RSU in `scenario`."""
    ran = set(rows[rows.scenario == scenario].run)
    return [m for m in methods if m in ran and f"{m}+rsu" in ran]


def tow_claim(results: Results, scenario: str) -> Claim:
    """Tables 5-6: RSU brings every method closer to retraining in `scenario` ('class':
    the gap to retraining reduces; 'random': RSU outperforms): ToW with RSU minus
    without, paired over seeds, above 0 for every method. In class forgetting a method
    whose runs both kept the class, or in random forgetting the forget set (neither with
    nor without RSU forgot it, `not_forgotten`), is not testable: two runs that changed
    nothing give a gain of about 0, which would read as "did not hold" on a method that
    did not do its job."""
    claim = "class_tow" if scenario == "class" else "random"
    claim_id = IMPROVES[claim][0]
    rows = results.rsu_runs

    parts = {m: tow_gain(rows, scenario, f"{m}+rsu", m)
             for m in _ran(rows, scenario, results.rsu_methods)}
    return _judge(claim_id, paper_improvement(claim), "ToW gain, with minus without RSU",
                  parts, note=_not_run(results.rsu_methods, RSU_BASES))


# Tables 5-6: per claim, its id, its scenario, the metrics the paper's cells are counted on
# and the paper's table (the class scenario twice: Acc_Dr and Acc_val, then ToW)
IMPROVES = {"class": ("rsu_improves_class", "class", ("retain", "val"), paper.TABLE5, 5),
            "class_tow": ("rsu_closer_to_retrain_class", "class", ("tow",), paper.TABLE5, 5),
            "random": ("rsu_improves_random", "random", ("tow",), paper.TABLE6, 6)}


def paper_improvement(claim: str) -> str:
    """How many of Table 5's (class) or 6's (random) cells of the claim's metrics are
    strictly higher with RSU than without."""
    _, _, metrics, table, number = IMPROVES[claim]
    pairs = {f"{dataset} {method} {LABELS[k]}": (cells["without"][k], cells["with"][k])
             for dataset, methods in table.items() for method, cells in methods.items()
             for k in metrics}
    counted = _count(*strict_order(pairs, True), "(dataset, method, metric) cells")
    return f"paper: Table {number}, higher with RSU in {counted}"


def _mean_paper_tow_gain(table: dict) -> float:
    return float(np.mean([cells["with"]["tow"] - cells["without"]["tow"]
                          for methods in table.values() for cells in methods.values()]))


def class_vs_random_claim(results: Results) -> Claim:
    """Tables 5-6: RSU's ToW gain, averaged over the methods, is larger in class than in
    random forgetting: per seed, the class gain minus the random gain, with its t
    interval over the seeds above 0. A method enters the mean only where its ToW gain is
    testable in both scenarios (`tow_gain`: one of its two runs forgot): a method that
    kept the forget set with and without RSU has a gain of about 0 there, which would
    make the other scenario's gain look larger; it is named instead, and with no method
    left the claim is not testable."""
    rows = results.rsu_runs
    methods = [m for m in _ran(rows, "class", results.rsu_methods)
               if m in _ran(rows, "random", results.rsu_methods)]
    theirs = (f"paper: mean ToW gain Table 5 {_mean_paper_tow_gain(paper.TABLE5):+.3f}, "
              f"Table 6 {_mean_paper_tow_gain(paper.TABLE6):+.3f}")
    if not methods:
        return _judge("rsu_gain_larger_for_class", theirs, "needs both scenarios", {})
    idle = {m: "; ".join(f"{scenario}: {reason}" for scenario in ("class", "random")
                         if (reason := tow_gain(rows, scenario, f"{m}+rsu", m).reason))
            for m in methods}
    left_out = [reason for reason in idle.values() if reason]
    methods = [m for m in methods if not idle[m]]
    if not methods:
        return _judge("rsu_gain_larger_for_class", theirs, "", {}, left_out)
    by_scenario = [pd.concat([seed_differences(rows, scenario, f"{m}+rsu", m, "tow")
                              for m in methods], axis=1).mean(axis=1)
                   for scenario in ("class", "random")]
    seeds = by_scenario[0].index.intersection(by_scenario[1].index)
    effect = paired_difference(by_scenario[0][seeds].to_numpy(),
                               by_scenario[1][seeds].to_numpy())
    note = f"left out, in neither run forgotten: {'; '.join(left_out)}" if left_out else ""
    return _judge("rsu_gain_larger_for_class", theirs,
                  f"mean ToW gain over {spoken_list(methods)}, class minus random",
                  {"": part(effect)}, note=note)


def tow_gain(rows: pd.DataFrame, scenario: str, run: str, baseline: str) -> Part:
    """ToW of `run` minus `baseline`'s, paired over seeds; not testable when neither run
    forgot (`not_forgotten`, in either scenario): two runs that both kept the forget set
    changed nothing, and their gain of about 0 would read as "did not hold"."""
    reasons = (not_forgotten(rows, baseline, scenario), not_forgotten(rows, run, scenario))
    if all(reasons):
        return Part(None, reason=" and ".join(reasons))
    return part(seed_gain(rows, scenario, run, baseline, "tow"))


def order_claim(results: Results, scenario: str = "class") -> Claim:
    """Figure 7: RSU's ToW is above both the original (one go) and the Reverse order's,
    each difference paired over seeds (the one go held to RSU's steps is shown, not judged:
    the paper has no such run; "significantly" is read as a 95% interval above 0)."""
    method, rows = results.ablation_method, results.rsu_runs
    theirs = (f"paper: Fig. 7 (a plot, no numbers), GA on {len(paper.DATASETS)} datasets")
    ran = set(rows[rows.scenario == scenario].run)
    labels = {"RSU minus original": (f"{method}+rsu", method),
              "RSU minus reverse": (f"{method}+rsu", f"{method} reverse")}
    parts = {name: tow_gain(rows, scenario, run, baseline)
             for name, (run, baseline) in labels.items() if {run, baseline} <= ran}
    if len(parts) < len(labels):
        parts = {}
    return _judge("rsu_beats_original_and_reverse", theirs, f"{method}, ToW", parts)


def reverse_claim(results: Results, scenario: str = "class") -> Claim:
    """Figure 7, "in some cases": the Reverse order's ToW is below the original's in at
    least one case; here there is one case (one dataset, one method, the class scenario),
    so the rule is that one difference, original minus reverse, paired over seeds."""
    method, rows = results.ablation_method, results.rsu_runs
    theirs = (f"paper: Fig. 7 (a plot, no numbers), GA on {len(paper.DATASETS)} datasets, "
              "'in some cases'")
    ran = set(rows[rows.scenario == scenario].run)
    parts = {} if not {method, f"{method} reverse"} <= ran else {
        "original minus reverse": tow_gain(rows, scenario, method, f"{method} reverse")}
    return _judge("reverse_can_be_worse", theirs, f"{method}, ToW, the one case", parts)


def strict_order(pairs: dict, higher: bool) -> tuple[list, list]:
    """(the labels of `pairs` whose (before, after) values are both known, those among
    them where `after` is not strictly higher (`higher`) or lower than `before`): for
    counting the paper's own printed cells, which carry no spread."""
    known = [label for label, values in pairs.items()
             if not any(v is None or np.isnan(v) for v in values)]
    failing = [label for label in known
               if not (pairs[label][1] > pairs[label][0] if higher
                       else pairs[label][1] < pairs[label][0])]
    return known, failing


def _count(known: list[str], failing: list[str], cells: str) -> str:
    """'n of m `cells`', and which of them fail."""
    text = f"{len(known) - len(failing)} of {len(known)} {cells}"
    return text + (f" (not {spoken_list(failing)})" if failing else "")


def _not_run(ran, expected) -> str:
    missing = [m for m in expected if m not in ran]
    return f"not run: {spoken_list(missing)}" if missing else ""


def paper_high_vs_low(risk: str, metric: str, higher: bool) -> str:
    """How many of Table 1's (risk 'mi') or 2's readable (dataset, method) cells show the
    claimed order of `metric` between the High and the Low set."""
    table = paper.TABLE1 if risk == "mi" else paper.TABLE2
    pairs = {f"{dataset} {method}": (cells["low"][metric], cells["high"][metric])
             for dataset, methods in table.items() for method, cells in methods.items()
             if method != "original"}
    word = "higher" if higher else "lower"
    low, high = (table["cifar100"]["retrain"][subset][metric] for subset in ("low", "high"))
    return (f"paper: Table {1 if risk == 'mi' else 2}, {LABELS[metric]} {word} on High in "
            f"{_count(*strict_order(pairs, higher), 'readable (dataset, method) cells')}; its "
            f"example, retrain on cifar100: {low * scale(metric):.2f} → "
            f"{high * scale(metric):.2f}")


def quoted() -> dict:
    """The values the chapter's prose quotes: Table 3's top and tail shares of a class,
    the confidence of every interval and the share of a class a method must forget."""
    return {"top_share": TOP_SHARE, "tail_share": 1 - TOP_SHARE,
            "confidence": evidence.CONFIDENCE, "class_forget_margin": CLASS_FORGET_MARGIN,
            "random_forget_share": RANDOM_FORGET_SHARE}
