# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
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

# %% tags=["remove-cell"]
import sys

if "google.colab" in sys.modules:  # in Colab, install mu_core first; elsewhere it is there
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "mu-core @ git+https://github.com/mu-privacy/mu-book@main"], check=True)

# %% tags=["parameters"]
preset = "cpu"  # "paper": the papers' scale on a GPU, every value below it at once
dataset = "mnist5k"
architecture = "cnn"
architecture_options = {"hidden": 0}
epochs = 50
lr = 0.1
batch_size = 128
schedule = "step"
train_size = 500
shadow_count = 16
lira_fix_variance = True
inversion_candidates = 160
inversion_steps = 500
inversion_precision = "float32"
inversion_success = 0.3
subset_size = 50
mi_high_size = 12
risk_methods = ["ga", "rl", "ft", "retrain", "bad_teacher", "l1_sparse"]
relearn_lr = 0.01
relearn_epochs = 30
rsu_methods = ["ga", "rl", "bad_teacher"]
ablation_method = "ga"
rounds = 5
forget_class = 0
random_fraction = 0.1
seeds = [0, 1, 2]
hyperparameters = {"ga": {"epochs": 5, "lr": 0.003, "batch_size": 8},
                   "rl": {"epochs": 5, "batch_size": 16},
                   "bad_teacher": {"epochs": 5, "lr": 0.0005, "batch_size": 32},
                   "ft": {"batch_size": 16}, "l1_sparse": {"batch_size": 16}}
scenario_hyperparameters = {  # part two's GA: plain SGD, stopping once forgotten (as tuned)
    "class": {"ga": {"epochs": 5, "lr": 0.01, "momentum": 0.0, "weight_decay": 0.0,
                     "batch_size": 2, "stop_at": "unseen"}},
    "random": {"ga": {"epochs": 5, "lr": 0.01, "momentum": 0.0, "weight_decay": 0.0,
                      "batch_size": 2, "stop_at": "unseen"}}}
device = "auto"

# %% tags=["hide-input"]
import pandas as pd
from IPython.display import Markdown, display

from mu_core.chapter import Chapter
from mu_core.regime import table as regime_table
from mu_core.studies import rsu

chapter = Chapter("05_rsu", globals())  # applies the preset, records every parameter
chapter.quote(rsu.quoted())  # the values the prose quotes
results = rsu.run(chapter.params, chapter.device)  # checks every request, then trains
sets = results.sets()
paper_key, paper_note = rsu.paper_dataset(dataset)
display(Markdown(f"Beside our numbers: {paper_note}."))
rsu.differences(results.setup, chapter.params)

# %% tags=["remove-input"]
chapter.findings(rsu.claims(results))  # the box: verdicts, key effects

# %% [markdown]
# ## How this run is set up
#
# **At the paper's scale.** Change the first line of the parameters cell (the first code cell,
# `preset = "cpu"`) to `preset = "paper"`
# (in Colab, on a GPU runtime) or run `mu-book run 05 --preset paper`: every value that
# preset lists changes at once, and values you changed yourself stay.
# `mu-book run 05 --preset paper --dry-run` proves it on any machine in minutes, on
# synthetic data of the papers' shapes, and prints what the real run costs there.

# %% tags=["remove-input"]
from mu_core.prices import chapter_price

chapter_price("05_rsu")  # the paper preset's price table row, from its committed dry run

