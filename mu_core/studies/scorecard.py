"""The privacy scorecard: every registered attack against every registered unlearning
method, on one trained model per forgetting setting, each cell judged against retraining.

For each setting (random, class-wise partial, whole-class forgetting) one split and one
trained model (seed `trained_seed`) are fixed, as in the NeurIPS 2023 unlearning
challenge: every method unlearns that model once per seed of `seeds` (N runs), and
retraining from scratch on the retain set gives N retrained models with the same seeds.
The rows are retraining (the reference), every registered method that supports the
setting, the researcher's `extra_methods` (`unlearn.external`), and `retrain_vs_retrain`:
N more retrained models (seeds offset by `REFERENCE_OFFSET`), scored like a method. Its
forgetting quality is the estimator's floor at this N (what "indistinguishable from
retraining" scores here), and every other cell of it should read "not distinguished".

Columns: the challenge's forgetting quality (`forgetting_quality`, per forget example
from the N retrained against the N unlearned models' logit-scaled confidences) and its
final score (times RA and TA relative to retraining); UA, RA, TA over the N runs; the
primary number of every registered attack (`attacks.registry.run`, with its seed fixed
to `trained_seed`: one instrument applied to every model) on the first `attack_runs` runs,
or the reason the setting cannot give what the attack needs (`registry.applicable`); the
run time.

A cell's verdict: "distinguishable from retraining" when the 95% interval of its
difference to retraining excludes zero (Welch over the runs; for forgetting quality,
paired over the forget examples against the retrain-vs-retrain floor), else "not
distinguished at this n", with the interval: indistinguishability is never proven.

The chapter calls `run(params)`, which checks every request (extra methods probed on an
untrained model) before any training and returns the `Results` that its tables, figures,
`claims(results)` and `headline(results)` read.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext
import math
import time
import warnings
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy import stats

from .. import cache, loops, models, plots, workers
from .. import data as datasets
from ..attacks import adapters, cmira
from ..attacks import registry as attack_registry
from ..claims import (CONFIDENCE, Claim, Interval, Part, forgot, judge_parts, mean_interval,
                      not_above, paired_difference, welch_difference, within)
from ..data import ImageData
from ..errors import ConfigError, check_seed, describe
from ..forgetting_quality import (DELTA, final_score, logit_scaled_confidence,
                                  per_example_epsilon, per_example_score, score_bins)
from ..metrics import accuracy, subset_predictions
from ..splits import Split, make_split, scored_split
from ..train import Recipe, predict, resolve_device
from ..unlearn import METHODS
from ..unlearn.external import load_external, probe_external, register_external
from ..zoo import check_plan_shape, plan, recipe_settings, trained_model, \
    unlearned_model
from . import spoken_list
from .baselines import FORGOT_SHARE

SETTINGS = ("random", "classwise", "class")
RETRAIN = "retrain"
REFERENCE = "retrain_vs_retrain"  # N more retrained models, scored like a method
REFERENCE_OFFSET = 10_000  # the reference row's seeds: the retrain row's plus this
QUALITY, FINAL = "forgetting_quality", "final_score"
SCORES = ("UA", "RA", "TA")
SECONDS = "seconds"
# The number of each attack's outcome the scorecard shows (every number is in the runs);
# an attack registered later shows its first number.
PRIMARY = {"mra_closed": "recall_gain_forget", "mra_open": "recall_gain_forget",
           "cmira": "r_i",  # R_R = R_I / Acc_U is infinite where Acc_U is 0
           "lira": "auc", "learned": "auc", "unlearnguard": "unlearning_executed",
           "inversion": "ssim_mean", "relearn_time": "epochs"}
DISTINGUISHABLE = "distinguishable from retraining"
NOT_DISTINGUISHED = "not distinguished at this n"
NOT_APPLICABLE = "not testable here"
NOT_MEASURED = "not measured"
REFERENCE_CELL = "reference"
MARKS = {DISTINGUISHABLE: "≠", NOT_DISTINGUISHED: "~"}
DISTANCE_CAP = 5.0  # the heat map's colour scale ends here (half-widths)
# The attacks a cross-paper claim reads, by setting, which run on the first `claim_runs`
# models of every row but the floor (`attack_plan`): adversarial_resists_mra's Welch
# interval over 2 models a side has 1 to 2 degrees of freedom (t = 12.7 at one).
CLAIM_ATTACKS = {"classwise": ("mra_closed", "mra_open")}
AGREEMENT_MARGIN = 0.1  # UnlearnGuard and LiRA agree when their shares differ by less


def quoted() -> dict:
    """The values the chapter's prose quotes (`run_quoted` adds the run's)."""
    return {"confidence": f"{CONFIDENCE:.0%}",
            "reference_row": REFERENCE, "agreement_margin": f"{AGREEMENT_MARGIN:g}",
            "forgot_share": f"{FORGOT_SHARE:.0%}"}


# ----------------------------------------------------------------------------- the request

@dataclass(frozen=True)
class Request:
    """Every checked choice of a run (plain data: a worker process receives it)."""

    dataset: str
    architecture: str
    recipe: Recipe
    specs: dict  # setting -> make_split arguments
    rows: dict  # setting -> row names, retrain first, the reference last
    skipped: dict  # setting -> {method: why it has no row}
    hyperparameters: dict  # setting -> {method: settings}
    seeds: tuple
    trained_seed: int
    attacks: dict  # attack -> its settings
    attack_runs: int
    delta: float
    extra_methods: tuple
    claim_runs: int  # `CLAIM_ATTACKS` run on this many models a row (at least attack_runs)


def forget_settings(params: dict) -> dict[str, dict]:
    """The settings asked for (`settings`), as `make_split` arguments on a stratified
    training subset of `train_size` with a `val_fraction` held out first."""
    common = {"train_size": params["train_size"], "val_fraction": params["val_fraction"]}
    specs = {"random": {"random_fraction": params["random_fraction"]},
             "classwise": {"forget_classes": list(params["forget_classes"]),
                           "forget_fraction": params["forget_fraction"]},
             "class": {"forget_classes": list(params["whole_classes"]),
                       "forget_fraction": 1.0}}
    return {name: {**specs[name], **common} for name in params["settings"]}


def row_method(row: str) -> str:
    """The unlearning method a row runs (the reference row retrains)."""
    return RETRAIN if row == REFERENCE else row


def row_seeds(row: str, seeds) -> list[int]:
    return [s + REFERENCE_OFFSET for s in seeds] if row == REFERENCE else list(seeds)


def attack_settings(name: str, params: dict) -> dict:
    """`attack_settings[name]`, LiRA's shadow models trained like the trained model unless
    it says otherwise."""
    given = dict((params.get("attack_settings") or {}).get(name, {}))
    if name == "lira":
        recipe = _recipe(params).as_dict()
        given = {"architecture": params["architecture"], "recipe": recipe, **given}
    return given


def check(params: dict, data: ImageData) -> Request:
    """Every request of the run, refused in one sentence before any training: settings,
    seeds, methods and their hyper-parameters (`zoo.plan`), attacks and their settings
    (`attacks.registry.check_request`), and each extra method (it imports, is callable,
    takes four arguments, and returns a model of the given architecture on a probe)."""
    settings = params["settings"]
    if isinstance(settings, str) or not list(settings) or \
            any(s not in SETTINGS for s in settings) or len(set(settings)) != len(settings):
        raise ConfigError(f"settings must be a non-empty list of distinct names from "
                          f"{', '.join(SETTINGS)}, got {describe(settings)}.")
    seeds = _check_seeds(params["seeds"])
    trained_seed = check_seed("trained_seed", params["trained_seed"])
    extra = _check_extra(params, data)
    check_plan_shape(params["methods"], seeds, params["hyperparameters"])
    methods = [m for m in params["methods"] if m != RETRAIN]
    specs = forget_settings(params)
    rows, skipped, hyperparameters = {}, {}, {}
    for setting, spec in specs.items():
        chosen = _setting_hyperparameters(params, setting)
        runs = plan(data, {setting: spec}, [RETRAIN, *methods, *extra], [trained_seed], chosen)
        ran = list(dict.fromkeys(method for _, _, method, _ in runs))
        kind = runs[0][3].kind
        skipped[setting] = {m: f"{m} does not support {kind} forgetting"
                            for m in methods if m not in ran}
        rows[setting] = [*ran, REFERENCE]
        hyperparameters[setting] = chosen
    attacks = _check_attacks(params, data)
    # at most one attacked model per seed; a dry run keeps the preset's counts, which its one
    # attacked model stands for (`attack_plan`), although it has one seed
    most = math.inf if loops.dry() else len(seeds)
    attack_runs = min(_check_attack_runs("attack_runs", params["attack_runs"]), most)
    claim_runs = _check_attack_runs("claim_runs", params.get("claim_runs", attack_runs))
    return Request(params["dataset"], params["architecture"], _recipe(params), specs, rows,
                   skipped, hyperparameters, tuple(seeds), trained_seed, attacks, attack_runs,
                   _check_delta(params["delta"]), tuple(extra),
                   min(max(claim_runs, attack_runs), most))


def _recipe(params: dict) -> Recipe:
    return Recipe(epochs=params["epochs"], lr=params["lr"], batch_size=params["batch_size"],
                  augment=params["augment"])


def _check_seeds(seeds) -> list[int]:
    if isinstance(seeds, (str, dict)) or not hasattr(seeds, "__iter__"):
        raise ConfigError(f"seeds must be a list of distinct non-negative integers below "
                          f"{REFERENCE_OFFSET}, got {describe(seeds)}.")
    seeds = [check_seed("a seed", s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or max(seeds) >= REFERENCE_OFFSET:
        raise ConfigError(f"seeds must be a non-empty list of distinct non-negative integers "
                          f"below {REFERENCE_OFFSET} (the reference row's seeds start there), "
                          f"got {seeds}.")
    return seeds


def _check_attack_runs(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be a whole number of runs, 0 or more (the first "
                          f"that many of each row's runs are attacked), got {describe(value)}.")
    return value


def _check_delta(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError(f"delta must be a number in (0, 1) (the challenge's is {DELTA:g}), "
                          f"got {describe(value)}.")
    return float(value)


def _setting_hyperparameters(params: dict, setting: str) -> dict:
    """`hyperparameters`, with `setting_hyperparameters[setting]` over them, method by
    method."""
    per_setting = params.get("setting_hyperparameters") or {}
    if not isinstance(per_setting, dict) or set(per_setting) - set(SETTINGS):
        raise ConfigError(f"setting_hyperparameters must map setting names "
                          f"({', '.join(SETTINGS)}) to {{method: settings}}, got "
                          f"{describe(per_setting)}.")
    merged = {m: dict(v) for m, v in params["hyperparameters"].items()}
    override = per_setting.get(setting) or {}
    check_plan_shape([RETRAIN], [0], override)
    for method, values in override.items():
        merged[method] = {**merged.get(method, {}), **values}
    return merged


def _check_attacks(params: dict, data: ImageData) -> dict[str, dict]:
    names, given = params["attacks"], params.get("attack_settings") or {}
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ConfigError(f"attacks must be a list of attack names; accepted: "
                          f"{', '.join(attack_registry.ATTACKS)}; got {describe(names)}.")
    if not isinstance(given, dict) or set(given) - set(attack_registry.ATTACKS):
        unknown = sorted(set(given) - set(attack_registry.ATTACKS)) \
            if isinstance(given, dict) else given
        raise ConfigError(f"attack_settings must map registered attacks to their settings "
                          f"(accepted: {', '.join(attack_registry.ATTACKS)}), got settings "
                          f"for {describe(unknown)}.")
    found = {}
    for name in names:
        settings = attack_settings(name, params)
        attack_registry.check_request(name, settings, data)
        found[name] = settings
    return found


def _check_extra(params: dict, data: ImageData) -> list[str]:
    """Each `extra_methods` path loaded (`load_external`), probed on an untrained model of
    the chapter's architecture and a few samples (`probe_external`), and registered."""
    paths = params.get("extra_methods") or []
    if isinstance(paths, str) or not isinstance(paths, (list, tuple)):
        raise ConfigError(f"extra_methods must be a list of 'package.module:function' paths, "
                          f"got {describe(paths)}.")
    if not paths:
        return []
    split = make_split(data, seed=0, **next(iter(forget_settings(params).values())))
    for path in paths:
        method = load_external(path)
        with torch.random.fork_rng(devices=[]):  # the probe must not change the run
            probe_external(method, models.create_for(params["architecture"], data), data,
                           split)
        register_external(path)
    return list(paths)


