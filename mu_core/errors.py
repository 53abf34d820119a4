"""Errors raised for bad input, each with one sentence saying what was wrong and what is accepted."""

import math
import numbers
import tempfile
from pathlib import Path


class MuError(Exception):
    """Base class of every error `mu_core` raises for bad input or a missing resource."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for it (a notebook cell in Jupyter, Colab or papermill): its
        one sentence, not a traceback; the cell still fails, and papermill still stops."""
        return [f"{type(self).__name__}: {self}"]


class ConfigError(MuError, ValueError):
    """A parameter has a wrong value or type; raised before any work starts."""


class DatasetUnavailable(MuError, RuntimeError):
    """A dataset could not be found on disk or downloaded."""


class Diverged(MuError, RuntimeError):
    """A training or unlearning run left the model with weights that are not finite."""


def with_article(noun: str) -> str:
    """"an int", "a float": the noun after its indefinite article."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def describe(value) -> str:
    """`value` with its type, for error messages: "str '0.5'"."""
    return f"{type(value).__name__} {value!r}"


def check_fraction(name: str, value, *, allow_zero: bool = False, allow_one: bool = True) -> float:
    """Return `value` as a float if it is a number in its interval, else raise ConfigError."""
    low, high = ("[0" if allow_zero else "(0"), ("1]" if allow_one else "1)")
    interval = f"{low}, {high}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number in {interval}, got {describe(value)}.")
    ok_low = value >= 0 if allow_zero else value > 0
    ok_high = value <= 1 if allow_one else value < 1
    if not (ok_low and ok_high):
        raise ConfigError(f"{name} must be in {interval}, got {value}.")
    return float(value)


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {describe(value)}.")
    return value


# Bounds on budgets, refused before any work: typing mistakes such as epochs=10**9 would
# otherwise start a run that never ends. No paper in the book comes within 1% of them.
MAX_EPOCHS = 10_000
MAX_STEPS = 10_000_000  # optimisation steps or iterations of one run
MAX_ROUNDS = 1_000  # rounds of an attack or of sequential unlearning
MAX_MODELS = 1_000  # models trained for one statistic (LiRA's shadow models)
# Bounds on every number a parameter holds, so that none overflows where it is used:
MAX_SEED = 2**32 - 1  # numpy's legacy seeding and every generator accept [0, 2**32)
MAX_INTEGER = 2**31 - 1  # sizes and counts: int32 indices
MAX_MAGNITUDE = 1e6  # floats (rates, weights, scales): lr * gradient stays far from overflow


def check_seed(name: str, value) -> int:
    """Return `value` if it is an integer seed in [0, MAX_SEED], else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{name} must be an integer from 0 to {MAX_SEED} (2**32 - 1), got "
                          f"{describe(value)}.")
    return value


def check_budget(name: str, value, maximum: int, *, allow_zero: bool = False) -> int:
    """Return `value` if it is an integer in [1, maximum] ([0, maximum] with `allow_zero`),
    else raise ConfigError."""
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= maximum:
        raise ConfigError(f"{name} must be an integer from {low} to {maximum}, got "
                          f"{describe(value)}.")
    return value


def check_positive_number(name: str, value, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {describe(value)}.")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value}.")
    if value > MAX_MAGNITUDE:
        raise ConfigError(f"{name} must be at most {MAX_MAGNITUDE:g}, got {value:g}.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be {bound}, got {value}.")
    return float(value)


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; accepted: {', '.join(map(str, choices))}.")
    return value


def check_like_default(label: str, value, default) -> None:
    """A setting has its default's type (an int passes for a float) and numbers are finite;
    ranges, and None where the owner takes it (`max_samples=None`: all), are checked by the
    owner itself."""
    if default is None or value is None:
        return
    if isinstance(default, float) and isinstance(value, numbers.Real) \
            and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{label} must be a finite number, got {value}.")
        return
    expected = numbers.Integral if isinstance(default, int) else type(default)
    if isinstance(value, bool) is not isinstance(default, bool) or \
            not isinstance(value, expected):
        raise ConfigError(f"{label} must be {with_article(type(default).__name__)} like its "
                          f"default {default!r}, got {describe(value)}.")


def check_known_settings(given: dict, accepted: dict, *, owner: str, noun: str,
                         label: str) -> None:
    """Every key of `given` is one of `accepted`'s (a name -> default mapping) and its value
    has that default's type; else one ConfigError naming what `owner` accepts, or the
    setting (`label` + its name) and its default."""
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise ConfigError(f"{owner} has no {noun} {', '.join(unknown)}; accepted: "
                          f"{', '.join(accepted) or 'none'}.")
    for key, value in given.items():
        check_like_default(f"{label}{key}", value, accepted[key])


def check_writable_folder(folder: Path, what: str, advice: str) -> Path:
    """Create `folder` and write a scratch file in it, or raise ConfigError naming `what`
    it is and the `advice` to follow."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ConfigError(f"{what} {folder} cannot be written ({error.strerror or error}); "
                          f"{advice}.") from None
    return folder
