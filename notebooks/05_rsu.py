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
# # RSU: does the order of forgetting matter?
#
# Chen et al. {cite:p}`chen2024rsu` ask two questions. **Q1**: are some samples harder to
# forget than others, and what makes them so? They score each training sample's privacy
# risk two ways, by how well **gradient inversion** rebuilds it from its own gradient
# {cite:p}`zhu2019dlg,geiping2020inverting` and by its **LiRA** attack success rate over
# shadow models {cite:p}`carlini2022lira`, and find that the riskiest samples, the
# atypical ones in the tail of the distribution, are the easiest to unlearn. **Q2**: does
# the order help? Their **RSU** ranks the forget set by the trained model's loss (low loss
# = hard to unlearn) and unlearns nested subsets D_1 ⊂ ... ⊂ D_n = D_u, hardest first,
# with self-paced weights v_i = 1[l_i < λ] and a growing age λ (their Eqs. 3-5,
# Algorithm 1), around any unlearning method.
#
# **How we run it.** The trained model is the paper's MNIST network (two convolutional
# layers and one linear layer: `cnn` with `hidden: 0`), trained with the paper's SGD
# recipe (momentum 0.9, weight decay 5e-4, lr 0.1 divided by 10 at half and three quarters
# of training), on the offline `mnist5k` by default. LiRA uses `shadow_count` shadow models
# of the same recipe, each trained on a random half of the training set (every sample in
# exactly half of them), and the logit gap (highest minus second-highest logit) as its
# statistic, as the paper describes; with fewer than 64 shadow models each Gaussian gets
# one variance over all samples (`lira_fix_variance`, Carlini et al.'s advice). A sample's
# privacy score is Eq. 1's attack success rate, leave one shadow model out. Gradient inversion (Geiping's cosine objective, the
# label known) rebuilds `inversion_candidates` random training samples; the `subset_size`
# best rebuilt (by SSIM) are **MI High**, the `subset_size` with the highest ASR **MIA
# High**, and one random set of the same size is **Low**, the control of both tables
# (the paper draws a random set per table). The MIA score of a model on a set is the share
# of it that online LiRA calls members; the MIA gap is its distance to the original model
# (Tables 1-2) or to retraining (Table 6). **Differences from the paper**: the unlearning
# methods run with the toolkit's settings for this network unless `hyperparameters` says
# otherwise (the paper tunes each in a range, its training details are in the `paper`
# preset); part one runs one seed, as the paper; part two runs `seeds` and reports mean ±
# std where the paper reports single numbers. Each RSU round runs the base method with its
# full settings on D_k, so RSU passes over the forget set about (n + 1) / 2 times as often
# as the method alone; the ablation adds a one-go run with as many passes to separate the
# order from the budget.

# %% tags=["remove-cell"]
import sys

if "google.colab" in sys.modules:  # in Colab, install mu_core first; elsewhere it is there
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "mu-core @ git+https://github.com/mu-privacy/mu-book"], check=True)

# %% tags=["parameters"]
dataset = "mnist5k"
architecture = "cnn"
architecture_options = {"hidden": 0}
epochs = 8
lr = 0.1
batch_size = 128
schedule = "step"
shadow_count = 16
lira_fix_variance = True
inversion_candidates = 200
inversion_steps = 150
inversion_precision = "float32"
inversion_success = 0.3
subset_size = 50
risk_methods = ["ga", "rl", "ft", "retrain", "bad_teacher", "l1_sparse"]
relearn_lr = 0.01
relearn_epochs = 30
rsu_methods = ["ga", "rl", "bad_teacher"]
ablation_method = "ga"
rounds = 5
forget_class = 0
random_fraction = 0.1
seeds = [0, 1, 2]
hyperparameters = {}
device = "auto"

# %%
import pandas as pd
from IPython.display import Markdown, display

from mu_core import data as datasets
from mu_core.chapter import Chapter
from mu_core.studies import rsu
from mu_core.train import Recipe

chapter = Chapter("05_rsu", globals())  # records every parameter above
recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, schedule=schedule)
data = datasets.load(dataset).to(chapter.device)
setup = rsu.Setup(data, architecture, architecture_options, recipe, hyperparameters)
scenarios = {"class": {"forget_classes": [forget_class]},
             "random": {"random_fraction": random_fraction}}
runs = rsu.variants(rsu_methods, hyperparameters, rounds, ablation_method)
full = rsu.check_requests(setup, scenarios, runs, risk_methods, seeds, subset_size)
paper_key, paper_note = rsu.paper_dataset(dataset)
display(Markdown(f"Beside our numbers: {paper_note}."))

# %% [markdown]
# ## Part one: privacy risk and the difficulty of forgetting
#
# The trained model of the first seed, its shadow models, and every training sample's
# LiRA attack success rate; then gradient inversion of the candidates. The first table is
# the attack's own strength: each shadow model in turn is the target of LiRA fitted on the
# others (AUC and the true-positive rate at low false-positive rates, Carlini et al.'s
# headline figures).

# %%
trained = setup.trained(full, seeds[0])
risks = rsu.privacy_risks(setup, full, trained[0], shadow_count=shadow_count,
                          shadow_recipe=recipe, candidates=inversion_candidates,
                          inversion_steps=inversion_steps, seed=seeds[0],
                          fix_variance=lira_fix_variance, inversion_precision=inversion_precision)
