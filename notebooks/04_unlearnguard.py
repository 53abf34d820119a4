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
# # UnlearnGuard: verifying unlearning by reconstructing training samples
#
# UnlearnGuard {cite:p}`unlearnguard` lets a data provider check, through a
# trusted third party, whether a model provider really unlearned its samples. Nothing is
# planted before training: the third party **reconstructs training samples from the
# model's weights** before and after the unlearning request (Algorithm 1) and asks
# whether some reconstruction is closer than tau in SSIM to the requested sample (Eq. 1).
#
# The reconstruction (Algorithm 2) rests on implicit bias: a homogeneous ReLU network
# trained on the logistic or cross-entropy loss converges in direction to a KKT point of
# the maximum-margin problem, so its weights are a non-negative combination of the margin
# gradients at its training samples (Eqs. 6-9, 21). Phase 1 searches candidates x~ and
# multipliers lambda that satisfy this stationarity condition (Eqs. 10-12, 22; Haim et al.
# 2022, Buzaglo et al. 2023); phase 2 adds the paper's prior loss -|M(x~)| and projects
# the candidates into an eps box around phase 1's result after every step (Eqs. 4-5).
#
# **Setting.** As in the paper's Section V-D, which follows Buzaglo et al.: a bias-free
# MLP trained full-batch from a small initialisation to a large margin on a small
# training set, here 5 samples per class of the offline `mnist5k` (the paper and Buzaglo:
# 50 per class, 1000-1000 hidden units; the `paper` preset). The unlearning method is
# retraining from scratch, as in the paper. How the models are trained faster than the
# reference's 10^6 steps without leaving gradient flow's path is in `mu_core.maxmargin`.
#
# **A control the paper lacks.** MNIST digits resemble each other: a real digit the
# model never saw is often close in SSIM to a training digit. Every SSIM figure below
# therefore shows the **null**, each training sample's best SSIM against as many unseen
# real test digits as there are candidates, and tau is the 95th percentile of that null:
# a reconstruction only counts as "recovered" where it beats what unseen data reaches.

# %% tags=["remove-cell"]
import sys

if "google.colab" in sys.modules:  # in Colab, install mu_core first; elsewhere it is there
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "mu-core @ git+https://github.com/mu-privacy/mu-book"], check=True)

# %% tags=["parameters"]
dataset = "mnist5k"
per_class = 5  # the provider's training set: per_class samples of every class
forget_per_class = 1  # sample-level request: this many samples of every class
unlearn_class = 3  # class-level request (the paper: 3)
keep_class = 9  # the class-level figure's remaining class (the paper: 9 on MNIST)
hidden = [1000]
init_scale = 0.001
train_steps = 3000
train_lr = 0.5
finetune_steps = 300
relabel_steps = 300
prune_fraction = 0.2
backdoor_target = 0
trigger_size = 4
backdoor_fractions = [0.02, 0.05, 0.1, 0.2, 0.4]
candidates_per_class = 10  # m is candidates_per_class x C, at least 2n
steps = 1500
prior_steps = 300
reconstruction_lr = 0.1
lambda_lr = 0.5
lambda_min = 0.2
relu_alpha = 40.0
alpha_prior = 1.0
eps = 0.1
pairs = "max"
null_quantile = 0.95
ssim_levels = [0.3, 0.2, 0.15]
inversion_steps = 300
seed = 0
device = "auto"

# %%
import pandas as pd
import torch
from IPython.display import Markdown, display

from mu_core import guard, plots
from mu_core import data as datasets
from mu_core.attacks.backdoor import backdoor_asr, poison
from mu_core.attacks.inversion import class_representatives
from mu_core.attacks.reconstruct import ReconstructionConfig
from mu_core.chapter import Chapter
from mu_core.maxmargin import MarginRecipe, margins, predictions, prune_randomly
from mu_core.papers import UNLEARNGUARD
from mu_core.verify import (EXECUTED, VerificationReport, null_threshold, paired_reading,
                            recovery_ssim)

