"""UnlearnGuard's claims (chapter 04), each decided by an interval from one `Results`.

Every rule builds a 95% interval and reads which side of the claim's boundary it lies on
(`mu_core.claims`): rates over samples (INA, ASR, accuracy) with Wilson's interval, their
before/after or model/model differences with Newcombe's, per-sample SSIM changes with a t
interval over the samples (paired: the same sample before and after) or a bootstrap
(two groups of samples). A claim of *no* change holds only when its interval lies inside
the no-change band (`within`): an interval too wide to show that is inconclusive, not held.

Preconditions, checked from the run: a claim about what unlearning hid from the
reconstruction, or about what the prior adds to it, needs the reconstruction to tell the
training samples from samples it never saw on the trained model (`reconstruction_signal`:
the AUC of the training samples' best SSIM to its candidates against the null's unseen
digits', above one half as an MIA's, and above what the reconstruction's start, the
model's centre image, already gives); a claim about the MIA needs the MIA to tell members
from unseen digits on the trained model (`mia_signal`); a claim about the backdoor needs
the backdoor planted (`backdoor_planted`). A failed precondition makes the claim `not
testable here`, with the measured number. Whether the reconstructions are closer to the
training samples than real unseen digits are (`signal_interval`, each sample's best SSIM
against its own null) is fidelity, not membership: Eq. 1's absolute tau needs it, and the
claims on Eq. 1 (`recovered_before`, `verification_range`) and our control (`beats_null`)
measure it themselves; a reconstruction without it can still single out its training set.
"""

from __future__ import annotations

import math

import numpy as np

from ...claims import (CONFIDENCE, NOT_TESTABLE, Claim, Interval, Part, auc_interval,
                       bootstrap_difference, forgot, judge, judge_parts, mean_interval, part,
                       rate_difference, unmet, wilson, within)
from ...papers.unlearnguard import BACKDOOR_COST, CLAIMS, RANGE_COUNTS
from .results import Results

# The largest change that counts as none: 0.2 for the rates (INA, ASR, accuracy), 0.05 for
# SSIM. "No change" holds when the change's whole interval lies inside this band.
NO_CHANGE = {"MIA": 0.2, "Backdoor": 0.2, "Accuracy": 0.2, "Ours": 0.05}
NEAR_ZERO = 0.2  # an ASR whose interval lies below this is "near 0%" (the paper's words)
PLANTED = 0.5  # a backdoor is planted when its ASR's interval lies above this
CHANCE = 0.5  # the share of samples a model that holds none of them beats the null for
FORGET_MARGIN = 0.2  # relabel fine-tuning "unlearned" when the class accuracy falls by more
ACCURACY_DROP = 0.1  # a fall in test accuracy beyond this counts as a fall
NUMBER_TOLERANCE = 0.1  # how far from the paper's accuracy still counts as "about" it
SAMPLE_SUBSETS = ("unlearning samples", "remaining samples")


# ----------------------------------------------------------------------- small statistics

def count(rate: float, trials: int) -> int:
    """The number of successes behind a rate over `trials` samples."""
    return int(round(rate * trials))


def rate_interval(rate: float, trials: int, unit: str = "samples") -> Interval:
    return wilson(count(rate, trials), trials, unit)


def rate_change(before: float, after: float, trials: int) -> Interval:
    """after - before for a rate over the same `trials` samples (Newcombe)."""
    return rate_difference(count(after, trials), trials, count(before, trials), trials)


def negated(interval: Interval) -> Interval:
    return Interval(0.0 - interval.estimate, 0.0 - interval.high, 0.0 - interval.low,
                    interval.n)


def shifted(interval: Interval, by: float) -> Interval:
    return Interval(interval.estimate - by, interval.low - by, interval.high - by, interval.n)


def verified_count(beats: int, total: int) -> Interval:
    """How many of `total` samples the reconstruction holds, beyond chance: a sample it
    does not hold beats its own null with probability CHANCE, so the share held is
    (p - CHANCE) / (1 - CHANCE) for the share p that beats it (Wilson interval on p)."""
    p = wilson(beats, total)
    scale = total / (1 - CHANCE)
    return Interval(scale * (p.estimate - CHANCE), scale * (p.low - CHANCE),
                    scale * (p.high - CHANCE), p.n)


