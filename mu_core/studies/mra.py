"""MRA (Sui et al.): recall attacks against the toolkit's unlearned models, scored on
`test` and `forget`, with the chapter's tables, figures and claim rules.

`recall_study` unlearns the trained model of each seed with each method (through the
model cache), runs each named attack on every unlearned
model and returns one row per (seed, method, attack) with the accuracies of the unlearned
model (ULM) and the recalled model (RCM), per forget class and as confusion rows. The
chapter runs five attacks (`attack_settings`): the closed-source attack (DST+STU), the
open-source one (DST+STU+TCH), DST alone for the ablation, and the two cases again with a
student of another architecture.

The paper's numbers (`mu_core.papers.mra`) stand beside ours for the dataset that runs, or
for CIFAR-10 where the paper has no rows for it (`paper_dataset`); each claim rule is
applied to them as to ours, on the forget set and on the test set where the paper claims
both.

The chapter calls `run(params)`, which checks its parameters, runs the attacks and returns
the `Results` that its tables, figures, `claims(results)` and `headline(results)` read.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .. import data as datasets
from .. import cache, loops, plots, workers
from ..attacks import registry
from ..attacks.mra import MRAConfig
from ..claims import (CONFIDENCE, HELD, NOT_HELD, Claim, Interval, Part, forgot, judge,
                      judge_each, judge_parts, mean_interval, paired_difference, part,
                      rate_difference, side, unmet, verdict, wilson)
from ..data import ImageData
from ..errors import ConfigError
from ..metrics import accuracy, accuracy_by_class, confusion_matrix
from ..papers import mra as paper
from ..splits import Split, make_split
from ..train import Recipe, predict, resolve_device
from ..zoo import plan, trained_model, unlearned_models
from . import mean_by_method, mean_std, sources_as_rows, spoken_list

SUBSETS = ("test", "forget")
# The ablation's stages (Table 4) and the attack that runs each; DST+STU and DST+STU+TCH are
# the closed- and open-source attacks themselves.
STAGES = {"DST": "dst", "DST+STU": "closed", "DST+STU+TCH": "open"}
STAGE_COMPONENTS = {"DST": "dst", "DST+STU": "dst+stu", "DST+STU+TCH": "dst+stu+tch"}
OTHER_STUDENT = {"closed": "closed, other student", "open": "open, other student"}
PRECISE_METHODS = ("salun", "unsc")  # the paper's "precise unlearning"
CASES = {"closed": "closed source", "open": "open source"}
CASES_COMPONENTS = {"closed": "dst+stu", "open": "dst+stu+tch"}
# The paper claims its gains on both subsets (Section 5.2); a claim on test has its forget
# twin's id with this suffix.
SUBSETS_CLAIMED = ("forget", "test")
ID_SUFFIX = {"forget": "", "test": "_test"}
# The paper's premise (Section 5.2): a ULM keeps at most this share of the trained model's
# forget accuracy (no ULM of the paper's Tables 2-3 keeps more than 0.35 of it).
FORGOT_LITTLE = 0.5
# A claim on what a method's ULM hid is tested only where it forgot: its forget accuracy
# below the trained model's by more than this (`claims.forgot`, interval over the seeds).
FORGOT_MARGIN = 0.2
# The paper's rows beside a dataset it did not run: CIFAR-10, the dataset of its Figures 3
# and 5 (and, like the offline digits, ten classes of small images).
FALLBACK_DATASET = "cifar10"
NO_PAPER_VALUE = "–"
NOT_GIVEN = "not given"
# The chapter's parameters shared by every attack, by their MRAConfig names.
SHARED_ATTACK_SETTINGS = ("rounds", "distill_epochs", "recall_epochs", "lr_unlearned",
                          "alpha_x", "alpha_y", "gamma_l", "gamma_s")


def attack_settings(params: dict) -> dict[str, dict]:
    """The chapter's five named attacks (`recall_study`'s `attacks`) from its parameters:
    "closed" (DST+STU, `tau_closed`, `lr_student_closed`) and "open" (DST+STU+TCH,
    `tau_open`, `lr_student_open`) with the `student`, "dst" (DST alone, for the ablation,
    as closed) and the two cases again with the `heterogeneous_student` ("closed, other
    student", "open, other student")."""
    shared = {name: params[name] for name in SHARED_ATTACK_SETTINGS}
    shared["batch_size"] = params["attack_batch_size"]
    closed = dict(shared, components="dst+stu", tau=params["tau_closed"],
                  lr_student=params["lr_student_closed"])
    open_source = dict(shared, components="dst+stu+tch", tau=params["tau_open"],
                       lr_student=params["lr_student_open"])
    student = dict(student=params["student"], student_options=params["student_options"])
    other = dict(student=params["heterogeneous_student"],
                 student_options=params["heterogeneous_options"])
    return {"closed": closed | student, "open": open_source | student,
            "dst": closed | student | {"components": "dst"},
            OTHER_STUDENT["closed"]: closed | other, OTHER_STUDENT["open"]: open_source | other}


def attack_restrictions(params: dict) -> dict[str, dict]:
    """`recall_study`'s `restrict`: DST alone runs on the `ablation_methods` and
    `ablation_seeds`, the other student on the `heterogeneous_seeds`; each a non-empty part
    of the chapter's `methods` or `seeds` (checked here, before any training)."""
    for name, among in (("ablation_methods", "methods"), ("ablation_seeds", "seeds"),
                        ("heterogeneous_seeds", "seeds")):
        chosen, allowed = params[name], list(params[among])
        if not isinstance(chosen, (list, tuple)) or not chosen \
                or any(value not in allowed for value in chosen):
            raise ConfigError(f"{name} must be a list of one or more of {among} {allowed}, "
                              f"got {chosen!r}.")
    other_seeds = {"seeds": params["heterogeneous_seeds"], "seed_list": "heterogeneous_seeds"}
    return {"dst": {"methods": params["ablation_methods"], "seeds": params["ablation_seeds"],
                    "seed_list": "ablation_seeds"},
            OTHER_STUDENT["closed"]: other_seeds, OTHER_STUDENT["open"]: other_seeds}


def recall_scores(model, data: ImageData, split: Split) -> dict:
    """Accuracy on test and forget, per forget class, the row-normalised confusion of the
    forget set (rows: the forget classes; columns: every class), and how many images each
    accuracy was measured on (`count`: test, forget and per forget class; a one-seed
    claim's interval is over them)."""
    test_pred = predict(model, data, split.test, output="logits").argmax(1)
    forget_pred = predict(model, data, split.forget, output="logits").argmax(1)
    forget_labels = data.targets(split.forget).cpu()
    per_class = accuracy_by_class(forget_pred, forget_labels, data.num_classes)
    confusion = confusion_matrix(forget_pred, forget_labels, data.num_classes, normalize=True)
    class_counts = torch.bincount(forget_labels, minlength=data.num_classes)
    return {"test": accuracy(test_pred, data.targets(split.test)),
            "forget": accuracy(forget_pred, forget_labels),
            "forget_per_class": per_class,
            "forget_confusion": confusion[list(per_class)],
            "count": {"test": len(split.test), "forget": len(split.forget),
                      "per_class": {c: int(class_counts[c]) for c in per_class}}}


def registry_name(spec: dict) -> str:
    """The registered attack (`attacks.registry`) that runs a chapter attack: MRA's open-source
    case for DST+STU+TCH, else the closed-source one (DST+STU, or DST alone)."""
    return "mra_open" if spec.get("components") == "dst+stu+tch" else "mra_closed"


def check_attacks(attacks: dict[str, dict], data: ImageData) -> dict[str, tuple[str, dict]]:
    """Each attack as (its registered name, its settings), checked up front by the
    registry's `check_request` (settings, ranges and the student built on `data`).

    An attack is a dict of `MRAConfig` fields plus optional `student` (an architecture name,
    default "cnn") and `student_options`.
    """
    checked = {}
    for name, spec in attacks.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"attack {name!r} must be a dict of MRA settings, got "
                              f"{type(spec).__name__}.")
        registry.check_request(registry_name(spec), spec, data)
        checked[name] = (registry_name(spec), dict(spec))
    return checked


