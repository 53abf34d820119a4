"""MRA (Sui et al.): recall attacks against the toolkit's unlearned models, scored on
`test` and `forget`, with the chapter's tables, figures and claim rules.

`recall_study` unlearns the trained model of each seed with each method (through the
cache, shared with the baselines chapter), runs each named attack on every unlearned
model and returns one row per (seed, method, attack) with the accuracies of the unlearned
model (ULM) and the recalled model (RCM), per forget class and as confusion rows. The
chapter runs five attacks (`attack_settings`): the closed-source attack (DST+STU), the
open-source one (DST+STU+TCH), DST alone for the ablation, and the two cases again with a
student of another architecture.

The paper's numbers (`mu_core.papers.mra`) stand beside ours for the dataset that runs, or
for CIFAR-10 where the paper has no rows for it (`paper_dataset`); each claim rule is
applied to them as to ours, on the forget set and on the test set where the paper claims
both.
"""

from __future__ import annotations

import time

import pandas as pd
import torch

from .. import dryrun, models, plots
from ..attacks.mra import MRAConfig, membership_recall
from ..claims import Claim, verdict
from ..data import ImageData
from ..errors import ConfigError
from ..metrics import accuracy, accuracy_by_class, confusion_matrix
from ..papers import mra as paper
from ..splits import Split, make_split
from ..train import Recipe, predict
from ..zoo import unlearned_models
from . import mean_by_method, mean_std, spoken_list

STUDENT_SEED_OFFSET = 10_000  # the attacker's student never shares the trained model's init
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
# A ULM that keeps more than this share of the trained model's forget accuracy forgot little
# (no ULM of the paper's Tables 2-3 keeps more than 0.35 of it).
FORGOT_LITTLE = 0.5
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
    `ablation_seeds`, the other student on the `heterogeneous_seeds`."""
    other_seeds = {"seeds": params["heterogeneous_seeds"]}
    return {"dst": {"methods": params["ablation_methods"], "seeds": params["ablation_seeds"]},
            OTHER_STUDENT["closed"]: other_seeds, OTHER_STUDENT["open"]: other_seeds}


def recall_scores(model, data: ImageData, split: Split) -> dict:
    """Accuracy on test and forget, per forget class, and the row-normalised confusion of
    the forget set (rows: the forget classes; columns: every class)."""
    test_pred = predict(model, data, split.test, output="logits").argmax(1)
    forget_pred = predict(model, data, split.forget, output="logits").argmax(1)
    forget_labels = data.targets(split.forget).cpu()
    per_class = accuracy_by_class(forget_pred, forget_labels, data.num_classes)
    confusion = confusion_matrix(forget_pred, forget_labels, data.num_classes, normalize=True)
    return {"test": accuracy(test_pred, data.targets(split.test)),
            "forget": accuracy(forget_pred, forget_labels),
            "forget_per_class": per_class,
            "forget_confusion": confusion[list(per_class)]}


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
                 restrict: dict[str, dict] | None = None,
                 architecture_options: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Run every attack on every (seed, method) unlearned model, the trained model built as
    `architecture` with `architecture_options` (e.g. ``{"pretrained": True}``).

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
            recipe=recipe, hyperparameters=hyperparameters,
            architecture_options=architecture_options):
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
    `data.load("flowers102")` reads."""
    _, _, _, train, test = dryrun.SHAPES["flowers102"]
    return {"paper_flowers_train": paper.SPLITS["flowers102"]["train"],
            "paper_flowers_test": paper.SPLITS["flowers102"]["test"],
            "official_flowers_train": train, "official_flowers_test": test}


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
    """Tables 2 and 3: one attack's accuracies here (mean ± std over the seeds) beside the
    paper's for the same components and `dataset` (a dash where it has no number)."""
    table = accuracy_table(rows, attack, trained)
    ours = mean_std(table["mean"], table["std"], 3)
    components = rows.loc[rows.attack == attack, "components"].iloc[0]
    theirs = paper_accuracy_table(components, ours.columns, dataset)
    theirs = theirs.reindex(index=ours.index, columns=ours.columns)
    return pd.concat({"here": ours, paper_label(dataset): theirs.map(_paper_number)}, axis=1)


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
    """Table 4 here (rounded to 3 places) above the paper's for `dataset`."""
    label = paper_label(dataset, paper.ABLATION_TABLES[paper_dataset(dataset)])
    return pd.concat({"here": ablation.round(3), label: paper_ablation}, axis=0)


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


