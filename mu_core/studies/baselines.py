"""Every unlearning method over forgetting settings and seeds, scored against retraining.

`compare_methods` returns one row per (setting, seed, method) with UA, MIA-efficacy, RA,
TA, the forgotten class's test accuracy (whole-class forgetting, where TA and the MIA's
non-members are the remaining classes' test samples, as the papers score them), the
method's run time and the forget accuracy per forget class; `summarize` adds the
average disparity to retraining of the same seed and reduces the seeds to mean and std.
Trained and unlearned models go through the cache, so a rerun only evaluates. The tables
set the summary beside the adversarial-unlearning paper's Table 1, and the claim rules
check that paper's observations on these baselines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import plots
from ..claims import Claim, verdict
from ..data import ImageData
from ..metrics import (accuracy_by_class, accuracy_on, average_disparity,
                       scores_from_predictions, subset_predictions)
from ..papers.adversarial import FF_GAP_POINTS, TABLE1_CIFAR10
from ..splits import Split, scored_split
from ..train import Recipe
from ..unlearn import METHODS
from ..zoo import unlearned_models
from . import here_above_paper, mean_by_method, mean_std, named_numbers

SCORES = ("UA", "MIA", "RA", "TA")
FORGOTTEN_TA = "TA_forgotten"  # the forgotten classes' test accuracy (whole-class forgetting)


def forget_settings(forget_classes, forget_fraction: float, random_fraction: float,
                    whole_classes) -> dict[str, dict]:
    """The three forgetting settings of the baselines chapter, as `make_split` arguments."""
    return {"classwise": {"forget_classes": list(forget_classes), "forget_fraction": forget_fraction},
            "random": {"random_fraction": random_fraction},
            "class": {"forget_classes": list(whole_classes), "forget_fraction": 1.0}}


def compare_methods(data: ImageData, settings: dict[str, dict], methods, seeds, *,
                    architecture: str, recipe: Recipe, hyperparameters: dict | None = None,
                    architecture_options: dict | None = None) -> pd.DataFrame:
    """Unlearn the trained model of each seed with every method in every setting and score
    each unlearned model (one row per run)."""
    rows = []
    for setting, seed, method, split, _, model, meta in unlearned_models(
            data, settings, methods, seeds, architecture=architecture, recipe=recipe,
            hyperparameters=hyperparameters, architecture_options=architecture_options):
        rows.append({"setting": setting, "seed": seed, "method": method,
                     **score(model, data, split, seed), "seconds": meta["seconds"]})
    return pd.DataFrame(rows)


def score(model, data: ImageData, split: Split, seed: int) -> dict:
    """UA, MIA-efficacy, RA, TA, the forgotten classes' test accuracy (NaN unless whole
    classes are forgotten) and the forget accuracy per forget class of one model.

    In whole-class forgetting TA and the MIA's non-member shadow set are the test samples of
    the remaining classes (`splits.scored_split`)."""
    scored, forgotten_test = scored_split(data, split)
    forget, retain, test = subset_predictions(model, data, scored)
    forget_probs, forget_labels = forget
    return {**scores_from_predictions(forget, retain, test, seed=seed),
            FORGOTTEN_TA: accuracy_on(model, data, forgotten_test),
            "forget_class_accuracy": accuracy_by_class(forget_probs.argmax(1), forget_labels,
                                                       data.num_classes)}


def forget_class_table(rows: pd.DataFrame, setting: str) -> pd.DataFrame:
    """Mean over seeds of each method's forget accuracy per forget class (methods x classes)."""
    chosen = rows[rows.setting == setting]
    table = mean_by_method(chosen.forget_class_accuracy, chosen.method)
    table.columns = [f"class {c}" for c in table.columns]
    return table


def with_disparity(rows: pd.DataFrame, by=("setting",)) -> pd.DataFrame:
    """Each row's average disparity (over UA, MIA, RA, TA) to retraining of the same
    configuration (the columns `by`, e.g. the setting) and seed; NaN where no retraining ran."""
    keys = [*by, "seed"]
    retrain = rows[rows.method == "retrain"].set_index(keys)

    def disparity(row):
        key = tuple(row[k] for k in keys)
        if key not in retrain.index:
            return float("nan")
        return average_disparity(row[list(SCORES)], retrain.loc[key, list(SCORES)])
    return rows.assign(disparity=rows.apply(disparity, axis=1))


