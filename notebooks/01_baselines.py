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
# # The unlearning methods, side by side
#
# All five papers attack, verify or improve on the same unlearning methods. This chapter
# runs every one of them on the trained model of the {doc}`foundations chapter
# <00_foundations>`, in three forgetting settings, and scores them the way the
# adversarial-unlearning paper {cite:p}`sharma2024adversarial` does in its Table 1.
#
# | method | what it does |
# |---|---|
# | `retrain` | retrains from scratch on the retain set: the gold standard every other method approximates |
# | `ft` | fine-tunes on the retain set {cite:p}`warnecke2023features` |
# | `ga` | gradient ascent on the forget set {cite:p}`graves2021amnesiac` |
# | `rl` | fine-tunes with random wrong labels on the forget set, with the retain set {cite:p}`golatkar2020eternal` |
# | `ff` | Fisher forgetting: noise shaped by the retain set's Fisher information {cite:p}`becker2022fisher` |
# | `iu` | influence unlearning: a WoodFisher Newton step that removes the forget set {cite:p}`koh2017influence,izzo2021deletion` |
# | `wp` | one-shot magnitude pruning, then retain fine-tuning {cite:p}`jia2023sparsity` |
# | `l1_sparse` | retain fine-tuning with a decaying l1 penalty {cite:p}`jia2023sparsity` |
# | `bu` | boundary shrink: forget samples relabelled to their FGSM neighbour's class {cite:p}`chen2023boundary` |
# | `salun` | random labels restricted to the weights most salient for the forget loss {cite:p}`fan2024salun` |
# | `unsc` | updates in the null space of the retain inputs, pseudo-label calibration {cite:p}`chen2024unsc` |
# | `bad_teacher` | distils from the trained model on retain and a random one on forget {cite:p}`chundawat2023badteacher` |
#
# **Scores** (all in percent): UA = 100 - forget accuracy; MIA-efficacy, the share of the
# forget set that a confidence-based SVC, trained on retain (members) vs. test
# (non-members), calls non-members {cite:p}`jia2023sparsity,song2021systematic`; RA and TA,
# the retain and test accuracies; the **average disparity**, the mean absolute gap of those
# four scores to retraining with the same seed; and the run time.
#
# **Settings**: MRA/CMIRA's class-wise partial forgetting (5 classes x 50%), random
# forgetting of 10% of the training set, and whole-class forgetting. `bu` and `unsc` are
# class-level methods and are not run with random forgetting.

# %% tags=["remove-cell"]
import sys

if "google.colab" in sys.modules:  # in Colab, install mu_core first; elsewhere it is there
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "mu-core @ git+https://github.com/mu-privacy/mu-book"], check=True)

# %% tags=["parameters"]
dataset = "mnist5k"
architecture = "cnn"
epochs = 8
lr = 0.05
batch_size = 128
augment = "none"
forget_classes = [1, 3, 5, 7, 9]
forget_fraction = 0.5
random_fraction = 0.1
whole_classes = [3]
methods = ["retrain", "ft", "ga", "rl", "ff", "iu", "wp", "l1_sparse", "bu", "salun", "unsc",
           "bad_teacher"]
seeds = [0, 1, 2]
hyperparameters = {}
device = "auto"

# %%
import pandas as pd
from IPython.display import Markdown, display

from mu_core import comparison, plots
from mu_core import data as datasets
from mu_core.chapter import Chapter
from mu_core.papers import ADVERSARIAL_TABLE1_CIFAR10
from mu_core.train import Recipe

params = dict(dataset=dataset, architecture=architecture, epochs=epochs, lr=lr,
              batch_size=batch_size, augment=augment, forget_classes=forget_classes,
              forget_fraction=forget_fraction, random_fraction=random_fraction,
              whole_classes=whole_classes, methods=methods, seeds=seeds,
              hyperparameters=hyperparameters, device=device)
chapter = Chapter("01_baselines", params, device=device, seeds=seeds)
recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, augment=augment)
data = datasets.load(dataset).to(chapter.device)
settings = comparison.forget_settings(forget_classes, forget_fraction, random_fraction,
                                      whole_classes)
runs = comparison.plan(data, settings, methods, seeds, hyperparameters)  # checks every request
display(Markdown(f"{len(runs)} unlearning runs: {len(settings)} settings x {len(seeds)} seeds "
                 f"x up to {len(methods)} methods."))

# %%
rows = comparison.compare_methods(data, settings, methods, seeds, architecture=architecture,
                                  recipe=recipe, hyperparameters=hyperparameters)
