"""UnlearnGuard's verification protocol (Algorithm 1) on top of `attacks.reconstruct`.

The data provider asks a trusted third party whether its samples x_u are in the model; the
third party fetches the model from the model provider, reconstructs candidates from its
weights (Algorithm 2) and answers V(x_u, {x~}) = OR_i [SSIM(x_u, x~_i) > tau] (Eq. 1).
Before unlearning the answer should be True; after it, False. Unlearning counts as
executed for a sample when V goes from True to False, as not executed when it stays True;
a sample not recovered before unlearning cannot be verified either way (Algorithm 1 leaves
this case out; we report it as "not verifiable").

tau is a similarity that real samples never seen in training do not reach: by default the
`null_quantile` quantile of each training sample's best SSIM against unseen real samples.
`drop_threshold` and `unlearned_by_drop` are a paired reading (ours): a requested sample
counts as unlearned when its best SSIM falls by more than the samples that stayed fall.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from .attacks.reconstruct import (ReconstructionConfig, centre_of, nearest_reconstruction,
                                  reconstruct)
from .errors import check_fraction

EXECUTED, NOT_EXECUTED, NOT_VERIFIABLE = (
    "unlearning executed", "unlearning not executed", "not verifiable")


def contained(best_ssim: Tensor, tau: float | Tensor) -> Tensor:
    """Eq. 1 from each sample's best SSIM over the candidates: the OR over candidates of
    SSIM > tau is the best SSIM > tau (`tau` one number, or one per sample)."""
    return best_ssim > tau


def verdict(before: bool, after: bool) -> str:
    """Algorithm 1, lines 7-10."""
    if not before:
        return NOT_VERIFIABLE
    return NOT_EXECUTED if after else EXECUTED


def null_threshold(samples: Tensor, unseen: Tensor, quantile: float = 0.95) -> tuple[float, Tensor]:
    """tau from the null: the `quantile` of each sample's best SSIM against real samples
    the model never saw, scored as reconstructions are (min-max scaled: an unseen image
    must not lose to a candidate only by its contrast); also returns those best SSIMs."""
    quantile = check_fraction("null_quantile", quantile)
    best, _ = nearest_reconstruction(samples, unseen)
    return torch.quantile(best.double(), quantile).item(), best


def recovery_ssim(model: nn.Module, samples: Tensor, config: ReconstructionConfig, *,
                  desc: str = "reconstruct", control: bool = False,
                  unseen: Tensor | None = None) -> dict[str, Tensor]:
    """The third party's work for one model: reconstruct, then each sample's best SSIM
    after phase 1 (the KKT loss alone) and after phase 2 (with the prior), which Eq. 1
    reads; their recovery quality as the paper's Section V-D measures it (the SSIM of the
    nearest candidate by Haim et al.'s search: "phase1_quality", "phase2_quality"); with
    `control`, also the best SSIM after phase 2 without the prior ("control",
    `reconstruct`'s control) and its recovery quality ("control_quality"); with `unseen`
    (real samples the model never saw), their best SSIM after phase 2 too ("unseen"): what
    the reconstruction gives samples that were never members; and, for both, the SSIM to
    the reconstruction's start, the model's centre (the mean image of its training set,
    where every candidate begins: "start", "unseen_start"), which favours members before
    any step."""
    result = reconstruct(model, config, desc=desc, control=control)
    phase1, _ = nearest_reconstruction(samples, result.phase1)
    phase2, index = nearest_reconstruction(samples, result.phase2)
    scores = {"phase1": phase1, "phase2": phase2, "index": index,
              "phase1_quality": nearest_reconstruction(samples, result.phase1, search="ncc")[0],
              "phase2_quality": nearest_reconstruction(samples, result.phase2, search="ncc")[0],
              "candidates": result.phase2, "candidates_phase1": result.phase1,
              "labels": result.labels}
    if unseen is not None:
        start = centre_of(model).mean_image.unsqueeze(0)
        scores.update(unseen=nearest_reconstruction(unseen, result.phase2)[0],
                      start=nearest_reconstruction(samples, start)[0],
                      unseen_start=nearest_reconstruction(unseen, start)[0])
    if control:
        scores["control"] = nearest_reconstruction(samples, result.control)[0]
        scores["control_quality"] = nearest_reconstruction(samples, result.control,
                                                           search="ncc")[0]
    return scores


@dataclass
class VerificationReport:
    """Algorithm 1 for each requested sample: V before, V after, and the verdict. `tau` is
    Eq. 1's one threshold, or a tensor of one threshold per sample (each sample's own
    null: the best SSIM of unseen real samples to it)."""

    ssim_before: Tensor
    ssim_after: Tensor
    tau: float | Tensor

    @property
    def before(self) -> Tensor:
        return contained(self.ssim_before, self.tau)

    @property
    def after(self) -> Tensor:
        return contained(self.ssim_after, self.tau)

    @property
    def verdicts(self) -> list[str]:
        return [verdict(b, a) for b, a in zip(self.before.tolist(), self.after.tolist())]

    def counts(self) -> dict[str, int]:
        verdicts = self.verdicts
        return {name: verdicts.count(name) for name in (EXECUTED, NOT_EXECUTED, NOT_VERIFIABLE)}


def post_verification(config: ReconstructionConfig) -> ReconstructionConfig:
    """The post-verification's reconstruction: `config` with the next seed. With the
    pre-verification's seed an unchanged model would give the same candidates, and "no
    change" would hold by construction, not by measurement; a changed model would start
    where the pre-verification started, which no unchanged model's check can match."""
    return replace(config, seed=config.seed + 1)


def verify_unlearning(trained: nn.Module, returned: nn.Module, requested: Tensor, tau: float,
                      config: ReconstructionConfig = ReconstructionConfig()) -> VerificationReport:
    """Algorithm 1 end to end: pre-verification on the trained model, post-verification on
    the model the provider returns after the unlearning request, reconstructed
    independently (`post_verification`)."""
    before = recovery_ssim(trained, requested, config, desc="pre-verification")["phase2"]
    after = recovery_ssim(returned, requested, post_verification(config),
                          desc="post-verification")["phase2"]
    return VerificationReport(before, after, tau)


def drop_threshold(control_before: Tensor, control_after: Tensor,
                   quantile: float = 0.95) -> float:
    """A paired alternative to Eq. 1's absolute tau (ours, not the paper's): the `quantile`
    of the best-SSIM drop between the two models on samples that were *not* unlearned, so
    that a requested sample counts as unlearned when its own drop exceeds what the model
    change alone causes."""
    quantile = check_fraction("quantile", quantile)
    return torch.quantile((control_before - control_after).double(), quantile).item()


def unlearned_by_drop(ssim_before: Tensor, ssim_after: Tensor, threshold: float) -> Tensor:
    """For each requested sample, whether its best SSIM fell by more than `threshold`."""
    return (ssim_before - ssim_after) > threshold


def paired_reading(ssim_before: Tensor, ssim_after: Tensor, requested: Tensor,
                   quantile: float = 0.95) -> tuple[Tensor, float]:
    """The paired reading of one request: which samples of the boolean mask `requested`
    count as unlearned, with all other samples as the control, and the drop threshold."""
    threshold = drop_threshold(ssim_before[~requested], ssim_after[~requested], quantile)
    return unlearned_by_drop(ssim_before[requested], ssim_after[requested], threshold), threshold