def accuracy_means(rows: pd.DataFrame, attack: str, model: str,
                   subset: str = "forget") -> pd.Series:
    """Mean over the seeds of the `subset` accuracy of the ULM (`model="ulm"`) or the RCM
    (`"rcm"`) under one attack, per method."""
    chosen = rows[rows.attack == attack]
    return chosen.assign(value=[r[subset] for r in chosen[model]]) \
        .groupby("method", sort=False).value.mean()


def accuracy_gain(rows: pd.DataFrame, attack: str, subset: str = "forget") -> pd.Series:
    """ΔAcc on `subset` per method: the RCM's mean accuracy minus the ULM's."""
    return accuracy_means(rows, attack, "rcm", subset) - accuracy_means(rows, attack, "ulm", subset)


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
    """Every value is > 0 (None, not testable, when there is none)."""
    return None if values.empty else bool((values > 0).all())


def precise_easiest(gain: pd.Series) -> bool | None:
    """The precise methods' (SalUn, UNSC) mean gain exceeds the other methods' mean; None
    when either group did not run."""
    precise = [m for m in PRECISE_METHODS if m in gain.index]
    others = gain.drop(precise)
    if not precise or others.empty:
        return None
    return bool(gain[precise].mean() > others.mean())


def l1_among_hardest(gain: pd.Series) -> bool | None:
    """L1-SP's gain ranks in the lower half; None when L1-SP, or any other method, did not
    run."""
    if "l1_sparse" not in gain.index or len(gain) < 2:
        return None
    return bool(gain.rank()["l1_sparse"] <= len(gain) / 2)


def ablation_ordered(table: pd.DataFrame, subset: str = "forget") -> bool | None:
    """Accuracy on `subset` rises strictly at each stage, DST < DST+STU < DST+STU+TCH, for
    every method of an `ablation_table`; None for an empty table."""
    if table.empty:
        return None
    values = table.xs(subset, axis=1, level=1)
    return bool((values.loc["DST"] < values.loc["DST+STU"]).all()
                and (values.loc["DST+STU"] < values.loc["DST+STU+TCH"]).all())


def dst_near_ulm(table: pd.DataFrame, subset: str = "forget") -> bool | None:
    """DST alone stays near the ULM: for every method of an `ablation_table`, DST's accuracy
    on `subset` is nearer the ULM's than DST+STU's is; None for an empty table."""
    if table.empty:
        return None
    values = table.xs(subset, axis=1, level=1)
    dst_moves = (values.loc["DST"] - values.loc["ULM"]).abs()
    recall_moves = (values.loc["DST+STU"] - values.loc["ULM"]).abs()
    return bool((dst_moves < recall_moves).all())


def every_method_forgot(ulm_forget: pd.Series, trained_forget: float) -> bool | None:
    """Every ULM keeps at most `FORGOT_LITTLE` of the trained model's forget accuracy (None
    when no method ran)."""
    if ulm_forget.empty:
        return None
    return bool((ulm_forget <= FORGOT_LITTLE * trained_forget).all())


def iu_turns_around(closed: pd.Series, open_source: pd.Series) -> bool | None:
    """IU's gain is among the lowest two of the closed-source case and among the highest two
    of the open-source case (ties count against it); None without IU or with fewer than four
    methods (the two pairs would overlap)."""
    methods = closed.index.intersection(open_source.index)
    if "iu" not in methods or len(methods) < 4:
        return None
    low = closed[methods].rank(method="max")["iu"] <= 2
    high = open_source[methods].rank(method="min")["iu"] >= len(methods) - 1
    return bool(low and high)