def recall_study(data: ImageData, split_spec: dict, methods, seeds, attacks: dict[str, dict], *,
                 architecture: str, recipe: Recipe, hyperparameters: dict | None = None,
                 restrict: dict[str, dict] | None = None,
                 architecture_options: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Run every attack on every (seed, method) unlearned model, the trained model built as
    `architecture` with `architecture_options` (e.g. ``{"pretrained": True}``), each through
    the attack registry (`attacks.registry.run`).

    `restrict[attack]` may limit an attack to some `methods` and `seeds` (the ablation runs
    on four methods, for example), the seeds of the parameter its `seed_list` names (a dry
    run counts the attack once per seed of that list: `loops.per_seed_of`).
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
            recipe=recipe, hyperparameters=hyperparameters,
            architecture_options=architecture_options):
        if seed not in trained_scores:
            trained_scores[seed] = recall_scores(trained[0], data, split)
        ulm = recall_scores(unlearned, data, split)
        for name, (registered, settings) in attacks.items():
            limits = restrict.get(name, {})
            if method not in limits.get("methods", [method]) or \
                    seed not in limits.get("seeds", [seed]):
                continue
            start = time.perf_counter()
            with (loops.per_seed_of(limits["seed_list"]) if "seed_list" in limits
                  else nullcontext()):
                outcome = registry.run(registered, unlearned, data, split, trained=trained[0],
                                       seed=seed, **settings)
            rows.append({"seed": seed, "method": method, "attack": name,
                         "components": settings.get("components", MRAConfig.components),
                         "student": settings.get("student", "cnn"),
                         "seconds": time.perf_counter() - start, "ulm": ulm,
                         "rcm": recall_scores(outcome.model, data, split)})
    return pd.DataFrame(rows), trained_scores


def recall_studies(data: ImageData, name: str, split_spec: dict, methods, seeds,
                   attacks: dict[str, dict], *, architecture: str, recipe: Recipe,
                   hyperparameters: dict | None, restrict: dict[str, dict],
                   architecture_options: dict, device) -> tuple[pd.DataFrame, dict]:
    """`recall_study` of every (seed, method) as a piece of its own, side by side in worker
    processes where `workers.run_each` can (the attacks of one unlearned model are
    independent of every other's: two one-thread processes finish about 1.5 times the
    work of one two-thread process on 2 cores, `mu-book bench`'s MRA rounds), after the
    seeds' trained models are built into the cache they share. `data` is the loaded
    dataset (`name` for a worker to load). Without the cache, or where the pieces run in
    this process, one `recall_study` runs all. The rows come in `recall_study`'s order."""
    check_attacks(attacks, data)  # refused here, before any piece starts
    pieces = [(seed, method) for _, seed, method, _ in
              plan(data, {"recall": split_spec}, methods, seeds, hyperparameters or {})]
    if not cache.enabled() or workers.real_worker_count(len(pieces), device) == 1:
        return recall_study(data, split_spec, methods, seeds, attacks,
                            architecture=architecture, recipe=recipe,
                            hyperparameters=hyperparameters, restrict=restrict,
                            architecture_options=architecture_options)
    settings = (split_spec, attacks, architecture, recipe, hyperparameters, restrict,
                architecture_options, device)
    workers.run_each(_trained_piece, [(name, seed, split_spec, architecture, recipe,
                                       architecture_options, device) for seed in seeds],
                     device=device, desc="trained models")
    found = workers.run_each(_recall_piece, [(name, [seed], [method], *settings)
                                             for seed, method in pieces],
                             device=device, desc="MRA")
    rows = pd.concat([piece_rows for piece_rows, _ in found], ignore_index=True)
    trained = {seed: scores for _, piece_trained in found
               for seed, scores in piece_trained.items()}
    return rows, dict(sorted(trained.items(), key=lambda kv: list(seeds).index(kv[0])))


def _trained_piece(name: str, seed: int, split_spec: dict, architecture: str,
                   recipe: Recipe, architecture_options, device) -> None:
    """Build one seed's trained model into the cache (in a worker process)."""
    data = datasets.load(name).to(device)
    split = make_split(data, seed=seed, **split_spec)
    trained_model(data, split, architecture, recipe, seed=seed, **(architecture_options or {}))


def _recall_piece(name: str, seeds, methods, split_spec: dict, attacks, architecture: str,
                  recipe: Recipe, hyperparameters, restrict, architecture_options,
                  device) -> tuple[pd.DataFrame, dict]:
    """`recall_study` of some seeds and methods (in a worker process)."""
    return recall_study(datasets.load(name).to(device), split_spec, methods, seeds, attacks,
                        architecture=architecture, recipe=recipe,
                        hyperparameters=hyperparameters, restrict=restrict,
                        architecture_options=architecture_options)


@dataclass
class Results:
    """What one run of the chapter measured, all that its tables, figures, claim rules,
    headline and results file read: the dataset and its class names, Table 1's split sizes
    (`split_sizes`), the methods and seeds, the students, the seeds of the other student
    and the ablation's methods and seeds, the attack rows of `recall_study` (`rows`: one
    per (seed, method, attack), with the ULM's and RCM's `recall_scores`) and each seed's
    trained model's scores (`trained`)."""

    dataset: str
    class_names: list
    splits: dict
    methods: list
    seeds: list
    student: str
    other_student: str
    heterogeneous_seeds: list
    ablation_methods: list
    ablation_seeds: list
    rows: pd.DataFrame
    trained: dict

    def ablation(self) -> pd.DataFrame:
        """Table 4 here (`ablation_table`)."""
        return ablation_table(self.rows, self.trained, self.ablation_methods, self.ablation_seeds)

    def paper_ablation(self) -> pd.DataFrame:
        """The paper's Table 4 for the dataset that ran (`paper_ablation_table`)."""
        return paper_ablation_table(self.ablation_methods, self.dataset)

    def confusions(self) -> dict[str, dict]:
        """Figure 7's matrices, of the first ablation seed (`forget_confusions`)."""
        return forget_confusions(self.rows, self.ablation_methods, self.ablation_seeds[0])

    def forget_class_names(self) -> list[str]:
        """The forget classes' names, in the order of the confusion matrices' rows."""
        return [self.class_names[c] for c in forget_class_ids(self.rows)]

    def diagonals(self) -> pd.DataFrame:
        """Figure 7's diagonals (`confusion_diagonals`)."""
        return confusion_diagonals(self.confusions(), forget_class_ids(self.rows),
                                   self.class_names)

    def to_json(self) -> dict:
        """Plain lists and dicts (NaN stays NaN; the results file writes it as null): the
        chapter's tables (`results`), and what `from_json` needs besides: every attack row
        with its scores (`recall_rows`), the trained models' scores and the run's
        settings."""
        return {**results(self.rows, self.trained, self.ablation(), splits=self.splits,
                          diagonals=self.diagonals()),
                "recall_rows": [{**row, "ulm": scores_to_json(row["ulm"]),
                                 "rcm": scores_to_json(row["rcm"])}
                                for row in self.rows.to_dict("records")],
                "trained": {seed: scores_to_json(s) for seed, s in self.trained.items()},
                "dataset": self.dataset, "class_names": list(self.class_names),
                "methods": list(self.methods), "seeds": list(self.seeds),
                "student": self.student, "other_student": self.other_student,
                "heterogeneous_seeds": list(self.heterogeneous_seeds),
                "ablation_methods": list(self.ablation_methods),
                "ablation_seeds": list(self.ablation_seeds)}

    @classmethod
    def from_json(cls, document: dict) -> "Results":
        """The inverse of `to_json`, also from a results file (null read back as NaN)."""
        rows = pd.DataFrame([{**{k: math.nan if v is None else v for k, v in row.items()},
                              "ulm": scores_from_json(row["ulm"]),
                              "rcm": scores_from_json(row["rcm"])}
                             for row in document["recall_rows"]])
        trained = {int(seed): scores_from_json(s) for seed, s in document["trained"].items()}
        return cls(document["dataset"], list(document["class_names"]), document["table1_splits"],
                   list(document["methods"]), list(document["seeds"]), document["student"],
                   document["other_student"], list(document["heterogeneous_seeds"]),
                   list(document["ablation_methods"]), list(document["ablation_seeds"]), rows,
                   trained)


def scores_to_json(scores: dict) -> dict:
    """A model's `recall_scores` in plain lists (the forget set's confusion rows)."""
    return {k: v.tolist() if isinstance(v, torch.Tensor) else v for k, v in scores.items()}


