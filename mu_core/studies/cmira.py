"""CMIRA against the toolkit's unlearned models, over datasets, backbones, methods and seeds,
with the chapter's tables, figure data, claim rules and results records.

`recovery_study` unlearns the trained model of each (backbone, seed) with each method
(through the cache, shared with the other chapters), pretrains one attack model per
(backbone, seed) on the probing set (cached too: it does not depend on the method), runs
the inducing-recovery stage against every unlearned model and returns one row per
(backbone, seed, method, components) with the forget accuracy of the trained model
(acc_t), the probing prior (acc_p), the unlearned model (Acc_U) and the attack model
(Acc_A), per forget class, and the attack model's confusion.
`recovery_studies` checks every dataset's setting, then runs `recovery_study` on each.

The probing set is the test split, as in the paper (it is disjoint from training and
drawn from the same source), or a class-stratified subset of it (`probe_size`). In the
paper the same D_p is also the labelled anchor of every mutual-distillation round; here
the anchor has its own size (`anchor_size`, the whole test split by default), so a weak
prior (few probe images) does not also starve the rounds of labelled images.

The tables put the paper's numbers (`papers.cmira`, percentages) beside ours; the claim
rules apply the same test to the paper's tables and to this run.

The chapter calls `run(params)`, which checks its parameters, runs all this and returns
the `Results` that its tables, figures, `claims(results)` and `headline(results)` read.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import __version__, cache, features, workers
from ..attacks import registry
from ..attacks.cmira import (ATTACK_SEED_OFFSET, CMIRAConfig, lipsoftmax_model, pretrain,
                             probing_set)
from ..claims import (CONFIDENCE, HELD, INCONCLUSIVE, NOT_HELD, Claim, Interval, judge,
                      judge_each, judge_parts, paired_difference, part, rate_difference, side,
                      unmet, verdict, wilson)
from ..data import DATASETS, ImageData, load
from ..errors import ConfigError, check_choice, check_positive_int
from ..metrics import (accuracy, accuracy_on, area_recovery_rate, confusion_matrix,
                      per_class_accuracy, recovery_improvement, recovery_rate)
from ..papers import cmira as paper
from ..splits import Split, make_split
from ..train import Recipe, predict, resolve_device
from ..zoo import cached_model_on, indices_digest, plan, trained_model, unlearned_models
from . import named_numbers, spoken_list

STAGES = ("p", "p+u", "p+u+a")  # the paper's attack models: P, P+U and P+U+A (CMIRA)


# The rule that chose the cpu preset's probe_size (see the chapter): priors pretrained on
# these subset sizes, each for as many image presentations as this many epochs of the
# whole mnist5k test split.
PROBE_SIZES_TRIED = (50, 100, 200, 400)
PROBE_RULE_EPOCHS = 15
# Table A3's rows whose printed A_R the chapter compares with Eq. 14 (CIFAR-10, ResNet-18).
AREA_CHECKED = ("retrain", "ff", "ga")


def quoted() -> dict:
    """The values the chapter's prose quotes: the probe-size rule, t-SNE's steps, the
    claims' confidence level and the regime they need (`ANCHOR_SHARE_MIN`), the bound on
    the other classes' loss (`OTHER_CLASSES_MARGIN`, in points), the range of the paper's Acc_U
    (Table 1) on CIFAR-10 and FashionMNIST, and A_R printed vs. recomputed."""
    values = {"probe_sizes_tried": PROBE_SIZES_TRIED, "probe_rule_epochs": PROBE_RULE_EPOCHS,
              "confidence": CONFIDENCE, "anchor_share_min": ANCHOR_SHARE_MIN,
              "tsne_iterations": features.TSNE_ITERATIONS,
              "other_classes_margin_points": 100 * OTHER_CLASSES_MARGIN}
    for dataset in ("cifar10", "fashion_mnist"):
        accuracies = [row["acc_u"] for backbone in paper.TABLE1[dataset].values()
                      for row in backbone.values() if row.get("acc_u") is not None]
        values[f"paper_acc_u_low_{dataset}"] = min(accuracies)
        values[f"paper_acc_u_high_{dataset}"] = max(accuracies)
    for method in AREA_CHECKED:
        entry = paper.CLASSWISE["cifar10"]["resnet18"][method]
        values[f"paper_a_r_printed_{method}"] = entry["a_r"]
        values[f"paper_a_r_recomputed_{method}"] = paper_area(entry)
    return values


def check_backbones(backbones: dict[str, dict]) -> dict[str, dict]:
    """Each backbone as {"architecture", "options", "hyperparameters", "methods"}, checked
    up front; "methods" (None: every method of the chapter) names the methods it runs, as
    the paper's VGG-16 columns leave FF out."""
    checked = {}
    for name, spec in backbones.items():
        if not isinstance(spec, dict) or "architecture" not in spec:
            raise ConfigError(f"backbone {name!r} must be a dict with an 'architecture' (and "
                              f"optional 'options', 'hyperparameters', 'methods'), got "
                              f"{spec!r}.")
        unknown = sorted(set(spec) - {"architecture", "options", "hyperparameters", "methods"})
        if unknown:
            raise ConfigError(f"backbone {name!r} has unknown keys {unknown}; accepted: "
                              "architecture, options, hyperparameters, methods.")
        methods = spec.get("methods")
        if methods is not None and (not isinstance(methods, (list, tuple)) or not methods
                                    or not all(isinstance(m, str) for m in methods)):
            raise ConfigError(f"backbone {name!r}: methods must be a non-empty list of "
                              f"method names, got {methods!r}.")
        checked[name] = {"architecture": spec["architecture"],
                         "options": dict(spec.get("options") or {}),
                         "hyperparameters": dict(spec.get("hyperparameters") or {}),
                         "methods": None if methods is None else list(methods)}
    return checked


def backbone_methods(backbone: dict, methods) -> list[str]:
    """The chapter's `methods` a checked backbone runs, in their order; its own list must
    name methods of the chapter."""
    own = backbone.get("methods")
    if own is None:
        return list(methods)
    unknown = [m for m in own if m not in methods]
    if unknown:
        raise ConfigError(f"a backbone's methods {unknown} are not among the chapter's "
                          f"methods {list(methods)}.")
    return [m for m in methods if m in own]


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


def forget_scores(model, data: ImageData, split: Split, held_out: torch.Tensor) -> dict:
    """Forget accuracy, per forget class (in `split.forget_classes` order), the accuracy on
    the `held_out` images of the other classes (no model trained on them; Figure 6's claim
    on the non-forget classes reads it), and Figure 6's row-normalised confusion with the
    forget classes first: their rows on D_f, the other classes' rows on those images."""
    forget_classes = torch.tensor(split.forget_classes)
    others = held_out[~torch.isin(data.targets(held_out).cpu(), forget_classes)]
    indices = torch.cat([split.forget, others])
    predicted = predict(model, data, indices, output="logits").argmax(1).cpu()
    labels = data.targets(indices).cpu()
    on_forget = slice(0, len(split.forget))
    per_class = per_class_accuracy(predicted[on_forget], labels[on_forget], data.num_classes)
    order = class_order(split.forget_classes, data.num_classes)
    confusion = confusion_matrix(predicted, labels, data.num_classes, normalize=True)
    class_counts = torch.bincount(labels[on_forget], minlength=data.num_classes)
    on_others = slice(len(split.forget), None)
    return {"acc": accuracy(predicted[on_forget], labels[on_forget]),
            "other_acc": (accuracy(predicted[on_others], labels[on_others]) if len(others)
                          else math.nan),
            "other_count": len(others),
            "per_class": [per_class[c].item() for c in split.forget_classes],
            "confusion": confusion[order][:, order],
            "count": len(split.forget),
            "class_counts": [int(class_counts[c]) for c in split.forget_classes]}


def held_out_images(split: Split, probe: torch.Tensor) -> torch.Tensor:
    """The labelled images that neither the trained, the unlearned nor the attack model
    learned from: the validation split and the test images left out of `probe` (D_p, or
    the anchor of the rounds, which holds it)."""
    return torch.cat([split.val, split.test[~torch.isin(split.test, probe)]])


