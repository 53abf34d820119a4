"""The UnlearnGuard study (chapter 04): a data provider's small training set, models trained
to a large margin on it, the reconstructions a trusted third party makes from their weights,
and the paper's four verification schemes (membership inference INA, backdoor ASR,
accuracy, reconstruction SSIM) at sample and class level, under model changes, against the
backdoor's budget and after relabel fine-tuning: the steps, tables and figures, and the
`Results` (`results`) the claim rules (`rules`) read.

Every step is seeded: the same settings give the same numbers, whatever order the steps run.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, fields, replace

import pandas as pd
import torch
from torch import Tensor, nn

from ... import loops, plots, workers
from ...attacks.backdoor import backdoor_asr, poison, stamp_trigger
from ...attacks.inversion import class_representatives
from ...attacks.mia import membership_ina
from ...attacks.reconstruct import ReconstructionConfig, centre_of, minmax_scale
from ...claims import CONFIDENCE, Interval, auc_interval, mean_interval, rate_difference
from ...data import ImageData, load, pixels, require_classes
from ...errors import MAX_STEPS, ConfigError, check_budget, check_fraction, check_positive_int
from ...maxmargin import (MarginRecipe, homogeneous_mlp, margins, predictions, prune_randomly,
                         train_to_margin)
from ...metrics import accuracy, nearest_ssim
from ...papers.unlearnguard import BACKDOOR_COST, RANGE_COUNTS
from ...splits import Split, make_split
from ...verify import (EXECUTED, VerificationReport, null_threshold, paired_reading,
                      post_verification, recovery_ssim)
from .results import Results

SAMPLE_SCHEMES = ["MIA", "Backdoor", "Accuracy", "Ours"]
CLASS_SCHEMES = ["MIA", "Accuracy", "Ours"]  # the paper has no backdoor bars at class level
WHEN = ("before", "after")
EFFECTIVE_ASR = 0.9  # a backdoor counts as planted from this attack success rate
KNOWN_NONMEMBERS = 200  # the MIA's known non-members: this many test digits outside the null
INVERSION_RESTARTS = 5  # model inversion's representatives per class, each from its own start
# Figure 13's tau is calibrated on at most this many unseen digits of the unlearned class:
# the 95% quantile of 400 values has a distribution-free 95% interval between about their
# 93rd and 97th percentiles (`quantile_interval`); mnist5k holds some 500 such digits.
CLASS_NULL_SIZE = 400


# --- building blocks ------------------------------------------------------------------------

@dataclass(frozen=True)
class Provider:
    """The data provider's training set D as [0, 1] images, its labels and dataset indices."""

    images: Tensor
    labels: Tensor
    indices: Tensor


def provider_splits(data: ImageData, per_class: int, forget_per_class: int, unlearn_class: int,
                    seed: int) -> tuple[Split, Split]:
    """The same stratified training set of per_class x C samples, with a sample-level
    request (forget_per_class samples of every class) and a class-level request."""
    per_class = check_positive_int("per_class", per_class)
    forget_per_class = check_positive_int("forget_per_class", forget_per_class)
    if forget_per_class >= per_class:
        raise ConfigError(f"forget_per_class must be below per_class ({per_class}) so that "
                          f"every class keeps samples, got {forget_per_class}.")
    require_classes(data, [unlearn_class], "unlearn_class")
    size = per_class * data.num_classes
    samples = make_split(data, forget_classes=list(range(data.num_classes)),
                         forget_fraction=forget_per_class / per_class, train_size=size, seed=seed)
    whole_class = make_split(data, forget_classes=[unlearn_class], train_size=size, seed=seed)
    return samples, whole_class


def provider(data: ImageData, indices: Tensor) -> Provider:
    """The samples `indices` of `data` as a `Provider` (on the CPU)."""
    return Provider(pixels(data, indices), data.labels[indices.to(data.device)].cpu(),
                    indices.cpu())


def train_model(images: Tensor, labels: Tensor, num_outputs: int, *, hidden,
                init_scale: float, recipe: MarginRecipe, seed: int,
                desc: str = "train") -> nn.Module:
    """A fresh homogeneous MLP trained to a large margin on (images, labels), its input
    centred on the mean of these images and of no others: a model retrained without the
    requested samples carries no statistic of them."""
    model = homogeneous_mlp(images.mean(0), num_outputs, hidden, init_scale=init_scale,
                            seed=seed)
    train_to_margin(model, images, labels, recipe, desc=desc)
    return model.eval()


def fine_tune(model: nn.Module, images: Tensor, labels: Tensor, recipe: MarginRecipe, *,
              desc: str = "fine-tune") -> nn.Module:
    """A copy of `model` trained further on (images, labels)."""
    tuned = copy.deepcopy(model).train()
    train_to_margin(tuned, images, labels, recipe, desc=desc)
    return tuned.eval()


def random_relabels(labels: Tensor, num_classes: int, seed: int) -> Tensor:
    """Each label replaced by a different class drawn uniformly (relabel-based unlearning)."""
    generator = torch.Generator().manual_seed(seed)
    shift = torch.randint(1, num_classes, labels.shape, generator=generator)
    return (labels + shift) % num_classes


def subset_accuracy(model: nn.Module, images: Tensor, labels: Tensor) -> float:
    return accuracy(predictions(model, images), labels)


def nearest_training(candidates: Tensor, training_images: Tensor) -> tuple[Tensor, Tensor]:
    """For each reconstruction (min-max scaled) its SSIM to its nearest training sample (by
    Haim et al.'s search, as `nearest_reconstruction`) and that sample's index (the paper's
    Figure 13 scoring); empty when there are no candidates."""
    if len(candidates) == 0:
        return torch.empty(0), torch.empty(0, dtype=torch.long)
    return nearest_ssim(minmax_scale(candidates.float()), training_images.float(), search="ncc")


def check_class(name: str, data: ImageData, value, other: int) -> int:
    """A class of `data` different from `other` (the class-level request's class)."""
    (value,) = require_classes(data, [value], name)
    if value == other:
        raise ConfigError(f"{name} must differ from unlearn_class ({other}), got {value}.")
    return value


def check_settings(s: "Settings", data: ImageData) -> None:
    """The parameters that are used only after training, checked before it."""
    check_class("keep_class", data, s.keep_class, s.unlearn_class)
    check_fractions(s.backdoor_fractions)
    require_classes(data, [s.backdoor_target], "backdoor_target")
    stamp_trigger(pixels(data, data.train[:1]), s.trigger_size)
    homogeneous_mlp(torch.zeros(data.images.shape[1:]), data.num_classes, s.hidden,
                    init_scale=s.init_scale)
    check_fraction("prune_fraction", s.prune_fraction, allow_zero=True, allow_one=False)
    if not isinstance(s.ssim_levels, (list, tuple)):
        raise ConfigError(f"ssim_levels must be a list of SSIM levels in (0, 1], got "
                          f"{s.ssim_levels!r}.")
    for level in s.ssim_levels:
        check_fraction("ssim_levels entry", level)
    check_budget("inversion_steps", s.inversion_steps, MAX_STEPS)


def check_fractions(fractions) -> list[float]:
    """Backdoor budgets: a non-empty list of fractions in (0, 1)."""
    if not isinstance(fractions, (list, tuple)) or not fractions:
        raise ConfigError(f"backdoor_fractions must be a non-empty list of fractions in "
                          f"(0, 1), got {fractions!r}.")
    return [check_fraction("backdoor_fractions entry", f, allow_one=False) for f in fractions]


