"""Figures the chapters share; every function returns a matplotlib Figure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    import pandas as pd

FORGET_COLOR, RETAIN_COLOR, TEST_COLOR = "#d62728", "#1f77b4", "#7f7f7f"

# One colour per unlearning method (every name of `unlearn.METHODS`), the trained model and
# the adversarial method's ablation, the same in every figure of the book.
VALUE_FONT = 7  # points: the values written above bars

METHOD_COLORS = {
    "trained": "#7f7f7f", "retrain": "#1f77b4", "ft": "#ff7f0e", "ga": "#2ca02c",
    "rl": "#d62728", "ff": "#9467bd", "iu": "#8c564b", "wp": "#e377c2", "l1_sparse": "#bcbd22",
    "bu": "#17becf", "salun": "#aec7e8", "unsc": "#ffbb78", "bad_teacher": "#98df8a",
    "adversarial": "#000000", "no_vss": "#c5b0d5", "rsu": "#ff9896",
}


def method_color(name: str) -> str | None:
    """The book's colour of a method (None for a name that is not a method: matplotlib's
    colour cycle then picks)."""
    return METHOD_COLORS.get(name)


def legend_outside(ax) -> None:
    """The legend to the right of the axes, so that it never covers data."""
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def confusion(matrix: Tensor, class_names: Sequence[str], *, title: str = "",
              highlight: Sequence[int] = (), ax=None):
    """A (row-normalised) confusion matrix as a heat map; `highlight` marks classes in red."""
    fig, ax = _figure(ax, (5.0, 4.2))
    values = matrix.float().numpy()
    top = 1.0 if values.max() <= 1 else float(values.max())
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=top)
    fig.colorbar(image, ax=ax, shrink=0.8)
    if len(class_names) <= 12:
        fmt = "{:.2f}" if top <= 1 else "{:.0f}"
        for (row, col), value in np.ndenumerate(values):
            ax.text(col, row, fmt.format(value), ha="center", va="center", fontsize=7,
                    color="white" if value > 0.6 * top else "black")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names)
    ax.set_yticks(ticks, class_names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
        for c in highlight:
            labels[c].set_color(FORGET_COLOR)
            labels[c].set_fontweight("bold")
    fig.tight_layout()
    return fig


def grouped_bars(series: dict[str, Sequence[float]], labels: Sequence[str], *,
                 ylabel: str = "", title: str = "", highlight: Sequence[int] = (), ax=None,
                 annotate: bool = True):
    """One group of bars per label, one bar per series; `highlight` marks labels in red;
    `annotate` writes each bar's value above it (when there are at most 24 bars)."""
    legend_room = 1.5 if len(series) > 1 else 0.0  # the legend sits outside, at the right
    fig_width = max(5.0, 0.4 * len(labels) * max(1, len(series)),
                    1.1 * len(labels) + legend_room)
    fig, ax = _figure(ax, (min(10.0, fig_width), 3.2))
    width = 0.8 / len(series)
    positions = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        bars = ax.bar(positions + (i - (len(series) - 1) / 2) * width,
                      np.asarray(values, float), width, label=name, color=method_color(name))
        if annotate and len(labels) * len(series) <= 24:
            ax.bar_label(bars, fmt="%.2f", fontsize=VALUE_FONT, padding=1)
    ax.set_xticks(positions, labels)
    if _labels_collide(ax, labels):
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
    _turn_crowded_values(ax, width, len(labels))
    for c in highlight:
        ax.get_xticklabels()[c].set_color(FORGET_COLOR)
    ax.set(ylabel=ylabel, title=title)
    if len(series) > 1:
        legend_outside(ax)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _turn_crowded_values(ax, bar_width: float, groups: int) -> None:
    """Stand the bars' value labels upright where a label is wider than its bar (at about
    0.6 of the font size a character), so that neighbours never run together."""
    values = [text for text in ax.texts if text.get_text()]
    if not values:
        return
    axes_inches = ax.get_position().width * ax.figure.get_size_inches()[0]
    bar_inches = bar_width * axes_inches / (groups + 0.2)  # matplotlib's 5% x margins
    longest = max(len(text.get_text()) for text in values)
    if longest * 0.6 * VALUE_FONT / 72 > 0.9 * bar_inches:
        plt.setp(values, rotation=90, va="bottom", ha="center")
        ax.margins(y=0.15)


