"""A sweep's results gathered into tables, one row per point and number or claim.

``results.csv``: the grid's parameters as columns, then ``number`` and ``value``: the
chapter's headline numbers (declared once by its study, stored as the results JSON's
``headline``). ``claims.csv``: the grid's parameters, then ``claim`` (its id) and
``verdict``. ``points.csv``: each point's status, seconds and error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .point import results_of, status_of

TABLES = ("results.csv", "claims.csv", "points.csv")


def write(folder: Path, slug: str, points) -> None:
    """(Re)write the three tables from what the point folders hold now."""
    numbers, claims, statuses = [], [], []
    for point in points:
        where = {"point": point.name, **{k: _cell(v) for k, v in point.values.items()}}
        status = status_of(folder / point.name) or {"status": "not run"}
        statuses.append({**where, **{k: status.get(k) for k in ("status", "seconds", "error")}})
        document = results_of(folder / point.name, slug) if status["status"] == "finished" else None
        if document is None:
            continue
        for number, value in document.get("headline", {}).items():
            numbers.append({**where, "number": number, "value": value})
        for claim in document["results"].get("claims", []):
            claims.append({**where, "claim": claim["id"], "verdict": claim["verdict"]})
    columns = ["point", *(points[0].values if points else [])]
    _write_csv(folder / "results.csv", numbers, [*columns, "number", "value"])
    _write_csv(folder / "claims.csv", claims, [*columns, "claim", "verdict"])
    _write_csv(folder / "points.csv", statuses, [*columns, "status", "seconds", "error"])


def _cell(value):
    """A grid value as one CSV cell: lists and dicts as JSON."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    pd.DataFrame(rows, columns=columns).to_csv(tmp, index=False)
    tmp.replace(path)


def claim_robustness(folder: Path) -> pd.DataFrame:
    """Per claim id: at how many points it held, did not hold, or was not testable."""
    claims = pd.read_csv(folder / "claims.csv")
    if claims.empty:
        return pd.DataFrame(columns=["held", "did not hold", "not testable here"])
    return pd.crosstab(claims["claim"], claims["verdict"])
