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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import cache, plots
from ..attacks.inversion import easiest_to_invert, inversion_quality
from ..attacks.mia import (leave_one_out_scores, lira_scores, lira_statistic, privacy_scores,
                           roc_summary)
from ..claims import Claim, verdict
from ..data import ImageData, pixels
from ..errors import ConfigError, check_positive_int
from ..metrics import relearn_time, tug_of_war
from ..papers import rsu as paper
from ..splits import Split, make_split
from ..train import Recipe, predict, progress
from ..unlearn import check_request
from ..zoo import (check_plan_shape, recipe_settings, shadow_models, trained_model,
                   unlearned_model)
from . import mean_std, spoken_list

METRICS = ("retain", "val", "forget", "mia")  # Acc_Dr, Acc_val, Acc_Du, MIA score
LABELS = {"retain": "Acc_Dr", "val": "Acc_val", "forget": "Acc_Du", "mia_gap": "MIA gap",
          "tow": "ToW"}
RISKS = ("mi", "mia")  # model inversion, membership inference
PAPER_DATASETS = {"mnist5k": "mnist", "mnist": "mnist", "cifar10": "cifar10",
                  "cifar100": "cifar100", "tiny_imagenet": "tiny_imagenet"}


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

    def unlearned(self, split: Split, trained, method: str, settings: dict, seed: int):
        settings = dict(settings, seed=seed)
        if method == "retrain":  # retraining repeats the trained model's recipe
            settings = {**recipe_settings(self.recipe), **settings}
        return unlearned_model(self.data, split, method, trained, **settings)


def check_requests(setup: Setup, scenarios: dict[str, dict], runs: dict, risk_methods, seeds,
                   subset_size: int) -> Split:
    """Check every unlearning request of the chapter before any training. Returns a split
    whose training set is the trained model's (the whole training split)."""
    check_plan_shape(risk_methods, seeds, setup.hyperparameters)
    check_positive_int("subset_size", subset_size)
    cache.check_writable()
    for spec in scenarios.values():
        for seed in seeds:
            split = make_split(setup.data, seed=seed, **spec)
            for method, settings in runs.values():
                check_request(method, split, dict(settings, seed=seed))
    stand_in = make_split(setup.data, seed=seeds[0],
                          forget_indices=setup.data.train[:subset_size].tolist())
    for method in risk_methods:
        check_request(method, stand_in, dict(setup.hyperparameters.get(method, {}), seed=seeds[0]))
    return stand_in


def paper_dataset(dataset: str) -> tuple[str, str]:
    """The paper's dataset whose rows sit beside ours, and a note saying which it is."""
    key = PAPER_DATASETS.get(dataset, "mnist")
    if dataset in PAPER_DATASETS and key == dataset:
        return key, f"the paper's {key} rows ({paper.ARCHITECTURES[key]})"
    return key, (f"the paper has no {dataset} rows; beside ours are its {key} rows "
                 f"({paper.ARCHITECTURES[key]}, the full dataset)")


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
        """Positions in `train` of dataset indices (all must be training samples)."""
        return torch.searchsorted(self.train, indices)


def privacy_risks(setup: Setup, split: Split, trained: nn.Module, *, shadow_count: int,
                  shadow_recipe: Recipe, candidates: int, inversion_steps: int, seed: int,
                  fix_variance: bool = True, inversion_precision: str = "float64") -> Risks:
    """LiRA's per-sample ASR from `shadow_count` shadow models on halves of the training
    set, and the gradient-inversion SSIM of `candidates` random training samples.
    `fix_variance` fits one variance per Gaussian over all samples, which Carlini et al.
    recommend below 64 shadow models: a per-sample variance from a few models is noisy."""
    data, train = setup.data, split.train
    ensemble, keep, _ = shadow_models(data, train, setup.architecture, shadow_recipe,
                                      count=shadow_count, seed=seed, **setup.architecture_options)
    stats = lira_statistic(ensemble.logits(data, train))
    loo = privacy_scores(stats, keep, fix_variance=fix_variance)
    logits = predict(trained, data, train, output="logits")
    labels = data.targets(train).cpu()
    probs = logits.softmax(1)
    pool = _random_subset(train, candidates, seed)
    quality, reconstructions = inversion_quality(  # one batch: every candidate alike
        trained, data, pool, steps=inversion_steps, seed=seed, chunk_size=len(pool),
        precision=inversion_precision)
    return Risks(train, loo, F.cross_entropy(logits, labels, reduction="none"),
                 probs.gather(1, labels.view(-1, 1)).flatten(),
                 -(probs * probs.clamp_min(1e-30).log()).sum(1), stats, keep, fix_variance,
                 _leave_one_out_roc(stats, keep, fix_variance), pool, quality, reconstructions)