def summarize(rows: pd.DataFrame, by=("setting",), extra=(FORGOTTEN_TA,)) -> pd.DataFrame:
    """Mean and standard deviation over seeds of each score (and the `extra` columns), per
    configuration (`by`) and method, in the methods' order of appearance."""
    rows = with_disparity(rows, by)
    columns = [*SCORES, "disparity", "seconds", *extra]
    grouped = rows.groupby([*by, "method"], sort=False)[columns]
    return pd.concat([grouped.mean().add_suffix("_mean"), grouped.std(ddof=0).add_suffix("_std")],
                     axis=1)


def of_setting(summary: pd.DataFrame, setting) -> pd.DataFrame:
    """The rows of a summary under `setting`, a key of its first index level or a tuple of
    keys of its first levels, without those levels (a boolean mask: the summary keeps the
    methods' order, so it is not sorted, and `.loc` on it warns)."""
    key = setting if isinstance(setting, tuple) else (setting,)
    mask = np.logical_and.reduce([summary.index.get_level_values(level) == value
                                  for level, value in enumerate(key)])
    return summary[mask].droplevel(list(range(len(key))))


def formatted(summary: pd.DataFrame, setting: str) -> pd.DataFrame:
    """One setting's summary as 'mean ± std' strings (scores in percent, like the papers)."""
    table = of_setting(summary, setting)
    out = pd.DataFrame(index=table.index)
    for column in [*SCORES, "disparity"]:
        out[column] = mean_std(table[f"{column}_mean"], table[f"{column}_std"], 2, scale=100)
    out["run time (s)"] = [f"{m:.1f}" for m in table["seconds_mean"]]
    return out


def beside_paper(summary: pd.DataFrame, setting: str) -> pd.DataFrame:
    """One setting's `formatted` summary with the paper's CIFAR-10 Table 1 row under each
    method (`here_above_paper`)."""
    paper = pd.DataFrame(TABLE1_CIFAR10[setting]).T[[*SCORES, "disparity"]]
    ours = formatted(summary, setting)
    if setting == "class":  # TA reads the remaining classes; the forgotten one has its own
        table = of_setting(summary, setting)
        ours.insert(ours.columns.get_loc("TA") + 1, "TA forgotten class",
                    mean_std(table[f"{FORGOTTEN_TA}_mean"], table[f"{FORGOTTEN_TA}_std"], 2,
                             scale=100))
    return here_above_paper(ours, paper)


def summary_rows(summary: pd.DataFrame, setting: str) -> list[dict]:
    """One setting's summary as one record per method (the results file's form)."""
    table = of_setting(summary, setting)
    return [{"method": m, **{c: table.loc[m, c] for c in table.columns}} for m in table.index]


def disparity_figure(summary: pd.DataFrame, methods):
    """Bars of each method's mean average disparity (%) in each setting; a method not run
    in a setting gets a zero bar."""
    disparity = summary["disparity_mean"].unstack("setting").reindex(methods)
    return plots.grouped_bars({s: disparity[s].fillna(0) * 100 for s in disparity.columns},
                              list(disparity.index), ylabel="average disparity (%)",
                              title="distance to retraining")


def forget_accuracy_figure(per_class: pd.DataFrame):
    """Bars of each method's forget accuracy per forget class (a `forget_class_table`)."""
    return plots.grouped_bars({m: per_class.loc[m] for m in per_class.index},
                              list(per_class.columns), ylabel="forget accuracy",
                              title="forget accuracy per forget class")


