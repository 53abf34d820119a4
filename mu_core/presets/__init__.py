"""Presets: named sets of a chapter's parameters, shipped with the package.

``<preset>/NN_slug.yaml`` sets the parameters of chapter NN_slug that the preset changes:

* ``smoke``: seconds, for the tests;
* ``cpu``: the published book, the values of each chapter's parameters cell;
* ``paper``: the papers' datasets, architectures and budgets, on a CUDA GPU;
* ``paper_<dataset>``, where a chapter has it: the paper's setting for another of its
  datasets. Its file starts with ``extends: paper`` and lists what differs.
* ``paper_lite``, where a chapter's paper preset does not fit a few hours of a small GPU
  (issue 34): the paper's dataset and architecture with fewer datasets, seeds, rounds or
  epochs, each cut named in its file (``extends: paper``). Its verdicts are marked as
  coming from a reduced budget (`budget_mark`, which `Chapter` puts on every claim and
  on the findings box).

A chapter switches scale with one value: its parameters cell starts with
``preset = "cpu"``. Set to ``"paper"`` (in Colab, in Jupyter, or with ``papermill -p
preset paper``), `apply` gives every parameter the preset lists the preset's value, unless
the parameter was changed from its published (``cpu``) value: a changed value is the
reader's and is kept. ``mu-book run --preset`` resolves the preset before the kernel starts,
with its ``-p`` values always winning, and the kernel then leaves the values alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ..yamlrules import read_text, read_yaml  # 1e-3 is a number, no repeated key

PRESETS = ("smoke", "cpu", "paper")  # every chapter has these
EXTENDS = "extends"  # a preset file's key naming the preset it starts from
PUBLISHED = "cpu"  # the preset whose values are the parameters cells' defaults
FOLDER = Path(__file__).resolve().parent
# Set by `mu-book run` to the preset whose values it injected into the kernel.
RESOLVED_ENV = "MU_BOOK_PRESET"
LITE = "paper_lite"  # the paper's setting at a reduced budget (and any paper_lite_ variant)


def budget_mark(preset) -> str | None:
    """The words that open every verdict's measurement at a reduced-budget preset
    (`LITE` or a ``paper_lite_`` variant), or None at any other preset."""
    if not isinstance(preset, str) or not (preset == LITE or preset.startswith(LITE + "_")):
        return None
    return f"reduced budget ({preset} preset, not the paper's full run)"


def known(folder: Path = FOLDER) -> list[str]:
    """Every preset name: the three of PRESETS, then the variants some chapters have."""
    variants = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in PRESETS
                      and not p.name.startswith(("_", ".")))
    return [*PRESETS, *variants]


def check_preset(preset, folder: Path = FOLDER) -> str:
    if preset not in known(folder):
        raise ConfigError(f"unknown preset {preset!r}; accepted: {', '.join(known(folder))}.")
    return preset


def path(slug: str, preset: str, folder: Path = FOLDER) -> Path:
    """The YAML file of `preset` for chapter `slug` under `folder` (the package's presets
    unless a project gives its own)."""
    return folder / check_preset(preset, folder) / f"{slug}.yaml"


def available(slug: str, folder: Path = FOLDER) -> list[str]:
    return [p for p in known(folder) if path(slug, p, folder).exists()]


def values(slug: str, preset: str, folder: Path = FOLDER, seen: tuple = ()) -> dict:
    """The parameters that `preset` sets for chapter `slug`: its YAML file's, over those of
    the preset it extends."""
    file = path(slug, preset, folder)
    if not file.exists():
        raise ConfigError(f"chapter {slug} has no {preset!r} preset ({file}); it has: "
                          f"{', '.join(available(slug, folder)) or 'none'}.")
    found = read_yaml(read_text(file), str(file)) or {}
    if not isinstance(found, dict):
        raise ConfigError(f"{file} must map parameter names to values.")
    if EXTENDS not in found:
        return found
    base = found.pop(EXTENDS)
    if base in (*seen, preset):
        raise ConfigError(f"{file} extends {base!r}, which extends it in turn.")
    return {**values(slug, check_preset(base, folder), folder, (*seen, preset)), **found}


def apply(slug: str, namespace: dict) -> dict:
    """Give the parameters in `namespace` (a notebook's globals) the values of the preset it
    names in ``preset``, except those changed from their published value; returns the
    values that differ from the published ones. Nothing is done without a ``preset``
    parameter, for the published preset, or when ``mu-book run`` already resolved it."""
    preset = namespace.get("preset")
    if preset is None:
        return {}
    check_preset(preset)
    if preset not in available(slug):
        raise ConfigError(f"chapter {slug} has no {preset!r} preset; it has: "
                          f"{', '.join(available(slug))}.")
    if preset == PUBLISHED or os.environ.get(RESOLVED_ENV) == preset:
        return {}
    published = values(slug, PUBLISHED)
    changed = {}
    for name, value in values(slug, preset).items():
        if name not in namespace:
            raise ConfigError(f"the {preset!r} preset of {slug} sets {name!r}, which is not "
                              f"a parameter of the chapter.")
        if name not in published:
            raise ConfigError(f"the {preset!r} preset of {slug} sets {name!r}, which the "
                              f"{PUBLISHED!r} preset does not list, so a changed value "
                              f"cannot be told from the default.")
        if namespace[name] == published[name] != value:
            namespace[name] = changed[name] = value
    return changed