def scheme_values(model: nn.Module, images: Tensor, labels: Tensor, subset: Tensor,
                  members: Tensor, nonmembers: tuple[Tensor, Tensor],
                  ssim: Tensor) -> dict[str, float]:
    """The MIA's INA, the accuracy and our mean best SSIM for the training samples in the
    boolean mask `subset`; `members` marks the training samples the MIA knows as members."""
    subset, members = subset.to(images.device), members.to(images.device)
    return {"MIA": membership_ina(model, (images[members], labels[members]), nonmembers,
                                  (images[subset], labels[subset])),
            "Accuracy": subset_accuracy(model, images[subset], labels[subset]),
            "Ours": ssim[subset.cpu()].mean().item()}


def second_trigger_samples(requested: Tensor, seed: int) -> Tensor:
    """As many remaining samples as requested ones, drawn at random (seeded): they carry the
    backdoor's second trigger, so that the remaining samples have a backdoor of their own."""
    generator = torch.Generator().manual_seed(seed)
    remaining_ids = torch.nonzero(~requested).view(-1)
    chosen = torch.zeros_like(requested)
    chosen[remaining_ids[torch.randperm(len(remaining_ids), generator=generator)
                         [: int(requested.sum())]]] = True
    return chosen


def random_share(count: int, fraction: float, seed: int) -> Tensor:
    """A boolean mask of max(1, round(fraction x count)) of `count` samples (seeded)."""
    chosen = torch.zeros(count, dtype=torch.bool)
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    chosen[order[: max(1, round(fraction * count))]] = True
    return chosen


# --- the study's settings and state ---------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """The chapter's parameters (the names of its parameters cell)."""

    dataset: str
    per_class: int
    forget_per_class: int
    unlearn_class: int
    keep_class: int
    hidden: list
    init_scale: float
    train_steps: int
    train_lr: float
    finetune_steps: int
    relabel_steps: int
    prune_fraction: float
    backdoor_target: int
    trigger_size: int
    backdoor_fractions: list
    candidates_per_class: int
    steps: int
    prior_steps: int
    reconstruction_lr: float
    lambda_lr: float
    lambda_min: float
    relu_alpha: float
    alpha_prior: float
    eps: float
    pairs: str
    null_quantile: float
    ssim_levels: list
    inversion_steps: int
    seed: int
    device: str

    @classmethod
    def from_params(cls, params: dict) -> "Settings":
        """The settings from a chapter's parameters; `preset`, which only chose them, is not
        one of them."""
        params = {name: value for name, value in params.items() if name != "preset"}
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(params) - set(names))
        missing = [n for n in names if n not in params]
        if unknown or missing:
            raise ConfigError(f"the UnlearnGuard study takes the parameters {', '.join(names)}; "
                              f"unknown: {unknown or 'none'}, missing: {missing or 'none'}.")
        return cls(**params)

    def reconstruction(self) -> ReconstructionConfig:
        return ReconstructionConfig(
            candidates_per_class=self.candidates_per_class, steps=self.steps,
            prior_steps=self.prior_steps, lr=self.reconstruction_lr, lambda_lr=self.lambda_lr,
            lambda_min=self.lambda_min, relu_alpha=self.relu_alpha,
            alpha_prior=self.alpha_prior, eps=self.eps, pairs=self.pairs, seed=self.seed)


@dataclass
class Study:
    """The data provider's training set D (on the CPU as `provider`, on the device as
    `images`, `labels`), the two requests as masks over D, the test split on the device, the
    null's tau (for each training sample's best SSIM), the candidates' tau (for each
    candidate's SSIM to its nearest training sample, Figure 13's reading, calibrated on
    unseen digits of the unlearned class: `candidate_threshold`), and how models are trained
    and reconstructed."""

    settings: Settings
    device: torch.device
    data: ImageData
    provider: Provider
    images: Tensor
    labels: Tensor
    forget: Tensor  # the sample-level request
    class_forget: Tensor  # the class-level request: every sample of unlearn_class
    class_kept: Tensor  # the samples of keep_class, a remaining class
    unseen: Provider  # the null's unseen digits: candidates_per_class test digits of each class
    known_nonmembers: Provider  # the MIA's, from the other test digits (`null_and_nonmembers`)
    test_images: Tensor
    test_labels: Tensor
    config: ReconstructionConfig
    recipes: dict[str, MarginRecipe]
    tau: float
    null: Tensor
    class_unseen: Provider  # the unseen digits of unlearn_class the candidates' tau reads
    candidate_null: Interval  # the candidates' tau with its interval (`candidate_threshold`)

    @property
    def candidate_tau(self) -> float:
        return self.candidate_null.estimate

    @property
    def retain(self) -> Tensor:
        return ~self.forget

    @property
    def nonmembers(self) -> tuple[Tensor, Tensor]:
        """The MIA's known non-members (`null_and_nonmembers`), on the device."""
        known = self.known_nonmembers
        return known.images.to(self.device), known.labels.to(self.device)

    def train(self, images: Tensor, labels: Tensor, desc: str) -> nn.Module:
        """A fresh model trained to a large margin on (images, labels), centred on their
        mean (`train_model`)."""
        return self.train_each({desc: (images, labels)})[desc]

    def train_each(self, requests: dict[str, tuple[Tensor, Tensor]]) -> dict[str, nn.Module]:
        """`train` of each request (its name -> (images, labels)), side by side in worker
        processes where `workers.run_each` can: the trainings are independent."""
        s, to = self.settings, self.device
        pieces = [(images.to(to), labels.to(to), self.data.num_classes, tuple(s.hidden),
                   s.init_scale, self.recipes["train"], s.seed, desc)
                  for desc, (images, labels) in requests.items()]
        return dict(zip(requests, workers.run_each(_trained, pieces, device=to)))

    def test_accuracy(self, model: nn.Module) -> float:
        return subset_accuracy(model, self.test_images, self.test_labels)

    def recover_each(self, requests: dict[str, dict]) -> dict[str, dict[str, Tensor]]:
        """The third party's reconstruction of each request (its name -> "model", and
        optionally "control": also phase 2 without the prior, "pre": the pre-verification)
        and each training sample's best SSIM after phase 1 and phase 2, and each of the
        null's unseen digits' after phase 2 (`verify.recovery_ssim`), on the CPU, side by
        side in worker processes where `workers.run_each` can: the reconstructions are
        independent. The pre-verification
        (of the trained model, before the request) draws from the configured seed, every
        other reconstruction from the post-verification's (`verify.post_verification`), as
        Algorithm 1 does end to end (`verify.verify_unlearning`): a model compared with the
        trained one never shares its reconstruction's start, whether it changed or not."""
        samples, unseen = self.provider.images.to(self.device), self.unseen.images.to(self.device)
        pieces = [(request["model"], samples,
                   self.config if request.get("pre") else post_verification(self.config),
                   name, request.get("control", False), unseen)
                  for name, request in requests.items()]
        return dict(zip(requests, workers.run_each(_recovered, pieces, device=self.device)))