# How each method follows its reference implementation (issue 15, item 2): the methods, the
# one whose defaults fill "our choice", what the reference does, our choice, and why.
REFERENCE_CHOICES = (
    ("ga", "ga", "Unlearn-Sparse: SGD with momentum 0.9 and weight decay 5e-4",
     "SGD, momentum {momentum}, weight decay {weight_decay}",
     "aligned; momentum=0.0, weight_decay=0.0 give the former plain SGD"),
    ("ft, rl, l1_sparse, wp, salun, bu", "ft", "Unlearn-Sparse, SalUn: a constant rate "
     "over the few unlearning epochs (their step milestones lie beyond them)",
     "{schedule} rate", "aligned; schedule='cosine' gives the former decay (retrain keeps "
     "the trained model's recipe)"),
    ("l1_sparse", "l1_sparse", "Unlearn-Sparse: penalty alpha (1 - epoch / epochs), constant within an "
     "epoch, with weight decay 5e-4", "decay per epoch, weight decay {weight_decay}",
     "aligned"),
    ("wp", "wp", "Unlearn-Sparse: OMP prunes the convolutions only", "layers={layers!r}",
     "aligned; layers='conv_linear' also prunes linear layers (needed without convolutions)"),
    ("rl", "rl", "Unlearn-Sparse: forget labels redrawn uniformly over all classes every "
     "epoch (so they may be the true one), forget and retain shuffled together",
     "labels={labels!r}: drawn anew each time a forget sample is trained on",
     "aligned (a sample comes once an epoch); labels='fixed_wrong' gives the former wrong "
     "label per sample, drawn once"),
    ("salun", "salun", "Unlearn-Saliency: RL's labels (drawn uniformly over all classes anew, "
     "so they may be the true one) on the weights of the half with the largest forget-loss "
     "gradient; the others held at their values",
     "labels={labels!r}, mask_fraction {mask_fraction}, the others held",
     "aligned (forget and retain shuffled together, as its CIFAR-100 branch; its CIFAR-10 "
     "branch runs an epoch's forget batches first); labels='fixed_wrong' gives the former "
     "wrong label per sample, drawn once"),
    ("bu", "bu", "Boundary-Unlearning-Code, SalUn: each batch labelled by the class the "
     "frozen original model gives its FGSM neighbour (bound 0.1, 8-bit pixels), even the "
     "true one",
     "labels={labels!r}, bound {bound}, recomputed per batch",
     "aligned; labels='wrong_neighbour' gives the former forced wrong label"),
    ("ff", "ff", "Unlearn-Sparse's fisher_new: the Fisher from squared batch-mean gradients "
     "(batches of 32, each class weighted by its batch-mean probability) of every retain "
     "sample; whole-class forgetting restarts the forgotten class's head row at zero",
     "fisher={fisher!r}, batches of {batch_size}, zero_forgotten_rows={zero_forgotten_rows}, "
     "{max_samples} retain samples", "aligned (the paper presets take every retain "
     "sample); fisher='per_sample', zero_forgotten_rows=False give the former exact Fisher "
     "(alpha does not transfer: on the mnist5k CNN the batch-mean Fisher is about 4x the "
     "exact one, so the same alpha adds less noise)"),
    ("iu", "iu", "Unlearn-Sparse's Wfisher: alpha times a WoodFisher inverse (a rank-one "
     "recursion from the identity over the batch-mean gradients of retain batches of 32) on "
     "the forget set's mean gradient, alpha tuned per setting",
     "alpha {alpha} x (damping {damping} I + F)^-1 (forget gradients summed, plus their "
     "weight-decay term) / retain size, F from {max_samples} per-sample retain gradients "
     "({fisher}), solved exactly",
     "a deliberate difference: the Newton step of Koh & Liang and Izzo et al. as derived, so "
     "alpha=1 needs no tuning; the reference's step is retain size / forget size (about 9 "
     "here) times longer before its alpha, so our IU moves less, most of all when a whole "
     "class goes"),
    ("bad_teacher", "bad_teacher", "bad-teaching-unlearning: Adam, lr 1e-4, one epoch of "
     "batches of 256, KL at temperature 1, a random 30% of the retain set",
     "Adam, lr {lr}, {epochs} epoch(s) of batches of {batch_size}, {retain_fraction:.0%} of "
     "the retain set",
     "aligned; lr=5e-4, batch_size=128 give the former run (its AdamW without weight decay "
     "is Adam)"),
)


def reference_table() -> pd.DataFrame:
    """REFERENCE_CHOICES as a table, "our choice" filled from the registered defaults."""
    return pd.DataFrame(
        [{"method": methods, "reference": reference,
          "our choice": ours.format(**METHODS[defaults_of].hyperparameters()), "why": why}
         for methods, defaults_of, reference, ours, why in REFERENCE_CHOICES]
    ).set_index("method")


# The adversarial-unlearning paper's observations on these baselines (its Table 1). Each
# rule reads `summarize`'s table; a claim whose methods were not run is "not testable here".

def _mean(summary: pd.DataFrame, setting: str, method: str, score: str) -> float:
    key = (setting, method)
    return summary.loc[key, f"{score}_mean"] if key in summary.index else float("nan")


def _run_in(summary: pd.DataFrame, setting: str) -> list[str]:
    """The methods run in a setting, in the summary's order (that of `methods`)."""
    if setting not in summary.index.get_level_values("setting"):
        return []
    return list(of_setting(summary, setting).index)