def diagonal_rises(diagonals: pd.DataFrame) -> bool | None:
    """In every forget class's row, for every method of `confusion_diagonals`, the diagonal
    entry rises strictly at each stage, DST < DST+STU < DST+STU+TCH; None when empty."""
    if diagonals.empty:
        return None
    return all(_rising_classes(diagonals, method) == diagonals.shape[1]
               for method in diagonals.index.unique(0))


def _rising_classes(diagonals: pd.DataFrame, method: str) -> int:
    """How many forget classes' diagonal entries rise strictly at each stage for `method`."""
    stages = diagonals.loc[method].loc[list(STAGES)]
    return int(((stages.iloc[0] < stages.iloc[1]) & (stages.iloc[1] < stages.iloc[2])).sum())


def per_class_gain(rows: pd.DataFrame, attack: str) -> pd.DataFrame:
    """Figures 3-5: ΔAcc per forget class, the RCM's mean forget accuracy on the class
    minus the ULM's (methods x classes)."""
    return forget_class_means(rows, attack, "rcm") - forget_class_means(rows, attack, "ulm")


def largest_in_every_class(gains: pd.DataFrame, method: str) -> bool | None:
    """`method`'s gain is strictly the largest of the methods in every forget class; None
    without it or without another method."""
    if method not in gains.index or len(gains) < 2:
        return None
    return bool((gains.loc[method] > gains.drop(method).max()).all())


def lower_half_in_every_class(gains: pd.DataFrame, method: str) -> bool | None:
    """`method`'s gain ranks in the lower half of the methods in every forget class (ties
    share their mean rank, as in `l1_among_hardest`); None without it or another method."""
    if method not in gains.index or len(gains) < 2:
        return None
    return bool((gains.rank().loc[method] <= len(gains) / 2).all())


def spread_narrows(closed: pd.DataFrame, open_source: pd.DataFrame) -> bool | None:
    """In every forget class, the spread of the gains over the methods (max - min) is
    strictly smaller open source than closed source; None with fewer than two methods."""
    methods = closed.index.intersection(open_source.index)
    if len(methods) < 2:
        return None
    return bool((_spread(open_source.loc[methods]) < _spread(closed.loc[methods])).all())


def _spread(gains: pd.DataFrame) -> pd.Series:
    return gains.max() - gains.min()


def _listed(values: pd.Series) -> str:
    """Signed values by method, 'ga +0.200, salun -0.100' (a claim's `here`)."""
    return ", ".join(f"{m} {v:+.3f}" for m, v in values.items())


def _paper_cell(held, rows: str, evidence: str) -> str:
    """A claim's `paper`: the verdict of its rule on the paper's `rows`, with the evidence."""
    return f"{verdict(held)} on {rows}: {evidence or 'none of these methods'}"


def _gain_claim(claim_id: str, claim: str, rule, ours: pd.Series, theirs: pd.Series,
                rows: str) -> Claim:
    """A claim whose `rule` reads per-method values, applied here and to the paper's."""
    return Claim(claim_id, claim, _paper_cell(rule(theirs), rows, _listed(theirs)),
                 _listed(ours), verdict(rule(ours)))


def _unsigned(values: pd.Series) -> str:
    """Values by method, 'ga 0.200, salun 0.900' (a claim's `here`)."""
    return ", ".join(f"{m} {v:.3f}" for m, v in values.items())


def _trained_forget(rows: pd.DataFrame, trained: dict) -> float:
    """The trained models' mean forget accuracy over the seeds of the closed-source runs."""
    seeds = rows.loc[rows.attack == "closed", "seed"].unique()
    return sum(trained[s]["forget"] for s in seeds) / len(seeds)