# --------------------------------------------------------------------------------- the run

@dataclass
class Results:
    """What one run measured: the settings, rows and requests (`Request`), the runs (one
    record per setting, row and run: UA, RA, TA, seconds, every attack's numbers as
    `<attack>/<number>`), the trained model of each setting (UA, RA, TA and, where LiRA
    ran, its numbers on it), each row's per-example forgetting-quality scores against the
    retrained models, and why an attack could not run in a setting."""

    specs: dict
    rows: dict
    skipped: dict
    seeds: list
    attack_runs: int
    attacks: list
    delta: float
    runs: pd.DataFrame
    trained: dict
    example_scores: dict  # setting -> {row: [H per forget example]}
    not_applicable: dict  # setting -> {attack: reason}
    floor_outputs: dict  # setting -> {retrain, reference row: outputs [models, examples]}
    claim_runs: int | None = None  # `CLAIM_ATTACKS`' models a row (None: attack_runs)

    def quality(self) -> pd.DataFrame:
        """`quality_table`."""
        return quality_table(self)

    def cells(self) -> pd.DataFrame:
        """`cells`."""
        return cells(self)

    def summary(self) -> pd.DataFrame:
        """`summary`."""
        return summary(self)

    def to_json(self) -> dict:
        """Plain lists and dicts: everything `from_json` reads back, the cells with their
        verdicts and the forgetting-quality table."""
        return {"specs": self.specs, "rows": self.rows, "skipped": self.skipped,
                "seeds": list(self.seeds), "attack_runs": self.attack_runs,
                "attacks": list(self.attacks), "delta": self.delta,
                "runs": self.runs.to_dict("records"), "trained": self.trained,
                "example_scores": self.example_scores, "not_applicable": self.not_applicable,
                "floor_outputs": self.floor_outputs, "claim_runs": self.claim_runs,
                "quality": self.quality().reset_index().to_dict("records"),
                "cells": self.cells().to_dict("records")}

    @classmethod
    def from_json(cls, document: dict) -> "Results":
        """The inverse of `to_json`, also from a results file (null read back as NaN)."""
        runs = pd.DataFrame(document["runs"])
        for column in runs.columns:
            if column not in ("setting", "row", "method", "cached"):
                runs[column] = pd.to_numeric(runs[column], errors="coerce")
        return cls(document["specs"], document["rows"], document["skipped"],
                   list(document["seeds"]), document["attack_runs"], list(document["attacks"]),
                   document["delta"], runs, document["trained"], document["example_scores"],
                   document["not_applicable"], document["floor_outputs"],
                   document.get("claim_runs"))