# %% [markdown]
# **How we run it.** One dataset and network, smaller than the paper's: by default the
# paper's MNIST network (two convolutional layers and one linear layer: `cnn` with
# `hidden: 0`) with the paper's SGD recipe and step schedule, shortened to `epochs`
# epochs, on the offline `mnist5k`; the `paper` preset runs CIFAR-10 on ResNet-18 with the
# paper's training details. The table after the set-up cell sets out every deliberate
# difference, the paper's setting beside ours. In words:
#
# * **LiRA.** `shadow_count` shadow models of the same recipe, each trained on a random
#   half of a pool made of the trained model's training set and as many training-split
#   samples it never saw (every sample in exactly half of them; each shadow model sees
#   about as many samples as the trained model), with the logit gap
#   (highest minus second-highest logit) as the statistic, as the paper describes. With
#   few shadow models each Gaussian gets one variance over all samples
#   (`lira_fix_variance`, Carlini et al.'s advice); a per-sample variance from a handful
#   of models is noise. A sample's privacy score is Eq. 1's attack success rate, each
#   shadow model in turn the target of LiRA fitted on the others; the leave-one-out is
#   *balanced* (one more model of the other group is left out too), since otherwise the
#   target's own group is the smaller, worse-fitted one exactly when the right answer is
#   "member", which biases the score against members.
# * **The MIA score** of a model on a set is the share of the set that online LiRA calls
#   members, as the paper's Preliminaries say ("we use LiRA to compute the MIA score");
#   its list of metrics names a confidence-based attack instead. The MIA gap is the
#   distance to the original model's score (Tables 1-2) or to retraining's (Table 6; we
#   show it for Table 5 as well).
# * **Gradient inversion** (Geiping's cosine objective, the label known) rebuilds
#   `inversion_candidates` random training samples from their own gradients, in
#   `inversion_precision` and all in one batch: in float32 a reconstruction depends on its
#   batch, so one batch treats every candidate alike; float64 removes the dependence at a
#   multiple of the CPU time. The paper does not describe its inversion beyond "the
#   victims' gradients" (its Fig. 1). Ours keeps Geiping et al.'s cosine over all layers,
#   total-variation prior, box projection and step schedule, and departs from their
#   reference code in its number of steps (`inversion_steps`, fewer), plain Adam (they
#   step along the gradient's sign), a larger rate and prior weight and a uniform start
#   (the differences table sets theirs beside ours). On the `cpu` preset's victim, which
#   has memorised its training samples, those departures do not cost successes: on the
#   trained models of two seeds other than the published ones, signed steps at their
#   rate, or a smaller or larger prior, brought no more candidates to
#   `inversion_success` than ours, and more steps than `inversion_steps` brought fewer
#   successes per step of CPU time, and far more steps no more successes at all (the
#   preset records the measurements). The SSIM reaches a plateau that only a minority of
#   candidates lift above `inversion_success`; a likely cause is the network, whose two
#   convolutions, pooled to a small map, pass little of a digit into its gradient. So
#   **MI High** is the `mi_high_size` candidates of highest SSIM, fewer than the other
#   sets, out of enough candidates that most of them should be successes; the claims on
#   MI High check that they are (below).
# * **The forget sets.** The `mi_high_size` best rebuilt candidates (by SSIM) are **MI
#   High**, the `subset_size` training samples with the highest ASR **MIA High**, and one
#   random set of `subset_size` is **Low**, the control of *both* tables (the paper's
#   three sets have one size; at the `paper` preset ours do too). The paper's two
#   Low columns differ, so it seems to draw one per table; one shared set makes the two
#   controls identical. MI High is the top of a random pool, MIA High of the whole
#   training set. On the `cpu` preset's `train_size` training samples a set of
#   `subset_size` is a far larger share of the training set than the paper's sets are of
#   its datasets, so "the riskiest samples" reach less deep into the tail. Each method
#   unlearns each set on its own, in the same epochs and batches, so where MI High is the
#   smaller set GA, which ascends on the forget set alone, takes fewer steps on it than on
#   Low: Table 1's GA row then compares unequal doses, which favour the Low set's being
#   forgotten more (RL and Bad-T see each forget sample once an epoch beside the retain
#   set whatever the set's size; retraining, FT and l1-sparse never train on it).
# * **Unlearning settings.** GA and Bad-T run for the epochs of the paper's Experiment
#   Setup, RL for one epoch a round of RSU (fewer than the paper's, for the CPU budget)
#   and FT and l1-sparse for the toolkit's, each with a learning rate inside the paper's
#   range (`hyperparameters`; the differences table lists both), and the toolkit's batch
#   sizes shrunk as the training set is, so that a method takes as many steps an epoch as
#   on the whole of mnist5k (more on part one's risk sets, whose size does not shrink).
#   The paper tunes each rate within its range; we keep the toolkit's for RL, FT and
#   l1-sparse, and raise GA's and Bad-T's, whose toolkit rates left every risk set
#   recognised, to rates at which each forgets some of the first seed's risk sets (the
#   preset records the measurement). Those are the risk sets part one then judges (it
#   runs one seed): the rates were picked for forgetting something, not for the High-Low
#   contrast the claims read, but a reader should know they were tuned on the same sets.
#   Part one runs every method for a fixed budget, with
#   no stopping rule: it compares how much of each set the same budget removes. A method
#   that did not forget a risk set is named so by its claims instead of counted.
# * **GA in part two.** GA's loss has no maximum, and at a fixed number of steps it has a
#   cliff whose place differs by seed: a rate that forgets the class on one seed's
#   trained model leaves most of it recognised on another, and a step up collapses the
#   first (the preset gives the grid). So part two's GA (`scenario_hyperparameters`)
#   ascends at the top of the paper's range, in small batches so that an epoch takes as
#   many steps as the reference's batches do on the paper's MNIST forget set, for at most
#   the paper's epochs, and **stops** at the first step at which its forget set's accuracy
#   is down to what a model that never saw it would score (`stop_at: "unseen"`): zero on a
#   whole forgotten class, which such a model never predicts, and the trained model's test
#   accuracy on random samples. A real unlearner knows both without retraining. The
#   stopping rule is ours (the paper gives GA a number of epochs only). Inside RSU every
#   round runs the same GA, and the rule reads the whole forget set, not the round's
#   subset: a round stops at the first step at which all of D_u is down to the level (set
#   once from the trained model), and no round starts once it is. So GA with and without
#   RSU stop at the same forgetting and differ in what they keep, which is what Table 5
#   compares. RSU's rounds share the epochs, so they may run out before the whole forget
#   set is down to the level; the tables show Acc_Du.
# * **Seeds.** Part one runs one seed (the paper reports single runs); part two runs
#   `seeds` and reports mean ± std where the paper reports single numbers. Every seed
#   trains on the same `train_size` samples (the subset is fixed), so the seeds vary the
#   initialisation, the order of the batches and, in random forgetting, the forget set;
#   in class forgetting every seed forgets the same samples.
# * **RSU** needs a number of rounds and an age schedule, which the paper does not give:
#   `rounds` nested subsets growing by equal shares of the loss ranking. Algorithm 1 runs T
#   iterations in all and grows the age "at each training epoch", so the rounds *share* the
#   method's epochs: RSU trains exactly as many epochs as the method alone (with `rounds`
#   equal to the epochs, one epoch a round), every method needs at least `rounds` epochs,
#   and each round restarts the method on the model as the previous round left it: its
#   optimiser afresh, and Bad-T's competent teacher is that model, not the trained one (the
#   paper's Algorithm 1 only says "update θ by unlearning algorithm"). Unlearning the easier
#   samples in fewer rounds, RSU takes fewer steps than the method alone would in all its
#   epochs, and with GA's stopping rule each run ends where it has forgotten, after however
#   many steps that took. So RSU and the one go may differ in dose as well as in order: the
#   ablation adds a **control**, the ablation method in one go on the whole forget set for
#   exactly as many steps as it took inside RSU on the same seed, with no stopping rule (its
#   own rule would end it wherever the one go ends). The control and RSU then differ only in
#   which samples their steps ascend on, and in what order. (An earlier version gave the
#   control as many passes over the forget set as RSU's rounds could take, with the stopping
#   rule: both stopped at the same step as the one go, and the control coincided with it.
#   Earlier still, every round took the method's full epochs; `budget="per_round"` of the
#   `rsu` method still runs that reading.)
# * **Class forgetting** (Table 5) forgets the whole class `forget_class`. The paper's
#   text removes a share of the *classes*, its caption a share of the *data points across
#   all classes* (the table quotes both); its Acc_Du near zero in every row fits whole
#   classes, and on a ten-class dataset one class is the text's share. **Random
#   forgetting** (Table 6) forgets `random_fraction` of the training set.
# * **No side door:** the inputs are normalised with fixed constants (`data.fixed_normaliser`),
#   not with statistics of the training split, and everything else a retrained or shadow
#   model sees is its own training set.
# * **Augmentation.** None, here or in the `paper` preset: the paper does not say whether
#   it augments, and the shadow models train on fixed images, so the trained model does
#   too.