def _trained(images: Tensor, labels: Tensor, num_outputs: int, hidden, init_scale: float,
             recipe: MarginRecipe, seed: int, desc: str) -> nn.Module:
    """`train_model` of one training set (a piece of `Study.train_each`)."""
    return train_model(images, labels, num_outputs, hidden=hidden, init_scale=init_scale,
                       recipe=recipe, seed=seed, desc=desc)


def _recovered(model: nn.Module, samples: Tensor, config: ReconstructionConfig, desc: str,
               control: bool, unseen: Tensor) -> dict[str, Tensor]:
    """`verify.recovery_ssim`'s scores of one model, the null's unseen digits scored too, on
    the CPU (a piece of `recover_each`)."""
    scores = recovery_ssim(model, samples, config, desc=desc, control=control, unseen=unseen)
    return {key: value.cpu() for key, value in scores.items()}


def setup(params: dict, device: torch.device) -> Study:
    """The study from the chapter's parameters, every one checked before any training."""
    s = Settings.from_params(params)
    config = s.reconstruction()
    recipes = {kind: MarginRecipe(steps=getattr(s, f"{kind}_steps"), lr=s.train_lr,
                                  budgets=("per_class", f"{kind}_steps"))
               for kind in ("train", "finetune", "relabel")}
    data = load(s.dataset)
    samples_split, _ = provider_splits(data, s.per_class, s.forget_per_class, s.unlearn_class,
                                       s.seed)
    check_settings(s, data)
    null_digits, nonmember_digits = null_and_nonmembers(
        data, loops.budget("null_per_class", s.candidates_per_class),
        loops.budget("known_nonmembers", KNOWN_NONMEMBERS), s.seed)
    training = provider(data, samples_split.train)
    test = provider(data, data.test)
    unseen = provider(data, null_digits)
    tau, null = null_threshold(training.images, unseen.images, s.null_quantile)
    class_unseen = unseen_of_class(data, training.indices, s.unlearn_class, CLASS_NULL_SIZE,
                                   s.seed)
    candidate_null = candidate_threshold(training.images, class_unseen.images,
                                         s.null_quantile)
    labels = training.labels
    return Study(settings=s, device=device, data=data, provider=training,
                 images=training.images.to(device), labels=labels.to(device),
                 forget=torch.isin(training.indices, samples_split.forget),
                 class_forget=labels == s.unlearn_class, class_kept=labels == s.keep_class,
                 unseen=unseen, known_nonmembers=provider(data, nonmember_digits),
                 test_images=test.images.to(device), test_labels=test.labels.to(device),
                 config=config, recipes=recipes, tau=tau, null=null,
                 class_unseen=class_unseen, candidate_null=candidate_null)


def null_and_nonmembers(data: ImageData, per_class: int, nonmembers: int,
                        seed: int) -> tuple[Tensor, Tensor]:
    """The null's unseen digits and the MIA's known non-members, as dataset indices of the
    test split, disjoint: `per_class` digits of every class drawn at random (stratified: a
    null of some classes reads another statistic, and mnist5k stores its test split sorted
    by class, so a prefix would be all zeros), then `nonmembers` drawn at random from the
    test digits the null left. Both seeded; a ConfigError, before any training, when they
    do not fit in the test split (`check_null_fits`)."""
    test = data.test.cpu()
    labels = data.labels.cpu()[test]
    check_null_fits(data.name, torch.bincount(labels, minlength=data.num_classes), per_class,
                    nonmembers)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(test), generator=generator)
    order = order[torch.argsort(labels[order], stable=True)]  # by class, random inside one
    first_of_class = torch.searchsorted(labels[order], labels[order], side="left")
    in_null = torch.arange(len(order)) - first_of_class < per_class
    rest = test[order[~in_null]]
    chosen = rest[torch.randperm(len(rest), generator=generator)[:nonmembers]]
    return test[order[in_null]].sort().values, chosen.sort().values


def check_null_fits(dataset: str, class_counts: Tensor, per_class: int, nonmembers: int) -> None:
    """The null's `per_class` test digits of every class and the MIA's `nonmembers` known
    non-members fit, disjoint, in a test split of `class_counts` digits per class."""
    classes, total = len(class_counts), int(class_counts.sum())
    smallest = int(class_counts.min())
    accepted = min(smallest, (total - nonmembers) // classes)
    if per_class <= accepted:
        return
    allowed = (f"candidates_per_class at most {accepted}" if accepted >= 1 else
               "no candidates_per_class, the test split being too small for this chapter")
    raise ConfigError(
        f"candidates_per_class {per_class} asks for {per_class} unseen test digits of each "
        f"of {classes} classes for the null ({per_class * classes}) beside the MIA's "
        f"{nonmembers} known non-members, {per_class * classes + nonmembers} in all, but the "
        f"test split of {dataset} holds {total} ({smallest} in its smallest class): accepted "
        f"is {allowed}.")


def unseen_of_class(data: ImageData, training: Tensor, unlearn_class: int, count: int,
                    seed: int) -> Provider:
    """Up to `count` digits of `unlearn_class` that no model of the study trains on, drawn at
    random (seeded): the class's samples of the test split and of the training split outside
    the provider's training set (`training`, its dataset indices)."""
    pool = torch.cat([data.train, data.test]).cpu()
    pool = pool[(data.labels.cpu()[pool] == unlearn_class) & ~torch.isin(pool, training.cpu())]
    if not len(pool):
        raise ConfigError(f"{data.name} has no digit of unlearn_class {unlearn_class} outside "
                          f"the training set to calibrate Figure 13's tau on; lower per_class.")
    order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))
    return provider(data, pool[order[:count]].sort().values)


def candidate_threshold(training_images: Tensor, unseen: Tensor, quantile: float) -> Interval:
    """tau for the statistic Figure 13 plots, each candidate's SSIM to its nearest training
    sample (`nearest_training`), calibrated on the same statistic of real digits the model
    never saw, scored as candidates: the `quantile` of their SSIM to their nearest training
    sample, with its interval (`quantile_interval`). Figure 13 and the relabel claim judge
    candidates the trained model classifies as the unlearned class, so `unseen` holds
    digits of that class (`unseen_of_class`): how close a digit comes to its nearest
    training sample depends on its class. The null's tau reads another statistic,
    each training sample's best SSIM over all candidates, a maximum over many."""
    nearest, _ = nearest_training(unseen, training_images)
    return quantile_interval(nearest, quantile, "unseen digits")


def quantile_interval(values: Tensor, quantile: float, unit: str) -> Interval:
    """The `quantile` of `values` (linear interpolation) with its distribution-free
    interval at `CONFIDENCE`: the order statistics whose ranks bound the Binomial(n,
    quantile) count of values below the true quantile (an unbounded side where n is too small
    to reach it)."""
    from scipy.stats import binom

    ordered, n = values.double().sort().values, len(values)
    tail = (1 - CONFIDENCE) / 2
    low_rank = int(binom.ppf(tail, n, quantile))
    high_rank = int(binom.ppf(1 - tail, n, quantile)) + 1
    low = ordered[low_rank - 1].item() if low_rank >= 1 else -math.inf
    high = ordered[high_rank - 1].item() if high_rank <= n else math.inf
    return Interval(torch.quantile(ordered, quantile).item(), low, high, f"{n} {unit}")


