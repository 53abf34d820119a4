"""An ipywidgets explorer of a results summary, for readers who would rather play than read.

A summary is a DataFrame indexed by (configuration, method), e.g. (forgetting setting,
method), with a `<score>_mean` and a `<score>_std` column per score (what
`studies.baselines.summarize` returns). The explorer offers the configuration, the score and
the methods; the bar chart (mean, with the std over seeds as error bars) and the table below
it update on every change. `view` draws the same picture without widgets: the static figure
the HTML book shows.
"""

from __future__ import annotations

import os
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .errors import ConfigError
from .presets import RESOLVED_ENV


def scores_of(summary: pd.DataFrame) -> list[str]:
    """The scores a summary holds: the names with both a `_mean` and a `_std` column."""
    means = [c.removesuffix("_mean") for c in summary.columns if c.endswith("_mean")]
    return [s for s in means if f"{s}_std" in summary.columns]


def table(summary: pd.DataFrame, configuration: str, score: str,
          methods: Sequence[str]) -> pd.DataFrame:
    """Mean and std of `score` for `methods` in `configuration` (methods as rows, in the
    order given; a method that did not run there is left out)."""
    _check(summary, configuration, score, methods)
    rows = summary.loc[configuration]
    shown = [m for m in methods if m in rows.index]
    return rows.loc[shown, [f"{score}_mean", f"{score}_std"]].set_axis(["mean", "std"], axis=1)


def view(summary: pd.DataFrame, configuration: str, score: str, methods: Sequence[str], *,
         scale: float = 1, unit: str = ""):
    """Bars of `score`'s mean per method in `configuration`, with the std as error bars
    (values times `scale`, e.g. 100 for percent)."""
    values = table(summary, configuration, score, methods) * scale
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(values) + 1.5), 3.0))
    positions = np.arange(len(values))
    bars = ax.bar(positions, values["mean"], yerr=values["std"], capsize=3, color="#1f77b4")
    ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    ax.set_xticks(positions, list(values.index), rotation=30, ha="right")
    ax.set(ylabel=f"{score} {unit}".strip(), title=f"{score} in {configuration}")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def explorer(summary: pd.DataFrame, *, score: str | None = None, scale: float = 1,
             unit: str = ""):
    """The widgets: a configuration and a score to pick, methods to select, and the chart
    and table for the current choice, redrawn on every change. None in a `mu-book` run,
    which executes the chapter with nobody to play with them, and where nbclient can block
    for good on the widgets' messages (jupyter/nbclient#312): the book shows `view`."""
    if os.environ.get(RESOLVED_ENV):
        return None
    import ipywidgets as widgets
    from IPython.display import display

    configurations = list(dict.fromkeys(summary.index.get_level_values(0)))
    methods = list(dict.fromkeys(summary.index.get_level_values(1)))
    scores = scores_of(summary)
    pick_configuration = widgets.Dropdown(options=configurations, description="setting")
    pick_score = widgets.Dropdown(options=scores, value=score or scores[0], description="score")
    pick_methods = widgets.SelectMultiple(options=methods, value=methods, rows=min(8, len(methods)),
                                          description="methods")
    output = widgets.Output()

    def redraw(_change=None):
        output.clear_output(wait=True)
        with output:
            chosen = (pick_configuration.value, pick_score.value, pick_methods.value)
            figure = view(summary, *chosen, scale=scale, unit=unit)
            display(figure, (table(summary, *chosen) * scale).round(2))
            plt.close(figure)

    for control in (pick_configuration, pick_score, pick_methods):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([pick_configuration, pick_score]), pick_methods, output])


def _check(summary: pd.DataFrame, configuration: str, score: str, methods) -> None:
    configurations = list(dict.fromkeys(summary.index.get_level_values(0)))
    if configuration not in configurations:
        raise ConfigError(f"unknown setting {configuration!r}; the summary has: "
                          f"{', '.join(configurations)}.")
    if score not in scores_of(summary):
        raise ConfigError(f"unknown score {score!r}; the summary has: "
                          f"{', '.join(scores_of(summary))}.")
    if isinstance(methods, str) or not len(methods):
        raise ConfigError("methods must be a non-empty list of method names.")