def _leave_one_out_roc(stats: Tensor, keep: Tensor, fix_variance: bool) -> dict:
    """The strength of the attack itself: every shadow model in turn is the target of
    online LiRA fitted on the others (balanced, as for the privacy scores)."""
    return roc_summary(leave_one_out_scores(stats, keep, online=True, fix_variance=fix_variance),
                       keep)


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
    highest_asr = risks.train[torch.argsort(risks.asr, descending=True, stable=True)[:size]]
    return {"mi_high": easiest_to_invert(risks.inversion_ssim, risks.candidates, size).sort().values,
            "mia_high": highest_asr.sort().values,
            "low": _random_subset(risks.train, size, seed + 1)}


def membership_share(model: nn.Module, data: ImageData, indices: Tensor, risks: Risks) -> float:
    """The MIA score: the share of `indices` that online LiRA calls members of `model`."""
    if len(indices) == 0:
        return float("nan")
    positions = risks.positions(indices)
    target = lira_statistic(predict(model, data, indices, output="logits"))
    scores = lira_scores(risks.shadow_stats[:, positions], risks.shadow_in[:, positions], target,
                         fix_variance=risks.fix_variance)
    return (scores > 0).double().mean().item()


def scores(model: nn.Module, data: ImageData, split: Split, risks: Risks) -> dict[str, float]:
    """Acc_Dr, Acc_val (on the test split), Acc_Du and the MIA score on the forget set."""
    subsets = {"retain": split.retain, "val": split.test, "forget": split.forget}
    predicted = predict(model, data, torch.cat(list(subsets.values())), output="logits").argmax(1)
    labels = data.targets(torch.cat(list(subsets.values()))).cpu()
    correct = (predicted == labels).float().split([len(s) for s in subsets.values()])
    return {**{name: c.mean().item() for name, c in zip(subsets, correct)},
            "mia": membership_share(model, data, split.forget, risks)}


def risk_runs(setup: Setup, trained, sets: dict[str, Tensor], methods, risks: Risks, *,
              seed: int, relearn_lr: float, relearn_epochs: int) -> pd.DataFrame:
    """Every method on every forget set, and the trained model itself ('original'): the
    scores, the MIA gap to the original and the relearn time (epochs of fine-tuning on the
    forget set until its loss is back to the original's; NaN beyond `relearn_epochs`)."""
    rows = []
    model = trained[0]
    for name, forget in progress(sets.items(), desc="forget sets"):
        split = make_split(setup.data, forget_indices=forget.tolist(), seed=seed)
        original = scores(model, setup.data, split, risks)
        reference = risks.loss[risks.positions(forget)].mean().item()
        rows.append({"set": name, "method": "original", **original, "mia_gap": float("nan"),
                     "relearn": 0.0, "seconds": 0.0})
        for method in methods:
            unlearned, meta = setup.unlearned(split, trained, method,
                                              setup.hyperparameters.get(method, {}), seed)
            measured = scores(unlearned, setup.data, split, risks)
            epochs = relearn_time(unlearned, setup.data, split, reference, lr=relearn_lr,
                                  max_epochs=relearn_epochs, seed=seed)
            rows.append({"set": name, "method": method, **measured,
                         "mia_gap": abs(measured["mia"] - original["mia"]),
                         "relearn": float("nan") if epochs is None else float(epochs),
                         "seconds": meta["seconds"]})
    return pd.DataFrame(rows)