def describe(study: Study) -> str:
    """The setting in one paragraph: the requests' sizes, the null and tau."""
    s, null = study.settings, study.null
    return (f"Training set: {len(study.provider.labels)} samples; sample-level request: "
            f"{int(study.forget.sum())} samples; class-level request: class "
            f"{s.unlearn_class} ({int(study.class_forget.sum())} samples). Null: each training "
            f"sample's best SSIM against {len(study.unseen.labels)} unseen test digits "
            f"({s.candidates_per_class} of each class), "
            f"median {null.median():.2f}; tau = its {s.null_quantile:.0%} quantile = "
            f"**{study.tau:.3f}**. Figure 13 scores each candidate the trained model "
            f"classifies as class {s.unlearn_class} against its nearest training sample "
            f"instead; its tau, the same quantile of that statistic for "
            f"{len(study.class_unseen.labels)} unseen digits of class {s.unlearn_class} (of "
            f"the test split and of the training split outside D), is "
            f"**{study.candidate_tau:.3f}** ({CONFIDENCE:.0%} interval "
            f"[{study.candidate_null.low:.3f}, {study.candidate_null.high:.3f}]).")


# --- the models -----------------------------------------------------------------------------

@dataclass
class Models:
    """The trained model M, the retrained models for the two requests, and the backdoor
    baseline's models (trained with both triggers, and retrained without the requested
    samples); `second` marks the remaining samples that carry the second trigger."""

    trained: nn.Module
    retrained: nn.Module
    class_retrained: nn.Module
    second: Tensor
    backdoored: nn.Module
    backdoored_retrained: nn.Module


def backdoored_set(study: Study, second: Tensor) -> tuple[Tensor, Tensor]:
    """D with the requested samples' trigger (bottom-right) and the second trigger
    (top-left) on `second`, both labelled `backdoor_target`."""
    s, training = study.settings, study.provider
    images, labels = poison(training.images, training.labels, study.forget, s.backdoor_target,
                            s.trigger_size)
    return poison(images, labels, second, s.backdoor_target, s.trigger_size, corner="top-left")


def train_models(study: Study) -> Models:
    """The study's `Models`, each trained from scratch to a large margin."""
    images, labels, to = study.images, study.labels, study.device
    keep, class_keep = study.retain.to(to), (~study.class_forget).to(to)
    second = second_trigger_samples(study.forget, study.settings.seed)
    bd_images, bd_labels = backdoored_set(study, second)
    found = study.train_each({
        "trained": (images, labels), "retrain (samples)": (images[keep], labels[keep]),
        "retrain (class)": (images[class_keep], labels[class_keep]),
        "backdoored": (bd_images, bd_labels),
        "backdoored retrain": (bd_images[study.retain], bd_labels[study.retain])})
    return Models(found["trained"], found["retrain (samples)"], found["retrain (class)"],
                  second, found["backdoored"], found["backdoored retrain"])


def accuracy_table(study: Study, models: Models) -> pd.DataFrame:
    """Training and test accuracy of the trained, retrained and backdoored models."""
    named = [("trained", models.trained), ("retrained (samples)", models.retrained),
             ("retrained (class)", models.class_retrained), ("backdoored", models.backdoored)]
    return pd.DataFrame({name: {"train": subset_accuracy(model, study.images, study.labels),
                                "test": study.test_accuracy(model)}
                         for name, model in named}).T


# --- sample-level requests (Figures 3-5) ----------------------------------------------------

def sample_level(study: Study, models: Models, before: dict, after: dict) -> dict:
    """The four schemes for the requested samples and for the second-trigger remaining
    samples, before (trained) and after (retrained): subset -> when -> scheme -> value."""
    s = study.settings
    everything = torch.ones_like(study.forget)

    def scheme_row(model, bd_model, subset, corner, scores, trained_on):
        row = scheme_values(model, study.images, study.labels, subset, trained_on & ~subset,
                            study.nonmembers, scores["phase2"])
        row["Backdoor"] = backdoor_asr(bd_model, study.provider.images[subset].to(study.device),
                                       study.provider.labels[subset].to(study.device),
                                       s.backdoor_target, s.trigger_size, corner)
        return row

    return {name: {"before": scheme_row(models.trained, models.backdoored, subset, corner,
                                        before, everything),
                   "after": scheme_row(models.retrained, models.backdoored_retrained, subset,
                                       corner, after, study.retain)}
            for name, subset, corner in (("unlearning samples", study.forget, "bottom-right"),
                                         ("remaining samples", models.second, "top-left"))}


def scheme_figure(values: dict, schemes: list[str], figure_numbers: list[str], ylabel: str):
    """One panel per subset of `values` (subset -> when -> scheme -> value), bars before and
    after for each scheme."""
    panels = {f"{name} (Fig. {number})": {when: [v[when][s] for s in schemes] for when in WHEN}
              for (name, v), number in zip(values.items(), figure_numbers)}
    return plots.bar_panels(panels, schemes, ylabel=ylabel, columns=2)


def sample_level_figure(values: dict):
    return scheme_figure(values, SAMPLE_SCHEMES, ["3", "4"], "INA / ASR / accuracy / SSIM")


@dataclass
class Verification:
    """Eq. 1 with the null's tau for the requested and the remaining samples, the paired
    reading of the request (`verify.paired_reading`), and the paired reading's false alarms:
    its flags when the model did not change (the trained model reconstructed again with
    another seed)."""

    requested: VerificationReport
    remaining: VerificationReport
    paired: Tensor
    paired_threshold: float
    false_alarms: Tensor
    requested_own: VerificationReport | None = None
    remaining_own: VerificationReport | None = None

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms.float().mean().item() if len(self.false_alarms) else math.nan

    def table(self) -> pd.DataFrame:
        """Algorithm 1's verdict counts with Eq. 1's tau and, beside them, with each
        sample's own null as its tau (issue: a count above tau means little when unseen
        digits clear tau as often)."""
        rows = {"requested samples": self.requested, "remaining samples": self.remaining,
                "requested, own null": self.requested_own,
                "remaining, own null": self.remaining_own}
        return pd.DataFrame({name: report.counts() for name, report in rows.items()
                             if report is not None}).T


def verification(study: Study, before: dict, after: dict, again: dict) -> Verification:
    """`before`, `after`: the trained and the retrained model's scores; `again`: the trained
    model's, from an independent reconstruction."""
    b, a, quantile = before["phase2"], after["phase2"], study.settings.null_quantile
    paired, threshold = paired_reading(b, a, study.forget, quantile)
    false_alarms, _ = paired_reading(b, again["phase2"], study.forget, quantile)
    forget, retain, null = study.forget, study.retain, study.null
    return Verification(VerificationReport(b[forget], a[forget], study.tau),
                        VerificationReport(b[retain], a[retain], study.tau),
                        paired, threshold, false_alarms,
                        VerificationReport(b[forget], a[forget], null[forget]),
                        VerificationReport(b[retain], a[retain], null[retain]))


def ssim_table(study: Study, before: dict, after: dict) -> pd.DataFrame:
    """Mean best SSIM of the requested and remaining samples: the null (unseen digits'
    best SSIM to them), before, after; and the unseen digits' own best SSIM to each model's
    reconstruction (samples that were never members: the membership signal's other side)."""
    masks = [study.forget, study.retain]
    table = pd.DataFrame({name: [ssim[mask].mean().item() for mask in masks]
                          for name, ssim in (("null (unseen digits)", study.null),
                                             ("before", before["phase2"]),
                                             ("after", after["phase2"]))},
                         index=["requested", "remaining"])
    table.loc[UNSEEN_ROW] = [math.nan, before["unseen"].mean().item(),
                             after["unseen"].mean().item()]
    return table