summary = comparison.summarize(rows)

# %% [markdown]
# ## Class-wise partial forgetting (5 classes x 50%)
#
# The setting of MRA and CMIRA. Half of each forget class stays in the retain set, so even
# retraining keeps recognising those classes: its UA is only the generalisation gap.

# %%
comparison.formatted(summary, "classwise")

# %% [markdown]
# ## Random forgetting (10%)
#
# Ours (mean ± std over the seeds) next to the paper's CIFAR-10 / ResNet-18 numbers
# (dense models, 5 seeds, run time in minutes on an RTX A6000).

# %%
def beside_paper(setting):
    ours = comparison.formatted(summary, setting)
    paper = pd.DataFrame(ADVERSARIAL_TABLE1_CIFAR10[setting]).T
    paper.columns = [f"paper {c}" for c in paper.columns]
    return ours.join(paper[[f"paper {c}" for c in ("UA", "MIA", "RA", "TA", "disparity")]],
                     how="outer").fillna("")


beside_paper("random")

# %% [markdown]
# ## Whole-class forgetting

# %%
beside_paper("class")

# %% [markdown]
# ## Distance to retraining
#
# The average disparity of each method in each setting (lower is closer to retraining).

# %%
disparity = summary["disparity_mean"].unstack("setting").reindex(methods)
chapter.savefig(plots.grouped_bars({s: disparity[s].fillna(0) * 100 for s in disparity.columns},
                                   list(disparity.index), ylabel="average disparity (%)",
                                   title="distance to retraining"), "disparity")

# %% [markdown]
# ## Forget accuracy per forget class (class-wise partial forgetting)

# %%
per_class = comparison.forget_class_table(rows, "classwise")
chapter.savefig(plots.grouped_bars({m: per_class.loc[m] for m in per_class.index},
                                   list(per_class.columns), ylabel="forget accuracy",
                                   title="forget accuracy per forget class"),
                "forget_accuracy_per_class")

# %% [markdown]
# ## The adversarial-unlearning paper's observations on these baselines
#
# Each statement is checked on our numbers; the verdicts are computed, not written.

# %%
def mean(setting, method, score):
    key = (setting, method)
    return summary.loc[key, f"{score}_mean"] if key in summary.index else float("nan")


def verdict(held):
    return "held" if held else "did not hold"


baselines = [m for m in ("ft", "ga", "ff", "iu") if m in methods]
claims = []
if "retrain" in methods and baselines:
    under = [m for m in ("ft", "ga", "iu") if m in methods]
    held = all(mean("random", m, "UA") < mean("random", "retrain", "UA") for m in under)
    claims.append(("Random forgetting: FT, GA and IU forget less than retraining "
                   "(lower UA).",
                   "paper UA: " + ", ".join(f"{m} {ADVERSARIAL_TABLE1_CIFAR10['random'][m]['UA']}"
                                            for m in ["retrain", *under]),
                   "here: " + ", ".join(f"{m} {100 * mean('random', m, 'UA'):.2f}"
                                        for m in ["retrain", *under]), verdict(held)))
    farthest = max(baselines, key=lambda m: mean("class", m, "disparity"))
    claims.append(("Whole-class forgetting: FT is the farthest from retraining of FT, GA, FF "
                   "and IU (largest disparity).", "paper: ft 37.84 (largest)",
                   f"here: farthest is {farthest} "
                   f"({100 * mean('class', farthest, 'disparity'):.2f})",
                   verdict(farthest == "ft")))
    fastest = min(methods, key=lambda m: summary.loc[("random", m), "seconds_mean"]
                  if ("random", m) in summary.index else float("inf"))
    claims.append(("GA is the fastest method.", "paper: ga 0.37 min (fastest)",
                   f"here: fastest is {fastest}", verdict(fastest == "ga")))
claims_table = pd.DataFrame(claims, columns=["claim", "paper", "here", "verdict"])
claims_table

# %% [markdown]
# ## Results and provenance

# %%
def summary_rows(setting):
    table = summary.loc[setting]
    return [{"method": m, **{c: table.loc[m, c] for c in table.columns}} for m in table.index]


chapter.save_results({
    "settings": {name: summary_rows(name) for name in settings},
    "runs": rows.drop(columns=["forget_class_accuracy"]).to_dict("records"),
    "forget_class_accuracy": {m: per_class.loc[m].to_dict() for m in per_class.index},
    "claims": claims_table.to_dict("records"),
})
pd.Series(chapter.provenance()).to_frame("value")