def _judge(claim_id: str, claim: str, parts: dict, **options) -> Claim:
    """`claims.judge_parts` with the paper's evidence for `claim_id` and each part's verdict
    shown beside it."""
    return judge_parts(claim_id, claim, CLAIMS[claim_id], parts, outcomes=True, **options)


# -------------------------------------------------------------------------- preconditions

def signal_interval(r: Results) -> Interval:
    """The trained model's reconstructions against each training sample's own null: the
    mean over samples of (best SSIM - the null's best SSIM), paired by sample."""
    return mean_interval(r.scores("before") - np.asarray(r.null, dtype=float), "samples")


def membership_interval(r: Results, model: str = "before") -> Interval:
    """The trained model's reconstruction as a membership test: the AUC (DeLong) of the
    training samples' best SSIM to its candidates against the best SSIM of the null's
    unseen digits (never members) to the same candidates. `model="start"`: the same for
    the reconstruction's start, the model's centre image (the mean of its training set)."""
    unseen = (r.unseen_ssim or {}).get(model)
    if unseen is None or model not in r.ssim:
        return Interval(math.nan, -math.inf, math.inf, "no unseen digits scored")
    return auc_interval(r.scores(model), np.asarray(unseen, dtype=float))


def reconstruction_signal(r: Results) -> str | None:
    """Why a claim about what the reconstruction sees cannot be tested: it does not single
    out the training samples from unseen digits on the trained model beyond what its start
    already does (`membership_interval` not above one half, nor above the upper end of the
    start's AUC: every candidate begins at the model's centre, the mean image of its
    training set, which favours members before any step), or the run did not score
    unseen digits."""
    auc, start = membership_interval(r), membership_interval(r, "start")
    if not (auc.finite and start.finite):
        return "the run did not score unseen digits against the reconstruction"
    boundary = max(0.5, start.high)
    return unmet(auc.low > boundary,
                 f"the reconstruction does not single out the training samples from unseen "
                 f"digits on the trained model: AUC of their best SSIM {auc.text()}, not above "
                 f"{boundary:.3f} (0.5, or what its start, the model's centre image, gives: "
                 f"{start.text()})")


def mia_signal(r: Results) -> str | None:
    """The MIA's INA on the requested samples (members) minus its INA on unseen digits."""
    (k_in, n_in), (k_out, n_out) = r.mia_signal["requested"], r.mia_signal["unseen"]
    effect = rate_difference(k_in, n_in, k_out, n_out)
    return unmet(effect.finite and effect.low > 0,
                 f"the MIA has no signal on the trained model: INA on members minus on unseen "
                 f"digits {effect.text()}, not above 0")


def backdoor_planted(r: Results) -> str | None:
    rate = rate_interval(r.sample_level["unlearning samples"]["before"]["Backdoor"],
                         r.trials["unlearning samples"]["Backdoor"])
    return unmet(rate.finite and rate.low > PLANTED,
                 f"the backdoor is not planted: ASR on the requested samples before "
                 f"{rate.text()}, not above {PLANTED}")


# ------------------------------------------------------------------------- the claims

def _rate_changes(r: Results, subset: str, schemes, levels: str = "sample_level") -> dict:
    values = getattr(r, levels)[subset]
    return {s: rate_change(values["before"][s], values["after"][s], r.trials[subset][s])
            for s in schemes}


def _ssim_change(r: Results, mask: np.ndarray, after: str, before: str = "before") -> Interval:
    """after - before of the samples in `mask`, paired by sample."""
    return mean_interval(r.scores(after)[mask] - r.scores(before)[mask], "samples, paired")


def mia_accuracy_claim(r: Results) -> Claim:
    """Sample level, requested samples: neither the MIA's INA nor the accuracy falls by
    NO_CHANGE or more after retraining (the paper: "no significant reduction"). Held when
    each fall's interval lies below NO_CHANGE."""
    changes = _rate_changes(r, "unlearning samples", ("MIA", "Accuracy"))
    falls = {"INA": negated(changes["MIA"]), "accuracy": negated(changes["Accuracy"])}
    reasons = {"INA": mia_signal(r), "accuracy": None}
    parts = {f"{name} fall": part(fall, NO_CHANGE["MIA"], above=False, reason=reasons[name])
             for name, fall in falls.items()}
    return _judge("mia_accuracy_unchanged", "sample level: MIA and accuracy do not fall "
                  "much for the requested samples", parts)