sets = rsu.forget_sets(risks, subset_size, seeds[0])
pd.Series(risks.lira).to_frame("LiRA, leave one shadow model out")

# %% [markdown]
# ### Figure 1: gradient inversion
#
# The best and the worst rebuilt candidates: originals above, reconstructions below,
# titled with their SSIM ("ok" marks a success, SSIM at least `inversion_success`).

# %%
chapter.savefig(rsu.inversion_figure(data, risks, 10, inversion_success), "fig1_inversion")

# %% [markdown]
# ### Tables 1 and 2: unlearning the riskiest samples
#
# Every method unlearns each set of `subset_size` samples from the trained model. Acc_Dr,
# Acc_val (the test split) and Acc_Du in %, and the MIA gap |MIA(unlearned) -
# MIA(original)|. The paper's claim: on the High sets, Acc_Du is lower and the MIA gap
# larger than on the Low set, for every method.

# %%
risk_runs = rsu.risk_runs(setup, trained, sets, risk_methods, risks, seed=seeds[0],
                          relearn_lr=relearn_lr, relearn_epochs=relearn_epochs)
rsu.risk_table(risk_runs, "mi", dataset)

# %%
rsu.risk_table(risk_runs, "mia", dataset)

# %% [markdown]
# ### Figure 2: what the risky samples have in common
#
# The attack success rate and the trained model's predictive entropy on each set. The
# paper: samples easy to invert have a higher ASR than random ones, and the risky samples
# of both kinds a higher entropy (they are "informative": atypical, ambiguous).

# %%
display(rsu.risk_profile(risks, sets))
chapter.savefig(rsu.risk_figure(risks, sets), "fig2_asr_entropy")

# %% [markdown]
# ### Table 3: where the risky samples sit in the confidence distribution
#
# Per class, the trained model's confidence p_y over the top 80% and the bottom 20% of the
# class's training samples, and the mean confidence of its MI High and Low samples (the
# paper's values are for CIFAR-10).

# %%
distribution = rsu.logit_distribution(data, risks, sets)
distribution

# %% [markdown]
# ### Figures 3 and 4: relearn time
#
# Epochs of fine-tuning on the forget set (lr `relearn_lr`) until its loss falls back to the
# original model's; a missing bar means more than `relearn_epochs`. The paper: the High
# sets take longer, so less of them is left in the model.

# %%
chapter.savefig(rsu.relearn_figure(risk_runs, risk_methods), "fig3_4_relearn")

# %% [markdown]
# ### Figure 5: the loss as a proxy for privacy risk
#
# The training samples in ten equal-count loss intervals, lowest first, with their mean
# ASR. RSU ranks by the loss because the paper finds it positively correlated with ASR.

# %%
intervals = rsu.loss_intervals(risks)
correlation = rsu.loss_asr_correlation(risks)
chapter.savefig(rsu.loss_figure(intervals, correlation), "fig5_loss_asr")

# %% [markdown]
# ## Part two: RSU
#
# GA, RL and Bad-T alone and inside RSU (`rounds` nested subsets, hardest first), in
# whole-class forgetting (class `forget_class`, the paper's Table 5) and random forgetting
# (`random_fraction` of the training set, Table 6), each seed against its own retrained
# model: ToW (Eq. 2) over forget, retain and validation accuracy, and the MIA gap to
# retraining. The gain table pairs each seed's runs and says whether the mean gain exceeds
# the seed-to-seed spread.

# %%
rsu_rows = rsu.rsu_runs(setup, scenarios, runs, seeds, risks)
gains = rsu.gains(rsu_rows, rsu_methods)
rsu.rsu_table(rsu_rows, "class", rsu_methods, dataset)

# %%
rsu.rsu_table(rsu_rows, "random", rsu_methods, dataset)

# %%
rsu.gains_table(gains)

# %% [markdown]
# ### Figure 7: the order of forgetting
#
# The ablation method in whole-class forgetting: in one go, in one go with RSU's number of
# passes, in the Reverse order (easiest first) and in RSU's order (hardest first).

# %%
chapter.savefig(rsu.order_figure(rsu_rows, ablation_method), "fig7_order")

# %% [markdown]
# ## The paper's claims, checked
#
# Each verdict is computed from the numbers above by a claim rule of `mu_core.studies.rsu`;
# "all" means every method, "increases" means strictly.

# %%
chapter.add_claims(rsu.claims(risk_runs, risks, sets, distribution, correlation, rsu_rows,
                              gains, rsu_methods, ablation_method))

# %% [markdown]
# ## Results and provenance

# %%
chapter.save_results({
    "lira": risks.lira,
    "forget_sets": {name: indices.tolist() for name, indices in sets.items()},
    "risk_profile": rsu.risk_profile(risks, sets).to_dict("index"),
    "risk_runs": risk_runs.to_dict("records"),
    "logit_distribution": distribution.to_dict("index"),
    "loss_intervals": intervals.to_dict("records"),
    "loss_asr_spearman": correlation,
    "rsu_runs": rsu_rows.to_dict("records"),
    "gains": gains.to_dict("records"),
})
pd.Series(chapter.provenance()).to_frame("value")