# %% [markdown]
# ## Part one: privacy risk and the difficulty of forgetting
#
# The trained model of the first seed, its shadow models, and every training sample's
# LiRA attack success rate; then gradient inversion of the candidates. The first table is
# the regime: the trained model's accuracy on its training set and on the test set, and
# online LiRA against it: its training samples against as many training-split samples it
# never saw, with the shadow models of the pool (AUC with DeLong's interval, and the
# true-positive rate at one false positive in a hundred, Carlini et al.'s headline
# figures); then the attack's strength on the recipe, each shadow model in turn the target
# of LiRA fitted on the others. An AUC of one half is a coin; a model that memorises its
# training set lets LiRA reach well above it, which is why the `cpu` preset trains on
# `train_size` samples (a fixed stratified subset of mnist5k) for `epochs` epochs: on the
# whole training split for a few epochs LiRA stayed near chance. The shadow models' pool
# draws its unseen half from the samples that subset left out. Where the trained model
# saw the whole training split (the `paper` preset), no unseen sample is left: the shadow
# models then train on halves of its training set, and only the leave-one-out attack on
# them measures LiRA (the table names which model the AUC was read on). The paper gives
# no AUC of its own, only its original model's accuracies (its column): it ranks samples
# by their ASR. If the interval here does not clear one half, the trained models of this preset
# leak too little membership for any claim about the MIA High set or the MIA gaps, and
# those claims are not testable here rather than refuted.