def backdoor_claim(r: Results) -> Claim:
    """Sample level: after retraining the backdoor's ASR on the requested samples is near
    zero (its interval below NEAR_ZERO), given a backdoor planted before."""
    after = rate_interval(r.sample_level["unlearning samples"]["after"]["Backdoor"],
                          r.trials["unlearning samples"]["Backdoor"])
    return _judge("backdoor_drops", "sample level: the backdoor ASR drops to near 0 for "
                  "the requested samples",
                  {"ASR after": part(after, NEAR_ZERO, above=False)},
                  unmet_reasons=[backdoor_planted(r)])


def ssim_drop_claim(r: Results) -> Claim:
    """Sample level: the requested samples' best SSIM falls after retraining (paired over
    them) and falls further than the remaining samples' (every sample not requested;
    bootstrap over the two groups)."""
    requested, remaining = r.mask("requested"), ~r.mask("requested")
    drop = r.scores("before") - r.scores("after")
    parts = {"requested fall": mean_interval(drop[requested], "samples, paired"),
             "requested minus remaining fall": bootstrap_difference(drop[requested],
                                                                    drop[remaining])}
    return _judge("ssim_drops", "sample level: our SSIM drops for the requested samples "
                  "and not for the remaining",
                  {k: part(v) for k, v in parts.items()},
                  unmet_reasons=[reconstruction_signal(r)])


def scheme_reasons(r: Results) -> dict:
    """Each scheme's precondition: the reason it cannot be read here, or None."""
    return {"MIA": mia_signal(r), "Backdoor": backdoor_planted(r), "Accuracy": None,
            "Ours": reconstruction_signal(r)}


def remaining_claim(r: Results) -> Claim:
    """Sample level, remaining samples: no scheme changes (every change's interval inside
    the NO_CHANGE band): the rates on the second-trigger samples, the SSIM on every sample
    not requested."""
    changes = _rate_changes(r, "remaining samples", ("MIA", "Backdoor", "Accuracy"))
    changes["Ours"] = _ssim_change(r, ~r.mask("requested"), "after")
    reasons = scheme_reasons(r)
    return _judge("remaining_unchanged", "sample level: no scheme changes for the "
                  "remaining samples",
                  {s: Part(c, within(c, NO_CHANGE[s]), reasons[s])
                   for s, c in changes.items()})


def beats_own_null(r: Results, model: str) -> np.ndarray:
    """Eq. 1 with each sample's own null as its tau: its best SSIM beats the best SSIM
    of unseen digits to it."""
    return r.scores(model) > np.asarray(r.null, dtype=float)


def recovery_claim(r: Results) -> Claim:
    """Before unlearning the requested samples are recovered: the share of them whose best
    SSIM beats their own null lies above CHANCE (what reconstructions that hold none of
    them reach; the paper's "all" needs an interval above 1, which no count can give)."""
    requested = r.mask("requested")
    beats = beats_own_null(r, "before")[requested]
    share = wilson(int(beats.sum()), len(beats))
    above_tau = int((r.scores("before")[requested] > r.tau).sum())
    return _judge("recovered_before", "verification: the requested samples are recovered "
                  "before unlearning (Alg. 1's pre-verification)",
                  {"share beating their own null": part(share, CHANCE)},
                  note=f"Eq. 1 with tau {r.tau:.3f}: {above_tau} of {len(beats)}")


def lost(r: Results, mask: np.ndarray, after: str) -> tuple[int, int]:
    """Of the samples in `mask` that beat their own null before, how many do not after."""
    before, later = beats_own_null(r, "before")[mask], beats_own_null(r, after)[mask]
    return int((before & ~later).sum()), int(before.sum())


def verdicts_claim(r: Results) -> Claim:
    """Algorithm 1 with each sample's own null: after retraining, the requested samples
    recovered before are lost at a higher rate than the remaining samples recovered before
    (Newcombe)."""
    requested = r.mask("requested")
    effect = rate_difference(*lost(r, requested, "after"), *lost(r, ~requested, "after"))
    return _judge("unlearned_not_recovered", "verification: after retraining the "
                  "requested samples are lost, the remaining ones are not (Alg. 1)",
                  {"lost rate, requested minus remaining": part(effect)},
                  unmet_reasons=[reconstruction_signal(r)])


