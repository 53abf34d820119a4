"""The registry of attacks and verifications:
`run(name, unlearned, data, split, *, trained, seed, **settings) -> {name: number}`.

Every attack in `mu_core` is registered here (the adapters are in `attacks.adapters`) with
its title, its settings and their defaults, and what it needs that a setting may not give
(`Need`: UnlearnGuard's reconstruction a bias-free MLP trained to a margin, CMIRA partial
class-wise forgetting, LiRA unseen samples for its shadow models). `check_request` refuses
an unknown name or setting before any training; `applicable` says, for a setting (the
data, the split and the trained model), whether an attack can run there and if not why,
so a scorecard cell can read "not testable here: <reason>".
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from torch import nn

from ..data import ImageData
from ..errors import ConfigError, check_known_settings, check_seed, describe
from ..splits import Split


@dataclass(frozen=True)
class Setting:
    """Where an attack would run: the data, the split and the model before unlearning."""

    data: ImageData
    split: Split
    trained: nn.Module


@dataclass(frozen=True)
class Need:
    """Something an attack requires that a setting may not give: `what` it is, and
    `missing(setting)`, the reason this setting lacks it (None where it has it)."""

    what: str
    missing: Callable[[Setting], str | None]


class Outcome(dict):
    """An attack's flat named numbers (AUC, TPR at 1% FPR, recall gain, R_R, ...), with the
    model the attack produced, if any (`model`: MRA's recalled model, CMIRA's attack model),
    for a study that scores it further."""

    def __init__(self, numbers: dict[str, float], model: nn.Module | None = None):
        super().__init__({key: float(value) for key, value in numbers.items()})
        self.model = model


@dataclass(frozen=True)
class Attack:
    name: str
    title: str
    run: Callable  # run(unlearned, data, split, *, trained, seed, **settings) -> Outcome
    needs: tuple[Need, ...]
    defaults: dict  # the settings it accepts, with their defaults
    check: Callable | None = None  # check(settings, data): ranges and objects, no training

    def settings(self) -> dict:
        return dict(self.defaults)


ATTACKS: dict[str, Attack] = {}


def register_attack(name: str, title: str, needs: tuple[Need, ...] = (),
                    settings: dict | None = None, check: Callable | None = None):
    """Register `run` as attack `name`. Its settings are `settings` (name: default) or else
    its keyword-only parameters other than `trained` and `seed`; `check(settings, data)`
    raises ConfigError for values its run would refuse (`data` may be None)."""
    def decorate(run):
        defaults = settings if settings is not None else {
            key: p.default for key, p in inspect.signature(run).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and key not in ("trained", "seed")}
        ATTACKS[name] = Attack(name, title, run, tuple(needs), dict(defaults), check)
        return run
    return decorate


def attacks() -> dict[str, dict]:
    """Every registered attack: {name: {"title", "needs" (what each need is), "settings"}}."""
    return {name: {"title": a.title, "needs": [need.what for need in a.needs],
                   "settings": a.settings()} for name, a in ATTACKS.items()}


def check_request(name: str, settings: dict, data: ImageData | None = None) -> Attack:
    """The attack `name` after checking its settings' names, types and ranges (and, given
    `data`, what they build on it, e.g. MRA's student), before any training; a bad one is
    refused with one ConfigError sentence naming what is accepted."""
    if not isinstance(name, str) or name not in ATTACKS:
        given = repr(name) if isinstance(name, str) else describe(name)
        raise ConfigError(f"unknown attack {given}; accepted: {', '.join(ATTACKS)}.")
    attack = ATTACKS[name]
    check_known_settings(settings, attack.settings(), owner=f"attack {name!r}", noun="setting",
                         label=f"attack {name!r} setting ")
    if attack.check is not None:
        attack.check(settings, data)
    return attack


def applicable(name: str, setting: Setting) -> tuple[bool, str]:
    """(True, "") where attack `name` can run in `setting`, else (False, the reason: what it
    needs and what this setting has instead)."""
    attack = check_request(name, {})
    for need in attack.needs:
        reason = need.missing(setting)
        if reason is not None:
            return False, f"{attack.name} needs {need.what}; {reason}"
    return True, ""


def run(name: str, unlearned: nn.Module, data: ImageData, split: Split, *,
        trained: nn.Module, seed: int, **settings) -> Outcome:
    """Attack `unlearned` (unlearned from `trained` on `split`) with attack `name`; its
    settings are checked first (`check_request`) and so is that the setting gives what it
    needs (`applicable`), both before any training."""
    attack = check_request(name, settings, data)
    check_seed("seed", seed)
    ok, reason = applicable(name, Setting(data, split, trained))
    if not ok:
        raise ConfigError(f"not testable here: {reason}.")
    return attack.run(unlearned, data, split, trained=trained, seed=seed, **settings)


from . import adapters  # noqa: E402,F401  (registers every attack)
