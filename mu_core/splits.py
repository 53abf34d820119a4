"""Forget specs turned into index sets: train / forget / retain / test (and val).

`make_split` is a pure function of the dataset, the spec and the seed. The kinds:

* ``classwise``: a fraction of the training samples of chosen classes (MRA/CMIRA: 5 x 50%),
* ``class``: whole classes (the same spec with ``forget_fraction=1``),
* ``random``: a random fraction of the whole training split,
* ``samples``: an explicit list of dataset indices (sample-level requests).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor

from .data import ImageData, require_classes, stratified_holdout
from .errors import ConfigError, check_fraction, check_positive_int, describe

SPLIT_KINDS = ("classwise", "class", "random", "samples")


@dataclass(frozen=True, eq=False)
class Split:
    """Sorted int64 index sets into `ImageData.images` (on the CPU)."""

    train: Tensor
    forget: Tensor
    retain: Tensor
    test: Tensor
    val: Tensor
    kind: str
    forget_classes: tuple[int, ...]
    spec: dict = field(repr=False)
    # the identity of the data it was made from (`data_identity`); None: not recorded
    data: dict | None = field(default=None, repr=False)

    def requested_forget(self) -> Tensor:
        """Every training sample outside the retain set: the whole forget request, also
        when `forget` holds only a part of it (a round of RSU)."""
        return self.train[~torch.isin(self.train, self.retain)]

    def check_data(self, data: ImageData) -> None:
        """Refuse, with one sentence, data other than the data this split was made from
        (its indices would select other samples): another dataset, another number of
        images, other labels, or index sets that do not fit."""
        if self.data is not None:
            found = data_identity(data)
            if any(found[key] != self.data[key] for key in ("dataset", "images", "labels")):
                raise ConfigError(
                    f"this split was made from {self.data['dataset']!r} "
                    f"({self.data['images']} images, labels {self.data['labels']}) but is "
                    f"used with {found['dataset']!r} ({found['images']} images, labels "
                    f"{found['labels']}); make the split from the data it is used with.")
        largest = max((int(t.max()) for t in (self.train, self.test, self.val) if len(t)),
                      default=-1)
        if largest >= len(data.labels):
            raise ConfigError(f"this split holds index {largest} but {data.name!r} has "
                              f"{len(data.labels)} images; make the split from this data.")

    def subset(self, name: str) -> Tensor:
        subsets = ("train", "forget", "retain", "test", "val")
        if name not in subsets:
            raise ConfigError(f"unknown subset {name!r}; accepted: {', '.join(subsets)}.")
        return getattr(self, name)

    def sizes(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ("train", "forget", "retain", "test", "val")}


def data_identity(data: ImageData) -> dict:
    """What a split remembers of the data it was made from: the dataset's name, its number
    of images and a digest of its labels (which a subset of its training split
    (`training_subset`) or a move to another device leaves unchanged)."""
    labels = data.labels.detach().to("cpu", torch.int64).contiguous()
    digest = hashlib.sha256(labels.numpy().tobytes()).hexdigest()[:16]
    return {"dataset": data.name, "images": len(labels), "labels": digest}


def make_split(data: ImageData, *, forget_classes=None, forget_fraction=1.0,
               random_fraction=None, forget_indices=None, val_fraction=0.0,
               train_size=None, seed: int = 0) -> Split:
    """Build the split for one forget spec; give exactly one of `forget_classes`,
    `random_fraction` or `forget_indices`.

    `val_fraction` holds out a stratified validation share of the official training split
    first (CMIRA: 10%); `train_size` then keeps a stratified subset of that many training
    samples (the small training sets of data reconstruction).
    """
    given = [name for name, value in (("forget_classes", forget_classes),
                                      ("random_fraction", random_fraction),
                                      ("forget_indices", forget_indices)) if value is not None]
    if len(given) != 1:
        raise ConfigError(
            "give exactly one forget spec: forget_classes=[...] (with forget_fraction), "
            f"random_fraction=... or forget_indices=[...]; got {given or 'none'}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {describe(seed)}.")
    val_fraction = check_fraction("val_fraction", val_fraction, allow_zero=True, allow_one=False)
    rng = np.random.default_rng(seed)
    train, val = _hold_out_validation(data, val_fraction, seed)
    if train_size is not None:
        train = _stratified_subset(data, train, check_positive_int("train_size", train_size), seed)

    if forget_classes is not None:
        classes = tuple(sorted(require_classes(data, forget_classes)))  # one request, one set
        fraction = check_fraction("forget_fraction", forget_fraction)
        forget = _classwise_forget(data, train, classes, fraction, rng)
        kind = "class" if fraction == 1.0 else "classwise"
        spec = {"forget_classes": list(classes), "forget_fraction": fraction}
    elif random_fraction is not None:
        fraction = check_fraction("random_fraction", random_fraction)
        count = int(round(fraction * len(train)))
        forget = train[torch.from_numpy(rng.permutation(len(train))[:count])]
        kind, classes = "random", ()
        spec = {"random_fraction": fraction}
    else:
        forget = _explicit_forget(train, forget_indices)
        kind, classes = "samples", ()
        spec = {"forget_indices": forget.tolist()}

    if len(forget) == 0:
        raise ConfigError(f"the forget spec {spec} selects no training sample; the forget "
                          "set must not be empty.")
    forget = forget.sort().values
    retain = train[~torch.isin(train, forget)]
    if len(retain) == 0:
        raise ConfigError(f"the forget spec {_spec_text(spec)} forgets all {len(train)} "
                          "training samples and leaves none to retain; forget fewer classes "
                          "or a smaller fraction.")
    spec.update(dataset=data.name, val_fraction=val_fraction, train_size=train_size, seed=seed)
    return Split(train, forget, retain, data.test.clone(), val, kind, classes, spec,
                 data_identity(data))


def _spec_text(spec: dict) -> str:
    """'forget_classes=[0, 1] with forget_fraction=1.0': the spec by its parameters' names."""
    if "forget_indices" in spec:
        return f"forget_indices ({len(spec['forget_indices'])} indices)"
    return " with ".join(f"{key}={value}" for key, value in spec.items())