params = dict(dataset=dataset, per_class=per_class, forget_per_class=forget_per_class,
              unlearn_class=unlearn_class, keep_class=keep_class, hidden=hidden,
              init_scale=init_scale, train_steps=train_steps, train_lr=train_lr,
              finetune_steps=finetune_steps, relabel_steps=relabel_steps,
              prune_fraction=prune_fraction, backdoor_target=backdoor_target,
              trigger_size=trigger_size, backdoor_fractions=backdoor_fractions,
              candidates_per_class=candidates_per_class, steps=steps, prior_steps=prior_steps,
              reconstruction_lr=reconstruction_lr, lambda_lr=lambda_lr, lambda_min=lambda_min,
              relu_alpha=relu_alpha, alpha_prior=alpha_prior, eps=eps, pairs=pairs,
              null_quantile=null_quantile, ssim_levels=ssim_levels,
              inversion_steps=inversion_steps, seed=seed, device=device)
chapter = Chapter("04_unlearnguard", params, device=device, seeds=[seed])
config = ReconstructionConfig(candidates_per_class=candidates_per_class, steps=steps,
                              prior_steps=prior_steps, lr=reconstruction_lr,
                              lambda_lr=lambda_lr, lambda_min=lambda_min,
                              relu_alpha=relu_alpha, alpha_prior=alpha_prior, eps=eps,
                              pairs=pairs, seed=seed)
recipe = MarginRecipe(steps=train_steps, lr=train_lr)
finetune_recipe = MarginRecipe(steps=finetune_steps, lr=train_lr)
relabel_recipe = MarginRecipe(steps=relabel_steps, lr=train_lr)
data = datasets.load(dataset)
samples_split, class_split = guard.provider_splits(data, per_class, forget_per_class,
                                                   unlearn_class, seed)
guard.check_class("keep_class", data, keep_class, unlearn_class)
guard.check_fractions(backdoor_fractions)
to = chapter.device
D = guard.provider(data, samples_split.train)
forget_mask = torch.isin(D.indices, samples_split.forget)
class_mask = D.labels == unlearn_class
mean_image = D.images.mean(0)
unseen = guard.provider(data, data.test[: candidates_per_class * data.num_classes])
test = guard.provider(data, data.test)


def train(images, labels, desc, num_outputs=None):
    return guard.train_model(images.to(to), labels.to(to), mean_image.to(to),
                             num_outputs or data.num_classes, hidden=hidden,
                             init_scale=init_scale, recipe=recipe, seed=seed, desc=desc)


test_images, test_labels = test.images.to(to), test.labels.to(to)


def test_accuracy(model):
    return guard.subset_accuracy(model, test_images, test_labels)


def recover(model, desc):
    scores = recovery_ssim(model, D.images.to(to), config, desc=desc)
    return {key: value.cpu() for key, value in scores.items()}


tau, null = null_threshold(D.images, unseen.images, null_quantile)
display(Markdown(f"Training set: {len(D.labels)} samples; sample-level request: "
                 f"{int(forget_mask.sum())} samples; class-level request: class "
                 f"{unlearn_class} ({int(class_mask.sum())} samples). Null: each training "
                 f"sample's best SSIM against {len(unseen.labels)} unseen test digits, "
                 f"median {null.median():.2f}; tau = its {null_quantile:.0%} quantile = "
                 f"**{tau:.3f}**."))

# %% [markdown]
# ## Models
#
# The trained model M, the retrained models for the two requests, and the backdoor
# baseline's models: the data provider stamps a 4x4 trigger in the bottom-right corner on
# the requested samples and labels them `backdoor_target`; to give the remaining samples
# a backdoor of their own (Fig. 4), as many remaining samples carry a second trigger in
# the top-left corner.

# %%
images, labels = D.images.to(to), D.labels.to(to)
trained = train(images, labels, "trained")
retrained = train(images[~forget_mask.to(to)], labels[~forget_mask.to(to)], "retrain (samples)")
class_retrained = train(images[~class_mask.to(to)], labels[~class_mask.to(to)],
                        "retrain (class)")
generator = torch.Generator().manual_seed(seed)
remaining_ids = torch.nonzero(~forget_mask).view(-1)
second = torch.zeros_like(forget_mask)
second[remaining_ids[torch.randperm(len(remaining_ids), generator=generator)
                     [: int(forget_mask.sum())]]] = True
bd_images, bd_labels = poison(D.images, D.labels, forget_mask, backdoor_target, trigger_size)
bd_images, bd_labels = poison(bd_images, bd_labels, second, backdoor_target, trigger_size,
                              corner="top-left")
