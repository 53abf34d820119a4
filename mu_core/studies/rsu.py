"""RSU (Chen et al., "Machine unlearning in forgetting sequence"): which samples are easy
to forget, and does unlearning them in order of difficulty help?

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
three orders (Figure 7), with a one-go control given RSU's number of passes.

Claim rules compare strictly ("higher" means >) over every method that ran, name the
paper's methods that did not, and give "not testable here" where their runs are missing;
each claim's `paper` field says how far the paper's own printed numbers bear it out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import cache, dryrun, plots
from ..attacks.inversion import PRECISIONS, easiest_to_invert, inversion_quality
from ..attacks.mia import (leave_one_out_scores, lira_scores, lira_statistic, privacy_scores,
                           roc_summary, shadow_keep_masks)
from ..claims import Claim, verdict
from ..data import ImageData, pixels
from ..errors import (MAX_EPOCHS, MAX_MODELS, MAX_STEPS, ConfigError, check_budget,
                      check_choice, check_positive_int, check_positive_number)
from ..metrics import relearn_time, tug_of_war
from ..papers import rsu as paper
from ..splits import Split, make_split
from ..train import Recipe, predict, progress
from ..unlearn import check_request
from ..zoo import (check_plan_shape, recipe_settings, shadow_models, trained_model,
                   unlearned_model)
from . import PLUS_MINUS, mean_std, named_numbers, spoken_list

LABELS = {"retain": "Acc_Dr", "val": "Acc_val", "forget": "Acc_Du", "mia_gap": "MIA gap",
          "forget_drop": "Acc_Du drop from the original",
          "tow": "ToW", "relearn": "relearn epochs"}
PERCENT = ("retain", "val", "forget", "forget_drop")  # shown in %; the others as they are
RISKS = ("mi", "mia")  # model inversion, membership inference
PAPER_DATASETS = {"mnist5k": "mnist", "mnist": "mnist", "cifar10": "cifar10",
                  "cifar100": "cifar100", "tiny_imagenet": "tiny_imagenet"}
RISK_METHODS = paper.METHODS[1:]  # the unlearning methods of Tables 1-2 (not 'original')
RSU_BASES = tuple(paper.TABLE5["mnist"])  # the methods of Tables 5-6: GA, RL, Bad-T
TOP_SHARE = 0.8  # Table 3: the top 80% of a class's confidences, the bottom 20% the tail
LOSS_INTERVALS = 10  # Fig. 5: "the loss values of 10 different intervals"
FIGURE1_IMAGES = 10  # Fig. 1: "10 images" per dataset


def quoted() -> dict:
    """The values the chapter's prose quotes: Table 3's top and tail shares of a class."""
    return {"top_share": TOP_SHARE, "tail_share": 1 - TOP_SHARE}


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
        return unlearned_model(self.data, split, method, trained,
                               **self.settings(method, seed, settings))


def check_requests(setup: Setup, scenarios: dict[str, dict], runs: dict[str, dict],
                   risk_methods, seeds,
                   subset_size: int, *, candidates: int, shadow_count: int,
                   fix_variance: bool, inversion_steps: int, relearn_lr: float,
                   relearn_epochs: int, inversion_precision: str = "float64",
                   inversion_success: float = 0.3) -> Split:
    """Check every unlearning request and size of the chapter before any training. Returns
    a split whose training set is the trained model's (the whole training split)."""
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
                check_request(method, split, setup.settings(method, seed, settings))
    train = setup.data.train
    check_sizes(subset_size, candidates, len(train))
    check_shadow_count(shadow_count, fix_variance)
    check_budget("inversion_steps", inversion_steps, MAX_STEPS)
    check_positive_number("relearn_lr", relearn_lr)
    check_budget("relearn_epochs", relearn_epochs, MAX_EPOCHS)
    stand_in = make_split(setup.data, seed=seeds[0], forget_indices=train[:subset_size].tolist())
    for method in risk_methods:
        check_request(method, stand_in, setup.settings(method, seeds[0]))
    return stand_in