def scored_split(data: ImageData, split: Split) -> tuple[Split, Tensor]:
    """The split whose test set the unlearning scores read and the test samples of the
    forgotten classes. In whole-class forgetting the papers score TA (and draw the MIA's
    non-members) on the test samples of the remaining classes only, since no model that
    never saw a class can classify it; other kinds keep the whole test set."""
    if split.kind != "class":
        return split, split.test[:0]
    forgotten = torch.isin(data.labels[split.test.to(data.device)].cpu(),
                           torch.tensor(split.forget_classes))
    return replace(split, test=split.test[~forgotten]), split.test[forgotten]


def same_class_test(data: ImageData, split: Split) -> Tensor:
    """The test samples of the classes the forget set holds: the non-members a membership
    signal compares the forget set with. In random forgetting that is the whole test set; in
    class-wise forgetting a comparison with the other classes would measure how the classes
    differ, not membership."""
    classes = data.labels[split.forget.to(data.device)].unique()
    return split.test[torch.isin(data.labels[split.test.to(data.device)], classes).cpu()]


def training_subset(data: ImageData, size: int | None, seed: int = 0) -> ImageData:
    """`data` with its training split cut to a stratified subset of `size` samples, the same
    for every seed (None: unchanged). A chapter whose models must memorise their training
    set trains on few samples; every split and forget set is then drawn from the subset.
    The samples cut away are kept as `data.reserve`, for a LiRA shadow pool's non-members
    (`regime.shadow_pool`)."""
    if size is None:
        return data
    kept = _stratified_subset(data, data.train, check_positive_int("train_size", size), seed)
    cut = data.train[~torch.isin(data.train, kept)]
    return replace(data, train=kept, reserve=torch.cat([data.reserve, cut]).sort().values)


def _hold_out_validation(data: ImageData, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    if fraction == 0:
        return data.train.clone(), torch.empty(0, dtype=torch.long)
    kept, held = stratified_holdout(data.labels[data.train.to(data.device)], fraction, seed)
    return data.train[kept], data.train[held]


def _stratified_subset(data: ImageData, train: Tensor, size: int, seed: int) -> Tensor:
    if size > len(train):
        raise ConfigError(f"train_size must be at most the {len(train)} training samples of "
                          f"{data.name!r}, got {size}.")
    labels = data.labels[train.to(data.device)]
    kept, _ = stratified_holdout(labels, 1 - size / len(train), seed)
    return train[kept]


def _classwise_forget(data: ImageData, train: Tensor, classes, fraction: float,
                      rng: np.random.Generator) -> Tensor:
    labels = data.labels[train.to(data.device)].cpu()
    chosen = []
    for c in classes:  # a handful of classes, not samples
        members = train[labels == c]
        count = int(round(fraction * len(members)))
        chosen.append(members[torch.from_numpy(rng.permutation(len(members))[:count])])
    return torch.cat(chosen) if chosen else torch.empty(0, dtype=torch.long)


def _explicit_forget(train: Tensor, forget_indices) -> Tensor:
    values = list(forget_indices) if hasattr(forget_indices, "__iter__") else [forget_indices]
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in values):
        raise ConfigError(f"forget_indices must be a list of integer dataset indices, got "
                          f"{forget_indices!r}.")
    forget = torch.tensor(values, dtype=torch.long)
    if len(forget.unique()) != len(forget):
        raise ConfigError("forget_indices holds an index twice.")
    outside = forget[~torch.isin(forget, train)]
    if len(outside):
        raise ConfigError(f"forget_indices must be indices of training samples; "
                          f"{outside[:5].tolist()} are not in the training split.")
    return forget