def _labels_collide(ax, labels: Sequence[str]) -> bool:
    """Whether the longest tick label (its longest line) is wider than a label's share of
    the axes, at about 0.085 inch a character of the default font."""
    longest = max((len(line) for label in labels for line in str(label).split("\n")), default=0)
    share = ax.get_position().width * ax.figure.get_size_inches()[0] / max(1, len(labels))
    return longest * 0.085 > share


def curves(series: dict[str, Sequence[float]], *, x: Sequence[float] | None = None,
           xlabel: str = "epoch", ylabel: str = "", title: str = "", ax=None):
    """Line plot of one or more series against `x` (default: steps counted from 1)."""
    fig, ax = _figure(ax, (5.0, 3.0))
    for name, values in series.items():
        positions = np.arange(1, len(values) + 1) if x is None else np.asarray(x, float)
        ax.plot(positions, np.asarray(values, float), marker="o", markersize=3, label=name,
                color=method_color(name))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if len(series) > 1:
        legend_outside(ax)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def split_overview(data, split, *, examples: int = 6):
    """Training samples per class split into retain and forget, the test split beside them,
    and example forget images of each forget class."""
    counts = {name: torch.bincount(data.labels[getattr(split, name).to(data.device)].cpu(),
                                   minlength=data.num_classes).numpy()
              for name in ("retain", "forget", "test")}
    classes = list(split.forget_classes) or sorted(
        torch.unique(data.labels[split.forget.to(data.device)]).tolist())[:5]
    fig = plt.figure(figsize=(10, 3.8), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.25, 1])
    ax = left.subplots()
    positions = np.arange(data.num_classes)
    ax.bar(positions - 0.2, counts["retain"], 0.4, color=RETAIN_COLOR, label="retain")
    ax.bar(positions - 0.2, counts["forget"], 0.4, bottom=counts["retain"], color=FORGET_COLOR,
           label="forget")
    ax.bar(positions + 0.2, counts["test"], 0.4, color=TEST_COLOR, label="test")
    ax.set_xticks(positions, data.classes if data.num_classes <= 20 else None)
    ax.set(xlabel="class", ylabel="samples")
    ax.set_title(f"{data.name}: {split.kind} forgetting", fontsize=10)
    ax.set_ylim(0, 1.2 * (counts["retain"] + counts["forget"]).max())
    ax.legend(frameon=False, fontsize=8, ncols=3, loc="upper center")
    ax.spines[["top", "right"]].set_visible(False)
    forget_labels = data.labels[split.forget.to(data.device)].cpu()
    rows = [split.forget[forget_labels == c][:examples] for c in classes]
    mosaic = _mosaic([data.images[r.to(data.device)].cpu() for r in rows], examples)
    image_ax = right.subplots()
    _show(image_ax, mosaic)
    size = data.image_size + 2
    image_ax.set_yticks(size * np.arange(len(classes)) + size / 2,
                        [data.classes[c] for c in classes], color=FORGET_COLOR)
    image_ax.set_title("forget-set examples", fontsize=10)
    return fig


def _mosaic(rows: list[Tensor], columns: int, gap: int = 2) -> Tensor:
    """uint8 images (one list entry per row, each (n, C, H, W)) tiled into one image."""
    channels, height, width = rows[0].shape[1:]
    canvas = torch.full((channels, len(rows) * (height + gap), columns * (width + gap)), 255,
                        dtype=torch.uint8)
    for r, images in enumerate(rows):  # a handful of rows
        strip = torch.full((columns, channels, height + gap, width + gap), 255, dtype=torch.uint8)
        strip[: len(images), :, :height, :width] = images
        canvas[:, r * (height + gap):(r + 1) * (height + gap)] = torch.cat(list(strip), dim=2)
    return canvas