def risk_table(runs: pd.DataFrame, risk: str, dataset: str) -> pd.DataFrame:
    """Table 1 (risk 'mi') or Table 2 ('mia'): each method's Acc_Dr, Acc_val, Acc_Du (%)
    and MIA gap on the Low and the High set, with the paper's row beside each."""
    high = f"{risk}_high"
    table = paper.TABLE1 if risk == "mi" else paper.TABLE2
    key, _ = paper_dataset(dataset)
    rows = []
    for method in dict.fromkeys(runs.method):
        for subset, name in (("low", "low"), ("high", high)):
            ours = runs[(runs.method == method) & (runs.set == name)].iloc[0]
            theirs = table[key].get(method, {}).get(subset, {})
            row = {"method": method, "set": subset}
            for metric in ("retain", "val", "forget", "mia_gap"):
                scale = 1 if metric == "mia_gap" else 100
                row[LABELS[metric]] = _cell(ours[metric], scale)
                row[f"paper {LABELS[metric]}"] = _cell(theirs.get(metric), scale)
            rows.append(row)
    return pd.DataFrame(rows).set_index(["method", "set"])


def _cell(value, scale: float) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return f"{value * scale:.2f}"


def risk_profile(risks: Risks, sets: dict[str, Tensor]) -> pd.DataFrame:
    """Mean ASR, entropy, confidence and loss of the trained model on each forget set."""
    rows = {}
    for name, indices in sets.items():
        at = risks.positions(indices)
        rows[name] = {"ASR": risks.asr[at].mean().item(), "entropy": risks.entropy[at].mean().item(),
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


def inversion_figure(data: ImageData, risks: Risks, count: int, threshold: float):
    """Figure 1: the easiest and the hardest candidates to invert, original above its
    reconstruction, titled with its SSIM ('ok' where SSIM >= `threshold`, a success)."""
    order = torch.argsort(risks.inversion_ssim, descending=True)
    chosen = torch.cat([order[:count // 2], order[-(count - count // 2):]])
    originals = pixels(data, risks.candidates[chosen])
    titles = [f"{s:.2f}{' ok' if s >= threshold else ''}" for s in risks.inversion_ssim[chosen]]
    images = torch.cat([originals, risks.reconstructions[chosen]])
    return plots.image_grid(images, [""] * count + titles, columns=count)


def logit_distribution(data: ImageData, risks: Risks, sets: dict[str, Tensor]) -> pd.DataFrame:
    """Table 3: per class, the range of the trained model's confidence p_y over the top 80%
    and the bottom 20% of the class's training samples, and the mean confidence of the
    class's MI High and Low samples."""
    labels = data.targets(risks.train).cpu()
    rows = {}
    for c in range(data.num_classes):
        conf = risks.confidence[labels == c].sort(descending=True).values
        if len(conf) == 0:
            continue
        cut = int(np.ceil(0.8 * len(conf))) - 1  # the last sample of the top 80%
        row = {"top 80%": f"{conf[0]:.4f}-{conf[cut]:.4f}",
               "bottom 20%": f"{conf[min(cut + 1, len(conf) - 1)]:.4f}-{conf[-1]:.4f}",
               "boundary": conf[cut].item()}
        for name in ("mi_high", "low"):
            at = risks.positions(sets[name])
            mine = risks.confidence[at][labels[at] == c]
            row[name] = mine.mean().item() if len(mine) else float("nan")
        row["paper MI High"], row["paper MI Low"] = (paper.TABLE3[c]["mi_high"],
                                                     paper.TABLE3[c]["mi_low"]) \
            if c in paper.TABLE3 else (None, None)
        rows[c] = row
    return pd.DataFrame(rows).T


def loss_intervals(risks: Risks, intervals: int = 10) -> pd.DataFrame:
    """Figure 5: the training samples in `intervals` equal-count loss intervals (lowest
    first), each with its loss range and mean ASR."""
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
    labels = [f"{a:.0e}" for a in intervals["loss to"]]
    return plots.grouped_bars({"mean ASR": intervals["mean ASR"]}, labels,
                              ylabel="mean ASR", title=f"Fig. 5: loss interval (upper end) "
                              f"vs. ASR, Spearman {correlation:.2f}")


def relearn_figure(runs: pd.DataFrame, methods):
    """Figures 3-4: relearn time (epochs) of each method on the High and the Low sets."""
    panels = {}
    for risk in RISKS:
        series = {}
        for name in (f"{risk}_high", "low"):
            chosen = runs[runs.set == name].set_index("method")
            series[name] = [chosen.relearn.get(m, np.nan) for m in methods]
        panels[f"Fig. {3 if risk == 'mi' else 4}: {risk.upper()} High vs. Low"] = series
    return plots.bar_panels(panels, list(methods), ylabel="relearn epochs", columns=2)


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
        epochs = settings.get("epochs", _default(ablation_method, "epochs"))
        runs[f"{ablation_method} same passes"] = (ablation_method, {
            **settings, "epochs": int(round(epochs * (rounds + 1) / 2))})
    return runs


def _default(method: str, name: str):
    from ..unlearn import METHODS

    return METHODS[method].hyperparameters()[name]


def rsu_runs(setup: Setup, scenarios: dict[str, dict], runs: dict, seeds,
             risks: Risks) -> pd.DataFrame:
    """Every run of `variants` and retraining in every scenario and seed, with ToW and the
    MIA gap to retraining of the same scenario and seed."""
    rows = []
    for scenario, spec in scenarios.items():
        for seed in seeds:
            split = make_split(setup.data, seed=seed, **spec)
            trained = setup.trained(split, seed)
            retrained, _ = setup.unlearned(split, trained, "retrain",
                                           setup.hyperparameters.get("retrain", {}), seed)
            reference = scores(retrained, setup.data, split, risks)
            rows.append({"scenario": scenario, "seed": seed, "run": "retrain", **reference,
                         "tow": 1.0, "mia_gap": 0.0, "seconds": np.nan})
            for label, (method, settings) in progress(runs.items(), desc=scenario):
                model, meta = setup.unlearned(split, trained, method, settings, seed)
                measured = scores(model, setup.data, split, risks)
                rows.append({"scenario": scenario, "seed": seed, "run": label, **measured,
                             "tow": tug_of_war(measured, reference, ("forget", "retain", "val")),
                             "mia_gap": abs(measured["mia"] - reference["mia"]),
                             "seconds": meta["seconds"]})
    return pd.DataFrame(rows)


def gains(rows: pd.DataFrame, methods) -> pd.DataFrame:
    """Per scenario and method, RSU's gain in each metric (with minus without, paired by
    seed): mean and std over seeds, and whether the mean gain exceeds that std."""
    out = []
    for scenario in dict.fromkeys(rows.scenario):
        chosen = rows[rows.scenario == scenario].set_index(["run", "seed"])
        for method in methods:
            for metric in ("retain", "val", "forget", "tow", "mia_gap"):
                diff = chosen.loc[f"{method}+rsu", metric] - chosen.loc[method, metric]
                out.append({"scenario": scenario, "method": method, "metric": metric,
                            "gain": diff.mean(), "std": diff.std(ddof=0),
                            "exceeds spread": bool(abs(diff.mean()) > diff.std(ddof=0))})
    return pd.DataFrame(out)


def gains_table(gains_rows: pd.DataFrame) -> pd.DataFrame:
    """`gains` as 'gain ± std' per scenario and method (accuracies in points of %, ToW and
    MIA gap as fractions), with a mark where the mean gain exceeds the seed spread."""
    def text(row):
        scale = 1 if row.metric in ("tow", "mia_gap") else 100
        mark = " (beyond spread)" if row["exceeds spread"] else ""
        return f"{row.gain * scale:+.2f} ± {row['std'] * scale:.2f}{mark}"
    frame = gains_rows.assign(text=gains_rows.apply(text, axis=1),
                              metric=gains_rows.metric.map(LABELS))
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
            scale = 1 if metric in ("tow", "mia_gap") else 100
            row[LABELS[metric]] = mean_std(mean.loc[[label], metric], std.loc[[label], metric],
                                           2, scale).iloc[0]
            row[f"paper {LABELS[metric]}"] = _cell(theirs.get(metric), scale)
        out.append(row)
    return pd.DataFrame(out).set_index("run")


def order_figure(rows: pd.DataFrame, method: str, scenario: str = "class"):
    """Figure 7: Acc_Dr, Acc_val and ToW of `method` in one go, one go with RSU's number of
    passes, Reverse order and RSU order (mean over seeds)."""
    labels = {method: "original", f"{method} same passes": "original, same passes",
              f"{method} reverse": "reverse", f"{method}+rsu": "RSU"}
    chosen = rows[(rows.scenario == scenario) & rows.run.isin(labels)]
    mean = chosen.groupby("run").mean(numeric_only=True).reindex(list(labels))
    series = {labels[r]: [mean.loc[r, m] for m in ("retain", "val", "tow")] for r in labels}
    return plots.grouped_bars(series, ["Acc_Dr", "Acc_val", "ToW"], title=f"Fig. 7: order of "
                              f"forgetting, {method}, {scenario} forgetting")


# ---------------------------------------------------------------------------------------
# Claim rules: each reads the tables above; a claim whose runs are missing is not testable

def _by(runs: pd.DataFrame, name: str, metric: str) -> dict[str, float]:
    chosen = runs[(runs.set == name) & (runs.method != "original")]
    return dict(zip(chosen.method, chosen[metric]))


def high_vs_low(runs: pd.DataFrame, risk: str, metric: str, higher: bool) -> tuple:
    """(held, here) for 'every method has a strictly lower (or higher) `metric` on the High
    set than on the Low set'."""
    high, low = _by(runs, f"{risk}_high", metric), _by(runs, "low", metric)
    methods = [m for m in high if m in low and not np.isnan(high[m]) and not np.isnan(low[m])]
    if not methods:
        return None, "here: no method ran on both sets"
    failing = [m for m in methods if not (high[m] > low[m] if higher else high[m] < low[m])]
    here = "here: " + ", ".join(f"{m} {low[m]:.2f} → {high[m]:.2f}" for m in methods)
    return not failing, here + (f"; not for {spoken_list(failing)}" if failing else "")


def claims(runs: pd.DataFrame, risks: Risks, sets: dict[str, Tensor], distribution: pd.DataFrame,
           correlation: float, rsu_rows: pd.DataFrame, gains_table: pd.DataFrame,
           methods, ablation_method: str) -> list[Claim]:
    """Every claim of the RSU chapter, in its order (the same ids whatever ran)."""
    out = []
    for risk, table in (("mi", "Table 1"), ("mia", "Table 2")):
        held, here = high_vs_low(runs, risk, "forget", higher=False)
        out.append(Claim(f"{risk}_high_forgotten_more", paper.CLAIMS[f"{risk}_high_forgotten_more"],
                         f"paper: {table}, every method", here + " (Acc_Du, Low → High)",
                         verdict(held)))
        held, here = high_vs_low(runs, risk, "mia_gap", higher=True)
        out.append(Claim(f"{risk}_high_larger_mia_gap", paper.CLAIMS[f"{risk}_high_larger_mia_gap"],
                         f"paper: {table}, every method", here + " (MIA gap, Low → High)",
                         verdict(held)))
    profile = risk_profile(risks, sets)
    out.append(_compare_claim("mi_high_higher_asr", profile, "ASR", ["mi_high"], "Fig. 2a"))
    out.append(_compare_claim("high_more_entropy", profile, "entropy", ["mi_high", "mia_high"],
                              "Fig. 2b-c"))
    out.append(tail_claim(distribution))
    out.append(relearn_claim(runs))
    out.append(Claim("loss_correlates_with_asr", paper.CLAIMS["loss_correlates_with_asr"],
                     "paper: Fig. 5 (positive)", f"here: Spearman {correlation:.3f}",
                     verdict(None if np.isnan(correlation) else correlation > 0)))
    out += rsu_claims(rsu_rows, gains_table, methods, ablation_method)
    return out


def _compare_claim(claim_id: str, profile: pd.DataFrame, column: str, highs, evidence: str) -> Claim:
    present = [h for h in highs if h in profile.index]
    if "low" not in profile.index or not present:
        held, here = None, "here: needs the High and Low sets"
    else:
        held = all(profile.loc[h, column] > profile.loc["low", column] for h in present)
        here = "here: " + ", ".join(f"{h} {profile.loc[h, column]:.3f}" for h in present) + \
            f" vs. low {profile.loc['low', column]:.3f}"
    return Claim(claim_id, paper.CLAIMS[claim_id], f"paper: {evidence}", here, verdict(held))


def tail_claim(distribution: pd.DataFrame) -> Claim:
    """Table 3: in every class with MI High samples, their mean confidence lies below the
    class's 80% boundary (the tail) and that of its Low samples at or above it."""
    rows = distribution.dropna(subset=["mi_high", "low"])
    if rows.empty:
        return Claim("high_in_tail", paper.CLAIMS["high_in_tail"], "paper: Table 3, all classes",
                     "here: no class has both High and Low samples", verdict(None))
    high_tail = rows.mi_high < rows.boundary
    low_top = rows.low >= rows.boundary
    here = (f"here: High in the tail in {int(high_tail.sum())} of {len(rows)} classes, Low in "
            f"the top 80% in {int(low_top.sum())} of {len(rows)}")
    return Claim("high_in_tail", paper.CLAIMS["high_in_tail"], "paper: Table 3, all 10 classes",
                 here, verdict(bool(high_tail.all() and low_top.all())))


def relearn_claim(runs: pd.DataFrame) -> Claim:
    """Figs. 3-4: every method takes strictly longer to relearn the High sets than the Low
    set (a relearn time beyond the budget counts as longest)."""
    filled = runs.assign(relearn=runs.relearn.fillna(np.inf))
    results = [high_vs_low(filled, risk, "relearn", higher=True) for risk in RISKS]
    if any(held is None for held, _ in results):
        return Claim("high_relearn_longer", paper.CLAIMS["high_relearn_longer"],
                     "paper: Figs. 3-4", "here: needs runs on the High and Low sets",
                     verdict(None))
    here = "; ".join(f"{risk.upper()}: {text.removeprefix('here: ')}"
                     for risk, (_, text) in zip(RISKS, results))
    return Claim("high_relearn_longer", paper.CLAIMS["high_relearn_longer"], "paper: Figs. 3-4",
                 "here (epochs, Low → High): " + here, verdict(all(h for h, _ in results)))


def rsu_claims(rows: pd.DataFrame, gains_table: pd.DataFrame, methods,
               ablation_method: str) -> list[Claim]:
    """Tables 5-6 and Figure 7: RSU's gains, by strict comparisons of means over seeds."""
    def gain(scenario, metric, method):
        chosen = gains_table[(gains_table.scenario == scenario) & (gains_table.method == method)
                             & (gains_table.metric == metric)]
        return chosen.gain.iloc[0] if len(chosen) else float("nan")

    out = []
    for scenario, claim_id, metrics in (("class", "rsu_improves_class", ("retain", "val")),
                                        ("random", "rsu_improves_random", ("tow",))):
        values = {(m, k): gain(scenario, k, m) for m in methods for k in metrics}
        if not values or any(np.isnan(v) for v in values.values()):
            held, here = None, f"here: needs the {scenario} scenario"
        else:
            held = all(v > 0 for v in values.values())
            here = "here (gain): " + ", ".join(f"{m} {LABELS[k]} {v * (1 if k == 'tow' else 100):+.2f}"
                                               for (m, k), v in values.items())
        out.append(Claim(claim_id, paper.CLAIMS[claim_id],
                         f"paper: Table {5 if scenario == 'class' else 6}", here, verdict(held)))
    class_gain = [gain("class", "tow", m) for m in methods]
    random_gain = [gain("random", "tow", m) for m in methods]
    if np.isnan(class_gain + random_gain).any():
        held, here = None, "here: needs both scenarios"
    else:
        held = np.mean(class_gain) > np.mean(random_gain)
        here = f"here: mean ToW gain class {np.mean(class_gain):+.3f}, random {np.mean(random_gain):+.3f}"
    out.append(Claim("rsu_gain_larger_for_class", paper.CLAIMS["rsu_gain_larger_for_class"],
                     "paper: Tables 5-6", here, verdict(held)))
    out.append(order_claim(rows, ablation_method))
    return out


def order_claim(rows: pd.DataFrame, method: str, scenario: str = "class") -> Claim:
    """Figure 7: RSU's mean ToW is strictly above both the original and the reverse order."""
    chosen = rows[rows.scenario == scenario].groupby("run").tow.mean()
    labels = [method, f"{method} reverse", f"{method}+rsu"]
    if not all(label in chosen.index for label in labels):
        return Claim("rsu_beats_original_and_reverse", paper.CLAIMS["rsu_beats_original_and_reverse"],
                     "paper: Fig. 7", f"here: needs {method} in the class scenario", verdict(None))
    original, reverse, ours = (chosen[label] for label in labels)
    here = f"here (ToW): original {original:.3f}, reverse {reverse:.3f}, RSU {ours:.3f}"
    return Claim("rsu_beats_original_and_reverse", paper.CLAIMS["rsu_beats_original_and_reverse"],
                 "paper: Fig. 7, GA on four datasets", here,
                 verdict(ours > original and ours > reverse))
