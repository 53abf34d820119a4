"""Discriminative adversarial unlearning (Sharma et al.): the min-max method against the
baselines of its Table 1, dense and 95% sparse, its V_ss ablation (Table 2), its robustness
to the four metric attacks (Figure 2), the game's curve and the paper's claims.

`compare` unlearns the trained (dense) and the pruned (sparse) model of every seed with
every method in both settings and scores each unlearned model: UA, MIA-efficacy, RA and TA
(on the remaining classes' test samples in whole-class forgetting, as the papers score it;
the forgotten class's test accuracy is its own column), the run time, the MIA-efficacy of
each metric attack, and, in random forgetting, the held-out AUC of a fresh learned
attacker on D_f against D_v. The ablation is the adversarial method with beta = 0.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from .. import plots
from ..attacks.mia import (MIA_FEATURES, SENSITIVITY_SAMPLES, SENSITIVITY_SCALE, learned_attack,
                           mia_efficacy_from_predictions)
from ..claims import Claim, verdict
from ..data import ImageData
from ..errors import MAX_EPOCHS, check_budget
from ..metrics import (accuracy_on, average_disparity, scores_from_predictions,
                       subset_predictions)
from ..papers.adversarial import SETTINGS, TABLE1, TABLE2
from ..splits import Split, scored_split
from ..train import Recipe
from ..unlearn.adversarial import CLASS_ALPHA_ITERATIONS
from ..unlearn.adversarial import adversarial as adversarial_method
from ..zoo import plan, unlearned_models
from . import here_above_paper, named_numbers, spoken_list
from .baselines import SCORES, formatted, of_setting, summarize

DENSITIES = ("dense", "sparse")
ABLATION = "no_vss"  # the adversarial method with beta = 0 (Table 2)
METRIC_COLUMNS = tuple(f"MIA_{feature}" for feature in MIA_FEATURES)
EXTRA = ("TA_forgotten", "attacker_auc", *METRIC_COLUMNS)



def quoted() -> dict:
    """The values the chapter's prose quotes: the sensitivity's noise, the defender's
    momentum, when class-wise forgetting drops alpha, the paper's class-wise retrain TA and
    its attacker's pre-training."""
    return {"sensitivity_samples": SENSITIVITY_SAMPLES, "sensitivity_scale": SENSITIVITY_SCALE,
            "defender_momentum": inspect.signature(adversarial_method).parameters[
                "momentum"].default,
            "class_alpha_iterations": CLASS_ALPHA_ITERATIONS,
            "paper_class_retrain_ta": TABLE1["cifar10"]["class"]["dense"]["retrain"]["TA"],
            "paper_attacker_pretraining": SETTINGS["pretrain_iterations"]}

def forget_settings(random_fraction: float, forget_class: int, val_fraction: float,
                    train_size: int | None = None) -> dict:
    """Random forgetting and whole-class forgetting, each with a validation set D_v held out
    of the training split (the game's non-members, disjoint from the test set), and
    optionally a stratified training subset of `train_size` samples."""
    common = {"val_fraction": val_fraction, "train_size": train_size}
    return {"random": {"random_fraction": random_fraction, **common},
            "class": {"forget_classes": [forget_class], **common}}


def score(model, data: ImageData, split: Split, seed: int) -> dict:
    """UA, MIA-efficacy, RA, TA, the forgotten classes' test accuracy and each metric
    attack's MIA-efficacy (fractions) of one unlearned model."""
    scored, forgotten_test = scored_split(data, split)
    forget, retain, test = subset_predictions(model, data, scored)
    row = scores_from_predictions(forget, retain, test, seed=seed)
    row["TA_forgotten"] = accuracy_on(model, data, forgotten_test)
    for feature, column in zip(MIA_FEATURES, METRIC_COLUMNS):
        row[column] = mia_efficacy_from_predictions(retain, test, forget, feature=feature,
                                                    seed=seed)
    return row