def image_grid(images: Tensor, titles: Sequence[str] = (), *, columns: int = 8):
    """uint8 or [0, 1] float images (N, C, H, W) in a grid."""
    rows = max(1, int(np.ceil(len(images) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(1.2 * columns, 1.3 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < len(images):
            _show(ax, images[i])
            if i < len(titles):
                ax.set_title(titles[i], fontsize=7)
        else:
            ax.axis("off")
    fig.tight_layout()
    return fig


def _show(ax, image: Tensor) -> None:
    array = image.detach().cpu().float()
    if image.dtype == torch.uint8:
        array = array / 255
    array = array.permute(1, 2, 0).numpy()
    ax.imshow(array.squeeze(-1) if array.shape[-1] == 1 else array, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])


def _figure(ax, size):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size)
    return fig, ax


def bar_panels(panels: dict[str, dict[str, Sequence[float]]], labels: Sequence[str], *,
               ylabel: str = "", columns: int = 4, title: str = ""):
    """One `grouped_bars` panel per entry (e.g. per method), sharing labels and y axis."""
    rows = int(np.ceil(len(panels) / columns))
    width = max(2.9, 0.62 * len(labels))  # room for every tick label at font size 7
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, 2.5 * rows), sharey=True,
                             squeeze=False)
    for ax, (name, series) in zip(axes.flat, panels.items()):
        grouped_bars(series, labels, title=name, ax=ax, annotate=False)
        if ax.get_legend():
            ax.get_legend().remove()
        ax.title.set_fontsize(9)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    handles, names = axes.flat[0].get_legend_handles_labels()
    if len(handles) > 1:  # one legend for every panel, right of them all
        fig.legend(handles, names, loc="upper left", bbox_to_anchor=(1.0, 0.95),
                   frameon=False, fontsize=8)
    return fig


