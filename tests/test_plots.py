"""The book's figures share one look: a colour per method, legends off the data, a
diverging colour map centred on zero for signed values."""

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from mu_core import plots
from mu_core.unlearn import METHODS

matplotlib.use("Agg")


def test_every_method_has_its_own_colour():
    names = [*METHODS, "trained", "no_vss"]
    colours = [plots.method_color(name) for name in names]
    assert None not in colours, [n for n, c in zip(names, colours) if c is None]
    assert len({mcolors.to_hex(c) for c in colours}) == len(names)


def test_bars_and_curves_draw_each_method_in_its_colour_whatever_the_order():
    methods = list(METHODS)
    for order in (methods, methods[::-1]):
        fig = plots.grouped_bars({m: [1.0, 2.0] for m in order}, ["a", "b"])
        bars = fig.axes[0].containers
        assert [mcolors.to_hex(c.patches[0].get_facecolor()) for c in bars] == \
            [mcolors.to_hex(plots.method_color(m)) for m in order]
        fig = plots.curves({m: [1.0, 2.0] for m in order})
        assert [mcolors.to_hex(line.get_color()) for line in fig.axes[0].lines] == \
            [mcolors.to_hex(plots.method_color(m)) for m in order]


def test_the_legend_sits_right_of_the_axes():
    fig = plots.grouped_bars({"ga": [1.0] * 10, "ft": [2.0] * 10}, [str(c) for c in range(10)])
    fig.canvas.draw()
    legend = fig.axes[0].get_legend().get_window_extent()
    axes = fig.axes[0].get_window_extent()
    assert legend.x0 >= axes.x1


def _overlapping_tick_labels(fig) -> int:
    """Adjacent tick labels that overlap: side by side when level; when rotated, along the
    direction across their baselines (their spacing times the sine of the angle against
    the text's height)."""
    fig.canvas.draw()
    labels = fig.axes[0].get_xticklabels()
    angle = np.radians(labels[0].get_rotation())
    size = labels[0].get_fontsize() * fig.dpi / 72  # the font's size in pixels
    if angle == 0:  # level: at least about a character's width between neighbours
        boxes = [label.get_window_extent() for label in labels]
        return sum(b.x0 - a.x1 < 0.8 * size for a, b in zip(boxes, boxes[1:]))
    return sum((b.get_window_extent().x1 - a.get_window_extent().x1) * np.sin(angle) < size
               for a, b in zip(labels, labels[1:]))


@pytest.mark.parametrize("labels", [
    ["retrain", "ft", "ga", "rl", "ff", "iu", "wp", "l1_sparse", "bu", "salun", "unsc",
     "bad_teacher"],
    ["trained", "pruned", "fine-tuned", "unlearned +\nfine-tuned"],
])
def test_bar_labels_never_crowd(labels):
    series = {"a": [1.0] * len(labels), "b": [2.0] * len(labels), "c": [3.0] * len(labels)}
    assert _overlapping_tick_labels(plots.grouped_bars(series, labels)) == 0


def test_box_labels_with_counts_never_crowd():
    frame = pd.DataFrame({"model": ["before", "relabel", "retrain"], "SSIM": [0.5, 0.4, 0.3]})
    fig = plots.box_panels(frame, ["SSIM"], ["model"], counts=True,
                           reference=(0.7, "tau (candidates' null)"))
    assert _overlapping_tick_labels(fig) == 0


def test_bar_panels_show_one_legend_beside_all_panels():
    fig = plots.bar_panels({"p": {"ga": [1.0], "ft": [2.0]}, "q": {"ga": [1.0], "ft": [2.0]}},
                           ["x"], columns=2)
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert len(fig.legends) == 1


@pytest.mark.parametrize("values, diverging", [([[-2.0, 1.0]], True), ([[0.5, 3.0]], False)])
def test_signed_values_take_a_diverging_map_centred_on_zero(values, diverging):
    fig = plots.heatmap_panels({"panel": pd.DataFrame(values)})
    image = fig.axes[0].images[0]
    low, high = image.get_clim()
    if diverging:
        assert image.get_cmap().name == plots.DIVERGING and low == -high == -2.0
    else:
        assert image.get_cmap().name != plots.DIVERGING and (low, high) == (0.5, 3.0)
    assert np.isfinite([low, high]).all()


def _overlapping_value_labels(fig) -> int:
    """Value labels over neighbouring bars whose drawn boxes overlap."""
    fig.canvas.draw()
    boxes = sorted((text.get_window_extent() for text in fig.axes[0].texts), key=lambda b: b.x0)
    return sum(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))


@pytest.mark.parametrize("series, labels", [
    ({run: [1.0, 0.98, 0.0, 0.99] for run in ("original", "original, same passes",
                                               "reverse", "RSU")},
     ["Acc_Dr", "Acc_val", "Acc_Du", "ToW"]),  # RSU's Fig. 7: four bars a group
    ({"a": [0.5] * 12, "b": [0.25] * 12}, [str(c) for c in range(12)]),
])
def test_bar_values_never_run_together(series, labels):
    fig = plots.grouped_bars(series, labels)
    assert fig.axes[0].texts and _overlapping_value_labels(fig) == 0


def test_a_tall_heat_maps_title_sits_just_above_its_panels():
    # the scorecard's heat map has 19 rows: a title placed at a fraction of the figure's
    # height floated 1.8 inches above the panel, over an empty band
    frame = pd.DataFrame(np.arange(19 * 9, dtype=float).reshape(19, 9))
    fig = plots.heatmap_panels({"classwise": frame}, title="distance from retraining")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)
    panel = fig.axes[0].title.get_window_extent(renderer)
    gap_inches = (title.y0 - panel.y1) / fig.dpi
    assert 0 <= gap_inches < 0.4
    matplotlib.pyplot.close(fig)