def distance_claim(r: Results) -> Claim:
    """Eq. 20: E[D | requested] > E[D | remaining] between the trained and the retrained
    model's reconstructions (bootstrap over samples); the unchanged model reconstructed
    again is shown as the noise floor."""
    requested = r.mask("requested")
    moved = {name: np.asarray(d, dtype=float) for name, d in r.distances.items()}
    retrained = bootstrap_difference(moved["retrained"][requested],
                                     moved["retrained"][~requested])
    floor = bootstrap_difference(moved["unchanged (reconstructed again)"][requested],
                                 moved["unchanged (reconstructed again)"][~requested])
    return _judge("unlearned_move_more", "Eq. 20: reconstructions of unlearned samples "
                  "move further than the others'",
                  {"E[D|F] - E[D|not F]": part(retrained)},
                  unmet_reasons=[reconstruction_signal(r)],
                  note=f"unchanged model: {floor.text()}")


def _class_changes(r: Results, subset: str, mask: str) -> tuple[dict, dict]:
    """Each scheme's change on a class-level subset (MIA and accuracy rates, our SSIM on
    the samples of `mask`), and each scheme's unmet precondition."""
    changes = _rate_changes(r, subset, ("MIA", "Accuracy"), "class_level")
    changes["Ours"] = _ssim_change(r, r.mask(mask), "class after")
    return changes, scheme_reasons(r)


def class_level_claim(r: Results) -> Claim:
    """Class level, the unlearned class: the MIA's INA, the accuracy and our SSIM each fall
    after retraining without it (each fall's interval above 0)."""
    changes, reasons = _class_changes(r, f"unlearning class {r.unlearn_class}", "class_forget")
    return _judge("class_level", "class level: MIA, accuracy and SSIM all change for the "
                  "unlearned class",
                  {f"{s} change": part(c, above=False, reason=reasons[s])
                   for s, c in changes.items()})


def inversion_claim(r: Results) -> Claim:
    """Class level: the trained model gives model inversion's representatives of the
    unlearned class a probability of the class above one half when they are inverted from
    the trained model, below one half when inverted from the retrained one (t intervals
    over the inversion's restarts)."""
    before, after = (mean_interval(r.inversion[w], "restarts") for w in ("before", "after"))
    return _judge("inversion_loses_class", "class level: model inversion's representative "
                  "of the unlearned class loses the class after retraining",
                  {"probability before": part(before, 0.5),
                   "after": part(after, 0.5, above=False)})


def remaining_class_claim(r: Results) -> Claim:
    """Class level, a remaining class: no scheme changes (each change inside NO_CHANGE)."""
    changes, reasons = _class_changes(r, f"remaining class {r.keep_class}", "class_kept")
    return _judge("remaining_class_unchanged", "class level: MIA, accuracy and SSIM do "
                  "not change for a remaining class",
                  {s: Part(c, within(c, NO_CHANGE[s]), reasons[s])
                   for s, c in changes.items()})


def _asr_near_zero(r: Results, model: str) -> Part:
    asr = rate_interval(r.robustness[model]["backdoor ASR (requested)"],
                        r.trials["unlearning samples"]["Backdoor"])
    return part(asr, NEAR_ZERO, above=False, reason=backdoor_planted(r))


def _still_recovered(r: Results, model: str) -> Part:
    """The requested samples' best SSIM from `model` minus from the retrained model."""
    gain = _ssim_change(r, r.mask("requested"), model, before="after")
    return part(gain, reason=reconstruction_signal(r))


def _asr_falls(r: Results, model: str) -> Part:
    """The backdoor's ASR on the requested samples from `model` minus from the trained
    backdoored model (Newcombe), below 0."""
    rows, trials = r.robustness, r.trials["unlearning samples"]["Backdoor"]
    change = rate_change(rows["trained"]["backdoor ASR (requested)"],
                         rows[model]["backdoor ASR (requested)"], trials)
    return part(change, above=False, reason=backdoor_planted(r))


