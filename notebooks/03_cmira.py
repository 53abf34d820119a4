# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # CMIRA: recovering forgotten class memberships by mutual distillation
#
# The class membership inducing recovery attack {cite:p}`anonymous2024cmira` needs the
# unlearned model M_U, the forgotten images X_f *without* their labels, and a labelled
# probing set D_p from the same source (the paper, and we, use the test split). It trains
# an attack model M_A on D_p (the **probing prior**: a backbone with spectrally normalised
# weight layers under a Lipschitz MLP head, Eqs. 1-3), then **induces recovery** round
# after round (Algorithm 1): both models label X_f, the images they agree on keep the
# shared label, each model's confident disagreements (max probability ≥ tau) teach the
# other, and both train on mixup of D_p and these sets (Eqs. 4-11). The ablation switch
# gives the paper's three attack models: **P** (the pretrained M_A), **P+U** (M_U frozen:
# one-way distillation into M_A) and **P+U+A** (mutual distillation: CMIRA).
#
# Recovery is scored with the forget labels the attack never reads: the recovery
# improvement R_I = Acc_A - Acc_U (Eq. 12), the recovery rate R_R = R_I / Acc_U (Eq. 13)
# and the area of membership recovery A_R, the relative growth of the radar polygon whose
# radii are the per-forget-class accuracies (Eq. 14).
#
# **Setting.** As in the paper: 10% of the training split held out for validation, five
# forget classes with half of each forgotten, the six unlearning methods RT, FT, FF, GA,
# IU and WP, two backbone families (ResNet-18 and VGG-16 with batch norm). On 2 CPU cores
# the backbones are narrowed by the `width` option (8 channels in the first stage instead
# of 64, same depth and structure) and the datasets are the offline `mnist5k` and
# `digits`; the `paper` preset runs the paper's datasets at full width. The unlearned
# models come through the model cache, shared with the other chapters.
#
# **The unlearning regime.** The paper's unlearned models forget mildly: on CIFAR-10 their
# forget accuracy is 41-87% and on FashionMNIST 24-97% (Table 1). GA, FF and IU run here
# with settings (`hyperparameters`) that bring them into that range (forget accuracy about
# 0.2-0.7), milder than the MRA chapter's, whose paper attacks models that forgot almost
# everything.
#
# **Two choices of ours.** The paper stops the rounds when the *recovery accuracy* has
# not improved for 7 rounds; that accuracy needs the forget labels, which an attacker does
# not have, so we stop when the *agreement rate* of the two models on X_f (the quantity
# the rounds build up) has not improved for `patience` rounds. The mixup Beta parameter
# and the threshold tau are not given in the paper: we use MixMatch's 0.75 (the mixup of
# Eqs. 10-11 follows MixMatch) and tau = 0.9.

# %% tags=["remove-cell"]
import sys

if "google.colab" in sys.modules:  # in Colab, install mu_core first; elsewhere it is there
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "mu-core @ git+https://github.com/mu-privacy/mu-book"], check=True)

# %% tags=["parameters"]
dataset_names = ["mnist5k", "digits"]
forget_classes = {"mnist5k": [1, 3, 5, 7, 9], "digits": [1, 3, 5, 7, 9]}
forget_fraction = 0.5
val_fraction = 0.1
backbones = {"ResNet-18": {"architecture": "resnet18", "options": {"width": 8}},
             "VGG-16": {"architecture": "vgg16_bn", "options": {"width": 8}}}
epochs = 8
lr = 0.05
batch_size = 128
augment = "none"
methods = ["retrain", "ft", "ff", "ga", "iu", "wp"]
seeds = [0]
hyperparameters = {"ff": {"alpha": 1e-05}, "ga": {"lr": 0.003}, "iu": {"alpha": 3.0}}
dataset_hyperparameters = {}  # dataset -> backbone -> method -> settings (Table A2)
pretrain_epochs = 15
pretrain_lr = 0.1
rounds = 4
round_epochs = 1
attack_lr = 0.001
tau = 0.9
mixup_alpha = 0.75
patience = 2
head_width = 128
probe_size = None  # None: the whole test split is D_p; a number: a stratified subset
ablation = True
figure_backbone = "VGG-16"
figure_methods = ["ga", "ff"]
tsne_points = 300
device = "auto"

