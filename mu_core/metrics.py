"""Metrics: accuracies, confusion matrices, the unlearning scores (UA, MIA-efficacy via
`attacks.mia`, RA, TA), comparisons with retraining (ToW, average disparity), CMIRA's
recovery metrics, relearn time, SSIM."""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .attacks.mia import mia_efficacy_from_predictions
from .errors import check_choice


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


def accuracy_by_class(predicted: Tensor, labels: Tensor, num_classes: int) -> dict[int, float]:
    """{class: accuracy within it} for each class present in `labels`, in class order."""
    per_class = per_class_accuracy(predicted, labels, num_classes)
    return {c: per_class[c].item() for c in torch.unique(labels.cpu()).tolist()}


def mia_efficacy(model, data, split, *, feature: str = "confidence", seed: int = 0) -> float:
    """MIA-efficacy of `model` on `split`'s forget set; higher means more forgotten."""
    return unlearning_scores(model, data, split, feature=feature, seed=seed)["MIA"]


# ---------------------------------------------------------------------------------------
# Comparisons with retraining

def tug_of_war(unlearned: dict[str, float], retrained: dict[str, float],
               subsets=("forget", "retain", "test")) -> float:
    """RSU's ToW: prod over subsets of (1 - |acc_unlearned - acc_retrained|), in [0, 1]."""
    return float(np.prod([1 - abs(unlearned[s] - retrained[s]) for s in subsets]))


def average_disparity(scores: dict[str, float], retrain_scores: dict[str, float],
                      keys=("UA", "MIA", "RA", "TA")) -> float:
    """Mean absolute gap to retraining over the given scores (adversarial unlearning)."""
    return float(np.mean([abs(scores[k] - retrain_scores[k]) for k in keys]))


def subset_predictions(model, data, split) -> tuple[tuple[Tensor, Tensor], ...]:
    """(probabilities, labels) of the forget, retain and test sets, from one prediction pass."""
    subsets = [split.forget, split.retain, split.test]
    sizes = [len(s) for s in subsets]
    probs, labels = predictions_on(model, data, torch.cat(subsets))
    return tuple(zip(probs.split(sizes), labels.split(sizes)))


def predictions_on(model, data, indices: Tensor) -> tuple[Tensor, Tensor]:
    """(probabilities, labels) of the samples `indices`, as `subset_predictions` gives them."""
    from .train import predict

    return predict(model, data, indices), data.labels[indices.to(data.device)].cpu()


def accuracy_on(model, data, indices: Tensor) -> float:
    """`model`'s accuracy on the samples `indices` of `data`; NaN where there are none."""
    if len(indices) == 0:
        return float("nan")
    from .train import predict

    return accuracy(predict(model, data, indices).argmax(1), data.targets(indices).cpu())


def unlearning_scores(model, data, split, *, feature: str = "confidence",
                      seed: int = 0) -> dict[str, float]:
    """UA = 1 - forget accuracy, MIA-efficacy, RA and TA (fractions, not percentages)."""
    return scores_from_predictions(*subset_predictions(model, data, split), feature=feature,
                                   seed=seed)


def scores_from_predictions(forget, retain, test, *, feature: str = "confidence",
                            seed: int = 0) -> dict[str, float]:
    """`unlearning_scores` from the (probabilities, labels) of forget, retain and test; all
    NaN, with a warning, when the probabilities are not finite (a diverged unlearning run:
    its argmax and its attack features mean nothing, and the other runs' scores must not be
    lost to the SVC's error)."""
    if not all(torch.isfinite(probs).all() for probs, _ in (forget, retain, test)):
        warnings.warn("a model's probabilities are not finite (its unlearning diverged): its "
                      "UA, MIA-efficacy, RA and TA are NaN.", RuntimeWarning, stacklevel=2)
        return dict.fromkeys(("UA", "MIA", "RA", "TA"), float("nan"))
    return {"UA": 1 - accuracy(forget[0].argmax(1), forget[1]),
            "MIA": mia_efficacy_from_predictions(retain, test, forget, feature=feature, seed=seed),
            "RA": accuracy(retain[0].argmax(1), retain[1]),
            "TA": accuracy(test[0].argmax(1), test[1])}