def scores_from_json(scores: dict) -> dict:
    """The inverse of `scores_to_json`, also from a results file: classes keyed by their
    number again, the confusion rows a tensor, null read back as NaN."""
    def per_class(values: dict) -> dict:
        return {int(c): math.nan if v is None else v for c, v in values.items()}
    read = {k: math.nan if v is None else v for k, v in scores.items()}
    if "forget_per_class" in read:
        read["forget_per_class"] = per_class(read["forget_per_class"])
    if "forget_confusion" in read:
        read["forget_confusion"] = torch.tensor(
            [[math.nan if v is None else v for v in row] for row in read["forget_confusion"]],
            dtype=torch.float32)
    if "per_class" in read.get("count", {}):
        read["count"] = {**read["count"], "per_class": per_class(read["count"]["per_class"])}
    return read


def run(params: dict, device=None) -> Results:
    """The chapter's experiment from its parameters (`Chapter.params`): the five attacks
    (`attack_settings`), the split and the attacks' restrictions checked before any training
    (`split_sizes`, `attack_restrictions`, `recall_study`'s checks), then every attack on
    every (seed, method) unlearned model (`recall_study`). `device`: the chapter's (default:
    its `device` parameter's)."""
    recipe = Recipe(epochs=params["epochs"], lr=params["lr"], batch_size=params["batch_size"],
                    augment=params["augment"])
    attacks = attack_settings(params)
    device = resolve_device(params.get("device", "auto")) if device is None else device
    data = datasets.load(params["dataset"]).to(device)
    split_spec = {"forget_classes": params["forget_classes"],
                  "forget_fraction": params["forget_fraction"]}
    splits = split_sizes(data, split_spec)
    rows, trained = recall_studies(
        data, params["dataset"], split_spec, params["methods"], params["seeds"], attacks,
        architecture=params["architecture"], recipe=recipe,
        hyperparameters=params["hyperparameters"], restrict=attack_restrictions(params),
        architecture_options=params["architecture_options"], device=device)
    return Results(params["dataset"], list(data.classes), splits, list(params["methods"]),
                   list(params["seeds"]), params["student"], params["heterogeneous_student"],
                   list(params["heterogeneous_seeds"]), list(params["ablation_methods"]),
                   list(params["ablation_seeds"]), rows, trained)


def paper_dataset(dataset: str) -> str:
    """The paper's dataset whose numbers sit beside ours: the same one where the paper ran
    it, else CIFAR-10 (`FALLBACK_DATASET`)."""
    return dataset if dataset in paper.DATASETS else FALLBACK_DATASET


def paper_label(dataset: str, table: str = "") -> str:
    """The header of the paper's column for a run on `dataset`: 'paper (CIFAR-100)', or
    'paper (CIFAR-10; it has no mnist5k rows)' where the paper did not run it."""
    key = paper_dataset(dataset)
    name = paper.DATASETS[key] + (f", {table}" if table else "")
    return f"paper ({name})" if key == dataset else f"paper ({name}; it has no {dataset} rows)"


def paper_rows_note(dataset: str) -> str:
    """The sentence that says whose numbers the paper columns hold."""
    key = paper_dataset(dataset)
    rows = f"{paper.DATASETS[key]} rows ({paper.ARCHITECTURES[key]})"
    if key == dataset:
        return f"The paper columns hold the paper's {rows}."
    return (f"The paper has no {dataset} rows: its columns hold the paper's {rows}, the dataset "
            f"of its Figures 3 and 5.")


# The rows of the settings table: (label, the paper's key, this run's parameter).
# Algorithm 1's epoch counts are inputs that Tables 6-7 do not give (key None).
SETTING_ROWS = (("rounds K_E", None, "rounds"),
                ("distillation epochs K_D", None, "distill_epochs"),
                ("recall epochs K_R", None, "recall_epochs"),
                ("alpha_x (mixup)", "alpha_x", "alpha_x"),
                ("alpha_y (mixup)", "alpha_y", "alpha_y"),
                ("gamma_l (smoothing)", "gamma_l", "gamma_l"),
                ("gamma_s (smoothing)", "gamma_s", "gamma_s"),
                ("tau, closed source", "tau_closed", "tau_closed"),
                ("tau, open source", "tau_open", "tau_open"),
                ("LR_S, closed source", "lr_student_closed", "lr_student_closed"),
                ("LR_S, open source", "lr_student_open", "lr_student_open"),
                ("LR_U, open source", "lr_unlearned", "lr_unlearned"),
                ("batch size", "batch_size", "attack_batch_size"))


def settings_table(params: dict, dataset: str) -> pd.DataFrame:
    """The attack's settings, the paper's Tables 6-7 (for `paper_dataset`) beside this
    run's parameters, with the student's initialisation (AdamW in both)."""
    theirs = paper.ATTACK_SETTINGS[paper_dataset(dataset)]
    column = paper_label(dataset, "Tables 6-7")
    rows = {label: {column: f"{theirs[key]:g}" if key else NOT_GIVEN,
                    "here": f"{params[name]:g}"}
            for label, key, name in SETTING_ROWS}
    rows["AdamW weight decay"] = {column: NOT_GIVEN, "here": f"{MRAConfig.weight_decay:g}"}
    pretrained = params["student_options"].get("pretrained", False)
    rows["student starts from"] = {column: "ImageNet weights (reference code)",
                                   "here": "ImageNet weights" if pretrained else "random weights"}
    return pd.DataFrame(rows).T


def quoted() -> dict:
    """The values the chapter's prose quotes: Flower-102's training and test images in the
    paper's Table 1 and in the official split (train and validation sets, test set) that
    `data.load("flowers102")` reads; the claims' confidence level, the margin by which a
    ULM must have forgotten, and the paper's premise (`FORGOT_LITTLE`); the weight decay
    Section 5.1 gives every MU method's SGD (`paper_mu_weight_decay`)."""
    _, _, _, train, test = datasets.SHAPES["flowers102"]
    return {"paper_flowers_train": paper.SPLITS["flowers102"]["train"],
            "paper_flowers_test": paper.SPLITS["flowers102"]["test"],
            "official_flowers_train": train, "official_flowers_test": test,
            "confidence": CONFIDENCE, "forgot_margin": FORGOT_MARGIN,
            "forgot_little": FORGOT_LITTLE,
            "paper_mu_weight_decay": paper.MU_SGD["weight_decay"]}


def split_sizes(data: ImageData, split_spec: dict) -> dict:
    """Table 1 here: the classes, training, test and forget images of the split (seed 0's;
    a class-wise split has the same sizes for every seed), and the forget images per
    forget class."""
    split = make_split(data, seed=0, **split_spec)
    counts = torch.bincount(data.targets(split.forget).cpu(), minlength=data.num_classes)
    return {"classes": data.num_classes, "train": len(split.train), "test": len(split.test),
            "forget": len(split.forget),
            "forget_per_class": counts[list(split.forget_classes)].tolist()}


def _forget_count(total: int, per_class) -> str:
    """Forget images as Table 1 prints them: 'n×k' for k classes of n each, else the total."""
    if per_class and len(set(per_class)) == 1:
        return f"{per_class[0]:,}×{len(per_class)}"
    return f"{total:,}"


def _split_row(entry: dict, per_class) -> dict[str, str]:
    return {"classes": f"{entry['classes']:,}", "train (D_tr)": f"{entry['train']:,}",
            "test (D_ts)": f"{entry['test']:,}",
            "forget (D_f)": _forget_count(entry["forget"], per_class)}


def split_table(sizes: dict, dataset: str) -> pd.DataFrame:
    """Table 1: this run's `split_sizes` above the paper's four datasets."""
    table = {f"here ({dataset})": _split_row(sizes, sizes["forget_per_class"])}
    for key, entry in paper.SPLITS.items():
        count = entry["forget_per_class"]
        per_class = [count] * paper.FORGET_CLASSES if count else None
        table[f"paper ({paper.DATASETS[key]})"] = _split_row(entry, per_class)
    return pd.DataFrame(table).T


def accuracy_table(rows: pd.DataFrame, attack: str, trained: dict) -> pd.DataFrame:
    """Table 2/3 form for one attack: TRM, ULM, RCM and their gain on test and forget, as
    mean and std over seeds (columns: methods)."""
    chosen = rows[rows.attack == attack]
    records = []
    for method, group in chosen.groupby("method", sort=False):
        for subset in SUBSETS:
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
    return mean_by_method([r["forget_per_class"] for r in chosen[model]], chosen.method)


