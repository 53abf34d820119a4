"""Every attack and verification of `mu_core` as an entry of `attacks.registry`: one thin
adapter each over the attack's own function, which gives it the registry's call
(`unlearned, data, split, *, trained, seed, **settings`) and returns its flat numbers.

* `mra_closed`, `mra_open`: MRA's recall (`mra.membership_recall`), recall gain on forget
  and test;
* `cmira`: CMIRA (`cmira.induce_recovery` from a probing prior), Acc_U, Acc_A, R_I, R_R;
* `svc_<feature>`: the SVC metric attack on each of Song & Mittal's features
  (`mia.mia_efficacy_from_predictions`), MIA-efficacy;
* `lira`: online LiRA on the forget set, with shadow models trained on halves of
  `regime.shadow_pool` (`zoo.shadow_models`, `mia.lira_scores`);
* `learned`: the learned transformer attacker, forget (members) against validation
  (`mia.learned_attack`);
* `unlearnguard`: UnlearnGuard's verification by reconstruction (`verify.verify_unlearning`);
* `inversion`: gradient inversion of forget samples (`inversion.inversion_quality`, RSU's);
* `relearn_time`: epochs of fine-tuning on the forget set back to the trained model's loss
  (`metrics.relearn_time`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict

import torch
from torch import nn

from .. import loops, models, regime
from ..data import ImageData, pixels
from ..errors import (MAX_EPOCHS, MAX_MODELS, MAX_STEPS, ConfigError, check_budget, check_choice,
                      check_fraction, check_positive_int, check_positive_number, describe)
from ..maxmargin import Centre
from ..metrics import (accuracy_on, recovery_improvement, recovery_rate, relearn_time,
                       subset_predictions)
from ..splits import scored_split
from ..train import Recipe, predict
from ..verify import null_threshold, verify_unlearning
from ..zoo import shadow_models
from . import cmira, inversion, mra
from .mia import (LIRA_STATISTICS, MIA_FEATURES, learned_attack, lira_scores, lira_statistic,
                  mia_efficacy_from_predictions, roc_summary, shadow_keep_masks)
from .reconstruct import ReconstructionConfig
from .registry import Need, Outcome, Setting, register_attack


def _no_rng(build):
    """`build()` without moving the global random state: a check must not change a run."""
    with torch.random.fork_rng(devices=[]):
        return build()


def _check_dict(label: str, value) -> None:
    if value is not None and not isinstance(value, dict):
        raise ConfigError(f"{label} must be a dict of options, got {describe(value)}.")


# ---------------------------------------------------------------------------------------
# MRA: the recalled model's accuracy against the unlearned model's

MRA_CASES = {"mra_closed": ("dst+stu", "dst"), "mra_open": ("dst+stu+tch", "dst")}


def _mra_settings(case: str) -> dict:
    fields = mra.MRAConfig().as_dict() | {"components": MRA_CASES[case][0]}
    return {"student": "cnn", "student_options": None, **fields}


def _mra_check(case: str):
    def check(settings: dict, data: ImageData | None) -> None:
        check_choice(f"{case} components", settings.get("components", MRA_CASES[case][0]),
                     MRA_CASES[case])
        _mra_config(settings)  # MRAConfig checks every range
        _check_dict(f"{case} student_options", settings.get("student_options"))
        if data is not None:
            _no_rng(lambda: models.create_for(settings.get("student", "cnn"), data,
                                              **(settings.get("student_options") or {})))
    return check


def _mra_config(settings: dict) -> mra.MRAConfig:
    return mra.MRAConfig(**{k: v for k, v in settings.items()
                            if k not in ("student", "student_options")})


def _mra(case: str):
    def attack(unlearned, data, split, *, trained, seed, **settings) -> Outcome:
        settings = {"components": MRA_CASES[case][0], **settings}
        student = models.create_for(settings.get("student", "cnn"), data,
                                    seed=seed + mra.STUDENT_SEED_OFFSET,
                                    **(settings.get("student_options") or {}))
        prediction = torch.cat([split.test, split.forget])  # X_p = test ∪ forget
        result = mra.membership_recall(unlearned, data, prediction, student,
                                       _mra_config(settings), seed=seed)
        numbers = {}
        for subset in ("forget", "test"):
            indices = getattr(split, subset)
            before, after = accuracy_on(unlearned, data, indices), accuracy_on(
                result.recalled, data, indices)
            numbers |= {f"{subset}_unlearned": before, f"{subset}_recalled": after,
                        f"recall_gain_{subset}": after - before}
        return Outcome(numbers, result.recalled)
    return attack


for _case, _title in (("mra_closed", "MRA, closed source (DST+STU): recall gain"),
                      ("mra_open", "MRA, open source (DST+STU+TCH): recall gain")):
    register_attack(_case, _title, settings=_mra_settings(_case),
                    check=_mra_check(_case))(_mra(_case))


# ---------------------------------------------------------------------------------------
# CMIRA: inducing recovery from a probing prior

def _partial_classwise(setting: Setting) -> str | None:
    if setting.split.kind == "classwise":
        return None
    return f"this split's forgetting is {setting.split.kind}"


PARTIAL_CLASSWISE = Need("partial class-wise forgetting (classes whose other images are "
                         "retained)", _partial_classwise)
CMIRA_EXTRA = {"backbone": "cnn", "backbone_options": None, "probe_size": None,
               "anchor_size": None, "prior": None}


def _cmira_config(settings: dict) -> cmira.CMIRAConfig:
    return cmira.CMIRAConfig(**{k: v for k, v in settings.items() if k not in CMIRA_EXTRA})


def _cmira_check(settings: dict, data: ImageData | None) -> None:
    config = _cmira_config(settings)
    _check_dict("cmira backbone_options", settings.get("backbone_options"))
    for key in ("probe_size", "anchor_size"):
        if settings.get(key) is not None:
            check_positive_int(f"cmira {key}", settings[key])
    prior = settings.get("prior")
    if prior is not None and not isinstance(prior, nn.Module):
        raise ConfigError(f"cmira prior must be a pretrained attack model (an nn.Module, "
                          f"cmira.lipsoftmax_model) or None, got {describe(prior)}.")
    if data is not None and prior is None:
        _no_rng(lambda: cmira.lipsoftmax_model(settings.get("backbone", "cnn"), data,
                                               head_width=config.head_width,
                                               **(settings.get("backbone_options") or {})))


@register_attack("cmira", "CMIRA (P+U+A): recovery of the forgotten class-wise images",
                 needs=(PARTIAL_CLASSWISE,),
                 settings={**asdict(cmira.CMIRAConfig()), **CMIRA_EXTRA}, check=_cmira_check)
def cmira_attack(unlearned, data, split, *, trained, seed, **settings) -> Outcome:
    """The prior is `prior` (copied) or pretrained here on the probing set (`probe_size`
    of the test split); the rounds' labelled anchor is `anchor_size` of it."""
    config = _cmira_config(settings)
    prior = settings.get("prior")
    if prior is None:
        prior = cmira.lipsoftmax_model(settings.get("backbone", "cnn"), data,
                                       head_width=config.head_width,
                                       seed=seed + cmira.ATTACK_SEED_OFFSET,
                                       **(settings.get("backbone_options") or {}))
        cmira.pretrain(prior, data, cmira.probing_set(data, split, settings.get("probe_size"),
                                                      seed), config, seed=seed)
    anchor = cmira.probing_set(data, split, settings.get("anchor_size"), seed)
    result = cmira.induce_recovery(unlearned, copy.deepcopy(prior), data, anchor, split.forget,
                                   config, seed=seed)
    acc_u = accuracy_on(unlearned, data, split.forget)
    acc_a = accuracy_on(result.attack, data, split.forget)
    return Outcome({"acc_u": acc_u, "acc_a": acc_a, "r_i": recovery_improvement(acc_a, acc_u),
                    "r_r": recovery_rate(acc_a, acc_u), "rounds": result.rounds},
                   result.attack)