# The baselines of Table 1 (the paper's comparison methods besides retraining) and the
# methods whose run times Table 1 lists.
PAPER_BASELINES = ("ft", "ga", "ff", "iu")
PAPER_METHODS = ("retrain", *PAPER_BASELINES)


def _all_ran(summary: pd.DataFrame, setting: str, methods) -> bool:
    """Every one of `methods` ran in `setting` (a claim about all of them needs all)."""
    ran = _run_in(summary, setting)
    return all(m in ran for m in methods)


def _percent(summary: pd.DataFrame, setting: str, methods, score: str) -> str:
    return ", ".join(f"{m} {100 * _mean(summary, setting, m, score):.2f}" for m in methods)


def _paper(setting: str, methods, score: str) -> str:
    return ", ".join(f"{m} {TABLE1_CIFAR10[setting][m][score]:.2f}" for m in methods)


def random_baselines_forget_less(summary: pd.DataFrame) -> Claim:
    """Random forgetting: each of FT, GA and IU has a strictly lower mean UA than retraining
    (FF's paper UA is above retraining's, so it is not part of the claim). Needs retrain,
    FT, GA and IU: all of them, or the claim is not testable."""
    methods = ("retrain", "ft", "ga", "iu")
    if _all_ran(summary, "random", methods):
        retrain = _mean(summary, "random", "retrain", "UA")
        held = all(_mean(summary, "random", m, "UA") < retrain for m in methods[1:])
        here = "here UA: " + _percent(summary, "random", methods, "UA")
    else:
        held, here = None, "here: needs retrain, ft, ga and iu in `methods`"
    return Claim("random_baselines_forget_less_than_retrain",
                 "Random forgetting: FT, GA and IU each forget less than retraining (a lower "
                 "UA).", "paper UA: " + _paper("random", methods, "UA"), here, verdict(held))


def random_baselines_mia_below_retrain(summary: pd.DataFrame) -> Claim:
    """Random forgetting: each of FT, GA, FF and IU has a strictly lower mean MIA-efficacy
    than retraining (Section 4.3: the baselines are ineffective at forgetting). Needs all
    five methods."""
    methods = PAPER_METHODS
    if _all_ran(summary, "random", methods):
        retrain = _mean(summary, "random", "retrain", "MIA")
        held = all(_mean(summary, "random", m, "MIA") < retrain for m in PAPER_BASELINES)
        here = "here MIA-efficacy: " + _percent(summary, "random", methods, "MIA")
    else:
        held, here = None, "here: needs retrain, ft, ga, ff and iu in `methods`"
    return Claim("random_baselines_mia_below_retrain",
                 "Random forgetting: FT, GA, FF and IU each have a lower MIA-efficacy than "
                 "retraining (they are ineffective at forgetting).",
                 "paper MIA-efficacy: " + _paper("random", methods, "MIA"), here, verdict(held))


def random_ff_utility_gap(summary: pd.DataFrame) -> Claim:
    """Random forgetting: FF's mean RA and mean TA are each more than FF_GAP_POINTS
    percentage points below retraining's (Section 4.3). Needs retrain and FF."""
    methods = ("retrain", "ff")
    paper = TABLE1_CIFAR10["random"]
    paper_gaps = [paper["retrain"][s] - paper["ff"][s] for s in ("RA", "TA")]
    if _all_ran(summary, "random", methods):
        gaps = [100 * (_mean(summary, "random", "retrain", s) - _mean(summary, "random", "ff", s))
                for s in ("RA", "TA")]
        held = all(round(gap, 9) > FF_GAP_POINTS for gap in gaps)  # 1.0 - 0.95 is 5.000...04
        here = f"here: retrain - ff = RA {gaps[0]:.2f}, TA {gaps[1]:.2f} points"
    else:
        held, here = None, "here: needs retrain and ff in `methods`"
    return Claim("random_ff_utility_gap",
                 f"Random forgetting: FF's RA and TA each fall more than {FF_GAP_POINTS:g} "
                 "points below retraining's.",
                 f"paper: retrain - ff = RA {paper_gaps[0]:.2f}, TA {paper_gaps[1]:.2f} points",
                 here, verdict(held))


