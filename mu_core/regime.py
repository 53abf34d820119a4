"""How much a chapter's trained model leaks membership: the regime its membership claims
rest on.

An attack at chance on the trained model cannot show that unlearning hid anything, so a
chapter whose claims read membership opens with this table: the trained model's train and
test accuracy, their gap, and online LiRA (Carlini et al. 2022) against it, with shadow
models trained exactly like it (same architecture, recipe and training-set size) on random
halves of a pool made of its training set and as many other training samples. Every pool
sample is then a member of the trained model or not, so its AUC has an interval (DeLong)
and its TPR at 1% FPR is read on the model the chapter attacks. The leave-one-out AUC over
the shadow models (each in turn the target) says how strong the attack is on the recipe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor, nn

from . import claims
from .attacks.mia.lira import (leave_one_out_scores, lira_scores, lira_statistic,
                               roc_summary, shadow_keep_masks)
from .data import ImageData
from .errors import MAX_MODELS, ConfigError, check_budget
from .metrics import accuracy_on
from .train import Recipe, predict
from .splits import Split, make_split
from .zoo import shadow_models, trained_model

SHADOW_COUNT = 16  # the fewest the book trains (Carlini et al. show LiRA works from 16 on)
MIN_AUC, MIN_TPR = 0.62, 0.05  # what issue 31 asks of a leaky cpu regime
STATISTIC = "scaled_confidence"  # Carlini et al.'s log(p_y / (1 - p_y))


@dataclass(frozen=True)
class Leakage:
    """The regime of one trained model (fractions, not percent)."""

    train_accuracy: float
    test_accuracy: float
    auc: claims.Interval  # online LiRA on the trained model, members vs non-members
    tpr_at_1pct_fpr: float
    shadow_auc: float  # leave-one-out over the shadow models
    shadow_tpr_at_1pct_fpr: float
    shadow_count: int
    pool_size: int
    target: str = "the trained model"  # the model LiRA's AUC and TPR were read on

    @property
    def gap(self) -> float:
        return self.train_accuracy - self.test_accuracy

    def no_signal(self) -> str | None:
        """Why membership claims cannot be tested on this model (None: LiRA's AUC interval
        lies above chance)."""
        if not self.shadow_count:
            return "online LiRA was not run (shadow_count 0)"
        return claims.attack_signal(self.auc, "online LiRA", self.target)

    def as_dict(self) -> dict:
        """Plain numbers for a results JSON (the AUC with its interval's ends and n)."""
        return {"train_accuracy": self.train_accuracy, "test_accuracy": self.test_accuracy,
                "gap": self.gap, "auc": self.auc.estimate, "auc_low": float(self.auc.low),
                "auc_high": float(self.auc.high), "auc_n": self.auc.n,
                "tpr_at_1pct_fpr": self.tpr_at_1pct_fpr, "shadow_auc": self.shadow_auc,
                "shadow_tpr_at_1pct_fpr": self.shadow_tpr_at_1pct_fpr,
                "shadow_count": self.shadow_count, "pool_size": self.pool_size,
                "target": self.target, "no_signal": self.no_signal()}

    def quoted(self, prefix: str = "regime_") -> dict:
        """The numbers the prose may quote."""
        return {f"{prefix}auc": round(self.auc.estimate, 3),
                f"{prefix}tpr": round(100 * self.tpr_at_1pct_fpr, 1),
                f"{prefix}gap": round(100 * self.gap, 1)}


def shadow_pool(data: ImageData, train: Tensor, seed: int) -> Tensor:
    """The trained model's training samples and as many other training-split samples (of
    `data.train` or of `data.reserve`; never test samples: the chapters score on those),
    drawn with `seed`, sorted."""
    train = torch.as_tensor(train).long().cpu()
    candidates = torch.cat([data.train.cpu(), data.reserve.cpu()])
    others = candidates[~torch.isin(candidates, train)]
    if len(others) < len(train):
        raise ConfigError(f"a LiRA pool needs as many training-split samples outside the "
                          f"trained model's {len(train)} as in it; {data.name} has "
                          f"{len(others)} more. Use a train_size of at most "
                          f"{len(candidates) // 2}.")
    generator = torch.Generator().manual_seed(seed)
    extra = others[torch.randperm(len(others), generator=generator)[:len(train)]]
    return torch.cat([train, extra]).sort().values


@dataclass(frozen=True)
class OnlineLiRA:
    """Online LiRA against one trained model on a shadow pool, and the same attack on each
    shadow model in turn (leave one out): the attack's strength on the recipe."""

    auc: claims.Interval  # on the trained model, its members vs the pool's other samples
    tpr_at_1pct_fpr: float
    shadow_auc: float
    shadow_tpr_at_1pct_fpr: float
    target: str = "the trained model"  # the model(s) `auc` and the TPR were read on


def online_lira(trained: nn.Module, data: ImageData, pool: Tensor, member: Tensor,
                shadow_stats: Tensor, shadow_in: Tensor, *, kind: str = STATISTIC,
                fix_variance: bool = True) -> OnlineLiRA:
    """LiRA with the shadow models' statistics (`kind`) on `pool` against `trained`, whose
    training samples `member` marks, and leave one shadow model out."""
    labels = data.targets(pool).cpu()
    target = lira_statistic(predict(trained, data, pool, output="logits"), labels, kind=kind)
    scores = lira_scores(shadow_stats, shadow_in, target, online=True,
                         fix_variance=fix_variance)
    on_target = roc_summary(scores, member)
    on_shadows = roc_summary(leave_one_out_scores(shadow_stats, shadow_in, online=True,
                                                  fix_variance=fix_variance), shadow_in)
    return OnlineLiRA(auc=claims.auc_interval(scores[member].numpy(), scores[~member].numpy()),
                      tpr_at_1pct_fpr=on_target["tpr_at_1%_fpr"],
                      shadow_auc=on_shadows["auc"],
                      shadow_tpr_at_1pct_fpr=on_shadows["tpr_at_1%_fpr"])


def leave_one_out_only(shadow_stats: Tensor, shadow_in: Tensor, *, seed: int,
                       fix_variance: bool = True) -> OnlineLiRA:
    """Where the trained model has no unseen training-split sample to score (it trained on
    the whole split), only the attack's strength on the recipe: each shadow model in turn
    the target of LiRA fitted on the others (`leave_one_out_auc`)."""
    held_out = leave_one_out_scores(shadow_stats, shadow_in, online=True,
                                    fix_variance=fix_variance)
    summary = roc_summary(held_out, shadow_in)
    return OnlineLiRA(auc=leave_one_out_auc(held_out, shadow_in, seed),
                      tpr_at_1pct_fpr=summary["tpr_at_1%_fpr"], shadow_auc=summary["auc"],
                      shadow_tpr_at_1pct_fpr=summary["tpr_at_1%_fpr"],
                      target="each shadow model in turn (leave one out)")


def leave_one_out_auc(held_out: Tensor, shadow_in: Tensor, seed: int) -> claims.Interval:
    """The AUC of leave-one-model-out scores (`held_out`, (models, samples)) with DeLong's
    interval, from one score per sample, of a shadow model drawn at random (seeded): a
    sample's scores on the other models are not independent of it, so pooling all of them
    would narrow the interval falsely."""
    held_out, keep = torch.as_tensor(held_out), torch.as_tensor(shadow_in).bool()
    generator = torch.Generator().manual_seed(seed)
    model = torch.randint(len(held_out), (held_out.shape[1],), generator=generator)
    columns = torch.arange(held_out.shape[1])
    score, member = held_out[model, columns].numpy(), keep[model, columns].numpy()
    return claims.auc_interval(score[member], score[~member])


def unseen_count(data: ImageData, train: Tensor) -> int:
    """How many training-split samples (`data.train` and `data.reserve`) lie outside `train`."""
    return len(data.train) + len(data.reserve) - int(
        torch.isin(torch.as_tensor(train).cpu(), data.train.cpu()).sum())


def measure(data: ImageData, train: Tensor, trained: nn.Module, architecture: str,
            recipe: Recipe, *, seed: int = 0, shadow_count: int = SHADOW_COUNT,
            **architecture_options) -> Leakage:
    """The trained model's accuracies and online LiRA against it, from `shadow_count`
    shadow models trained like it (`recipe`, `architecture`) on halves of `shadow_pool`
    (one variance per Gaussian, as Carlini et al. advise below 64 shadow models). With
    `shadow_count` 0 (a paper-scale run, where 16 more trainings would multiply its cost),
    the accuracies alone."""
    if shadow_count == 0:
        return accuracies_only(data, train, trained)
    pool = shadow_pool(data, train, seed)
    if 2 * len(train) != len(pool):  # every shadow trains on as many samples as the target
        raise ConfigError("the trained model's samples must be distinct.")
    ensemble, keep, _ = shadow_models(data, pool, architecture, recipe, count=shadow_count,
                                      seed=seed, **architecture_options)
    stats = lira_statistic(ensemble.logits(data, pool), data.targets(pool).cpu(),
                           kind=STATISTIC)
    member = torch.isin(pool, torch.as_tensor(train).cpu())
    return leakage_of(trained, data, train, online_lira(trained, data, pool, member, stats, keep),
                      shadow_count, len(pool))


def leakage_of(trained: nn.Module, data: ImageData, train: Tensor, attack: OnlineLiRA,
               shadow_count: int, pool_size: int) -> Leakage:
    """The regime of `trained` (its accuracies on `train` and the test split) with `attack`."""
    return Leakage(train_accuracy=accuracy_on(trained, data, torch.as_tensor(train)),
                   test_accuracy=accuracy_on(trained, data, data.test),
                   auc=attack.auc, tpr_at_1pct_fpr=attack.tpr_at_1pct_fpr,
                   shadow_auc=attack.shadow_auc,
                   shadow_tpr_at_1pct_fpr=attack.shadow_tpr_at_1pct_fpr,
                   shadow_count=shadow_count, pool_size=pool_size, target=attack.target)


def check_shadow_count(shadow_count) -> None:
    """0 (no LiRA) or enough shadow models for `measure`'s leave-one-out attack on them,
    checked before any training."""
    if shadow_count == 0 and not isinstance(shadow_count, bool):
        return
    try:
        check_budget("shadow_count", shadow_count, MAX_MODELS)
        keep = shadow_keep_masks(shadow_count, 2, seed=0)
        leave_one_out_scores(torch.zeros(keep.shape, dtype=torch.float64), keep, online=True,
                             fix_variance=True)
    except ConfigError as error:
        raise ConfigError(f"shadow_count must be 0 (no LiRA) or enough shadow models for "
                          f"leave-one-out LiRA, got {shadow_count!r}: {error}") from None


def accuracies_only(data: ImageData, train: Tensor, trained: nn.Module) -> Leakage:
    """The regime without LiRA: the trained model's train and test accuracy."""
    return Leakage(train_accuracy=accuracy_on(trained, data, torch.as_tensor(train)),
                   test_accuracy=accuracy_on(trained, data, data.test),
                   auc=claims.Interval(math.nan, -math.inf, math.inf, "not run"),
                   tpr_at_1pct_fpr=math.nan, shadow_auc=math.nan,
                   shadow_tpr_at_1pct_fpr=math.nan, shadow_count=0, pool_size=0)


def of_trained(data: ImageData, split: Split, architecture: str, recipe: Recipe, *,
                seed: int = 0, shadow_count: int = SHADOW_COUNT, **architecture_options) -> Leakage:
    """`measure` on the model the zoo trains on `split.train` with this seed (the one the
    chapter unlearns from, from the cache when it was built before)."""
    trained, _ = trained_model(data, split, architecture, recipe, seed=seed,
                               **architecture_options)
    return measure(data, split.train, trained, architecture, recipe, seed=seed,
                   shadow_count=shadow_count, **architecture_options)


def of_setting(data: ImageData, spec: dict, architecture: str, recipe: Recipe, *,
               seed: int = 0, shadow_count: int = SHADOW_COUNT,
               **architecture_options) -> Leakage:
    """`of_trained` on the split a chapter's forgetting setting `spec` (`make_split`'s
    arguments) draws with this seed: the trained model the chapter unlearns from."""
    return of_trained(data, make_split(data, seed=seed, **spec), architecture, recipe,
                      seed=seed, shadow_count=shadow_count, **architecture_options)


def table(leakage: Leakage, paper: dict | None = None) -> pd.DataFrame:
    """The regime table: our numbers beside the paper's where it gives them (`paper`: any of
    train_accuracy, test_accuracy, gap, auc, tpr in percent or AUC units)."""
    paper = paper or {}
    auc, ran = leakage.auc, leakage.shadow_count > 0

    def lira(text: str) -> str:
        return text if ran else "not run (shadow_count 0)"

    rows = {
        "train accuracy (%)": (f"{100 * leakage.train_accuracy:.1f}", paper.get("train_accuracy")),
        "test accuracy (%)": (f"{100 * leakage.test_accuracy:.1f}", paper.get("test_accuracy")),
        "gap (points)": (f"{100 * leakage.gap:.1f}", paper.get("gap")),
        f"online LiRA AUC on {leakage.target}":
            (lira(f"{auc.estimate:.3f} [{auc.low:.3f}, {auc.high:.3f}], {auc.n}"),
             paper.get("auc")),
        "TPR at 1% FPR (%)": (lira(f"{100 * leakage.tpr_at_1pct_fpr:.1f}"), paper.get("tpr")),
        f"leave-one-out AUC over the {leakage.shadow_count} shadow models":
            (lira(f"{leakage.shadow_auc:.3f}"), None),
        "membership claims testable": (leakage.no_signal() or "yes: the AUC's interval "
                                       "lies above 0.5", None),
    }
    frame = pd.DataFrame({"here": {k: v[0] for k, v in rows.items()},
                          "paper": {k: "-" if v[1] is None else str(v[1])
                                    for k, v in rows.items()}})
    frame.index.name = "regime"
    return frame
