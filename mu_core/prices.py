"""What a paper-scale run costs: a dry run's work priced on a reference GPU, and the book's
price table.

A dry run's estimate (`dryrun.estimate_entries`) lists the real run's work (`work`: the
training images of each network, the sample-steps of attack, game, reconstruction and
inversion loops, the items of per-sample work) with its hours on the machine the dry run
ran on. The
training images of a network that `reference_gpus.yaml` holds a measured throughput for
are priced on that GPU from the work alone (images / images per second); every other loop
is named as having no reference figure, and is not guessed.

The README's price table and each chapter's paper-scale row come from the paper dry runs'
estimates committed in `paper_prices/` (`bench.record_paper_price` writes one,
`bench.write_price_table` the README's table: `python -m mu_core.bench prices ...`).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

FIGURES = Path(__file__).with_name("reference_gpus.yaml")
PRICES = Path(__file__).with_name("paper_prices")  # <chapter slug>.json: a paper dry run
README_START = "<!-- price table: written by `python -m mu_core.bench prices table` -->"
README_END = "<!-- end of the price table -->"
COLUMNS = ("chapter", "seeds", "training images", "other work", "dry run's machine",
           "reference GPU", "no reference figure")


def reference_figures() -> dict:
    """The reference GPU, its source, the variant that prices, and its figures."""
    return yaml.safe_load(FIGURES.read_text())


def figure_for(network: dict | None, figures: dict) -> dict | None:
    """The reference figure measured on `network` (class, parameters, input), or None."""
    for figure in figures["figures"]:
        if network and all(network.get(k) == v for k, v in figure["network"].items()):
            return figure
    return None


def reference_time(found: dict, figures: dict | None = None) -> dict:
    """The estimate's work on the reference GPU: `hours` of the training it has figures
    for (all seeds: its `images`), the loops `priced`, and the `unpriced` rows (loop, kind, hours on the
    dry run's machine) that have no reference figure."""
    figures = figures or reference_figures()
    hours, images, priced, unpriced = 0.0, 0.0, [], []
    for row in found.get("work", []):
        figure = figure_for(row["network"], figures) if row["kind"] == "training" else None
        if figure is None:
            unpriced.append({k: row[k] for k in ("loop", "kind", "hours")})
            continue
        hours += row["count"] / figure["images_per_s"][figures["variant"]] / 3600
        images += row["count"]
        priced.append(row["loop"])
    return {"gpu": figures["gpu"], "variant": figures["variant"], "hours": hours,
            "images": images, "priced": priced, "unpriced": unpriced}


def reference_sentence(found: dict, figures: dict | None = None) -> str:
    """One sentence: the reference GPU's time for the training it has figures for, and what
    it has none for."""
    figures = figures or reference_figures()
    ref = reference_time(found, figures)
    if not ref["priced"]:
        return (f"On a reference GPU ({ref['gpu']}): no reference figure for any of this "
                f"run's loops.")
    sentence = (f"On a reference GPU ({ref['gpu']}, {ref['variant']}, {figures['source']}), "
                f"the training it has figures for ({count(ref['images'])} images) "
                f"would take about {duration(ref['hours'])}")
    if not ref["unpriced"]:
        return sentence + "."
    rest = sum(row["hours"] for row in ref["unpriced"])
    return (f"{sentence}; no reference figure for the other loops ({duration(rest)} of this "
            f"run's price on the dry run's machine, largest: "
            f"{', '.join(row['loop'] for row in ref['unpriced'][:3])}).")


def row(chapter: str, found: dict, figures: dict | None = None) -> dict:
    """The price table's row for a chapter's paper dry run `found`, per seed."""
    figures = figures or reference_figures()
    seeds = found["seeds"]
    ref = reference_time(found, figures)
    work = found.get("work", [])
    per_kind = {kind: sum(r["count"] for r in work if r["kind"] == kind) / seeds
                for kind in ("training", "steps", "per-sample")}
    other = [f"{count(per_kind['steps'])} sample-steps" if per_kind["steps"] else "",
             f"{count(per_kind['per-sample'])} per-sample items"
             if per_kind["per-sample"] else ""]
    unpriced = sum(r["hours"] for r in ref["unpriced"]) / seeds
    names = sorted({r["loop"] for r in ref["unpriced"]})
    return {"chapter": chapter, "seeds": seeds,
            "training images": count(per_kind["training"]),
            "other work": "; ".join(o for o in other if o) or "none",
            "dry run's machine": f"{duration(found['hours'] / seeds)} "
                                 f"({', '.join(found['devices'])})",
            "reference GPU": (f"{duration(ref['hours'] / seeds)} ({ref['gpu']}, "
                              f"{', '.join(sorted(set(ref['priced'])))})"
                              if ref["priced"] else "no reference figure"),
            "no reference figure": (f"{duration(unpriced)} of the dry run's machine "
                                    f"({_names(names)})" if names else "none")}


def _names(names: list[str], shown: int = 4) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table, per seed."""
    header = [f"{c} (per seed)" if c not in ("chapter", "seeds") else c for c in COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(r[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def committed(folder: Path = PRICES) -> dict[str, dict]:
    """The committed paper dry runs, by chapter slug: `estimate` (`dryrun.estimate_entries`,
    with the ledger it was worked from) and `ran` (where, when, at which commit)."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def readme_table(folder: Path = PRICES) -> str:
    """The README's price table with the runs it comes from, between its markers."""
    runs = committed(folder)
    rows = [row(slug, run["estimate"]) for slug, run in runs.items()]
    figures = reference_figures()
    sources = "; ".join(f"{slug}: {run['ran']}" for slug, run in runs.items())
    return "\n".join([
        README_START, "", table(rows), "",
        f"Each row is a paper-preset dry run committed in `mu_core/paper_prices/` "
        f"({sources}). Per seed: the preset's training images, sample-steps of the other "
        f"loops (attack rounds, games, reconstruction and inversion steps times the "
        f"samples or candidates each step takes) and per-sample items (Fisher, influence); "
        f"the price on the dry run's machine (its loops, without the kernel and evaluation "
        f"time); and, from the work alone, the training that {figures['gpu']} figures "
        f"exist for at {figures['variant']}: {figure_list(figures)} ({figures['source']}; "
        f"`mu_core/reference_gpus.yaml`). Loops with no reference figure are named, with "
        f"their price on the dry run's machine.", "", README_END])


def figure_list(figures: dict) -> str:
    """The reference figures at the variant that prices, in words."""
    return "; ".join(f"{figure['name']}, {figure['images_per_s'][figures['variant']]:,} "
                     f"training images a second" for figure in figures["figures"])


def chapter_price(slug: str, folder: Path = PRICES):
    """The chapter's row of the price table (Markdown for a notebook), or a sentence saying
    that no paper dry run of it is committed."""
    from IPython.display import Markdown

    runs = committed(folder)
    if slug not in runs:
        return Markdown(f"No paper dry run of {slug} is committed yet "
                        f"(`python -m mu_core.bench prices record {slug}`).")
    found = row(slug, runs[slug]["estimate"])
    lines = ["| the paper preset, per seed | |", "|---|---|"]
    lines += [f"| {column} | {found[column]} |" for column in COLUMNS[1:]]
    figures = reference_figures()
    return Markdown("\n".join(lines) + f"\n\nThe README's price table row, from a paper "
                    f"dry run ({runs[slug]['ran']}); the reference GPU's time rests on "
                    f"{figures['gpu']} at {figures['variant']}: {figure_list(figures)} "
                    f"({figures['source']}).")


def duration(hours: float) -> str:
    if hours * 60 < 1:
        return "under a minute"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:,.0f} h" if hours >= 10 else f"{hours:.1f} h"


def count(value: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.0f}"