def class_order(forget_classes, num_classes: int) -> list[int]:
    """The forget classes first, then the others (the paper's Figure 6 order)."""
    return list(forget_classes) + [c for c in range(num_classes) if c not in forget_classes]


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
                probe_size: int | None = None,
                anchor_size: int | None = None) -> dict[str, dict]:
    """Check everything a `recovery_study` will use (split, methods and their settings for
    every backbone, each backbone built once) without training; returns the backbones with
    their merged hyper-parameters. A chapter calls this for all its datasets first."""
    if not isinstance(config, CMIRAConfig):
        raise ConfigError(f"config must be a CMIRAConfig, got {type(config).__name__}.")
    for name, size in (("probe_size", probe_size), ("anchor_size", anchor_size)):
        if size is not None:
            check_positive_int(name, size)
            if size < data.num_classes:
                raise ConfigError(f"{name} {size} cannot hold an image of each of the "
                                  f"{data.num_classes} classes of {data.name!r}; give at least "
                                  f"{data.num_classes}, or None for the whole test split.")
    checked = {}
    for name, backbone in check_backbones(backbones).items():
        merged = merge_method_settings(hyperparameters or {}, backbone["hyperparameters"])
        plan(data, {"cmira": split_spec}, backbone_methods(backbone, methods), seeds, merged)
        lipsoftmax_model(backbone["architecture"], data, head_width=config.head_width,
                         **backbone["options"])
        checked[name] = {**backbone, "hyperparameters": merged}
    return checked


def recovery_study(data: ImageData, split_spec: dict, methods, seeds,
                   backbones: dict[str, dict], config: CMIRAConfig, *, recipe: Recipe,
                   hyperparameters: dict | None = None, ablation: bool = True,
                   probe_size: int | None = None, anchor_size: int | None = None,
                   keep: set[tuple[str, str]] = frozenset()) -> tuple[pd.DataFrame, dict]:
    """Run CMIRA ("p+u+a", and "p" and "p+u" when `ablation`) on every unlearned model.

    `backbones` maps a display name to {"architecture", "options", "hyperparameters"} (the
    last overrides `hyperparameters` per method for that backbone). `keep` names
    (backbone, method) pairs whose first-seed models are returned for figures:
    {(backbone, method): {"unlearned", "p", "p+u", "p+u+a", "split", "probe"}} (p and p+u
    with `ablation`). `probe_size` keeps a stratified subset of the test split as D_p, the
    prior's training set; `anchor_size` one as the labelled anchor of every round (None:
    the whole test split, which the paper uses for both).
    Returns (rows, kept models).
    """
    backbones = check_study(data, split_spec, methods, seeds, backbones, config, hyperparameters,
                            probe_size, anchor_size)
    stages = STAGES if ablation else ("p+u+a",)
    rows, kept = [], {}
    for name, backbone in backbones.items():
        priors = {}
        for _, seed, method, split, (trained, _), unlearned, _ in unlearned_models(
                data, {"cmira": split_spec}, backbone_methods(backbone, methods), seeds,
                architecture=backbone["architecture"], recipe=recipe,
                hyperparameters=backbone["hyperparameters"],
                architecture_options=backbone["options"]):
            if seed not in priors:
                probe = probing_set(data, split, probe_size, seed)
                anchor = probing_set(data, split, anchor_size, seed)
                held_out = held_out_images(split, torch.cat([probe, anchor]))
                prior = probe_prior(data, probe, backbone, config, seed)
                priors[seed] = (probe, anchor, held_out, prior,
                                forget_scores(prior, data, split, held_out),
                                accuracy_on(trained, data, split.forget))
            probe, anchor, held_out, prior, prior_scores, acc_t = priors[seed]
            base = {"dataset": data.name, "backbone": name,
                    "architecture": backbone["architecture"], "seed": seed, "method": method,
                    "acc_t": acc_t, "acc_p": prior_scores["acc"], "probe_size": len(probe),
                    "anchor_size": len(anchor), "forget_size": len(split.forget),
                    "unlearned": forget_scores(unlearned, data, split, held_out)}
            keeping = (name, method) in keep and seed == seeds[0]
            if keeping:
                kept[(name, method)] = {"unlearned": unlearned, "split": split, "probe": probe}
            for stage in stages:
                start = time.perf_counter()
                outcome = registry.run("cmira", unlearned, data, split, trained=trained,
                                       seed=seed, **attack_settings(config, stage, prior,
                                                                    anchor_size))
                scores = prior_scores if stage == "p" else forget_scores(outcome.model, data,
                                                                         split, held_out)
                rows.append({**base, "components": stage, "rounds": int(outcome["rounds"]),
                             "seconds": time.perf_counter() - start, "attack": scores})
                if keeping:
                    kept[(name, method)][stage] = outcome.model
    return _with_recovery_metrics(pd.DataFrame(rows)), kept


def attack_settings(config: CMIRAConfig, stage: str, prior: nn.Module,
                    anchor_size: int | None) -> dict:
    """The registered `cmira` attack's settings for one stage of `recovery_study`: the
    config's, the stage's components, the study's pretrained prior and anchor size."""
    return {**asdict(replace(config, components=stage)), "prior": prior,
            "anchor_size": anchor_size}


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


# ---------------------------------------------------------------------------------------
# Every dataset of a chapter

@dataclass
class Studies:
    """What `recovery_studies` found: one row per attack (`rows`), the first seed's models
    of the figure backbone and methods per dataset (`kept`, as `recovery_study` keeps
    them), the loaded `datasets` and their `forget_classes`."""

    rows: pd.DataFrame
    kept: dict[str, dict] = field(default_factory=dict)
    datasets: dict[str, ImageData] = field(default_factory=dict)
    forget_classes: dict[str, list[int]] = field(default_factory=dict)

    def forget_class_names(self) -> dict[str, list[str]]:
        """{dataset: the names of its forget classes, in the forget classes' order}."""
        return {name: [data.classes[c] for c in self.forget_classes[name]]
                for name, data in self.datasets.items()}

    def class_names_forget_first(self, dataset: str) -> list[str]:
        """A dataset's class names with the forget classes first (Figure 6's order)."""
        data = self.datasets[dataset]
        return [data.classes[c] for c in class_order(self.forget_classes[dataset],
                                                     data.num_classes)]


def _check_settings(dataset_names, forget_classes: dict, methods, backbones: dict,
                    figure_backbone: str | None, figure_methods,
                    ablation_datasets=None) -> None:
    """The checks that need no data: dataset names, a forget-class list per dataset, the
    figure backbone and methods among those run, the ablation's datasets among those run."""
    for name in dataset_names:
        check_choice("dataset", name, DATASETS)
    if ablation_datasets is not None and (
            not isinstance(ablation_datasets, (list, tuple))
            or not set(ablation_datasets) <= set(dataset_names)):
        raise ConfigError(f"ablation_datasets must be None (every dataset) or a list of the "
                          f"datasets run, {list(dataset_names)}; got {ablation_datasets!r}.")
    missing = [name for name in dataset_names if name not in forget_classes]
    if missing:
        raise ConfigError(f"forget_classes has no entry for {missing}; give one list of classes "
                          "per dataset in dataset_names.")
    if figure_backbone is not None and figure_backbone not in backbones:
        raise ConfigError(f"figure_backbone {figure_backbone!r} is not one of the backbones "
                          f"{sorted(backbones)}.")
    run = methods if figure_backbone is None else backbone_methods(
        check_backbones({figure_backbone: backbones[figure_backbone]})[figure_backbone], methods)
    unknown = [method for method in figure_methods if method not in run]
    if unknown:
        raise ConfigError(f"figure_methods {unknown} are not among the methods the figure "
                          f"backbone runs: {list(run)}.")