def paper_accuracy_table(components: str, methods, dataset: str) -> pd.DataFrame:
    """The paper's Table 2 (`components` "dst+stu") or Table 3 ("dst+stu+tch") rows for
    `dataset` (see `paper_dataset`) in `accuracy_table`'s layout (rows: subset x TRM, ULM,
    RCM, ΔAcc as printed; columns: the `methods` it reports)."""
    key = paper_dataset(dataset)
    cells = {}
    for subset in SUBSETS:
        for method in (m for m in methods if m in paper.ULM[key]):
            cells[(subset, "TRM", method)] = paper.TRAINED[key][subset]
            cells[(subset, "ULM", method)] = paper.ULM[key][method][subset]
            cells[(subset, "RCM", method)] = paper.RCM[key][components][method][subset]
            cells[(subset, "ΔAcc", method)] = paper.DELTA[key][components][method][subset]
    return pd.Series(cells, dtype=float).unstack() if cells else pd.DataFrame()


def accuracy_beside_paper(rows: pd.DataFrame, attack: str, trained: dict,
                          dataset: str) -> pd.DataFrame:
    """Tables 2 and 3: one attack's accuracies here (mean ± std over the seeds) with the
    paper's for the same components and `dataset` in the row under each of ours (its last
    index level `source`; a dash where it has no number), as wide as the methods."""
    table = accuracy_table(rows, attack, trained)
    ours = mean_std(table["mean"], table["std"], 3)
    components = rows.loc[rows.attack == attack, "components"].iloc[0]
    theirs = paper_accuracy_table(components, ours.columns, dataset)
    theirs = theirs.reindex(index=ours.index, columns=ours.columns)
    return sources_as_rows(pd.concat({"here": ours, paper_label(dataset):
                                      theirs.map(_paper_number)}, axis=1))


def _paper_number(value: float) -> str:
    return NO_PAPER_VALUE if pd.isna(value) else f"{value:.3f}"


def per_class_figure(rows: pd.DataFrame, attack: str, class_names, title: str):
    """Figures 3-6: forget accuracy per forget class of the ULM and the RCM, mean over the
    seeds, one panel per unlearning method."""
    ulm = forget_class_means(rows, attack, "ulm")
    rcm = forget_class_means(rows, attack, "rcm")
    panels = {m: {"ULM": ulm.loc[m], "RCM": rcm.loc[m]} for m in ulm.index}
    labels = [class_names[c] for c in ulm.columns]
    return plots.bar_panels(panels, labels, ylabel="forget accuracy", title=title)


def student_table(rows: pd.DataFrame, trained: dict, seeds, *, student: str,
                  other_student: str) -> pd.DataFrame:
    """Test and forget accuracy of the ULM and the RCM (mean over `seeds`, columns: methods)
    in both cases, with the `student` and with the `other_student`."""
    chosen = rows[rows.seed.isin(seeds)]
    wanted = [("test", "ULM"), ("test", "RCM"), ("forget", "ULM"), ("forget", "RCM")]
    tables = {}
    for case, other_attack in OTHER_STUDENT.items():
        for label, attack in ((f"student: {student}", case),
                              (f"other student: {other_student}", other_attack)):
            tables[f"{case}, {label}"] = accuracy_table(chosen, attack, trained)["mean"].loc[wanted]
    return pd.concat(tables)


def ablation_table(rows: pd.DataFrame, trained: dict, methods, seeds) -> pd.DataFrame:
    """Table 4 here: the ULM's mean accuracy over `seeds`, then the RCM's after each stage
    (rows: ULM, DST, DST+STU, DST+STU+TCH; columns: (method, subset))."""
    chosen = rows[rows.method.isin(methods) & rows.seed.isin(seeds)]
    tables = {stage: accuracy_table(chosen, attack, trained) for stage, attack in STAGES.items()}
    ulm = tables["DST+STU"]  # every attack on a (seed, method) reads the same ULM
    return pd.DataFrame({(method, subset): {
        "ULM": ulm.loc[(subset, "ULM"), ("mean", method)],
        **{stage: table.loc[(subset, "RCM"), ("mean", method)] for stage, table in tables.items()}}
        for method in methods for subset in SUBSETS})


def paper_ablation_table(methods, dataset: str) -> pd.DataFrame:
    """The paper's ablation for `dataset` (Tables 8-11, see `paper_dataset`) in
    `ablation_table`'s layout, for the `methods` it has; its ULM row is Tables 2-3's."""
    key = paper_dataset(dataset)
    return pd.DataFrame({
        (method, subset): {"ULM": paper.ULM[key][method][subset],
                           **{stage: paper.RCM[key][components][method][subset]
                              for stage, components in STAGE_COMPONENTS.items()}}
        for method in methods if method in paper.RCM[key]["dst"] for subset in SUBSETS})


def ablation_beside_paper(ablation: pd.DataFrame, paper_ablation: pd.DataFrame,
                          dataset: str) -> pd.DataFrame:
    """Table 4 (`ablation_table`'s) here and the paper's for `dataset`, methods as rows with
    the paper's row under each of ours (the last index level `source`; a dash where it has
    no number), columns (subset, stage): as wide as the stages of the two subsets, however
    many methods ran."""
    label = paper_label(dataset, paper.ABLATION_TABLES[paper_dataset(dataset)])
    ours = _methods_as_rows(ablation)
    theirs = _methods_as_rows(paper_ablation).reindex(index=ours.index, columns=ours.columns)
    return sources_as_rows(pd.concat({"here": ours.map(_paper_number),
                                      label: theirs.map(_paper_number)}, axis=1))


def _methods_as_rows(table: pd.DataFrame) -> pd.DataFrame:
    """An ablation table (rows: stages; columns: (method, subset)) with one row per method
    and columns (subset, stage)."""
    if table.empty:
        return pd.DataFrame()
    stages = list(table.index)
    long = table.T.unstack(level=1)  # rows: methods; columns: (stage, subset)
    methods = list(dict.fromkeys(table.columns.get_level_values(0)))
    return long.reindex(index=methods, columns=[(stage, subset) for subset in SUBSETS
                                                for stage in stages]).swaplevel(axis=1)


def forget_confusions(rows: pd.DataFrame, methods, seed: int) -> dict[str, dict]:
    """Figure 7's matrices: per method, the forget-set confusion of the ULM and of the model
    each stage recalls, for one seed (`plots.confusion_grid`'s input)."""
    chosen = rows[rows.seed == seed]
    matrices = {}
    for method in methods:
        mine = chosen[chosen.method == method].set_index("attack")
        matrices[method] = {"ULM": mine.loc["closed", "ulm"]["forget_confusion"],
                            **{stage: mine.loc[attack, "rcm"]["forget_confusion"]
                               for stage, attack in STAGES.items()}}
    return matrices


def forget_class_ids(rows: pd.DataFrame) -> list[int]:
    """The forget classes, in the order of the confusion matrices' rows."""
    return list(rows.iloc[0].ulm["forget_per_class"])


def confusion_diagonals(matrices: dict[str, dict], class_ids, class_names) -> pd.DataFrame:
    """Figure 7's diagonals: each forget class's share predicted as itself (row i, column
    `class_ids[i]` of each row-normalised matrix); rows (method, model), columns classes."""
    columns = [class_names[c] for c in class_ids]
    return pd.DataFrame({(method, model): [matrix[i, c].item() for i, c in enumerate(class_ids)]
                         for method, models_ in matrices.items()
                         for model, matrix in models_.items()}, index=columns).T


def paper_gain(components: str, methods, dataset: str, subset: str = "forget") -> pd.Series:
    """The paper's ΔAcc on `subset` as printed in Table 2 (`components` "dst+stu") or 3
    ("dst+stu+tch") for `dataset`'s rows, for the `methods` it reports."""
    printed = paper.DELTA[paper_dataset(dataset)][components]
    return pd.Series({m: printed[m][subset] for m in methods if m in printed}, dtype=float)


def paper_open_lead(methods, dataset: str, subset: str = "forget") -> pd.Series:
    """The paper's open-source RCM accuracy on `subset` minus its closed-source one (Table 3
    minus Table 2), for the `methods` it reports."""
    rcm = paper.RCM[paper_dataset(dataset)]
    return pd.Series({m: rcm["dst+stu+tch"][m][subset] - rcm["dst+stu"][m][subset]
                      for m in methods if m in rcm["dst+stu"]}, dtype=float)


def all_positive(values: pd.Series) -> bool | None:
    """Every value is > 0 (None, not testable, when there is none): the rule on the paper's
    printed gains, which carry no spread."""
    return None if values.empty else bool((values > 0).all())


def precise_easiest(gain: pd.Series) -> bool | None:
    """The precise methods' (SalUn, UNSC) mean gain exceeds the other methods' mean; None
    when either group did not run (the rule on the paper's printed gains)."""
    precise = [m for m in PRECISE_METHODS if m in gain.index]
    others = gain.drop(precise)
    if not precise or others.empty:
        return None
    return bool(gain[precise].mean() > others.mean())


