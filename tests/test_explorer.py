"""The results explorer: its table and chart from a hand-made summary, and its widgets
redrawing on every change."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from mu_core import explorer
from mu_core.errors import ConfigError


def hand_made_summary():
    index = pd.MultiIndex.from_tuples([("classwise", "retrain"), ("classwise", "ga"),
                                       ("random", "retrain")], names=["setting", "method"])
    return pd.DataFrame({"UA_mean": [0.1, 0.5, 0.2], "UA_std": [0.01, 0.05, 0.0],
                         "TA_mean": [0.9, 0.7, 0.8], "TA_std": [0.02, 0.03, 0.01],
                         "seconds_mean": [3.0, 1.0, 2.0]}, index=index)


def test_scores_are_the_columns_with_mean_and_std():
    assert explorer.scores_of(hand_made_summary()) == ["UA", "TA"]


def test_table_keeps_the_methods_order_and_leaves_out_methods_not_run():
    table = explorer.table(hand_made_summary(), "classwise", "UA", ["ga", "retrain"])
    assert list(table.index) == ["ga", "retrain"]
    assert table.loc["ga"].tolist() == [0.5, 0.05]
    assert list(explorer.table(hand_made_summary(), "random", "TA", ["ga", "retrain"]).index) \
        == ["retrain"]


def test_view_draws_the_means_with_std_error_bars_in_percent():
    figure = explorer.view(hand_made_summary(), "classwise", "TA", ["retrain", "ga"], scale=100)
    ax = figure.axes[0]
    assert [round(bar.get_height(), 6) for bar in ax.patches] == [90.0, 70.0]
    bars = next(c for c in ax.containers if hasattr(c, "errorbar"))
    error_bars = bars.errorbar.lines[2][0].get_segments()
    assert [round(s[1][1] - s[0][1], 6) for s in error_bars] == [4.0, 6.0]  # 2 x std
    assert [t.get_text() for t in ax.get_xticklabels()] == ["retrain", "ga"]
    plt.close(figure)


@pytest.mark.parametrize("arguments, message", [
    (("whole", "UA", ["ga"]), "unknown setting 'whole'; the summary has: classwise, random"),
    (("random", "seconds", ["ga"]), "unknown score 'seconds'; the summary has: UA, TA"),
    (("random", "UA", []), "methods must be a non-empty list"),
])
def test_bad_choices_fail_with_a_sentence(arguments, message):
    with pytest.raises(ConfigError, match=message):
        explorer.table(hand_made_summary(), *arguments)


def test_the_widgets_redraw_on_every_change(monkeypatch):
    drawn = []
    monkeypatch.setattr(explorer, "view", lambda summary, *chosen, **_: (
        drawn.append(chosen), plt.figure())[1])
    box = explorer.explorer(hand_made_summary(), score="TA")
    (setting, score), methods, _ = box.children[0].children, box.children[1], box.children[2]
    assert drawn == [("classwise", "TA", ("retrain", "ga"))]
    setting.value = "random"
    score.value = "UA"
    methods.value = ("ga",)
    assert drawn[1:] == [("random", "TA", ("retrain", "ga")), ("random", "UA", ("retrain", "ga")),
                         ("random", "UA", ("ga",))]


def test_a_mu_book_run_builds_no_widgets(monkeypatch):
    """nbclient can block for good on widget messages (jupyter/nbclient#312): a chapter
    smoke run hung in the explorer cell, so headless runs get no widgets."""
    import ipywidgets

    monkeypatch.setenv("MU_BOOK_PRESET", "smoke")
    monkeypatch.setattr(ipywidgets, "Dropdown", None)  # any widget built would fail
    assert explorer.explorer(hand_made_summary(), score="UA") is None
