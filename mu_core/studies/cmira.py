"""CMIRA against the toolkit's unlearned models, over backbones, methods and seeds.

`recovery_study` unlearns the trained model of each (backbone, seed) with each method
(through the cache, shared with the other chapters), pretrains one attack model per
(backbone, seed) on the probing set (cached too: it does not depend on the method), runs
the inducing-recovery stage against every unlearned model and returns one row per
(backbone, seed, method, components) with the forget accuracy of the unlearned model
(Acc_U) and the attack model (Acc_A), per forget class, and the attack model's confusion.

The probing set is the test split, as in the paper (it is disjoint from training and
drawn from the same source), or a class-stratified subset of it (`probe_size`).
"""

from __future__ import annotations

import copy
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from .. import __version__
from ..attacks.cmira import CMIRAConfig, induce_recovery, lipsoftmax_model, pretrain
from ..data import ImageData, stratified_holdout
from ..errors import ConfigError, check_positive_int
from ..metrics import (accuracy, area_recovery_rate, confusion_matrix, per_class_accuracy,
                      recovery_improvement, recovery_rate)
from ..splits import Split
from ..train import Recipe, predict
from ..zoo import cached_model_on, indices_digest, plan, unlearned_models

ATTACK_SEED_OFFSET = 20_000  # the attack model never shares the trained model's init


def check_backbones(backbones: dict[str, dict]) -> dict[str, dict]:
    """Each backbone as {"architecture", "options", "hyperparameters"}, checked up front."""
    checked = {}
    for name, spec in backbones.items():
        if not isinstance(spec, dict) or "architecture" not in spec:
            raise ConfigError(f"backbone {name!r} must be a dict with an 'architecture' (and "
                              f"optional 'options', 'hyperparameters'), got {spec!r}.")
        unknown = sorted(set(spec) - {"architecture", "options", "hyperparameters"})
        if unknown:
            raise ConfigError(f"backbone {name!r} has unknown keys {unknown}; accepted: "
                              "architecture, options, hyperparameters.")
        checked[name] = {"architecture": spec["architecture"],
                         "options": dict(spec.get("options") or {}),
                         "hyperparameters": dict(spec.get("hyperparameters") or {})}
    return checked


def merge_method_settings(base: dict[str, dict], overrides: dict[str, dict]) -> dict[str, dict]:
    """{method: settings} with each method's `overrides` merged over its `base` settings."""
    merged = dict(base)
    for method, settings in overrides.items():
        merged[method] = {**merged.get(method, {}), **settings}
    return merged


def with_method_settings(backbones: dict[str, dict], overrides: dict[str, dict]) -> dict[str, dict]:
    """The checked backbones with `overrides` ({backbone: {method: settings}}, e.g. one
    dataset's Table A2 column) merged over each backbone's own method settings."""
    checked = check_backbones(backbones)
    unknown = sorted(set(overrides) - set(checked))
    if unknown:
        raise ConfigError(f"method settings name unknown backbones {unknown}; accepted: "
                          f"{sorted(checked)}.")
    for name, spec in checked.items():
        spec["hyperparameters"] = merge_method_settings(spec["hyperparameters"],
                                                        overrides.get(name, {}))
    return checked


def forget_scores(model, data: ImageData, split: Split, probe: torch.Tensor) -> dict:
    """Forget accuracy, per forget class (in `split.forget_classes` order), and the
    row-normalised confusion of forget ∪ probe with the forget classes first."""
    indices = torch.cat([split.forget, probe])
    predicted = predict(model, data, indices, output="logits").argmax(1).cpu()
    labels = data.targets(indices).cpu()
    on_forget = slice(0, len(split.forget))
    per_class = per_class_accuracy(predicted[on_forget], labels[on_forget], data.num_classes)
    order = class_order(split.forget_classes, data.num_classes)
    confusion = confusion_matrix(predicted, labels, data.num_classes, normalize=True)
    return {"acc": accuracy(predicted[on_forget], labels[on_forget]),
            "per_class": [per_class[c].item() for c in split.forget_classes],
            "confusion": confusion[order][:, order]}


def class_order(forget_classes, num_classes: int) -> list[int]:
    """The forget classes first, then the others (the paper's Figure 6 order)."""
    return list(forget_classes) + [c for c in range(num_classes) if c not in forget_classes]


def probing_set(data: ImageData, split: Split, size: int | None, seed: int) -> torch.Tensor:
    """The labelled probing set D_p: the test split, or a class-stratified subset of `size`
    of it (a smaller D_p gives a weaker probing prior, as on harder datasets)."""
    if size is None or size >= len(split.test):
        return split.test
    kept, _ = stratified_holdout(data.targets(split.test), 1 - size / len(split.test), seed)
    return split.test[kept]


def probe_prior(data: ImageData, probe: torch.Tensor, backbone: dict, config: CMIRAConfig,
                seed: int):
    """The pretrained attack model M^P of a backbone and seed, from the cache when built."""
    cache_config = {"role": "cmira_probe_prior", "mu_core": __version__,
                    "dataset": data.name, "image_size": data.image_size,
                    "probe": {"size": len(probe), "digest": indices_digest(probe)},
                    "model": {"name": backbone["architecture"], **backbone["options"]},
                    "head_width": config.head_width,
                    "recipe": config.pretrain_recipe().as_dict(), "seed": seed}

    def create():
        return lipsoftmax_model(backbone["architecture"], data, head_width=config.head_width,
                                seed=seed + ATTACK_SEED_OFFSET, **backbone["options"])

    def build(model) -> dict:
        return {"history": pretrain(model, data, probe, config, seed=seed)}

    return cached_model_on(data, cache_config, create, build)[0]