def l1_among_hardest(gain: pd.Series) -> bool | None:
    """L1-SP's gain ranks in the lower half; None when L1-SP, or any other method, did not
    run (the rule on the paper's printed gains)."""
    if "l1_sparse" not in gain.index or len(gain) < 2:
        return None
    return bool(gain.rank()["l1_sparse"] <= len(gain) / 2)


def ablation_ordered(table: pd.DataFrame, subset: str = "forget") -> bool | None:
    """Accuracy on `subset` rises strictly at each stage, DST < DST+STU < DST+STU+TCH, for
    every method of an `ablation_table`; None for an empty table (the paper's Tables 4,
    8-11)."""
    if table.empty:
        return None
    values = table.xs(subset, axis=1, level=1)
    return bool((values.loc["DST"] < values.loc["DST+STU"]).all()
                and (values.loc["DST+STU"] < values.loc["DST+STU+TCH"]).all())


def dst_near_ulm(table: pd.DataFrame, subset: str = "forget") -> bool | None:
    """DST alone stays near the ULM: for every method of an `ablation_table`, DST's accuracy
    on `subset` is nearer the ULM's than DST+STU's is; None for an empty table (the paper's
    Tables 4, 8-11)."""
    if table.empty:
        return None
    values = table.xs(subset, axis=1, level=1)
    dst_moves = (values.loc["DST"] - values.loc["ULM"]).abs()
    recall_moves = (values.loc["DST+STU"] - values.loc["ULM"]).abs()
    return bool((dst_moves < recall_moves).all())


def every_method_forgot(ulm_forget: pd.Series, trained_forget: float) -> bool | None:
    """Every ULM keeps at most `FORGOT_LITTLE` of the trained model's forget accuracy (None
    when no method ran; the rule on the paper's printed accuracies)."""
    if ulm_forget.empty:
        return None
    return bool((ulm_forget <= FORGOT_LITTLE * trained_forget).all())


def iu_turns_around(closed: pd.Series, open_source: pd.Series) -> bool | None:
    """IU's gain is among the lowest two of the closed-source case and among the highest two
    of the open-source case (ties count against it); None without IU or with fewer than four
    methods (the two pairs would overlap). The rule on the paper's printed gains."""
    methods = closed.index.intersection(open_source.index)
    if "iu" not in methods or len(methods) < 4:
        return None
    low = closed[methods].rank(method="max")["iu"] <= 2
    high = open_source[methods].rank(method="min")["iu"] >= len(methods) - 1
    return bool(low and high)


def _spread(gains):
    """max - min of the methods' gains (over the columns of a seeds x methods table)."""
    return gains.max(axis=1) - gains.min(axis=1)


def _listed(values: pd.Series) -> str:
    """Signed values by method, 'ga +0.200, salun -0.100' (the paper's cell)."""
    return ", ".join(f"{m} {v:+.3f}" for m, v in values.items())


def _paper_cell(held, rows: str, evidence: str) -> str:
    """A claim's `paper`: the verdict of its rule on the paper's `rows` (printed means, no
    spread: an exact reading of the table), with the evidence."""
    return f"{verdict(held)} on {rows}: {evidence or 'none of these methods'}"


def _unsigned(values: pd.Series) -> str:
    """Values by method, 'ga 0.200, salun 0.900' (the paper's cell)."""
    return ", ".join(f"{m} {v:.3f}" for m, v in values.items())


# ---------------------------------------------------------------------------------------
# The evidence of this run's claims: per-seed rows, intervals, and the precondition that a
# method forgot. Every claim reads the seeds' accuracies, never their bare means; an effect
# of two or more seeds has a t interval over the seeds (paired: every attack on a seed
# reads the same ULM), an accuracy difference of one seed Newcombe's interval over the
# samples it was measured on.

def seed_accuracies(rows: pd.DataFrame, attack: str, model: str,
                    subset: str = "forget") -> pd.DataFrame:
    """The `subset` accuracy of the ULM (`model="ulm"`) or RCM (`"rcm"`) under one attack,
    seeds x methods (methods in the order they ran)."""
    chosen = rows[rows.attack == attack]
    table = pd.DataFrame({"seed": chosen.seed.to_numpy(), "method": chosen.method.to_numpy(),
                          "value": [r[subset] for r in chosen[model]]})
    return table.pivot(index="seed", columns="method", values="value") \
        .reindex(columns=list(dict.fromkeys(chosen.method)))


def seed_gains(rows: pd.DataFrame, attack: str, subset: str = "forget") -> pd.DataFrame:
    """ΔAcc = RCM - ULM on `subset` under one attack, seeds x methods."""
    return seed_accuracies(rows, attack, "rcm", subset) - seed_accuracies(rows, attack, "ulm",
                                                                          subset)


def seed_class_accuracies(rows: pd.DataFrame, attack: str, model: str) -> dict:
    """{forget class: seeds x methods accuracy of the ULM or RCM on that class's forget
    images} under one attack."""
    chosen = rows[rows.attack == attack]
    if chosen.empty:
        return {}
    classes = list(chosen.iloc[0][model]["forget_per_class"])
    return {c: seed_accuracies(chosen.assign(**{model: [
        {"forget": r["forget_per_class"][c]} for r in chosen[model]]}), attack, model)
        for c in classes}


def seed_class_gains(rows: pd.DataFrame, attack: str) -> dict:
    """{forget class: seeds x methods ΔAcc on that class} under one attack."""
    rcm, ulm = (seed_class_accuracies(rows, attack, model) for model in ("rcm", "ulm"))
    return {c: rcm[c] - ulm[c] for c in rcm}


def sample_count(rows: pd.DataFrame, subset: str = "forget", forget_class=None) -> int | None:
    """How many images an accuracy of the rows was measured on (`subset`, or one forget
    class's forget images); None when the rows do not say."""
    if rows.empty:
        return None
    counts = rows.iloc[0]["ulm"].get("count", {})
    return counts.get("per_class", {}).get(forget_class) if forget_class is not None \
        else counts.get(subset)


def accuracy_difference(a: pd.Series, b: pd.Series, count: int | None) -> Interval:
    """a - b over the seeds both ran: the paired t interval with two seeds or more; with one
    seed, Newcombe's interval over the `count` images each accuracy was measured on (it
    ignores that both read the same images, so it is wider than the paired one would be);
    unbounded with one seed and no count."""
    seeds = a.dropna().index.intersection(b.dropna().index)
    a, b = a[seeds], b[seeds]
    if len(seeds) != 1 or not count:
        return paired_difference(a.to_numpy(), b.to_numpy())
    return rate_difference(round(a.iloc[0] * count), count, round(b.iloc[0] * count), count,
                           unit="images, 1 seed")


def accuracy_level(values: pd.Series, count: int | None) -> Interval:
    """An accuracy over the seeds (t interval), or of one seed (Wilson over `count`)."""
    values = values.dropna()
    if len(values) != 1 or not count:
        return mean_interval(values.to_numpy())
    return wilson(round(values.iloc[0] * count), count, unit="images, 1 seed")


def _shifted(interval: Interval, by: float) -> Interval:
    return Interval(interval.estimate + by, interval.low + by, interval.high + by, interval.n)


def trained_forget(rows: pd.DataFrame, trained: dict, seeds=None) -> pd.Series:
    """The trained model's forget accuracy per seed (the closed-source runs' seeds)."""
    seeds = seeds if seeds is not None else seed_accuracies(rows, "closed", "ulm").index
    return pd.Series({s: trained[s]["forget"] for s in seeds}, dtype=float)


def forgetting_reasons(rows: pd.DataFrame, trained: dict) -> dict[str, str | None]:
    """For each method, why claims on what its ULM hid cannot be tested (`claims.forgot`):
    its forget accuracy (over the seeds, closed-source rows: every attack reads the same
    ULM) is not below the trained model's by more than `FORGOT_MARGIN`; None when it
    forgot."""
    ulm = seed_accuracies(rows, "closed", "ulm")
    count, trm = sample_count(rows), trained_forget(rows, trained).mean()
    return {m: forgot(m, accuracy_level(ulm[m], count), trm, FORGOT_MARGIN) for m in ulm}


def methods_that_forgot(reasons: dict, among=None) -> list[str]:
    return [m for m, reason in reasons.items() if not reason and (among is None or m in among)]