def compare(data: ImageData, settings: dict, methods, seeds, *, architecture: str,
            recipe: Recipe, sparsity: float, sparse_recipe: Recipe, hyperparameters: dict,
            configuration_hyperparameters: dict, attack_epochs: int,
            ablation: bool = True) -> tuple[pd.DataFrame, dict]:
    """One row per (setting, density, seed, method), the ablation's rows named `ABLATION`,
    and the adversarial runs' curves by (setting, density, seed).

    Sparse retraining is `zoo.sparse_retrained`: the sparse pipeline on D_r alone."""
    rows, curves = [], {}
    for density in DENSITIES:
        for setting, spec in settings.items():
            variants = [(methods, {})]
            if ablation and setting == "random" and "adversarial" in methods:
                variants.append((["adversarial"], {"beta": 0.0}))
            for variant_methods, override in variants:
                chosen = merged_hyperparameters(hyperparameters, configuration_hyperparameters,
                                                setting, density, override)
                for _, seed, method, split, trained, model, meta in unlearned_models(
                        data, {setting: spec}, variant_methods, seeds,
                        architecture=architecture, recipe=recipe, hyperparameters=chosen,
                        sparsity=sparsity if density == "sparse" else 0.0,
                        sparse_recipe=sparse_recipe):
                    name = ABLATION if override else method
                    row = {"setting": setting, "density": density, "seed": seed,
                           "method": name, **score(model, data, split, seed),
                           "seconds": meta["seconds"], "attacker_auc": float("nan")}
                    if setting == "random" and name in ("retrain", "adversarial"):
                        row["attacker_auc"] = attacker_auc(model, data, split, seed,
                                                           attack_epochs)
                    if setting == "random" and name == "adversarial":
                        rows.append(trained_row(trained[0], data, split, seed, density,
                                                attack_epochs))
                    if name == "adversarial":
                        curves[(setting, density, seed)] = meta["curve"]
                    rows.append(row)
    return pd.DataFrame(rows), curves


def trained_row(model, data: ImageData, split: Split, seed: int, density: str,
                attack_epochs: int) -> dict:
    """The model before unlearning, scored like the others (method "trained")."""
    return {"setting": "random", "density": density, "seed": seed, "method": "trained",
            **score(model, data, split, seed), "seconds": 0.0,
            "attacker_auc": attacker_auc(model, data, split, seed, attack_epochs)}


EVALUATION_SEEDS = 10_000  # the evaluation attacker draws from its own stream, so it
# starts from other weights and noise than the game's attacker of the same seed


def attacker_auc(model, data: ImageData, split: Split, seed: int, epochs: int) -> float:
    """Held-out AUC of a fresh learned attacker on D_f (members) against D_v."""
    return learned_attack(model, data, split.forget, split.val, epochs=epochs,
                          seed=EVALUATION_SEEDS + seed)["auc"]


def merged_hyperparameters(hyperparameters: dict, per_configuration: dict, setting: str,
                           density: str, override: dict) -> dict:
    """The methods' settings for one configuration: `hyperparameters`, then those of
    `per_configuration["<setting>/<density>"]`, then `override` for the adversarial method."""
    merged = {method: dict(values) for method, values in hyperparameters.items()}
    for method, values in per_configuration.get(f"{setting}/{density}", {}).items():
        merged.setdefault(method, {}).update(values)
    if override:
        merged.setdefault("adversarial", {}).update(override)
    return merged


def check_requests(data: ImageData, settings: dict, methods, seeds, hyperparameters: dict,
                   configuration_hyperparameters: dict, *, attack_epochs: int) -> int:
    """Check every run of every configuration and the evaluation attacker's budget before any
    training (`zoo.plan` raises on the first bad request); return how many unlearning runs
    the chapter makes."""
    check_budget("attack_epochs", attack_epochs, MAX_EPOCHS)
    count = 0
    for density in DENSITIES:
        for setting, spec in settings.items():
            chosen = merged_hyperparameters(hyperparameters, configuration_hyperparameters,
                                            setting, density, {})
            count += len(plan(data, {setting: spec}, methods, seeds, chosen))
    return count