def check_sizes(subset_size: int, candidates: int, train_size: int) -> None:
    """subset_size <= inversion candidates <= training samples (MI High is drawn from the
    candidates)."""
    check_positive_int("subset_size", subset_size)
    check_positive_int("inversion_candidates", candidates)
    if not subset_size <= candidates <= train_size:
        raise ConfigError(f"subset_size ({subset_size}) must be at most inversion_candidates "
                          f"({candidates}), which must be at most the {train_size} training "
                          "samples.")


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
            f"{paper.SUBSET_SIZE} samples; the Low columns differ between the two tables",
            f"{params['subset_size']} samples; one Low set for both tables"),
        "class forgetting (Table 5)": (
            f"text: {share} of the classes; caption: {share} of the data points across all "
            f"classes; Acc_Du at most {_largest_paper_forget_accuracy():.2%}, as for whole "
            "classes",
            f"the whole class {params['forget_class']}"),
        "random forgetting (Table 6)": (f"{share} of the training data",
                                        f"{params['random_fraction']:.0%}"),
        "RSU rounds": ("not given (Algorithm 1: T iterations, the age grown every epoch)",
                       f"{params['rounds']}, sharing the method's epochs (as many in all as "
                       "the method alone), each round restarting its optimiser"),
        "LiRA": ("shadow models (how many is not given), logit gap",
                 f"{params['shadow_count']} shadow models, logit gap, "
                 + ("one variance per Gaussian" if params["lira_fix_variance"]
                    else "a variance per sample") + ", balanced leave-one-out ASR"),
        "MIA score": ("LiRA (Preliminaries); the metric list names a confidence-based MIA",
                      "the share of the set that online LiRA calls members"),
        "gradient inversion": ("from the victims' gradients (Fig. 1), not described further",
                               f"{params['inversion_candidates']} random candidates, "
                               f"{params['inversion_steps']} steps, cosine objective, "
                               f"{params['inversion_precision']}, one batch"),
        "seeds": ("one run", f"one seed in part one, {len(params['seeds'])} in part two"),
    }
    return pd.DataFrame(rows, index=["paper", "here"]).T


def _largest_paper_forget_accuracy() -> float:
    return max(cells[rsu]["forget"] for methods in paper.TABLE5.values()
               for cells in methods.values() for rsu in ("without", "with"))


def _paper_training() -> str:
    t = paper.TRAINING
    return (f"{t['epochs']} epochs of {t['optimizer'].upper()}, momentum {t['momentum']}, "
            f"weight decay {t['weight_decay']}, lr {t['lr']} times {t['lr_factor']} at epochs "
            + " and ".join(str(e) for e in t["lr_milestones"]))


def _recipe_text(recipe: Recipe) -> str:
    steps = {"step": "times 0.1 at 1/2 and 3/4 of training"}.get(recipe.schedule,
                                                                   f"{recipe.schedule} schedule")
    return (f"{recipe.epochs} epochs of {recipe.optimizer.upper()}, momentum {recipe.momentum}, "
            f"weight decay {recipe.weight_decay}, lr {recipe.lr} {steps}")


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
    from ..unlearn import METHODS

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
    lira: dict  # roc_summary of the leave-one-model-out attack on the shadow models
    candidates: Tensor
    inversion_ssim: Tensor
    reconstructions: Tensor

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
    """LiRA's per-sample ASR from `shadow_count` shadow models on halves of the training
    set, the trained model's per-sample predictions, and the gradient-inversion SSIM of
    `candidates` random training samples. `fix_variance` fits one variance per Gaussian
    over all samples, which Carlini et al. recommend below 64 shadow models: a per-sample
    variance from a few models is noisy."""
    data, train = setup.data, split.train
    ensemble, keep, _ = shadow_models(data, train, setup.architecture, shadow_recipe,
                                      count=shadow_count, seed=seed,
                                      **setup.architecture_options)
    stats = lira_statistic(ensemble.logits(data, train))
    loss, confidence, entropy = per_sample_predictions(trained, data, train)
    pool = _random_subset(train, candidates, seed)
    with dryrun.timed("gradient inversion", len(pool) * inversion_steps, data.device,
                      over=("inversion_candidates", "inversion_steps")):
        quality, reconstructions = inversion_quality(  # one batch: every candidate alike
            trained, data, pool, steps=inversion_steps, seed=seed, chunk_size=len(pool),
            precision=inversion_precision)
    return Risks(train, privacy_scores(stats, keep, fix_variance=fix_variance), loss,
                 confidence, entropy, stats, keep, fix_variance,
                 _leave_one_out_roc(stats, keep, fix_variance), pool, quality, reconstructions)


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


def _leave_one_out_roc(stats: Tensor, keep: Tensor, fix_variance: bool) -> dict:
    """The strength of the attack itself: every shadow model in turn is the target of
    online LiRA fitted on the others (balanced, as for the privacy scores)."""
    scores = leave_one_out_scores(stats, keep, online=True, fix_variance=fix_variance)
    return roc_summary(scores, keep)


def _random_subset(indices: Tensor, count: int, seed: int) -> Tensor:
    count = check_positive_int("count", count)
    if count > len(indices):
        raise ConfigError(f"asked for {count} samples of a set of {len(indices)}.")
    generator = torch.Generator().manual_seed(seed)
    return indices[torch.randperm(len(indices), generator=generator)[:count]].sort().values


