"""What a paper-scale run costs: a dry run's work priced on a reference GPU, and the book's
price table.

A dry run's estimate (`dryrun.estimate_entries`) lists the real run's work (`work`: the
training images of each network, the sample-steps of attack, game, reconstruction and
inversion loops, the items of per-sample work) with its hours on the machine the dry run
ran on. The
training images of a network that `reference_gpus.yaml` holds a measured throughput for
are priced on that GPU from the work alone (images / images per second); every other loop
is named as having no reference figure, and is not guessed.

The README's price table and each chapter's paper-scale rows come from the paper dry runs'
estimates committed in `paper_prices/` (`bench.record_paper_price` writes one,
`bench.write_price_table` the README's table: `python -m mu_core.bench prices ...`):
`<slug>.json` the `paper` preset's, `<slug>.<preset>.json` a variant's (a `paper_lite`
preset, issue 34: the paper's setting at a budget that fits a small GPU), each its own row.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .errors import ConfigError

FIGURES = Path(__file__).with_name("reference_gpus.yaml")
PRICES = Path(__file__).with_name("paper_prices")  # <slug>[.<preset>].json: a paper dry run
PAPER = "paper"  # the preset whose dry run is stored as <slug>.json
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
    """The committed paper dry runs, by file stem (`price_key`): `chapter`, `preset`,
    `estimate` (`dryrun.estimate_entries`, with the ledger it was worked from) and `ran`
    (where, when, at which commit)."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def price_key(slug: str, preset: str = PAPER) -> str:
    """The stem of a chapter's stored dry run at `preset`: the slug for the paper preset,
    `<slug>.<preset>` for a variant, so that a variant never overwrites the paper's."""
    return slug if preset == PAPER else f"{slug}.{preset}"


def label(run: dict) -> str:
    """A stored run's name in the price table: its chapter, and its preset unless `paper`."""
    preset = run.get("preset", PAPER)
    return run["chapter"] if preset == PAPER else f"{run['chapter']} ({preset})"


def readme_table(folder: Path = PRICES) -> str:
    """The README's price table with the runs it comes from, between its markers."""
    runs = committed(folder)
    rows = [row(label(run), run["estimate"]) for run in runs.values()]
    figures = reference_figures()
    sources = "; ".join(f"{label(run)}: {run['ran']}" for run in runs.values())
    return "\n".join([
        README_START, "", table(rows), "",
        f"Each row is a dry run committed in `mu_core/paper_prices/`: of the chapter's "
        f"paper preset, or of the preset named in brackets ({sources}). Per seed: the "
        f"preset's training images, sample-steps of the other "
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


def chapter_runs(slug: str, folder: Path = PRICES) -> dict[str, dict]:
    """A chapter's committed dry runs by preset, the paper preset's first."""
    found = {run.get("preset", PAPER): run for run in committed(folder).values()
             if run["chapter"] == slug}
    return dict(sorted(found.items(), key=lambda item: item[0] != PAPER))


def chapter_price(slug: str, folder: Path = PRICES):
    """The chapter's rows of the price table (Markdown for a notebook): a column per preset
    with a committed dry run (the paper preset's, then its variants'), or a sentence saying
    that no paper dry run of it is committed."""
    from IPython.display import Markdown

    runs = chapter_runs(slug, folder)
    if PAPER not in runs:
        return Markdown(f"No paper dry run of {slug} is committed yet "
                        f"(`python -m mu_core.bench prices record {slug}`).")
    found = {preset: row(slug, run["estimate"]) for preset, run in runs.items()}
    lines = ["| per seed | " + " | ".join(f"the {p} preset" for p in found) + " |",
             "|---|" + "---|" * len(found)]
    lines += [f"| {column} | " + " | ".join(str(r[column]) for r in found.values()) + " |"
              for column in COLUMNS[1:]]
    figures = reference_figures()
    sources = "; ".join(f"{preset}: {run['ran']}" for preset, run in runs.items())
    return Markdown("\n".join(lines) + f"\n\nThe README's price table rows, from dry runs "
                    f"({sources}); the reference GPU's time rests on "
                    f"{figures['gpu']} at {figures['variant']}: {figure_list(figures)} "
                    f"({figures['source']}).")


def loop_shares(slug: str, preset: str = PAPER, folder: Path = PRICES) -> dict[str, float]:
    """Each loop's share of a committed dry run's price on the dry run's machine (its
    `hours_by_loop` over its `hours`), largest first: what dominates a chapter's cost."""
    runs = committed(folder)
    key = price_key(slug, preset)
    if key not in runs:
        raise ConfigError(f"no {preset} dry run of {slug} is committed in {folder} "
                          f"(`python -m mu_core.bench prices record {slug} --preset {preset}`).")
    found = runs[key]["estimate"]
    shares = {loop: hours / found["hours"] for loop, hours in found["hours_by_loop"].items()}
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


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