def _method_parts(effects: dict[str, Interval], reasons: dict) -> dict[str, Part]:
    """Each method's effect above 0 as a part of a claim (`claims.judge_parts`), not
    testable where the method did not forget (`reasons`: method -> reason or None)."""
    return {m: part(effect, reason=reasons.get(m)) for m, effect in effects.items()}


def _seed_effect(values: pd.Series) -> Interval:
    """The mean of a per-seed statistic with its t interval over the seeds."""
    return mean_interval(values.dropna().to_numpy())


def _others_that_forgot(reasons: dict, table: pd.DataFrame, method: str) -> list[str]:
    return [m for m in methods_that_forgot(reasons, table.columns) if m != method]


# ---------------------------------------------------------------------------------------
# The claims

def forgetting_claim(rows: pd.DataFrame, trained: dict, dataset: str) -> Claim:
    """Section 5.2: every MU method drops the forget accuracy from the TRM's to at most
    `FORGOT_LITTLE` of it. Per method, ULM forget accuracy minus `FORGOT_LITTLE` x the
    TRM's, paired by seed: held when the interval is below 0 for every method."""
    key = paper_dataset(dataset)
    ulm = seed_accuracies(rows, "closed", "ulm")
    trm = trained_forget(rows, trained)
    count = sample_count(rows)
    if len(ulm) == 1:  # one seed: Wilson's interval on the ULM, the TRM as measured
        effects = {m: _shifted(accuracy_level(ulm[m], count), -FORGOT_LITTLE * trm.iloc[0])
                   for m in ulm}
    else:
        effects = {m: _seed_effect(ulm[m] - FORGOT_LITTLE * trm) for m in ulm}
    theirs = pd.Series({m: paper.ULM[key][m]["forget"] for m in ulm.columns
                        if m in paper.ULM[key]}, dtype=float)
    paper_trm = paper.TRAINED[key]["forget"]
    evidence = f"TRM {paper_trm:.3f}; {_unsigned(theirs)}" if len(theirs) else ""
    return judge_each(
        "every_method_forgot",
        f"Every MU method forgets: the ULM's forget accuracy drops from the TRM's to at most "
        f"{FORGOT_LITTLE:g} of it.",
        _paper_cell(every_method_forgot(theirs, paper_trm), paper.DATASETS[key], evidence),
        effects, label=f"ULM forget accuracy - {FORGOT_LITTLE:g} x TRM's ({trm.mean():.3f})",
        above=False)


def _gain_effects(rows: pd.DataFrame, attack: str, subset: str) -> dict[str, Interval]:
    rcm, ulm = (seed_accuracies(rows, attack, model, subset) for model in ("rcm", "ulm"))
    return {m: accuracy_difference(rcm[m], ulm[m], sample_count(rows, subset)) for m in ulm}


def recall_claims(rows: pd.DataFrame, dataset: str, reasons: dict) -> list[Claim]:
    """The attack recalls, for every method that forgot, in both cases, and more when open
    source; each on the forget set and on the test set (the paper claims both). A method
    that did not forget (`reasons`) leaves its part not testable: there is nothing to
    recall."""
    key = paper_dataset(dataset)
    found = []
    for attack, components in (("closed", "dst+stu"), ("open", "dst+stu+tch")):
        for subset in SUBSETS_CLAIMED:
            effects = _gain_effects(rows, attack, subset)
            theirs = paper_gain(components, effects, key, subset)
            found.append(judge_parts(
                f"recall_every_method_{attack}{ID_SUFFIX[subset]}",
                f"RCM improves {subset} accuracy for every MU method ({CASES[attack]}).",
                _paper_cell(all_positive(theirs), paper.DATASETS[key], _listed(theirs)),
                _method_parts(effects, reasons), label="ΔAcc = RCM - ULM"))
    for subset in SUBSETS_CLAIMED:
        open_rcm, closed_rcm = (seed_accuracies(rows, attack, "rcm", subset)
                                for attack in ("open", "closed"))
        effects = {m: accuracy_difference(open_rcm[m], closed_rcm[m], sample_count(rows, subset))
                   for m in closed_rcm if m in open_rcm}
        theirs = paper_open_lead(effects, key, subset)
        found.append(judge_parts(
            f"open_beats_closed{ID_SUFFIX[subset]}",
            f"Open-source recall beats closed-source recall, for every method ({subset} "
            f"accuracy of the RCM).",
            _paper_cell(all_positive(theirs), paper.DATASETS[key], _listed(theirs)),
            _method_parts(effects, reasons), label="open RCM - closed RCM"))
    return found


def precise_claim(claim_id: str, claim: str, paper_text: str, gains: pd.DataFrame,
                  reasons: dict) -> Claim:
    """The precise methods (SalUn, UNSC) are the easiest to recall: per seed, their mean
    gain minus the mean gain of the other methods that forgot, above 0 over the seeds.
    Needs each precise method run and forgotten, and another method that forgot."""
    precise = [m for m in PRECISE_METHODS if m in gains]
    others = [m for m in methods_that_forgot(reasons, gains.columns) if m not in PRECISE_METHODS]
    unmet_reasons = [unmet(bool(precise), "neither SalUn nor UNSC ran"),
                     *(reasons.get(m) for m in precise),
                     unmet(bool(others), "no other method forgot")]
    effect = _seed_effect(gains[precise].mean(axis=1) - gains[others].mean(axis=1)) \
        if precise and others else Interval(math.nan, -math.inf, math.inf, "0 seeds")
    return judge(claim_id, claim, paper_text, effect, unmet_reasons=unmet_reasons,
                 label=f"mean ΔAcc of {', '.join(precise)} - mean of {', '.join(others)}")


def hardest_claim(claim_id: str, claim: str, paper_text: str, gains: pd.DataFrame,
                  reasons: dict, method: str = "l1_sparse") -> Claim:
    """`method` is among the hardest to recall: per seed, its gain minus the median gain of
    the other methods that forgot, below 0 over the seeds (the lower half). Needs the
    method run and forgotten: one that did not forget is not hard to recall, it has
    nothing to give back."""
    others = _others_that_forgot(reasons, gains, method)
    unmet_reasons = [unmet(method in gains, f"{method} did not run"), reasons.get(method),
                     unmet(len(others) >= 2, "fewer than two other methods forgot")]
    effect = _seed_effect(gains[method] - gains[others].median(axis=1)) \
        if not any(unmet_reasons) else Interval(math.nan, -math.inf, math.inf, "0 seeds")
    return judge(claim_id, claim, paper_text, effect, unmet_reasons=unmet_reasons, above=False,
                 label=f"ΔAcc of {method} - median of the others that forgot "
                       f"({', '.join(others)})")


def method_claims(rows: pd.DataFrame, dataset: str, reasons: dict) -> list[Claim]:
    """Which methods are easiest and hardest to recall, on forget and on test: the precise
    methods in both cases (Sections 5.2 and 5.3), L1-SP in the closed-source case (Section
    5.2); each rule is also applied to the paper's printed gains of the same methods."""
    key = paper_dataset(dataset)
    found = []
    for claim_id, claim, rule, judged, attack in (
            ("precise_unlearning_easiest", "Precise unlearning (SalUn, UNSC) is the easiest to "
             "recall: their mean closed-source ΔAcc on {} exceeds the other methods' mean.",
             precise_easiest, precise_claim, "closed"),
            ("precise_unlearning_easiest_open", "Open source too, precise unlearning (SalUn, "
             "UNSC) is the easiest to recall: their mean open-source ΔAcc on {} exceeds the "
             "other methods' mean.", precise_easiest, precise_claim, "open"),
            ("l1_sparse_among_hardest", "L1-SP is among the hardest to recall: its "
             "closed-source ΔAcc on {} is in the lower half.", l1_among_hardest,
             hardest_claim, "closed")):
        for subset in SUBSETS_CLAIMED:
            gains = seed_gains(rows, attack, subset)
            theirs = paper_gain(CASES_COMPONENTS[attack], gains.columns, key, subset)
            found.append(judged(claim_id + ID_SUFFIX[subset], claim.format(subset),
                                _paper_cell(rule(theirs), paper.DATASETS[key], _listed(theirs)),
                                gains, reasons))
    return found


FIGURES = "Figures 3-5 (bars, no numbers printed)"