def forget_sets(risks: Risks, size: int, seed: int) -> dict[str, Tensor]:
    """The paper's forget sets: the `size` samples easiest to invert (MI High), with the
    highest ASR (MIA High), and `size` random training samples (Low, the control of both
    tables, drawn from another seed than the inversion candidates)."""
    if size > len(risks.candidates):
        raise ConfigError(f"subset_size must be at most the {len(risks.candidates)} inversion "
                          f"candidates, got {size}.")
    easiest = easiest_to_invert(risks.inversion_ssim, risks.candidates, size)
    highest_asr = risks.train[torch.argsort(risks.asr, descending=True, stable=True)[:size]]
    return {"mi_high": easiest.sort().values, "mia_high": highest_asr.sort().values,
            "low": _random_subset(risks.train, size, seed + 1)}


def membership_share(model: nn.Module, data: ImageData, indices: Tensor, risks: Risks) -> float:
    """The MIA score: the share of `indices` that online LiRA calls members of `model`."""
    return share_called_members(predict(model, data, indices, output="logits"), indices,
                                risks)


def share_called_members(logits: Tensor, indices: Tensor, risks: Risks) -> float:
    """`membership_share` from the model's logits on `indices` (already computed)."""
    if len(indices) == 0:
        return float("nan")
    positions = risks.positions(indices)
    target = lira_statistic(logits)
    scores = lira_scores(risks.shadow_stats[:, positions], risks.shadow_in[:, positions],
                         target, fix_variance=risks.fix_variance)
    return (scores > 0).double().mean().item()


def scores(model: nn.Module, data: ImageData, split: Split, risks: Risks) -> dict[str, float]:
    """Acc_Dr, Acc_val (on the test split), Acc_Du and the MIA score on the forget set."""
    subsets = {"retain": split.retain, "val": split.test, "forget": split.forget}
    indices = torch.cat(list(subsets.values()))
    logits = predict(model, data, indices, output="logits")  # one pass serves all four
    correct = (logits.argmax(1) == data.targets(indices).cpu()).float()
    accuracies = correct.split([len(s) for s in subsets.values()])
    forget_logits = logits[len(indices) - len(split.forget):]
    return {**{name: c.mean().item() for name, c in zip(subsets, accuracies)},
            "mia": share_called_members(forget_logits, split.forget, risks)}


def risk_runs(setup: Setup, trained, sets: dict[str, Tensor], methods, risks: Risks, *,
              seed: int, relearn_lr: float, relearn_epochs: int) -> pd.DataFrame:
    """Every method on every forget set, and the trained model itself ('original'): the
    scores, the drop of Acc_Du and the MIA gap from the original, and the relearn time (epochs of fine-tuning on the
    forget set until its loss is back to the original's; NaN beyond `relearn_epochs`)."""
    rows = []
    for name, forget in progress(sets.items(), desc="forget sets"):
        split = make_split(setup.data, forget_indices=forget.tolist(), seed=seed)
        original = scores(trained[0], setup.data, split, risks)
        reference = risks.loss[risks.positions(forget)].mean().item()
        rows.append({"set": name, "method": "original", **original, "forget_drop": 0.0,
                     "mia_gap": float("nan"), "relearn": 0.0, "seconds": 0.0})
        for method in methods:
            unlearned, meta = setup.unlearned(split, trained, method, None, seed)
            measured = scores(unlearned, setup.data, split, risks)
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
    """Figure 2: ASR and entropy of the High sets beside the random set, as box plots."""
    frame = pd.concat([pd.DataFrame({"set": name, "ASR": risks.asr[risks.positions(idx)].numpy(),
                                     "entropy": risks.entropy[risks.positions(idx)].numpy()})
                       for name, idx in sets.items()])
    fig = plots.box_panels(frame, ["ASR", "entropy"], ["set"])
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
        cut = int(np.ceil(TOP_SHARE * len(conf))) - 1  # the last sample of the top 80%
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

def variants(methods, hyperparameters: dict, rounds: int, ablation_method: str) -> dict:
    """The unlearning runs of part two, by label: each method alone and with RSU; for the
    ablation method also the Reverse order and one go with RSU's number of passes over the
    forget set (a control for RSU's larger budget)."""
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
        runs[f"{ablation_method} same passes"] = (ablation_method, {
            **settings, "epochs": same_passes(settings, ablation_method, rounds)})
    return runs