# %%
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from mu_core import features, plots, recovery
from mu_core import data as datasets
from mu_core.attacks.cmira import CMIRAConfig
from mu_core.chapter import Chapter
from mu_core.errors import ConfigError
from mu_core.papers import CMIRA_ABLATION, CMIRA_CLASSWISE, CMIRA_TABLE1
from mu_core.train import Recipe

params = dict(dataset_names=dataset_names, forget_classes=forget_classes,
              forget_fraction=forget_fraction, val_fraction=val_fraction, backbones=backbones,
              epochs=epochs, lr=lr, batch_size=batch_size, augment=augment, methods=methods,
              seeds=seeds, hyperparameters=hyperparameters,
              dataset_hyperparameters=dataset_hyperparameters, pretrain_epochs=pretrain_epochs,
              pretrain_lr=pretrain_lr, rounds=rounds, round_epochs=round_epochs,
              attack_lr=attack_lr, tau=tau, mixup_alpha=mixup_alpha, patience=patience,
              head_width=head_width, probe_size=probe_size, ablation=ablation, figure_backbone=figure_backbone,
              figure_methods=figure_methods, tsne_points=tsne_points, device=device)
chapter = Chapter("03_cmira", params, device=device, seeds=seeds)
config = CMIRAConfig(pretrain_epochs=pretrain_epochs, pretrain_lr=pretrain_lr, rounds=rounds,
                     round_epochs=round_epochs, lr=attack_lr, tau=tau, mixup_alpha=mixup_alpha,
                     patience=patience, head_width=head_width)
recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, augment=augment)
if figure_backbone not in backbones:
    raise ConfigError(f"figure_backbone {figure_backbone!r} is not one of the backbones "
                      f"{sorted(backbones)}.")
missing = [name for name in dataset_names if name not in forget_classes]
if missing:
    raise ConfigError(f"forget_classes has no entry for {missing}; give one list of classes "
                      "per dataset in dataset_names.")
split_specs = {name: {"forget_classes": forget_classes[name], "forget_fraction": forget_fraction,
                      "val_fraction": val_fraction} for name in dataset_names}


def backbones_for(dataset):
    return recovery.with_method_settings(backbones, dataset_hyperparameters.get(dataset, {}))


loaded = {name: datasets.load(name).to(chapter.device) for name in dataset_names}
for name, data in loaded.items():  # every dataset's setting is checked before any training
    recovery.check_study(data, split_specs[name], methods, seeds, backbones_for(name), config,
                         hyperparameters, probe_size)

studies, kept = [], {}
for name, data in loaded.items():
    found, kept[name] = recovery.recovery_study(
        data, split_specs[name], methods, seeds, backbones_for(name), config, recipe=recipe,
        hyperparameters=hyperparameters, ablation=ablation, probe_size=probe_size,
        keep={(figure_backbone, m) for m in figure_methods})
    studies.append(found)
rows = pd.concat(studies, ignore_index=True)
display(Markdown(f"{len(rows)} attacks on {len(methods)} methods x {len(backbones)} backbones "
                 f"x {len(dataset_names)} datasets x {len(seeds)} seed(s), "
                 f"{rows.seconds.sum():.0f} s of attack time in all; "
                 f"{rows.rounds.mean():.1f} rounds on average before the agreement stopped "
                 "improving."))

# %% [markdown]
# The paper's numbers shown beside ours come from the same dataset when the paper ran it
# (the `paper` preset) and otherwise from FashionMNIST, its greyscale 28 x 28 dataset and
# the closest to ours, with CIFAR-10 in Table 1 as well. All values are percentages.

# %%
PAPER_DATASETS = set(CMIRA_TABLE1)


def paper_dataset(name):
    return name if name in PAPER_DATASETS else "fashion_mnist"


def pct(value):
    return "∞" if np.isinf(value) else f"{100 * value:.2f}"


summary = recovery.summary(rows)
architecture_of = {name: spec["architecture"] for name, spec in backbones.items()}

# %% [markdown]
# ## Table 1: recovery by CMIRA for every backbone and method
#
# Acc_U and Acc_A are the forget accuracies of the unlearned and the CMIRA attack model
# (P+U+A), R_R the recovery rate; means over the seeds. A dash: the paper has no such row
# (its VGG-16 tables have no FF).