def per_class_claims(rows: pd.DataFrame, reasons: dict) -> list[Claim]:
    """Figures 3-5, read per forget class, each over the seeds and judged in every class
    (`judge_each`): SalUn recalled most (its gain minus the largest other gain, above 0)
    and L1-SP little (its gain minus the others' median, below 0) closed source, each
    among the methods that forgot and only if it forgot; and the methods' gains lie closer
    together open source (the spread max - min of the methods that forgot, closed minus
    open, above 0)."""
    closed, open_source = seed_class_gains(rows, "closed"), seed_class_gains(rows, "open")
    found = []
    for claim_id, claim, method, compare, above in (
            ("salun_recalled_most_per_class",
             "Figures 3-4: in every forget class, SalUn's closed-source ΔAcc is the largest "
             "of the methods (\"the improvement for each class after MRA is the most "
             "significant\").", "salun", "max", True),
            ("l1_sparse_recalled_little_per_class",
             "Figures 3-4: in every forget class, L1-SP's closed-source ΔAcc is in the lower "
             "half of the methods (\"relatively small\").", "l1_sparse", "median", False)):
        some = next(iter(closed.values()), pd.DataFrame())
        others = _others_that_forgot(reasons, some, method)
        unmet_reasons = [unmet(method in some, f"{method} did not run"), reasons.get(method),
                         unmet(bool(others), "no other method forgot")]
        effects = {} if any(unmet_reasons) else {
            f"class {c}": _seed_effect(g[method] - getattr(g[others], compare)(axis=1))
            for c, g in closed.items()}
        found.append(judge_each(claim_id, claim, FIGURES, effects, above=above,
                                unmet_reasons=unmet_reasons,
                                label=f"ΔAcc of {method} - {compare} of {', '.join(others)}"))
    some = next(iter(closed.values()), pd.DataFrame())
    forgot_here = methods_that_forgot(reasons, some.columns)
    effects = {f"class {c}": _seed_effect(_spread(closed[c][forgot_here])
                                          - _spread(open_source[c][forgot_here]))
               for c in closed if c in open_source} if len(forgot_here) >= 2 else {}
    found.append(judge_each(
        "open_gaps_narrow_per_class",
        "Figure 5 against Figure 3: in every forget class, the methods' ΔAcc lie closer "
        "together open source than closed source (a smaller spread, max - min).", FIGURES,
        effects, unmet_reasons=[unmet(len(forgot_here) >= 2, "fewer than two methods forgot")],
        label=f"spread closed - spread open ({', '.join(forgot_here)})"))
    return found


def _second(table: pd.DataFrame, largest: bool) -> pd.Series:
    """Per seed, the second largest (or smallest) value over the columns."""
    ordered = np.sort(table.to_numpy(), axis=1)
    return pd.Series(ordered[:, -2] if largest else ordered[:, 1], index=table.index)


def iu_claims(rows: pd.DataFrame, dataset: str, reasons: dict) -> list[Claim]:
    """Section 5.3: IU turns from among the lowest-2 gains (closed source) to among the
    top-2 (open source), on forget and on test, among the methods that forgot: per seed,
    the second lowest other gain minus IU's (closed) and IU's minus the second highest
    other gain (open), each above 0 over the seeds. Needs IU forgotten and three others."""
    key = paper_dataset(dataset)
    found = []
    for subset in SUBSETS_CLAIMED:
        closed, open_source = (seed_gains(rows, attack, subset) for attack in CASES)
        others = [m for m in _others_that_forgot(reasons, closed, "iu") if m in open_source]
        unmet_reasons = [unmet("iu" in closed and "iu" in open_source, "IU did not run"),
                         reasons.get("iu"),
                         unmet(len(others) >= 3, "fewer than three other methods forgot")]
        effects = {} if any(unmet_reasons) else {
            "closed (second lowest other - IU)": _seed_effect(
                _second(closed[others], largest=False) - closed["iu"]),
            "open (IU - second highest other)": _seed_effect(
                open_source["iu"] - _second(open_source[others], largest=True))}
        theirs = [paper_gain(CASES_COMPONENTS[attack], closed.columns, key, subset)
                  for attack in CASES]
        found.append(judge_each(
            f"iu_lowest_closed_top_open{ID_SUFFIX[subset]}",
            f"IU's ΔAcc on {subset} is among the lowest two closed source and among the top "
            f"two open source.",
            _paper_cell(iu_turns_around(*theirs), paper.DATASETS[key],
                        f"closed {_listed(theirs[0])}; open {_listed(theirs[1])}"),
            effects, unmet_reasons=unmet_reasons, label=f"ΔAcc among {', '.join(others)}"))
    return found


def _stage_sequences(table: pd.DataFrame, subset: str, stages=tuple(STAGES)) -> str:
    """'ff: 0.100 → 0.500 → 0.900; bu: ...' of an ablation table's `stages` (the paper's
    evidence)."""
    methods = table.columns.get_level_values(0).unique()
    return "; ".join(f"{m}: " + " → ".join(f"{table.loc[s, (m, subset)]:.3f}" for s in stages)
                     for m in methods)


def stage_accuracies(rows: pd.DataFrame, subset: str = "forget") -> dict[str, pd.DataFrame]:
    """{"ULM", "DST", "DST+STU", "DST+STU+TCH": seeds x methods accuracy on `subset`}, on the
    methods and seeds the ablation (the DST attack) ran."""
    dst = rows[rows.attack == STAGES["DST"]]
    chosen = rows[rows.method.isin(dst.method) & rows.seed.isin(dst.seed)]
    methods = list(dict.fromkeys(dst.method))
    found = {"ULM": seed_accuracies(chosen, "closed", "ulm", subset)}
    found |= {stage: seed_accuracies(chosen, attack, "rcm", subset)
              for stage, attack in STAGES.items()}
    return {stage: table.reindex(columns=methods) for stage, table in found.items()}


def _step_parts(stages: dict, count, reasons: dict, prefix: str = "") -> dict[str, Part]:
    """Each method's two steps, DST → DST+STU and DST+STU → DST+STU+TCH, as accuracy
    differences above 0, each with the method's forgetting precondition."""
    parts = {}
    names = list(STAGES)
    for method in stages["DST"].columns:
        for before, after in zip(names, names[1:]):
            parts[f"{method}{prefix} {before} → {after}"] = part(
                accuracy_difference(stages[after][method], stages[before][method], count),
                reason=reasons.get(method))
    return parts


def ablation_claims(rows: pd.DataFrame, paper_ablation: pd.DataFrame, dataset: str,
                    reasons: dict) -> list[Claim]:
    """Each component of the attack adds accuracy (Table 4), on forget and on test: both
    steps of every ablated method that forgot above 0; and DST alone stays near the ULM
    (Section 5.4): per seed, |DST+STU - ULM| - |DST - ULM| above 0 over the seeds."""
    key = paper_dataset(dataset)
    paper_rows = f"{paper.DATASETS[key]} ({paper.ABLATION_TABLES[key]})"
    near = ("ULM", "DST", "DST+STU")
    found = []
    for subset in SUBSETS_CLAIMED:
        stages = stage_accuracies(rows, subset)
        found.append(judge_parts(
            f"ablation_order{ID_SUFFIX[subset]}",
            f"Each ablation component adds {subset} accuracy: DST < DST+STU < DST+STU+TCH, "
            f"for every method.",
            _paper_cell(ablation_ordered(paper_ablation, subset), paper_rows,
                        _stage_sequences(paper_ablation, subset)),
            _step_parts(stages, sample_count(rows, subset), reasons),
            label="accuracy gained at each step"))
    for subset in SUBSETS_CLAIMED:
        stages = stage_accuracies(rows, subset)
        moves = {m: _seed_effect((stages["DST+STU"][m] - stages["ULM"][m]).abs()
                                 - (stages["DST"][m] - stages["ULM"][m]).abs())
                 for m in stages["DST"].columns}
        found.append(judge_parts(
            f"dst_near_ulm{ID_SUFFIX[subset]}",
            f"Section 5.4: the {subset} accuracy of DST alone is close to the ULM's: "
            f"nearer it than DST+STU's, for every method (ULM → DST → DST+STU).",
            _paper_cell(dst_near_ulm(paper_ablation, subset), paper_rows,
                        _stage_sequences(paper_ablation, subset, near)),
            _method_parts(moves, reasons), label="|DST+STU - ULM| - |DST - ULM|"))
    return found


