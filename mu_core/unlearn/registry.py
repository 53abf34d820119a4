"""The registry of unlearning methods: `unlearn(name, model, data, split, **hyperparameters)`."""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..data import AUGMENTATIONS, ImageData
from ..errors import (MAX_EPOCHS, MAX_STEPS, ConfigError, check_budget, check_choice,
                      check_fraction, check_known_settings, check_positive_int,
                      check_positive_number, check_seed, describe)
from ..splits import SPLIT_KINDS, Split
from ..train import OPTIMIZERS, SCHEDULES


@dataclass(frozen=True)
class Method:
    name: str
    run: Callable  # run(model, data, split, **hyperparameters), modifies model in place
    kinds: tuple[str, ...]  # forgetting kinds the method supports
    title: str
    check: Callable | None = None  # check(split, hyperparameters): ranges, before training
    # what its run returns for the cache to keep (e.g. "steps"); an unlearned model's cache
    # entry names them, so an entry built before the method recorded them is not reused
    records: tuple[str, ...] = ()

    def hyperparameters(self) -> dict:
        """Names and defaults of the method's keyword-only hyper-parameters."""
        return {name: p.default for name, p in inspect.signature(self.run).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}


METHODS: dict[str, Method] = {}


def register(name: str, title: str, kinds: tuple[str, ...] = SPLIT_KINDS,
             check: Callable | None = None, records: tuple[str, ...] = ()):
    """Register `run` as method `name`; `check(split, hyperparameters)` raises ConfigError
    for values its run would refuse, so a plan of many runs fails before any training;
    `records` names what `run` returns in a dict (`Method.records`)."""
    def decorate(run):
        METHODS[name] = Method(name, run, kinds, title, check, tuple(records))
        return run
    return decorate


def unlearn(name: str, model: nn.Module, data: ImageData, split: Split,
            **hyperparameters) -> nn.Module:
    """A copy of `model` unlearned with method `name` (the input model is not modified).
    What it is given is checked first (`check_inputs`, `check_request`): a wrong argument
    is refused with one ConfigError sentence before any step."""
    check_inputs(model, data)
    method = check_request(name, split, hyperparameters)  # the name and the split's type
    split.check_data(data)
    check_model_fits(model, data)
    unlearned = copy.deepcopy(model)
    method.run(unlearned, data, split, **hyperparameters)
    return unlearned.eval()


def check_inputs(model, data) -> None:
    """Refuse, with one sentence, a model that is not a torch module and data that is not
    an `ImageData` (`unlearn` then checks the name and the split with `check_request`, the
    split's data with `Split.check_data` and the model's fit with `check_model_fits`)."""
    if not isinstance(model, nn.Module):
        raise ConfigError(f"unlearn needs a torch model (an nn.Module) to unlearn, got "
                          f"{type(model).__name__}.")
    if not isinstance(data, ImageData):
        raise ConfigError(f"unlearn needs the data as an ImageData (mu_core.data.load(name)), "
                          f"got {type(data).__name__}.")


def check_model_fits(model: nn.Module, data: ImageData) -> None:
    """One image of `data` through `model` (no gradient, eval mode, then its mode back):
    it must be accepted and give one output per class of the data."""
    training = model.training
    try:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else data.device
        dtype = parameter.dtype if parameter is not None else torch.float32
        image = data.images[data.train[:1].to(data.device)].to(device, dtype) / 255
        model.eval()
        with torch.no_grad():
            outputs = model(image)
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        first = (str(error).strip().splitlines() or [""])[0][:160]
        raise ConfigError(f"the model does not accept the images of {data.name!r} "
                          f"({data.in_channels} channel(s), {data.image_size} px): {first}."
                          ) from None
    finally:
        model.train(training)
    if not isinstance(outputs, torch.Tensor) or outputs.shape[-1] != data.num_classes:
        shape = tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else describe(outputs)
        raise ConfigError(f"the model gives outputs of shape {shape} but {data.name!r} has "
                          f"{data.num_classes} classes; it needs one output per class.")


def check_request(name: str, split: Split, hyperparameters: dict) -> Method:
    """Validate a method name, its support for the split's kind and its hyper-parameter names."""
    if not isinstance(name, str):
        raise ConfigError(f"the unlearning method is given by its name, a string; accepted: "
                          f"{', '.join(METHODS)}; got {describe(name)}.")
    if not isinstance(split, Split):
        raise ConfigError(f"a method's request needs a Split (mu_core.splits.make_split), got "
                          f"{type(split).__name__}.")
    if name not in METHODS:
        raise ConfigError(f"unknown unlearning method {name!r}; accepted: {', '.join(METHODS)}.")
    method = METHODS[name]
    if split.kind not in method.kinds:
        raise ConfigError(f"method {name!r} does not support {split.kind} forgetting; it "
                          f"supports: {', '.join(method.kinds)}.")
    check_known_settings(hyperparameters, method.hyperparameters(), owner=f"method {name!r}",
                         noun="hyper-parameter", label=f"{name} ")
    for key, value in hyperparameters.items():
        if key in RANGES and value is not None:
            RANGES[key](f"{name} {key}", value)
    if method.check is not None:
        method.check(split, hyperparameters)
    return method


def _check_epochs(label: str, value) -> None:
    check_budget(label, value, MAX_EPOCHS)


def _check_iterations(label: str, value, allow_zero: bool = False) -> None:
    check_budget(label, value, MAX_STEPS, allow_zero=allow_zero)


def _check_momentum(label: str, value) -> None:
    if not 0 <= value < 1:
        raise ConfigError(f"{label} must be in [0, 1), got {value}.")


def _check_seed(label: str, value) -> None:
    check_seed(label, value)


# A hyper-parameter's range by its name, the same in every method that has it (so a plan
# of many runs fails before any training); a method with a narrower range checks it in
# its `check` hook.
RANGES = {
    "epochs": _check_epochs,
    "lr": check_positive_number,
    "batch_size": check_positive_int,
    "weight_decay": lambda label, v: check_positive_number(label, v, allow_zero=True),
    "alpha": lambda label, v: check_positive_number(label, v, allow_zero=True),
    "damping": check_positive_number,
    "bound": check_positive_number,
    "max_samples": check_positive_int,
    "max_steps": lambda label, v: _check_iterations(label, v, allow_zero=True),
    "retain_fraction": check_fraction,
    "energy": check_fraction,
    "mask_fraction": check_fraction,
    "sparsity": lambda label, v: check_fraction(label, v, allow_zero=True, allow_one=False),
    "optimizer": lambda label, v: check_choice(label, v, OPTIMIZERS),
    "schedule": lambda label, v: check_choice(label, v, SCHEDULES),
    "augment": lambda label, v: check_choice(label, v, AUGMENTATIONS),
    "rounds": check_positive_int,
    "seed": _check_seed,
    "iterations": _check_iterations,
    "pretrain_iterations": lambda label, v: _check_iterations(label, v, allow_zero=True),
    "sensitivity_samples": check_positive_int,
    "sensitivity_scale": check_positive_number,
    "attacker_lr": check_positive_number,
    "beta": lambda label, v: check_positive_number(label, v, allow_zero=True),
    "redundancy_weight": lambda label, v: check_positive_number(label, v, allow_zero=True),
    "momentum": _check_momentum,
}
