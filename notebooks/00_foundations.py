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
# # Foundations: the trained model and the forgetting split
#
# Every chapter of this book starts from the same two things: a model trained on the
# training split, and a **forgetting split** that says which training samples a data owner
# asks to have removed. This chapter builds both and shows them.
#
# * **train** is the training split, **test** the held-out split.
# * **forget** holds the samples to be unlearned; **retain** is the rest of the training
#   split (train = forget + retain).
# * MRA {cite:p}`sui2024mra` and CMIRA {cite:p}`anonymous2024cmira` forget *half* of the
#   training samples of five chosen classes, so the model still sees the other half of
#   those classes: a harder and more realistic setting than forgetting whole classes.

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
epochs = 8
lr = 0.05
batch_size = 128
optimizer = "sgd"
weight_decay = 0.0005
augment = "none"
forget_classes = [1, 3, 5, 7, 9]
forget_fraction = 0.5
seed = 0
device = "auto"

# %%
import pandas as pd
from IPython.display import Markdown, display

from mu_core import data as datasets
from mu_core import metrics, plots
from mu_core.chapter import Chapter
from mu_core.splits import make_split
from mu_core.train import Recipe, evaluate, predict
from mu_core.zoo import trained_model

chapter = Chapter("00_foundations", globals())  # applies the preset, records every parameter
recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, optimizer=optimizer,
                weight_decay=weight_decay, augment=augment)  # checked before any work
data = datasets.load(dataset).to(chapter.device)
split = make_split(data, forget_classes=forget_classes, forget_fraction=forget_fraction,
                   seed=seed)
pd.DataFrame([split.sizes()], index=["samples"])

# %% [markdown]
# ## The trained model
#
# The model every unlearning method starts from, trained on the whole training split
# (forget and retain together).

# %%
model, meta = trained_model(data, split, architecture, recipe, seed=seed)
accuracy = evaluate(model, data, split)
display(Markdown(f"Trained in {meta['seconds']:.1f} s "
                 f"({'loaded from the cache' if meta['cached'] else 'fresh'}) on "
                 f"{chapter.device}."))
pd.DataFrame([accuracy], index=["accuracy"]).round(4)

# %% tags=["remove-input"]
chapter.findings(numbers={"test accuracy": accuracy["test"],  # the box
                          "training accuracy": accuracy["train"]})

# %% [markdown]
# The trained model is stored in `mu_core`'s cache under a key made of everything that
# determines it (dataset, exact training indices, architecture, recipe, seed, and
# `mu_core`'s own source code), so the later chapters reuse it instead of training it again,
# and a changed library never loads a model its older code trained.
#
# **At the paper's scale.** Change the first line of the parameters cell to
# `preset = "paper"` (in Colab, on a GPU runtime) or run `mu-book run 00 --preset paper`:
# every value that preset lists changes at once, and values you changed yourself stay.
# `mu-book run 00 --preset paper --dry-run` proves it on any machine in minutes, on
# synthetic data of the papers' shapes, and prints what the real run costs there.

# %% tags=["remove-input"]
from mu_core.prices import chapter_price

chapter_price("00_foundations")  # the paper preset's price table row, from its committed dry run

# %%
chapter.savefig(plots.curves({"training loss": meta["history"]}, ylabel="mean cross-entropy",
                             title="training curve"), "training_curve")

# %% [markdown]
# ## The forgetting split
#
# Left: training samples per class, split into the retain part (blue) and the forget part
# (red), with the test split (grey) beside them. Right: forget-set images of each
# forgetting class.
#
# Nothing of a forget sample reaches a model that never trained on it: inputs are
# normalised with fixed constants (ImageNet's per-channel statistics for colour images,
# [0, 1] to [-1, 1] for one channel; `data.fixed_normaliser`), not with the training
# split's mean and standard deviation as most reference code does, since those would
# carry every forget sample into the retrained model.

# %%
chapter.savefig(plots.split_overview(data, split), "split")

# %% [markdown]
# ## Per-class accuracy and confusion on the test split
#
# The forgetting classes are marked in red. Before unlearning, the model should do as
# well on them as on the others: half of their training samples are still to be
# forgotten.

# %%
test_labels = data.labels[split.test].cpu()
test_predicted = predict(model, data, split.test).argmax(1)
per_class = metrics.per_class_accuracy(test_predicted, test_labels, data.num_classes)
chapter.savefig(plots.grouped_bars({"test accuracy": per_class}, list(data.classes),
                                   ylabel="accuracy", title="per-class test accuracy",
                                   highlight=split.forget_classes), "per_class_accuracy")

# %%
confusion = metrics.confusion_matrix(test_predicted, test_labels, data.num_classes,
                                     normalize=True)
chapter.savefig(plots.confusion(confusion, list(data.classes), title="test confusion",
                                highlight=split.forget_classes), "confusion")

# %%
forget_mask = [c in split.forget_classes for c in range(data.num_classes)]
forget_class_accuracy = per_class[forget_mask].mean().item()
other_class_accuracy = per_class[[not m for m in forget_mask]].mean().item()
display(Markdown(
    f"Mean test accuracy on the forgetting classes: **{forget_class_accuracy:.3f}**; "
    f"on the other classes: **{other_class_accuracy:.3f}**. Overall test accuracy "
    f"**{accuracy['test']:.3f}**, training accuracy **{accuracy['train']:.3f}**."))

# %% [markdown]
# ## Results and provenance

# %%
path = chapter.save_results({
    "split_sizes": split.sizes(),
    "accuracy": accuracy,
    "per_class_test_accuracy": per_class,
    "forget_class_test_accuracy": forget_class_accuracy,
    "other_class_test_accuracy": other_class_accuracy,
    "train_seconds": meta["seconds"],
    "from_cache": meta["cached"],
}, headline={"test_accuracy": accuracy["test"], "train_accuracy": accuracy["train"],
             "forget_class_test_accuracy": forget_class_accuracy,
             "other_class_test_accuracy": other_class_accuracy})
pd.Series(chapter.provenance()).to_frame("value")