def diagonal_claim(rows: pd.DataFrame, reasons: dict) -> Claim:
    """Figure 7: the confusion matrices' diagonals grow more noticeable stage by stage. A
    diagonal entry of a forget class's row is that class's forget accuracy, so every step
    of every forget class of every ablated method that forgot must be above 0 (per-class
    accuracy differences over the ablation seeds)."""
    dst = rows[rows.attack == STAGES["DST"]]
    chosen = rows[rows.method.isin(dst.method) & rows.seed.isin(dst.seed)]
    per_class = {stage: seed_class_accuracies(chosen, attack, "rcm")
                 for stage, attack in STAGES.items()}
    parts = {}
    for c in per_class["DST"]:
        stages = {stage: table[c].reindex(columns=list(dict.fromkeys(dst.method)))
                  for stage, table in per_class.items()}
        parts |= _step_parts(stages, sample_count(rows, forget_class=c), reasons,
                             prefix=f" class {c}")
    return judge_parts("confusion_diagonal_rises",
                       "Figure 7: the diagonals of the forget set's confusion matrices "
                       "become more noticeable at each stage, DST < DST+STU < "
                       "DST+STU+TCH, in every forget class's row, for every method.",
                       "Figure 7 (matrices drawn, no numbers)", parts,
                       label="diagonal entry gained at each step")


def other_student_claims(rows: pd.DataFrame, other_student: str, reasons: dict) -> list[Claim]:
    """A student of another architecture than the ULM still recalls, in both cases, on
    forget and on test, for every method that forgot; the paper's evidence is its
    Flower-102 rows (Tables 2 and 3)."""
    key = paper.HETEROGENEOUS
    found = []
    for case, id_case in (("closed", ""), ("open", "_open")):
        for subset in SUBSETS_CLAIMED:
            effects = _gain_effects(rows, OTHER_STUDENT[case], subset)
            theirs = paper_gain(CASES_COMPONENTS[case], effects, key, subset)
            found.append(judge_parts(
                f"other_student_recalls{id_case}{ID_SUFFIX[subset]}",
                f"A student of another architecture ({other_student}) still recalls: it "
                f"improves {subset} accuracy for every method ({CASES[case]}).",
                _paper_cell(all_positive(theirs),
                            f"{paper.DATASETS[key]} ({paper.ARCHITECTURES[key]})",
                            _listed(theirs)),
                _method_parts(effects, reasons), label="ΔAcc = RCM - ULM"))
    return found


def claims(results: Results) -> list[Claim]:
    """The paper's claims checked on this run, in the chapter's order; the paper's own
    numbers are those of the dataset that ran (see `paper_dataset`). Every claim on what a
    ULM hid presupposes that it forgot (`forgetting_reasons`)."""
    rows, trained, dataset = results.rows, results.trained, results.dataset
    paper_ablation, other_student = results.paper_ablation(), results.other_student
    reasons = forgetting_reasons(rows, trained)
    return [forgetting_claim(rows, trained, dataset), *recall_claims(rows, dataset, reasons),
            *method_claims(rows, dataset, reasons), *per_class_claims(rows, reasons),
            *iu_claims(rows, dataset, reasons),
            *ablation_claims(rows, paper_ablation, dataset, reasons),
            diagonal_claim(rows, reasons), *other_student_claims(rows, other_student, reasons)]


def _span(values) -> str:
    """The range of `values` to two places, 'low-high' (one number when they round alike)."""
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"


def reading_the_verdicts(rows: pd.DataFrame, trained: dict, dataset: str) -> str:
    """The paragraph that reads the verdicts, from this run's numbers: which ULMs did not
    forget (`forgetting_reasons`: their parts of the recall claims are not testable) and,
    where the ULM forgot, how much more the open-source attack recalls than the
    closed-source one (with its interval over the seeds; beside the paper's rows for
    `dataset`)."""
    reasons = forgetting_reasons(rows, trained)
    ulm = seed_accuracies(rows, "closed", "ulm").mean()
    trm = trained_forget(rows, trained).mean()
    kept = [m for m, reason in reasons.items() if reason]
    forgot_here = methods_that_forgot(reasons)
    text = [f"**Reading the verdicts.** MRA can only recall what the ULM forgot, so a claim "
            f"on a method's recall is tested only where its ULM forgot: forget accuracy below "
            f"the trained model's by more than {FORGOT_MARGIN:g}, over the seeds."]
    if kept:
        text.append(_forgot_little(ulm[kept], trm, paper_dataset(dataset)))
    else:
        text.append(f"Every ULM here forgot (forget accuracy {_span(ulm)} against the trained "
                    f"model's {trm:.2f}).")
    if forgot_here:
        text.append(_open_against_closed(rows, forgot_here, paper_dataset(dataset)))
    return " ".join(text)


def _forgot_little(kept: pd.Series, trm: float, key: str) -> str:
    text = (f"{spoken_list(kept.index)} did not forget here (ULM forget accuracy "
            f"{_span(kept)} against the trained model's {trm:.2f}): there is little to recall, "
            f"so their parts of the recall claims are not testable here.")
    theirs = [paper.ULM[key][m]["forget"] for m in kept.index if m in paper.ULM[key]]
    if theirs:
        text += (f" In the paper's {paper.DATASETS[key]} rows these methods had forgotten "
                 f"(forget accuracy {_span(theirs)} against {paper.TRAINED[key]['forget']:.2f}), "
                 f"which is the regime the claims are about.")
    return text


def _open_against_closed(rows: pd.DataFrame, forgot_here: list[str], key: str) -> str:
    lead = (seed_gains(rows, "open")[forgot_here].mean(axis=1)
            - seed_gains(rows, "closed")[forgot_here].mean(axis=1))
    effect = _seed_effect(lead)
    outcome = {HELD: "more", NOT_HELD: "no more"}.get(side(effect), "not clearly more")
    text = (f"Where the ULM forgot ({spoken_list(forgot_here)}), compare the ΔAcc rows of "
            f"Tables 2 and 3: the open-source attack, which trains the ULM itself on its "
            f"confident agreements, recalls {outcome} than the closed-source one (their mean "
            f"ΔAcc on forget, open minus closed: {effect.text()})")
    paper_closed = paper_gain("dst+stu", forgot_here, key)
    if paper_closed.empty or outcome == "not clearly more":
        return text + "."
    paper_more = paper_gain("dst+stu+tch", forgot_here, key).mean() > paper_closed.mean()
    return text + (f", as in the paper's {paper.DATASETS[key]} rows."
                   if paper_more == (outcome == "more")
                   else f", unlike the paper's {paper.DATASETS[key]} rows.")


def accuracy_records(rows: pd.DataFrame, attack: str, trained: dict) -> list[dict]:
    """An `accuracy_table` as records (method, subset, model, mean, std) for the results."""
    table = accuracy_table(rows, attack, trained)
    return [{"method": method, "subset": subset, "model": model,
             "mean": table.loc[(subset, model), ("mean", method)],
             "std": table.loc[(subset, model), ("std", method)]}
            for subset, model in table.index for method in table["mean"].columns]


def run_records(rows: pd.DataFrame) -> list[dict]:
    """One record per attack run: its settings, time and the ULM's and RCM's accuracies."""
    return [{k: r[k] for k in ("seed", "method", "attack", "components", "student", "seconds")}
            | {"ulm_test": r["ulm"]["test"], "ulm_forget": r["ulm"]["forget"],
               "rcm_test": r["rcm"]["test"], "rcm_forget": r["rcm"]["forget"]}
            for r in rows.to_dict("records")]


def results(rows: pd.DataFrame, trained: dict, ablation: pd.DataFrame, *, splits: dict,
            diagonals: pd.DataFrame) -> dict:
    """The chapter's results (claims apart): Table 1's split sizes, Tables 2-4, Figure 7's
    diagonals, the other student's tables and every run."""
    return {
        "table1_splits": splits,
        "table2_closed": accuracy_records(rows, "closed", trained),
        "table3_open": accuracy_records(rows, "open", trained),
        "table4_ablation": {f"{m}/{s}": ablation[(m, s)].to_dict() for m, s in ablation.columns},
        "fig7_diagonals": {f"{m}/{model}": diagonals.loc[(m, model)].to_dict()
                           for m, model in diagonals.index},
        "heterogeneous": {case: accuracy_records(rows, attack, trained)
                          for case, attack in OTHER_STUDENT.items()},
        "runs": run_records(rows),
    }


def headline(results: Results) -> dict[str, float]:
    """The chapter's headline numbers (what a sweep gathers): the unlearned and the
    recalled models' mean accuracy on the forget and test sets, per attack and method."""
    records = [{**row, "attack": attack} for attack in ("closed", "open")
               for row in accuracy_records(results.rows, attack, results.trained)
               if row["model"] in ("ULM", "RCM")]
    return {f"{r['attack']}/{r['method']}/{r['model']}/{r['subset']}": r["mean"]
            for r in records}