# ---------------------------------------------------------------------------------------
# Membership inference: the SVC metric attacks, LiRA, the learned attacker

def _svc(feature: str):
    def attack(unlearned, data, split, *, trained, seed) -> Outcome:
        scored, _ = scored_split(data, split)
        forget, retain, test = subset_predictions(unlearned, data, scored)
        return Outcome({"mia_efficacy": mia_efficacy_from_predictions(
            retain, test, forget, feature=feature, seed=seed)})
    return attack


for _feature in MIA_FEATURES:
    register_attack(f"svc_{_feature}", f"SVC metric attack on the {_feature.replace('_', ' ')}"
                    f": MIA-efficacy", settings={})(_svc(_feature))


def _shadow_pool_missing(setting: Setting) -> str | None:
    try:
        regime.shadow_pool(setting.data, setting.split.train, 0)
    except ConfigError as error:
        return str(error).rstrip(".")
    return None


SHADOW_POOL = Need("shadow models trained on halves of a pool of the trained model's "
                   "samples and as many unseen training-split samples", _shadow_pool_missing)


def _lira_check(settings: dict, data: ImageData | None) -> None:
    count = check_budget("lira shadow_count", settings.get("shadow_count", regime.SHADOW_COUNT),
                         MAX_MODELS)
    try:  # the coverage online LiRA needs, on two samples each in half of the models
        keep = shadow_keep_masks(max(count, 2), 2, seed=0)[:count]
        lira_scores(torch.zeros(keep.shape, dtype=torch.float64), keep,
                    torch.zeros(2, dtype=torch.float64),
                    fix_variance=settings.get("fix_variance", True))
    except ConfigError:
        raise ConfigError(f"lira shadow_count must put every sample in and out of at least 2 "
                          f"shadow models for online LiRA (4 or more), got {count}.") from None
    check_choice("lira statistic", settings.get("statistic", regime.STATISTIC), LIRA_STATISTICS)
    given = settings.get("shadow_statistics")
    if given is not None and (not isinstance(given, torch.Tensor) or given.dim() != 2):
        raise ConfigError(f"lira shadow_statistics must be a (shadow models x pool samples) "
                          f"tensor from lira_shadow_statistics, or None, got {describe(given)}.")
    _check_dict("lira architecture_options", settings.get("architecture_options"))
    _check_dict("lira recipe", settings.get("recipe"))
    Recipe(**(settings.get("recipe") or {}))
    if data is not None:
        _no_rng(lambda: models.create_for(settings.get("architecture", "cnn"), data,
                                          **(settings.get("architecture_options") or {})))


