"""Carlini et al.'s likelihood-ratio attack (LiRA) with RSU's per-example privacy score
(the attack success rate of its Eq. 1), and the ROC summary every attack reports."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from mu_core.errors import ConfigError, check_choice, check_fraction, describe

# ----------------------------------------------------------------------------------------
# LiRA: Carlini et al. 2022, "Membership inference attacks from first principles"
# ----------------------------------------------------------------------------------------
#
# Shadow models are trained on random halves of a data pool (`shadow_keep_masks`); for every
# sample, the statistic of the models that trained on it ("in") and of those that did not
# ("out") is fitted by a Gaussian, and a target model's statistic is scored by how much
# more likely it is under the "in" Gaussian (online) or how far above the "out" Gaussian it
# lies (offline). RSU uses the logit gap as the statistic and turns the attack into a
# per-example privacy score, the attack success rate ASR(x) of its Eq. 1 (`privacy_scores`).
#
# Where the public reference (tensorflow/privacy, research/mi_lira_2021, score.py and
# plot.py) and Algorithm 1 of the paper differ, this follows Algorithm 1:
# * per-sample centres are means, not medians;
# * the offline test is one-sided, log Pr[Z < observed] with Z ~ N(mu_out, s_out^2), not the
#   log density of the out Gaussian;
# * fix_variance pools each group's residuals about each sample's own mean (the reference
#   takes the std of all raw "in" values about their global mean, and uses it for the out
#   Gaussian too in the online attack);
# * all shadow models are used (the reference truncates every sample's in/out lists to the
#   shortest over the samples, so that they fit one array), except in the leave-one-out
#   privacy score: there leaving out the target model would make its own group one model
#   smaller than the other, exactly when that group is the right guess, and the better
#   estimated larger group wins the likelihood ratio. With no membership signal at all
#   (i.i.d. statistics, 8 shadow models, each sample in 4) the online leave-one-out AUC was
#   0.43 (ddof-0 per-sample variance) and 0.48 (pooled), and with 4 shadow models 0.00,
#   where the one-model group gets a zero variance. So each fit also leaves out one model
#   of the group the target is not in, which gives both groups n - 1 models whatever the
#   target's membership, and chance AUC; the reference's truncation does the same when a
#   shadow model is the target and every sample is in exactly half of the models;
# * each Gaussian's variance is the posterior predictive one of the unbiased estimate,
#   M2 / (n - 1) * (1 + 1/n) for n statistics with squared deviations M2 (pooled:
#   sum M2 / sum (n - 1), times each sample's 1 + 1/n), the expected squared distance of a
#   new statistic from the estimated mean, where the reference takes np.std (ddof 0) as it
#   is, which understates it most for small groups (a one-model group gets variance 0). It
#   does not remove the leave-one-out bias above by itself (AUC 0.45 per-sample, 0.46
#   pooled in that example); for many shadow models the two agree;
# * the variance, not the std, gets a floor, and every score is higher for "member".

LIRA_STATISTICS = ("logit_gap", "scaled_confidence")
_VARIANCE_FLOOR = 1e-12  # added to every fitted variance, so equal statistics stay finite
_LOW_FPRS = {"tpr_at_0.1%_fpr": 0.001, "tpr_at_1%_fpr": 0.01}
_VARIANCE_MODES = {False: " with per-sample variances", True: " with fix_variance=True"}


def _describe_tensor(tensor: Tensor) -> str:
    return f"{str(tensor.dtype).removeprefix('torch.')} tensor of shape {tuple(tensor.shape)}"


def lira_statistic(logits: Tensor, labels: Tensor | None = None, *,
                   kind: str = "logit_gap") -> Tensor:
    """Per-sample LiRA statistic (float64) of logits of shape (..., samples, classes).

    "logit_gap" (RSU's): the highest minus the second-highest logit; needs no labels.
    "scaled_confidence" (Carlini et al.'s): log(p_y / (1 - p_y)) of the softmax, computed as
    z_y - logsumexp_{j != y} z_j, which is exact and finite even where p_y rounds to 1
    (the reference adds 1e-45 to both probabilities instead). `labels` has shape
    (samples,) or logits.shape[:-1]. Both statistics are larger for confident predictions,
    so members tend to score higher, and both are roughly Gaussian across shadow models.
    """
    check_choice("LiRA statistic", kind, LIRA_STATISTICS)
    logits = torch.as_tensor(logits)
    if logits.dim() < 2 or logits.shape[-1] < 2 or not logits.is_floating_point():
        raise ConfigError("logits must be a floating tensor of shape (..., samples, classes) "
                          f"with at least 2 classes, got {_describe_tensor(logits)}.")
    logits = logits.double()
    if kind == "logit_gap":
        top_two = logits.topk(2, dim=-1).values
        return top_two[..., 0] - top_two[..., 1]
    index = _check_labels(labels, logits).expand(logits.shape[:-1]).unsqueeze(-1)
    others = logits.scatter(-1, index, float("-inf")).logsumexp(-1)
    return logits.gather(-1, index).squeeze(-1) - others


def _check_labels(labels, logits: Tensor) -> Tensor:
    """`labels` as an int64 tensor that broadcasts to logits.shape[:-1], with valid classes."""
    if labels is None:
        raise ConfigError("the 'scaled_confidence' LiRA statistic needs the labels; pass an "
                          "integer tensor of shape (samples,) or logits.shape[:-1].")
    labels = torch.as_tensor(labels, device=logits.device)
    batch = logits.shape[:-1]
    if labels.is_floating_point() or labels.dtype == torch.bool or labels.is_complex():
        raise ConfigError(f"labels must be an integer tensor, got {_describe_tensor(labels)}.")
    try:
        fits = torch.broadcast_shapes(labels.shape, batch) == batch
    except RuntimeError:
        fits = False
    if not fits:
        raise ConfigError(f"labels must have shape (samples,) or {tuple(batch)} to match the "
                          f"logits, got {_describe_tensor(labels)}.")
    if labels.numel() and (labels.min() < 0 or labels.max() >= logits.shape[-1]):
        raise ConfigError(f"labels must be class indices in [0, {logits.shape[-1] - 1}], got "
                          f"values from {labels.min().item()} to {labels.max().item()}.")
    return labels.long()


def _check_shadows(shadow_stats, shadow_in) -> tuple[Tensor, Tensor]:
    """The shadow statistics as float64 and the keep mask, after checking they agree."""
    stats, keep = torch.as_tensor(shadow_stats), torch.as_tensor(shadow_in)
    if stats.dim() != 2 or not stats.is_floating_point():
        raise ConfigError("shadow_stats must be a floating tensor of shape (models, samples), "
                          f"got {_describe_tensor(stats)}.")
    if keep.dtype != torch.bool:
        raise ConfigError("shadow_in must be a bool tensor, True where the shadow model trained "
                          f"on the sample, got {_describe_tensor(keep)}.")
    if keep.shape != stats.shape:
        raise ConfigError(f"shadow_in must have shadow_stats' shape {tuple(stats.shape)} "
                          f"(models, samples), got {tuple(keep.shape)}.")
    bad = int((~torch.isfinite(stats)).sum())
    if bad:
        raise ConfigError(f"shadow_stats must be finite, got {bad} NaN or infinite values.")
    return stats.double(), keep.to(stats.device)


def _check_coverage(keep: Tensor, *, online: bool, fix_variance: bool, leave_one_out: bool,
                    caller: str) -> None:
    """Raise ConfigError unless every Gaussian has the statistics its variance needs.

    A per-sample unbiased variance needs every sample in (online) and out of at least 2
    shadow models; with `fix_variance` 1 each is enough, but some sample must have 2 in each
    group to pool a spread from. `leave_one_out` (privacy_scores) fits every group on one
    model fewer, so it asks for one more: 3 per sample (2 with `fix_variance`, and a sample
    with 3 in each group).
    """
    minimum = (1 if fix_variance else 2) + leave_one_out
    need = f"out of at least {minimum}" + (f" and in at least {minimum}" if online else "")
    amount = "no" if minimum == 1 else f"fewer than {minimum}"
    example = (f"which {2 * minimum} or more models with each sample in about half of them "
               "give (see shadow_keep_masks)")
    groups = (("out of", ~keep),) + ((("in", keep),) if online else ())
    for name, mask in groups:
        count = mask.sum(0)
        lacking = int((count < minimum).sum())
        if lacking:
            raise ConfigError(
                f"{lacking} of {keep.shape[1]} samples are {name} {amount} shadow models; "
                f"{caller} needs every sample {need} shadow models, {example}.")
        poolable = 2 + leave_one_out
        if fix_variance and not bool((count >= poolable).any()):
            raise ConfigError(
                f"no sample is {name} {poolable} or more shadow models, so {caller} has no "
                f"spread to pool a variance from; it needs at least one sample {name} >= "
                f"{poolable} shadow models, {example}.")


def _moments(stats: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per-sample count, mean and sum of squared deviations of the masked statistics."""
    weight = mask.double()
    count = weight.sum(0)
    mean = (weight * stats).sum(0) / count.clamp_min(1)
    return count, mean, (weight * (stats - mean) ** 2).sum(0)


def _leave_one_out(stats: Tensor, mask: Tensor,
                   moments: tuple[Tensor, Tensor, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
    """The moments of `_moments` with each model m left out in turn, shape (models, samples),
    balanced: where m is not in the group, the group's last model (highest index) is left out
    instead, so every group keeps n - 1 values whether or not m trained on the sample.

    Without that, the group m belongs to would be one model smaller than the other exactly
    when m is in it, and the better-estimated larger group wins the likelihood ratio even
    with no membership signal at all. (With a shadow model as the target and every sample
    in half of the models, the reference gets the same balance by truncating the in and the
    out lists to the shortest over the samples, keeping the first models.)

    Removing x from n values of mean mu gives mean mu + (mu - x) / (n - 1) and squared
    deviations M2 - n / (n - 1) (x - mu)^2 (the reverse of Welford's update), so no refit.
    M2 is set to exactly 0 where one value is left, where rounding would otherwise leave a
    residue that the 1e-12 variance floor magnifies.
    """
    count, mean, m2 = moments
    order = torch.arange(len(mask), device=mask.device).unsqueeze(1)
    last = (order * mask).argmax(0, keepdim=True)  # the group's highest model index
    removed = torch.where(mask, stats, stats.gather(0, last))
    rest = (count - 1).expand_as(stats)
    share = 1 / rest.clamp_min(1)
    deviation = removed - mean
    m2_rest = (m2 - share * count * deviation ** 2).clamp_min(0)
    return rest, mean - share * deviation, torch.where(rest > 1, m2_rest, 0.0)


def _variance(count: Tensor, m2: Tensor, fix_variance: bool) -> Tensor:
    """The posterior predictive variance of a Gaussian fitted with the unbiased variance:
    M2 / (n - 1) * (1 + 1/n) per sample, or with `fix_variance` sum M2 / sum (n - 1) pooled
    over the samples (the last axis; samples with n = 1 add 0 to both sums) times each
    sample's 1 + 1/n, plus the floor. The callers' coverage checks rule out n < 2 per
    sample (n < 1 and no n >= 2 with `fix_variance`); the clamps only keep masked-out
    entries finite."""
    inflation = 1 + 1 / count.clamp_min(1)
    if fix_variance:
        dof = (count - 1).clamp_min(0).sum(-1, keepdim=True)
        pooled = m2.sum(-1, keepdim=True) / dof.clamp_min(1)
        return pooled * inflation + _VARIANCE_FLOOR
    return m2 / (count - 1).clamp_min(1) * inflation + _VARIANCE_FLOOR


def _log_normal(x: Tensor, mean: Tensor, variance: Tensor) -> Tensor:
    return -0.5 * (torch.log(2 * math.pi * variance) + (x - mean) ** 2 / variance)


def _score(target: Tensor, fit_in, fit_out, online: bool) -> Tensor:
    """Online: log N(t; in) - log N(t; out). Offline: log Phi((t - mu_out) / s_out)."""
    mean_out, variance_out = fit_out
    if online:
        return _log_normal(target, *fit_in) - _log_normal(target, mean_out, variance_out)
    return torch.special.log_ndtr((target - mean_out) / variance_out.sqrt())


def lira_scores(shadow_stats: Tensor, shadow_in: Tensor, target_stats: Tensor, *,
                online: bool = True, fix_variance: bool = False) -> Tensor:
    """LiRA membership scores (float64, shaped as `target_stats`), higher meaning "member".

    shadow_stats (models, samples) holds each shadow model's statistic (`lira_statistic`)
    on each sample, shadow_in (models, samples, bool) whether that model trained on it, and
    target_stats (samples,) or (targets, samples) the statistics of the attacked models.
    Per sample, the in and out statistics get a Gaussian each: the mean over those n models
    and the posterior predictive variance of the unbiased estimate, M2 / (n - 1) * (1 + 1/n)
    with M2 the squared deviations about the mean (np.var(ddof=1) * (1 + 1/n); see the
    banner above for why not np.std), plus a floor of 1e-12 so that equal statistics give
    finite scores. With `fix_variance` every sample shares one unbiased variance per group,
    sum M2 / sum (n - 1) over the samples, times its own 1 + 1/n (more stable with few
    shadow models). Every sample must be in (online) and out of at least 2 shadow models,
    or, with `fix_variance`, 1, with at least one sample in and one out of 2. Online:
    log N(t; mu_in, s_in^2) - log N(t; mu_out, s_out^2), the log likelihood ratio. Offline
    (no in models needed): log Pr[Z < t], Z ~ N(mu_out, s_out^2), the one-sided test of
    Carlini et al.'s Algorithm 1 (the reference scores the out density instead).
    """
    stats, keep = _check_shadows(shadow_stats, shadow_in)
    target = torch.as_tensor(target_stats)
    if target.dim() not in (1, 2) or target.shape[-1] != stats.shape[1] \
            or not target.is_floating_point():
        raise ConfigError("target_stats must be a floating tensor of shape (samples,) or "
                          f"(targets, samples) with {stats.shape[1]} samples, got "
                          f"{_describe_tensor(target)}.")
    mode = "online" if online else "offline"
    _check_coverage(keep, online=online, fix_variance=fix_variance, leave_one_out=False,
                    caller=f"{mode} LiRA{_VARIANCE_MODES[fix_variance]}")
    fits = []
    for mask in ((keep, ~keep) if online else (~keep,)):
        count, mean, m2 = _moments(stats, mask)
        fits.append((mean, _variance(count, m2, fix_variance)))
    fit_in, fit_out = fits if online else (None, fits[0])
    return _score(target.to(stats.device, torch.float64), fit_in, fit_out, online)


def leave_one_out_scores(shadow_stats: Tensor, shadow_in: Tensor, *, online: bool = True,
                         fix_variance: bool = False) -> Tensor:
    """(models, samples) scores of each model's own statistics by the Gaussians fitted on
    the other models, less one more of the group the model is not in (`_leave_one_out`),
    as lira_scores would give for each model and sample in turn: the attack evaluated on
    the shadow models themselves (see `privacy_scores` for the coverage it needs)."""
    stats, keep = _check_shadows(shadow_stats, shadow_in)
    _check_coverage(keep, online=online, fix_variance=fix_variance, leave_one_out=True,
                    caller=f"leave-one-out LiRA{_VARIANCE_MODES[fix_variance]}")
    fits = []
    for mask in ((keep, ~keep) if online else (~keep,)):
        count, mean, m2 = _leave_one_out(stats, mask, _moments(stats, mask))
        fits.append((mean, _variance(count, m2, fix_variance)))
    fit_in, fit_out = fits if online else (None, fits[0])
    return _score(stats, fit_in, fit_out, online)


def privacy_scores(shadow_stats: Tensor, shadow_in: Tensor, *, online: bool = True,
                   fix_variance: bool = False) -> Tensor:
    """RSU's per-example privacy score ASR(x) of its Eq. 1 (float64, (samples,)): the share
    of shadow models m on which LiRA, fitted on the other models, guesses right whether m
    trained on x.

    Each model in turn is the target (leave one model out; the other models' Gaussians come
    from running sums, without a refit). To keep the in and out groups equally large
    whether or not the target trained on x, one more model, the last of the group the
    target is not in, is left out of x's fit too; otherwise the target's own group is the
    smaller, worse-estimated one exactly when it is the right guess, which biases the
    score against members (see the banner above). LiRA guesses "member" where the online
    log likelihood ratio is > 0 (the likelihood-ratio test at equal priors) or the offline
    Pr[Z < t] is > 1/2 (score > log 0.5). The Gaussians are lira_scores' on one model
    fewer per group, so every sample must be in (online) and out of at least 3 shadow
    models; with `fix_variance`, 2, and some sample in and some out of 3 to pool a spread
    from.
    """
    scores = leave_one_out_scores(shadow_stats, shadow_in, online=online,
                                  fix_variance=fix_variance)
    guesses = scores > (0.0 if online else math.log(0.5))
    return (guesses == torch.as_tensor(shadow_in).to(scores.device)).double().mean(0)


def _flat_numpy(values) -> np.ndarray:
    """`values` (a tensor, array or sequence) as a flat numpy array."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values).reshape(-1)


def roc_summary(scores, is_member) -> dict[str, float]:
    """AUC and the TPR at 0.1% and 1% FPR of membership scores (higher meaning "member"),
    the low-FPR figures Carlini et al. report: the largest TPR among the ROC points whose
    FPR is <= the target (the reference takes FPR < target). Tensors or arrays of any
    matching size; both are flattened."""
    from sklearn.metrics import roc_auc_score, roc_curve

    score = _flat_numpy(scores).astype(np.float64)
    member = _flat_numpy(is_member)
    if score.size != member.size:
        raise ConfigError(f"scores and is_member must have as many elements, got {score.size} "
                          f"and {member.size}.")
    if not np.isin(member, (0, 1)).all():
        raise ConfigError("is_member must hold booleans or 0/1, got other values.")
    member = member.astype(bool)
    if member.all() or not member.any():
        raise ConfigError("is_member must contain both members and non-members, got "
                          f"{int(member.sum())} members among {member.size} samples.")
    if not np.isfinite(score).all():
        raise ConfigError("scores must be finite, got NaN or infinite values.")
    fpr, tpr, _ = roc_curve(member, score, drop_intermediate=False)
    summary = {"auc": float(roc_auc_score(member, score))}
    for key, target in _LOW_FPRS.items():
        summary[key] = float(tpr[fpr <= target].max())  # fpr[0] == 0, so never empty
    return summary


def shadow_keep_masks(num_models: int, num_samples: int, *, seed: int,
                      fraction: float = 0.5) -> Tensor:
    """Bool (models, samples) training masks for shadow models, Carlini et al.'s scheme:
    every sample is in exactly k = round(fraction * num_models) models (Python's round),
    the k with the smallest of uniform keys drawn from a generator seeded with `seed`, so
    the in/out split is balanced per sample rather than only on average."""
    if isinstance(num_models, bool) or not isinstance(num_models, int) or num_models < 2:
        raise ConfigError(f"num_models must be an integer >= 2, got {describe(num_models)}.")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ConfigError(f"num_samples must be a positive integer, got {describe(num_samples)}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an integer, got {describe(seed)}.")
    fraction = check_fraction("fraction", fraction, allow_one=False)
    k = round(fraction * num_models)
    if not 0 < k < num_models:
        raise ConfigError(f"fraction {fraction} of {num_models} models puts every sample in "
                          f"{k} models; choose it so that 0 < round(fraction * num_models) "
                          f"< {num_models}.")
    keys = torch.rand((num_models, num_samples), generator=torch.Generator().manual_seed(seed))
    rank = keys.argsort(0).argsort(0)  # rank of each model's key, per sample
    return rank < k