UNSEEN_ROW = "unseen digits (never trained on)"


def paired_summary(study: Study, checked: Verification) -> str:
    return (f"Paired reading: a drop above **{checked.paired_threshold:.3f}** (the remaining "
            f"samples' {study.settings.null_quantile:.0%} quantile) marks "
            f"**{int(checked.paired.sum())} of {len(checked.paired)}** requested samples as "
            f"unlearned; Eq. 1 with tau {study.tau:.2f} marks "
            f"{checked.requested.counts()[EXECUTED]}. On the unchanged trained model, "
            f"reconstructed again with another seed, the paired reading marks "
            f"**{int(checked.false_alarms.sum())} of {len(checked.false_alarms)}** (false-alarm "
            f"rate {checked.false_alarm_rate:.2f}).")


def reconstruction_pairs(study: Study, shown: Tensor, captions: list[str], rows: dict):
    """The training samples `shown` (first row, captioned) and, one row per entry of `rows`
    (name -> scores of `Study.recover_each`), each one's most similar reconstruction titled with
    the name and its SSIM; reconstructions are min-max scaled, as their SSIM scores them."""
    images = [study.provider.images[shown]]
    images += [minmax_scale(scores["candidates"][scores["index"][shown]])
               for scores in rows.values()]
    titles = captions + [f"{name} {scores['phase2'][i]:.2f}"
                         for name, scores in rows.items() for i in shown]
    return plots.image_grid(torch.cat(images), titles, columns=len(shown))


def first_indices(mask: Tensor, count: int) -> Tensor:
    """The indices of the first `count` samples of a boolean mask."""
    return torch.nonzero(mask).view(-1)[:count]


def sample_columns(study: Study) -> tuple[Tensor, list[str]]:
    """Four requested samples and one remaining sample of each of classes 4-7, captioned."""
    labels = study.provider.labels
    remaining = [first_indices(study.retain & (labels == c), 1) for c in range(4, 8)]
    shown = torch.cat([first_indices(study.forget, 4), *remaining])
    return shown, [f"{'req.' if study.forget[i] else 'rem.'} {labels[i].item()}" for i in shown]


def sample_pairs_figure(study: Study, before: dict, after: dict):
    """Figure 5: the `sample_columns` and their reconstructions before and after."""
    return reconstruction_pairs(study, *sample_columns(study), {"before": before, "after": after})


# --- the recovered samples' distance (Eqs. 18-20) -------------------------------------------

def recovered_distance(first: dict, second: dict) -> Tensor:
    """D_i = ||x_i - x'_i|| (Eq. 18): for each training sample, the L2 distance between its
    most similar reconstruction from one model (`first`'s scores) and from another."""
    x = first["candidates"][first["index"]].flatten(1)
    x_prime = second["candidates"][second["index"]].flatten(1)
    return (x - x_prime).norm(dim=1)


PERMUTATIONS = 10_000


def mean_gaps(values: Tensor, masks: Tensor) -> Tensor:
    """mean(values[mask]) - mean(values[~mask]) for each boolean mask (the last dimension)."""
    inside = masks.double()
    return ((inside * values).sum(-1) / inside.sum(-1)
            - ((1 - inside) * values).sum(-1) / (1 - inside).sum(-1))


def permutation_p(values: Tensor, group: Tensor, seed: int = 0) -> float:
    """One-sided permutation test of mean(values[group]) > mean(values[~group]): the share of
    PERMUTATIONS seeded relabellings, and the observed one, whose gap reaches the observed."""
    values = values.double()
    generator = torch.Generator().manual_seed(seed)
    order = torch.rand(PERMUTATIONS, len(values), generator=generator).argsort(1)
    observed = mean_gaps(values, group)
    reached = (mean_gaps(values, group[order]) >= observed - 1e-12).sum().item()
    return (1 + reached) / (1 + PERMUTATIONS)


def distance_table(study: Study, before: dict, after: dict, again: dict) -> dict:
    """Eqs. 18-20: E[D | requested] and E[D | remaining] with the permutation test's p, for
    the retrained model and, as the noise floor, for the unchanged model reconstructed again."""
    rows = {}
    for name, other in (("retrained", after), ("unchanged (reconstructed again)", again)):
        distance = recovered_distance(before, other)
        rows[name] = {"E[D | requested]": distance[study.forget].mean().item(),
                      "E[D | remaining]": distance[study.retain].mean().item(),
                      "p (permutation)": permutation_p(distance, study.forget,
                                                       study.settings.seed)}
    return rows


# --- class-level requests (Figures 6-8) -----------------------------------------------------

def class_level(study: Study, models: Models, before: dict, class_after: dict) -> dict:
    """MIA, accuracy and SSIM for the unlearned class and the remaining class, before
    (trained) and after retraining without the class: subset -> when -> scheme -> value."""
    s = study.settings
    everything = torch.ones_like(study.class_forget)
    table = {}
    for name, mask in ((f"unlearning class {s.unlearn_class}", study.class_forget),
                       (f"remaining class {s.keep_class}", study.class_kept)):
        table[name] = {}
        for when, model, scores in (("before", models.trained, before),
                                    ("after", models.class_retrained, class_after)):
            members = (~study.class_forget if when == "after" else everything) & ~mask
            table[name][when] = scheme_values(model, study.images, study.labels, mask, members,
                                              study.nonmembers, scores["phase2"])
    return table


def class_level_figure(values: dict):
    return scheme_figure(values, CLASS_SCHEMES, ["6", "6"], "INA / accuracy / SSIM")


def scheme_table(values: dict) -> pd.DataFrame:
    """subset -> when -> scheme -> value as a table: one column per (subset, when)."""
    return pd.DataFrame({(name, when): v[when] for name, v in values.items() for when in v})


def inversions(study: Study, models: Models) -> dict[str, Tensor]:
    """Model inversion's representatives of the unlearned and the kept class, from the
    trained model ("before") and the class-retrained one ("after"): INVERSION_RESTARTS of
    each class, each from its own seeded start (the unlearned class's first)."""
    s = study.settings
    classes = [s.unlearn_class] * INVERSION_RESTARTS + [s.keep_class] * INVERSION_RESTARTS
    return {when: class_representatives(model, centre_of(model).mean_image, classes,
                                        steps=s.inversion_steps, seed=s.seed).cpu()
            for when, model in (("before", models.trained), ("after", models.class_retrained))}


def inversion_figure(study: Study, representatives: dict):
    """Fig. 7: the first representative of the unlearned and of the kept class, before
    and after."""
    s, first = study.settings, [0, INVERSION_RESTARTS]
    return plots.image_grid(torch.cat([representatives["before"][first],
                                       representatives["after"][first]]),
                            [f"{when}: {c}" for when in WHEN
                             for c in (s.unlearn_class, s.keep_class)], columns=4)


def inversion_confidence(study: Study, trained: nn.Module, representatives: dict) -> dict:
    """The trained model's probability of the unlearned class for each representative of
    the unlearned class (one per restart)."""
    with torch.no_grad():
        return {when: trained(r[:INVERSION_RESTARTS].to(study.device)).softmax(1)
                [:, study.settings.unlearn_class].tolist()
                for when, r in representatives.items()}