def lira_shadow_statistics(data: ImageData, split, *, seed: int,
                           shadow_count: int = regime.SHADOW_COUNT,
                           architecture: str = "cnn", architecture_options: dict | None = None,
                           recipe: dict | None = None, statistic: str = regime.STATISTIC,
                           **_) -> torch.Tensor:
    """LiRA's shadow models' statistic on every sample of the split's shadow pool (models x
    pool, CPU), the shadow models trained or read from the cache: the same for every model
    attacked on this split with this seed, so a study that attacks many can compute it
    once and pass it as the attack's `shadow_statistics`."""
    pool = regime.shadow_pool(data, split.train, seed)
    ensemble, _, _ = shadow_models(data, pool, architecture, Recipe(**(recipe or {})),
                                   count=shadow_count, seed=seed,
                                   **(architecture_options or {}))
    return lira_statistic(ensemble.logits(data, pool), data.targets(pool).cpu(), kind=statistic)


@register_attack("lira", "online LiRA on the forget set against unseen samples",
                 needs=(SHADOW_POOL,), check=_lira_check)
def lira_attack(unlearned, data, split, *, trained, seed, shadow_count: int = regime.SHADOW_COUNT,
                architecture: str = "cnn", architecture_options: dict | None = None,
                recipe: dict | None = None, statistic: str = regime.STATISTIC,
                fix_variance: bool = True,
                shadow_statistics: torch.Tensor | None = None) -> Outcome:
    """The shadow models train like the trained model when `architecture`, its options and
    `recipe` (Recipe's fields) are the trained model's. Members are the forget samples,
    non-members the pool's samples outside the training set; `member_share` is the share of
    the forget set LiRA calls members (score > 0, RSU's MIA score). `shadow_statistics`:
    `lira_shadow_statistics` of this split, seed and these settings, when the caller has
    them (None: computed here)."""
    pool = regime.shadow_pool(data, split.train, seed)
    settings = dict(shadow_count=shadow_count, architecture=architecture,
                    architecture_options=architecture_options, recipe=recipe,
                    statistic=statistic)
    stats = lira_shadow_statistics(data, split, seed=seed, **settings) \
        if shadow_statistics is None else shadow_statistics
    if stats.shape != (shadow_count, len(pool)):
        raise ConfigError(f"lira shadow_statistics must be {shadow_count} shadow models x "
                          f"{len(pool)} pool samples (lira_shadow_statistics of this split and "
                          f"seed), got shape {tuple(stats.shape)}.")
    keep = shadow_keep_masks(shadow_count, len(pool), seed=seed)
    target = lira_statistic(predict(unlearned, data, pool, output="logits"),
                            data.targets(pool).cpu(), kind=statistic)
    scores = lira_scores(stats, keep, target, online=True, fix_variance=fix_variance)
    forget = torch.isin(pool, split.forget.cpu())
    unseen = ~torch.isin(pool, split.train.cpu())
    chosen = forget | unseen
    summary = roc_summary(scores[chosen], forget[chosen])
    return Outcome({**summary, "member_share": float((scores[forget] > 0).double().mean())})