def robustness_claim(r: Results) -> Claim:
    """Pruning leaves the backdoor's ASR on the requested samples near zero (Fig. 9a:
    "as evidenced by the near-zero performance"), fine-tuning on the clean D lowers it
    (Fig. 9b: "the accuracy of the backdoor also decreases", no level given), and after
    each the requested samples' SSIM stays above its level after honest retraining
    (Fig. 10)."""
    parts = {"pruned: ASR": _asr_near_zero(r, "pruned"),
             "fine-tuned: ASR change": _asr_falls(r, "fine-tuned")}
    for model in ("pruned", "fine-tuned"):
        parts[f"{model}: SSIM minus retrained"] = _still_recovered(r, model)
    return _judge("robustness", "robustness: pruning and fine-tuning break the backdoor "
                  "but not the reconstruction", parts)


def relearning_claim(r: Results) -> Claim:
    """Unlearning then fine-tuning on D re-learns the requested samples: the backdoor misses
    it (ASR near zero), the reconstruction sees it (SSIM above the retrained level)."""
    model = "unlearned + fine-tuned"
    return _judge("backdoor_misses_relearning", "unlearned then fine-tuned on D: the "
                  "backdoor misses the re-learned requested samples, reconstruction "
                  "recovers them",
                  {"ASR": _asr_near_zero(r, model),
                   "SSIM minus retrained": _still_recovered(r, model)})


def prior_claim(r: Results) -> Claim:
    """The prior raises more samples' recovery quality than it lowers, against phase 2
    without it: the share that gain among those that change lies above one half (the sign
    test as an interval). Quality is Section V-D's, as Fig. 11 reads it: the SSIM of each
    sample's nearest candidate by Haim et al.'s search (NCC at half resolution), not the
    best SSIM over all candidates that Eq. 1 reads. The paper's point is more samples to
    verify: a gain in similarity by a reconstruction that does not tell its training
    samples from unseen digits (`reconstruction_signal`, read with the prior) verifies
    none, so the claim is then not testable."""
    with_prior, without = r.quality("before"), r.quality("control")
    if with_prior is None or without is None:
        return _judge("prior_helps", PRIOR_CLAIM, {"share that gain": Part(
            None, reason="the run did not record the recovery quality without the prior")})
    change = with_prior - without
    gained, lost_ = int((change > 0).sum()), int((change < 0).sum())
    share = wilson(gained, gained + lost_, "samples that change")
    return _judge("prior_helps", PRIOR_CLAIM, {"share that gain": part(share, 0.5)},
                  unmet_reasons=[reconstruction_signal(r)],
                  note=f"mean quality {without.mean():.3f} without the prior, "
                       f"{with_prior.mean():.3f} with it")


PRIOR_CLAIM = ("the prior loss raises the reconstructions' recovery quality (nearest "
               "candidate's SSIM), against phase 2 without it")


def verification_range_claim(r: Results) -> Claim:
    """Reconstruction verifies more samples than the backdoor budget supports verifications.

    The paper's "over 40 times" is not what its own counts give (255 / 10 = 25.5), and its
    255 counts samples above SSIM 0.15, a level unseen digits reach. The count of samples
    a reconstruction verifies grows with the training set while the backdoor's is one over
    its share, so the factor belongs to a set size; what the paper claims at every size is
    that reconstruction supports more. A sample counts as verifiable where the trained
    model's reconstruction beats its own null, beyond the CHANCE share (`verified_count`)."""
    beats = beats_own_null(r, "before")
    verified = verified_count(int(beats.sum()), len(beats))
    paper = RANGE_COUNTS
    return _judge("verification_range", "reconstruction supports more verifications than "
                  "the backdoor budget",
                  {"samples verified beyond chance": part(verified, r.backdoor_verifications)},
                  note=f"against {r.backdoor_verifications} backdoor verifications; "
                       f"{int(beats.sum())} of {len(beats)} beat their own null; Eq. 1 "
                       f"with tau: {int((r.scores('before') > r.tau).sum())}, the null "
                       f"itself {int((np.asarray(r.null) > r.tau).sum())} (the paper: "
                       f"{paper['verified']} vs. {paper['backdoor_verifications']}, "
                       f"{paper['verified'] / paper['backdoor_verifications']:g} times)",
                  digits=1)


