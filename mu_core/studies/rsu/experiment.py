"""The RSU study's runs, tables and figures.

Part one, the paper's Q1. Every training sample gets two privacy risks against the trained
model: its LiRA attack success rate over shadow models (Eq. 1, leave one model out) and how
well gradient inversion reconstructs it from its own gradient (SSIM). The riskiest samples
by each (MI High, MIA High) and a random set of the same size (Low) are unlearned by six
methods (Tables 1-2), and compared by attack success, entropy, confidence, relearn time and
loss (Figures 2-5, Table 3). The MIA score of a model on a set is the share of the set that
online LiRA, with the shadow models' Gaussians, calls members (the paper: "we use LiRA to
compute the MIA score").

Part two, Q2. GA, RL and Bad-T with and without RSU, in class and in random forgetting
(Tables 5-6), each scored against retraining of the same seed (ToW, Eq. 2); and GA in
three orders (Figure 7), with a one-go control held to the steps GA took inside RSU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ... import cache, loops, plots, regime
from ...attacks.inversion import LR as INVERSION_LR
from ...attacks.inversion import PRECISIONS, REFERENCE, chunk_for, easiest_to_invert, \
    inversion_quality
from ...attacks.inversion import TV_WEIGHT as INVERSION_TV
from ...attacks.mia import lira_scores, lira_statistic, privacy_scores, shadow_keep_masks
from ...claims import Interval, paired_difference
from ...data import ImageData, pixels
from ...errors import (MAX_EPOCHS, MAX_MODELS, MAX_STEPS, ConfigError, check_budget,
                       check_choice, check_positive_int, check_positive_number)
from ...metrics import relearn_time, tug_of_war
from ...papers import rsu as paper
from ...splits import Split, make_split
from ...train import Recipe, predict
from ...unlearn import check_request
from ...zoo import (check_plan_shape, recipe_settings, shadow_models, trained_model,
                    unlearned_model)
from .. import mean_std

LABELS = {"retain": "Acc_Dr", "val": "Acc_val", "val_kept": "Acc_val (kept classes)",
          "forget": "Acc_Du", "mia_gap": "MIA gap",
          "forget_drop": "Acc_Du drop from the original",
          "tow": "ToW", "relearn": "relearn epochs"}
PERCENT = ("retain", "val", "val_kept", "forget", "forget_drop")  # in %; the others as they are
PART_TWO_METRICS = ("retain", "val", "val_kept", "forget", "tow", "mia_gap")
RISKS = ("mi", "mia")  # model inversion, membership inference
PAPER_DATASETS = {"mnist5k": "mnist", "mnist": "mnist", "cifar10": "cifar10",
                  "cifar100": "cifar100", "tiny_imagenet": "tiny_imagenet"}
RISK_METHODS = paper.METHODS[1:]  # the unlearning methods of Tables 1-2 (not 'original')
RSU_BASES = tuple(paper.TABLE5["mnist"])  # the methods of Tables 5-6: GA, RL, Bad-T
TOP_SHARE = 0.8  # Table 3: the top 80% of a class's confidences, the bottom 20% the tail
LOSS_INTERVALS = 10  # Fig. 5: "the loss values of 10 different intervals"
FIGURE1_IMAGES = 10  # Fig. 1: "10 images" per dataset


def scale(metric: str) -> float:
    """100 for accuracies (shown in %), 1 for the MIA gap, ToW and relearn epochs."""
    return 100 if metric in PERCENT else 1


@dataclass(frozen=True)
class Setup:
    """What every experiment of the chapter shares."""

    data: ImageData
    architecture: str
    architecture_options: dict
    recipe: Recipe
    hyperparameters: dict  # method -> settings

    def trained(self, split: Split, seed: int):
        return trained_model(self.data, split, self.architecture, self.recipe, seed=seed,
                             **self.architecture_options)

    def settings(self, method: str, seed: int, settings: dict | None = None) -> dict:
        """What `method` runs with: `settings` (default: the chapter's for it) and `seed`;
        retraining repeats the trained model's recipe unless `settings` say otherwise."""
        chosen = self.hyperparameters.get(method, {}) if settings is None else settings
        chosen = dict(chosen, seed=seed)
        return {**recipe_settings(self.recipe), **chosen} if method == "retrain" else chosen

    def unlearned(self, split: Split, trained, method: str, settings: dict | None, seed: int):
        """`trained` (a `trained_model` result) unlearned by `method`; a stopping rule of
        `UNSEEN` is set to the level of `trained`'s own model on this split
        (`unseen_level`), the same for a method alone and inside RSU's rounds."""
        chosen = self.settings(method, seed, settings)
        if asks_unseen(chosen):
            chosen = with_stop_level(chosen, unseen_level(self.data, split, trained[0]))
        return unlearned_model(self.data, split, method, trained, **chosen)


UNSEEN = "unseen"  # GA's `stop_at`: the accuracy a model that never saw the forget set has


def unseen_level(data: ImageData, split: Split, model: nn.Module) -> float:
    """The forget set's accuracy under a model that never trained on it, known without
    retraining: 0 for whole forgotten classes (such a model never predicts them); else
    `model`'s accuracy on the test split, samples it never saw."""
    if split.kind == "class":
        return 0.0
    labels = data.targets(split.test).cpu()
    return (predict(model, data, split.test).argmax(1) == labels).float().mean().item()


def asks_unseen(settings: dict) -> bool:
    """Whether `settings` (or RSU's `base_settings` in them) stop at `UNSEEN`."""
    return UNSEEN in (settings.get("stop_at"), (settings.get("base_settings") or {}).get(
        "stop_at"))


def with_stop_level(settings: dict, level: float) -> dict:
    """`settings` with a `stop_at` of `UNSEEN` set to `level`, in RSU's `base_settings`
    too."""
    out = dict(settings)
    if out.get("stop_at") == UNSEEN:
        out["stop_at"] = level
    base = out.get("base_settings")
    if isinstance(base, dict) and base.get("stop_at") == UNSEEN:
        out["base_settings"] = {**base, "stop_at": level}
    return out


def checked_settings(settings: dict) -> dict:
    """`settings` as checked before any training: `UNSEEN` becomes a stand-in level (0)
    and `SAME_STEPS` a stand-in count (1), since the models that give the real ones are
    not built yet."""
    return with_steps(with_stop_level(settings, 0.0), 1)


def check_requests(setup: Setup, scenarios: dict[str, dict], runs: dict[str, dict],
                   risk_methods, seeds,
                   subset_size: int, *, candidates: int, shadow_count: int,
                   fix_variance: bool, inversion_steps: int, relearn_lr: float,
                   relearn_epochs: int, inversion_precision: str = "float64",
                   inversion_success: float = 0.3, mi_high_size: int | None = None) -> Split:
    """Check every unlearning request and size of the chapter before any training
    (`mi_high_size` None: `subset_size`). Returns a split whose training set is the
    trained model's (the whole training split)."""
    check_plan_shape(risk_methods, seeds, setup.hyperparameters)
    check_choice("inversion_precision", inversion_precision, PRECISIONS)
    if not isinstance(fix_variance, bool):
        raise ConfigError(f"lira_fix_variance must be True or False, got {fix_variance!r}.")
    if isinstance(inversion_success, bool) or not isinstance(inversion_success, (int, float)) \
            or not -1 <= inversion_success <= 1:
        raise ConfigError("inversion_success must be an SSIM threshold from -1 to 1, got "
                          f"{inversion_success!r}.")
    cache.check_writable()
    for name, spec in scenarios.items():
        for seed in seeds:
            split = make_split(setup.data, seed=seed, **spec)
            for method, settings in [*runs[name].values(), ("retrain", None)]:
                check_request(method, split,
                              checked_settings(setup.settings(method, seed, settings)))
    train = setup.data.train
    check_sizes(subset_size, candidates, len(train), mi_high_size)
    check_shadow_count(shadow_count, fix_variance)
    check_budget("inversion_steps", inversion_steps, MAX_STEPS)
    check_positive_number("relearn_lr", relearn_lr)
    check_budget("relearn_epochs", relearn_epochs, MAX_EPOCHS)
    stand_in = make_split(setup.data, seed=seeds[0], forget_indices=train[:subset_size].tolist())
    for method in risk_methods:
        check_request(method, stand_in, checked_settings(setup.settings(method, seeds[0])))
    return stand_in


def check_sizes(subset_size: int, candidates: int, train_size: int,
                mi_high_size: int | None = None) -> None:
    """mi_high_size (None: subset_size) <= inversion candidates <= training samples (MI
    High is drawn from the candidates), and subset_size <= training samples."""
    check_positive_int("subset_size", subset_size)
    check_positive_int("inversion_candidates", candidates)
    if mi_high_size is None:
        mi_high_size, name = subset_size, "subset_size"
    else:
        name = "mi_high_size"
        check_positive_int(name, mi_high_size)
    if not mi_high_size <= candidates <= train_size:
        raise ConfigError(f"{name} ({mi_high_size}) must be at most inversion_candidates "
                          f"({candidates}), which must be at most the {train_size} training "
                          "samples.")
    if subset_size > train_size:
        raise ConfigError(f"subset_size ({subset_size}) must be at most the {train_size} "
                          "training samples.")


def check_shadow_count(shadow_count: int, fix_variance: bool) -> None:
    """Enough shadow models for the leave-one-out privacy scores (each sample in half)."""
    check_budget("shadow_count", shadow_count, MAX_MODELS)
    try:
        keep = shadow_keep_masks(shadow_count, 2, seed=0)
        privacy_scores(torch.zeros(keep.shape, dtype=torch.float64), keep,
                       fix_variance=fix_variance)
    except ConfigError as error:
        raise ConfigError(f"shadow_count {shadow_count} is too few for the privacy scores "
                          f"(lira_fix_variance={fix_variance}): {error}") from None


def paper_dataset(dataset: str) -> tuple[str, str]:
    """The paper's dataset whose rows sit beside ours, and a note saying which it is."""
    key = PAPER_DATASETS.get(dataset, "mnist")
    if dataset in PAPER_DATASETS and key == dataset:
        return key, f"the paper's {key} rows ({paper.ARCHITECTURES[key]})"
    return key, (f"the paper has no {dataset} rows; beside ours are its {key} rows "
                 f"({paper.ARCHITECTURES[key]}, the full dataset)")


def differences(setup: Setup, params: dict) -> pd.DataFrame:
    """The paper's settings beside this run's (the chapter's `params`), row by row: every
    deliberate difference, with the paper's numbers read from `mu_core.papers.rsu`."""
    data, share = setup.data, f"{paper.FORGET_FRACTION:.0%}"
    mi_size = params.get("mi_high_size") or params["subset_size"]
    rows = {
        "dataset": (", ".join(f"{d} ({paper.TABLE4[d]['size']} samples)" for d in paper.DATASETS),
                    f"{data.name} ({len(data.train)} training samples)"),
        "network": (", ".join(f"{d}: {a}" for d, a in paper.ARCHITECTURES.items()),
                    f"{setup.architecture} {setup.architecture_options or ''}".strip()),
        "training": (_paper_training(), _recipe_text(setup.recipe)),
        **{f"unlearning: {m}": (_paper_unlearning(m), _settings_text(setup, m))
           for m in dict.fromkeys([*params["risk_methods"], *params["rsu_methods"]])},
        **{f"unlearning in {scenario} forgetting": (
            "tuned per scenario inside the ranges above",
            "; ".join(f"{m}: " + ", ".join(f"{k} {v}" for k, v in hp.items())
                      for m, hp in overrides.items()) + " (the rest as above)")
           for scenario, overrides in params.get("scenario_hyperparameters", {}).items()
           if overrides},
        "risk sets (Tables 1-2)": (
            f"{paper.SUBSET_SIZE} samples each; the Low columns differ between the two tables",
            f"MI High {mi_size} samples, MIA High and Low {params['subset_size']}; one Low "
            "set for both tables" + ("; GA takes fewer steps on the smaller MI High"
                                     if mi_size < params["subset_size"] else "")),
        "class forgetting (Table 5)": (
            f"text: {share} of the classes; caption: {share} of the data points across all "
            f"classes; Acc_Du at most {_largest_paper_forget_accuracy():.2%}, as for whole "
            "classes",
            f"the whole class {params['forget_class']}"),
        "random forgetting (Table 6)": (f"{share} of the training data",
                                        f"{params['random_fraction']:.0%}"),
        "RSU rounds": ("not given (Algorithm 1: T iterations, the age grown every epoch)",
                       f"{params['rounds']}, sharing the method's epochs (as many in all as "
                       "the method alone), each round restarting the method from the model "
                       "the last round left (its optimiser afresh; Bad-T's competent teacher "
                       "is that model)"),
        "LiRA": ("shadow models on random subsets (how many is not given), logit gap",
                 f"{params['shadow_count']} shadow models, each on a random half of a pool: "
                 "the training set and as many training-split samples the trained model "
                 "never saw (of the training set alone where none is left), so Eq. 1's "
                 "subsets hold unseen samples too; logit gap, "
                 + ("one variance per Gaussian" if params["lira_fix_variance"]
                    else "a variance per sample") + ", balanced leave-one-out ASR"),
        "MIA score": ("LiRA (Preliminaries); the metric list names a confidence-based MIA",
                      "the share of the set that online LiRA calls members"),
        "gradient inversion": ("from the victims' gradients (Fig. 1), not described further",
                               f"{params['inversion_candidates']} random candidates, "
                               f"{params['inversion_precision']}, one batch; MI High: the "
                               f"{mi_size} of highest SSIM"),
        "gradient inversion, as Geiping et al.'s reference code": _reference_inversion(params),
        "seeds": ("one run", f"one seed in part one, {len(params['seeds'])} in part two"),
    }
    return pd.DataFrame(rows, index=["paper", "here"]).T


def _reference_inversion(params: dict) -> tuple[str, str]:
    """Geiping et al.'s reference configuration (`inversion.REFERENCE`) beside ours."""
    ref = REFERENCE
    theirs = (f"{ref['objective']}, {ref['optimizer']}, lr {ref['lr']} on normalised inputs "
              f"(times 0.1 at 3/8, 5/8 and 7/8 of the steps), {ref['steps']:,} steps, total "
              f"variation {ref['tv_weight']:g}, {ref['restarts']} restart, {ref['start']}")
    ours = (f"{ref['objective']}, plain Adam, lr {INVERSION_LR} on [0, 1] pixels (the same "
            f"schedule), {params['inversion_steps']:,} steps, total variation "
            f"{INVERSION_TV:g}, 1 restart, uniform noise in [0, 1]")
    return theirs, ours


def _largest_paper_forget_accuracy() -> float:
    return max(cells[rsu]["forget"] for methods in paper.TABLE5.values()
               for cells in methods.values() for rsu in ("without", "with"))


def _paper_training() -> str:
    t = paper.TRAINING
    return (f"{t['epochs']} epochs of {t['optimizer'].upper()}, momentum {t['momentum']}, "
            f"weight decay {t['weight_decay']}, lr {t['lr']} times {t['lr_factor']} at epochs "
            + " and ".join(str(e) for e in t["lr_milestones"]) + "; augmentation not stated")


def _recipe_text(recipe: Recipe) -> str:
    steps = {"step": "times 0.1 at 1/2 and 3/4 of training"}.get(recipe.schedule,
                                                                   f"{recipe.schedule} schedule")
    augment = ("no augmentation (the shadow models train on fixed images)"
               if recipe.augment == "none" else f"augmentation {recipe.augment}")
    return (f"{recipe.epochs} epochs of {recipe.optimizer.upper()}, momentum {recipe.momentum}, "
            f"weight decay {recipe.weight_decay}, lr {recipe.lr} {steps}; {augment}")


def _paper_unlearning(method: str) -> str:
    if method not in paper.UNLEARNING:
        return "not in the paper"
    if method == "retrain":
        return "the original training on the retain set"
    hp = paper.UNLEARNING[method]
    low, high = hp["lr_range"]
    return f"{hp['epochs']} epochs, lr tuned in [{low}, {high}]" + (
        f", gamma {hp['gamma']}" if "gamma" in hp else "")


def _settings_text(setup: Setup, method: str) -> str:
    from ...unlearn import METHODS

    if method == "retrain":
        changed = setup.hyperparameters.get("retrain", {})
        return "the trained model's recipe on the retain set" + (
            f", but {', '.join(f'{k} {v}' for k, v in changed.items())}" if changed else "")
    settings = {**METHODS[method].hyperparameters(), **setup.hyperparameters.get(method, {})}
    return ", ".join(f"{k} {v}" for k, v in settings.items() if k != "seed")


# ---------------------------------------------------------------------------------------
# Part one: privacy risks of every training sample

@dataclass
class Risks:
    """Per training sample (aligned with `train`): LiRA's attack success rate, the trained
    model's loss, confidence p_y and predictive entropy; the shadow models' statistics; and
    the gradient-inversion quality of a pool of candidates."""

    train: Tensor
    asr: Tensor
    loss: Tensor
    confidence: Tensor
    entropy: Tensor
    shadow_stats: Tensor  # (models, train) logit gaps
    shadow_in: Tensor
    fix_variance: bool  # one global variance per Gaussian (Carlini et al., few shadows)
    lira: regime.OnlineLiRA  # online LiRA on the trained model; leave one shadow out
    pool_size: int  # the shadow pool: `train` and as many unseen training-split samples
    candidates: Tensor
    inversion_ssim: Tensor
    reconstructions: Tensor

    @property
    def lira_auc(self) -> Interval:
        """Online LiRA's AUC on the trained model, with its interval."""
        return self.lira.auc

    def positions(self, indices: Tensor) -> Tensor:
        """Positions in `train` of dataset indices; every one must be a training sample."""
        indices = torch.as_tensor(indices).long()
        at = torch.searchsorted(self.train, indices).clamp_max(len(self.train) - 1)
        if not torch.equal(self.train[at], indices):
            raise ConfigError("indices must be training samples of the trained model; "
                              f"{indices[self.train[at] != indices][:5].tolist()} are not.")
        return at


def privacy_risks(setup: Setup, split: Split, trained: nn.Module, *, shadow_count: int,
                  shadow_recipe: Recipe, candidates: int, inversion_steps: int, seed: int,
                  fix_variance: bool = True, inversion_precision: str = "float64") -> Risks:
    """LiRA's per-sample ASR from `shadow_count` shadow models trained like the trained
    model on halves of a pool of its training set and as many unseen training-split
    samples (`regime.shadow_pool`), online LiRA against the trained model on that pool, the
    trained model's per-sample predictions, and the gradient-inversion SSIM of `candidates`
    random training samples. Where no unseen samples are left (a model trained on the whole
    training split, as at paper scale), the shadow models train on halves of its training
    set and only leave-one-out LiRA on them measures the attack. `fix_variance` fits one
    variance per Gaussian over all samples, which Carlini et al. recommend below 64 shadow
    models: a per-sample variance from a few models is noisy."""
    data, train = setup.data, split.train
    unseen = regime.unseen_count(data, train) >= len(train)
    pool = regime.shadow_pool(data, train, seed) if unseen else train
    ensemble, keep, _ = shadow_models(data, pool, setup.architecture, shadow_recipe,
                                      count=shadow_count, seed=seed,
                                      **setup.architecture_options)
    stats = lira_statistic(ensemble.logits(data, pool))
    member = torch.isin(pool, train.cpu())
    if unseen:
        attack = regime.online_lira(trained, data, pool, member, stats, keep,
                                    kind="logit_gap", fix_variance=fix_variance)
    else:
        attack = regime.leave_one_out_only(stats, keep, seed=seed, fix_variance=fix_variance)
    if not torch.equal(pool[member], train.cpu()):  # the columns kept must be `train`'s
        raise ConfigError("the trained model's training set must be sorted and distinct.")
    stats, keep = stats[:, member], keep[:, member]
    loss, confidence, entropy = per_sample_predictions(trained, data, train)
    inverted = _random_subset(train, candidates, seed)
    with loops.loop("gradient inversion", None, "step",
                    work=len(inverted) * inversion_steps, device=data.device,
                    over=("inversion_candidates", "inversion_steps")):
        quality, reconstructions = inversion_quality(  # chunks as large as memory allows
            trained, data, inverted, steps=inversion_steps, seed=seed,
            chunk_size=chunk_for(trained, len(inverted), inversion_precision),
            precision=inversion_precision)
    return Risks(train, privacy_scores(stats, keep, fix_variance=fix_variance), loss,
                 confidence, entropy, stats, keep, fix_variance, attack, len(pool),
                 inverted, quality, reconstructions)


def leakage(setup: Setup, split: Split, trained: nn.Module, risks: Risks) -> regime.Leakage:
    """The regime of part one: the trained model's train and test accuracy, online LiRA
    against it (`privacy_risks`), and LiRA's strength on the recipe (leave one shadow
    model out)."""
    return regime.leakage_of(trained, setup.data, split.train, risks.lira,
                             len(risks.shadow_in), risks.pool_size)


def paper_regime(paper_key: str) -> dict:
    """The regime table's paper column: the original model's Acc_Dr and Acc_val (Table 1)."""
    original = paper.TABLE1[paper_key]["original"]["low"]
    return {"train_accuracy": f"{100 * original['retain']:.2f} (Acc_Dr)",
            "test_accuracy": f"{100 * original['val']:.2f} (Acc_val)",
            "gap": f"{100 * (original['retain'] - original['val']):.2f}"}


def per_sample_predictions(model: nn.Module, data: ImageData,
                           indices: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Each sample's cross-entropy loss, confidence p_y (the softmax probability of its
    label) and predictive entropy (nats) under `model`."""
    logits = predict(model, data, indices, output="logits")
    labels = data.targets(indices).cpu()
    probs = logits.softmax(1)
    entropy = -(probs * probs.clamp_min(1e-30).log()).sum(1)
    return (F.cross_entropy(logits, labels, reduction="none"),
            probs.gather(1, labels.view(-1, 1)).flatten(), entropy)


def _random_subset(indices: Tensor, count: int, seed: int) -> Tensor:
    count = check_positive_int("count", count)
    if count > len(indices):
        raise ConfigError(f"asked for {count} samples of a set of {len(indices)}.")
    generator = torch.Generator().manual_seed(seed)
    return indices[torch.randperm(len(indices), generator=generator)[:count]].sort().values


def forget_sets(risks: Risks, size: int, seed: int,
                mi_high_size: int | None = None) -> dict[str, Tensor]:
    """The paper's forget sets: the `mi_high_size` (None: `size`) samples easiest to invert
    (MI High), the `size` with the highest ASR (MIA High), and `size` random training
    samples (Low, the control of both tables, drawn from another seed than the inversion
    candidates)."""
    chosen = size if mi_high_size is None else mi_high_size
    if chosen > len(risks.candidates):
        name = "subset_size" if mi_high_size is None else "mi_high_size"
        raise ConfigError(f"{name} must be at most the {len(risks.candidates)} inversion "
                          f"candidates, got {chosen}.")
    easiest = easiest_to_invert(risks.inversion_ssim, risks.candidates, chosen)
    highest_asr = risks.train[highest(risks.asr, size, seed + 2)]
    return {"mi_high": easiest.sort().values, "mia_high": highest_asr.sort().values,
            "low": _random_subset(risks.train, size, seed + 1)}


def highest(values: Tensor, count: int, seed: int) -> Tensor:
    """Positions of the `count` highest `values`, ties broken at random (seeded): the ASR
    takes few values (multiples of 1 / shadow models), so a tie at the cut is the rule,
    and breaking it by position would pick the training set's first classes."""
    generator = torch.Generator().manual_seed(seed)
    shuffled = torch.randperm(len(values), generator=generator)
    order = torch.argsort(torch.as_tensor(values)[shuffled], descending=True, stable=True)
    return shuffled[order[:count]]


def membership_share(model: nn.Module, data: ImageData, indices: Tensor, risks: Risks) -> float:
    """The MIA score: the share of `indices` that online LiRA calls members of `model`."""
    calls = called_members(predict(model, data, indices, output="logits"), indices, risks)
    return calls.double().mean().item() if len(calls) else float("nan")


def called_members(logits: Tensor, indices: Tensor, risks: Risks) -> Tensor:
    """Whether online LiRA calls each of `indices` a member, from the model's logits on
    them (bool, aligned with `indices`)."""
    if len(indices) == 0:
        return torch.zeros(0, dtype=torch.bool)
    positions = risks.positions(indices)
    target = lira_statistic(logits)
    scores = lira_scores(risks.shadow_stats[:, positions], risks.shadow_in[:, positions],
                         target, fix_variance=risks.fix_variance)
    return scores > 0


def scores(model: nn.Module, data: ImageData, split: Split, risks: Risks, *,
           per_sample: bool = False) -> dict:
    """Acc_Dr, Acc_val (on the test split), Acc_val on the test samples of the classes
    kept (all but the forgotten ones in whole-class forgetting, else all), Acc_Du and the MIA score
    on the forget set; with `per_sample`, also each forget sample's correctness and
    whether LiRA calls it a member (0/1 lists, in the forget set's order)."""
    forgotten = split.forget_classes if split.kind == "class" else ()
    kept = ~torch.isin(data.targets(split.test).cpu(), torch.tensor(forgotten, dtype=torch.long))
    subsets = {"retain": split.retain, "val": split.test, "val_kept": split.test[kept],
               "forget": split.forget}
    indices = torch.cat(list(subsets.values()))
    logits = predict(model, data, indices, output="logits")  # one pass serves all five
    correct = (logits.argmax(1) == data.targets(indices).cpu()).float()
    accuracies = correct.split([len(s) for s in subsets.values()])
    forget_logits = logits[len(indices) - len(split.forget):]
    members = called_members(forget_logits, split.forget, risks)
    out = {**{name: c.mean().item() if len(c) else float("nan")
              for name, c in zip(subsets, accuracies)},
           "mia": members.double().mean().item() if len(members) else float("nan")}
    if per_sample:
        out.update(forget_correct=accuracies[-1].int().tolist(),
                   member_calls=members.int().tolist())
    return out


def risk_runs(setup: Setup, trained, sets: dict[str, Tensor], methods, risks: Risks, *,
              seed: int, relearn_lr: float, relearn_epochs: int) -> pd.DataFrame:
    """Every method on every forget set, and the trained model itself ('original'): the
    scores (with each forget sample's correctness and membership call), the drop of Acc_Du
    and the MIA gap from the original, and the relearn time (epochs of fine-tuning on the
    forget set until its loss is back to the original's; NaN beyond `relearn_epochs`)."""
    rows = []
    for name, forget in loops.track(sets.items(), "forget sets", unit="set"):
        split = make_split(setup.data, forget_indices=forget.tolist(), seed=seed)
        original = scores(trained[0], setup.data, split, risks, per_sample=True)
        reference = risks.loss[risks.positions(forget)].mean().item()
        rows.append({"set": name, "method": "original", **original, "forget_drop": 0.0,
                     "mia_gap": float("nan"), "relearn": 0.0, "seconds": 0.0})
        for method in methods:
            unlearned, meta = setup.unlearned(split, trained, method, None, seed)
            measured = scores(unlearned, setup.data, split, risks, per_sample=True)
            epochs = relearn_time(unlearned, setup.data, split, reference, lr=relearn_lr,
                                  max_epochs=relearn_epochs, seed=seed)
            rows.append({"set": name, "method": method, **measured,
                         "forget_drop": original["forget"] - measured["forget"],
                         "mia_gap": abs(measured["mia"] - original["mia"]),
                         "relearn": float("nan") if epochs is None else float(epochs),
                         "seconds": meta["seconds"]})
    return pd.DataFrame(rows)


def risk_table(runs: pd.DataFrame, risk: str, dataset: str) -> pd.DataFrame:
    """Table 1 (risk 'mi') or Table 2 ('mia'): each method's Acc_Dr, Acc_val, Acc_Du (%)
    and MIA gap on the Low and the High set, with the paper's row beside each."""
    table = paper.TABLE1 if risk == "mi" else paper.TABLE2
    key, _ = paper_dataset(dataset)
    rows = []
    for method in dict.fromkeys(runs.method):
        for subset, name in (("low", "low"), ("high", f"{risk}_high")):
            ours = runs[(runs.method == method) & (runs.set == name)].iloc[0]
            theirs = table[key].get(method, {}).get(subset, {})
            row = {"method": method, "set": subset}
            for metric in ("retain", "val", "forget", "mia_gap"):
                row[LABELS[metric]] = _cell(ours[metric], scale(metric))
                row[f"paper {LABELS[metric]}"] = _cell(theirs.get(metric), scale(metric))
            rows.append(row)
    return pd.DataFrame(rows).set_index(["method", "set"])


def _cell(value, factor: float) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return f"{value * factor:.2f}"


def risk_profile(risks: Risks, sets: dict[str, Tensor]) -> pd.DataFrame:
    """Mean ASR, entropy, confidence and loss of the trained model on each forget set."""
    rows = {}
    for name, indices in sets.items():
        at = risks.positions(indices)
        rows[name] = {"ASR": risks.asr[at].mean().item(),
                      "entropy": risks.entropy[at].mean().item(),
                      "confidence": risks.confidence[at].mean().item(),
                      "loss": risks.loss[at].mean().item()}
    return pd.DataFrame(rows).T


def risk_figure(risks: Risks, sets: dict[str, Tensor]):
    """Figure 2: ASR and entropy of the High sets beside the random set, as box plots, each
    box named with its number of samples (MI High may be smaller than the others)."""
    frame = pd.concat([pd.DataFrame({"set": name, "ASR": risks.asr[risks.positions(idx)].numpy(),
                                     "entropy": risks.entropy[risks.positions(idx)].numpy()})
                       for name, idx in sets.items()])
    fig = plots.box_panels(frame, ["ASR", "entropy"], ["set"], counts=True)
    fig.suptitle("Fig. 2: attack success rate and entropy by forget set", fontsize=10)
    fig.tight_layout()
    return fig


def inversion_figure(data: ImageData, risks: Risks, threshold: float,
                     count: int = FIGURE1_IMAGES):
    """Figure 1: the easiest and the hardest candidates to invert, original above its
    reconstruction, titled with its SSIM ('ok' where SSIM >= `threshold`, a success)."""
    order = torch.argsort(risks.inversion_ssim, descending=True)
    chosen = torch.cat([order[:count // 2], order[-(count - count // 2):]])
    originals = pixels(data, risks.candidates[chosen])
    titles = [f"{s:.2f}{' ok' if s >= threshold else ''}" for s in risks.inversion_ssim[chosen]]
    images = torch.cat([originals, risks.reconstructions[chosen]])
    return plots.image_grid(images, [""] * count + titles, columns=count)


def logit_distribution(data: ImageData, risks: Risks, sets: dict[str, Tensor]) -> pd.DataFrame:
    """Table 3, our reading: the paper's "logits" are all between 0 and 1, so they are
    softmax probabilities; we take the confidence p_y. Per class, its range over the top
    80% and the bottom 20% of the class's training samples, the boundary (the lowest
    confidence of the top 80%), and the median confidence of the class's MI High and Low
    samples (a median, because one tail sample drags a small set's mean below any
    boundary), beside the paper's CIFAR-10 values."""
    labels = data.targets(risks.train).cpu()
    rows = {}
    for c in range(data.num_classes):
        conf = risks.confidence[labels == c].sort(descending=True).values
        if len(conf) == 0:
            continue
        cut = _top_cut(len(conf))
        row = {"top 80%": f"{conf[0]:.4f}-{conf[cut]:.4f}",
               "bottom 20%": f"{conf[min(cut + 1, len(conf) - 1)]:.4f}-{conf[-1]:.4f}",
               "boundary": conf[cut].item()}
        for name, column in (("mi_high", "MI High median"), ("low", "Low median")):
            at = risks.positions(sets[name])
            mine = risks.confidence[at][labels[at] == c]
            row[column] = mine.quantile(0.5).item() if len(mine) else float("nan")
        theirs = paper.TABLE3.get(c, {})
        row["paper MI High"], row["paper MI Low"] = theirs.get("mi_high"), theirs.get("mi_low")
        rows[c] = row
    return pd.DataFrame(rows).T


def _top_cut(size: int) -> int:
    """The position of the last of a class's `size` samples in its top 80% (sorted by
    confidence, highest first)."""
    return int(np.ceil(TOP_SHARE * size)) - 1


def in_class_tail(data: ImageData, risks: Risks, indices: Tensor) -> Tensor:
    """Whether each of `indices` lies in its class's tail: its confidence below the
    class's boundary, the lowest confidence of the class's top 80% (as in
    `logit_distribution`)."""
    labels = data.targets(risks.train).cpu()
    at = risks.positions(indices)
    boundary = class_boundaries(risks.confidence, labels, data.num_classes)
    return risks.confidence[at] < boundary[labels[at]]


def class_boundaries(confidence: Tensor, labels: Tensor, classes: int) -> Tensor:
    """Per class, the lowest confidence of its top 80% (`_top_cut`; NaN for a class with
    no sample), all classes at once: the samples sorted by class, highest confidence
    first within each, and each class's cut read at its offset."""
    by_confidence = torch.argsort(confidence, descending=True, stable=True)
    order = by_confidence[torch.argsort(labels[by_confidence], stable=True)]
    counts = torch.bincount(labels, minlength=classes)
    starts = torch.cumsum(counts, 0) - counts
    cut = starts + torch.ceil(TOP_SHARE * counts.double()).long() - 1
    boundary = torch.full((classes,), float("nan"), dtype=confidence.dtype)
    present = counts > 0
    boundary[present] = confidence[order[cut[present]]]
    return boundary


def loss_intervals(risks: Risks, intervals: int = LOSS_INTERVALS) -> pd.DataFrame:
    """Figure 5: the training samples in `intervals` equal-count loss intervals (lowest
    first; the paper does not say how its intervals are cut), each with its loss range and
    mean ASR."""
    order = torch.argsort(risks.loss)
    rows = []
    for chunk in order.tensor_split(intervals):
        rows.append({"loss from": risks.loss[chunk].min().item(),
                     "loss to": risks.loss[chunk].max().item(),
                     "mean ASR": risks.asr[chunk].mean().item(), "samples": len(chunk)})
    return pd.DataFrame(rows)


def loss_asr_correlation(risks: Risks) -> float:
    """Spearman's rank correlation between the trained model's loss and the ASR."""
    from scipy.stats import spearmanr

    return float(spearmanr(risks.loss.numpy(), risks.asr.numpy()).statistic)


def loss_figure(intervals: pd.DataFrame, correlation: float):
    """Figure 5: the mean ASR of each loss interval (`loss_intervals`), lowest loss first."""
    labels = [f"{a:.0e}" for a in intervals["loss to"]]
    fig = plots.grouped_bars({"mean ASR": intervals["mean ASR"]}, labels, ylabel="mean ASR",
                             title=f"Fig. 5: loss interval (upper end) vs. ASR, Spearman "
                             f"{correlation:.2f}")
    fig.axes[0].tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    return fig


def relearn_figure(runs: pd.DataFrame, methods, budget: int):
    """Figures 3-4: relearn time (epochs) of each method on the High and the Low sets; a
    model not relearned within the `budget` gets a bar at budget + 1."""
    panels = {}
    for risk in RISKS:
        series = {}
        for name, label in ((f"{risk}_high", "High"), ("low", "Low")):
            chosen = runs[runs.set == name].set_index("method").relearn.fillna(budget + 1)
            series[label] = [chosen.get(m, np.nan) for m in methods]
        panels[f"Fig. {3 if risk == 'mi' else 4}: {risk.upper()} High vs. Low"] = series
    fig = plots.bar_panels(panels, list(methods), ylabel="relearn epochs", columns=2,
                           title=f"relearn time (a bar at {budget + 1}: not within {budget} "
                           "epochs)")
    for ax in fig.axes:
        ax.tick_params(axis="x", labelrotation=30)
    return fig


# ---------------------------------------------------------------------------------------
# Part two: with and without RSU

SAME_STEPS = "rsu"  # the control's `max_steps`: as many steps as the method took inside RSU


def variants(methods, hyperparameters: dict, rounds: int, ablation_method: str) -> dict:
    """The unlearning runs of part two, by label: each method alone and with RSU; for the
    ablation method also the Reverse order and a control for RSU's dose (`same_steps`)."""
    runs = {}
    for method in methods:
        settings = hyperparameters.get(method, {})
        runs[method] = (method, settings)
        runs[f"{method}+rsu"] = ("rsu", {"base": method, "rounds": rounds,
                                         "base_settings": settings})
    if ablation_method in methods:
        settings = hyperparameters.get(ablation_method, {})
        runs[f"{ablation_method} reverse"] = ("rsu", {"base": ablation_method, "rounds": rounds,
                                                      "order": "easy_first",
                                                      "base_settings": settings})
        runs[same_steps_label(ablation_method)] = (ablation_method, same_steps(settings))
    return runs


def same_steps_label(method: str) -> str:
    return f"{method} same steps"


def same_steps(settings: dict) -> dict:
    """The control for RSU's dose: the method in one go on the whole forget set, for
    exactly as many steps as it took inside RSU (`max_steps` `SAME_STEPS`, set per seed
    by `rsu_runs` from RSU's record) and without a stopping rule, so the two differ in
    the order and the subsets of their steps only. Its epochs stay the method's: RSU's
    rounds share them on subsets of the forget set, so its steps never outnumber them."""
    control = {k: v for k, v in settings.items() if k != "stop_at"}
    return {**control, "max_steps": SAME_STEPS}


def with_steps(settings: dict, steps: int) -> dict:
    """`settings` with a `max_steps` of `SAME_STEPS` set to `steps`."""
    return {**settings, "max_steps": steps} if settings.get("max_steps") == SAME_STEPS \
        else settings


def scenario_variants(scenarios, methods, hyperparameters: dict,
                      scenario_hyperparameters: dict, rounds: int,
                      ablation_method: str) -> dict[str, dict]:
    """`variants` for each scenario, with the chapter's `hyperparameters` updated by the
    scenario's own in `scenario_hyperparameters` ({scenario: {method: settings}}): the
    paper tunes every method per scenario."""
    from ...unlearn.sequence import accepted_bases

    unknown = [m for m in methods if m not in accepted_bases()]
    if isinstance(methods, (str, dict)) or not list(methods) or unknown:
        raise ConfigError(f"rsu_methods must be a non-empty list of methods RSU can sequence "
                          f"({', '.join(accepted_bases())}), got {methods!r}.")
    capped = [m for m in methods if m in ablation_bases()]
    if ablation_method not in capped:
        raise ConfigError(f"ablation_method must be one of rsu_methods that can be held to a "
                          f"number of steps (max_steps; here: {', '.join(capped) or 'none'}), "
                          f"got {ablation_method!r}.")
    unknown = sorted(set(scenario_hyperparameters) - set(scenarios))
    if unknown or not all(isinstance(v, dict) and all(isinstance(x, dict) for x in v.values())
                          for v in scenario_hyperparameters.values()):
        raise ConfigError(f"scenario_hyperparameters must map scenarios ({', '.join(scenarios)}) "
                          f"to {{method: settings}}, got {scenario_hyperparameters!r}.")
    return {name: variants(methods, _updated(hyperparameters,
                                             scenario_hyperparameters.get(name, {})),
                           rounds, ablation_method) for name in scenarios}


def ablation_bases() -> list[str]:
    """The methods the ablation's dose control can run: RSU can sequence them, they record
    their steps and accept a cap on them (`max_steps`)."""
    from ...unlearn import METHODS
    from ...unlearn.sequence import accepted_bases

    return [m for m in accepted_bases() if "steps" in METHODS[m].records
            and "max_steps" in METHODS[m].hyperparameters()]


def _updated(settings: dict, updates: dict) -> dict:
    """{method: settings} with each method's settings updated by `updates`' for it."""
    return {m: {**settings.get(m, {}), **updates.get(m, {})} for m in {*settings, *updates}}


def rsu_runs(setup: Setup, scenarios: dict[str, dict], runs: dict[str, dict], seeds,
             risks: Risks) -> pd.DataFrame:
    """Every run of each scenario's `variants` (`scenario_variants`), retraining and the
    trained model itself ('trained', what the forget accuracy drops from), in every seed,
    with ToW and the MIA gap to retraining of the same scenario and seed."""
    rows = []
    for scenario, spec in scenarios.items():
        for seed in seeds:
            split = make_split(setup.data, seed=seed, **spec)
            trained = setup.trained(split, seed)
            retrained, _ = setup.unlearned(split, trained, "retrain", None, seed)
            reference = scores(retrained, setup.data, split, risks)
            rows.append({"scenario": scenario, "seed": seed, "run": "retrain", **reference,
                         "tow": 1.0, "mia_gap": 0.0, "seconds": np.nan})
            models = {"trained": (trained[0], {"seconds": 0.0, "steps": 0})}
            for label, (method, settings) in loops.track(runs[scenario].items(), scenario,
                                                         unit="method"):
                if settings.get("max_steps") == SAME_STEPS:  # after RSU's run ("+rsu")
                    settings = with_steps(settings, rsu_steps(models, method))
                models[label] = setup.unlearned(split, trained, method, settings, seed)
            for label, (model, meta) in models.items():
                measured = scores(model, setup.data, split, risks)
                rows.append({"scenario": scenario, "seed": seed, "run": label, **measured,
                             "tow": tug_of_war(measured, reference, ("forget", "retain", "val")),
                             "mia_gap": abs(measured["mia"] - reference["mia"]),
                             "seconds": meta["seconds"], "steps": meta.get("steps", np.nan)})
    return pd.DataFrame(rows)


def rsu_steps(models: dict, method: str) -> int:
    """The steps `method` took inside RSU, from its run's record (`models` by label)."""
    label = f"{method}+rsu"
    if label not in models or "steps" not in models[label][1]:
        raise ConfigError(f"the dose control of {method} needs the steps of {label}, which "
                          "its run did not record.")
    return int(models[label][1]["steps"])


def gains(rows: pd.DataFrame, methods) -> pd.DataFrame:
    """Per scenario and method, RSU's gain in each metric (with minus without, paired by
    seed): the mean over seeds with its 95% t interval (`claims.paired_difference`; one
    seed has an unbounded interval)."""
    out = []
    for scenario in dict.fromkeys(rows.scenario):
        for method in methods:
            for metric in PART_TWO_METRICS:
                gain = seed_gain(rows, scenario, f"{method}+rsu", method, metric)
                out.append({"scenario": scenario, "method": method, "metric": metric,
                            "gain": gain.estimate, "low": gain.low, "high": gain.high,
                            "seeds": gain.n})
    return pd.DataFrame(out)


def per_seed(rows: pd.DataFrame, scenario: str, run: str, metric: str) -> pd.Series:
    """`metric` of `run` in `scenario`, by seed."""
    chosen = rows[(rows.scenario == scenario) & (rows.run == run)]
    return chosen.set_index("seed")[metric].sort_index()


def seed_differences(rows: pd.DataFrame, scenario: str, run: str, baseline: str,
                     metric: str) -> pd.Series:
    """`metric` of `run` minus `baseline`'s, seed by seed (the seeds both ran)."""
    first, second = (per_seed(rows, scenario, r, metric) for r in (run, baseline))
    seeds = first.index.intersection(second.index)
    return first[seeds] - second[seeds]


def seed_gain(rows: pd.DataFrame, scenario: str, run: str, baseline: str,
              metric: str) -> Interval:
    """The mean of `seed_differences` with its paired t interval over seeds."""
    differences = seed_differences(rows, scenario, run, baseline, metric)
    return paired_difference(differences.to_numpy(), np.zeros(len(differences)))


def gains_table(gain_rows: pd.DataFrame) -> pd.DataFrame:
    """`gains` as 'gain [low, high]' per scenario and method (accuracies in points of %,
    ToW and MIA gap as fractions): an interval wholly above or below 0 is a gain or loss
    the seeds bear out."""
    def text(row):
        factor = scale(row.metric)
        return Interval(row.gain, row.low, row.high, "").text(2, factor).removesuffix(", ")
    frame = gain_rows.assign(text=gain_rows.apply(text, axis=1),
                             metric=gain_rows.metric.map(LABELS))
    return frame.pivot(index=["scenario", "method"], columns="metric", values="text")[
        [LABELS[m] for m in PART_TWO_METRICS]]


def rsu_table(rows: pd.DataFrame, scenario: str, methods, dataset: str) -> pd.DataFrame:
    """Table 5 (scenario 'class') or 6 ('random'): each method without and with RSU, mean ±
    std over seeds (accuracies in %), the trained model (where it was scored) and
    retraining first, the paper's row beside each (it has no Acc_val on the kept classes)."""
    chosen = rows[rows.scenario == scenario]
    grouped = chosen.groupby("run", sort=False)
    mean, std = grouped.mean(numeric_only=True), grouped.std(ddof=0, numeric_only=True)
    table = paper.TABLE5 if scenario == "class" else paper.TABLE6
    key, _ = paper_dataset(dataset)
    out = []
    first = [r for r in ("trained", "retrain") if r in mean.index]
    for label in [*first, *[f"{m}{s}" for m in methods for s in ("", "+rsu")]]:
        method, with_rsu = label.removesuffix("+rsu"), label.endswith("+rsu")
        theirs = table[key].get(method, {}).get("with" if with_rsu else "without", {})
        row = {"run": label}
        for metric in PART_TWO_METRICS:
            row[LABELS[metric]] = mean_std(mean.loc[[label], metric], std.loc[[label], metric],
                                           2, scale(metric)).iloc[0]
            if metric != "val_kept":
                row[f"paper {LABELS[metric]}"] = _cell(theirs.get(metric), scale(metric))
        out.append(row)
    return pd.DataFrame(out).set_index("run")


def order_runs(method: str) -> dict[str, str]:
    """Figure 7's runs of `method`, label -> name: in one go, the one go held to RSU's
    steps (`same_steps`), the Reverse order and RSU's."""
    return {method: "original", same_steps_label(method): "original, RSU's steps",
            f"{method} reverse": "reverse", f"{method}+rsu": "RSU"}


def order_figure(rows: pd.DataFrame, method: str, scenario: str = "class"):
    """Figure 7: Acc_Dr, Acc_val, Acc_Du and ToW of `method` in one go, in one go for as
    many steps as it took inside RSU, in the Reverse order and in RSU's order (mean over
    seeds). Acc_Du shows how much of the forget set each order leaves recognised
    (retraining's is beside it in Table 5)."""
    labels = order_runs(method)
    metrics = ("retain", "val", "forget", "tow")
    chosen = rows[(rows.scenario == scenario) & rows.run.isin(labels)]
    mean = chosen.groupby("run").mean(numeric_only=True).reindex(list(labels))
    series = {labels[r]: [mean.loc[r, m] for m in metrics] for r in labels}
    fig = plots.grouped_bars(series, [LABELS[m] for m in metrics], title=f"Fig. 7: order of "
                             f"forgetting, {method}, {scenario} forgetting")
    ax = fig.axes[0]  # the legend beside the axes, where it covers no bar
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


ORDER_METRICS = ("retain", "val_kept", "forget", "tow")


def order_table(rows: pd.DataFrame, method: str) -> pd.DataFrame:
    """Figure 7's runs in each scenario (`order_runs`): the steps each took and its
    Acc_Dr, Acc_val on the kept classes, Acc_Du and ToW (mean ± std over seeds), and RSU's
    ToW minus the run's, paired over seeds with its t interval (`seed_gain`)."""
    out = []
    for scenario in dict.fromkeys(rows.scenario):
        for run, name in order_runs(method).items():
            chosen = rows[(rows.scenario == scenario) & (rows.run == run)]
            if chosen.empty:
                continue
            row = {"scenario": scenario, "run": name,
                   "steps": _mean_std_text(chosen.get("steps", pd.Series(dtype=float)), 0, 1)}
            for metric in ORDER_METRICS:
                row[LABELS[metric]] = _mean_std_text(chosen[metric], 2, scale(metric))
            gain = seed_gain(rows, scenario, f"{method}+rsu", run, "tow")
            row["RSU's ToW minus this"] = "" if run == f"{method}+rsu" else \
                gain.text(3)
            out.append(row)
    return pd.DataFrame(out).set_index(["scenario", "run"])


def _mean_std_text(values: pd.Series, decimals: int, factor: float) -> str:
    values = values.dropna()
    if values.empty:
        return ""
    return mean_std(pd.Series([values.mean()]), pd.Series([values.std(ddof=0)]), decimals,
                    factor).iloc[0]