def confusion_grid(matrices: dict[str, dict[str, Tensor]], true_names: Sequence[str],
                   predicted_names: Sequence[str]):
    """Row-normalised confusion matrices, one row of panels per outer key (e.g. a method)
    and one column per inner key (e.g. a model); matrices may be rectangular."""
    outer = list(matrices)
    inner = list(next(iter(matrices.values())))
    fig, axes = plt.subplots(len(outer), len(inner), squeeze=False,
                             figsize=(2.3 * len(inner), 1.5 + 0.22 * len(true_names) * len(outer)))
    for r, row_name in enumerate(outer):
        for c, column_name in enumerate(inner):
            ax = axes[r, c]
            ax.imshow(matrices[row_name][column_name].float().numpy(), cmap="Blues", vmin=0,
                      vmax=1, aspect="auto")
            ax.set_xticks(np.arange(len(predicted_names)), predicted_names, fontsize=6)
            ax.set_yticks(np.arange(len(true_names)), true_names, fontsize=6)
            if r == 0:
                ax.set_title(column_name, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{row_name}\ntrue", fontsize=8)
            if r == len(outer) - 1:
                ax.set_xlabel("predicted", fontsize=8)
    fig.tight_layout()
    return fig


def heatmap_panels(panels: dict[str, "pd.DataFrame"], *, title: str = "",
                   fmt: str = "{:.1f}", cmap: str = "Reds"):
    """One annotated heat map per entry (e.g. per dataset), rows x columns of each frame
    (e.g. backbone x method), on a shared colour scale; values of both signs take a
    diverging colour map centred on zero (`DIVERGING`) instead of `cmap`."""
    values = np.concatenate([np.asarray(f, dtype=float).ravel() for f in panels.values()])
    finite = values[np.isfinite(values)]
    low, high = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
    signed = low < 0 < high
    if signed:
        cmap, high = DIVERGING, max(-low, high)
        low = -high
    fig, axes = plt.subplots(1, len(panels), squeeze=False,
                             figsize=(0.7 + 0.75 * sum(f.shape[1] for f in panels.values())
                                      + 0.6 * len(panels), 1.3 + 0.45 * max(
                                          f.shape[0] for f in panels.values())))
    for ax, (name, frame) in zip(axes.flat, panels.items()):
        array = np.asarray(frame, dtype=float)
        image = ax.imshow(array, cmap=cmap, vmin=low, vmax=high, aspect="auto")
        for (i, j), v in np.ndenumerate(array):
            ax.text(j, i, fmt.format(v) if np.isfinite(v) else "–", ha="center",
                    va="center", fontsize=7,
                    color="white" if _dark(v, low, high, signed) else "black")
        ax.set_xticks(np.arange(array.shape[1]), list(frame.columns), fontsize=7)
        ax.set_yticks(np.arange(array.shape[0]), list(frame.index), fontsize=7)
        ax.set_title(name, fontsize=9)
    fig.colorbar(image, ax=list(axes.flat), shrink=0.8)
    if title:  # just above the panels' titles, whatever the figure's height
        fig.suptitle(title, fontsize=10, y=fig.subplotpars.top + 0.3 / fig.get_figheight(),
                     va="bottom")
    return fig


DIVERGING = "RdBu_r"  # signed quantities: blue below zero, red above, white at zero


def _dark(value: float, low: float, high: float, signed: bool) -> bool:
    """Whether a heat-map cell is dark enough for white text."""
    if signed:
        return abs(value) > 0.6 * high
    return value > low + 0.6 * (high - low)


def radar_grid(polygons: dict[str, dict[str, Sequence[float]]], axis_names: Sequence[str], *,
               colors: Sequence[str] = (FORGET_COLOR, RETAIN_COLOR), columns: int = 6):
    """Radar charts, one per entry (e.g. backbone and method), each with one closed polygon
    per series (e.g. unlearned and attack model) over the same axes (e.g. forget classes)."""
    count = len(polygons)
    columns = min(columns, count)
    rows = int(np.ceil(count / columns))
    fig, axes = plt.subplots(rows, columns, subplot_kw={"projection": "polar"}, squeeze=False,
                             figsize=(2.3 * columns, 2.4 * rows))
    angles = np.linspace(0, 2 * np.pi, len(axis_names), endpoint=False)
    closed = np.append(angles, angles[0])
    for ax, (name, series) in zip(axes.flat, polygons.items()):
        for color, (label, radii) in zip(colors, series.items()):
            radii = np.append(np.asarray(radii, dtype=float), radii[0])
            ax.plot(closed, radii, color=color, linewidth=1.2, label=label)
            ax.fill(closed, radii, color=color, alpha=0.2)
        ax.set_ylim(0, 1)
        ax.set_xticks(angles, list(axis_names), fontsize=6)
        ax.set_yticks([0.5, 1.0], ["", ""])
        ax.set_title(name, fontsize=8, pad=10)
    for ax in axes.flat[count:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="lower left", bbox_to_anchor=(-0.35, -0.35))
    fig.tight_layout()
    return fig


def embedding_grid(panels: dict[str, dict[str, np.ndarray]], labels: np.ndarray,
                   marked: np.ndarray, class_names: Sequence[str]):
    """Scatter plots of 2-d embeddings (e.g. t-SNE), a row per outer key and a column per
    inner key, points coloured by class; `marked` points (e.g. the forget set) are drawn
    as crosses over the others (dots)."""
    outer, inner = list(panels), list(next(iter(panels.values())))
    fig, axes = plt.subplots(len(outer), len(inner), squeeze=False,
                             figsize=(2.7 * len(inner) + 1.2, 2.5 * len(outer)))
    colours = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    for r, row_name in enumerate(outer):
        for c, column_name in enumerate(inner):
            ax, points = axes[r, c], panels[row_name][column_name]
            for style, chosen in (("o", ~marked), ("x", marked)):
                ax.scatter(points[chosen, 0], points[chosen, 1], s=6 if style == "o" else 9,
                           marker=style, linewidths=0.7,
                           c=[colours(k % colours.N) for k in labels[chosen]], alpha=0.7)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(column_name, fontsize=9)
            if c == 0:
                ax.set_ylabel(row_name, fontsize=9)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colours(k % colours.N),
                          label=name) for k, name in enumerate(class_names)]
    handles += [plt.Line2D([], [], marker="x", linestyle="", color="k", label="forget"),
                plt.Line2D([], [], marker="o", linestyle="", color="k", label="probe")]
    fig.legend(handles=handles, loc="center right", fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 1 - 1.1 / fig.get_figwidth(), 1))
    return fig