def class_pairs_figure(study: Study, before: dict, class_after: dict):
    """Figure 8: two samples of the unlearned class and two of the kept class."""
    shown = torch.cat([first_indices(study.class_forget, 2), first_indices(study.class_kept, 2)])
    captions = [f"class {study.provider.labels[i].item()}" for i in shown]
    return reconstruction_pairs(study, shown, captions, {"before": before, "after": class_after})


# --- robustness and dishonest providers (Figures 9-10) --------------------------------------

def changed_models(study: Study, models: Models) -> dict[str, tuple[nn.Module, nn.Module]]:
    """(clean, backdoored) model pairs: as trained, pruned, fine-tuned on D, and unlearned
    (retrained) then fine-tuned on D."""
    s, recipe = study.settings, study.recipes["finetune"]
    clean = (study.images, study.labels)
    return {
        "trained": (models.trained, models.backdoored),
        "pruned": (prune_randomly(models.trained, s.prune_fraction, seed=s.seed),
                   prune_randomly(models.backdoored, s.prune_fraction, seed=s.seed)),
        "fine-tuned": (fine_tune(models.trained, *clean, recipe),
                       fine_tune(models.backdoored, *clean, recipe)),
        "unlearned + fine-tuned": (fine_tune(models.retrained, *clean, recipe),
                                   fine_tune(models.backdoored_retrained, *clean, recipe)),
    }


def robustness(study: Study, models: Models, before: dict, again: dict,
               also: dict[str, nn.Module] | None = None) -> tuple[dict, dict]:
    """For each changed model: the backdoor's ASR on the requested samples, our SSIM, the
    count of samples above tau, the paired reading against the trained model and the test
    accuracy; also each changed model's reconstruction scores, and those of the models
    `also` names (reconstructed in the same batch: `Study.recover_each`). The unchanged model
    ("trained") is scored by `again`, its independent reconstruction, not by `before`."""
    s = study.settings
    requested = (study.provider.images[study.forget].to(study.device),
                 study.provider.labels[study.forget].to(study.device))
    changed = changed_models(study, models)
    models_to_recover = {**{name: model for name, (model, _) in changed.items()
                            if name != "trained"}, **(also or {})}
    recovered = study.recover_each({name: {"model": model}
                                    for name, model in models_to_recover.items()})
    scores_of = {name: again if name == "trained" else recovered[name] for name in changed}
    rows = {}
    for name, (model, bd_model) in changed.items():
        scores = scores_of[name]
        rows[name] = {
            "backdoor ASR (requested)": backdoor_asr(bd_model, *requested, s.backdoor_target,
                                                     s.trigger_size),
            "SSIM requested": scores["phase2"][study.forget].mean().item(),
            "SSIM remaining": scores["phase2"][study.retain].mean().item(),
            "samples above tau": int((scores["phase2"] > study.tau).sum()),
            "paired: requested marked unlearned": int(paired_reading(
                before["phase2"], scores["phase2"], study.forget, s.null_quantile)[0].sum()),
            "test accuracy": study.test_accuracy(model)}
    return rows, {**scores_of, **{name: recovered[name] for name in also or {}}}


def robustness_pairs_figure(study: Study, robust_scores: dict):
    """Figure 10: the `sample_columns` and their most similar reconstruction after training
    (10b), pruning (10c), fine-tuning (10d) and unlearning then fine-tuning (10e). The
    trained model's row is its independent reconstruction ("trained" of `robustness`), the
    one the robustness table reads, not the pre-verification one."""
    rows = {"trained": robust_scores["trained"], "pruned": robust_scores["pruned"],
            "tuned": robust_scores["fine-tuned"],
            "unl.+tuned": robust_scores["unlearned + fine-tuned"]}
    return reconstruction_pairs(study, *sample_columns(study), rows)


def robustness_figure(study: Study, rows: dict):
    table = pd.DataFrame(rows).T
    return plots.grouped_bars(
        {"backdoor ASR": table["backdoor ASR (requested)"].tolist(),
         "our SSIM": table["SSIM requested"].tolist(),
         "null SSIM": [study.null[study.forget].mean().item()] * len(table)},
        [name.replace(" + ", " +\n") for name in table.index], ylabel="ASR / SSIM",
        title="Figs. 9-10: requested samples after model changes")


def providers(study: Study, before: dict, returned: dict[str, dict]) -> dict:
    """For each provider (name -> scores of the model it returns): Eq. 1's verdicts with
    the null's tau and the paired reading, for the requested samples."""
    rows = {}
    for name, scores in returned.items():
        counts = VerificationReport(before["phase2"][study.forget],
                                    scores["phase2"][study.forget], study.tau).counts()
        flags, _ = paired_reading(before["phase2"], scores["phase2"], study.forget,
                                  study.settings.null_quantile)
        rows[name] = {**counts, "paired: marked unlearned": int(flags.sum())}
    return rows


# --- verification range and the prior loss (Figures 11-12) ----------------------------------

def boundary_distance(study: Study, trained: nn.Module) -> Tensor:
    """Each training sample's Delta M = M_y(x) - max_{j != y} M_j(x) on the trained model."""
    with torch.no_grad():
        return margins(trained(study.images), study.labels).cpu()


def prior_table(study: Study, before: dict) -> pd.DataFrame:
    """Mean best SSIM (Eq. 1's: the best candidate anywhere) and samples above tau after
    phase 1, after phase 2 without the prior (the control: the same steps in the same eps
    box) and after phase 2 with it; and the mean recovery quality as Section V-D measures
    it (the SSIM of the nearest candidate by Haim et al.'s search, at most the best SSIM),
    where the run computed it."""
    phases = {"phase 1 (KKT loss)": ("phase1", "phase1_quality"),
              "phase 2 without the prior (control)": ("control", "control_quality"),
              "phase 2 with the prior (ours)": ("phase2", "phase2_quality")}
    rows = {}
    for name, (best, quality) in phases.items():
        nearest = before.get(quality) if quality else None
        rows[name] = {"mean best SSIM": before[best].mean().item(),
                      "above tau": int((before[best] > study.tau).sum()),
                      "mean nearest SSIM (Haim)": (math.nan if nearest is None
                                                   else nearest.mean().item())}
    return pd.DataFrame.from_dict(rows, orient="index")


def prior_figure(study: Study, before: dict, distance: Tensor):
    return plots.recovery_by_margin(
        distance, before["phase1"], before["phase2"], study.null, study.tau,
        tau_label=f"tau (null {study.settings.null_quantile:.0%})")


def backdoor_budget(study: Study) -> dict[float, dict]:
    """For each backdoored share of D: the count, the trigger's ASR on unseen test digits
    and the clean test accuracy of a model trained on the poisoned D."""
    s, training = study.settings, study.provider
    chosen = {fraction: random_share(len(training.labels), fraction, s.seed)
              for fraction in s.backdoor_fractions}
    models = study.train_each({f"backdoor {fraction!r}": poison(  # repr: one name each
        training.images, training.labels, share, s.backdoor_target, s.trigger_size)
        for fraction, share in chosen.items()})
    budget = {}
    for (fraction, share), model in zip(chosen.items(), models.values()):
        budget[fraction] = {"backdoored samples": int(share.sum()),
                            "ASR (unseen digits)": backdoor_asr(
                                model, study.test_images, study.test_labels,
                                s.backdoor_target, s.trigger_size),
                            "clean test accuracy": study.test_accuracy(model)}
    return budget