def _validation_missing(setting: Setting) -> str | None:
    count = len(setting.split.val)
    return None if count >= 2 else f"this split has {count} validation image(s)"


VALIDATION = Need("at least 2 validation images (the learned attacker's non-members)",
                  _validation_missing)


def _learned_check(settings: dict, data: ImageData | None) -> None:
    check_fraction("learned train_fraction", settings.get("train_fraction", 0.5),
                   allow_one=False)
    check_budget("learned epochs", settings.get("epochs", 30), MAX_EPOCHS)


@register_attack("learned", "learned transformer attacker, forget against validation: AUC",
                 needs=(VALIDATION,), check=_learned_check)
def learned(unlearned, data, split, *, trained, seed, train_fraction: float = 0.5,
            epochs: int = 30) -> Outcome:
    return Outcome(learned_attack(unlearned, data, split.forget, split.val,
                                  train_fraction=train_fraction, epochs=epochs, seed=seed))


# ---------------------------------------------------------------------------------------
# Reconstruction: UnlearnGuard's verification, gradient inversion

def _margin_mlp_missing(setting: Setting) -> str | None:
    model = setting.trained
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if any(isinstance(m, nn.Conv2d) for m in layers):
        return "this setting's trained model is a convolutional network, not an MLP"
    if not any(isinstance(m, Centre) for m in model.modules()):
        return ("this setting's trained model is not a homogeneous MLP built for "
                "reconstruction (it has no input-centring layer)")
    if any(m.bias is not None for m in layers):
        return "this setting's trained model has biases"
    return None


MARGIN_MLP = Need("a bias-free MLP trained to a margin (maxmargin.homogeneous_mlp, "
                  "maxmargin.train_to_margin)", _margin_mlp_missing)
GUARD_EXTRA = {"tau": None, "null_quantile": 0.95}


def _guard_check(settings: dict, data: ImageData | None) -> None:
    ReconstructionConfig(**{k: v for k, v in settings.items() if k not in GUARD_EXTRA})
    if settings.get("tau") is not None:
        check_fraction("unlearnguard tau", settings["tau"])
    check_fraction("unlearnguard null_quantile", settings.get("null_quantile", 0.95))


@register_attack("unlearnguard", "UnlearnGuard's verification by reconstruction (Algorithm 1)",
                 needs=(MARGIN_MLP,),
                 settings={**{k: v for k, v in asdict(ReconstructionConfig()).items()
                              if k != "seed"}, **GUARD_EXTRA}, check=_guard_check)
