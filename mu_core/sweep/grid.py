"""A sweep's grid: `-g key=v1,v2` values read as YAML, crossed into named points."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ..book import parse_override
from ..errors import ConfigError, check_budget

MAX_POINTS = 10_000
_UNSAFE = re.compile(r"[^A-Za-z0-9._+,=-]+")


@dataclass(frozen=True)
class Point:
    """One run of the sweep: its folder `name`, its grid `values` and the `overrides`
    (``key=value`` texts: the fixed `-p` values, then this point's grid values)."""

    name: str
    values: dict
    overrides: tuple[str, ...]


def split_values(text: str) -> list[str]:
    """'1,2,[3, 4]' -> ['1', '2', '[3, 4]']: commas inside brackets or braces belong to
    the value."""
    values, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            values.append(current)
            current = ""
        else:
            current += char
    return [*values, current]


def parse_grid(texts: list[str]) -> dict[str, list[str]]:
    """`-g` texts ('lr=0.1,0.5') as {key: [value texts]} in the order given; each value
    must read as YAML (checked against the chapter's parameters later)."""
    grid: dict[str, list[str]] = {}
    for text in texts:
        key, sep, values = text.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise ConfigError(f"a grid is given as -g key=value1,value2,..., got {text!r}.")
        if key in grid:
            raise ConfigError(f"the grid gives {key} twice; list all its values in one "
                              f"-g {key}=...")
        grid[key] = [v.strip() for v in split_values(values)]
        if any(not v for v in grid[key]):
            raise ConfigError(f"the grid of {key} has an empty value in {text!r}.")
        for value in grid[key]:
            parse_override(f"{key}={value}")  # unreadable YAML is refused here
    return grid


def points(grid: dict[str, list[str]], fixed: list[str] = ()) -> list[Point]:
    """The Cartesian product of the grid (the last key varies fastest), each point with
    its own folder name; the `fixed` -p values apply to every point."""
    fixed_keys = {parse_override(text)[0] for text in fixed}
    both = sorted(fixed_keys & set(grid))
    if both:
        raise ConfigError(f"{both[0]} is given both as -g and as -p; give it once.")
    if "preset" in grid:
        raise ConfigError("a sweep runs one preset, chosen with --preset; sweep presets with "
                          "one sweep each.")
    size = 1
    for values in grid.values():
        size *= len(values)
    check_budget("the number of points in the grid", size, MAX_POINTS)
    found, names = [], set()
    for combination in itertools.product(*grid.values()):
        texts = dict(zip(grid, combination))
        name = _unique(point_name(texts), names)
        values = {key: parse_override(f"{key}={text}")[1] for key, text in texts.items()}
        overrides = (*fixed, *(f"{key}={text}" for key, text in texts.items()))
        found.append(Point(name, values, overrides))
    return found


def point_name(texts: dict[str, str]) -> str:
    """'lr=0.1_seed=2': each key with its value's text, characters unsafe in a file name
    replaced by '-' (brackets, quotes and spaces dropped)."""
    if not texts:
        return "default"
    parts = []
    for key, text in texts.items():
        value = _UNSAFE.sub("-", re.sub(r"[\[\]{}\"' ]", "", text)) or "empty"
        parts.append(f"{key}={value}")
    return "_".join(parts)


def _unique(name: str, taken: set) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}-{number}", number + 1
    taken.add(candidate)
    return candidate