def run(params: dict, device=None) -> Results:
    """The chapter's experiment from its parameters (`Chapter.params`): `check`, then each
    setting's rows (`score_setting`)."""
    device = resolve_device(params.get("device", "auto")) if device is None else device
    data = datasets.load(params["dataset"]).to(device)
    request = check(params, data)
    found = [score_setting(data, request, setting, device) for setting in request.specs]
    runs = pd.concat([f[0] for f in found], ignore_index=True)
    return Results(request.specs, request.rows, request.skipped, list(request.seeds),
                   request.attack_runs, list(request.attacks), request.delta, runs,
                   {s: f[1] for s, f in zip(request.specs, found)},
                   {s: f[2] for s, f in zip(request.specs, found)},
                   {s: f[3] for s, f in zip(request.specs, found)},
                   {s: f[4] for s, f in zip(request.specs, found)}, request.claim_runs)


def score_setting(data: ImageData, request: Request, setting: str, device):
    """One setting: its trained model and what the attacks need built first (into the
    cache the workers share), then every row (`score_row`), side by side in worker
    processes where `workers.run_each` can. Returns (runs, trained record, per-example
    scores per row, not-applicable reasons, the retrain and reference rows' outputs)."""
    split = make_split(data, seed=request.trained_seed, **request.specs[setting])
    with loops.once_per_run():  # one trained model, prior and shadow set a setting
        trained = trained_model(data, split, request.architecture, request.recipe,
                                seed=request.trained_seed)
        where = attack_registry.Setting(data, split, trained[0])
        verdicts = {name: attack_registry.applicable(name, where) for name in request.attacks}
        usable = prepared_attacks(data, split, request,
                                  [n for n, (ok, _) in verdicts.items() if ok])
        trained_record = score_trained(data, split, trained[0], request, usable)
    rows = request.rows[setting]
    attacked = attack_plan(rows, list(usable), setting, request)
    if not cache.enabled() or workers.real_worker_count(len(rows), device) == 1:
        found = [score_row(data, split, trained, request, setting, row, usable, attacked[row])
                 for row in loops.track(rows, f"scorecard {setting}", unit="row")]
    else:  # the two retraining rows (2N full trainings) first: no worker idles at the end
        state = prepared_state(usable)
        order = sorted(rows, key=lambda row: row_method(row) != RETRAIN)
        done = workers.run_each(_row_piece, [(request, setting, row, list(usable), state,
                                              device, attacked[row]) for row in order],
                                device=device, desc=f"scorecard {setting}")
        found = [dict(zip(order, done))[row] for row in rows]
    records = [r for piece, _ in found for r in piece]
    outputs = {row: out for row, (_, out) in zip(rows, found)}
    return (pd.DataFrame(records), trained_record, example_scores(outputs, request.delta),
            {name: reason for name, (ok, reason) in verdicts.items() if not ok},
            {row: outputs[row].tolist() for row in (RETRAIN, REFERENCE)})


def attack_plan(rows, attacks, setting: str, request: Request) -> dict[str, dict[str, int]]:
    """How many of each row's runs (its first) each attack runs on: `attack_runs`, and
    `claim_runs` for the attacks a cross-paper claim reads in this setting
    (`CLAIM_ATTACKS`) on every row but the floor. In a dry run, the first run of one row,
    the first method's (retraining where the setting has none): every attack costs the
    same on every row's network and one run proves it on the preset's networks (attacking
    every row repeated each attack's untimed dry steps on full-width networks some forty
    times: the paper dry run did not end in 13 minutes). There each attack's count is the
    runs it stands for in the real run (`score_row` prices its one run so: `loops.stands_for`),
    all rows together; the dry run has one seed, so it attacks the first run alone."""
    more = CLAIM_ATTACKS.get(setting, ())
    plan = {row: {a: request.claim_runs if a in more and row != REFERENCE
                  else request.attack_runs for a in attacks} for row in rows}
    if loops.dry():
        methods = [r for r in rows if r not in (RETRAIN, REFERENCE)] or [RETRAIN]
        return {row: {a: sum(plan[r][a] for r in rows) if row == methods[0] else 0
                      for a in attacks} for row in rows}
    return plan