# ---------------------------------------------------------------------------------------
# CMIRA's recovery metrics

def recovery_improvement(acc_attack: float, acc_unlearned: float) -> float:
    """R_I = Acc_A - Acc_U (CMIRA Eq. 12)."""
    return acc_attack - acc_unlearned


def recovery_rate(acc_attack: float, acc_unlearned: float) -> float:
    """R_R = (Acc_A - Acc_U) / Acc_U (CMIRA Eq. 13); infinite when Acc_U is 0."""
    gain = recovery_improvement(acc_attack, acc_unlearned)
    return gain / acc_unlearned if acc_unlearned else (float("inf") if gain > 0 else 0.0)


def polygon_area(radii) -> float:
    """Area of the radar-chart polygon whose vertices lie at equal angles with these radii:
    (1/2) sin(2 pi / n) sum_i r_i r_{i+1}."""
    r = np.asarray(radii, dtype=float)
    if len(r) < 3:
        raise ValueError("a membership recovery polygon needs at least 3 classes.")
    return 0.5 * np.sin(2 * np.pi / len(r)) * float(np.sum(r * np.roll(r, -1)))


def area_recovery_rate(per_class_attack, per_class_unlearned) -> float:
    """A_R = (area_A - area_U) / area_U over the forget classes' accuracies (CMIRA Eq. 14)."""
    area_u = polygon_area(per_class_unlearned)
    gain = polygon_area(per_class_attack) - area_u
    return gain / area_u if area_u else (float("inf") if gain > 0 else 0.0)


# ---------------------------------------------------------------------------------------
# Relearn time and image similarity

def relearn_time(model, data, split, reference_loss: float, *, lr: float = 0.01,
                 batch_size: int = 128, max_epochs: int = 20, seed: int = 0) -> int | None:
    """Epochs of fine-tuning on the forget set (SGD with momentum, one optimiser throughout)
    until its mean loss falls to `reference_loss` (the trained model's); None if
    `max_epochs` do not suffice. The model is not modified."""
    import copy

    from .train import Recipe, fit, make_optimizer, predict, prepare_model

    model = prepare_model(copy.deepcopy(model), data.device)
    recipe = Recipe(epochs=1, lr=lr, batch_size=batch_size, schedule="constant", weight_decay=0)
    optimizer = make_optimizer(model, recipe)
    labels = data.labels[split.forget.to(data.device)].cpu()
    for epoch in range(max_epochs + 1):
        logits = predict(model, data, split.forget, output="logits")
        if torch.nn.functional.cross_entropy(logits, labels).item() <= reference_loss:
            return epoch
        if epoch < max_epochs:
            fit(model, data, split.forget, recipe, seed=seed + epoch, optimizer=optimizer,
                desc="relearn")
    return None


SSIM_WINDOW, SSIM_SIGMA = 11, 1.5  # Wang et al. (2004): an 11-tap Gaussian, sigma 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03


def ssim_window(size: int) -> tuple[int, float]:
    """The Gaussian window (taps, sigma) for images whose shorter side is `size` pixels:
    Wang et al.'s 11 taps and sigma 1.5, or on images under 11 pixels the largest odd
    window that fits, with sigma scaled alike (so that 3.5 sigma still spans it)."""
    if size < 1:
        raise ValueError(f"SSIM needs images of at least 1 pixel a side, got {size}.")
    taps = min(SSIM_WINDOW, size if size % 2 else size - 1)
    return taps, SSIM_SIGMA * taps / SSIM_WINDOW


def _gaussian_kernel(taps: int, sigma: float, channels: int, like: Tensor) -> Tensor:
    """A normalised 2-D Gaussian, one copy per channel, for a grouped convolution."""
    x = torch.arange(taps, dtype=like.dtype, device=like.device) - (taps - 1) / 2
    line = torch.exp(-x ** 2 / (2 * sigma ** 2))
    line = line / line.sum()
    return torch.outer(line, line).expand(channels, 1, taps, taps)