def scenario_variants(scenarios, methods, hyperparameters: dict,
                      scenario_hyperparameters: dict, rounds: int,
                      ablation_method: str) -> dict[str, dict]:
    """`variants` for each scenario, with the chapter's `hyperparameters` updated by the
    scenario's own in `scenario_hyperparameters` ({scenario: {method: settings}}): the
    paper tunes every method per scenario."""
    from ..unlearn.sequence import accepted_bases

    unknown = [m for m in methods if m not in accepted_bases()]
    if isinstance(methods, (str, dict)) or not list(methods) or unknown:
        raise ConfigError(f"rsu_methods must be a non-empty list of methods RSU can sequence "
                          f"({', '.join(accepted_bases())}), got {methods!r}.")
    if ablation_method not in methods:
        raise ConfigError(f"ablation_method must be one of rsu_methods ({', '.join(methods)}), "
                          f"got {ablation_method!r}.")
    unknown = sorted(set(scenario_hyperparameters) - set(scenarios))
    if unknown or not all(isinstance(v, dict) and all(isinstance(x, dict) for x in v.values())
                          for v in scenario_hyperparameters.values()):
        raise ConfigError(f"scenario_hyperparameters must map scenarios ({', '.join(scenarios)}) "
                          f"to {{method: settings}}, got {scenario_hyperparameters!r}.")
    return {name: variants(methods, _updated(hyperparameters,
                                             scenario_hyperparameters.get(name, {})),
                           rounds, ablation_method) for name in scenarios}


def _updated(settings: dict, updates: dict) -> dict:
    """{method: settings} with each method's settings updated by `updates`' for it."""
    return {m: {**settings.get(m, {}), **updates.get(m, {})} for m in {*settings, *updates}}


def same_passes(settings: dict, method: str, rounds: int) -> int:
    """Epochs of one go that pass over the forget set as often as RSU's `rounds` nested
    subsets of 1/n, 2/n, ..., n/n of it, each trained for its share of the method's
    epochs (`sequence.round_epochs`): sum_k e_k k / n, rounded (at least 1); with one
    epoch a round, (n + 1) / 2."""
    from ..unlearn.sequence import base_epochs, round_epochs

    shares = round_epochs(base_epochs(method, settings), rounds)
    return max(1, int(round(sum(e * k / rounds for k, e in enumerate(shares, start=1)))))


def rsu_runs(setup: Setup, scenarios: dict[str, dict], runs: dict[str, dict], seeds,
             risks: Risks) -> pd.DataFrame:
    """Every run of each scenario's `variants` (`scenario_variants`) and retraining, in
    every seed, with ToW and the MIA gap to retraining of the same scenario and seed."""
    rows = []
    for scenario, spec in scenarios.items():
        for seed in seeds:
            split = make_split(setup.data, seed=seed, **spec)
            trained = setup.trained(split, seed)
            retrained, _ = setup.unlearned(split, trained, "retrain", None, seed)
            reference = scores(retrained, setup.data, split, risks)
            rows.append({"scenario": scenario, "seed": seed, "run": "retrain", **reference,
                         "tow": 1.0, "mia_gap": 0.0, "seconds": np.nan})
            for label, (method, settings) in progress(runs[scenario].items(), desc=scenario):
                model, meta = setup.unlearned(split, trained, method, settings, seed)
                measured = scores(model, setup.data, split, risks)
                rows.append({"scenario": scenario, "seed": seed, "run": label, **measured,
                             "tow": tug_of_war(measured, reference, ("forget", "retain", "val")),
                             "mia_gap": abs(measured["mia"] - reference["mia"]),
                             "seconds": meta["seconds"]})
    return pd.DataFrame(rows)


def gains(rows: pd.DataFrame, methods) -> pd.DataFrame:
    """Per scenario and method, RSU's gain in each metric (with minus without, paired by
    seed): mean and std over seeds, and whether the mean gain exceeds that std (never with
    one seed, which has no spread)."""
    out = []
    for scenario in dict.fromkeys(rows.scenario):
        chosen = rows[rows.scenario == scenario].set_index(["run", "seed"])
        for method in methods:
            for metric in ("retain", "val", "forget", "tow", "mia_gap"):
                diff = chosen.loc[f"{method}+rsu", metric] - chosen.loc[method, metric]
                spread = diff.std(ddof=0)
                out.append({"scenario": scenario, "method": method, "metric": metric,
                            "gain": diff.mean(), "std": spread,
                            "exceeds spread": bool(len(diff) > 1 and abs(diff.mean()) > spread)})
    return pd.DataFrame(out)


def gains_table(gain_rows: pd.DataFrame) -> pd.DataFrame:
    """`gains` as 'gain ± std' per scenario and method (accuracies in points of %, ToW and
    MIA gap as fractions), with a mark where the mean gain exceeds the seed spread."""
    def text(row):
        factor = scale(row.metric)
        mark = " (beyond spread)" if row["exceeds spread"] else ""
        return f"{row.gain * factor:+.2f}{PLUS_MINUS}{row['std'] * factor:.2f}{mark}"
    frame = gain_rows.assign(text=gain_rows.apply(text, axis=1),
                             metric=gain_rows.metric.map(LABELS))
    return frame.pivot(index=["scenario", "method"], columns="metric", values="text")[
        [LABELS[m] for m in ("retain", "val", "forget", "tow", "mia_gap")]]