def prepared_attacks(data: ImageData, split: Split, request: Request, names,
                     prepared: dict | None = None) -> dict[str, dict]:
    """The settings of each attack `names` lists, with what every model's run of it would
    build the same way built once here: CMIRA's prior, pretrained on the probing set from
    the attack's fixed seed exactly as its adapter does (which then copies it per model),
    and LiRA's shadow models' statistics on its pool (`adapters.lira_shadow_statistics`),
    or both taken from `prepared` (`prepared_state` of a parent's: what a worker process
    receives, since a parametrized module does not pickle)."""
    prepared = prepared or {}
    found = {name: dict(request.attacks[name]) for name in names}
    lira_settings = found.get("lira")
    if lira_settings is not None and lira_settings.get("shadow_statistics") is None:
        lira_settings["shadow_statistics"] = prepared.get("lira") \
            if prepared.get("lira") is not None else adapters.lira_shadow_statistics(
                data, split, seed=request.trained_seed, **lira_settings)
    prior_state = prepared.get("cmira")
    cmira_settings = found.get("cmira")
    if cmira_settings is not None and cmira_settings.get("prior") is None:
        seed = request.trained_seed
        config = cmira.CMIRAConfig(**{k: v for k, v in cmira_settings.items()
                                      if k not in adapters.CMIRA_EXTRA})
        prior = cmira.lipsoftmax_model(cmira_settings.get("backbone", "cnn"), data,
                                       head_width=config.head_width,
                                       seed=seed + cmira.ATTACK_SEED_OFFSET,
                                       **(cmira_settings.get("backbone_options") or {}))
        if prior_state is not None:
            prior.load_state_dict(prior_state)
        else:
            cmira.pretrain(prior, data, cmira.probing_set(
                data, split, cmira_settings.get("probe_size"), seed), config, seed=seed)
        cmira_settings["prior"] = prior
    return found


def prepared_state(usable: dict) -> dict:
    """What `prepared_attacks` built, in a form that pickles to a worker process: CMIRA's
    prior as its state dict, LiRA's shadow statistics as they are."""
    prior = usable.get("cmira", {}).get("prior")
    return {"cmira": None if prior is None else prior.state_dict(),
            "lira": usable.get("lira", {}).get("shadow_statistics")}


def score_trained(data: ImageData, split: Split, trained, request: Request, usable) -> dict:
    """UA, RA and TA of the trained model and, where LiRA runs, LiRA on it (its shadow
    models are built here, once, into the cache every row's LiRA reads), with the counts
    of members and non-members its AUC rests on."""
    record = scores(trained, data, split)
    if "lira" in usable:
        outcome = attack_registry.run("lira", trained, data, split, trained=trained,
                                      seed=request.trained_seed, **usable["lira"])
        record |= {f"lira/{k}": v for k, v in outcome.items()}
        record |= {"lira_members": len(split.forget), "lira_non_members": len(split.train)}
    return record


def _row_piece(request: Request, setting: str, row: str, names, prepared: dict, device,
               attacked: dict):
    """`score_row` in a worker process: the data loaded, the trained model from the cache,
    an extra method registered again (a spawned process starts without it), the attacks
    `names` prepared from the parent's `prepared` (`prepared_state`, `prepared_attacks`)."""
    data = datasets.load(request.dataset).to(device)
    for path in request.extra_methods:
        register_external(path)
    split = make_split(data, seed=request.trained_seed, **request.specs[setting])
    trained = trained_model(data, split, request.architecture, request.recipe,
                            seed=request.trained_seed)
    usable = prepared_attacks(data, split, request, names, prepared)
    return score_row(data, split, trained, request, setting, row, usable, attacked)


def score_row(data: ImageData, split: Split, trained, request: Request, setting: str,
              row: str, usable, attacked: dict) -> tuple[list[dict], np.ndarray]:
    """Each run of `row` (one per seed): the unlearned model's UA, RA, TA and run time,
    each `usable` attack on the first `attacked[attack]` runs (`attack_plan`), the forget set's
    logit-scaled confidences (the forgetting quality's outputs). Returns (records,
    outputs [runs, forget examples])."""
    method = row_method(row)
    settings = dict(request.hyperparameters[setting].get(method, {}))
    if method == RETRAIN:
        settings = {**recipe_settings(request.recipe), **settings}
    records, outputs = [], []
    for index, seed in enumerate(loops.track(row_seeds(row, request.seeds), row, unit="model")):
        model, meta = unlearn_once(data, split, method, trained, {**settings, "seed": seed},
                                   external=method in request.extra_methods)
        record = {"setting": setting, "row": row, "method": method, "run": index, "seed": seed,
                  **scores(model, data, split), SECONDS: meta["seconds"],
                  "cached": bool(meta.get("cached"))}
        for name in usable:
            if index < attacked[name]:
                started = time.perf_counter()
                with loops.stands_for(attacked[name]) if loops.dry() else nullcontext():
                    outcome = attack_registry.run(name, model, data, split,
                                                  trained=trained[0],
                                                  seed=request.trained_seed, **usable[name])
                record |= {f"{name}/{key}": value for key, value in outcome.items()}
                record[f"{name}/{SECONDS}"] = time.perf_counter() - started
        records.append(record)
        outputs.append(forget_outputs(model, data, split))
    return records, np.stack(outputs)


def unlearn_once(data: ImageData, split: Split, method: str, trained, settings: dict, *,
                 external: bool):
    """(unlearned model, meta with `seconds`): a registered method through the model cache
    (`zoo.unlearned_model`); an external method on a copy, never cached (its code may change
    under the same path)."""
    if not external:
        return unlearned_model(data, split, method, trained, **settings)
    model = copy.deepcopy(trained[0])
    started = time.perf_counter()
    METHODS[method].run(model, data, split, **settings)
    return model.eval(), {"seconds": time.perf_counter() - started, "cached": False}