bd_trained = train(bd_images.to(to), bd_labels.to(to), "backdoored")
keep = ~forget_mask
bd_retrained = train(bd_images[keep].to(to), bd_labels[keep].to(to), "backdoored retrain")
accuracy_table = pd.DataFrame(
    {name: {"train": guard.subset_accuracy(model, images, labels),
            "test": test_accuracy(model)}
     for name, model in [("trained", trained), ("retrained (samples)", retrained),
                         ("retrained (class)", class_retrained), ("backdoored", bd_trained)]}).T
accuracy_table.round(3)

# %% [markdown]
# ## Sample-level requests (Figures 3-5)
#
# For the requested ("unlearning") samples and for the remaining samples, before and
# after retraining: the MIA's INA (the share a confidence-based SVC attack, fitted on the
# model's other training samples and unseen test digits, calls members), the backdoor's
# ASR (the requested samples' trigger for the requested samples, the second trigger for
# the remaining ones), the accuracy, and our mean best SSIM.

# %%
before = recover(trained, "trained")
after = recover(retrained, "retrained")
nonmembers = (test_images[-200:], test_labels[-200:])


def scheme_values(model, bd_model, subset, corner, ssim, trained_on):
    """INA, ASR, accuracy and mean SSIM of the training samples in `subset`; the MIA's
    members are the model's other training samples (`trained_on` marks them all)."""
    values = guard.scheme_values(model, images, labels, subset, trained_on & ~subset,
                                 nonmembers, ssim)
    values["Backdoor"] = backdoor_asr(bd_model, D.images[subset].to(to), D.labels[subset].to(to),
                                      backdoor_target, trigger_size, corner)
    return values


everything = torch.ones_like(forget_mask)
sample_level = {
    name: {"before": scheme_values(trained, bd_trained, subset, corner, before["phase2"],
                                   everything),
           "after": scheme_values(retrained, bd_retrained, subset, corner, after["phase2"],
                                  keep)}
    for name, subset, corner in (("unlearning samples", forget_mask, "bottom-right"),
                                 ("remaining samples", second, "top-left"))}
schemes = ["MIA", "Backdoor", "Accuracy", "Ours"]
panels = {f"{name} (Fig. {3 if i == 0 else 4})": {
    when: [values[when][s] for s in schemes] for when in ("before", "after")}
    for i, (name, values) in enumerate(sample_level.items())}
chapter.savefig(plots.bar_panels(panels, schemes, ylabel="INA / ASR / accuracy / SSIM",
                                 columns=2), "fig3_4_sample_level")

# %% [markdown]
# The "Ours" bars are means over the subset; the verification itself is per sample
# (Eq. 1, Algorithm 1). The null's tau turns each sample's SSIM into V before and after:

# %%
null_mean = null.mean().item()
remaining_mask = ~forget_mask
report = VerificationReport(before["phase2"][forget_mask], after["phase2"][forget_mask], tau)
report_remaining = VerificationReport(before["phase2"][remaining_mask],
                                      after["phase2"][remaining_mask], tau)
verification_table = pd.DataFrame({"requested samples": report.counts(),
                                   "remaining samples": report_remaining.counts()}).T
display(verification_table)
ssim_table = pd.DataFrame({
    "null (unseen digits)": [null[forget_mask].mean().item(), null[remaining_mask].mean().item()],
    "before": [before["phase2"][forget_mask].mean().item(),
               before["phase2"][remaining_mask].mean().item()],
    "after": [after["phase2"][forget_mask].mean().item(),
              after["phase2"][remaining_mask].mean().item()]},
    index=["requested", "remaining"])
ssim_table.round(3)

# %% [markdown]
# Eq. 1 asks whether a reconstruction beats an *absolute* tau. A paired reading (ours,
# not the paper's) asks instead whether a requested sample's best SSIM **fell** between
# the two models by more than the remaining samples' SSIM fell: the remaining samples
# were in both training sets, so their drops show what the model change alone does.

# %%
paired, paired_threshold = paired_reading(before["phase2"], after["phase2"], forget_mask,
                                          null_quantile)
display(Markdown(f"Paired reading: a drop above **{paired_threshold:.3f}** (the remaining "
                 f"samples' {null_quantile:.0%} quantile) marks **{int(paired.sum())} of "
                 f"{len(paired)}** requested samples as unlearned; Eq. 1 with tau "
                 f"{tau:.2f} marks {report.counts()[EXECUTED]}."))

# %%
def pairs_figure(rows, titles, columns):
    return plots.image_grid(torch.cat(rows), titles, columns=columns)


def best_match(scores, sample_ids, key="candidates"):
    return scores[key][scores["index"][sample_ids]]