def rsu_table(rows: pd.DataFrame, scenario: str, methods, dataset: str) -> pd.DataFrame:
    """Table 5 (scenario 'class') or 6 ('random'): each method without and with RSU, mean ±
    std over seeds (accuracies in %), retraining first, the paper's row beside each."""
    chosen = rows[rows.scenario == scenario]
    grouped = chosen.groupby("run", sort=False)
    mean, std = grouped.mean(numeric_only=True), grouped.std(ddof=0, numeric_only=True)
    table = paper.TABLE5 if scenario == "class" else paper.TABLE6
    key, _ = paper_dataset(dataset)
    out = []
    for label in ["retrain", *[f"{m}{s}" for m in methods for s in ("", "+rsu")]]:
        method, with_rsu = label.removesuffix("+rsu"), label.endswith("+rsu")
        theirs = table[key].get(method, {}).get("with" if with_rsu else "without", {})
        row = {"run": label}
        for metric in ("retain", "val", "forget", "tow", "mia_gap"):
            row[LABELS[metric]] = mean_std(mean.loc[[label], metric], std.loc[[label], metric],
                                           2, scale(metric)).iloc[0]
            row[f"paper {LABELS[metric]}"] = _cell(theirs.get(metric), scale(metric))
        out.append(row)
    return pd.DataFrame(out).set_index("run")


def order_figure(rows: pd.DataFrame, method: str, scenario: str = "class"):
    """Figure 7: Acc_Dr, Acc_val, Acc_Du and ToW of `method` in one go, one go with RSU's
    number of passes, Reverse order and RSU order (mean over seeds). Acc_Du shows how much
    of the forget set each order leaves recognised (retraining's is beside it in Table 5)."""
    labels = {method: "original", f"{method} same passes": "original, same passes",
              f"{method} reverse": "reverse", f"{method}+rsu": "RSU"}
    metrics = ("retain", "val", "forget", "tow")
    chosen = rows[(rows.scenario == scenario) & rows.run.isin(labels)]
    mean = chosen.groupby("run").mean(numeric_only=True).reindex(list(labels))
    series = {labels[r]: [mean.loc[r, m] for m in metrics] for r in labels}
    return plots.grouped_bars(series, [LABELS[m] for m in metrics], title=f"Fig. 7: order of "
                              f"forgetting, {method}, {scenario} forgetting")


# ---------------------------------------------------------------------------------------
# Claim rules. Each reads the tables above and compares strictly; a claim whose runs are
# missing is not testable. Each `paper` field counts how many of the paper's own printed
# cells bear the claim out (its Tables 5-6 contradict some of its claims).

def strict_order(pairs: dict, higher: bool) -> tuple[list, list]:
    """(the labels of `pairs` whose (before, after) values are both known, those among
    them where `after` is not strictly higher (`higher`) or lower than `before`)."""
    known = [label for label, values in pairs.items()
             if not any(v is None or np.isnan(v) for v in values)]
    failing = [label for label in known
               if not (pairs[label][1] > pairs[label][0] if higher
                       else pairs[label][1] < pairs[label][0])]
    return known, failing


def _count(known: list[str], failing: list[str], cells: str) -> str:
    """'n of m `cells`', and which of them fail."""
    text = f"{len(known) - len(failing)} of {len(known)} {cells}"
    return text + (f" (not {spoken_list(failing)})" if failing else "")


def _not_run(ran, expected) -> str:
    missing = [m for m in expected if m not in ran]
    return f"; not run: {spoken_list(missing)}" if missing else ""


def _by(runs: pd.DataFrame, name: str, metric: str) -> dict[str, float]:
    chosen = runs[(runs.set == name) & (runs.method != "original")]
    return dict(zip(chosen.method, chosen[metric]))


def _low_high_pairs(runs: pd.DataFrame, risk: str, metric: str) -> dict[str, tuple]:
    """method -> (its `metric` on the Low set, on the `risk` High set)."""
    high, low = _by(runs, f"{risk}_high", metric), _by(runs, "low", metric)
    return {m: (low[m], high[m]) for m in high if m in low}


def judge_pairs(pairs: dict[str, tuple], higher: bool, metric: str) -> tuple:
    """(held, text) for 'in every pair (before, after) of known values, after is strictly
    higher (`higher`) or lower than before'; held is None where no pair is known."""
    known, failing = strict_order(pairs, higher)
    if not known:
        return None, "no method ran on both sets"
    factor = scale(metric)
    text = ", ".join(f"{m} {pairs[m][0] * factor:.2f} → {pairs[m][1] * factor:.2f}"
                     for m in known)
    return not failing, text + (f"; not for {spoken_list(failing)}" if failing else "")


def high_vs_low(runs: pd.DataFrame, risk: str, metric: str, higher: bool) -> tuple:
    """(held, text) for 'every method has a strictly higher (`higher`) or lower `metric`
    on the `risk` High set than on the Low set', naming Tables 1-2's methods not run."""
    pairs = _low_high_pairs(runs, risk, metric)
    held, text = judge_pairs(pairs, higher, metric)
    return held, text + _not_run(pairs, RISK_METHODS)


