"""Song & Mittal's metric features, the SVC attack fitted on them, Unlearn-Sparse's
MIA-efficacy and UnlearnGuard's INA: attacks that read a model only through its softmax
outputs on labelled samples."""

from __future__ import annotations


import numpy as np
import torch
from torch import Tensor, nn


MIA_FEATURES = ("correctness", "confidence", "entropy", "modified_entropy")
_TINY = 1e-30


def mia_features(probs: Tensor, labels: Tensor) -> dict[str, Tensor]:
    """Per-sample features of a prediction: correctness, confidence p_y, entropy and
    modified entropy  -(1 - p_y) log p_y - sum_{i != y} p_i log(1 - p_i).

    The modified entropy uses each row's own label (the public reference indexes every row
    with all labels of the batch and takes log p where log(1 - p) is due).
    """
    probs = probs.double()
    rows = torch.arange(len(labels))
    p_true = probs[rows, labels]
    log = lambda t: t.clamp_min(_TINY).log()  # noqa: E731
    others = probs * log(1 - probs)
    others[rows, labels] = 0
    return {
        "correctness": (probs.argmax(1) == labels).double(),
        "confidence": p_true,
        "entropy": -(probs * log(probs)).sum(1),
        "modified_entropy": -(1 - p_true) * log(p_true) - others.sum(1),
    }


def membership_predictions(member_probs: Tensor, member_labels: Tensor,
                           nonmember_probs: Tensor, nonmember_labels: Tensor,
                           target_probs: Tensor, target_labels: Tensor, *,
                           feature: str = "confidence") -> Tensor:
    """1 where an RBF SVC (C=3, gamma='auto'), fitted on a feature of known members (1) and
    non-members (0), predicts that a target sample is a member."""
    from sklearn.svm import SVC

    if feature not in MIA_FEATURES:
        raise ValueError(f"unknown MIA feature {feature!r}; accepted: {', '.join(MIA_FEATURES)}.")
    column = lambda p, y: mia_features(p, y)[feature].view(-1, 1).numpy()  # noqa: E731
    x = np.concatenate([column(member_probs, member_labels),
                        column(nonmember_probs, nonmember_labels)])
    y = np.concatenate([np.ones(len(member_labels)), np.zeros(len(nonmember_labels))])
    classifier = SVC(C=3, gamma="auto", kernel="rbf").fit(x, y)
    return torch.from_numpy(classifier.predict(column(target_probs, target_labels)))


def _random_part(values: Tensor, labels: Tensor, count: int,
                 generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """A random `count` of (values, labels), drawn with `generator`: not the first, as index
    order may follow the classes."""
    chosen = torch.randperm(len(labels), generator=generator)[:count].to(labels.device)
    return values[chosen], labels[chosen]


def mia_efficacy_from_predictions(retain: tuple[Tensor, Tensor], test: tuple[Tensor, Tensor],
                                  forget: tuple[Tensor, Tensor], *, feature: str = "confidence",
                                  seed: int = 0) -> float:
    """MIA-efficacy from (probabilities, labels) of the retain, test and forget sets: the
    share of the forget set that an SVC fitted on equally many retain (members) and test
    (non-members) samples predicts as non-members (Unlearn-Sparse's definition)."""
    generator = torch.Generator().manual_seed(seed)
    count = min(len(retain[1]), len(test[1]))  # balanced shadow sets
    predicted = membership_predictions(*_random_part(*retain, count, generator),
                                       *_random_part(*test, count, generator), *forget,
                                       feature=feature)
    return 1.0 - predicted.double().mean().item()


def membership_ina(model: nn.Module, members: tuple[Tensor, Tensor],
                   nonmembers: tuple[Tensor, Tensor], targets: tuple[Tensor, Tensor], *,
                   seed: int = 0) -> float:
    """UnlearnGuard's INA = TP / (TP + FN): the share of `targets` (images, labels) that an
    SVC on the confidence, fitted on known members and as many known non-members of
    `model` (the larger side subsampled at random, seeded), calls members."""
    def probs(images):
        with torch.no_grad():
            return model(images).softmax(1).cpu()

    count = min(len(members[1]), len(nonmembers[1]))
    generator = torch.Generator().manual_seed(seed)
    members = _random_part(*members, count, generator)
    nonmembers = _random_part(*nonmembers, count, generator)
    predicted = membership_predictions(probs(members[0]), members[1].cpu(),
                                       probs(nonmembers[0]), nonmembers[1].cpu(),
                                       probs(targets[0]), targets[1].cpu())
    return predicted.double().mean().item()