def ssim(images: Tensor, references: Tensor) -> Tensor:
    """SSIM of each image with its reference (N, C, H, W in [0, 1]), as Wang et al. (2004)
    and scikit-image define it: Gaussian-weighted local statistics (no sample covariance)
    over every window that lies inside the image, averaged over those windows and the
    channels. The window is `ssim_window`'s."""
    if images.shape != references.shape or images.dim() != 4:
        raise ValueError(f"ssim takes two (N, C, H, W) batches of the same shape, got "
                         f"{tuple(images.shape)} and {tuple(references.shape)}.")
    x, y = images.float(), references.float()
    kernel = _ssim_kernel(x)
    return _ssim_of(_local_moments(x, kernel), _local_moments(y, kernel),
                    F.conv2d(x * y, kernel, groups=x.shape[1]))


def _ssim_kernel(images: Tensor) -> Tensor:
    return _gaussian_kernel(*ssim_window(min(images.shape[-2:])), images.shape[1], images)


def _local_moments(images: Tensor, kernel: Tensor) -> tuple[Tensor, Tensor]:
    """Each image's Gaussian-weighted local mean and mean square (per window, channel)."""
    stats = F.conv2d(torch.cat([images, images * images]), kernel, groups=images.shape[1])
    return stats.split(len(images))


def _ssim_of(x: tuple[Tensor, Tensor], y: tuple[Tensor, Tensor], xy: Tensor) -> Tensor:
    """SSIM from the local moments of the images `x` and references `y` and the local mean
    of their product `xy`."""
    (mu_x, xx), (mu_y, yy) = x, y
    var_x, var_y, cov = xx - mu_x ** 2, yy - mu_y ** 2, xy - mu_x * mu_y
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2  # data range 1
    local = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)
             / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2)))
    return local.flatten(1).mean(1)


NEAREST_SEARCHES = ("ncc", "ssim")


def ncc_distances(queries: Tensor, candidates: Tensor) -> Tensor:
    """Haim et al.'s (2022) search distance, `evaluations.py`: both sets at half resolution
    (bicubic), each image standardised per channel (mean 0, standard deviation 1), then the
    squared L2 distance over the pixels' count: (queries, candidates)."""
    def standardised(images: Tensor) -> Tensor:
        half = F.interpolate(images.float(), scale_factor=0.5, mode="bicubic")
        flat = half.flatten(2)
        flat = (flat - flat.mean(2, keepdim=True)) / flat.std(2, keepdim=True).clamp_min(1e-8)
        return flat.flatten(1)

    q, c = standardised(queries), standardised(candidates)
    squared = q.pow(2).sum(1)[:, None] + c.pow(2).sum(1)[None, :] - 2 * q @ c.T
    return squared / q.shape[1]


def nearest_ssim(queries: Tensor, candidates: Tensor, chunk: int = 4096, *,
                 search: str = "ssim") -> tuple[Tensor, Tensor]:
    """For each query image, a candidate's SSIM and that candidate's index (on the queries'
    device: reconstructions come back on the CPU, samples may be on CUDA): with
    `search="ssim"` the candidate of the largest SSIM; with "ncc" the nearest candidate by
    `ncc_distances` (Haim et al.'s evaluation, which the UnlearnGuard paper follows), and
    its SSIM."""
    check_choice("nearest-neighbour search", search, NEAREST_SEARCHES)
    candidates = candidates.to(queries.device)
    if search == "ncc":
        index = ncc_distances(queries, candidates).argmin(1)
        return ssim(queries.float(), candidates[index].float()), index
    # every pair's SSIM, each image's local moments computed once: a pair adds one
    # convolution (of the product), where `ssim` of the pair would take five
    queries, candidates = queries.float(), candidates.float()
    kernel = _ssim_kernel(queries)
    mu_q, qq = _local_moments(queries, kernel)
    mu_c, cc = _local_moments(candidates, kernel)
    pairs_q = torch.arange(len(queries), device=queries.device).repeat_interleave(len(candidates))
    pairs_c = torch.arange(len(candidates), device=queries.device).repeat(len(queries))
    scores = torch.cat([
        _ssim_of((mu_q[q], qq[q]), (mu_c[c], cc[c]),
                 F.conv2d(queries[q] * candidates[c], kernel, groups=queries.shape[1]))
        for q, c in zip(pairs_q.split(chunk), pairs_c.split(chunk))])
    best, index = scores.view(len(queries), len(candidates)).max(1)
    return best, index