# %%
def paper_table1(dataset, backbone, method):
    entry = CMIRA_TABLE1.get(dataset, {}).get(architecture_of[backbone], {}).get(method)
    return (entry["acc_u"], entry["acc_a"], entry["r_r"]) if entry else ("–", "–", "–")


table1 = {}
for (dataset, backbone, method), row in summary.iterrows():
    cells = {("here", "Acc_U"): pct(row.acc_u), ("here", "Acc_A"): pct(row.acc_a),
             ("here", "R_R"): pct(row.r_r)}
    for reference in dict.fromkeys([paper_dataset(dataset), "cifar10"]):
        for metric, value in zip(("Acc_U", "Acc_A", "R_R"),
                                 paper_table1(reference, backbone, method)):
            cells[(f"paper ({reference})", metric)] = value
    table1[(dataset, backbone, method)] = cells
table1 = pd.DataFrame(table1).T
table1.index.names = ["dataset", "backbone", "method"]
table1

# %% [markdown]
# ## Table 2 / A3: recovery per forget class
#
# Each cell is Acc_U of one forget class with the recovery R_I = Acc_A - Acc_U by CMIRA
# (↑ a gain, ↓ a loss), then A_R. The paper's per-class rows are under "paper"; its A_R
# column is printed, and beside it the A_R we compute from the paper's own per-class
# numbers with the polygon area of Eq. 14. They do not agree (for CIFAR-10 ResNet-18: RT
# 11.20 printed vs. 10.05 recomputed, FF 314.98 vs. 286.6, GA 44.68 vs. 45.7); we found
# no construction of the polygon that reproduces the printed values, so the paper's A_R is
# shown as printed and as recomputed.

# %%
def with_arrow(acc, gain):
    return f"{acc:.2f} {'↑' if gain >= 0 else '↓'} {abs(gain):.2f}"


def paper_area(entry):
    attack = np.add(entry["acc_u"], entry["r_i"]) / 100
    return 100 * recovery.area_recovery_rate(attack, np.asarray(entry["acc_u"]) / 100)


acc_u = recovery.class_means(rows, "unlearned")
acc_a = recovery.class_means(rows, "attack")
area = rows[rows.components == "p+u+a"].groupby(["dataset", "backbone", "method"],
                                                sort=False).a_r.mean()
table2 = {}
for key in acc_u.index:
    dataset, backbone, method = key
    classes = [loaded[dataset].classes[c] for c in forget_classes[dataset]]
    here = {("here", f"#{i + 1} {c}"): with_arrow(100 * u, 100 * (a - u))
            for i, (c, u, a) in enumerate(zip(classes, acc_u.loc[key], acc_a.loc[key]))}
    here[("here", "A_R")] = pct(area.loc[key])
    entry = CMIRA_CLASSWISE.get(paper_dataset(dataset), {}).get(architecture_of[backbone],
                                                                {}).get(method)
    paper = {}
    if entry:
        paper = {("paper", f"#{i + 1}"): with_arrow(u, g)
                 for i, (u, g) in enumerate(zip(entry["acc_u"], entry["r_i"]))}
        paper[("paper", "A_R printed")] = f"{entry['a_r']:.2f}"
        paper[("paper", "A_R recomputed")] = f"{paper_area(entry):.2f}"
    table2[key] = {**here, **paper}
table2 = pd.DataFrame(table2).T.fillna("–")
table2.index.names = ["dataset", "backbone", "method"]
table2

# %% [markdown]
# ## Table 3 / A4-A5: ablation, P vs. P+U vs. P+U+A
#
# Forget accuracy of the unlearned model (baseline) and of the three attack models, with
# their R_R and A_R, beside the paper's (A4: ResNet-18, A5: VGG-16). P does not depend on
# the unlearning method (it never sees M_U), so its accuracy repeats down a backbone.