def check_study(data: ImageData, split_spec: dict, methods, seeds, backbones: dict[str, dict],
                config: CMIRAConfig, hyperparameters: dict | None = None,
                probe_size: int | None = None) -> dict[str, dict]:
    """Check everything a `recovery_study` will use (split, methods and their settings for
    every backbone, each backbone built once) without training; returns the backbones with
    their merged hyper-parameters. A chapter calls this for all its datasets first."""
    if not isinstance(config, CMIRAConfig):
        raise ConfigError(f"config must be a CMIRAConfig, got {type(config).__name__}.")
    if probe_size is not None:
        check_positive_int("probe_size", probe_size)
    checked = {}
    for name, backbone in check_backbones(backbones).items():
        merged = merge_method_settings(hyperparameters or {}, backbone["hyperparameters"])
        plan(data, {"cmira": split_spec}, methods, seeds, merged)
        lipsoftmax_model(backbone["architecture"], data, head_width=config.head_width,
                         **backbone["options"])
        checked[name] = {**backbone, "hyperparameters": merged}
    return checked


def recovery_study(data: ImageData, split_spec: dict, methods, seeds,
                   backbones: dict[str, dict], config: CMIRAConfig, *, recipe: Recipe,
                   hyperparameters: dict | None = None, ablation: bool = True,
                   probe_size: int | None = None,
                   keep: set[tuple[str, str]] = frozenset()) -> tuple[pd.DataFrame, dict]:
    """Run CMIRA ("p+u+a", and "p" and "p+u" when `ablation`) on every unlearned model.

    `backbones` maps a display name to {"architecture", "options", "hyperparameters"} (the
    last overrides `hyperparameters` per method for that backbone). `keep` names
    (backbone, method) pairs whose first-seed models are returned for figures:
    {(backbone, method): {"unlearned", "p", "p+u", "p+u+a", "split", "probe"}} (p and p+u
    with `ablation`). `probe_size` keeps a stratified subset of the test split as D_p.
    Returns (rows, kept models).
    """
    backbones = check_study(data, split_spec, methods, seeds, backbones, config, hyperparameters,
                            probe_size)
    stages = ("p", "p+u", "p+u+a") if ablation else ("p+u+a",)
    rows, kept = [], {}
    for name, backbone in backbones.items():
        priors = {}
        for _, seed, method, split, _, unlearned, _ in unlearned_models(
                data, {"cmira": split_spec}, methods, seeds,
                architecture=backbone["architecture"], recipe=recipe,
                hyperparameters=backbone["hyperparameters"],
                architecture_options=backbone["options"]):
            if seed not in priors:
                probe = probing_set(data, split, probe_size, seed)
                prior = probe_prior(data, probe, backbone, config, seed)
                priors[seed] = probe, prior, forget_scores(prior, data, split, probe)
            probe, prior, prior_scores = priors[seed]
            base = {"dataset": data.name, "backbone": name,
                    "architecture": backbone["architecture"], "seed": seed, "method": method,
                    "unlearned": forget_scores(unlearned, data, split, probe)}
            keeping = (name, method) in keep and seed == seeds[0]
            if keeping:
                kept[(name, method)] = {"unlearned": unlearned, "split": split, "probe": probe}
            for stage in stages:
                start = time.perf_counter()
                result = induce_recovery(unlearned, copy.deepcopy(prior), data, probe,
                                         split.forget, replace(config, components=stage),
                                         seed=seed)
                scores = prior_scores if stage == "p" else forget_scores(result.attack, data,
                                                                         split, probe)
                rows.append({**base, "components": stage, "rounds": len(result.history),
                             "seconds": time.perf_counter() - start, "attack": scores})
                if keeping:
                    kept[(name, method)][stage] = result.attack
    return _with_recovery_metrics(pd.DataFrame(rows)), kept


def _with_recovery_metrics(rows: pd.DataFrame) -> pd.DataFrame:
    """Add acc_u, acc_a, R_I, R_R and A_R columns (fractions; R_R and A_R relative)."""
    if rows.empty:
        return rows
    rows = rows.copy()
    rows["acc_u"] = [r["acc"] for r in rows.unlearned]
    rows["acc_a"] = [r["acc"] for r in rows.attack]
    rows["r_i"] = [recovery_improvement(a, u) for a, u in zip(rows.acc_a, rows.acc_u)]
    rows["r_r"] = [recovery_rate(a, u) for a, u in zip(rows.acc_a, rows.acc_u)]
    rows["a_r"] = [area_recovery_rate(a["per_class"], u["per_class"])
                   for a, u in zip(rows.attack, rows.unlearned)]
    return rows


def summary(rows: pd.DataFrame, components: str = "p+u+a") -> pd.DataFrame:
    """Mean over seeds of acc_u, acc_a, R_I, R_R and A_R per (dataset, backbone, method)."""
    chosen = rows[rows.components == components]
    return chosen.groupby(["dataset", "backbone", "method"], sort=False)[
        ["acc_u", "acc_a", "r_i", "r_r", "a_r"]].mean()


def class_means(rows: pd.DataFrame, model: str, components: str = "p+u+a") -> pd.DataFrame:
    """Mean over seeds of the per-forget-class accuracy of the unlearned (`model=
    "unlearned"`) or attack (`"attack"`) model; index (dataset, backbone, method)."""
    chosen = rows[rows.components == components]
    table = pd.DataFrame(np.array([r["per_class"] for r in chosen[model]]),
                         index=pd.MultiIndex.from_frame(chosen[["dataset", "backbone", "method"]]))
    return table.groupby(level=[0, 1, 2], sort=False).mean()
