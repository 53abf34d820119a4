"""One study per chapter, named by the chapter's slug: the experiment the chapter runs, its
tables, figures and claim rules. Studies build on the rest of `mu_core`; nothing outside
`studies/` imports a study.

The few helpers below are shared by the studies' tables and generated text."""

from __future__ import annotations

import pandas as pd


def mean_std(mean, std, decimals: int, scale: float = 1):
    """'mean ± std' strings, element by element, of two aligned Series or DataFrames (each
    value times `scale` first, e.g. 100 for percentages)."""
    def text(value):
        return f"{value * scale:.{decimals}f}"
    return mean.map(text) + " ± " + std.map(text)


def mean_by_method(records, methods) -> pd.DataFrame:
    """The mean of the runs' `records` (dicts of numbers, e.g. class -> accuracy) per method
    of `methods` (the runs' methods, one per record), in the methods' order of appearance."""
    return pd.DataFrame(list(records), index=methods).groupby(level=0, sort=False).mean()


def spoken_list(names, empty: str = "none") -> str:
    """Names as a sentence lists them: 'a', 'a and b', 'a, b and c' (`empty` for none)."""
    names = list(names)
    if not names:
        return empty
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def named_numbers(records, keys, numbers) -> dict[str, float]:
    """Headline numbers from a table's records: each record's `numbers`, named by its
    `keys`' values and the number's name ('digits/ResNet-18/ga/r_i')."""
    return {"/".join([*(str(record[key]) for key in keys), number]): record[number]
            for record in records for number in numbers}
