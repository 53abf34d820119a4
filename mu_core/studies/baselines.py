"""Every unlearning method over forgetting settings and seeds, scored against retraining.

`compare_methods` returns one row per (setting, seed, method) with UA, MIA-efficacy, RA,
TA, the method's run time and the forget accuracy per forget class; `summarize` adds the
average disparity to retraining of the same seed and reduces the seeds to mean and std.
Trained and unlearned models go through the cache, so a rerun only evaluates.
"""

from __future__ import annotations

import pandas as pd
import torch

from ..data import ImageData
from ..metrics import (average_disparity, per_class_accuracy, scores_from_predictions,
                       subset_predictions)
from ..train import Recipe
from ..zoo import unlearned_models

SCORES = ("UA", "MIA", "RA", "TA")


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
        forget, retain, test = subset_predictions(model, data, split)
        rows.append({"setting": setting, "seed": seed, "method": method,
                     **scores_from_predictions(forget, retain, test, seed=seed),
                     "seconds": meta["seconds"],
                     "forget_class_accuracy": _forget_class_accuracy(*forget, data.num_classes)})
    return pd.DataFrame(rows)


def _forget_class_accuracy(probs, labels, num_classes: int) -> dict[int, float]:
    per_class = per_class_accuracy(probs.argmax(1), labels, num_classes)
    return {int(c): per_class[c].item() for c in torch.unique(labels)}


def forget_class_table(rows: pd.DataFrame, setting: str) -> pd.DataFrame:
    """Mean over seeds of each method's forget accuracy per forget class (methods x classes)."""
    chosen = rows[rows.setting == setting]
    table = pd.DataFrame(list(chosen.forget_class_accuracy), index=chosen.method)
    table.columns = [f"class {c}" for c in table.columns]
    return table.groupby(level=0, sort=False).mean()


def with_disparity(rows: pd.DataFrame) -> pd.DataFrame:
    """Each row's average disparity (over UA, MIA, RA, TA) to retraining of the same setting
    and seed; NaN where no retraining ran."""
    retrain = rows[rows.method == "retrain"].set_index(["setting", "seed"])
    def disparity(row):
        key = (row.setting, row.seed)
        if key not in retrain.index:
            return float("nan")
        return average_disparity(row[list(SCORES)], retrain.loc[key, list(SCORES)])
    return rows.assign(disparity=rows.apply(disparity, axis=1))


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds of each score, per setting and method, in
    the methods' order of appearance."""
    rows = with_disparity(rows)
    columns = [*SCORES, "disparity", "seconds"]
    grouped = rows.groupby(["setting", "method"], sort=False)[columns]
    return pd.concat([grouped.mean().add_suffix("_mean"), grouped.std(ddof=0).add_suffix("_std")],
                     axis=1)


def formatted(summary: pd.DataFrame, setting: str, *, percent: bool = True) -> pd.DataFrame:
    """One setting's summary as 'mean ± std' strings (scores in percent, like the papers)."""
    table = summary.loc[setting]
    out = pd.DataFrame(index=table.index)
    for column in [*SCORES, "disparity"]:
        scale = 100 if percent else 1
        out[column] = [f"{m * scale:.2f} ± {s * scale:.2f}" for m, s in
                       zip(table[f"{column}_mean"], table[f"{column}_std"])]
    out["run time (s)"] = [f"{m:.1f}" for m in table["seconds_mean"]]
    return out
