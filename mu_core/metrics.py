"""Metrics on predictions: accuracies on subsets and per class, confusion matrices."""

from __future__ import annotations

import torch
from torch import Tensor


def accuracy(predicted: Tensor, labels: Tensor) -> float:
    """Share of `predicted` class ids equal to `labels` (NaN when empty)."""
    if len(labels) == 0:
        return float("nan")
    return (predicted.cpu() == labels.cpu()).float().mean().item()


def confusion_matrix(predicted: Tensor, labels: Tensor, num_classes: int,
                     normalize: bool = False) -> Tensor:
    """Counts[true, predicted]; with `normalize`, each row sums to 1 (empty rows stay 0)."""
    flat = labels.cpu().long() * num_classes + predicted.cpu().long()
    counts = torch.bincount(flat, minlength=num_classes ** 2).view(num_classes, num_classes)
    if not normalize:
        return counts
    return counts.float() / counts.sum(1, keepdim=True).clamp_min(1)


def per_class_accuracy(predicted: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Accuracy within each true class (NaN for a class with no sample)."""
    counts = confusion_matrix(predicted, labels, num_classes)
    totals = counts.sum(1).float()
    return torch.where(totals > 0, counts.diagonal().float() / totals.clamp_min(1),
                       torch.tensor(float("nan")))