def summary_of(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per (setting, density, method), with average disparity."""
    return summarize(rows, by=("setting", "density"), extra=EXTRA)


def _paper_columns(rows: dict, columns=(*SCORES, "disparity")) -> pd.DataFrame:
    paper = pd.DataFrame(rows).T.reindex(columns=list(columns))
    paper.index = ["adversarial" if m == "ours" else m for m in paper.index]
    return paper


def table1(summary: pd.DataFrame, setting: str, density: str,
           paper_dataset: str = "cifar10") -> pd.DataFrame:
    """Table 1 for one setting and density: ours (mean ± std, %) beside the paper's."""
    ours = formatted(summary, (setting, density)).drop(index=[ABLATION, "trained"],
                                                       errors="ignore")
    if setting == "class":
        key = of_setting(summary, (setting, density))
        ours.insert(4, "TA forgotten class", [f"{100 * v:.2f}" for v in key["TA_forgotten_mean"]])
    return here_above_paper(ours, _paper_columns(TABLE1[paper_dataset][setting][density]))


def table2(summary: pd.DataFrame, paper_dataset: str = "cifar10") -> pd.DataFrame:
    """Table 2: the adversarial method with and without V_ss, random forgetting, beside the
    paper's rows, one block per density."""
    blocks = {}
    for density in DENSITIES:
        key = ("random", density)
        if key not in summary.index.droplevel("method"):
            continue
        ours = formatted(summary, key).reindex(["retrain", "adversarial", ABLATION]).dropna()
        paper = _paper_columns(TABLE2[paper_dataset][density]).rename(index={"no_vss": ABLATION})
        blocks[density] = here_above_paper(ours, paper.reindex(ours.index))
    return pd.concat(blocks, names=["density"]) if blocks else pd.DataFrame()


def robustness_figure(summary: pd.DataFrame, methods):
    """Figure 2: each method's MIA-efficacy (%) under the four metric attacks, one panel per
    setting and density (retraining is the target to match)."""
    panels = {}
    for (setting, density), table in summary.groupby(level=["setting", "density"], sort=False):
        table = table.droplevel(["setting", "density"]).reindex(
            [m for m in methods if m in table.index.get_level_values(-1)])
        panels[f"{setting}, {density}"] = {
            feature: 100 * table[f"{column}_mean"].values
            for feature, column in zip(MIA_FEATURES, METRIC_COLUMNS)}
    labels = [m for m in methods if m in summary.index.get_level_values("method")]
    return plots.bar_panels(panels, labels, ylabel="MIA-efficacy (%)", columns=2,
                            title="robustness to the metric attacks")


def curve_figure(curves: dict, window: int = 10):
    """The attacker's accuracy on its forget and validation batches during the game (a
    moving average over `window` iterations), one line per configuration of the first seed;
    0.5 is the equilibrium the paper aims at."""
    first = min(seed for _, _, seed in curves) if curves else 0
    series = {}
    for (setting, density, seed), curve in curves.items():
        if seed != first:
            continue
        accuracy_per_step = [(r["attacker_forget_accuracy"] + r["attacker_val_accuracy"]) / 2
                             for r in curve]
        series[f"{setting}, {density}"] = moving_average(accuracy_per_step, window)
    fig = plots.curves(series, xlabel="iteration", ylabel="attacker accuracy",
                       title="the attacker during the game")
    fig.axes[0].axhline(0.5, color="grey", linestyle="--", linewidth=1)
    return fig


def moving_average(values, window: int) -> np.ndarray:
    """Trailing mean over up to `window` values (shorter at the start)."""
    values = np.asarray(values, float)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(values) + 1) - counts]) / counts


# ---------------------------------------------------------------------------------------
# Claim rules. Each reads `summary_of`'s table (means over seeds); "all" means every
# configuration and method that ran, "higher" and "lower" strictly; "at least 5x faster"
# is "at most a fifth of the time" (the paper's conclusion; its run times give 6.2x-10.3x).

BASELINES = ("ft", "ga", "ff", "iu")


def _paper_configurations():
    """(dataset, setting, density, rows) of the paper's Table 1 where its own row is legible."""
    for dataset, settings in TABLE1.items():
        for setting, densities in settings.items():
            for density, rows in densities.items():
                if "ours" in rows:
                    yield dataset, setting, density, rows


def paper_lowest_disparity() -> str:
    """How many of the paper's configurations have its method strictly lowest in disparity."""
    checks = [all(rows["ours"]["disparity"] < rows[m]["disparity"] for m in BASELINES)
              for _, _, _, rows in _paper_configurations()]
    return f"paper Table 1: lowest in {sum(checks)} of its {len(checks)} legible configurations"


def paper_disparity_consistency(tolerance: float = 0.06) -> tuple[int, int]:
    """(rows whose printed average disparity is the mean of their four gaps to retraining,
    to rounding; rows with all four scores legible) in the paper's Table 1."""
    results = [abs(average_disparity(row, rows["retrain"]) - row["disparity"]) <= tolerance
               for settings in TABLE1.values() for densities in settings.values()
               for rows in densities.values() for method, row in rows.items()
               if method != "retrain" and all(row[k] is not None for k in SCORES)]
    return sum(results), len(results)