remaining_per_class = [torch.nonzero(remaining_mask & (D.labels == c)).view(-1)[0]
                       for c in range(4, 8)]  # four different classes, not four 0s
shown = torch.cat([torch.nonzero(forget_mask).view(-1)[:4], torch.stack(remaining_per_class)])
fig5 = pairs_figure(
    [D.images[shown], best_match(before, shown), best_match(after, shown)],
    [f"{'req.' if forget_mask[i] else 'rem.'} {D.labels[i].item()}" for i in shown]
    + [f"before {before['phase2'][i]:.2f}" for i in shown]
    + [f"after {after['phase2'][i]:.2f}" for i in shown], columns=len(shown))
chapter.savefig(fig5, "fig5_samples")

# %% [markdown]
# Figure 5: the first row holds four requested and four remaining training samples; the
# second and third the most similar reconstruction before and after unlearning, with its
# SSIM (reconstructions are min-max scaled, as Haim et al. show them).
#
# ## Class-level requests (Figures 6-8)
#
# Class `unlearn_class` is unlearned by retraining without it; `keep_class` is a
# remaining class. The schemes are the MIA, the accuracy and our SSIM (the paper has no
# backdoor bars here), and model inversion's class representatives (Fig. 7).

# %%
class_after = recover(class_retrained, "retrained (class)")
keep_mask = D.labels == keep_class
class_level = {}
for name, mask in ((f"unlearning class {unlearn_class}", class_mask),
                   (f"remaining class {keep_class}", keep_mask)):
    class_level[name] = {}
    for when, model, scores in (("before", trained, before),
                                ("after", class_retrained, class_after)):
        members = ((~class_mask) if when == "after" else torch.ones_like(class_mask)) & ~mask
        class_level[name][when] = guard.scheme_values(model, images, labels, mask, members,
                                                      nonmembers, scores["phase2"])
class_schemes = ["MIA", "Accuracy", "Ours"]
display(chapter.savefig(plots.bar_panels(
    {f"{name} (Fig. 6)": {when: [v[when][s] for s in class_schemes] for when in ("before", "after")}
     for name, v in class_level.items()}, class_schemes, ylabel="INA / accuracy / SSIM",
    columns=2), "fig6_class_level"))
pd.DataFrame({(name, when): v[when] for name, v in class_level.items() for when in v}).round(3)

# %%
representatives = {when: class_representatives(model, mean_image.to(to),
                                                [unlearn_class, keep_class],
                                                steps=inversion_steps).cpu()
                    for when, model in (("before", trained), ("after", class_retrained))}
fig7 = plots.image_grid(torch.cat([representatives["before"], representatives["after"]]),
                        [f"before: {unlearn_class}", f"before: {keep_class}",
                         f"after: {unlearn_class}", f"after: {keep_class}"], columns=4)
display(chapter.savefig(fig7, "fig7_model_inversion"))
with torch.no_grad():
    inversion_confidence = {when: trained(r.to(to)).softmax(1)[:, unlearn_class].tolist()
                            for when, r in representatives.items()}

# %%
shown = torch.cat([torch.nonzero(class_mask).view(-1)[:2], torch.nonzero(keep_mask).view(-1)[:2]])
fig8 = pairs_figure([D.images[shown], best_match(before, shown), best_match(class_after, shown)],
                    [f"class {D.labels[i].item()}" for i in shown]
                    + [f"before {before['phase2'][i]:.2f}" for i in shown]
                    + [f"after {class_after['phase2'][i]:.2f}" for i in shown], columns=4)
chapter.savefig(fig8, "fig8_class_samples")

# %% [markdown]
# ## Robustness (Figures 9-10)
#
# After (1) pruning 20% of each layer's weights at random, (2) fine-tuning on the original
# training data with the training recipe, and (3) unlearning (retraining) followed by
# fine-tuning on the original data: the backdoor's ASR on the requested samples, and our
# SSIM for the requested and the remaining samples. The paired reading against the
# trained model doubles as a check of dishonest providers: one that returns the trained
# model (first row) or fine-tunes instead of unlearning (third row) should have few
# requested samples marked unlearned.

