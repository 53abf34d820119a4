"""Recall attacks against the toolkit's unlearned models, scored on `test` and `forget`.

`recall_study` unlearns the trained model of each seed with each method (through the
cache, shared with the baselines chapter), runs each named attack on every unlearned
model and returns one row per (seed, method, attack) with the accuracies of the unlearned
model (ULM) and the recalled model (RCM), per forget class and as confusion rows.
"""

from __future__ import annotations

import time

import pandas as pd
import torch

from .. import models
from ..attacks.mra import MRAConfig, membership_recall
from ..zoo import unlearned_models
from ..data import ImageData
from ..errors import ConfigError
from ..metrics import accuracy, confusion_matrix, per_class_accuracy
from ..splits import Split
from ..train import Recipe, predict

STUDENT_SEED_OFFSET = 10_000  # the attacker's student never shares the trained model's init


def recall_scores(model, data: ImageData, split: Split) -> dict:
    """Accuracy on test and forget, per forget class, and the row-normalised confusion of
    the forget set (rows: the forget classes; columns: every class)."""
    test_pred = predict(model, data, split.test, output="logits").argmax(1)
    forget_pred = predict(model, data, split.forget, output="logits").argmax(1)
    forget_labels = data.targets(split.forget).cpu()
    classes = sorted(torch.unique(forget_labels).tolist())
    per_class = per_class_accuracy(forget_pred, forget_labels, data.num_classes)
    confusion = confusion_matrix(forget_pred, forget_labels, data.num_classes, normalize=True)
    return {"test": accuracy(test_pred, data.targets(split.test)),
            "forget": accuracy(forget_pred, forget_labels),
            "forget_per_class": {c: per_class[c].item() for c in classes},
            "forget_confusion": confusion[classes]}


def check_attacks(attacks: dict[str, dict], data: ImageData) -> dict[str, tuple]:
    """Each attack as (MRAConfig, student architecture, its options), checked up front.

    An attack is a dict of `MRAConfig` fields plus optional `student` (an architecture name,
    default "cnn") and `student_options`.
    """
    checked = {}
    for name, spec in attacks.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"attack {name!r} must be a dict of MRA settings, got "
                              f"{type(spec).__name__}.")
        spec = dict(spec)
        student, options = spec.pop("student", "cnn"), spec.pop("student_options", {})
        unknown = sorted(set(spec) - set(MRAConfig.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"attack {name!r} has unknown settings {unknown}; accepted: "
                              f"student, student_options, "
                              f"{', '.join(MRAConfig.__dataclass_fields__)}.")
        models.create_for(student, data, **options)  # fails early on a bad architecture
        checked[name] = (MRAConfig(**spec), student, options)
    return checked


def recall_study(data: ImageData, split_spec: dict, methods, seeds, attacks: dict[str, dict], *,
                 architecture: str, recipe: Recipe, hyperparameters: dict | None = None,
                 restrict: dict[str, dict] | None = None) -> tuple[pd.DataFrame, dict]:
    """Run every attack on every (seed, method) unlearned model.

    `restrict[attack]` may limit an attack to some `methods` and `seeds` (the ablation runs
    on four methods, for example).
    Returns (rows, trained) with `trained` the scores of each seed's trained model.
    """
    attacks = check_attacks(attacks, data)
    restrict = restrict or {}
    unknown = sorted(set(restrict) - set(attacks))
    if unknown:
        raise ConfigError(f"restrict names attacks {unknown} that are not run; attacks: "
                          f"{', '.join(attacks)}.")
    rows, trained_scores = [], {}
    for _, seed, method, split, trained, unlearned, _ in unlearned_models(
            data, {"recall": split_spec}, methods, seeds, architecture=architecture,
            recipe=recipe, hyperparameters=hyperparameters):
        if seed not in trained_scores:
            trained_scores[seed] = recall_scores(trained[0], data, split)
        ulm = recall_scores(unlearned, data, split)
        prediction = torch.cat([split.test, split.forget])  # X_p = test ∪ forget
        for name, (config, student_arch, options) in attacks.items():
            limits = restrict.get(name, {})
            if method not in limits.get("methods", [method]) or \
                    seed not in limits.get("seeds", [seed]):
                continue
            student = models.create_for(student_arch, data, seed=seed + STUDENT_SEED_OFFSET,
                                        **options)
            start = time.perf_counter()
            result = membership_recall(unlearned, data, prediction, student, config, seed=seed)
            rows.append({"seed": seed, "method": method, "attack": name,
                         "components": config.components, "student": student_arch,
                         "seconds": time.perf_counter() - start, "ulm": ulm,
                         "rcm": recall_scores(result.recalled, data, split)})
    return pd.DataFrame(rows), trained_scores


def accuracy_table(rows: pd.DataFrame, attack: str, trained: dict) -> pd.DataFrame:
    """Table 2/3 form for one attack: TRM, ULM, RCM and their gain on test and forget, as
    mean and std over seeds (columns: methods)."""
    chosen = rows[rows.attack == attack]
    records = []
    for method, group in chosen.groupby("method", sort=False):
        for subset in ("test", "forget"):
            ulm = torch.tensor([r[subset] for r in group.ulm])
            rcm = torch.tensor([r[subset] for r in group.rcm])
            trm = torch.tensor([trained[s][subset] for s in group.seed])
            for name, values in (("TRM", trm), ("ULM", ulm), ("RCM", rcm), ("ΔAcc", rcm - ulm)):
                records.append({"subset": subset, "model": name, "method": method,
                                "mean": values.mean().item(),
                                "std": values.std(unbiased=False).item()})
    table = pd.DataFrame(records)
    return table.pivot_table(index=["subset", "model"], columns="method",
                             values=["mean", "std"], sort=False)


def forget_class_means(rows: pd.DataFrame, attack: str, model: str) -> pd.DataFrame:
    """Mean over seeds of the forget accuracy per forget class (methods x classes) of the
    unlearned (`model="ulm"`) or recalled (`"rcm"`) model."""
    chosen = rows[rows.attack == attack]
    table = pd.DataFrame([r["forget_per_class"] for r in chosen[model]], index=chosen.method)
    return table.groupby(level=0, sort=False).mean()