def paper_high_vs_low(risk: str, metric: str, higher: bool) -> str:
    """How many of Table 1's (risk 'mi') or 2's readable (dataset, method) cells show the
    claimed order of `metric` between the High and the Low set."""
    table = paper.TABLE1 if risk == "mi" else paper.TABLE2
    pairs = {f"{dataset} {method}": (cells["low"][metric], cells["high"][metric])
             for dataset, methods in table.items() for method, cells in methods.items()
             if method != "original"}
    word = "higher" if higher else "lower"
    low, high = (table["cifar100"]["retrain"][subset][metric] for subset in ("low", "high"))
    return (f"paper: Table {1 if risk == 'mi' else 2}, {LABELS[metric]} {word} on High in "
            f"{_count(*strict_order(pairs, higher), 'readable (dataset, method) cells')}; its "
            f"example, retrain on cifar100: {low * scale(metric):.2f} → "
            f"{high * scale(metric):.2f}")


def risk_claim(runs: pd.DataFrame, risk: str, metric: str, higher: bool) -> Claim:
    """Tables 1-2: Acc_Du lower ('forget') or MIA gap higher ('mia_gap') on the High set.
    The paper's original model classifies both sets perfectly, so its lower Acc_Du is a
    larger drop; ours may not (the High sets hold atypical samples), so here the rule
    compares the drop from the original, which is what unlearning did."""
    claim_id = f"{risk}_high_" + ("larger_mia_gap" if metric == "mia_gap" else "forgotten_more")
    measured, measured_higher = ("forget_drop", True) if metric == "forget" else (metric, higher)
    held, text = high_vs_low(runs, risk, measured, measured_higher)
    return Claim(claim_id, paper.CLAIMS[claim_id], paper_high_vs_low(risk, metric, higher),
                 f"here ({LABELS[measured]}, Low → High): {text}", verdict(held))


def claims(runs: pd.DataFrame, risks: Risks, sets: dict[str, Tensor], distribution: pd.DataFrame,
           correlation: float, rsu_rows: pd.DataFrame, gain_rows: pd.DataFrame,
           methods, ablation_method: str) -> list[Claim]:
    """Every claim of the RSU chapter, in its order (the same ids whatever ran)."""
    out = []
    for risk in RISKS:
        out.append(risk_claim(runs, risk, "forget", higher=False))
        out.append(risk_claim(runs, risk, "mia_gap", higher=True))
    profile = risk_profile(risks, sets)
    out.append(compare_claim("mi_high_higher_asr", profile, "ASR", ["mi_high"], "Fig. 2a"))
    out.append(compare_claim("high_more_entropy", profile, "entropy", ["mi_high", "mia_high"],
                             "Figs. 2b-c"))
    out.append(tail_claim(distribution))
    out.append(relearn_claim(runs))
    out.append(correlation_claim(correlation))
    out.append(improvement_claim(gain_rows, "class", methods))
    out.append(improvement_claim(gain_rows, "class_tow", methods))
    out.append(improvement_claim(gain_rows, "random", methods))
    out.append(class_vs_random_claim(gain_rows, methods))
    out.append(order_claim(rsu_rows, ablation_method))
    out.append(reverse_claim(rsu_rows, ablation_method))
    return out


def compare_claim(claim_id: str, profile: pd.DataFrame, column: str, highs,
                  figure: str) -> Claim:
    """Figs. 2a-c: the mean `column` of every High set in `highs` is strictly above the
    Low set's (the paper shows a plot; it prints no numbers)."""
    present = [h for h in highs if h in profile.index]
    if "low" not in profile.index or not present:
        held, here = None, "here: needs the High and Low sets"
    else:
        low = profile.loc["low", column]
        held = all(profile.loc[h, column] > low for h in present)
        here = ("here (mean): " + ", ".join(f"{h} {profile.loc[h, column]:.3f}" for h in present)
                + f" vs. low {low:.3f}")
    return Claim(claim_id, paper.CLAIMS[claim_id], f"paper: {figure} (a plot, no numbers)",
                 here, verdict(held))


def paper_tail() -> str:
    """How many classes of the paper's Table 3 have MI High below the top 80% and MI Low
    within it."""
    rows = paper.TABLE3.values()
    high = sum(row["mi_high"] < row["top80"][1] for row in rows)
    low = sum(row["mi_low"] >= row["top80"][1] for row in rows)
    return (f"paper: Table 3 (CIFAR-10), MI High below the top 80% in {high} of {len(rows)} "
            f"classes, MI Low within it in {low} of {len(rows)}")


