"""MRA (Sui et al.): recall attacks against the toolkit's unlearned models, scored on
`test` and `forget`, with the chapter's tables, figures and claim rules.

`recall_study` unlearns the trained model of each seed with each method (through the
cache, shared with the baselines chapter), runs each named attack on every unlearned
model and returns one row per (seed, method, attack) with the accuracies of the unlearned
model (ULM) and the recalled model (RCM), per forget class and as confusion rows. The
chapter runs five attacks (`attack_settings`): the closed-source attack (DST+STU), the
open-source one (DST+STU+TCH), DST alone for the ablation, and the two cases again with a
student of another architecture.
"""

from __future__ import annotations

import time

import pandas as pd
import torch

from .. import models, plots
from ..attacks.mra import MRAConfig, membership_recall
from ..claims import Claim, verdict
from ..data import ImageData
from ..errors import ConfigError
from ..metrics import accuracy, accuracy_by_class, confusion_matrix
from ..papers.mra import CIFAR10_RCM, CIFAR10_TRAINED, CIFAR10_ULM, PET37_ABLATION
from ..splits import Split
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
# A ULM that keeps more than this share of the trained model's forget accuracy forgot little
# (the paper's ULMs keep at most 0.27 of it).
FORGOT_LITTLE = 0.5
# The chapter's parameters shared by every attack, by their MRAConfig names.
SHARED_ATTACK_SETTINGS = ("rounds", "distill_epochs", "recall_epochs", "lr_student",
                          "lr_unlearned", "alpha_x", "alpha_y", "gamma_l", "gamma_s")