def backdoor_cost_claim(r: Results) -> Claim:
    """With the paper's backdoored share the clean test accuracy falls (by more than
    ACCURACY_DROP against the clean model, Newcombe) to about the paper's (its Wilson
    interval within NUMBER_TOLERANCE of it). The paper's level belongs to its training set
    of `BACKDOOR_COST["training_samples"]` samples: on another size that part is not
    testable (the accuracy a share leaves depends on the clean samples left), the fall
    still is."""
    share, paper = BACKDOOR_COST["backdoored_share"], BACKDOOR_COST["clean_accuracy"]
    claim = (f"backdoor budget: with {share:.0%} of the training set backdoored the clean "
             f"test accuracy falls to about {paper:.0%}")
    cost, n = r.backdoor_cost, r.backdoor_cost["test_size"]
    if cost["backdoored accuracy"] is None:
        return Claim("backdoor_costs_accuracy", claim, CLAIMS["backdoor_costs_accuracy"],
                     f"backdoor_fractions has no {share:.0%} share", NOT_TESTABLE)
    fall = rate_difference(count(cost["clean accuracy"], n), n,
                           count(cost["backdoored accuracy"], n), n, "test digits")
    off = shifted(rate_interval(cost["backdoored accuracy"], n, "test digits"), paper)
    size = cost.get("training_size", len(r.requested))
    paper_size = BACKDOOR_COST["training_samples"]
    other_size = unmet(size == paper_size,
                       f"the training set holds {size} samples, the paper's {paper_size}: "
                       f"the accuracy a share leaves depends on the clean samples left")
    return _judge("backdoor_costs_accuracy", claim,
                  {"accuracy fall": part(fall, ACCURACY_DROP),
                   f"accuracy minus the paper's {paper:.2f}": Part(off, within(
                       off, NUMBER_TOLERANCE), other_size)})


def null_claim(r: Results) -> Claim:
    """The reconstructions beat unseen real data: each training sample's best SSIM minus
    its own null, mean over samples, above 0 (our control; the paper has none)."""
    effect = signal_interval(r)
    return judge("beats_null", "reconstructions beat unseen real data (our control)",
                 "not examined", effect, label="best SSIM minus own null")


def relabel_claim(r: Results) -> Claim:
    """Relabel fine-tuning leaves more reconstructions of the unlearned class above tau
    than the trained model gives (Newcombe over the reconstruction's candidates; each
    candidate's SSIM to its nearest training sample against the tau calibrated on that
    statistic for unseen digits of the class, `experiment.candidate_threshold`), given
    that it unlearned by the accuracy measure (the class accuracy fell by FORGET_MARGIN)."""
    before, after = r.relabel["before"], r.relabel["after relabel fine-tuning"]
    effect = rate_difference(after["above tau"], r.candidates, before["above tau"],
                             r.candidates, "candidates")
    class_size = int(r.mask("class_forget").sum())
    relabel_accuracy = rate_interval(after["accuracy on the class"], class_size)
    return _judge("relabel", "relabel fine-tuning increases the recoverable samples of "
                  "the unlearned class",
                  {"share above tau, after minus before": part(effect)},
                  unmet_reasons=[reconstruction_signal(r),
                                 forgot("relabel fine-tuning", relabel_accuracy,
                                        before["accuracy on the class"], FORGET_MARGIN)],
                  note=f"{before['above tau']} -> {after['above tau']} of "
                       f"{r.candidates} candidates (retraining: "
                       f"{r.relabel['after retraining']['above tau']})")


RULES = (mia_accuracy_claim, backdoor_claim, ssim_drop_claim, remaining_claim, recovery_claim,
         verdicts_claim, distance_claim, class_level_claim, inversion_claim,
         remaining_class_claim, robustness_claim, relearning_claim, prior_claim,
         verification_range_claim, backdoor_cost_claim, null_claim, relabel_claim)


def claims(results: Results) -> list[Claim]:
    """The paper's claims, checked on one run's `Results`, in the chapter's order."""
    return [rule(results) for rule in RULES]


def quoted() -> dict:
    """The values the chapter's prose quotes: the claim rules' thresholds and the paper's
    Section V-D counts."""
    paper = RANGE_COUNTS
    return {"confidence": CONFIDENCE, "no_change_rate": NO_CHANGE["MIA"],
            "no_change_ssim": NO_CHANGE["Ours"],
            "near_zero_asr": NEAR_ZERO, "planted_asr": PLANTED, "chance_share": CHANCE,
            "paper_range_level": paper["ssim_level"],
            "paper_range_verified": paper["verified"],
            "paper_range_backdoor": paper["backdoor_verifications"],
            "paper_range_factor": paper["claimed_factor"],
            "paper_range_quotient": paper["verified"] / paper["backdoor_verifications"]}