def forgetting_claim(rows: pd.DataFrame, trained: dict, dataset: str) -> Claim:
    """Section 5.2: every MU method drops the forget accuracy from the TRM's to a low one."""
    key = paper_dataset(dataset)
    ours = accuracy_means(rows, "closed", "ulm")
    theirs = pd.Series({m: paper.ULM[key][m]["forget"] for m in ours.index
                        if m in paper.ULM[key]}, dtype=float)
    trm, paper_trm = _trained_forget(rows, trained), paper.TRAINED[key]["forget"]
    evidence = f"TRM {paper_trm:.3f}; {_unsigned(theirs)}" if len(theirs) else ""
    return Claim("every_method_forgot",
                 f"Every MU method forgets: the ULM's forget accuracy drops from the TRM's to "
                 f"at most {FORGOT_LITTLE:g} of it.",
                 _paper_cell(every_method_forgot(theirs, paper_trm), paper.DATASETS[key],
                             evidence),
                 f"TRM {trm:.3f}; {_unsigned(ours)}", verdict(every_method_forgot(ours, trm)))


def recall_claims(rows: pd.DataFrame, dataset: str) -> list[Claim]:
    """The attack recalls, for every method, in both cases, and more when open source; each
    on the forget set and on the test set (the paper claims both)."""
    key = paper_dataset(dataset)
    found = []
    for attack, components in (("closed", "dst+stu"), ("open", "dst+stu+tch")):
        for subset in SUBSETS_CLAIMED:
            ours = accuracy_gain(rows, attack, subset)
            found.append(_gain_claim(
                f"recall_every_method_{attack}{ID_SUFFIX[subset]}",
                f"RCM improves {subset} accuracy for every MU method ({CASES[attack]}).",
                all_positive, ours, paper_gain(components, ours.index, key, subset),
                paper.DATASETS[key]))
    for subset in SUBSETS_CLAIMED:
        lead = accuracy_means(rows, "open", "rcm", subset) - \
            accuracy_means(rows, "closed", "rcm", subset)
        found.append(_gain_claim(
            f"open_beats_closed{ID_SUFFIX[subset]}",
            f"Open-source recall beats closed-source recall, for every method ({subset} "
            f"accuracy of the RCM).", all_positive, lead,
            paper_open_lead(lead.index, key, subset), paper.DATASETS[key]))
    return found


def method_claims(rows: pd.DataFrame, dataset: str) -> list[Claim]:
    """Which methods are easiest and hardest to recall, on forget and on test: the precise
    methods in both cases (Sections 5.2 and 5.3), L1-SP in the closed-source case (Section
    5.2); each rule is also applied to the paper's gains of the same methods."""
    key = paper_dataset(dataset)
    found = []
    for claim_id, claim, rule, attack in (
            ("precise_unlearning_easiest", "Precise unlearning (SalUn, UNSC) is the easiest to "
             "recall: their mean closed-source ΔAcc on {} exceeds the other methods' mean.",
             precise_easiest, "closed"),
            ("precise_unlearning_easiest_open", "Open source too, precise unlearning (SalUn, "
             "UNSC) is the easiest to recall: their mean open-source ΔAcc on {} exceeds the "
             "other methods' mean.", precise_easiest, "open"),
            ("l1_sparse_among_hardest", "L1-SP is among the hardest to recall: its "
             "closed-source ΔAcc on {} is in the lower half.", l1_among_hardest, "closed")):
        for subset in SUBSETS_CLAIMED:
            ours = accuracy_gain(rows, attack, subset)
            theirs = paper_gain(CASES_COMPONENTS[attack], ours.index, key, subset)
            found.append(_gain_claim(claim_id + ID_SUFFIX[subset], claim.format(subset), rule,
                                     ours, theirs, paper.DATASETS[key]))
    return found