def box_panels(frame: "pd.DataFrame", values: Sequence[str], by: Sequence[str], *,
               symlog: float | None = None, counts: bool = False,
               reference: tuple[float, str] | None = None):
    """Box plots of each value column (rows of the figure) grouped by each column of `by`
    (columns of the figure), e.g. R_R and A_R by dataset, method and backbone. `symlog`
    makes the y axes symmetric-logarithmic, linear within +-symlog (for heavy tails);
    `counts` puts each box's number of values under its name; `reference` (value, label)
    draws a dashed line across every panel."""
    boxes = max(len(set(frame[group])) for group in by)
    panel_width = max(3.0, 0.9 * boxes + (1.8 if reference is not None else 0.0))
    fig, axes = plt.subplots(len(values), len(by), squeeze=False,
                             figsize=(panel_width * len(by), 2.4 * len(values)))
    for r, value in enumerate(values):
        for c, group in enumerate(by):
            names = list(dict.fromkeys(frame[group]))
            samples = [frame.loc[frame[group] == n, value].to_numpy(dtype=float) for n in names]
            samples = [s[np.isfinite(s)] for s in samples]
            labels = [f"{n}\n(n={len(s)})" for n, s in zip(names, samples)] if counts else names
            axes[r, c].boxplot(samples, tick_labels=labels)
            if reference is not None:
                axes[r, c].axhline(reference[0], color="grey", linestyle="--", linewidth=1,
                                   label=reference[1])
                legend_outside(axes[r, c])
            if symlog:
                axes[r, c].set_yscale("symlog", linthresh=symlog)
            axes[r, c].tick_params(labelsize=7)
            axes[r, c].set_xlabel(group, fontsize=8)
            if c == 0:
                axes[r, c].set_ylabel(value, fontsize=8)
    fig.tight_layout()
    return fig


def recovery_by_margin(distance: Tensor, phase1: Tensor, phase2: Tensor, null: Tensor,
                       tau: float, *, tau_label: str = "tau"):
    """UnlearnGuard's Figure 11a/b: each training sample's best SSIM against its distance
    from the decision boundary after phase 1 (KKT loss alone) and phase 2 (with the prior),
    and each sample's change from phase 1 to phase 2 beside its null SSIM."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.4))
    axes[0].scatter(distance, phase1, s=12, color="tab:red", label="phase 1 (Haim/Buzaglo)")
    axes[0].scatter(distance, phase2, s=12, color="tab:blue", label="phase 2 (with prior)")
    axes[0].axhline(tau, color="gray", ls="--", lw=1, label=tau_label)
    axes[0].set(xlabel="distance from the decision boundary", ylabel="best SSIM",
                title="Fig. 11a")
    order = torch.argsort(phase1)
    rank = np.arange(len(order))
    improved = (phase2 - phase1)[order] > 0
    axes[1].vlines(rank, phase1[order], phase2[order],
                   colors=np.where(improved.numpy(), "tab:green", "tab:red"))
    axes[1].scatter(rank, phase1[order], s=8, color="gray")
    axes[1].scatter(rank, null[order], s=8, marker="x", color="black", label="null")
    axes[1].set(xlabel="training sample (by phase 1 SSIM)", ylabel="best SSIM",
                title="Fig. 11b: phase 1 -> phase 2")
    for ax in axes:
        legend_outside(ax)
    fig.tight_layout()
    return fig
