"""The box "What this chapter found" near the top of every chapter, made from its run.

A chapter displays it right after the cell that runs its study, so it shows wherever the
chapter runs (`mu-book run`, the built book, Jupyter, Colab) from the results in memory,
before the sections that explain them: the claims' verdict counts, the measured effect
(with its interval, as the claim rule wrote it in `here`) of the chapter's key claims, the
headline numbers of a chapter without claims, and a link to the claims section. At a
reduced-budget preset (`presets.budget_mark`: paper_lite) the box opens by saying so.
"""

from __future__ import annotations

import html

from .claims import VERDICTS, Claim, counts
from .verdicts import CLAIMS_LABEL

KEY_CLAIMS = 3  # the claims shown by default: the chapter's first, in its order


class Findings:
    """The box: HTML in a notebook and the book, plain text in a terminal.

    `claims` are the chapter's checked claims; `key` the ids of those whose measured
    effect the box shows (default: the first `KEY_CLAIMS`); `numbers` headline numbers
    ({label: number}) for a chapter without claims; `budget` the reduced-budget mark of
    the run's preset (`presets.budget_mark`), None at the paper's or the book's budget."""

    def __init__(self, slug: str, claims=(), key=None, numbers: dict | None = None,
                 budget: str | None = None):
        self.slug, self.claims, self.numbers = slug, list(claims), dict(numbers or {})
        self.budget = budget
        by_id = {c.id: c for c in self.claims}
        unknown = [i for i in key or () if i not in by_id]
        if unknown:
            from .errors import ConfigError
            raise ConfigError(f"the findings box names unknown claim(s) {', '.join(unknown)}; "
                              f"accepted: {', '.join(by_id)}.")
        self.key = [by_id[i] for i in key] if key else self.claims[:KEY_CLAIMS]

    def counts_text(self) -> str:
        """"3 held, 1 did not hold, 0 inconclusive, 2 not testable here (of 6 claims)"."""
        if not self.claims:
            return "this chapter checks no claim of a paper"
        found = counts(self.claims)
        return (", ".join(f"{found[v]} {v}" for v in VERDICTS)
                + f" (of {len(self.claims)} claims)")

    def budget_text(self) -> str | None:
        """The sentence that says the box's verdicts and numbers come from a reduced
        budget, or None."""
        if self.budget is None:
            return None
        return (f"{_sentence(self.budget)}: what follows comes from the paper's setting with "
                f"fewer datasets, seeds, rounds or epochs (its preset file names each cut), "
                f"so its verdicts are those of that budget.")

    def anchor(self) -> str:
        """The claims section's HTML id (Sphinx writes the label's _ as -)."""
        return CLAIMS_LABEL.format(slug=self.slug).replace("_", "-")

    def lines(self) -> list[tuple[str, str, str]]:
        """(verdict, statement, measured) for each key claim, then ("", label, number)
        for each headline number."""
        shown = [(c.verdict, c.claim, first_part(c)) for c in self.key]
        return shown + [("", label, _number(value)) for label, value in self.numbers.items()]

    def _repr_html_(self) -> str:
        items = "".join(
            f'<li>{_badge(verdict)}{html.escape(statement)}'
            + (f'<br><span class="mu-findings-here">here: {html.escape(measured)}</span></li>'
               if verdict else f": {html.escape(measured)}</li>")
            for verdict, statement, measured in self.lines())
        link = (f'<p>Every claim, with what the paper says and all we measured: '
                f'<a href="#{self.anchor()}">the claims section</a> ("The paper\'s '
                f'claims, checked").</p>' if self.claims else "")
        budget = (f'<p class="mu-findings-budget">{html.escape(self.budget_text())}</p>'
                  if self.budget else "")
        return (f'<div class="mu-findings"><p class="mu-findings-title">What this chapter '
                f'found</p>{budget}<p class="mu-findings-counts">'
                f'{html.escape(_sentence(self.counts_text()))}</p><ul>{items}</ul>{link}</div>')

    def __repr__(self) -> str:
        lines = [f"What this chapter found: {self.counts_text()}."]
        if self.budget:
            lines.append(f"  {self.budget_text()}")
        lines += [f"  [{v}] {statement}\n      here: {measured}" if v else
                  f"  {statement}: {measured}" for v, statement, measured in self.lines()]
        if self.claims:
            lines.append("  Every claim: the section \"The paper's claims, checked\".")
        return "\n".join(lines)


def first_part(claim: Claim) -> str:
    """What `here` measured for the claim, up to its first part (a claim on several
    effects lists one per "; "): its label, first effect and interval, or the reason it
    was not testable; "(more in the claims section)" when parts follow."""
    head, sep, _ = claim.here.partition("; ")
    return head + (" (more in the claims section)" if sep else "")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _badge(verdict: str) -> str:
    if not verdict:
        return ""
    return (f'<span class="mu-verdict mu-verdict-{verdict.replace(" ", "-")}">'
            f"{html.escape(verdict)}</span> ")


def _number(value) -> str:
    return "no value" if value is None else f"{value:.3f}"