# %%
clean = (images, labels)
robust_models = {
    "trained": (trained, bd_trained),
    "pruned": (prune_randomly(trained, prune_fraction, seed=seed),
               prune_randomly(bd_trained, prune_fraction, seed=seed)),
    "fine-tuned": (guard.fine_tune(trained, *clean, finetune_recipe),
                   guard.fine_tune(bd_trained, *clean, finetune_recipe)),
    "unlearned + fine-tuned": (guard.fine_tune(retrained, *clean, finetune_recipe),
                               guard.fine_tune(bd_retrained, *clean, finetune_recipe)),
}
robustness, robust_scores = {}, {}
for name, (model, bd_model) in robust_models.items():
    scores = robust_scores[name] = before if name == "trained" else recover(model, name)
    robustness[name] = {
        "backdoor ASR (requested)": backdoor_asr(bd_model, D.images[forget_mask].to(to),
                                                 D.labels[forget_mask].to(to), backdoor_target,
                                                 trigger_size),
        "SSIM requested": scores["phase2"][forget_mask].mean().item(),
        "SSIM remaining": scores["phase2"][remaining_mask].mean().item(),
        "recovered (> tau)": int((scores["phase2"] > tau).sum()),
        "paired: requested marked unlearned": int(paired_reading(
            before["phase2"], scores["phase2"], forget_mask, null_quantile)[0].sum()),
        "test accuracy": test_accuracy(model)}
robustness_table = pd.DataFrame(robustness).T
display(chapter.savefig(plots.grouped_bars(
    {"backdoor ASR": robustness_table["backdoor ASR (requested)"].tolist(),
     "our SSIM": robustness_table["SSIM requested"].tolist(),
     "null SSIM": [null[forget_mask].mean().item()] * len(robustness_table)},
    [name.replace(" + ", " +\n") for name in robustness_table.index], ylabel="ASR / SSIM",
    title="Figs. 9-10: requested samples after model changes"), "fig9_10_robustness"))
robustness_table.round(3)

# %% [markdown]
# **Dishonest providers.** Algorithm 1 must tell an honest provider (it retrains) from
# one that returns the trained model unchanged or fine-tunes it instead of unlearning.
# Eq. 1's verdicts with the null's tau, and the paired reading, for the requested samples:

# %%
def provider_row(returned):
    counts = VerificationReport(before["phase2"][forget_mask], returned["phase2"][forget_mask],
                                tau).counts()
    flags, _ = paired_reading(before["phase2"], returned["phase2"], forget_mask, null_quantile)
    return {**counts, "paired: marked unlearned": int(flags.sum())}


providers = {"honest (retrains)": provider_row(after),
             "skips unlearning": provider_row(robust_scores["trained"]),
             "fine-tunes instead": provider_row(robust_scores["fine-tuned"])}
provider_table = pd.DataFrame(providers).T
provider_table

# %% [markdown]
# ## Verification range and the prior loss (Figures 11-12)
#
# Figure 11a plots each training sample's best SSIM against its distance from the
# decision boundary, Delta M = M_y(x) - max_{j != y} M_j(x) on the trained model, after
# phase 1 (the KKT loss alone: Haim/Buzaglo) and after phase 2 (with the paper's prior
# loss); Figure 11b shows each sample's change. Figure 11c is the backdoor scheme's
# budget: the share of backdoored training samples against the trigger's ASR on unseen
# test digits and the clean test accuracy.

# %%
with torch.no_grad():
    distance = margins(trained(images), labels).cpu()
change = before["phase2"] - before["phase1"]
chapter.savefig(plots.recovery_by_margin(distance, before["phase1"], before["phase2"], null,
                                         tau, tau_label=f"tau (null {null_quantile:.0%})"),
                "fig11ab_prior")

# %%
budget = {}
for fraction in backdoor_fractions:
    chosen = torch.zeros(len(D.labels), dtype=torch.bool)
    count = max(1, round(fraction * len(D.labels)))
    order = torch.randperm(len(D.labels), generator=torch.Generator().manual_seed(seed))
    chosen[order[:count]] = True
    poisoned = poison(D.images, D.labels, chosen, backdoor_target, trigger_size)
    model = train(poisoned[0].to(to), poisoned[1].to(to), f"backdoor {fraction:.0%}")
    budget[fraction] = {"backdoored samples": count,
                        "ASR (unseen digits)": backdoor_asr(model, test_images, test_labels,
                                                            backdoor_target, trigger_size),
                        "clean test accuracy": test_accuracy(model)}