def attack_settings(params: dict) -> dict[str, dict]:
    """The chapter's five named attacks (`recall_study`'s `attacks`) from its parameters:
    "closed" (DST+STU, `tau_closed`) and "open" (DST+STU+TCH, `tau_open`) with the
    `student`, "dst" (DST alone, for the ablation) and the two cases again with the
    `heterogeneous_student` ("closed, other student", "open, other student")."""
    shared = {name: params[name] for name in SHARED_ATTACK_SETTINGS}
    shared["batch_size"] = params["attack_batch_size"]
    closed = dict(shared, components="dst+stu", tau=params["tau_closed"])
    open_source = dict(shared, components="dst+stu+tch", tau=params["tau_open"])
    student = dict(student=params["student"], student_options=params["student_options"])
    other = dict(student=params["heterogeneous_student"],
                 student_options=params["heterogeneous_options"])
    return {"closed": closed | student, "open": open_source | student,
            "dst": dict(shared, components="dst", tau=params["tau_closed"]) | student,
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


def paper_accuracy_table(components: str, methods) -> pd.DataFrame:
    """The paper's CIFAR-10 numbers in `accuracy_table`'s layout (rows: subset x TRM, ULM,
    RCM, ΔAcc; columns: `methods`) for the attack with these `components`."""
    paper = {}
    for subset in SUBSETS:
        for method in methods:
            ulm, rcm = CIFAR10_ULM[method][subset], CIFAR10_RCM[components][method][subset]
            paper[(subset, "TRM", method)] = CIFAR10_TRAINED[subset]
            paper[(subset, "ULM", method)], paper[(subset, "RCM", method)] = ulm, rcm
            paper[(subset, "ΔAcc", method)] = rcm - ulm
    return pd.Series(paper).unstack()


def accuracy_beside_paper(rows: pd.DataFrame, attack: str, trained: dict) -> pd.DataFrame:
    """Tables 2 and 3: one attack's accuracies here (mean ± std over the seeds) beside the
    paper's CIFAR-10 numbers for the same components."""
    table = accuracy_table(rows, attack, trained)
    ours = mean_std(table["mean"], table["std"], 3)
    components = rows.loc[rows.attack == attack, "components"].iloc[0]
    paper = paper_accuracy_table(components, [m for m in ours.columns if m in CIFAR10_ULM])
    paper = paper.reindex(index=ours.index, columns=ours.columns)
    return pd.concat({"here": ours, "paper (CIFAR-10)": paper.map(lambda v: f"{v:.3f}")},
                     axis=1)


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
    """Table 4 here: the RCM's mean accuracy over `seeds` after each stage (rows: DST,
    DST+STU, DST+STU+TCH; columns: (method, subset))."""
    chosen = rows[rows.method.isin(methods) & rows.seed.isin(seeds)]
    tables = {stage: accuracy_table(chosen, attack, trained) for stage, attack in STAGES.items()}
    return pd.DataFrame({(method, subset): {stage: table.loc[(subset, "RCM"), ("mean", method)]
                                            for stage, table in tables.items()}
                         for method in methods for subset in SUBSETS})


def paper_ablation_table(methods) -> pd.DataFrame:
    """The paper's Pet-37 Table 4 in `ablation_table`'s layout, for the `methods` it has."""
    return pd.DataFrame({
        (method, subset): {stage: PET37_ABLATION[components][method][subset]
                           for stage, components in STAGE_COMPONENTS.items()}
        for method in methods if method in PET37_ABLATION["dst"] for subset in SUBSETS})


def ablation_beside_paper(ablation: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Table 4 here (rounded to 3 places) above the paper's."""
    return pd.concat({"here": ablation.round(3), "paper (Pet-37)": paper}, axis=0)


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


def forget_means(rows: pd.DataFrame, attack: str, model: str) -> pd.Series:
    """Mean over the seeds of the forget accuracy of the ULM (`model="ulm"`) or the RCM
    (`"rcm"`) under one attack, per method."""
    chosen = rows[rows.attack == attack]
    return chosen.assign(value=[r["forget"] for r in chosen[model]]) \
        .groupby("method", sort=False).value.mean()


def forget_gain(rows: pd.DataFrame, attack: str) -> pd.Series:
    """ΔAcc on forget per method: the RCM's mean forget accuracy minus the ULM's."""
    return forget_means(rows, attack, "rcm") - forget_means(rows, attack, "ulm")


def paper_forget_gain(components: str, methods) -> pd.Series:
    """The paper's CIFAR-10 ΔAcc on forget, for the `methods` it reports."""
    return pd.Series({m: CIFAR10_RCM[components][m]["forget"] - CIFAR10_ULM[m]["forget"]
                      for m in methods if m in CIFAR10_ULM})


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


def ablation_ordered(table: pd.DataFrame) -> bool | None:
    """Forget accuracy rises strictly at each stage, DST < DST+STU < DST+STU+TCH, for every
    method of an `ablation_table`; None for an empty table."""
    if table.empty:
        return None
    forget = table.xs("forget", axis=1, level=1)
    return bool((forget.loc["DST"] < forget.loc["DST+STU"]).all()
                and (forget.loc["DST+STU"] < forget.loc["DST+STU+TCH"]).all())


def _listed(values: pd.Series) -> str:
    """Signed values by method, 'ga +0.200, salun -0.100' (a claim's `here`)."""
    return ", ".join(f"{m} {v:+.3f}" for m, v in values.items())


def recall_claims(rows: pd.DataFrame) -> list[Claim]:
    """The attack recalls, for every method, in both cases, and more when open source."""
    closed, open_source = forget_gain(rows, "closed"), forget_gain(rows, "open")
    open_lead = forget_means(rows, "open", "rcm") - forget_means(rows, "closed", "rcm")
    return [
        Claim("recall_every_method_closed",
              "RCM improves forget accuracy for every MU method (closed source).",
              "all ΔAcc > 0", _listed(closed), verdict(all_positive(closed))),
        Claim("recall_every_method_open",
              "RCM improves forget accuracy for every MU method (open source).",
              "all ΔAcc > 0", _listed(open_source), verdict(all_positive(open_source))),
        Claim("open_beats_closed",
              "Open-source recall beats closed-source recall, for every method (forget "
              "accuracy).", "held for all 8 on CIFAR-10", _listed(open_lead),
              verdict(all_positive(open_lead))),
    ]


def method_claims(rows: pd.DataFrame) -> list[Claim]:
    """Which methods are easiest and hardest to recall (closed source); each rule is also
    applied to the paper's CIFAR-10 gains of the same methods."""
    gain = forget_gain(rows, "closed")
    paper = paper_forget_gain("dst+stu", gain.index)
    return [
        Claim("precise_unlearning_easiest",
              "Precise unlearning (SalUn, UNSC) is the easiest to recall: their mean "
              "closed-source ΔAcc on forget exceeds the other methods' mean.",
              verdict(precise_easiest(paper)), _listed(gain), verdict(precise_easiest(gain))),
        Claim("l1_sparse_among_hardest",
              "L1-SP is among the hardest to recall: its closed-source ΔAcc on forget is in "
              "the lower half.", verdict(l1_among_hardest(paper)), _listed(gain),
              verdict(l1_among_hardest(gain))),
    ]


def ablation_claim(ablation: pd.DataFrame, paper_ablation: pd.DataFrame) -> Claim:
    """Each component of the attack adds forget accuracy (Table 4)."""
    methods = ablation.columns.get_level_values(0).unique()
    here = "; ".join(f"{m}: " + " < ".join(f"{ablation.loc[s, (m, 'forget')]:.3f}"
                                            for s in STAGES) for m in methods)
    return Claim("ablation_order",
                 "Each ablation component adds forget accuracy: DST < DST+STU < DST+STU+TCH.",
                 verdict(ablation_ordered(paper_ablation)), here,
                 verdict(ablation_ordered(ablation)))


def other_student_claim(rows: pd.DataFrame, other_student: str) -> Claim:
    """A student of another architecture than the ULM still recalls (closed source)."""
    gain = forget_gain(rows, OTHER_STUDENT["closed"])
    return Claim("other_student_recalls",
                 f"A student of another architecture ({other_student}) still recalls (closed "
                 "source, every method).", "Flower-102, Swin-T to ResNet-18: all ΔAcc > 0",
                 _listed(gain), verdict(all_positive(gain)))


def claims(rows: pd.DataFrame, ablation: pd.DataFrame, paper_ablation: pd.DataFrame, *,
           other_student: str) -> list[Claim]:
    """The paper's claims checked on this run, in the chapter's order."""
    return [*recall_claims(rows), *method_claims(rows),
            ablation_claim(ablation, paper_ablation), other_student_claim(rows, other_student)]


def _span(values) -> str:
    """The range of `values` to two places, 'low-high' (one number when they round alike)."""
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"


def reading_the_verdicts(rows: pd.DataFrame, trained: dict) -> str:
    """The paragraph that reads the verdicts, from this run's numbers: which ULMs forgot
    little (they keep more than `FORGOT_LITTLE` of the trained model's forget accuracy, so
    there is little to recall) and, where the ULM forgot, whether the open-source attack
    recalls more than the closed-source one."""
    ulm = forget_means(rows, "closed", "ulm")
    closed_seeds = rows.loc[rows.attack == "closed", "seed"].unique()
    trm = sum(trained[s]["forget"] for s in closed_seeds) / len(closed_seeds)
    kept = ulm[ulm > FORGOT_LITTLE * trm]
    forgot = [m for m in ulm.index if m not in kept.index]
    text = ["**Reading the verdicts.** MRA can only recall what the ULM forgot."]
    if len(kept):
        text.append(_forgot_little(rows, kept, trm))
    else:
        text.append(f"Every ULM here keeps at most half of the trained model's forget "
                    f"accuracy ({_span(ulm)} against {trm:.2f}), the regime the paper's claims "
                    f"are about.")
    if forgot:
        text.append(_open_against_closed(rows, forgot))
    return " ".join(text)


def _forgot_little(rows: pd.DataFrame, kept: pd.Series, trm: float) -> str:
    gain = forget_gain(rows, "closed")[kept.index]
    text = (f"{spoken_list(kept.index)} forgot little here (ULM forget accuracy {_span(kept)} "
            f"against the trained model's {trm:.2f}), so there is little to recall, and a "
            f"student that learns from the ULM's labels can even lower the accuracy it copies "
            f"(closed-source ΔAcc on forget: {_listed(gain)}).")
    paper = [CIFAR10_ULM[m]["forget"] for m in kept.index if m in CIFAR10_ULM]
    if paper:
        text += (f" In the paper these methods had forgotten (forget accuracy {_span(paper)} "
                 f"against {CIFAR10_TRAINED['forget']:.2f}), which is the regime the claims "
                 f"are about.")
    return text


def _open_against_closed(rows: pd.DataFrame, forgot: list[str]) -> str:
    closed = forget_gain(rows, "closed")[forgot].mean()
    open_source = forget_gain(rows, "open")[forgot].mean()
    more = open_source > closed
    text = (f"Where the ULM forgot ({spoken_list(forgot)}), compare the ΔAcc rows of Tables 2 and "
            f"3: the open-source attack, which trains the ULM itself on its confident "
            f"agreements, recalls {'more' if more else 'no more'} than the closed-source one "
            f"(mean ΔAcc on forget {open_source:+.3f} against {closed:+.3f})")
    paper_closed = paper_forget_gain("dst+stu", forgot)
    if paper_closed.empty:
        return text + "."
    paper_more = paper_forget_gain("dst+stu+tch", forgot).mean() > paper_closed.mean()
    return text + (", as in the paper." if paper_more == more else ", unlike the paper.")


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


def results(rows: pd.DataFrame, trained: dict, ablation: pd.DataFrame) -> dict:
    """The chapter's results (claims apart): Tables 2-4, the other student's tables and
    every run."""
    return {
        "table2_closed": accuracy_records(rows, "closed", trained),
        "table3_open": accuracy_records(rows, "open", trained),
        "table4_ablation": {f"{m}/{s}": ablation[(m, s)].to_dict() for m, s in ablation.columns},
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