def scores(model, data: ImageData, split: Split) -> dict[str, float]:
    """UA, RA and TA (whole-class forgetting: TA on the remaining classes' test samples,
    `splits.scored_split`)."""
    scored, _ = scored_split(data, split)
    forget, retain, test = subset_predictions(model, data, scored)
    return {"UA": 1 - accuracy(forget[0].argmax(1), forget[1]),
            "RA": accuracy(retain[0].argmax(1), retain[1]),
            "TA": accuracy(test[0].argmax(1), test[1])}


def forget_outputs(model, data: ImageData, split: Split) -> np.ndarray:
    """The challenge's statistic on each forget example: the logit-scaled confidence of
    its label (`forgetting_quality.logit_scaled_confidence`)."""
    logits = predict(model, data, split.forget, output="logits")
    return logit_scaled_confidence(logits.numpy(), data.targets(split.forget).cpu().numpy())


def example_scores(outputs: dict[str, np.ndarray], delta: float) -> dict[str, list | None]:
    """Each row's per-example score H (report Section 4) of its outputs against the
    retrain row's, the reference row's included; None for the retrain row itself and
    where either side has fewer than 2 models (no epsilon can be estimated)."""
    retrained = outputs[RETRAIN]
    found = {}
    for row, unlearned in outputs.items():
        if row == RETRAIN or min(len(retrained), len(unlearned)) < 2:
            found[row] = None
            continue
        epsilon = per_example_epsilon(retrained, unlearned, delta)
        bins = score_bins(min(len(retrained), len(unlearned)))
        found[row] = per_example_score(epsilon, bins).tolist()
    return found


# ---------------------------------------------------------------------- the cells, judged

def columns(results: Results) -> list[str]:
    """The scorecard's columns: forgetting quality, final score, UA, RA, TA, each attack's
    primary number (`PRIMARY`), run time."""
    return [QUALITY, FINAL, *SCORES, *(primary_column(results, a) for a in results.attacks),
            SECONDS]


def primary_column(results: Results, attack: str) -> str:
    """`<attack>/<number>`: `PRIMARY[attack]`, or the attack's first recorded number."""
    if attack in PRIMARY:
        return f"{attack}/{PRIMARY[attack]}"
    recorded = [c for c in results.runs.columns if c.startswith(f"{attack}/")]
    return recorded[0] if recorded else f"{attack}/"


def _values(results: Results, setting: str, row: str, column: str) -> np.ndarray:
    runs = results.runs
    if column not in runs:
        return np.array([])
    chosen = runs[(runs.setting == setting) & (runs.row == row)][column]
    values = chosen.to_numpy(dtype=float)
    return values[np.isfinite(values)]


def quality_table(results: Results) -> pd.DataFrame:
    """Per setting and row: the forgetting quality F (mean H over the forget examples) with
    its interval over the examples, the mean RA and TA relative to retraining's, and the
    final score F x (RA/RA_R) x (TA/TA_R) with its interval (H times the ratios)."""
    records = []
    for setting, rows in results.rows.items():
        retrain = {s: float(np.mean(_values(results, setting, RETRAIN, s))) for s in ("RA", "TA")}
        for row in rows:
            scores_of_row = results.example_scores[setting].get(row)
            if scores_of_row is None:
                continue
            h = np.asarray(scores_of_row, dtype=float)
            ra, ta = (float(np.mean(_values(results, setting, row, s))) for s in ("RA", "TA"))
            measured = all(0 < v <= 1 for v in (retrain["RA"], retrain["TA"])) and \
                all(0 <= v <= 1 for v in (ra, ta))  # False for NaN
            ratio = final_score(1.0, ra, ta, retrain["RA"], retrain["TA"]) if measured \
                else math.nan
            quality = mean_interval(h, "forget examples")
            final = mean_interval(h * ratio, "forget examples")
            records.append({"setting": setting, "row": row, QUALITY: quality.estimate,
                            f"{QUALITY}_low": quality.low, f"{QUALITY}_high": quality.high,
                            "RA_ratio": ra / retrain["RA"] if measured else math.nan,
                            "TA_ratio": ta / retrain["TA"] if measured else math.nan,
                            FINAL: final.estimate, f"{FINAL}_low": final.low,
                            f"{FINAL}_high": final.high, "examples": len(h)})
    return pd.DataFrame(records).set_index(["setting", "row"]) if records else \
        pd.DataFrame(columns=[QUALITY, FINAL])


def cell(results: Results, setting: str, row: str, column: str,
         quality: pd.DataFrame | None = None) -> dict:
    """One cell: the row's mean, retraining's, the difference's interval and the verdict
    (`DISTINGUISHABLE`, `NOT_DISTINGUISHED`; `REFERENCE_CELL` for retraining itself and the
    floor; `NOT_APPLICABLE` with the registry's reason; `NOT_MEASURED` without values).
    `quality`: the run's `quality_table`, when the caller has it."""
    base = {"setting": setting, "row": row, "column": column, "mean": math.nan,
            "retrain_mean": math.nan, "estimate": math.nan, "low": math.nan,
            "high": math.nan, "n": "", "verdict": NOT_MEASURED, "reason": ""}
    attack = column.split("/")[0] if "/" in column else None
    reason = results.not_applicable.get(setting, {}).get(attack)
    if reason:
        return base | {"verdict": NOT_APPLICABLE, "reason": reason}
    if column in (QUALITY, FINAL):
        table = results.quality() if quality is None else quality
        return base | _quality_cell(results, table, setting, row, column)
    values, retrained = (_values(results, setting, r, column) for r in (row, RETRAIN))
    base |= {"mean": float(values.mean()) if len(values) else math.nan,
             "retrain_mean": float(retrained.mean()) if len(retrained) else math.nan}
    if row == RETRAIN:
        return base | {"verdict": REFERENCE_CELL}
    if not len(values) or not len(retrained):
        return base | {"reason": f"no finite {column} among the attacked models of "
                                 f"{row if not len(values) else RETRAIN}"}
    judged = _judged(_welch(values, retrained))
    if np.ptp(values) == 0 and np.ptp(retrained) == 0 and judged["estimate"] != 0:
        judged["verdict"] = separated(len(values), len(retrained))
    return base | judged