budget_table = pd.DataFrame(budget).T
display(chapter.savefig(plots.curves(
    {"ASR": budget_table["ASR (unseen digits)"].tolist(),
     "clean accuracy": budget_table["clean test accuracy"].tolist()},
    x=[100 * f for f in budget_table.index], xlabel="backdoored share of the training set (%)",
    title="Fig. 11c: backdoor budget"), "fig11c_backdoor_budget"))
effective = budget_table[budget_table["ASR (unseen digits)"] >= 0.9]
smallest = effective.index.min() if len(effective) else None
verifiable = {level: {"phase 1": int((before["phase1"] > level).sum()),
                      "phase 2": int((before["phase2"] > level).sum()),
                      "null": int((null > level).sum())} for level in [*ssim_levels, tau]}
verifiable_table = pd.DataFrame(verifiable).T.rename_axis("SSIM threshold")
backdoor_verifications = (int(len(D.labels) // budget_table.loc[smallest, "backdoored samples"])
                          if smallest is not None else 0)
display(budget_table.round(3), verifiable_table)
needed = f"a {smallest:.0%}" if smallest is not None else "more than the largest"
display(Markdown(f"The backdoor needs {needed}"
                 f" share of the training set for an ASR of at least 0.9, so the training set "
                 f"supports **{backdoor_verifications}** such verifications; reconstruction "
                 f"verifies **{verifiable[tau]['phase 2']}** samples above tau (paper: 255 "
                 f"above SSIM 0.15 against 10 backdoor verifications, over 40 times more)."))

# %%
candidate_ssim, candidate_nearest = guard.nearest_training(before["candidates"], D.images)
picked = torch.stack([torch.argmin((candidate_ssim - level).abs()) for level in ssim_levels])
fig12 = pairs_figure([D.images[candidate_nearest[picked]], before["candidates"][picked]],
                     [f"level {level}" for level in ssim_levels]
                     + [f"SSIM {candidate_ssim[i]:.2f}" for i in picked], columns=len(picked))
chapter.savefig(fig12, "fig12_ssim_levels")

# %% [markdown]
# Figure 12: for SSIM levels 0.3, 0.2 and 0.15, the reconstruction whose SSIM to its
# nearest training sample is closest to the level, under that training sample (every
# candidate scored, so that low levels exist: each training sample's *best* candidate
# rarely falls below 0.35 here). The titles give the SSIM actually reached.
#
# ## Fine-tuning is not a solution (Figures 13-14)
#
# Relabel-based unlearning: the trained model is fine-tuned on the remaining samples and
# the class-`unlearn_class` samples with random other labels. As in the paper, we keep
# the reconstructions that the trained model classifies as the unlearned class and score
# each against its nearest training sample, before and after; retraining (the class-level
# model above) is the reference.

# %%
relabelled = labels.clone()
relabelled[class_mask.to(to)] = guard.random_relabels(
    labels[class_mask.to(to)].cpu(), data.num_classes, seed).to(to)
relabel_model = guard.fine_tune(trained, images, relabelled, relabel_recipe, desc="relabel")
relabel_scores = recover(relabel_model, "relabel fine-tuned")
relabel_rows = {}
for when, scores in (("before", before), ("after relabel fine-tuning", relabel_scores),
                     ("after retraining", class_after)):
    candidates = scores["candidates"]
    as_class = predictions(trained, candidates.to(to)).cpu() == unlearn_class
    best, nearest = guard.nearest_training(candidates[as_class], D.images)
    relabel_rows[when] = {"candidates classified as the class": int(as_class.sum()),
                          "their mean SSIM to the nearest training sample": best.mean().item(),
                          "above tau": int((best > tau).sum()),
                          f"class-{unlearn_class} samples recovered (> tau)":
                              int((scores["phase2"][class_mask] > tau).sum()),
                          "accuracy on the class": guard.subset_accuracy(
                              relabel_model if "relabel" in when else
                              (trained if when == "before" else class_retrained),
                              images[class_mask.to(to)], labels[class_mask.to(to)])}
relabel_table = pd.DataFrame(relabel_rows).T
display(chapter.savefig(plots.box_panels(pd.DataFrame(
    [{"model": when, "SSIM": v} for when, scores in (("before", before),
                                                      ("relabel", relabel_scores),
                                                      ("retrain", class_after))
     for v in scores["phase2"][class_mask].tolist()]), ["SSIM"], ["model"]), "fig13_relabel"))
relabel_table.round(3)

# %%
shown = torch.nonzero(class_mask).view(-1)[:4]
fig14 = pairs_figure([D.images[shown], best_match(relabel_scores, shown)],
                     [f"class {unlearn_class}" for _ in shown]
                     + [f"SSIM {relabel_scores['phase2'][i]:.2f}" for i in shown],
                     columns=len(shown))
chapter.savefig(fig14, "fig14_relabel_samples")

# %% [markdown]
# ## The paper's claims, checked
#
# Each verdict is computed from the numbers above. The paper's bar values are not legible
# in our copy of its figures, so its column quotes what its text states.

# %%
def verdict(held):
    return "held" if held else "did not hold"


requested_before, requested_after = sample_level["unlearning samples"].values()
remaining_before, remaining_after = sample_level["remaining samples"].values()
drop = requested_before["Ours"] - requested_after["Ours"]
remaining_drop = remaining_before["Ours"] - remaining_after["Ours"]
claims = [
    ("sample level: MIA and accuracy do not change much for the requested samples",
     UNLEARNGUARD["mia_accuracy_unchanged"],
     f"INA {requested_before['MIA']:.2f} -> {requested_after['MIA']:.2f}, accuracy "
     f"{requested_before['Accuracy']:.2f} -> {requested_after['Accuracy']:.2f}",
     verdict(abs(requested_before["MIA"] - requested_after["MIA"]) < 0.2
             and abs(requested_before["Accuracy"] - requested_after["Accuracy"]) < 0.2)),
    ("sample level: the backdoor ASR drops to near 0 for the requested samples",
     UNLEARNGUARD["backdoor_drops"],
     f"{requested_before['Backdoor']:.2f} -> {requested_after['Backdoor']:.2f}",
     verdict(requested_before["Backdoor"] > 0.8 and requested_after["Backdoor"] < 0.2)),
    ("sample level: our SSIM drops for the requested samples and not for the remaining",
     UNLEARNGUARD["ssim_drops"],
     f"requested {requested_before['Ours']:.2f} -> {requested_after['Ours']:.2f}, remaining "
     f"{remaining_before['Ours']:.2f} -> {remaining_after['Ours']:.2f}",
     verdict(drop > 0.05 and drop > 2 * abs(remaining_drop))),
    ("verification: requested samples are recovered before and not after (Alg. 1)",
     UNLEARNGUARD["all_recovered"],
     ", ".join(f"{k}: {v}" for k, v in report.counts().items())
     + f" (tau {tau:.2f} from the null); paired reading: {int(paired.sum())}/{len(paired)} "
     "unlearned",
     verdict(report.counts()["unlearning executed"] > report.counts()["not verifiable"])),
    ("class level: MIA, accuracy and SSIM all change for the unlearned class",
     UNLEARNGUARD["class_level"],
     "; ".join(f"{s} {class_level[f'unlearning class {unlearn_class}']['before'][s]:.2f} -> "
               f"{class_level[f'unlearning class {unlearn_class}']['after'][s]:.2f}"
               for s in class_schemes),
     verdict(all(class_level[f"unlearning class {unlearn_class}"]["before"][s]
                 - class_level[f"unlearning class {unlearn_class}"]["after"][s] > 0.05
                 for s in class_schemes))),
    ("robustness: pruning and fine-tuning break the backdoor but not the reconstruction",
     UNLEARNGUARD["robustness"],
     ", ".join(f"{k}: ASR {v['backdoor ASR (requested)']:.2f}, SSIM {v['SSIM requested']:.2f}"
               for k, v in robustness.items()),
     verdict(min(robustness[k]["backdoor ASR (requested)"] for k in ("pruned", "fine-tuned")) < 0.5
             and min(robustness[k]["SSIM requested"] for k in ("pruned", "fine-tuned"))
             > requested_after["Ours"])),
    ("the prior loss raises the reconstructions' SSIM", UNLEARNGUARD["prior_helps"],
     f"mean {before['phase1'].mean():.3f} -> {before['phase2'].mean():.3f}; "
     f"{int((change > 0).sum())}/{len(change)} samples improve",
     verdict(before["phase2"].mean() > before["phase1"].mean())),
    ("reconstruction supports many more verifications than the backdoor budget",
     UNLEARNGUARD["verification_range"],
     f"{verifiable[tau]['phase 2']} samples above tau vs. {backdoor_verifications} backdoor "
     "verifications",
     verdict(verifiable[tau]["phase 2"] > 2 * max(1, backdoor_verifications))),
    ("reconstructions beat unseen real data (our control)", "not examined",
     f"mean best SSIM {before['phase2'].mean():.3f} vs. null {null_mean:.3f}",
     verdict(before["phase2"].mean() > null_mean)),
    ("relabel fine-tuning leaves (or adds) recoverable samples of the unlearned class",
     UNLEARNGUARD["relabel"],
     f"{relabel_rows['before']['above tau']} -> "
     f"{relabel_rows['after relabel fine-tuning']['above tau']} candidates above tau "
     f"(retraining: {relabel_rows['after retraining']['above tau']})",
     verdict(relabel_rows["after relabel fine-tuning"]["above tau"]
             >= relabel_rows["before"]["above tau"] > 0)),
]
claims_table = pd.DataFrame(claims, columns=["claim", "paper", "here", "verdict"])
claims_table

# %%
beats_null = before["phase2"].mean().item() > null_mean
display(Markdown(
    "**Reading the verdicts.** The control decides most of them. On MNIST, unseen digits "
    "already reach a high SSIM against training digits, so a scheme that reads similarity "
    "must beat that null before it says anything about membership; the paper compares before "
    f"and after but never against data the model never saw. Here the reconstructions' mean "
    f"best SSIM is {before['phase2'].mean():.3f} against the null's {null_mean:.3f}: they "
    + ("beat" if beats_null else "do **not** beat") + " unseen real digits on average, and "
    f"{int((before['phase2'] > tau).sum())} of {len(null)} training samples clear tau. "
    f"What does carry the unlearning is the *change*: the paired reading marks "
    f"{int(paired.sum())} of {len(paired)} requested samples as unlearned. The `paper` preset "
    "(50 samples per class, two 1000-unit layers, tens of thousands of steps) is the scale at "
    "which Buzaglo et al. report faithful reconstructions."))

# %% [markdown]
# ## How the defaults were chosen (search record)
#
# The reference hyper-parameters were found by sweeps, so ours were searched too, on this
# chapter's `cpu` setting (mnist5k, 5 samples per class, null mean 0.540, tau 0.72). These
# are a record of runs made while building the chapter, not outputs of this run:
#
# | change from the defaults | mean best SSIM, phase 1 / phase 2 | above tau |
# |---|---|---|
# | none (3,000 training steps; 1,500 + 300 reconstruction steps, lr 0.1) | 0.530 / 0.538 | 0 |
# | 5,000 reconstruction steps | 0.527 / 0.534 | 1 |
# | 15,000 training steps (smallest margin 17.6 instead of 15.7) | 0.540 / 0.532 | 1 |
# | 15,000 training steps and 5,000 reconstruction steps | 0.542 / 0.536 | 1 |
# | plain `F.cross_entropy` and a fixed step size | training stalls far from a KKT point; SSIM near 0 | 0 |
# | `pairs="all"` (Eq. 21) | fits theta better (relative residual of the true samples 0.03 vs. 0.28) but the candidates superimpose digits | - |
# | a binary odd/even head | relative KKT loss 0.02, but many blob candidates | - |
# | two 1000-unit layers from init 1e-4, 3,000 training steps | still on the initial loss plateau (2.3 until step 2,000): the `paper` preset trains 100,000 steps | - |
# | two 1000-unit layers from init 1e-3, lr 0.1 or 0.03 | the reconstruction loss grows to 1e37 and NaN: why `reconstruct` now backs off (one halving fixes it) | - |
#
# Longer training or reconstruction does not lift the SSIM above the null at this scale:
# the plateau is the method's, not the optimiser's.

# %%
results = {
    "tau": tau, "null": null.tolist(),
    "accuracy": accuracy_table.to_dict(),
    "sample_level": sample_level, "verification": verification_table.to_dict(),
    "ssim_table": ssim_table.to_dict(), "class_level": class_level,
    "paired": {"threshold": paired_threshold, "unlearned": paired.tolist()},
    "inversion_confidence": inversion_confidence,
    "robustness": robustness, "providers": providers, "backdoor_budget": {str(k): v for k, v in budget.items()},
    "verifiable": {str(k): v for k, v in verifiable.items()},
    "backdoor_verifications": backdoor_verifications,
    "prior": {"phase1": before["phase1"].tolist(), "phase2": before["phase2"].tolist(),
              "distance": distance.tolist()},
    "relabel": relabel_rows,
    "claims": claims_table.to_dict(orient="records"),
}
chapter.save_results(results)
chapter.provenance()