# %%
def ablation_table():
    chosen = rows.groupby(["dataset", "backbone", "method", "components"], sort=False)[
        ["acc_u", "acc_a", "r_r", "a_r"]].mean()
    table = {}
    for (dataset, backbone, method), group in chosen.groupby(level=[0, 1, 2], sort=False):
        group = group.droplevel([0, 1, 2])
        cells = {("here", "baseline", "Acc"): pct(group.acc_u.iloc[0])}
        for stage in group.index:
            for metric, column in (("Acc", "acc_a"), ("R_R", "r_r"), ("A_R", "a_r")):
                cells[("here", stage.upper(), metric)] = pct(group.loc[stage, column])
        entry = CMIRA_ABLATION.get(paper_dataset(dataset), {}).get(
            architecture_of[backbone], {}).get(method, {})
        for stage, values in entry.items():
            for metric, value in values.items():
                cells[("paper", stage.upper(), {"acc": "Acc", "r_r": "R_R", "a_r": "A_R"}[
                    metric])] = f"{value:.2f}"
        table[(dataset, backbone, method)] = cells
    table = pd.DataFrame(table).T.fillna("–")
    table.index.names = ["dataset", "backbone", "method"]
    return table


ablation_table()

# %% [markdown]
# ## Figure 3: recovery improvement R_I (%), backbone x method
#
# Ours, one panel per dataset (P+U+A, mean over the seeds); then the paper's, computed from
# its Table 1 (Acc_A - Acc_U) for the datasets it ran.

# %%
def r_i_panel(frame):
    return (100 * frame.r_i).unstack("method").reindex(columns=methods)


chapter.savefig(plots.heatmap_panels(
    {dataset: r_i_panel(summary.loc[dataset]) for dataset in dataset_names},
    title="R_I (%) here"), "fig3_recovery_improvement")

# %%
paper_r_i = {
    dataset: pd.DataFrame({arch: {m: v["acc_a"] - v["acc_u"] for m, v in per_method.items()}
                           for arch, per_method in per_arch.items()}).T.reindex(columns=methods)
    for dataset, per_arch in CMIRA_TABLE1.items()}
chapter.savefig(plots.heatmap_panels(paper_r_i, title="R_I (%) in the paper's Table 1"),
                "fig3_recovery_improvement_paper")

# %% [markdown]
# ## Figure 4 / A1: membership recovery polygons
#
# One radar chart per backbone and method; the radii are the per-forget-class accuracies
# of M_U (red) and of the CMIRA model (blue); A_R is the relative growth of the area.

# %%
for dataset in dataset_names:
    names = [loaded[dataset].classes[c] for c in forget_classes[dataset]]
    polygons = {f"{backbone}, {method}\nA_R {pct(area.loc[(dataset, backbone, method)])}%":
                {"M_U": acc_u.loc[(dataset, backbone, method)],
                 "CMIRA": acc_a.loc[(dataset, backbone, method)]}
                for backbone in backbones for method in methods}
    display(chapter.savefig(plots.radar_grid(polygons, names), f"fig4_radar_{dataset}"))

# %% [markdown]
# ## Figure 5 / A2: t-SNE of forget and probe points
#
# Penultimate-layer features (the input of the last linear layer) of `tsne_points` forget
# images (crosses) and as many probe images (dots), coloured by their true class, for the
# unlearned model, the pretrained attack model (P) and the CMIRA model (P+U+A); the
# `figure_backbone` on the first dataset. The paper's reading: forget points are mixed in
# M_U, somewhat separated in P, and sit in their classes' clusters in CMIRA.

# %%
def tsne_panels(dataset):
    data, generator = loaded[dataset], torch.Generator().manual_seed(0)
    some_run = next(iter(kept[dataset].values()))
    pick = lambda idx: idx[torch.randperm(len(idx), generator=generator)[:tsne_points]]  # noqa: E731
    forget, probe = pick(some_run["split"].forget), pick(some_run["probe"])
    indices = torch.cat([forget, probe])
    panels = {}
    for (backbone, method), models in kept[dataset].items():
        panels[method.upper()] = {
            title: features.tsne_embedding(features.penultimate_features(models[key], data,
                                                                         indices))
            for title, key in (("M_U", "unlearned"), ("P", "p"), ("CMIRA", "p+u+a"))
            if key in models}
    marked = np.arange(len(indices)) < len(forget)
    return panels, data.targets(indices).cpu().numpy(), marked, list(data.classes)


chapter.savefig(plots.embedding_grid(*tsne_panels(dataset_names[0])), "fig5_tsne")

# %% [markdown]
# ## Figure 6 / A6: confusion matrices of P, P+U and P+U+A
#
# Row-normalised on D_f ∪ D_p, classes ordered with the forget classes first (as the
# paper's Figure 6), the `figure_backbone` on the first dataset.

# %%
first = rows[(rows.dataset == dataset_names[0]) & (rows.backbone == figure_backbone)
             & (rows.seed == seeds[0])]