def budget_figure(budget: dict):
    table = pd.DataFrame(budget).T
    return plots.curves({"ASR": table["ASR (unseen digits)"].tolist(),
                         "clean accuracy": table["clean test accuracy"].tolist()},
                        x=[100 * f for f in table.index],
                        xlabel="backdoored share of the training set (%)",
                        title="Fig. 11c: backdoor budget")


def smallest_effective_share(budget: dict) -> float | None:
    """The smallest backdoored share whose ASR reaches EFFECTIVE_ASR, None if none does."""
    effective = [f for f, row in budget.items() if row["ASR (unseen digits)"] >= EFFECTIVE_ASR]
    return min(effective) if effective else None


def backdoor_verifications(budget: dict, training_size: int) -> int:
    """How many disjoint providers a training set of `training_size` can hold, each with
    the smallest effective backdoor (0 when no share in the budget is effective)."""
    smallest = smallest_effective_share(budget)
    return 0 if smallest is None else training_size // budget[smallest]["backdoored samples"]


def verifiable(study: Study, before: dict) -> dict:
    """For each SSIM level and tau: how many training samples phase 1, phase 2 and the
    null reach above it."""
    return {level: {"phase 1": int((before["phase1"] > level).sum()),
                    "phase 2": int((before["phase2"] > level).sum()),
                    "null": int((study.null > level).sum())}
            for level in [*study.settings.ssim_levels, study.tau]}


def verifiable_table(counts: dict) -> pd.DataFrame:
    return pd.DataFrame(counts).T.rename_axis("SSIM threshold")


def budget_summary(budget: dict, above_tau: dict, verifications: int) -> str:
    """The backdoor's budget against the samples above tau (`above_tau`: the `verifiable`
    row of tau), beside the null's own count above it: unseen digits clear tau too, so a
    count above tau alone verifies nothing (the verification range's claim counts the
    samples beyond chance)."""
    smallest = smallest_effective_share(budget)
    needed = f"a {smallest:.0%}" if smallest is not None else "more than the largest"
    paper = RANGE_COUNTS
    return (f"The backdoor needs {needed} share of the training set for an ASR of at least "
            f"{EFFECTIVE_ASR}, so the training set supports **{verifications}** such "
            f"verifications; the reconstruction puts **{above_tau['phase 2']}** training "
            f"samples above tau, and unseen digits put **{above_tau['null']}** there (the "
            f"claim on the verification range counts the samples beyond chance instead). The "
            f"paper: {paper['verified']} above SSIM {paper['ssim_level']} against "
            f"{paper['backdoor_verifications']} backdoor verifications, called over "
            f"{paper['claimed_factor']} times more.")


def ssim_levels_figure(study: Study, before: dict):
    """Figure 12: for each SSIM level, the reconstruction whose SSIM to its nearest training
    sample is closest to the level, under that training sample; each level shows another
    reconstruction (two close levels would otherwise show the same one)."""
    levels = study.settings.ssim_levels
    candidate_ssim, nearest = nearest_training(before["candidates"], study.provider.images)
    picked = distinct_closest(candidate_ssim, levels)
    return plots.image_grid(
        torch.cat([study.provider.images[nearest[picked]],
                   minmax_scale(before["candidates"][picked])]),
        [f"level {level}" for level in levels]
        + [f"SSIM {candidate_ssim[i]:.2f}" for i in picked], columns=len(picked))


def distinct_closest(values: Tensor, levels) -> Tensor:
    """For each level in turn, the position of the value closest to it among those not
    picked for an earlier level (as many values as levels at most)."""
    free = torch.ones(len(values), dtype=torch.bool)
    picked = []
    for level in levels[:len(values)]:
        distance = torch.where(free, (values - level).abs(), torch.tensor(math.inf))
        picked.append(int(torch.argmin(distance)))
        free[picked[-1]] = False
    return torch.tensor(picked, dtype=torch.long)


# --- relabel fine-tuning (Figures 13-14) ----------------------------------------------------

def relabel_unlearning(study: Study, trained: nn.Module) -> nn.Module:
    """Relabel-based unlearning: `trained` fine-tuned on D with the unlearned class's
    samples given random other labels."""
    mask = study.class_forget.to(study.device)
    relabelled = study.labels.clone()
    relabelled[mask] = random_relabels(study.labels[mask].cpu(), study.data.num_classes,
                                       study.settings.seed).to(study.device)
    return fine_tune(trained, study.images, relabelled, study.recipes["relabel"], desc="relabel")


def class_candidates_ssim(study: Study, trained: nn.Module, scores: dict) -> Tensor:
    """The paper's Figure 13 selection: the reconstructions of `scores` that the trained
    model classifies as the unlearned class, each scored by its SSIM to its nearest
    training sample."""
    candidates = scores["candidates"]
    as_class = predictions(trained, candidates.to(study.device)).cpu() \
        == study.settings.unlearn_class
    return nearest_training(candidates[as_class], study.provider.images)[0]


def relabel_table(study: Study, trained: nn.Module, outcomes: dict) -> dict:
    """For each outcome (name -> (model, its reconstruction scores)): the reconstructions the
    trained model classifies as the unlearned class, scored against their nearest training
    sample and how many clear the candidates' tau (`candidate_threshold`, calibrated on that
    statistic), how many of the class's samples have their best SSIM above the null's tau,
    and the model's accuracy on the class."""
    c, mask = study.settings.unlearn_class, study.class_forget
    rows = {}
    for when, (model, scores) in outcomes.items():
        best = class_candidates_ssim(study, trained, scores)
        rows[when] = {"candidates classified as the class": len(best),
                      "their mean SSIM to the nearest training sample": best.mean().item(),
                      "above tau": int((best > study.candidate_tau).sum()),
                      "tau (candidates' null)": study.candidate_tau,
                      f"class-{c} samples above the null's tau":
                          int((scores["phase2"][mask] > study.tau).sum()),
                      "accuracy on the class": subset_accuracy(
                          model, study.images[mask.to(study.device)],
                          study.labels[mask.to(study.device)])}
    return rows


def relabel_figure(study: Study, trained: nn.Module, scores_by_model: dict):
    """Figure 13: for each model, the SSIMs of `class_candidates_ssim` (the paper's
    selection: reconstructions the trained model classifies as the unlearned class, against
    their nearest training sample), with the tau calibrated on that statistic
    (`candidate_threshold`); a model with none has an empty box."""
    frame = pd.DataFrame([{"model": name, "SSIM": v}
                          for name, scores in scores_by_model.items()
                          for v in class_candidates_ssim(study, trained, scores).tolist()
                          or [math.nan]])
    return plots.box_panels(frame, ["SSIM"], ["model"], counts=True,
                            reference=(study.candidate_tau, "tau (candidates' null)"))


def relabel_pairs_figure(study: Study, relabel_scores: dict):
    """Figure 14: samples of the unlearned class and their best reconstruction after
    relabel fine-tuning."""
    shown = first_indices(study.class_forget, 4)
    captions = [f"class {study.settings.unlearn_class}" for _ in shown]
    return reconstruction_pairs(study, shown, captions, {"SSIM": relabel_scores})