# %%
chapter.quote(results.leakage.quoted())
regime_table(results.leakage, paper=rsu.paper_regime(paper_key))

# %% [markdown]
# ### Figure 1: gradient inversion
#
# The best and the worst rebuilt candidates: originals above, reconstructions below,
# titled with their SSIM ("ok" marks a success, SSIM at least `inversion_success`).

# %%
chapter.savefig(rsu.inversion_figure(results.data, results.risks, inversion_success),
                "fig1_inversion")

# %% [markdown]
# ### Tables 1 and 2: unlearning the riskiest samples
#
# Every method unlearns each set (MI High of `mi_high_size` samples, the others of
# `subset_size`) from the trained model. Acc_Dr,
# Acc_val (the test split) and Acc_Du in %, and the MIA gap |MIA(unlearned) -
# MIA(original)|. The paper's claim: on the High sets, Acc_Du is lower and the MIA gap
# larger than on the Low set, for every method. A method that leaves both sets as the
# original had them did not forget, and its part of the claim is not testable (it is
# named).

# %%
rsu.risk_table(results.risk_runs, "mi", dataset)

# %%
rsu.risk_table(results.risk_runs, "mia", dataset)

# %% [markdown]
# ### Figure 2: what the risky samples have in common
#
# The attack success rate and the trained model's predictive entropy on each set. The
# paper: samples easy to invert have a higher ASR than random ones, and the risky samples
# of both kinds a higher entropy (they are "informative": atypical, ambiguous). The paper
# does not say of what it computes the entropy; we read it as the trained model's
# predictive entropy. The claims compare the mean ASR and the *median* entropy (a box
# plot's centre: a few ambiguous samples dominate a set's mean entropy), each with a
# bootstrap interval over the samples; the paper shows plots, no numbers.

# %%
display(results.risk_profile)
chapter.savefig(rsu.risk_figure(results.risks, sets), "fig2_asr_entropy")

# %% [markdown]
# ### Table 3: where the risky samples sit in the confidence distribution
#
# The paper calls its values a "logit distribution", but they all lie between 0 and 1, so
# they are softmax probabilities; we read them as the confidence p_y, the probability of
# the true label. Per class: its range over the top {glue:text}`top_share:.0%` and the bottom
# {glue:text}`tail_share:.0%` of the class's training samples, the boundary (the lowest
# confidence of the top share), and the *median*
# confidence of the class's MI High and of its Low samples. A median, because a set's
# mean is dragged below any boundary by a single sample deep in the tail. The paper's
# values are for CIFAR-10. A class holds a handful of each set's samples, too few to
# decide anything per class, so the claim pools the classes: most MI High samples in
# their class's tail and most Low samples in its top share, each share with its Wilson
# interval against one half.

# %%
results.logit_distribution