def tail_claim(distribution: pd.DataFrame) -> Claim:
    """Table 3: in every class with MI High samples their median confidence lies below the
    class's top 80% (in the tail), and in every class with Low samples theirs lies within
    it (at or above its lowest value)."""
    high = distribution["MI High median"].astype(float).dropna()
    low = distribution["Low median"].astype(float).dropna()
    boundary = distribution.boundary.astype(float)
    if high.empty or low.empty:
        held, here = None, "here: needs classes with High and with Low samples"
    else:
        in_tail = high < boundary[high.index]
        in_top = low >= boundary[low.index]
        held = bool(in_tail.all() and in_top.all())
        here = (f"here: High in the tail in {int(in_tail.sum())} of {len(high)} classes, Low "
                f"in the top 80% in {int(in_top.sum())} of {len(low)}")
    return Claim("high_in_tail", paper.CLAIMS["high_in_tail"], paper_tail(), here,
                 verdict(held))


def relearn_order(runs: pd.DataFrame, risk: str) -> tuple:
    """(held, text) for 'every method takes strictly longer to relearn the `risk` High set
    than the Low set'. A relearn time beyond the budget (NaN) is longer than any within
    it; where both are beyond it their order is unknown, so held is then None unless
    another method already fails."""
    pairs = _low_high_pairs(runs, risk, "relearn")
    if not pairs:
        return None, "no method ran on both sets"
    censored = [m for m, values in pairs.items() if np.isnan(values).all()]
    known = {m: tuple(np.nan_to_num(values, nan=np.inf)) for m, values in pairs.items()
             if m not in censored}
    held, text = judge_pairs(known, True, "relearn") if known else (True, "")
    if censored:
        held = False if held is False else None
        text += ("; " if text else "") + f"both beyond the budget: {spoken_list(censored)}"
    return held, text


def relearn_claim(runs: pd.DataFrame) -> Claim:
    """Figs. 3-4: `relearn_order` holds for both High sets."""
    results = [relearn_order(runs, risk) for risk in RISKS]
    outcomes = [held for held, _ in results]
    held = False if False in outcomes else (None if None in outcomes else True)
    here = "; ".join(f"{risk.upper()}: {text}" for risk, (_, text) in zip(RISKS, results))
    return Claim("high_relearn_longer", paper.CLAIMS["high_relearn_longer"],
                 "paper: Figs. 3-4 (plots, no numbers)",
                 f"here (epochs, Low → High): {here}{_not_run(set(runs.method), RISK_METHODS)}",
                 verdict(held))


def correlation_claim(correlation: float) -> Claim:
    """Fig. 5: the loss and the ASR are positively correlated (Spearman > 0)."""
    held = None if np.isnan(correlation) else bool(correlation > 0)
    return Claim("loss_correlates_with_asr", paper.CLAIMS["loss_correlates_with_asr"],
                 f"paper: Fig. 5 (a plot of {LOSS_INTERVALS} loss intervals, no numbers)",
                 f"here: Spearman {correlation:.3f} over all training samples", verdict(held))


def _gain(gain_rows: pd.DataFrame, scenario: str, method: str, metric: str) -> float:
    chosen = gain_rows[(gain_rows.scenario == scenario) & (gain_rows.method == method)
                       & (gain_rows.metric == metric)]
    return float(chosen.gain.iloc[0]) if len(chosen) else float("nan")


# Tables 5-6: per claim, its id, its scenario, the metrics RSU must improve and the paper's
# table (the class scenario twice: Acc_Dr and Acc_val, then the gap to retraining, ToW)
IMPROVES = {"class": ("rsu_improves_class", "class", ("retain", "val"), paper.TABLE5, 5),
            "class_tow": ("rsu_closer_to_retrain_class", "class", ("tow",), paper.TABLE5, 5),
            "random": ("rsu_improves_random", "random", ("tow",), paper.TABLE6, 6)}


def paper_improvement(claim: str) -> str:
    """How many of Table 5's (class) or 6's (random) cells of the claim's metrics are
    strictly higher with RSU than without."""
    _, _, metrics, table, number = IMPROVES[claim]
    pairs = {f"{dataset} {method} {LABELS[k]}": (cells["without"][k], cells["with"][k])
             for dataset, methods in table.items() for method, cells in methods.items()
             for k in metrics}
    counted = _count(*strict_order(pairs, True), "(dataset, method, metric) cells")
    return f"paper: Table {number}, higher with RSU in {counted}"