def separated(count: int, other: int) -> str:
    """The verdict on two samples that do not vary and differ, where Welch's interval is a
    point: complete separation, whose two-sided permutation p-value is 2 / C(n + m, n)
    (two models against two: 1/3, never evidence; five against five: 1/126)."""
    p_value = 2 / math.comb(count + other, count)
    return DISTINGUISHABLE if p_value < 1 - CONFIDENCE else NOT_DISTINGUISHED


def _quality_cell(results: Results, table: pd.DataFrame, setting: str, row: str,
                  column: str) -> dict:
    if (setting, row) not in table.index:
        return {"verdict": REFERENCE_CELL if row == RETRAIN else NOT_MEASURED,
                "reason": "" if row == RETRAIN else "fewer than 2 models on a side"}
    found = {"mean": float(table.loc[(setting, row), column])}
    if (setting, REFERENCE) in table.index:
        found["retrain_mean"] = float(table.loc[(setting, REFERENCE), column])
    if row == REFERENCE:
        return found | {"verdict": REFERENCE_CELL}
    if (setting, REFERENCE) not in table.index:
        return found
    ratio = {r: table.loc[(setting, r), "RA_ratio"] * table.loc[(setting, r), "TA_ratio"]
             if column == FINAL else 1.0 for r in (row, REFERENCE)}
    scores_of = results.example_scores[setting]
    effect = paired_difference(np.asarray(scores_of[row]) * ratio[row],
                               np.asarray(scores_of[REFERENCE]) * ratio[REFERENCE],
                               unit="forget examples")
    return found | _judged(effect)


def _judged(effect: Interval) -> dict:
    apart = effect.finite and (effect.low > 0 or effect.high < 0)
    return {"estimate": effect.estimate, "low": effect.low, "high": effect.high, "n": effect.n,
            "verdict": DISTINGUISHABLE if apart else NOT_DISTINGUISHED}


def cells(results: Results) -> pd.DataFrame:
    """Every cell of every setting (`cell`), one record each."""
    quality = results.quality()
    return pd.DataFrame([cell(results, setting, row, column, quality)
                         for setting, rows in results.rows.items() for row in rows
                         for column in columns(results)])


def distance(frame: pd.DataFrame) -> pd.Series:
    """Each judged cell's distance from retraining: |difference| over its interval's
    half-width (1 is where the interval starts to exclude zero), capped at
    `DISTANCE_CAP`; NaN for cells that are not judged. A point interval (neither side
    varies) is 0 for no difference, the cap for a `separated` one, and NaN (undefined) for
    a difference too few models cannot separate."""
    half = (frame.high - frame.low) / 2
    judged = frame.verdict.isin([DISTINGUISHABLE, NOT_DISTINGUISHED])
    point = np.where(frame.estimate.abs() == 0, 0.0,
                     np.where(frame.verdict == DISTINGUISHABLE, DISTANCE_CAP, np.nan))
    ratio = np.where(half > 0, frame.estimate.abs() / half.where(half > 0, 1.0), point)
    return pd.Series(np.where(judged, np.minimum(ratio, DISTANCE_CAP), np.nan),
                     index=frame.index)


def scorecard_table(results: Results, setting: str, digits: int = 3) -> pd.DataFrame:
    """The setting's scorecard: rows x columns, each cell the row's mean and its verdict's
    mark (`MARKS`: ≠ distinguishable from retraining, ~ not distinguished at this n);
    retraining's own cells and the floor unmarked; a cell an attack cannot fill reads
    "not testable here" (`not_applicable_table` says why)."""
    frame = cells(results)
    frame = frame[frame.setting == setting]

    def text(record) -> str:
        if record.verdict == NOT_APPLICABLE:
            return NOT_APPLICABLE
        if not math.isfinite(record["mean"]):
            return "–"
        mark = MARKS.get(record.verdict, "")
        return f"{record['mean']:.{digits}f} {mark}".strip()
    table = frame.assign(text=frame.apply(text, axis=1)).pivot(index="row", columns="column",
                                                               values="text")
    return table.reindex(index=results.rows[setting], columns=columns(results))


def not_applicable_table(results: Results) -> pd.DataFrame:
    """Why an attack has no cells in a setting (`registry.applicable`), and why a method
    has no row."""
    records = [{"setting": s, "attack or method": a, "why": r}
               for s, found in results.not_applicable.items() for a, r in found.items()]
    records += [{"setting": s, "attack or method": m, "why": r}
                for s, found in results.skipped.items() for m, r in found.items()]
    return pd.DataFrame(records, columns=["setting", "attack or method", "why"])


def interval_table(results: Results, setting: str, digits: int = 3) -> pd.DataFrame:
    """The setting's judged cells: row, column, the difference to retraining (the floor for
    forgetting quality) with its interval and n, and the verdict."""
    frame = cells(results)
    frame = frame[(frame.setting == setting) & frame.verdict.isin(
        [DISTINGUISHABLE, NOT_DISTINGUISHED])]
    return frame.assign(difference=[Interval(e, lo, hi, n).text(digits) for e, lo, hi, n in
                                    zip(frame.estimate, frame.low, frame.high, frame.n)]
                        )[["row", "column", "difference", "verdict"]].reset_index(drop=True)


def summary(results: Results) -> pd.DataFrame:
    """Mean and std over the runs of every numeric column per (setting, row), with the
    forgetting quality and final score (std NaN: one value over the N models each): what
    the explorer reads."""
    numeric = [c for c in results.runs.columns
               if c not in ("setting", "row", "method", "run", "seed", "cached")]
    grouped = results.runs.assign(**{c: pd.to_numeric(results.runs[c], errors="coerce")
                                     for c in numeric}).groupby(["setting", "row"],
                                                                sort=False)[numeric]
    frame = pd.concat([grouped.mean().add_suffix("_mean"),
                       grouped.std(ddof=0).add_suffix("_std")], axis=1)
    quality = results.quality()
    for column in (QUALITY, FINAL):
        frame[f"{column}_mean"] = quality[column] if len(quality) else math.nan
        frame[f"{column}_std"] = math.nan
    return frame


# ---------------------------------------------------------------------------- the figures