# --- the evidence the claims read ----------------------------------------------------------

def mia_signal(study: Study, models: Models) -> dict:
    """The MIA on the trained model, fitted as for the requested samples' "before" bar (on
    the remaining training samples and the known non-members): [called members, n] for the
    requested samples (members) and for unseen digits (the null's, never trained on)."""
    retain, to = study.retain.to(study.device), study.device
    members = (study.images[retain], study.labels[retain])
    counts = {}
    for name, images, labels in (
            ("requested", study.images[study.forget.to(to)], study.labels[study.forget.to(to)]),
            ("unseen", study.unseen.images.to(to), study.unseen.labels.to(to))):
        rate = membership_ina(models.trained, members, study.nonmembers, (images, labels))
        counts[name] = [int(round(rate * len(labels))), len(labels)]
    return counts


def trials(study: Study, models: Models) -> dict:
    """subset -> scheme -> how many samples its rate counts: the subset, and for the
    backdoor the subset's samples not already labelled `backdoor_target`."""
    s, labels = study.settings, study.provider.labels
    subsets = {"unlearning samples": study.forget, "remaining samples": models.second,
               f"unlearning class {s.unlearn_class}": study.class_forget,
               f"remaining class {s.keep_class}": study.class_kept}
    return {name: {"MIA": int(mask.sum()), "Accuracy": int(mask.sum()),
                   "Backdoor": int((mask & (labels != s.backdoor_target)).sum())}
            for name, mask in subsets.items()}


def backdoor_cost(study: Study, budget: dict, trained_accuracy: float) -> dict:
    """The clean test accuracy with the paper's backdoored share (None when the budget has
    no such share) beside the clean model's, over the test digits, and the size of the
    training set the share was taken of."""
    share = BACKDOOR_COST["backdoored_share"]
    found = [f for f in budget if abs(f - share) < 1e-9]
    return {"clean accuracy": trained_accuracy, "test_size": len(study.test_labels),
            "training_size": len(study.labels),
            "backdoored accuracy": budget[found[0]]["clean test accuracy"] if found else None}


QUALITY = " quality"  # `Results.ssim`'s key suffix of a recovery quality (Section V-D)


def collect(study: Study, models: Models, scores: dict, *, sample_level: dict,
            class_level: dict, robustness: dict, inversion: dict, budget: dict,
            backdoor_verifications: int, relabel: dict, trained_accuracy: float,
            tables: dict | None = None, drawn: dict | None = None) -> Results:
    """The run's `Results`. `scores`: model name -> `Study.recover_each`'s scores, for "before"
    (with the control), "after", "again", "class after" and the changed models of
    `robustness`. `tables`: the fields only the tables and the results file read;
    `drawn`: what the figures draw on besides `study` and `models` (see `results`)."""
    s, before = study.settings, scores["before"]
    ssim = {name: value["phase2"].tolist() for name, value in scores.items()}
    ssim.update(phase1=before["phase1"].tolist(), control=before["control"].tolist(),
                start=before["start"].tolist(),
                **{f"{name}{QUALITY}": before[f"{key}_quality"].tolist()
                   for name, key in (("before", "phase2"), ("control", "control"))})
    distances = {name: recovered_distance(before, scores[key]).tolist()
                 for name, key in (("retrained", "after"),
                                   ("unchanged (reconstructed again)", "again"))}
    return Results(
        tau=study.tau, null=study.null.tolist(), requested=study.forget.tolist(),
        second=models.second.tolist(), class_forget=study.class_forget.tolist(),
        class_kept=study.class_kept.tolist(), ssim=ssim, sample_level=sample_level,
        class_level=class_level, trials=trials(study, models),
        mia_signal=mia_signal(study, models), distances=distances, inversion=inversion,
        robustness=robustness, backdoor_cost=backdoor_cost(study, budget, trained_accuracy),
        backdoor_verifications=backdoor_verifications, relabel=relabel,
        unseen_ssim={**{name: value["unseen"].tolist() for name, value in scores.items()
                        if "unseen" in value}, "start": before["unseen_start"].tolist()},
        candidates=len(before["candidates"]), unlearn_class=s.unlearn_class,
        keep_class=s.keep_class, study=study, models=models, **(tables or {}), **(drawn or {}))


# --- reading the run ---------------------------------------------------------------------


def reading(study: Study, before: dict, checked: Verification) -> str:
    """"Reading the verdicts", from this run's numbers: whether the reconstructions beat
    each sample's own null (fidelity: a t interval over the samples), whether they tell the
    training samples from unseen digits (membership: the AUC's DeLong interval, above one
    half and above what the reconstruction's start gives), and whether
    the paired reading marks more requested samples than it does on an unchanged model
    (Newcombe)."""
    phase2, null = before["phase2"], study.null
    signal = mean_interval((phase2 - null).tolist(), "samples")
    if signal.low > 0:
        beat = "beat"
    elif signal.high <= 0:
        beat = "do **not** beat"
    else:
        beat = "cannot be told apart from"
    auc = auc_interval(phase2.numpy(), before["unseen"].numpy())
    start = auc_interval(before["start"].numpy(), before["unseen_start"].numpy())
    boundary = max(0.5, start.high)  # as the rules' `reconstruction_signal`
    tells = ("tells" if auc.low > boundary else
             "does **not** tell" if auc.high <= boundary else "cannot be shown to tell")
    n = len(checked.paired)
    marked, alarms = int(checked.paired.sum()), int(checked.false_alarms.sum())
    change = rate_difference(marked, n, alarms, n)
    told = ("tells the change from the reconstruction's noise" if change.low > 0 else
            "does not tell the change from the reconstruction's noise at this size")
    return (
        "**Reading the verdicts.** Every rule on what the reconstruction sees asks the "
        f"control first. On {study.settings.dataset}, unseen samples already reach a mean "
        f"best SSIM of {null.mean().item():.3f} against the training samples, so Eq. 1's "
        "absolute tau must be beaten by real data the model never saw before it says "
        "anything; the paper compares before and after but never against such data. Here "
        f"each training sample's best SSIM minus its own null is {signal.text()}: the "
        f"reconstructions {beat} unseen real samples in similarity; "
        f"{int((phase2 > null).sum())} of {len(null)} training samples beat their own null, "
        f"while {int((phase2 > study.tau).sum())} clear tau, which "
        f"{int((null > study.tau).sum())} of the null's own values clear too. As a membership "
        f"test the reconstruction {tells} its training samples from those unseen digits: "
        f"their mean best SSIM to its candidates is {phase2.mean().item():.3f} against "
        f"{before['unseen'].mean().item():.3f}, AUC {auc.text()}, where its start alone (the "
        f"model's centre image, the mean of its training set) gives {start.text()}; that "
        "membership signal, not the similarity level, is what the claims on what unlearning "
        "hid presuppose. The paired reading "
        f"marks {marked} of {n} requested samples as unlearned, where Eq. 1 marks "
        f"{checked.requested.counts()[EXECUTED]}; on an unchanged model it marks {alarms}: "
        f"{change.text()}, so it {told}. "
        "The `paper` preset (its sizes are in the Setting above) is the scale at which "
        "Buzaglo et al. report faithful reconstructions.")