def class_ft_farthest_from_retrain(summary: pd.DataFrame) -> Claim:
    """Whole-class forgetting: FT's mean average disparity is strictly larger than each of
    GA's, FF's and IU's. Needs retrain, FT, GA, FF and IU."""
    if _all_ran(summary, "class", PAPER_METHODS):
        ft = _mean(summary, "class", "ft", "disparity")
        held = all(ft > _mean(summary, "class", m, "disparity") for m in ("ga", "ff", "iu"))
        farthest = max(PAPER_BASELINES, key=lambda m: _mean(summary, "class", m, "disparity"))
        here = (f"here: farthest is {farthest}; disparity "
                + _percent(summary, "class", PAPER_BASELINES, "disparity"))
    else:
        held, here = None, "here: needs retrain, ft, ga, ff and iu in `methods`"
    return Claim("class_ft_farthest_from_retrain",
                 "Whole-class forgetting: FT is the farthest from retraining of FT, GA, FF "
                 "and IU (the largest average disparity).",
                 "paper disparity: " + _paper("class", PAPER_BASELINES, "disparity"), here,
                 verdict(held))


RUN_TIME_SETTINGS = ("random", "class")  # Table 1 lists run times in both


def _run_time_claim(summary: pd.DataFrame, claim_id: str, claim: str, holds) -> Claim:
    """A claim on Table 1's run times, in random and in whole-class forgetting: held when
    `holds(seconds)` is true in both settings, where `seconds(method)` is the method's mean
    run time in that setting. Measured wall time, so the verdict can change with the machine
    and its load. Needs retrain, FT, GA, FF and IU in both settings."""
    if all(_all_ran(summary, s, PAPER_METHODS) for s in RUN_TIME_SETTINGS):
        held = all(holds(lambda m, s=s: _mean(summary, s, m, "seconds"))
                   for s in RUN_TIME_SETTINGS)
        here = "here (s, measured, varies with the machine): " + "; ".join(
            f"{s} " + _seconds(summary, s) for s in RUN_TIME_SETTINGS)
    else:
        held, here = None, "here: needs retrain, ft, ga, ff and iu in `methods`"
    paper = "paper (min): " + "; ".join(f"{s} " + _paper(s, PAPER_METHODS, "minutes")
                                        for s in RUN_TIME_SETTINGS)
    return Claim(claim_id, claim, paper, here, verdict(held))


def _seconds(summary: pd.DataFrame, setting: str) -> str:
    return ", ".join(f"{m} {_mean(summary, setting, m, 'seconds'):.2f}" for m in PAPER_METHODS)


def ga_fastest(summary: pd.DataFrame) -> Claim:
    """GA's mean run time is strictly shorter than each of retrain's, FT's, FF's and IU's
    (the methods of Table 1; others run here are not part of the claim), in random and in
    whole-class forgetting."""
    return _run_time_claim(
        summary, "ga_fastest", "GA is the fastest of retrain, FT, GA, FF and IU, in random "
        "and in whole-class forgetting.",
        lambda seconds: all(seconds("ga") < seconds(m) for m in PAPER_METHODS if m != "ga"))


def baselines_faster_than_retrain(summary: pd.DataFrame) -> Claim:
    """Each of FT, GA, FF and IU has a strictly shorter mean run time than retraining
    (Table 1's run times; Section 4.1's efficiency criterion), in random and in whole-class
    forgetting."""
    return _run_time_claim(
        summary, "baselines_faster_than_retrain", "FT, GA, FF and IU each run faster than "
        "retraining, in random and in whole-class forgetting.",
        lambda seconds: all(seconds(m) < seconds("retrain") for m in PAPER_BASELINES))


def claims(summary: pd.DataFrame) -> list[Claim]:
    """Every claim of the baselines chapter, in its order (the same ids whatever ran)."""
    return [random_baselines_forget_less(summary), random_baselines_mia_below_retrain(summary),
            random_ff_utility_gap(summary), class_ft_farthest_from_retrain(summary),
            ga_fastest(summary), baselines_faster_than_retrain(summary)]


def headline(results: dict) -> dict[str, float]:
    """The chapter's headline numbers (what a sweep gathers): every method's mean UA, RA,
    TA, MIA-efficacy and average disparity in every forgetting setting, and in whole-class
    forgetting its mean test accuracy on the forgotten class."""
    numbers = named_numbers(
        [{**row, "setting": setting} for setting, rows in results["settings"].items()
         for row in rows], ("setting", "method"),
        ("UA_mean", "RA_mean", "TA_mean", "MIA_mean", "disparity_mean"))
    whole_class = [{**row, "setting": "class"} for row in results["settings"].get("class", [])
                   if f"{FORGOTTEN_TA}_mean" in row]
    return numbers | named_numbers(whole_class, ("setting", "method"), (f"{FORGOTTEN_TA}_mean",))