def paper_disparity_note() -> str:
    """A sentence on how far the paper's average-disparity column follows from its scores."""
    consistent, legible = paper_disparity_consistency()
    return (f"The paper's average disparity is the mean of the four gaps between a method's "
            f"scores and retraining's in {consistent} of its {legible} legible rows (to "
            f"rounding, retraining's own rows left out); in the others, almost all of them "
            f"CIFAR-100, the printed value differs from that mean. Ours is that mean for each "
            f"seed (against the retraining of the same seed), then averaged over the seeds.")


def paper_speedups() -> str:
    """The range of the paper's retrain-to-ours run-time ratios."""
    ratios = {(d, s): rows["retrain"]["minutes"] / rows["ours"]["minutes"]
              for d, s, _, rows in _paper_configurations()}
    return f"paper: {min(ratios.values()):.1f}x to {max(ratios.values()):.1f}x in its run times"


def paper_vss() -> str:
    """How many of Table 2's UA and MIA cells are strictly higher with V_ss."""
    checks = [rows["ours"][c] > rows["no_vss"][c] for densities in TABLE2.values()
              for rows in densities.values() for c in ("UA", "MIA")]
    return f"paper Table 2: higher in {sum(checks)} of its {len(checks)} cells"


def paper_flawless() -> str:
    rows = TABLE1["cifar10"]["class"]
    return "paper CIFAR-10: " + ", ".join(
        f"{density} UA {rows[density]['ours']['UA']:.2f}, MIA {rows[density]['ours']['MIA']:.2f}"
        for density in DENSITIES)


def _configurations(summary: pd.DataFrame, needed=("adversarial", "retrain")) -> list:
    found = []
    for key, table in summary.groupby(level=["setting", "density"], sort=False):
        ran = set(table.index.get_level_values("method"))
        if all(m in ran for m in needed):
            found.append(key)
    return found


def _value(summary, setting, density, method, column) -> float:
    return float(summary.loc[(setting, density, method), f"{column}_mean"])


def lowest_disparity(summary: pd.DataFrame) -> Claim:
    """In every configuration the adversarial method has a strictly lower average disparity
    than every baseline (FT, GA, FF, IU) that ran."""
    checks, notes = [], []
    for setting, density in _configurations(summary):
        ran = [m for m in BASELINES if (setting, density, m) in summary.index]
        if not ran:
            continue
        ours = _value(summary, setting, density, "adversarial", "disparity")
        best = min(ran, key=lambda m: _value(summary, setting, density, m, "disparity"))
        checks.append(all(ours < _value(summary, setting, density, m, "disparity") for m in ran))
        notes.append(f"{setting} {density}: ours {100 * ours:.2f}, best baseline {best} "
                     f"{100 * _value(summary, setting, density, best, 'disparity'):.2f}")
    return Claim("lowest_disparity_everywhere",
                 "The adversarial method is the closest to retraining (lowest average "
                 "disparity) in every configuration.",
                 paper_lowest_disparity(),
                 "here: " + ("; ".join(notes) or "needs retrain, adversarial and a baseline"),
                 verdict(all(checks) if checks else None))


def flawless_class_forgetting(summary: pd.DataFrame) -> Claim:
    """Whole-class forgetting: UA and MIA-efficacy of 100% for every seed, dense and sparse
    (a mean of exactly 1 with the std 0)."""
    found = [(s, d) for s, d in _configurations(summary, ("adversarial",)) if s == "class"]
    values = {d: (_value(summary, s, d, "adversarial", "UA"),
                  _value(summary, s, d, "adversarial", "MIA")) for s, d in found}
    held = all(ua == 1.0 and mia == 1.0 for ua, mia in values.values()) if values else None
    here = "; ".join(f"{d}: UA {100 * ua:.2f}, MIA-efficacy {100 * mia:.2f}"
                     for d, (ua, mia) in values.items())
    return Claim("flawless_class_forgetting",
                 "Whole-class forgetting: the adversarial method reaches UA and MIA-efficacy "
                 "of 100%.",
                 paper_flawless(),
                 "here: " + (here or "needs the adversarial method in class forgetting"),
                 verdict(held))


def vss_raises_forgetting(summary: pd.DataFrame) -> Claim:
    """Random forgetting: with V_ss both UA and MIA-efficacy are strictly higher than
    without it, in every density that ran."""
    found = [(s, d) for s, d in _configurations(summary, ("adversarial", ABLATION))
             if s == "random"]
    checks, notes = [], []
    for setting, density in found:
        pairs = {c: (_value(summary, setting, density, "adversarial", c),
                     _value(summary, setting, density, ABLATION, c)) for c in ("UA", "MIA")}
        checks.append(all(with_vss > without for with_vss, without in pairs.values()))
        notes.append(f"{density}: " + ", ".join(f"{c} {100 * a:.2f} vs {100 * b:.2f}"
                                                for c, (a, b) in pairs.items()))
    return Claim("vss_raises_ua_and_mia",
                 "V_ss raises UA and MIA-efficacy (random forgetting, with vs without V_ss).",
                 paper_vss(),
                 "here: " + ("; ".join(notes) or "needs the ablation"),
                 verdict(all(checks) if checks else None))