def unlearnguard(unlearned, data, split, *, trained, seed, **settings) -> Outcome:
    """Pre-verification on `trained`, post-verification on `unlearned`, of the forget
    images; `tau` (Eq. 1) is given, or the `null_quantile` of the test images' best SSIM
    to them (`verify.null_threshold`). The reconstruction's seed is `seed`."""
    config = ReconstructionConfig(**{k: v for k, v in settings.items()
                                     if k not in GUARD_EXTRA} | {"seed": seed})
    requested = pixels(data, split.forget)
    tau = settings.get("tau")
    if tau is None:
        tau, _ = null_threshold(requested, pixels(data, split.test),
                                settings.get("null_quantile", 0.95))
    report = verify_unlearning(trained, unlearned, requested, tau, config)
    shares = {name.replace(" ", "_"): count / len(requested)
              for name, count in report.counts().items()}
    return Outcome({**shares, "tau": tau, "ssim_before": report.ssim_before.mean().item(),
                    "ssim_after": report.ssim_after.mean().item()})


def _inversion_check(settings: dict, data: ImageData | None) -> None:
    check_positive_int("inversion samples", settings.get("samples", 8))
    check_budget("inversion steps", settings.get("steps", 300), MAX_STEPS)
    check_positive_number("inversion lr", settings.get("lr", 0.3))
    check_positive_number("inversion tv_weight", settings.get("tv_weight", 3e-2),
                          allow_zero=True)
    check_choice("inversion objective", settings.get("objective", "cosine"),
                 inversion.OBJECTIVES)
    check_choice("inversion precision", settings.get("precision", "float64"),
                 inversion.PRECISIONS)


@register_attack("inversion", "gradient inversion of forget samples (RSU's): mean SSIM",
                 check=_inversion_check)
def gradient_inversion(unlearned, data, split, *, trained, seed, samples: int = 8,
                       steps: int = 300, lr: float = 0.3, tv_weight: float = 3e-2,
                       objective: str = "cosine",
                       precision: str = "float64") -> Outcome:
    """`samples` forget samples drawn with `seed`, each inverted from its own gradient
    under the unlearned model."""
    order = torch.randperm(len(split.forget), generator=torch.Generator().manual_seed(seed))
    chosen = split.forget.cpu()[order[:samples]]
    with loops.loop("gradient inversion", None, "step", work=len(chosen) * steps,
                    device=data.device, over=("steps",)):
        quality, _ = inversion.inversion_quality(unlearned, data, chosen, steps=steps, lr=lr,
                                                 tv_weight=tv_weight, objective=objective,
                                                 seed=seed, chunk_size=len(chosen),
                                                 precision=precision)
    return Outcome({"ssim_mean": quality.mean().item(), "ssim_max": quality.max().item()})


# ---------------------------------------------------------------------------------------
# Relearn time

def _relearn_check(settings: dict, data: ImageData | None) -> None:
    check_positive_number("relearn_time lr", settings.get("lr", 0.01))
    check_positive_int("relearn_time batch_size", settings.get("batch_size", 128))
    check_budget("relearn_time max_epochs", settings.get("max_epochs", 20), MAX_EPOCHS,
                 allow_zero=True)


@register_attack("relearn_time", "relearn time: epochs on the forget set to the trained loss",
                 check=_relearn_check)
def relearn(unlearned, data, split, *, trained, seed, lr: float = 0.01, batch_size: int = 128,
            max_epochs: int = 20) -> Outcome:
    """`epochs` is NaN where `max_epochs` did not suffice (`reached` 0): the time is then
    only known to exceed them."""
    labels = data.targets(split.forget).cpu()
    reference = nn.functional.cross_entropy(
        predict(trained, data, split.forget, output="logits"), labels).item()
    epochs = relearn_time(unlearned, data, split, reference, lr=lr, batch_size=batch_size,
                          max_epochs=max_epochs, seed=seed)
    return Outcome({"epochs": math.nan if epochs is None else epochs,
                    "reached": float(epochs is not None)})

