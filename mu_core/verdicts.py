"""Every chapter's claims in one place: the book's verdicts page and `mu-book claims`.

Both read the executed chapters' results JSON (`<slug>.results.json` in the book tree), so
they show exactly what the published chapters computed.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from .claims import CONFIDENCE, VERDICTS

PAGE = "verdicts"  # book/verdicts.md, written by `mu-book build` before Jupyter Book runs
CLAIMS_LABEL = "claims-{slug}"  # the MyST label above each chapter's claims section
_MARKUP = re.compile(r"[\\`*_\[\]{}<>$|#~]")  # characters MyST reads as markup in a cell


def gather(out: Path, slugs) -> dict[str, list[dict] | None]:
    """Each chapter's claims (slug -> list of claim dicts), None where it has no results."""
    found = {}
    for slug in slugs:
        path = Path(out) / f"{slug}.results.json"
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            found[slug] = None
            continue
        found[slug] = document.get("results", {}).get("claims", [])
    return found


def counts_table(found: dict[str, list[dict] | None]) -> list[list[str]]:
    """Rows of chapter, one count per verdict, total (and a row of totals)."""
    rows, totals = [], [0] * (len(VERDICTS) + 1)
    for slug, claims in found.items():
        if claims is None:
            rows.append([slug] + ["-"] * (len(VERDICTS) + 1))
            continue
        numbers = [sum(c["verdict"] == v for c in claims) for v in VERDICTS] + [len(claims)]
        totals = [t + n for t, n in zip(totals, numbers)]
        rows.append([slug] + [str(n) for n in numbers])
    return rows + [["all"] + [str(t) for t in totals]]


def page(found: dict[str, list[dict] | None]) -> str:
    """The verdicts page (MyST markdown): counts per chapter and verdict, then every claim
    with its verdict, what we measured, and a link to its chapter's claims section."""
    header = ["chapter", *VERDICTS, "claims"]
    lines = [
        "# Verdicts: every claim of every chapter", "",
        "Each chapter checks its paper's claims against what its own run measured. A "
        f"verdict is `held` or `did not hold` only when the effect's {CONFIDENCE:.0%} interval "
        "lies wholly on one side of the claim's boundary; `inconclusive` when it straddles "
        "it (at this scale the evidence cannot tell); `not testable here` when something the "
        "claim presupposes failed (no attack signal, a method that did not forget, a regime "
        "that is not the paper's), with the measured reason. The numbers are those of the "
        "published run (the `cpu` preset unless a chapter says otherwise).", "",
        _markdown_table(header, counts_table(found)), ""]
    for slug, claims in found.items():
        lines += [f"## {slug}", ""]
        if claims is None:
            lines += ["This chapter has no results in this build.", ""]
            continue
        if not claims:
            lines += ["This chapter checks no claim of a paper.", ""]
            continue
        link = f"{{ref}}`its claims section <{CLAIMS_LABEL.format(slug=slug)}>`"
        lines += [f"From {link}.", ""]
        rows = [[c["id"], c["verdict"], c["claim"], c["here"]] for c in claims]
        lines += [_markdown_table(["claim", "verdict", "what the paper says", "here"], rows),
                  ""]
    return "\n".join(lines)


def write_page(book_dir: Path, out: Path, slugs) -> Path:
    """Write the verdicts page into the book tree and return its path."""
    path = Path(book_dir) / f"{PAGE}.md"
    path.write_text(page(gather(out, slugs)))
    return path


def terminal(found: dict[str, list[dict] | None], width: int = 100) -> str:
    """The same table for a terminal: per chapter, each claim's verdict and evidence,
    wrapped to `width`, then the counts."""
    blocks = []
    for slug, claims in found.items():
        if claims is None:
            blocks.append(f"{slug}: no results (run the chapter first)")
            continue
        lines = [f"{slug}"]
        for claim in claims:
            lines.append(f"  {claim['verdict']:18s} {claim['id']}")
            lines += textwrap.wrap(claim["here"], width, initial_indent=" " * 21,
                                   subsequent_indent=" " * 21)
        blocks.append("\n".join(lines))
    header = ["chapter", *VERDICTS, "claims"]
    rows = [header] + counts_table(found)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    counts = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)
    return "\n\n".join(blocks + [counts])


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:  # literal text: no markup, math, link or role of MyST's
        return _MARKUP.sub(lambda m: "\\" + m.group(0), str(text)).replace("\n", " ")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