def distance_figure(results: Results, setting: str):
    """Heat map of one setting: each judged cell's distance from retraining (`distance`),
    columns as rows and the methods across (retraining itself left out); "–" where a cell
    is not judged (the reasons are in `not_applicable_table`)."""
    frame = cells(results)
    frame = frame[(frame.setting == setting) & (frame.row != RETRAIN)]
    shown = [r for r in results.rows[setting] if r != RETRAIN]
    grid = frame.assign(distance=distance(frame)).pivot(index="column", columns="row",
                                                        values="distance")
    grid = grid.reindex(index=columns(results), columns=shown).rename(index=column_label)
    fig = plots.heatmap_panels({setting: grid}, fmt="{:.1f}", cmap="Reds",
                               title="distance from retraining: |difference| / its interval's "
                                     "half-width (1 or more: distinguishable)")
    for ax in fig.axes[:1]:
        plt.setp(ax.get_xticklabels(), rotation=45, ha="right")
    return fig


def column_label(column: str) -> str:
    """A column's short name: the attack for an attack's number."""
    return {QUALITY: "forgetting quality", FINAL: "final score"}.get(column,
                                                                     column.split("/")[0])

def ranking_figure(results: Results):
    """Per setting, the rows ranked by the challenge's final score, with its interval over
    the forget examples, in the book's method colours (the floor in retraining's, hollow)."""
    table = results.quality()
    settings = [s for s in results.rows if s in table.index.get_level_values(0)]
    fig, axes = plt.subplots(1, max(1, len(settings)), squeeze=False,
                             figsize=(3.6 * max(1, len(settings)), 0.6 + 0.3 * max(
                                 (len(r) for r in results.rows.values()), default=1)))
    for ax, setting in zip(axes.flat, settings):
        ranked = table.loc[setting].sort_values(FINAL)
        for position, (row, values) in enumerate(ranked.iterrows()):
            color = plots.method_color(row_method(row)) or "#333333"
            ax.errorbar(values[FINAL], position, xerr=[[values[FINAL] - values[f"{FINAL}_low"]],
                                                       [values[f"{FINAL}_high"] - values[FINAL]]],
                        fmt="o", color=color, capsize=2,
                        mfc="white" if row == REFERENCE else color)
        ax.set_yticks(np.arange(len(ranked)), list(ranked.index), fontsize=7)
        ax.set(xlabel="final score", title=setting)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------ cross-paper claims

def forget_accuracy(results: Results, setting: str, row: str) -> Interval:
    """1 - UA of the row's runs, the mean with its t interval over the models."""
    return mean_interval(1 - _values(results, setting, row, "UA"), "models")


def not_forgotten(results: Results, setting: str, row: str) -> str | None:
    """Why a claim on what `row` hid cannot be tested (`claims.forgot`): its forget accuracy
    is not below the trained model's, or not by `FORGOT_SHARE` of retraining's drop."""
    trained = 1 - results.trained[setting]["UA"]
    margin = max(FORGOT_SHARE * (trained - forget_accuracy(results, setting, RETRAIN).estimate),
                 0.0)
    return forgot(f"{row} ({setting})", forget_accuracy(results, setting, row), trained, margin)


def _difference(results: Results, setting: str, row: str, column: str) -> Interval:
    return _welch(_values(results, setting, row, column),
                  _values(results, setting, RETRAIN, column))


def _welch(values, retrained) -> Interval:
    """Welch's interval over the models; near-equal runs (RA 1.0 but one) make scipy warn
    of precision, which is no news here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return welch_difference(values, retrained, unit="models")


def _ran(results: Results, setting: str, rows, attacks=()) -> str | None:
    """Why a claim needs what did not run: the setting, a row, or an attack in it."""
    if setting not in results.rows:
        return f"the {setting} setting did not run"
    missing = [r for r in rows if r not in results.rows[setting]]
    if missing:
        return f"{spoken_list(missing)} did not run in the {setting} setting"
    for attack in attacks:
        if attack not in results.attacks:
            return f"the attack {attack} did not run"
        if attack in results.not_applicable.get(setting, {}):
            return f"not testable here: {results.not_applicable[setting][attack]}"
    runs = attacked_models(results, setting, attacks)
    if runs < 2:
        return f"attacks ran on {runs} model(s) a row; an interval needs 2"
    return None


def attacked_models(results: Results, setting: str, attacks=()) -> int:
    """The models of each row that `attacks` ran on in `setting` (`attack_plan`): the
    fewest among them."""
    more = results.claim_runs if results.claim_runs is not None else results.attack_runs
    claimed = CLAIM_ATTACKS.get(setting, ())
    return min((more if a in claimed else results.attack_runs for a in attacks),
               default=results.attack_runs)


def recall_signal(results: Results, setting: str, attack: str) -> str | None:
    """Why MRA has nothing to resist: no row's recall gain on the forget set is above
    retraining's with confidence (each interval reaches 0)."""
    column = f"{attack}/recall_gain_forget"
    rows = [r for r in results.rows[setting] if r not in (RETRAIN, REFERENCE)]
    lows = {r: _difference(results, setting, r, column) for r in rows}
    if any(e.finite and e.low > 0 for e in lows.values()):
        return None
    best = max(lows, key=lambda r: lows[r].estimate if math.isfinite(lows[r].estimate)
               else -math.inf, default=None)
    shown = f"; largest {best} {lows[best].text(3)}" if best else ""
    return f"{attack} recalls no more from any method than from retraining here{shown}"


def adversarial_resists_mra(results: Results, setting: str = "classwise") -> Claim:
    """The adversarial method (Sharma et al.) resists MRA's recall (Sui et al.): in
    class-wise partial forgetting, MRA's recall gain on the forget set from its models is not
    above its gain from retrained models (Welch over the attacked runs; per MRA case).
    Presupposes that the adversarial method forgot, and that MRA recalls more than from
    retraining from some method there (else there is nothing to resist)."""
    cases = [a for a in ("mra_closed", "mra_open") if a in results.attacks] or ["mra_closed"]
    reason = _ran(results, setting, ["adversarial", RETRAIN], cases) or \
        not_forgotten(results, setting, "adversarial")
    parts = {}
    if not reason:
        for attack in cases:
            effect = _difference(results, setting, "adversarial",
                                 f"{attack}/recall_gain_forget")
            parts[attack] = Part(effect, not_above(effect),
                                 recall_signal(results, setting, attack))
    return judge_parts(
        "adversarial_resists_mra_recall",
        "The adversarial method resists MRA's recall: in class-wise partial forgetting, "
        "MRA recalls no more of the forget set from its models than from retraining.",
        "not claimed by either paper: the adversarial-unlearning paper tests metric and "
        "learned MIAs only; the MRA paper does not run the adversarial method",
        parts, label="adversarial - retrain, recall gain on the forget set", outcomes=True,
        unmet_reasons=[reason])