def per_class_claims(rows: pd.DataFrame) -> list[Claim]:
    """Figures 3-5, read per forget class: SalUn recalled most and L1-SP little in every
    class (closed source), and the methods' gains lie closer together open source. The
    figures print no numbers, so the paper's cell says so."""
    closed, open_source = per_class_gain(rows, "closed"), per_class_gain(rows, "open")
    figures = "Figures 3-5 (bars, no numbers printed)"
    return [
        Claim("salun_recalled_most_per_class",
              "Figures 3-4: in every forget class, SalUn's closed-source ΔAcc is the largest "
              "of the methods (\"the improvement for each class after MRA is the most "
              "significant\").", figures, _per_class_leaders(closed),
              verdict(largest_in_every_class(closed, "salun"))),
        Claim("l1_sparse_recalled_little_per_class",
              "Figures 3-4: in every forget class, L1-SP's closed-source ΔAcc is in the lower "
              "half of the methods (\"relatively small\").", figures,
              _per_class_values(closed, "l1_sparse"),
              verdict(lower_half_in_every_class(closed, "l1_sparse"))),
        Claim("open_gaps_narrow_per_class",
              "Figure 5 against Figure 3: in every forget class, the methods' ΔAcc lie closer "
              "together open source than closed source (a smaller spread, max - min).",
              figures, _spreads(closed, open_source),
              verdict(spread_narrows(closed, open_source))),
    ]


def _per_class_leaders(gains: pd.DataFrame) -> str:
    """'class 1: salun +0.400; class 3: ga +0.300' (the largest gain in each class)."""
    if gains.empty:
        return ""
    return "; ".join(f"class {c}: {gains[c].idxmax()} {gains[c].max():+.3f}"
                     for c in gains.columns)


def _per_class_values(gains: pd.DataFrame, method: str) -> str:
    """'l1_sparse: class 1 +0.100 (rank 2 of 8); ...' (a method's gain in each class)."""
    if method not in gains.index:
        return f"{method} did not run"
    ranks = gains.rank(ascending=False, method="min").loc[method]
    return f"{method}: " + "; ".join(f"class {c} {gains.loc[method, c]:+.3f} (rank "
                                      f"{ranks[c]:.0f} of {len(gains)})" for c in gains.columns)


def _spreads(closed: pd.DataFrame, open_source: pd.DataFrame) -> str:
    """'spread closed → open: class 1 0.500 → 0.200; ...'."""
    methods = closed.index.intersection(open_source.index)
    if closed.empty or open_source.empty:
        return ""
    before, after = _spread(closed.loc[methods]), _spread(open_source.loc[methods])
    return "spread closed → open: " + "; ".join(f"class {c} {before[c]:.3f} → {after[c]:.3f}"
                                                for c in before.index)


def iu_claims(rows: pd.DataFrame, dataset: str) -> list[Claim]:
    """Section 5.3: IU turns from among the lowest-2 gains (closed source) to among the
    top-2 (open source), on forget and on test."""
    key = paper_dataset(dataset)
    found = []
    for subset in SUBSETS_CLAIMED:
        closed, open_source = (accuracy_gain(rows, attack, subset) for attack in CASES)
        theirs = [paper_gain(CASES_COMPONENTS[attack], closed.index, key, subset)
                  for attack in CASES]
        found.append(Claim(
            f"iu_lowest_closed_top_open{ID_SUFFIX[subset]}",
            f"IU's ΔAcc on {subset} is among the lowest two closed source and among the top "
            f"two open source.",
            _paper_cell(iu_turns_around(*theirs), paper.DATASETS[key],
                        f"closed {_listed(theirs[0])}; open {_listed(theirs[1])}"),
            f"closed {_listed(closed)}; open {_listed(open_source)}",
            verdict(iu_turns_around(closed, open_source))))
    return found