# %% [markdown]
# ### Figures 3 and 4: relearn time
#
# Epochs of fine-tuning on the forget set (lr `relearn_lr`) until its loss falls back to the
# original model's; a bar at `relearn_epochs` + 1 means not within the budget. The paper: the High
# sets take longer, so less of them is left in the model. A time beyond the budget counts
# as one epoch beyond it; where both sets of a method are beyond it, their order is
# unknown and the method is left out. Part one has one run per method and set, so the
# claim's interval runs over the methods that forgot (High minus Low, paired by method).

# %%
chapter.savefig(rsu.relearn_figure(results.risk_runs, risk_methods, relearn_epochs),
                "fig3_4_relearn")

# %% [markdown]
# ### Figure 5: the loss as a proxy for privacy risk
#
# The training samples in as many equal-count loss intervals as the paper's (it does not
# say how it cuts them), lowest first, with their mean ASR, and Spearman's correlation of
# loss and ASR over all training samples. RSU ranks by the loss because the paper finds it
# positively correlated with ASR: the high-loss samples are the risky, easy ones, so the
# low-loss samples, unlearned first, are the hard ones.

# %%
chapter.savefig(rsu.loss_figure(results.loss_intervals, results.loss_asr_spearman),
                "fig5_loss_asr")

# %% [markdown]
# ## Part two: RSU
#
# GA, RL and Bad-T alone and inside RSU (`rounds` nested subsets, hardest first), in
# whole-class forgetting (class `forget_class`, the paper's Table 5) and random forgetting
# (`random_fraction` of the training set, Table 6), each seed against its own retrained
# model: ToW (Eq. 2) over forget, retain and validation (test split) accuracy, and the
# MIA gap to retraining. The trained model's row shows what each method forgets from.
# The gain table pairs each seed's runs (with RSU minus without) and gives the mean gain
# with its interval over seeds: an interval wholly above or below zero is a gain or a
# loss the seeds bear out. Higher is better for Acc_Dr, Acc_val and ToW, lower for the
# MIA gap, and Acc_Du is better the closer it is to retraining's. In class forgetting
# Acc_val counts the forgotten class's test samples, which a method that failed to
# forget still classifies: "Acc_val (kept classes)" leaves them out, and the claim on
# Acc_val reads it.

# %%
rsu.rsu_table(results.rsu_runs, "class", rsu_methods, dataset)

# %%
rsu.rsu_table(results.rsu_runs, "random", rsu_methods, dataset)

# %%
rsu.gains_table(results.gains())

# %% [markdown]
# ### Figure 7: the order of forgetting
#
# The ablation method in whole-class forgetting: in one go, in one go for exactly the
# steps it took inside RSU (the dose control, no stopping rule), in the Reverse order
# (easiest first) and in RSU's order (hardest first), with Acc_Dr, Acc_val, Acc_Du
# (retraining's is near zero) and ToW. The claims are judged on ToW; the paper's figure
# prints no numbers. An order that keeps Acc_Dr high by leaving the class recognised is
# not closer to retraining: Acc_Du says which it is. The table after the figure gives each
# run's steps and, in both scenarios, RSU's ToW minus each run's, paired over seeds. RSU
# and the one go each stop where they have forgotten, so their steps differ: where RSU
# beats the one go but not the control, its advantage is its dose, not its order; where
# it beats the control too, the same number of ascent steps did less harm spread over
# RSU's nested subsets, hardest first, than in one go on the whole forget set. GA has no
# maximum, so a control given more steps than the one go needed ascends past forgetting,
# and its Acc_Dr shows how far. The control is shown, not judged: the paper has no such
# run.

# %%
chapter.savefig(rsu.order_figure(results.rsu_runs, ablation_method), "fig7_order")

# %%
rsu.order_table(results.rsu_runs, ablation_method)