matrices = {method.upper(): {r.components.upper(): r.attack["confusion"]
                             for r in first[first.method == method].itertuples()}
            for method in methods}
order = recovery.class_order(forget_classes[dataset_names[0]], loaded[dataset_names[0]].num_classes)
class_names = [loaded[dataset_names[0]].classes[c] for c in order]
chapter.savefig(plots.confusion_grid(matrices, class_names, class_names), "fig6_confusion")

# %% [markdown]
# ## Figures A3-A5: R_R and A_R by dataset, method and backbone
#
# Box plots over the CMIRA (P+U+A) runs, on symmetric-log axes (linear within ±10%):
# a forget accuracy near zero makes R_R and A_R explode. Infinite rates (Acc_U = 0) are
# left out.

# %%
runs = rows[rows.components == "p+u+a"].assign(**{"R_R (%)": lambda f: 100 * f.r_r,
                                                  "A_R (%)": lambda f: 100 * f.a_r})
chapter.savefig(plots.box_panels(runs, ["R_R (%)", "A_R (%)"], ["dataset", "method", "backbone"],
                                 symlog=10), "figA3_A5_boxplots")

# %% [markdown]
# ## The paper's claims, checked
#
# Each verdict is computed from the numbers above; the same rule applied to the paper's
# own tables (all four datasets) is in the "paper" column, so a claim its own tables do
# not support shows as such.

# %%
def verdict(held):
    return "held" if held else "did not hold"


paper_rows = pd.DataFrame([
    {"dataset": d, "backbone": b, "method": m, "r_i": v["acc_a"] - v["acc_u"], "r_r": v["r_r"]}
    for d, per_arch in CMIRA_TABLE1.items() for b, per_method in per_arch.items()
    for m, v in per_method.items()])
ours = summary.reset_index().assign(backbone=lambda f: f.backbone.map(architecture_of))


def least_for_exact(frame):
    """RT and FT have the lowest mean R_R: both below every other method's mean."""
    means = frame.replace(np.inf, np.nan).groupby("method").r_r.mean()
    exact = means.reindex(["retrain", "ft"]).dropna()
    return bool(len(exact)) and exact.max() < means.drop(exact.index).min()


def vgg_more_susceptible(frame):
    """The median R_R over datasets and methods is higher for VGG-16 than ResNet-18."""
    medians = frame.groupby("backbone").r_r.median()
    return {"vgg16_bn", "resnet18"} <= set(medians.index) and medians.vgg16_bn > medians.resnet18


def ablation_order(frame, stages=("p", "p+u", "p+u+a")):
    """Share of (dataset, backbone, method) whose forget accuracy rises P < P+U < P+U+A."""
    ordered = [all(a < b for a, b in zip(seq, seq[1:])) for seq in frame]
    return sum(ordered) / len(ordered) if ordered else float("nan")


paper_ablation = [[entry[s]["acc"] for s in ("p", "p+u", "p+u+a")]
                  for per_arch in CMIRA_ABLATION.values() for per_method in per_arch.values()
                  for entry in per_method.values()]
ablation_means = rows.groupby(["dataset", "backbone", "method", "components"]).acc_a.mean()
our_ablation = ([[ablation_means.loc[key + (s,)] for s in ("p", "p+u", "p+u+a")]
                 for key in ablation_means.droplevel(3).index.unique()] if ablation else [])