def improvement_claim(gain_rows: pd.DataFrame, claim: str, methods) -> Claim:
    """Tables 5-6: RSU's mean gain over seeds is strictly positive for every method run,
    in Acc_Dr and Acc_val (`claim` 'class'), in ToW, the gap to retraining, in class
    forgetting ('class_tow'), or in ToW in random forgetting ('random', the paper's
    "outperforms")."""
    claim_id, scenario, metrics, _, _ = IMPROVES[claim]
    gains_of = {(m, k): _gain(gain_rows, scenario, m, k) for m in methods for k in metrics}
    known, failing = strict_order({key: (0.0, g) for key, g in gains_of.items()}, True)
    if not known:
        held, here = None, f"here: needs the {scenario} scenario"
    else:
        held = not failing
        here = "here (gain): " + ", ".join(f"{m} {LABELS[k]} {gains_of[m, k] * scale(k):+.2f}"
                                           for m, k in known) + _not_run(methods, RSU_BASES)
    return Claim(claim_id, paper.CLAIMS[claim_id], paper_improvement(claim), here,
                 verdict(held))


def _mean_paper_tow_gain(table: dict) -> float:
    return float(np.mean([cells["with"]["tow"] - cells["without"]["tow"]
                          for methods in table.values() for cells in methods.values()]))


def class_vs_random_claim(gain_rows: pd.DataFrame, methods) -> Claim:
    """Tables 5-6: RSU's mean ToW gain over the methods is strictly larger in class than
    in random forgetting."""
    class_gain = [_gain(gain_rows, "class", m, "tow") for m in methods]
    random_gain = [_gain(gain_rows, "random", m, "tow") for m in methods]
    if not methods or np.isnan(class_gain + random_gain).any():
        held, here = None, "here: needs both scenarios"
    else:
        held = bool(np.mean(class_gain) > np.mean(random_gain))
        here = (f"here: mean ToW gain class {np.mean(class_gain):+.3f}, random "
                f"{np.mean(random_gain):+.3f}")
    theirs = (f"paper: mean ToW gain Table 5 {_mean_paper_tow_gain(paper.TABLE5):+.3f}, "
              f"Table 6 {_mean_paper_tow_gain(paper.TABLE6):+.3f}")
    return Claim("rsu_gain_larger_for_class", paper.CLAIMS["rsu_gain_larger_for_class"],
                 theirs, here, verdict(held))


def order_claim(rows: pd.DataFrame, method: str, scenario: str = "class") -> Claim:
    """Figure 7: RSU's mean ToW is strictly above both the original and the reverse order
    (the one go with RSU's passes is shown, not judged: the paper has no such run)."""
    claim_id = "rsu_beats_original_and_reverse"
    chosen = rows[rows.scenario == scenario].groupby("run").tow.mean()
    labels = [method, f"{method} reverse", f"{method}+rsu"]
    theirs = (f"paper: Fig. 7 (a plot, no numbers), GA on {len(paper.DATASETS)} datasets, "
              "'significantly' read as strictly")
    if not all(label in chosen.index for label in labels):
        return Claim(claim_id, paper.CLAIMS[claim_id], theirs,
                     f"here: needs {method}, its reverse and RSU runs in {scenario} forgetting",
                     verdict(None))
    original, reverse, ours = (chosen[label] for label in labels)
    here = (f"here ({method}, ToW): original {original:.3f}, reverse {reverse:.3f}, "
            f"RSU {ours:.3f}")
    if f"{method} same passes" in chosen.index:
        here += f"; one go with RSU's passes {chosen[f'{method} same passes']:.3f}"
    return Claim(claim_id, paper.CLAIMS[claim_id], theirs, here,
                 verdict(ours > original and ours > reverse))


def reverse_claim(rows: pd.DataFrame, method: str, scenario: str = "class") -> Claim:
    """Figure 7, "in some cases": the Reverse order's mean ToW is strictly below the
    original's in at least one case; here there is one case (one dataset, one method, the
    class scenario), so the rule is that one comparison."""
    claim_id = "reverse_can_be_worse"
    chosen = rows[rows.scenario == scenario].groupby("run").tow.mean()
    theirs = (f"paper: Fig. 7 (a plot, no numbers), GA on {len(paper.DATASETS)} datasets, "
              "'in some cases'")
    labels = [method, f"{method} reverse"]
    if not all(label in chosen.index for label in labels):
        return Claim(claim_id, paper.CLAIMS[claim_id], theirs,
                     f"here: needs {method} and its reverse runs in {scenario} forgetting",
                     verdict(None))
    original, reverse = (chosen[label] for label in labels)
    return Claim(claim_id, paper.CLAIMS[claim_id], theirs,
                 f"here ({method}, ToW, the one case): original {original:.3f}, reverse "
                 f"{reverse:.3f}", verdict(bool(reverse < original)))


def headline(results: dict) -> dict[str, float]:
    """The chapter's headline numbers (what a sweep gathers): the risk profile of each
    forget set, every RSU gain, and the loss-ASR rank correlation."""
    profile = [{**row, "set": name} for name, row in results["risk_profile"].items()]
    return {**named_numbers(profile, ("set",), ("ASR", "entropy", "confidence", "loss")),
            **named_numbers(results["gains"], ("scenario", "method", "metric"), ("gain",)),
            "loss_asr_spearman": results["loss_asr_spearman"]}
