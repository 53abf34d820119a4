"""A researcher's own unlearning method, named by a path 'package.module:function'.

The function has the NeurIPS 2023 unlearning challenge's shape (starting kit,
`unlearning-CIFAR10.ipynb`, and its FAQ): `unlearning(net, retain, forget, validation)`
takes the trained model and three PyTorch DataLoaders and returns the unlearned
`nn.Module`. `load_external` turns it into a `registry.Method`, so a study runs it like the
built-ins (`register_external` also enters it in `registry.METHODS`, for `unlearn(name,
...)`). What the loaders yield:

* `retain`, `forget`: batches (inputs, targets) of the split's retain and forget samples,
  reshuffled each epoch from `seed`; `validation`: the split's validation samples, in order
  (none when the split holds none out: `make_split(..., val_fraction=...)`), never the test
  set, which scores the method;
* inputs are the normalised float images `ImageData.inputs` gives every built-in method,
  targets int64 class ids, both on the data's device; at most `batch_size` a batch (the
  kit's 128).

Checked before any training: the path imports, names a callable and the callable takes four
positional arguments (`load_external`); that it returns an `nn.Module` of the model's
architecture (the same parameter and buffer names and shapes) is known only from a call,
so `probe_external` runs it once on a few samples of each set and a copy of a model (an
untrained one will do), and every run checks it again.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from dataclasses import replace

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from ..data import ImageData
from ..errors import ConfigError, describe
from ..splits import SPLIT_KINDS, Split
from .registry import METHODS, Method

SHAPE = "a function unlearning(net, retain, forget, validation) returning the unlearned nn.Module"
PROBE_SAMPLES = 4  # per set, for `probe_external`


def load_external(path: str) -> Method:
    """The method at `path` ('package.module:function'), checked without running it."""
    function = _import(path)
    _check_signature(path, function)

    def run(model: nn.Module, data: ImageData, split: Split, *, batch_size: int = 128,
            seed: int = 0) -> None:
        run_external(path, function, model, data, split, batch_size=batch_size, seed=seed)

    return Method(path, run, SPLIT_KINDS, _title(path, function))


def register_external(path: str) -> Method:
    """`load_external`, and the method entered in `registry.METHODS` under its path."""
    method = load_external(path)
    METHODS[method.name] = method
    return method


def run_external(path: str, function, model: nn.Module, data: ImageData, split: Split, *,
                 batch_size: int = 128, seed: int = 0) -> None:
    """Call `function(net, retain, forget, validation)` on `model` and copy the model it
    returns into `model` (the registry's contract: a run modifies its model in place)."""
    expected = _architecture(model)
    generator = torch.Generator().manual_seed(seed)
    loaders = [kit_loader(data, split.retain, batch_size, generator),
               kit_loader(data, split.forget, batch_size, generator),
               kit_loader(data, split.val, batch_size, None)]
    returned = function(model, *loaders)
    _check_returned(path, returned, expected)
    if returned is not model:
        model.load_state_dict(returned.state_dict())


def probe_external(method: Method, model: nn.Module, data: ImageData, split: Split) -> None:
    """Run `method` once on a copy of `model` and the first `PROBE_SAMPLES` samples of each
    set, so a wrong return value is refused before any training; `model` is not modified."""
    tiny = replace(split, **{name: getattr(split, name)[:PROBE_SAMPLES]
                             for name in ("train", "forget", "retain", "test", "val")})
    method.run(copy.deepcopy(model), data, tiny, batch_size=PROBE_SAMPLES)


class _Images(Dataset):
    """Samples `indices` of `data`, fetched a batch at a time (a list of positions)."""

    def __init__(self, data: ImageData, indices: torch.Tensor):
        self.data, self.indices = data, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, positions):
        idx = self.indices[torch.as_tensor(positions, dtype=torch.long)]
        return self.data.inputs(idx), self.data.targets(idx)


def kit_loader(data: ImageData, indices: torch.Tensor, batch_size: int,
               generator: torch.Generator | None) -> DataLoader:
    """A DataLoader of (inputs, targets) batches of the samples `indices`, shuffled from
    `generator` each epoch (in order without one)."""
    images = _Images(data, indices)
    order = SequentialSampler(images) if generator is None else \
        RandomSampler(images, generator=generator)
    return DataLoader(images, sampler=BatchSampler(order, batch_size, drop_last=False),
                      batch_size=None)


def _import(path: str):
    if not isinstance(path, str) or path.count(":") != 1:
        raise ConfigError(f"an external method is named 'package.module:function' (one colon "
                          f"before the function's name), got {describe(path)}.")
    module_name, attribute = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001  (any failure of the researcher's import)
        raise ConfigError(f"external method {path!r}: module {module_name!r} cannot be "
                          f"imported ({type(error).__name__}: {error}); accepted: a module "
                          f"importable from sys.path, as 'package.module:function'.") from None
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
            raise ConfigError(f"external method {path!r}: module {module_name!r} has no "
                              f"attribute {attribute!r}; its functions: "
                              f"{', '.join(sorted(names)) or 'none'}.")
        target = getattr(target, part)
    if not callable(target):
        raise ConfigError(f"external method {path!r} is {describe(target)[:60]}, not "
                          f"callable; accepted: {SHAPE}.")
    return target


def _check_signature(path: str, function) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a builtin without a signature: the probe's call decides
    try:
        signature.bind(*"abcd")
    except TypeError:
        raise ConfigError(f"external method {path!r} has the signature {signature}, which "
                          f"cannot take (net, retain, forget, validation); accepted: "
                          f"{SHAPE}.") from None


def _architecture(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def _check_returned(path: str, returned, expected: dict[str, tuple[int, ...]]) -> None:
    if not isinstance(returned, nn.Module):
        raise ConfigError(f"external method {path!r} returned {describe(returned)[:60]}, not "
                          f"an nn.Module; accepted: {SHAPE} (the kit's `return net`).")
    got = _architecture(returned)
    if got == expected:
        return
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    reshaped = [f"{name} {got[name]} for {expected[name]}" for name in expected
                if name in got and got[name] != expected[name]]
    found = "; ".join(part for part in (
        f"missing {', '.join(missing[:3])}" if missing else "",
        f"unexpected {', '.join(extra[:3])}" if extra else "",
        f"shapes {', '.join(reshaped[:3])}" if reshaped else "") if part)
    raise ConfigError(f"external method {path!r} returned a {type(returned).__name__} of "
                      f"another architecture ({found}); accepted: the model it was given, "
                      f"unlearned, with the same parameter names and shapes.")


def _title(path: str, function) -> str:
    doc = inspect.getdoc(function)
    first = doc.strip().splitlines()[0].rstrip(".") if doc else "An external method"
    return f"{first} ({path})"