def recovery_studies(dataset_names, forget_classes: dict[str, list[int]], methods, seeds,
                     backbones: dict[str, dict], config: CMIRAConfig, *, recipe: Recipe,
                     device, forget_fraction: float = 0.5, val_fraction: float = 0.1,
                     hyperparameters: dict | None = None,
                     dataset_hyperparameters: dict | None = None, ablation: bool = True,
                     ablation_datasets=None,
                     probe_size: int | None = None, anchor_size: int | None = None,
                     figure_backbone: str | None = None,
                     figure_methods=()) -> Studies:
    """`recovery_study` on every dataset, each with its forget classes and its own method
    settings (`dataset_hyperparameters`: dataset -> backbone -> method -> settings, e.g.
    Table A2), after checking every dataset's setting, so a bad one fails before any
    training. With `ablation`, the datasets of `ablation_datasets` (None: every one) also
    run P and P+U. The first seed's models of (`figure_backbone`, each of
    `figure_methods`) are kept for the figures."""
    _check_settings(dataset_names, forget_classes, methods, backbones, figure_backbone,
                    figure_methods, ablation_datasets)
    dataset_hyperparameters = dataset_hyperparameters or {}
    specs = {name: {"forget_classes": forget_classes[name], "forget_fraction": forget_fraction,
                    "val_fraction": val_fraction} for name in dataset_names}
    per_dataset = {name: with_method_settings(backbones, dataset_hyperparameters.get(name, {}))
                   for name in dataset_names}
    loaded = {name: load(name).to(device) for name in dataset_names}
    for name, data in loaded.items():
        check_study(data, specs[name], methods, seeds, per_dataset[name], config,
                    hyperparameters, probe_size, anchor_size)
    keep = {(figure_backbone, method) for method in figure_methods}
    # a piece per method where the cache lets the pieces share their trained model and
    # prior (built first, side by side); without it, a piece per dataset and backbone
    per_method = cache.enabled()
    runs = [(name, backbone, settings, chosen) for name in dataset_names
            for backbone, settings in per_dataset[name].items()
            for chosen in ([[m] for m in backbone_methods(settings, methods)] if per_method
                           else [backbone_methods(settings, methods)])]
    # a worker process loads each dataset itself; this one has them loaded
    source = loaded.get if workers.worker_count(len(runs), device) == 1 else str
    if per_method:
        shared = [(source(name), specs[name], seeds, settings, config, recipe, probe_size,
                   device) for name in dataset_names for settings in per_dataset[name].values()]
        workers.run_each(_shared_models, shared, device=device,
                         desc="trained models and priors")
    ablated = set(dataset_names if ablation_datasets is None else ablation_datasets)
    pieces = [(source(name), specs[name], chosen, seeds,
               {backbone: {**settings, "methods": None}}, config,
               recipe, hyperparameters, ablation and name in ablated, probe_size, anchor_size,
               keep, device)
              for name, backbone, settings, chosen in runs]
    found, kept = [], {name: {} for name in dataset_names}
    for (name, _, settings, _), (rows, models) in zip(
            runs, workers.run_each(_piece, pieces, device=device, desc="CMIRA")):
        found.append(rows)
        kept[name].update({key: {part: attack_model(value, loaded[name], settings, config)
                                 if part in STAGES else value
                                 for part, value in parts.items()}
                           for key, parts in models.items()})
    return Studies(in_run_order(pd.concat(found, ignore_index=True), seeds, methods), kept,
                   loaded,
                   {name: list(forget_classes[name]) for name in dataset_names})


def in_run_order(rows: pd.DataFrame, seeds, methods) -> pd.DataFrame:
    """The rows of the per-method pieces in the order one study runs them: dataset and
    backbone (in their order of appearance), seed and method (in `seeds`' and `methods`'
    order); the stages of a run keep theirs."""
    order = {column: {value: i for i, value in enumerate(dict.fromkeys(rows[column]))}
             for column in ("dataset", "backbone")}
    order["seed"] = {seed: i for i, seed in enumerate(seeds)}
    order["method"] = {method: i for i, method in enumerate(methods)}
    keys = pd.DataFrame({column: rows[column].map(positions)
                         for column, positions in order.items()})
    at = keys.sort_values(["dataset", "backbone", "seed", "method"], kind="stable").index
    return rows.loc[at].reset_index(drop=True)


def _loaded(data: ImageData | str, device) -> ImageData:
    """The dataset itself, or loaded by its name (in a worker process)."""
    return load(data).to(device) if isinstance(data, str) else data


def _shared_models(data: ImageData | str, spec: dict, seeds, backbone: dict,
                   config: CMIRAConfig, recipe: Recipe, probe_size: int | None,
                   device) -> None:
    """Build into the cache the models every method of one dataset and backbone shares, its
    trained model and its probing prior per seed, so that the per-method pieces running
    side by side load them instead of each training them."""
    data = _loaded(data, device)
    for seed in seeds:
        split = make_split(data, seed=seed, **spec)
        trained_model(data, split, backbone["architecture"], recipe, seed=seed,
                      **backbone["options"])
        probe_prior(data, probing_set(data, split, probe_size, seed), backbone, config, seed)


def _piece(data: ImageData | str, spec: dict, methods, seeds, backbones: dict[str, dict],
           config: CMIRAConfig, recipe: Recipe, hyperparameters: dict | None, ablation: bool,
           probe_size: int | None, anchor_size: int | None, keep: set,
           device) -> tuple[pd.DataFrame, dict]:
    """`recovery_study` of one dataset, backbone and method: a piece `recovery_studies` may
    run in a worker process (`workers.run_each`). The kept attack models come back as
    their state dicts (a parametrised module does not pickle; `attack_model` rebuilds
    them)."""
    rows, kept = recovery_study(_loaded(data, device), spec, methods, seeds, backbones,
                                config, recipe=recipe, hyperparameters=hyperparameters,
                                ablation=ablation, probe_size=probe_size,
                                anchor_size=anchor_size, keep=keep)
    return rows, {key: {part: value.state_dict() if part in STAGES else value
                        for part, value in models.items()} for key, models in kept.items()}


def attack_model(state: dict, data: ImageData, backbone: dict,
                 config: CMIRAConfig) -> nn.Module:
    """A kept attack model rebuilt from its state dict (`_piece`), in eval mode."""
    model = lipsoftmax_model(backbone["architecture"], data, head_width=config.head_width,
                             seed=ATTACK_SEED_OFFSET, **backbone["options"])  # overwritten
    model.load_state_dict(state)
    return model.to(data.device).eval()


def run_summary(rows: pd.DataFrame, max_rounds: int) -> str:
    """One sentence on what ran: attacks, methods, backbones, datasets, seeds, time, and
    the rounds of the attacks that have them (P has none): on average, and how many used
    all `max_rounds` the budget allows."""
    rounds = rows.rounds[rows.components != "p"]
    return (f"{len(rows)} attacks on {rows.method.nunique()} methods x "
            f"{rows.backbone.nunique()} backbones x {rows.dataset.nunique()} datasets x "
            f"{rows.seed.nunique()} seed(s), {rows.seconds.sum():.0f} s of attack time in all; "
            f"{rounds.mean():.1f} rounds on average, and {(rounds >= max_rounds).sum()} of the "
            f"{len(rounds)} attacks with rounds used all {max_rounds} that `rounds` allows "
            "(the agreement stops them earlier when it stops improving).")


# ---------------------------------------------------------------------------------------
# Tables beside the paper (the paper's numbers are percentages)

KEYS = ["dataset", "backbone", "method"]
NO_PAPER_VALUE = "–"


