"""One study per chapter, named by the chapter's slug: the experiment the chapter runs, its
tables, figures and claim rules. Studies build on the rest of `mu_core`; nothing outside
`studies/` imports a study.

The few helpers below are shared by the studies' tables and generated text."""

from __future__ import annotations

import pandas as pd


PLUS_MINUS = "\u00a0±\u00a0"  # no-break spaces: a table cell never wraps "mean ± std"


def mean_std(mean, std, decimals: int, scale: float = 1):
    """'mean ± std' strings, element by element, of two aligned Series or DataFrames (each
    value times `scale` first, e.g. 100 for percentages), held on one line (`PLUS_MINUS`)."""
    def text(value):
        return f"{value * scale:.{decimals}f}"
    return mean.map(text) + PLUS_MINUS + std.map(text)


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


def sources_as_rows(table: pd.DataFrame, name: str = "source",
                    drop_empty: bool = False) -> pd.DataFrame:
    """`table` with its first column level (here, paper, ...) moved into the rows, as the
    last index level `name`: each row's sources one under another, the same metric in the
    same column, so the table is as wide as one source's columns. A source that lacks a
    metric shows a dash; with `drop_empty`, a source that lacks them all has no row."""
    sources = list(dict.fromkeys(table.columns.get_level_values(0)))
    metrics = list(dict.fromkeys(table.columns.droplevel(0)))
    long = table.stack(level=0, future_stack=True)
    long.index = long.index.set_names(name, level=-1)
    rows = [(*key, source) if isinstance(key, tuple) else (key, source)
            for key in table.index for source in sources]
    long = long.reindex(index=pd.MultiIndex.from_tuples(rows, names=long.index.names),
                        columns=metrics)
    if drop_empty:
        long = long[long.replace("", None).notna().any(axis=1)]
    return long.astype(object).fillna("–")


def here_above_paper(ours: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Our table (methods as rows) with the paper's row for each method under ours, the
    same metric in the same column (`sources_as_rows`); methods only the paper ran follow
    ours, and a side that has no row for a method is left out."""
    order = [*ours.index, *(m for m in paper.index if m not in ours.index)]
    both = pd.concat({"here": ours.reindex(order), "paper": paper.reindex(order)}, axis=1)
    return sources_as_rows(both, drop_empty=True)