def _stage_sequences(table: pd.DataFrame, subset: str, stages=tuple(STAGES)) -> str:
    """'ff: 0.100 → 0.500 → 0.900; bu: ...' of an ablation table's `stages` (a claim's
    evidence)."""
    methods = table.columns.get_level_values(0).unique()
    return "; ".join(f"{m}: " + " → ".join(f"{table.loc[s, (m, subset)]:.3f}" for s in stages)
                     for m in methods)


def ablation_claims(ablation: pd.DataFrame, paper_ablation: pd.DataFrame,
                    dataset: str) -> list[Claim]:
    """Each component of the attack adds accuracy (Table 4), on forget and on test."""
    key = paper_dataset(dataset)
    rows = f"{paper.DATASETS[key]} ({paper.ABLATION_TABLES[key]})"
    near = ("ULM", "DST", "DST+STU")
    return [*(Claim(f"ablation_order{ID_SUFFIX[subset]}",
                    f"Each ablation component adds {subset} accuracy: DST < DST+STU < "
                    f"DST+STU+TCH, for every method.",
                    _paper_cell(ablation_ordered(paper_ablation, subset), rows,
                                _stage_sequences(paper_ablation, subset)),
                    _stage_sequences(ablation, subset),
                    verdict(ablation_ordered(ablation, subset)))
              for subset in SUBSETS_CLAIMED),
            *(Claim(f"dst_near_ulm{ID_SUFFIX[subset]}",
                    f"Section 5.4: the {subset} accuracy of DST alone is close to the ULM's: "
                    f"nearer it than DST+STU's, for every method (ULM → DST → DST+STU).",
                    _paper_cell(dst_near_ulm(paper_ablation, subset), rows,
                                _stage_sequences(paper_ablation, subset, near)),
                    _stage_sequences(ablation, subset, near),
                    verdict(dst_near_ulm(ablation, subset)))
              for subset in SUBSETS_CLAIMED)]


def diagonal_claim(diagonals: pd.DataFrame) -> Claim:
    """Figure 7: the confusion matrices' diagonals grow more noticeable stage by stage."""
    here = ", ".join(f"{m} {_rising_classes(diagonals, m)}/{diagonals.shape[1]}"
                     for m in diagonals.index.unique(0)) if not diagonals.empty else ""
    return Claim("confusion_diagonal_rises",
                 "Figure 7: the diagonals of the forget set's confusion matrices become more "
                 "noticeable at each stage, DST < DST+STU < DST+STU+TCH, in every forget "
                 "class's row, for every method.",
                 "Figure 7 (matrices drawn, no numbers)",
                 f"forget classes whose diagonal entry rises at each stage: {here}",
                 verdict(diagonal_rises(diagonals)))


def other_student_claims(rows: pd.DataFrame, other_student: str) -> list[Claim]:
    """A student of another architecture than the ULM still recalls, in both cases, on
    forget and on test; the paper's evidence is its Flower-102 rows (Tables 2 and 3)."""
    key = paper.HETEROGENEOUS
    found = []
    for case, id_case in (("closed", ""), ("open", "_open")):
        for subset in SUBSETS_CLAIMED:
            ours = accuracy_gain(rows, OTHER_STUDENT[case], subset)
            found.append(_gain_claim(
                f"other_student_recalls{id_case}{ID_SUFFIX[subset]}",
                f"A student of another architecture ({other_student}) still recalls: it "
                f"improves {subset} accuracy for every method ({CASES[case]}).", all_positive,
                ours, paper_gain(CASES_COMPONENTS[case], ours.index, key, subset),
                f"{paper.DATASETS[key]} ({paper.ARCHITECTURES[key]})"))
    return found


def claims(rows: pd.DataFrame, trained: dict, ablation: pd.DataFrame,
           paper_ablation: pd.DataFrame, diagonals: pd.DataFrame, *, other_student: str,
           dataset: str) -> list[Claim]:
    """The paper's claims checked on this run, in the chapter's order; the paper's own
    numbers are those of `dataset` (see `paper_dataset`)."""
    return [forgetting_claim(rows, trained, dataset), *recall_claims(rows, dataset),
            *method_claims(rows, dataset), *per_class_claims(rows), *iu_claims(rows, dataset),
            *ablation_claims(ablation, paper_ablation, dataset), diagonal_claim(diagonals),
            *other_student_claims(rows, other_student)]