def stage_means(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds of acc_u, acc_a, R_R and A_R per (dataset, backbone, method,
    components), in the order of the runs."""
    return rows.groupby([*KEYS, "components"], sort=False)[["acc_u", "acc_a", "r_r",
                                                            "a_r"]].mean()


def architectures(rows: pd.DataFrame) -> dict[str, str]:
    """{backbone display name: its architecture} (the paper's tables are by architecture)."""
    return dict(zip(rows.backbone, rows.architecture))


def paper_dataset(name: str) -> str:
    """The paper's dataset shown beside ours: the same one where the paper ran it, else
    FashionMNIST (greyscale 28 x 28, the closest to the offline digits)."""
    return name if name in paper.TABLE1 else "fashion_mnist"


def percent(value: float) -> str:
    """A fraction as a percentage with two decimals; an infinite rate as ∞."""
    return "∞" if np.isinf(value) else f"{100 * value:.2f}"


def area_title(value: float) -> str:
    """A radar chart's A_R: a percentage, or for a relative gain of ten times or more (M_U's
    polygon near a point, so the ratio says little) the factor between the two areas."""
    if np.isfinite(value) and abs(value) >= 10:
        return f"A_R: area x{value + 1:,.0f}"
    return f"A_R {percent(value)}%"


def with_arrow(accuracy: float, gain: float) -> str:
    """'Acc ↑ gain' (or ↓ for a loss), both in percent, as the paper's Table 2 prints it."""
    return f"{accuracy:.2f} {'↑' if gain >= 0 else '↓'} {abs(gain):.2f}"


def paper_area(entry: dict) -> float:
    """A_R (%) recomputed with Eq. 14 from a Table A3 entry's per-class Acc_U and R_I."""
    attack = np.add(entry["acc_u"], entry["r_i"]) / 100
    return 100 * area_recovery_rate(attack, np.asarray(entry["acc_u"]) / 100)


def _indexed(cells: dict) -> pd.DataFrame:
    table = pd.DataFrame(cells).T
    table.index.names = KEYS
    return table


def table1(rows: pd.DataFrame) -> pd.DataFrame:
    """Table 1: Acc_U, Acc_A and R_R of CMIRA (P+U+A) per dataset, backbone and method, in
    percent, beside the paper's for the paper dataset and CIFAR-10 (a dash: no such row)."""
    architecture = architectures(rows)
    table = {}
    for (dataset, backbone, method), row in summary(rows).iterrows():
        cells = {("here", "Acc_U"): percent(row.acc_u), ("here", "Acc_A"): percent(row.acc_a),
                 ("here", "R_R"): percent(row.r_r)}
        for reference in dict.fromkeys([paper_dataset(dataset), "cifar10"]):
            entry = paper.TABLE1.get(reference, {}).get(architecture[backbone], {}).get(method)
            for metric, key in (("Acc_U", "acc_u"), ("Acc_A", "acc_a"), ("R_R", "r_r")):
                cells[(f"paper ({reference})", metric)] = (entry[key] if entry
                                                           else NO_PAPER_VALUE)
        table[(dataset, backbone, method)] = cells
    return _indexed(table)


def classwise_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Table 2 / A3: per forget class (#1, #2, ... in the order of `forget_classes`) Acc_U
    with CMIRA's R_I (arrows), then A_R, beside the paper's rows with its A_R as printed
    and as recomputed from its own per-class numbers (A_R by Eq. 14)."""
    acc_u, acc_a = class_means(rows, "unlearned"), class_means(rows, "attack")
    area, architecture = summary(rows).a_r, architectures(rows)
    table = {}
    for key in acc_u.index:
        dataset, backbone, method = key
        cells = {("here", f"#{i + 1}"): with_arrow(100 * u, 100 * (a - u))
                 for i, (u, a) in enumerate(zip(acc_u.loc[key], acc_a.loc[key]))}
        cells[("here", "A_R")] = percent(area.loc[key])
        entry = paper.CLASSWISE.get(paper_dataset(dataset), {}).get(
            architecture[backbone], {}).get(method)
        if entry:
            cells.update({("paper", f"#{i + 1}"): with_arrow(u, g)
                          for i, (u, g) in enumerate(zip(entry["acc_u"], entry["r_i"]))})
            cells[("paper", "A_R")] = f"{entry['a_r']:.2f}"  # as printed
            cells[("paper", "A_R by Eq. 14")] = f"{paper_area(entry):.2f}"
        table[key] = cells
    return _indexed(table).fillna(NO_PAPER_VALUE)


def ablation_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Table 3 / A4-A5: forget accuracy of the unlearned model (baseline) and of each
    attack model run, with its R_R and A_R, in percent, beside the paper's ablation."""
    architecture, table = architectures(rows), {}
    names = {"acc": "Acc", "r_r": "R_R", "a_r": "A_R"}
    for (dataset, backbone, method), group in stage_means(rows).groupby(level=[0, 1, 2],
                                                                        sort=False):
        group = group.droplevel([0, 1, 2])
        cells = {("here", "baseline", "Acc"): percent(group.acc_u.iloc[0])}
        for stage in group.index:
            for metric, column in (("Acc", "acc_a"), ("R_R", "r_r"), ("A_R", "a_r")):
                cells[("here", stage.upper(), metric)] = percent(group.loc[stage, column])
        entry = paper.ABLATION.get(paper_dataset(dataset), {}).get(
            architecture[backbone], {}).get(method, {})
        for stage, values in entry.items():
            for metric, value in values.items():
                label = stage if stage == "baseline" else stage.upper()  # as ours
                cells[("paper", label, names[metric])] = f"{value:.2f}"
        table[(dataset, backbone, method)] = cells
    return _indexed(table).fillna(NO_PAPER_VALUE)


def prior_regime(rows: pd.DataFrame) -> pd.DataFrame:
    """Where the probing prior P stands, per dataset and backbone: the rounds' labelled
    anchor's share of their images (|anchor| / (|anchor| + |X_f|)), the forget accuracy (%)
    of the trained model M_T and of P, P's ratio to the retrained model's (P / RT), and
    the methods whose unlearned model is above P; beside the paper's (Table 3 / A4-A5,
    for the paper dataset and CIFAR-10, over the methods run here; it reports no M_T)."""
    architecture, table = architectures(rows), {}
    means = rows.groupby([*KEYS], sort=False)[["acc_t", "acc_p", "acc_u"]].mean()
    sizes = rows.groupby(["dataset", "backbone"], sort=False)[["anchor_size",
                                                               "forget_size"]].first()
    for (dataset, backbone), group in means.groupby(level=[0, 1], sort=False):
        group = group.droplevel([0, 1])
        prior, unlearned = group.acc_p.iloc[0], group.acc_u
        anchor, forget = sizes.loc[(dataset, backbone)]
        cells = {("here", "anchor share"): f"{anchor / (anchor + forget):.2f}",
                 ("here", "M_T"): percent(group.acc_t.iloc[0]), ("here", "P"): percent(prior),
                 ("here", "P / RT"): ratio(prior, unlearned.get("retrain")),
                 ("here", "M_U above P"): _listed(unlearned.index[unlearned > prior])}
        for reference in dict.fromkeys([paper_dataset(dataset), "cifar10"]):
            entry = paper.ABLATION.get(reference, {}).get(architecture[backbone], {})
            paper_u = pd.Series({m: entry[m]["baseline"]["acc"] for m in group.index
                                 if m in entry})
            if paper_u.empty:
                continue
            paper_p = next(iter(entry.values()))["p"]["acc"]  # the same for every method
            column = f"paper ({reference})"
            cells.update({(column, "P"): f"{paper_p:.2f}",
                          (column, "P / RT"): ratio(paper_p, paper_u.get("retrain")),
                          (column, "M_U above P"): _listed(paper_u.index[paper_u > paper_p])})
        table[(dataset, backbone)] = cells
    found = pd.DataFrame(table).T.fillna(NO_PAPER_VALUE)
    found.index.names = ["dataset", "backbone"]
    return found


def ratio(value: float, reference: float | None) -> str:
    """value / reference with two decimals; a dash without a reference."""
    return f"{value / reference:.2f}" if reference else NO_PAPER_VALUE


# ---------------------------------------------------------------------------------------
# Figure data

def r_i_panels(rows: pd.DataFrame, methods) -> dict[str, pd.DataFrame]:
    """Figure 3, ours: {dataset: backbone x method R_I (%) of CMIRA}, mean over seeds."""
    found = summary(rows)
    return {dataset: (100 * found.loc[dataset].r_i).unstack("method").reindex(columns=methods)
            for dataset in found.index.unique("dataset")}


def paper_r_i_panels(methods) -> dict[str, pd.DataFrame]:
    """Figure 3, the paper's: {dataset: architecture x method Acc_A - Acc_U (%)} from its
    Table 1."""
    return {dataset: pd.DataFrame({arch: {m: v["acc_a"] - v["acc_u"]
                                          for m, v in per_method.items()}
                                   for arch, per_method in per_arch.items()}
                                  ).T.reindex(columns=methods)
            for dataset, per_arch in paper.TABLE1.items()}


def radar_polygons(rows: pd.DataFrame, dataset: str) -> dict[str, dict[str, list[float]]]:
    """Figure 4 / A1: one polygon pair per backbone and method of a dataset, the per-class
    forget accuracies of M_U and of CMIRA, titled with A_R."""
    acc_u, acc_a = class_means(rows, "unlearned"), class_means(rows, "attack")
    area = summary(rows).a_r
    return {f"{backbone}, {method}\n{area_title(area.loc[(dataset, backbone, method)])}":
            {"M_U": acc_u.loc[(dataset, backbone, method)],
             "CMIRA": acc_a.loc[(dataset, backbone, method)]}
            for backbone, method in acc_u.loc[dataset].index}


def tsne_panels(data: ImageData, kept: dict, points: int):
    """Figure 5 / A2: t-SNE of the penultimate features of `points` forget and as many
    probe images for M_U, P and CMIRA of every kept (backbone, method); returns the
    arguments of `plots.embedding_grid` (panels, labels, forget mask, class names)."""
    generator = torch.Generator().manual_seed(0)
    some_run = next(iter(kept.values()))
    forget, probe = (indices[torch.randperm(len(indices), generator=generator)[:points]]
                     for indices in (some_run["split"].forget, some_run["probe"]))
    indices = torch.cat([forget, probe])
    panels = {}
    for (_, method), models in kept.items():
        panels[method.upper()] = {
            title: features.tsne_embedding(features.penultimate_features(models[key], data,
                                                                         indices))
            for title, key in (("M_U", "unlearned"), ("P", "p"), ("CMIRA", "p+u+a"))
            if key in models}
    marked = np.arange(len(indices)) < len(forget)
    return panels, data.targets(indices).cpu().numpy(), marked, list(data.classes)


def confusion_panels(rows: pd.DataFrame, dataset: str, backbone: str,
                     seed: int) -> dict[str, dict[str, torch.Tensor]]:
    """Figure 6 / A6: {method: {stage: row-normalised confusion}} of one dataset, backbone
    and seed, forget classes first: their rows on D_f, the other classes' rows on the
    held-out images (`forget_scores`; never D_p, the attack model's training data)."""
    chosen = rows[(rows.dataset == dataset) & (rows.backbone == backbone) & (rows.seed == seed)]
    return {method.upper(): {r.components.upper(): r.attack["confusion"]
                             for r in chosen[chosen.method == method].itertuples()}
            for method in dict.fromkeys(chosen.method)}


def box_runs(rows: pd.DataFrame) -> pd.DataFrame:
    """Figures A3-A5: the CMIRA (P+U+A) runs with R_R (%) and A_R (%) columns."""
    runs = rows[rows.components == "p+u+a"]
    return runs.assign(**{"R_R (%)": 100 * runs.r_r, "A_R (%)": 100 * runs.a_r})


# ---------------------------------------------------------------------------------------
# The paper's claims. Each rule is applied to the paper's tables ("paper": its printed
# means, read exactly) and to this run, where it decides by an interval: CMIRA's cpu preset
# runs one seed, so an accuracy is compared over the forget images it was measured on
# (Newcombe's interval on the images' counts, pooled over the runs a claim names), and a
# comparison across settings (methods, backbones) over the matched runs (dataset,
# backbone or method, seed) with a t interval.

# The regime the recovery claims rest on (issue 32): in every setting of the paper the
# labelled D_p is at least about 0.43 of what a round can train on (FashionMNIST: 10,000
# test images against 5 x 2,700 forget images after the 10% validation split; CIFAR-10:
# 10,000 against 5 x 2,250, 0.47), and its prior P knows less of the forget classes than
# the retrained model (P / RT below 1 in every row of Tables A4-A5).
ANCHOR_SHARE_MIN = 0.4
MATCHED = "matched runs"


def recovery_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """This run's CMIRA rows for display: dataset, backbone (the architecture), method,
    and R_I, R_R as fractions, means over seeds."""
    found = summary(rows).reset_index()
    return found.assign(backbone=found.backbone.map(architectures(rows)))


def paper_recovery_frame() -> pd.DataFrame:
    """The paper's Table 1 (all four datasets) as `recovery_frame` rows (fractions)."""
    return pd.DataFrame([
        {"dataset": d, "backbone": b, "method": m, "r_i": (v["acc_a"] - v["acc_u"]) / 100,
         "r_r": v["r_r"] / 100}
        for d, per_arch in paper.TABLE1.items() for b, per_method in per_arch.items()
        for m, v in per_method.items()])


def paper_prior_ratios() -> list[float]:
    """P / RT (forget accuracy of the prior over the retrained model's) in every row of the
    paper's Tables A4-A5 that has RT."""
    return [next(iter(per_method.values()))["p"]["acc"] / per_method["retrain"]["baseline"]["acc"]
            for per_arch in paper.ABLATION.values() for per_method in per_arch.values()
            if "retrain" in per_method]


def ablation_sequences(rows: pd.DataFrame) -> list[list[float]] | None:
    """Forget accuracy of P, P+U and P+U+A per (dataset, backbone, method), means over
    seeds; None when the ablation did not run."""
    if not set(STAGES) <= set(rows.components):
        return None
    means = ablated(rows).groupby([*KEYS, "components"]).acc_a.mean().unstack("components")
    return means[list(STAGES)].to_numpy().tolist()


def paper_ablation_sequences() -> list[list[float]]:
    """The paper's P, P+U, P+U+A forget accuracies (%), Tables A4-A5, every row."""
    return [[entry[stage]["acc"] for stage in STAGES]
            for per_arch in paper.ABLATION.values() for per_method in per_arch.values()
            for entry in per_method.values()]


def paper_classwise_gains() -> pd.DataFrame:
    """The paper's R_I per forget class (%), Table A3 (Table 2 is its CIFAR-10 part)."""
    return pd.DataFrame({(d, b, m): dict(enumerate(entry["r_i"]))
                         for d, per_arch in paper.CLASSWISE.items()
                         for b, per_method in per_arch.items()
                         for m, entry in per_method.items()}).T.rename(
        columns=lambda i: f"#{i + 1}")


def classwise_gains(rows: pd.DataFrame) -> pd.DataFrame:
    """CMIRA's R_I per forget class (fractions, columns #1..#5), means over seeds; index
    (dataset, backbone, method)."""
    gains = class_means(rows, "attack") - class_means(rows, "unlearned")
    return gains.rename(columns=lambda i: f"#{i + 1}")


CLAIMED_RANKING = ("iu", "ga", "ff", "wp", "ft", "retrain")  # Appendix D.2, highest R_I first


def claimed_method_gains(frame: pd.DataFrame) -> pd.Series:
    """Mean R_I over datasets and backbones of the ranked methods that ran, in the
    claimed order."""
    return frame.groupby("method").r_i.mean().reindex(CLAIMED_RANKING).dropna()


def ranked_as_claimed(frame: pd.DataFrame) -> bool | None:
    """The mean R_I falls strictly in the order IU > GA > FF > WP > FT > RT over the
    methods of that list that ran; None (not testable) unless two of them ran (the rule on
    the paper's printed table)."""
    means = claimed_method_gains(frame).to_numpy()
    return bool((means[:-1] > means[1:]).all()) if len(means) >= 2 else None


def least_for_exact(frame: pd.DataFrame) -> bool | None:
    """RT and FT have the lowest mean R_R: both below every other method's mean (infinite
    rates left out); None (not testable) without RT or FT or without another method (the
    rule on the paper's printed table)."""
    means = frame.replace(np.inf, np.nan).groupby("method").r_r.mean()
    exact = means.reindex(["retrain", "ft"]).dropna()
    others = means.drop(exact.index).dropna()
    if exact.empty or others.empty:
        return None
    return bool(exact.max() < others.min())


def vgg_more_susceptible(frame: pd.DataFrame) -> bool | None:
    """The median R_R over datasets and methods is higher for VGG-16 than ResNet-18; None
    (not testable) unless both backbones ran (the rule on the paper's printed table)."""
    medians = frame.groupby("backbone").r_r.median()
    if not {"vgg16_bn", "resnet18"} <= set(medians.index):
        return None
    return bool(medians.vgg16_bn > medians.resnet18)


def share_in_order(sequences) -> float:
    """The share of (P, P+U, P+U+A) sequences that rise strictly; NaN for none."""
    ordered = [all(a < b for a, b in zip(seq, seq[1:])) for seq in sequences]
    return sum(ordered) / len(ordered) if ordered else float("nan")


# --------------------------------------------------------------------- this run's evidence

def _correct(accuracies, counts) -> int:
    """How many images the runs got right, from their accuracies and image counts."""
    return int(sum(round(a * n) for a, n in zip(accuracies, counts)))


def pooled_gain(after: pd.DataFrame, before: pd.DataFrame, column_after: str = "acc_a",
                column_before: str = "acc_a") -> Interval:
    """The forget accuracy of the `after` runs minus that of the `before` runs, each pooled
    over its runs' forget images, with Newcombe's interval (it ignores that both sides
    read the same images, so it is wider than a paired one would be)."""
    counts_after = [r["count"] for r in after.unlearned]
    counts_before = [r["count"] for r in before.unlearned]
    return rate_difference(_correct(after[column_after], counts_after), sum(counts_after),
                           _correct(before[column_before], counts_before), sum(counts_before),
                           unit="forget images")


def recovery_gain(runs: pd.DataFrame) -> Interval:
    """R_I pooled over CMIRA runs: their attack models' forget accuracy minus their
    unlearned models', over the forget images."""
    return pooled_gain(runs, runs, "acc_a", "acc_u")


def forgetting(runs: pd.DataFrame) -> Interval:
    """Acc_U - Acc_T pooled over runs: their unlearned models' forget accuracy minus their
    trained models', over the forget images (below 0: the unlearning forgot something)."""
    return pooled_gain(runs, runs, "acc_u", "acc_t")


def unforgotten(runs: pd.DataFrame) -> str | None:
    """Why a method's runs leave CMIRA nothing to recover, or None: their unlearned models'
    forget accuracy is not clearly below the trained models' (`forgetting`'s interval not
    wholly below 0). The paper's unlearned models all forgot some (Table 1's Acc_U against
    a trained model's on its own training images)."""
    drop = forgetting(runs)
    if side(drop, above=False) == HELD:
        return None
    return f"its unlearned models did not clearly forget: Acc_U - Acc_T {drop.text()}"


def class_gain(runs: pd.DataFrame, position: int) -> Interval:
    """R_I of one forget class (its `position` in the forget classes), pooled over runs."""
    counts = [r["class_counts"][position] for r in runs.unlearned]
    attack = [r["per_class"][position] for r in runs.attack]
    unlearned = [r["per_class"][position] for r in runs.unlearned]
    return rate_difference(_correct(attack, counts), sum(counts), _correct(unlearned, counts),
                           sum(counts), unit="forget images")


def _matched(runs: pd.DataFrame, by: str, value: str) -> pd.DataFrame:
    """`value` of each run, one row per matched setting (dataset, backbone or method that
    is not `by`, seed), one column per `by`; infinite values (R_R of Acc_U = 0) dropped."""
    keys = [k for k in ("dataset", "backbone", "method", "seed") if k != by]
    table = runs.pivot_table(index=keys, columns=by, values=value, aggfunc="mean")
    return table.replace([np.inf, -np.inf], np.nan)


def regime_reasons_by_row(rows: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    """Why each (dataset, backbone) of the run is outside the regime the recovery claims
    rest on (the paper's argument needs it: see `ANCHOR_SHARE_MIN`), for the rows that are:
    the labelled anchor is a smaller share of a round's images (|anchor| / (|anchor| +
    |X_f|)) than in any setting of the paper; the probing prior P knows at least as much of
    the forget classes as the retrained model (P / RT not below 1, unlike every row of the
    paper), or RT did not run to say."""
    found = {}
    for (dataset, backbone), runs in rows.groupby(["dataset", "backbone"], sort=False):
        where = f"{dataset}, {backbone}"
        reasons = []
        anchor, forget_size = runs.anchor_size.iloc[0], runs.forget_size.iloc[0]
        share = anchor / (anchor + forget_size)
        if share < ANCHOR_SHARE_MIN:
            reasons.append(f"{where}: the labelled anchor is {anchor} images against "
                           f"{forget_size} forget images, a share of {share:.2f} of a round, "
                           f"below {ANCHOR_SHARE_MIN:g}, which every setting of the paper meets")
        retrain = runs[runs.method == "retrain"]
        if retrain.empty:
            reasons.append(f"{where}: RT did not run, so the prior's strength against it "
                           f"(P / RT below 1 in the paper) is unknown")
        else:
            ratio = (runs.acc_p.mean() / retrain.acc_u.mean() if retrain.acc_u.mean()
                     else math.inf)
            if ratio >= 1:
                reasons.append(f"{where}: the probing prior knows as much as the retrained "
                               f"model (P / RT {ratio:.2f}; below 1 in every row of the paper)")
        if reasons:
            found[(dataset, backbone)] = reasons
    return found


def regime_reasons(rows: pd.DataFrame) -> list[str]:
    """Every reason of `regime_reasons_by_row`, row after row."""
    return [reason for reasons in regime_reasons_by_row(rows).values() for reason in reasons]


def in_regime(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the (dataset, backbone)s in the regime the recovery claims rest on."""
    outside = regime_reasons_by_row(rows)
    keep = [(d, b) not in outside for d, b in zip(rows.dataset, rows.backbone)]
    return rows[keep]


def _cmira_runs(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows.components == "p+u+a"]


def recovery_claims(rows: pd.DataFrame, paper_rows: pd.DataFrame,
                    regime: list[str]) -> list[Claim]:
    """Which methods CMIRA recovers from: R_I per method, pooled over its runs (every
    dataset, backbone and seed) and its forget images, above 0 for each method (all
    methods; all but RT); RT and FT leave the least to recover (each other method's R_R
    above the larger of RT's and FT's, over the matched runs); the methods rank IU > GA >
    FF > WP > FT > RT by R_I (each step of the ranking above 0, over the matched runs).
    Each needs the paper's regime (`regime_reasons`); a method's part of the first two
    needs its unlearned models to have forgotten something (`unforgotten`): with nothing
    forgotten there is nothing to recover, and R_I near 0 says nothing about CMIRA.

    The paper's Table 1 is one row per dataset, backbone and method; asking every such
    cell for an interval above 0 is out of reach with one seed (RT has nothing to recover,
    and a cell of a few hundred images moves by a few points), so the claim is read as the
    paper states it: "significantly improving the prediction accuracy on the forgetting
    data for all MU models", per method."""
    runs = _cmira_runs(rows)
    methods = list(dict.fromkeys(runs.method))
    gains = {m: part(recovery_gain(runs[runs.method == m]),
                     reason=unforgotten(runs[runs.method == m])) for m in methods}
    paper_gains = paper_rows.r_i
    paper_not_retrain = paper_rows.method != "retrain"
    rates = _matched(runs, "method", "r_r")
    exact = [m for m in ("retrain", "ft") if m in rates]
    least = {m: paired_difference(*_both(rates[m], rates[exact].max(axis=1)), MATCHED)
             for m in rates if m not in exact} if exact else {}
    ranked = [m for m in CLAIMED_RANKING if m in methods]
    improvements = _matched(runs, "method", "r_i")
    steps = {f"{a.upper()} - {b.upper()}": paired_difference(
        *_both(improvements[a], improvements[b]), MATCHED)
             for a, b in zip(ranked, ranked[1:])}
    paper_least = verdict(least_for_exact(paper_rows))
    return [
        judge_parts("recovers_every_method",
                    "CMIRA recovers accuracy for every MU method (R_I > 0 for each method, "
                    "over its datasets, backbones and forget images).",
                    f"{verdict((paper_gains > 0).all())}: {(paper_gains > 0).sum()}/"
                    f"{len(paper_gains)} rows of Table 1 positive",
                    gains, label="R_I", unmet_reasons=regime),
        judge_parts("recovers_every_method_but_retrain",
                    "CMIRA recovers accuracy for every MU method except exact retraining "
                    "(R_I > 0 outside RT).",
                    verdict((paper_gains[paper_not_retrain] > 0).all()),
                    {m: g for m, g in gains.items() if m != "retrain"}, label="R_I",
                    unmet_reasons=regime),
        judge_each("retrain_ft_least_to_recover",
                   "RT and FT leave the least to recover (their R_R is below every other "
                   "method's).", paper_least, least,
                   label=f"R_R minus the larger of {', '.join(exact) or 'RT and FT'}'s, over "
                         f"the matched runs",
                   unmet_reasons=[*regime, unmet(bool(exact), "neither RT nor FT ran")]),
        judge_each("ranking_iu_ga_ff_wp_ft_rt",
                   "The recovery improvement ranks the methods IU > GA > FF > WP > FT > RT "
                   "(R_I, over the methods run).",
                   f"{verdict(ranked_as_claimed(paper_rows))}: "
                   f"{_ranked(100 * claimed_method_gains(paper_rows))}",
                   steps, label="R_I differences over the matched runs",
                   unmet_reasons=[*regime, unmet(len(ranked) >= 2,
                                                 "fewer than two of the ranked methods ran")]),
    ]


def _both(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The values of `a` and `b` where both are finite, aligned (a paired difference's
    input)."""
    keep = a.notna() & b.notna()
    return a[keep].to_numpy(), b[keep].to_numpy()


def _ranked(means: pd.Series) -> str:
    """'IU 47.1 > GA 42.2 > ...': the methods by their mean, highest first."""
    ordered = means.sort_values(ascending=False, kind="stable")
    return " > ".join(f"{m.upper()} {v:.1f}" for m, v in ordered.items())


def classwise_claims(rows: pd.DataFrame, paper_gains: pd.DataFrame,
                     regime: list[str]) -> list[Claim]:
    """R_I > 0 in every forget class: for each forget class (by its position in the forget
    classes), R_I pooled over every CMIRA run and that class's forget images, above 0.

    The paper reads its Table 2 as "consistently positive across all classes"; asking each
    of its cells (dataset x backbone x method x class) for an interval above 0 is out of
    reach at one seed and a hundred-odd images a cell, so the claim is read per class."""
    runs = _cmira_runs(rows)
    classes = len(runs.iloc[0].unlearned["per_class"]) if len(runs) else 0
    paper_cells = paper_gains.to_numpy()
    table2 = paper_gains[paper_gains.index.get_level_values(0) == "cifar10"].to_numpy()
    evidence = (f"{verdict((paper_cells > 0).all())}: "
                f"{(paper_cells > 0).sum()}/{paper_cells.size} cells")
    if table2.size:
        evidence += f" (CIFAR-10, Table 2: {(table2 > 0).sum()}/{table2.size})"
    return [judge_each("recovers_every_forget_class",
                       "R_I > 0 in every forget class (Table 2: 'consistently positive across "
                       "all classes'; Table A3), over the datasets, backbones and methods.",
                       evidence, {f"#{i + 1}": class_gain(runs, i) for i in range(classes)},
                       label="R_I", unmet_reasons=regime)]


def ablated(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the runs that ran the ablation (P and P+U beside P+U+A; the datasets of
    `ablation_datasets`), so that every comparison of stages reads the same runs."""
    keys = ["dataset", "backbone", "seed", "method"]
    ran = rows.loc[rows.components == "p+u", keys].drop_duplicates()
    return rows.merge(ran, on=keys)


def stage_runs(rows: pd.DataFrame, stage: str) -> pd.DataFrame:
    """The runs of one attack model, in the order of the P+U+A runs."""
    return rows[rows.components == stage]


def one_per_prior(runs: pd.DataFrame) -> pd.DataFrame:
    """P's runs, each prior once: P is one model per dataset, backbone and seed, whose
    scores every method's row repeats, so pooling its rows as they stand would count the
    same predictions once per method and narrow P's interval by the square root of the
    method count."""
    return runs.drop_duplicates(["dataset", "backbone", "seed"])


def ablation_claims(rows: pd.DataFrame, paper_sequences: list,
                    regime: list[str]) -> list[Claim]:
    """The P / P+U / P+U+A ordering, each step's forget accuracy pooled over every run
    (datasets, backbones, methods, seeds; each prior P once, `one_per_prior`) and forget
    image. The paper reads it row by row
    ("the complete CMIRA method consistently demonstrates the best performance in the vast
    majority"), so the claims ask for the pooled step above 0. Not testable when the
    ablation did not run or the regime is not the paper's. Only the runs that ran the
    ablation count (`ablated`)."""
    rows = ablated(rows)
    tested = set(STAGES) <= set(rows.components)
    reasons = [*regime, unmet(tested, "the ablation (P, P+U) did not run")]
    runs = ({stage: one_per_prior(stage_runs(rows, stage)) if stage == "p"
             else stage_runs(rows, stage) for stage in STAGES} if tested else {})

    def step(after: str, before: str) -> Interval:
        if not tested:
            return Interval(math.nan, -math.inf, math.inf, "not run")
        return pooled_gain(runs[after], runs[before])

    def beats(stage: int) -> float:  # % of the paper's rows where P+U+A beats `stage`
        return 100 * np.mean([s[2] > s[stage] for s in paper_sequences])

    paper_ordered = share_in_order(paper_sequences)
    return [
        judge_each("ablation_order_p_pu_pua",
                   "The full model beats the ablations: forget accuracy P < P+U < P+U+A.",
                   f"{verdict(paper_ordered == 1)} ({100 * paper_ordered:.0f}% of rows)",
                   {"P+U - P": step("p+u", "p"), "P+U+A - P+U": step("p+u+a", "p+u")},
                   label="forget accuracy gained", unmet_reasons=reasons),
        judge("pua_beats_pu", "P+U+A beats P+U (mutual distillation beats one-way "
              "distillation).", f"{beats(1):.0f}% of rows", step("p+u+a", "p+u"),
              label="P+U+A - P+U", unmet_reasons=reasons),
        judge("pua_beats_p", "P+U+A beats P (mutual distillation adds to the probing prior).",
              f"{beats(0):.0f}% of rows", step("p+u+a", "p"), label="P+U+A - P",
              unmet_reasons=reasons)]


def backbone_claims(rows: pd.DataFrame, paper_rows: pd.DataFrame,
                    regime: list[str]) -> list[Claim]:
    """VGG-16 is more susceptible than ResNet-18: over the matched runs (dataset, method,
    seed) that do not tie, the share where VGG-16's R_R is above ResNet-18's, with its
    Wilson interval, above one half (a sign test, ties left out: a tie is neither more nor
    less susceptible; R_R is a ratio that explodes near Acc_U = 0, so its mean would be one
    run's). A higher rate of recovery presupposes recovery: each backbone's
    R_I, pooled over its runs, must be above 0."""
    runs = _cmira_runs(rows)
    architecture = architectures(rows)
    by_arch = runs.assign(backbone=runs.backbone.map(architecture))
    present = set(by_arch.backbone)
    reasons = [*regime, unmet({"vgg16_bn", "resnet18"} <= present,
                              "VGG-16 and ResNet-18 do not both have runs to judge (run, "
                              "and in the paper's regime)")]
    if not any(reasons):
        # each backbone's recovery over the runs the other backbone has too (the same
        # dataset, method and seed): the runs the effect below compares
        keys = ["dataset", "method", "seed"]
        both = by_arch.groupby(keys).backbone.transform("nunique") == 2
        for name in ("vgg16_bn", "resnet18"):
            gain = recovery_gain(by_arch[both & (by_arch.backbone == name)])
            reasons.append(unmet(side(gain) == HELD,
                                 f"{name} shows no recovery to compare: R_I "
                                 f"{gain.text()}, not above 0"))
    rates = _matched(by_arch, "backbone", "r_r")
    effect = Interval(math.nan, -math.inf, math.inf, "0 matched runs")
    if {"vgg16_bn", "resnet18"} <= set(rates.columns):
        pairs = rates[["vgg16_bn", "resnet18"]].dropna()
        higher = int((pairs.vgg16_bn > pairs.resnet18).sum())
        lower = int((pairs.vgg16_bn < pairs.resnet18).sum())
        reasons.append(unmet(higher + lower > 0 or pairs.empty,
                             f"all {len(pairs)} matched runs tie"))
        effect = wilson(higher, higher + lower,
                        unit=f"{MATCHED} that do not tie ({len(pairs) - higher - lower} tie)")
    return [judge("vgg_more_susceptible",
                  "VGG-16 is more susceptible than ResNet-18 (higher R_R).",
                  f"{verdict(vgg_more_susceptible(paper_rows))} (median R_R, Table 1)",
                  effect, boundary=0.5, unmet_reasons=reasons,
                  label="share of matched runs that do not tie where VGG-16's R_R is above "
                        "ResNet-18's")]


def claims(results: Results) -> list[Claim]:
    """Every claim of the chapter, checked on this run's rows (with intervals) and on the
    paper's tables. The claims are judged on the rows (dataset, backbone) in the regime
    they rest on (`in_regime`), each naming the rows left out and why; with none left, every
    claim is not testable, with every row's reasons."""
    rows = results.rows
    kept = in_regime(rows)
    if kept.empty:
        return _claims_on(rows, regime_reasons(rows))
    left_out = regime_reasons(rows)
    found = _claims_on(kept, [])
    if not left_out:
        return found
    judged = spoken_list(f"({d}, {b})" for d, b in dict.fromkeys(zip(kept.dataset,
                                                                       kept.backbone)))
    note = (f"; judged on {judged} alone, without the rows outside the paper's regime ("
            + "; ".join(left_out) + ")")
    return [replace(claim, here=claim.here + note) for claim in found]


def _claims_on(rows: pd.DataFrame, regime: list[str]) -> list[Claim]:
    paper_rows = paper_recovery_frame()
    return [*recovery_claims(rows, paper_rows, regime),
            *classwise_claims(rows, paper_classwise_gains(), regime),
            *ablation_claims(rows, paper_ablation_sequences(), regime),
            *backbone_claims(rows, paper_rows, regime),
            other_classes_claim(rows, regime)]


OTHER_CLASSES_MARGIN = 0.05  # a loss of more than five points on the other classes is a
# sacrifice by any reading; the paper gives no number ("without sacrificing accuracy")


def other_classes_claim(rows: pd.DataFrame, regime: list[str]) -> Claim:
    """Figure 6: P+U+A "manages to balance performance across both forgetting and
    non-forgetting classes, without sacrificing accuracy in either set". Read here: its
    accuracy on the held-out images of the non-forget classes against the probing prior P's
    (the attack model before the rounds; each prior once, `one_per_prior`) and against the
    unlearned model M_U's on the same images (P learned from few labelled images, so
    beating it alone could be trivial), each pooled over the runs with Newcombe's interval
    and above -OTHER_CLASSES_MARGIN, both to hold. Not testable without the ablation's P
    runs or outside the paper's regime."""
    tested = {"p", "p+u+a"} <= set(rows.components)
    pua, pua_ablated = stage_runs(rows, "p+u+a"), stage_runs(ablated(rows), "p+u+a")
    pairs = {"P": (pua_ablated.attack, one_per_prior(stage_runs(rows, "p")).attack),
             "M_U": (pua.attack, pua.unlearned)}  # P+U+A against each, on the same runs
    scored = {name: (_other_scores(after), _other_scores(before))
              for name, (after, before) in pairs.items()}
    scored_all = all(side for sides in scored.values() for side in sides)
    reasons = [*regime, unmet(tested, "the ablation's P runs did not run"),
               unmet(not tested or scored_all,
                     "no held-out image of the non-forget classes was scored")]
    effects = {f"P+U+A - {name}": (_other_gain(*scored[name]) if tested and scored_all else
                                   Interval(math.nan, -math.inf, math.inf, "not run"))
               for name in pairs}
    return judge_each("pua_keeps_other_classes",
                      "P+U+A recovers the forget classes without sacrificing the others "
                      "(Figure 6).", "Figure 6 (qualitative; no number)", effects,
                      label=f"accuracy on the other classes, above "
                            f"-{100 * OTHER_CLASSES_MARGIN:g} points to hold",
                      boundary=-OTHER_CLASSES_MARGIN, unmet_reasons=reasons)


def _other_scores(models) -> list[tuple[float, int]]:
    """(accuracy, images) on the held-out images of the other classes, of the models that
    scored any."""
    return [(m["other_acc"], m["other_count"]) for m in models if m.get("other_count", 0) > 0]


def _other_gain(after: list, before: list) -> Interval:
    (acc_a, n_a), (acc_b, n_b) = zip(*after), zip(*before)
    return rate_difference(_correct(acc_a, n_a), sum(n_a), _correct(acc_b, n_b), sum(n_b),
                           unit="held-out images")


def _listed(methods) -> str:
    return spoken_list((m.upper() for m in methods), empty="no method")


def ablation_reading(rows: pd.DataFrame) -> str:
    """What this run says about where the recovery comes from, per method: P's forget
    accuracy against M_U's, P+U's against P's, and P+U+A's against P+U's and P's, each
    pooled over the method's runs and forget images and read by which side of 0 its
    interval lies (`pooled_gain`), never by bare means."""
    if ablation_sequences(rows) is None:
        return ("This run has no ablation (`ablation=False`): P and P+U were not run, so it "
                "cannot say how much of the recovery the probing prior gives.")
    methods = list(dict.fromkeys(rows.method))
    stages = {stage: stage_runs(ablated(rows), stage) for stage in STAGES}

    def sides(after: str, before: str, column_before: str = "acc_a") -> dict[str, list]:
        found = {HELD: [], NOT_HELD: [], INCONCLUSIVE: []}
        for method in methods:
            gain = pooled_gain(stages[after][stages[after].method == method],
                               stages[before][stages[before].method == method], "acc_a",
                               column_before)
            found.setdefault(side(gain), []).append(method)
        return found

    prior = sides("p", "p+u+a", "acc_u")  # P against M_U, on the same runs
    one_way, full, full_prior = sides("p+u", "p"), sides("p+u+a", "p+u"), sides("p+u+a", "p")
    return (f"In this run, pooling each method's runs (datasets, backbones and seeds) over "
            f"their forget images and reading each comparison by its {CONFIDENCE:.0%} "
            f"interval: the probing prior P is above M_U for "
            f"{_listed(prior[HELD])}, below it for {_listed(prior[NOT_HELD])} and not "
            f"clearly apart for {_listed(prior[INCONCLUSIVE])}. P+U is below P for "
            f"{_listed(one_way[NOT_HELD])} and above it for {_listed(one_way[HELD])}; "
            f"P+U+A is above P+U for {_listed(full[HELD])} and above P for "
            f"{_listed(full_prior[HELD])}.")


# ---------------------------------------------------------------------------------------
# The results file

RUN_FIELDS = ("dataset", "backbone", "seed", "method", "components", "rounds", "seconds",
              "acc_u", "acc_a", "r_i")


def records(frame: pd.DataFrame) -> list[dict]:
    """A table's rows as dicts, its index as columns, infinite rates as None (JSON)."""
    return frame.reset_index().replace([np.inf, -np.inf], None).to_dict("records")


def result_tables(rows: pd.DataFrame) -> dict:
    """The chapter's tables as the results file holds them: Table 1, the per-class Table 2,
    the ablation Table 3 and every run's key numbers."""
    found = summary(rows)
    acc_u, acc_a = class_means(rows, "unlearned"), class_means(rows, "attack")
    return {
        "table1": records(found),
        "table2_classwise": [{"dataset": d, "backbone": b, "method": m,
                              "acc_u": list(acc_u.loc[(d, b, m)]),
                              "acc_a": list(acc_a.loc[(d, b, m)]),
                              "a_r": found.a_r.loc[(d, b, m)]} for d, b, m in acc_u.index],
        "table3_ablation": records(stage_means(rows)),
        "runs": [{key: run[key] for key in RUN_FIELDS} for run in rows.to_dict("records")],
    }


# The columns `_with_recovery_metrics` derives: the results file leaves them out of its
# rows and reading it derives them again, so an infinite R_R comes back infinite.
DERIVED = ("acc_u", "acc_a", "r_i", "r_r", "a_r")
FIGURE_ONLY = ("confusion",)  # scores kept in memory for Figure 6, not in the results file


@dataclass
class Results:
    """What one run of the chapter measured: one row per attack (`recovery_study`'s rows,
    all that the tables, the claim rules and the headline read) and the class names the
    figures label (each dataset's forget classes, and all its classes with the forget
    classes first).

    The results file holds the tables (`result_tables`) and the rows without their derived
    columns (`DERIVED`, derived again on reading) and without each model's confusion
    matrix (Figure 6's). The confusion matrices, the kept models and the loaded datasets
    (`studies`: Figures 5 and 6) ride on `Results` outside the file, so a `Results` read
    back from a results file has its claims, headline and tables whole but cannot draw
    those two figures."""

    rows: pd.DataFrame
    forget_class_names: dict = field(default_factory=dict)  # dataset -> names
    class_names: dict = field(default_factory=dict)  # dataset -> names, forget classes first
    studies: Studies | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, found: Studies) -> "Results":
        """The results of `recovery_studies`."""
        return cls(found.rows, found.forget_class_names(),
                   {name: found.class_names_forget_first(name) for name in found.datasets},
                   found)

    def to_json(self) -> dict:
        """Plain lists and dicts (NaN stays NaN; the file writes it as null): the tables,
        then the rows and the class names that `from_json` reads."""
        rows = self.rows.drop(columns=[c for c in DERIVED if c in self.rows])
        for column in ("unlearned", "attack"):
            if column in rows:
                rows[column] = [{k: v for k, v in scores.items() if k not in FIGURE_ONLY}
                                for scores in rows[column]]
        return {**result_tables(self.rows), "rows": rows.to_dict("records"),
                "forget_class_names": self.forget_class_names, "class_names": self.class_names}

    @classmethod
    def from_json(cls, document: dict) -> "Results":
        """The inverse of `to_json`, also from a results file (null read back as NaN, the
        derived columns derived again)."""
        rows = pd.DataFrame([{k: _number_or_scores(v) for k, v in row.items()}
                             for row in document["rows"]])
        return cls(_with_recovery_metrics(rows), dict(document["forget_class_names"]),
                   dict(document["class_names"]))


def _number_or_scores(value):
    """A row's value from a results file: null as NaN, in a model's scores too."""
    if value is None:
        return math.nan
    if isinstance(value, dict):
        return {k: _number_or_scores(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number_or_scores(v) for v in value]
    return value


def run(params: dict, device=None) -> Results:
    """The chapter's experiment from its parameters (`Chapter.params`): `recovery_studies`,
    which checks every dataset's setting before any training, then runs CMIRA (and its
    ablation) on every unlearned model, side by side in worker processes where it can.
    `device`: the chapter's (default: its `device` parameter's)."""
    device = resolve_device(params.get("device", "auto")) if device is None else device
    config = CMIRAConfig(pretrain_epochs=params["pretrain_epochs"],
                         pretrain_lr=params["pretrain_lr"], rounds=params["rounds"],
                         round_epochs=params["round_epochs"], lr=params["attack_lr"],
                         tau=params["tau"], mixup_alpha=params["mixup_alpha"],
                         patience=params["patience"], head_width=params["head_width"])
    recipe = Recipe(epochs=params["epochs"], lr=params["lr"], batch_size=params["batch_size"],
                    augment=params["augment"])
    found = recovery_studies(
        params["dataset_names"], params["forget_classes"], params["methods"], params["seeds"],
        params["backbones"], config, recipe=recipe, device=device,
        forget_fraction=params["forget_fraction"], val_fraction=params["val_fraction"],
        hyperparameters=params["hyperparameters"],
        dataset_hyperparameters=params["dataset_hyperparameters"], ablation=params["ablation"],
        ablation_datasets=params["ablation_datasets"], probe_size=params["probe_size"], anchor_size=params["anchor_size"],
        figure_backbone=params["figure_backbone"], figure_methods=params["figure_methods"])
    return Results.of(found)


def headline(results: Results) -> dict[str, float]:
    """The chapter's headline numbers (what a sweep gathers): Table 1's accuracies and
    recovery ratios per dataset, backbone and method."""
    return named_numbers(records(summary(results.rows)), ("dataset", "backbone", "method"),
                         ("acc_u", "acc_a", "r_i", "a_r"))