def five_times_faster(summary: pd.DataFrame) -> Claim:
    """The adversarial method's mean run time is at most a fifth of retraining's, in every
    configuration (measured wall time: the verdict can change with the machine)."""
    checks, notes = [], []
    for setting, density in _configurations(summary):
        ours = _value(summary, setting, density, "adversarial", "seconds")
        retrain = _value(summary, setting, density, "retrain", "seconds")
        checks.append(5 * ours <= retrain)
        notes.append(f"{setting} {density}: {retrain / ours:.1f}x")
    return Claim("five_times_faster_than_retrain",
                 "The adversarial method runs at least 5x faster than retraining.",
                 paper_speedups(),
                 "here, retrain time / ours: " + ("; ".join(notes) or "needs both"),
                 verdict(all(checks) if checks else None))


def closest_under_metric_attacks(summary: pd.DataFrame) -> Claim:
    """Under each metric attack, in every configuration, no baseline that ran is strictly
    closer to retraining's MIA-efficacy than the adversarial method (a tie counts as
    closest: in whole-class forgetting several methods often reach retraining's 100%)."""
    checks, misses = [], []
    for setting, density in _configurations(summary):
        ran = [m for m in BASELINES if (setting, density, m) in summary.index]
        for column in METRIC_COLUMNS:
            target = _value(summary, setting, density, "retrain", column)
            gap = lambda m: abs(_value(summary, setting, density, m, column) - target)  # noqa: E731,B023
            ok = all(gap("adversarial") <= gap(m) for m in ran)
            checks.append(ok)
            if not ok:
                misses.append(f"{setting} {density} {column.removeprefix('MIA_')}")
    held = all(checks) if checks else None
    here = (f"closest in {sum(checks)} of {len(checks)} (configuration, attack) pairs"
            + (f"; not in: {spoken_list(misses)}" if misses else "")) if checks else \
        "needs retrain, adversarial and a baseline"
    return Claim("closest_under_metric_attacks",
                 "The method generalises to independently trained metric attackers: under "
                 "each of them it is the closest to retraining.",
                 "paper Figure 2 and Section 4.4 (qualitative)", "here: " + here,
                 verdict(held))


def attacker_driven_to_chance(summary: pd.DataFrame) -> Claim:
    """Random forgetting: a fresh learned attacker's held-out AUC on D_f vs D_v is strictly
    closer to 0.5 after adversarial unlearning than on the trained model, in every density."""
    checks, notes = [], []
    for setting, density in _configurations(summary, ("adversarial", "trained")):
        before = _value(summary, setting, density, "trained", "attacker_auc")
        after = _value(summary, setting, density, "adversarial", "attacker_auc")
        checks.append(abs(after - 0.5) < abs(before - 0.5))
        notes.append(f"{density}: AUC {before:.3f} trained, {after:.3f} unlearned")
    return Claim("attacker_driven_to_chance",
                 "The game drives the attacker towards chance on D_f vs D_v (the paper's "
                 "equilibrium: predictions of 0.5).",
                 "paper Section 3 (stated aim, no number)",
                 "here: " + ("; ".join(notes) or "needs the adversarial method in random "
                                                 "forgetting"),
                 verdict(all(checks) if checks else None))


def claims(summary: pd.DataFrame) -> list[Claim]:
    """Every claim of the chapter, in its order (the same ids whatever ran)."""
    return [lowest_disparity(summary), flawless_class_forgetting(summary),
            vss_raises_forgetting(summary), five_times_faster(summary),
            closest_under_metric_attacks(summary), attacker_driven_to_chance(summary)]


def headline(results: dict) -> dict[str, float]:
    """The chapter's headline numbers (what a sweep gathers): every method's mean scores
    and average disparity, per forgetting setting and density."""
    return named_numbers(results["summary"], ("setting", "density", "method"),
                         ("UA_mean", "RA_mean", "TA_mean", "MIA_mean", "disparity_mean",
                          "attacker_auc_mean"))