def _span(values) -> str:
    """The range of `values` to two places, 'low-high' (one number when they round alike)."""
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"


def reading_the_verdicts(rows: pd.DataFrame, trained: dict, dataset: str) -> str:
    """The paragraph that reads the verdicts, from this run's numbers: which ULMs forgot
    little (they keep more than `FORGOT_LITTLE` of the trained model's forget accuracy, so
    there is little to recall) and, where the ULM forgot, whether the open-source attack
    recalls more than the closed-source one (each beside the paper's rows for `dataset`)."""
    ulm = accuracy_means(rows, "closed", "ulm")
    trm = _trained_forget(rows, trained)
    kept = ulm[ulm > FORGOT_LITTLE * trm]
    forgot = [m for m in ulm.index if m not in kept.index]
    text = ["**Reading the verdicts.** MRA can only recall what the ULM forgot."]
    if len(kept):
        text.append(_forgot_little(rows, kept, trm, paper_dataset(dataset)))
    else:
        text.append(f"Every ULM here keeps at most half of the trained model's forget "
                    f"accuracy ({_span(ulm)} against {trm:.2f}), the regime the paper's claims "
                    f"are about.")
    if forgot:
        text.append(_open_against_closed(rows, forgot, paper_dataset(dataset)))
    return " ".join(text)


def _forgot_little(rows: pd.DataFrame, kept: pd.Series, trm: float, key: str) -> str:
    gain = accuracy_gain(rows, "closed")[kept.index]
    text = (f"{spoken_list(kept.index)} forgot little here (ULM forget accuracy {_span(kept)} "
            f"against the trained model's {trm:.2f}), so there is little to recall, and a "
            f"student that learns from the ULM's labels can even lower the accuracy it copies "
            f"(closed-source ΔAcc on forget: {_listed(gain)}).")
    theirs = [paper.ULM[key][m]["forget"] for m in kept.index if m in paper.ULM[key]]
    if theirs:
        text += (f" In the paper's {paper.DATASETS[key]} rows these methods had forgotten "
                 f"(forget accuracy {_span(theirs)} against {paper.TRAINED[key]['forget']:.2f}), "
                 f"which is the regime the claims are about.")
    return text


def _open_against_closed(rows: pd.DataFrame, forgot: list[str], key: str) -> str:
    closed = accuracy_gain(rows, "closed")[forgot].mean()
    open_source = accuracy_gain(rows, "open")[forgot].mean()
    more = open_source > closed
    text = (f"Where the ULM forgot ({spoken_list(forgot)}), compare the ΔAcc rows of Tables 2 and "
            f"3: the open-source attack, which trains the ULM itself on its confident "
            f"agreements, recalls {'more' if more else 'no more'} than the closed-source one "
            f"(mean ΔAcc on forget {open_source:+.3f} against {closed:+.3f})")
    paper_closed = paper_gain("dst+stu", forgot, key)
    if paper_closed.empty:
        return text + "."
    paper_more = paper_gain("dst+stu+tch", forgot, key).mean() > paper_closed.mean()
    return text + (f", as in the paper's {paper.DATASETS[key]} rows." if paper_more == more
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


def headline(results: dict) -> dict[str, float]:
    """The chapter's headline numbers (what a sweep gathers): the unlearned and the
    recalled models' mean accuracy on the forget and test sets, per attack and method."""
    records = [{**row, "attack": attack} for attack, table in
               (("closed", "table2_closed"), ("open", "table3_open"))
               for row in results[table] if row["model"] in ("ULM", "RCM")]
    return {f"{r['attack']}/{r['method']}/{r['model']}/{r['subset']}": r["mean"]
            for r in records}