gains = 100 * ours.r_i
claims = [
    ("CMIRA recovers accuracy for every MU method (R_I > 0 for every dataset, backbone and "
     "method).",
     f"{verdict((paper_rows.r_i > 0).all())}: {(paper_rows.r_i > 0).sum()}/{len(paper_rows)}",
     f"{(gains > 0).sum()}/{len(gains)} positive, lowest {gains.min():+.2f} "
     f"({ours.loc[gains.idxmin(), 'method']})", verdict((gains > 0).all())),
    ("CMIRA recovers accuracy for every MU method except exact retraining (R_I > 0 "
     "outside RT).",
     verdict((paper_rows[paper_rows.method != "retrain"].r_i > 0).all()),
     f"{(gains[ours.method != 'retrain'] > 0).sum()}/{(ours.method != 'retrain').sum()}",
     verdict((gains[ours.method != "retrain"] > 0).all())),
    ("RT and FT leave the least to recover (their mean R_R is below every other method's).",
     verdict(least_for_exact(paper_rows.assign(r_r=paper_rows.r_r / 100))),
     ", ".join(f"{m} {100 * v:.1f}" for m, v in
               ours.replace(np.inf, np.nan).groupby("method", sort=False).r_r.mean().items()),
     verdict(least_for_exact(ours))),
    ("The full model beats the ablations: forget accuracy P < P+U < P+U+A.",
     f"{verdict(ablation_order(paper_ablation) == 1)} "
     f"({100 * ablation_order(paper_ablation):.0f}% of rows)",
     f"{100 * ablation_order(our_ablation):.0f}% of rows" if ablation else "not run",
     verdict(ablation and ablation_order(our_ablation) == 1)),
    ("P+U+A beats P+U (mutual distillation beats one-way distillation).",
     f"{100 * np.mean([s[2] > s[1] for s in paper_ablation]):.0f}% of rows",
     f"{100 * np.mean([s[2] > s[1] for s in our_ablation]):.0f}% of rows" if ablation
     else "not run",
     verdict(ablation and all(s[2] > s[1] for s in our_ablation))),
    ("P+U+A beats P (mutual distillation adds to the probing prior).",
     f"{100 * np.mean([s[2] > s[0] for s in paper_ablation]):.0f}% of rows",
     f"{100 * np.mean([s[2] > s[0] for s in our_ablation]):.0f}% of rows" if ablation
     else "not run",
     verdict(ablation and all(s[2] > s[0] for s in our_ablation))),
    ("VGG-16 is more susceptible than ResNet-18 (higher median R_R).",
     verdict(vgg_more_susceptible(paper_rows)),
     ", ".join(f"{b} {100 * v:.1f}" for b, v in ours.groupby("backbone").r_r.median().items()),
     verdict(vgg_more_susceptible(ours))),
]
claims_table = pd.DataFrame(claims, columns=["claim", "paper", "here", "verdict"])
claims_table

# %% [markdown]
# **Reading the verdicts.** How much CMIRA can recover depends on how much the probing
# prior already knows. On CIFAR-10 the paper's P model reaches 57% on the forget set; on
# our digits a model trained on the labelled probe images is nearly as good as the
# trained model, so P alone recovers most of what GA, FF and IU removed, and the rounds
# have little left to add: the recovery is real (Table 1), but it comes from the probing
# set, not from the unlearned model. Against retraining and fine-tuning P is *below* M_U,
# so R_I is about zero or negative there, as in the paper's RT and FT rows. One-way
# distillation (P+U) pulls M_A toward M_U's *confident wrong* labels on the forget set
# (Eqs. 8-9 trust confidence, and GA and FF leave confident mistakes), so it loses part
# of what P knew, as the paper's own FF rows show (57.49 for P, 53.49 for P+U); the mutual
# version recovers most of it because M_U relearns from D_p and from M_A. The ordering
# P < P+U < P+U+A needs a weak prior: set `probe_size` to a few hundred images to move
# toward the paper's regime (with the prior still under-trained by a small D_p, the
# rounds mostly copy M_U there too). Our rounds are also far shorter than the paper's
# (`rounds`, `round_epochs`: at most 4 x 1 epochs here, up to 200 x 10 there).

# %% [markdown]
# ## Results and provenance

# %%
def records(frame):
    return frame.reset_index().replace([np.inf, -np.inf], None).to_dict("records")


chapter.save_results({
    "table1": records(summary),
    "table2_classwise": [{"dataset": d, "backbone": b, "method": m,
                          "acc_u": list(acc_u.loc[(d, b, m)]),
                          "acc_a": list(acc_a.loc[(d, b, m)]),
                          "a_r": area.loc[(d, b, m)]} for d, b, m in acc_u.index],
    "table3_ablation": records(rows.groupby(["dataset", "backbone", "method", "components"],
                                            sort=False)[["acc_u", "acc_a", "r_r", "a_r"]].mean()),
    "runs": [{k: r[k] for k in ("dataset", "backbone", "seed", "method", "components",
                                "rounds", "seconds", "acc_u", "acc_a", "r_i")}
             for r in rows.to_dict("records")],
    "claims": claims_table.to_dict("records"),
})
pd.Series(chapter.provenance()).to_frame("value")