def unlearnguard_agrees_with_lira(results: Results) -> Claim:
    """UnlearnGuard's verification (Xu et al.) agrees with LiRA on what was forgotten: in
    each setting where both run, the share of forget images it verifies as unlearned and
    the share LiRA calls non-members differ by less than `AGREEMENT_MARGIN` (paired over
    the attacked models of every row). The registry gives both as shares, so this tests
    agreement on how many, a necessary condition for agreement on which. Presupposes that
    LiRA has a signal on the trained model."""
    ug, lira = "unlearnguard/unlearning_executed", "lira/member_share"
    parts, reasons = {}, []
    for setting in results.rows:
        reason = _ran(results, setting, [RETRAIN], ["unlearnguard", "lira"])
        if reason:
            reasons.append(f"{setting}: {reason}")
            continue
        runs = results.runs[results.runs.setting == setting][[ug, lira]].astype(float).dropna()
        effect = paired_difference(runs[ug], 1 - runs[lira], unit="models")
        parts[setting] = Part(effect, within(effect, AGREEMENT_MARGIN),
                              lira_signal(results, setting))
    return judge_parts(
        "unlearnguard_agrees_with_lira",
        "UnlearnGuard's verification and LiRA agree on how much of the forget set was "
        f"forgotten (shares within {AGREEMENT_MARGIN:g}).",
        "not claimed by either paper: UnlearnGuard is checked against retraining, not "
        "against a membership attack", parts,
        label="UnlearnGuard's 'unlearning executed' share - LiRA's non-member share",
        outcomes=True, empty="; ".join(reasons) or None)


def lira_signal(results: Results, setting: str) -> str | None:
    """Why LiRA says nothing in `setting`: its AUC on the trained model (members: the forget
    set; non-members: unseen samples) has an interval (Hanley and McNeil's variance) that
    is not above 0.5."""
    record = results.trained[setting]
    if "lira/auc" not in record:
        return "LiRA did not run on the trained model"
    auc = hanley_mcneil(record["lira/auc"], record["lira_members"], record["lira_non_members"])
    if auc.low > 0.5:
        return None
    return (f"LiRA has no signal on the trained model: AUC {auc.text(3)}, not above 0.5")


def hanley_mcneil(auc: float, members: int, non_members: int) -> Interval:
    """An AUC's normal interval from Hanley and McNeil's (1982) variance, which needs only
    the AUC and the two counts."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (members - 1) * (q1 - auc * auc)
                + (non_members - 1) * (q2 - auc * auc)) / (members * non_members)
    half = stats.norm.ppf(0.5 + CONFIDENCE / 2) * math.sqrt(max(variance, 0.0))
    return Interval(auc, max(0.0, auc - half), min(1.0, auc + half),
                    f"{members} + {non_members} samples")


def claims(results: Results) -> list[Claim]:
    """The scorecard's cross-paper claims, in its order."""
    return [adversarial_resists_mra(results), unlearnguard_agrees_with_lira(results)]


def verdict_counts(results: Results) -> pd.DataFrame:
    """Per setting and row: how many of its judged cells are distinguishable from
    retraining, of how many."""
    frame = cells(results)
    judged = frame[frame.verdict.isin([DISTINGUISHABLE, NOT_DISTINGUISHED])]
    table = judged.assign(apart=judged.verdict == DISTINGUISHABLE).groupby(
        ["setting", "row"], sort=False).apart.agg(["sum", "count"])
    return table.rename(columns={"sum": "distinguishable", "count": "judged cells"})


def headline(results: Results) -> dict[str, float]:
    """Every row's forgetting quality, final score and mean UA, RA and TA in every setting,
    as its cells report them (`cell`'s `mean`)."""
    frame = cells(results)
    chosen = frame[frame.column.isin([QUALITY, FINAL, *SCORES])]
    return {f"{r.setting}/{r.row}/{r.column}": r["mean"] for _, r in chosen.iterrows()}


def left_out(methods, extra_methods=()) -> list[str]:
    """The registered methods a run leaves out (its `methods` and extra methods aside):
    what the chapter names as cut."""
    return [m for m in METHODS if m not in {*methods, *extra_methods, RETRAIN}]


def run_sentence(results: Results, methods, extra_methods=()) -> str:
    """What ran: models a row, settings, rows, attacks on how many models; and the
    registered methods this run leaves out (`left_out`)."""
    cut = left_out(methods, extra_methods)
    rows = sorted({r for rows in results.rows.values() for r in rows})
    return (f"{len(results.seeds)} models a row in {len(results.rows)} setting(s) "
            f"({spoken_list(results.rows)}); rows: {spoken_list(rows)}; "
            f"{len(results.attacks)} attacks on the first {results.attack_runs} model(s) of "
            f"each row. Registered methods this run leaves out (to keep the preset within "
            f"its time): {spoken_list(cut)}.")


def run_quoted(results: Results) -> dict:
    """The run's values the chapter's prose quotes: the models a row."""
    return {"models_per_row": len(results.seeds)}


def floor_by_n(results: Results) -> pd.DataFrame:
    """How N moves the estimate: the retrain-vs-retrain forgetting quality of each setting
    from the first n models of each side, for n = 2, 4, 8, ... below the models a row and
    that number itself (identical distributions on both sides, so every drop below 1 is
    the estimator's bias at that n)."""
    records = {}
    for setting, outputs in results.floor_outputs.items():
        retrained, other = (np.asarray(outputs[r]) for r in (RETRAIN, REFERENCE))
        available = min(len(retrained), len(other))
        counts = [2 ** k for k in range(1, available.bit_length()) if 2 ** k < available]
        records[setting] = {n: per_example_score(
            per_example_epsilon(retrained[:n], other[:n], results.delta), score_bins(n)).mean()
            for n in [*counts, available] if n >= 2}
    return pd.DataFrame(records).rename_axis("models a side")