# %% [markdown]
# (claims-05_rsu)=
# ## The paper's claims, checked
#
# Each verdict is computed from the runs above by a claim rule of `mu_core.studies.rsu.rules`,
# read as set out below: `here` gives each effect with its interval and what it runs
# over, or the precondition that failed with the measured number, and the `paper` column
# counts the paper's own printed cells that bear the claim out. At the cpu preset expect
# many inconclusive verdicts: part one rests on one seed and sets of `mi_high_size` and
# `subset_size` samples, part two on `seeds` seeds, and a t interval over so few seeds is
# wide. An inconclusive verdict asks for more seeds or larger sets, not for a different
# reading.
# The paper's contribution that the samples easiest to invert "are identical to" those of
# highest ASR is read as its testable part: the MI High set shares more samples with the
# MIA High set than chance (the MIA High share of the training samples) would. Its
# Insights' remark that retraining changes the predictions on easy-to-attack samples more
# than on random ones is the retraining part of the two "forgotten more" claims (each
# method, retraining included, is a part of them).
#
# **Claims, and the four verdicts.** Every claim is decided on an effect with its
# {glue:text}`confidence:.0%` interval, never on two bare numbers. Part one runs one seed,
# so its intervals run over the samples of the forget sets (a bootstrap of each set's
# samples, Wilson's interval for a share, Fisher's for a rank correlation); part two runs
# `seeds`, so its intervals run over the seeds, each seed's run with RSU paired with the
# same seed's run without (a t interval). A claim **held** when the whole interval lies
# on the claim's side of its boundary (above zero for "higher", "improves" and
# "significantly"), **did not hold** when the whole interval lies on the other side, and
# is **inconclusive** when the interval straddles the boundary: at this scale the run
# cannot tell the outcomes apart, which says nothing for or against the paper. A claim is
# **not testable here** when something it presupposes failed, and `here` names it with the
# measured number:
#
# * *LiRA has a signal.* Every claim about membership (the MIA High set, the ASR, every
#   MIA gap, the MIA half of the relearn and entropy claims) presupposes that LiRA tells
#   members of the trained model from the pool's samples it never saw better than a
#   coin: its AUC's interval lies above one half. Without it the ASR of every sample is
#   noise and "the riskiest samples" are a random draw.
# * *The inversion worked.* MI High is the candidates whose gradient inversion reached the
#   highest SSIM to the original; a claim on it (Tables 1-2's MI rows, the ASR, the
#   overlap with MIA High, and the MI parts of the entropy, tail and relearn claims)
#   presupposes that those samples were actually inverted: most of them must reach
#   `inversion_success` (the share's Wilson interval above one half), else the set is the
#   least bad of failed inversions and the claim is not testable, with the count.
#   `inversion_success` sits just above the SSIM a reconstruction reaches against
#   *another* candidate's digit in one pair in twenty (the preset records it): below it
#   a likeness may be chance.
# * *The method forgot.* A claim about what a method removed or how hard it is to recall
#   presupposes that it removed something. In part one a method's accuracy on the High and
#   the Low set together must fall measurably below the original's; in class forgetting a
#   method must forget at least {glue:text}`class_forget_margin:.0%` of the class (its
#   Acc_Du over seeds that far below the trained model's), with and without RSU, before its
#   accuracies elsewhere count as an improvement: otherwise a higher Acc_Dr only says that
#   less was removed. For the same reason a gain with RSU where RSU left more of the class
#   recognised than the method alone, on any seed, is not testable (a loss there stays a
#   loss: forgetting less could only have helped). A ToW gain (with RSU against without, and
#   Figure 7's orders) needs one of the two runs compared to have forgotten: the class, or
#   in random forgetting the forget set, its Acc_Du over seeds below the trained model's by
#   more than {glue:text}`random_forget_share:.0%` of retraining's drop. Two runs that both
#   kept it changed nothing to compare, so the comparison of RSU's ToW gain in class and in
#   random forgetting averages only the methods whose gain is testable in both scenarios,
#   and names the others.
#
# "Every method" is the conjunction: the claim held if it held for each method, did not
# hold if it failed for any, and is otherwise inconclusive or not testable. Each claim's
# `paper` field counts how many of the paper's own printed cells bear it out: its Tables
# 5 and 6 contradict some of its own sentences. "Forgotten more" (Tables 1-2) compares
# what unlearning removed: the share of the samples the original model classified right
# that the unlearned model no longer does (Newcombe's interval). The paper's original
# classifies both sets perfectly, so its lower Acc_Du is exactly that; a trained model
# that misses some atypical High samples before any unlearning (Tables 1-2 give ours in
# their `original` rows) would make a lower Acc_Du on High say nothing about unlearning,
# and the share forgotten reads the same either way.

# %%
chapter.add_claims(rsu.claims(results))

# %% [markdown]
# ## Results and provenance

# %%
chapter.save_results(results.to_json(), headline=rsu.headline(results))
pd.Series(chapter.provenance()).to_frame("value")
