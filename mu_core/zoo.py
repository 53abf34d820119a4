"""The models chapters share, built once and kept in `mu_core.cache`.

A trained model is identified by what determines it: the dataset, the exact training
indices (by hash, so every forget spec with the same training set shares one model), the
architecture and its options, the recipe and the seed. An unlearned model adds the forget
set, the method and all its hyper-parameters (defaults filled in). Both carry the
`mu_core` version, so a new release never loads a model built by different code.
"""

from __future__ import annotations

import copy
import hashlib

from torch import Tensor, nn

from . import __version__, cache, models
from .data import ImageData
from .splits import Split
from .train import Recipe, fit


def indices_digest(indices: Tensor) -> str:
    return hashlib.sha256(indices.cpu().long().numpy().tobytes()).hexdigest()[:16]


def trained_config(data: ImageData, split: Split, arch: str, recipe: Recipe, seed: int,
                   arch_options: dict) -> dict:
    return {
        "role": "trained",
        "mu_core": __version__,
        "dataset": data.name,
        "image_size": data.image_size,
        "train": {"size": len(split.train), "digest": indices_digest(split.train)},
        "model": {"name": arch, **arch_options},
        "recipe": recipe.as_dict(),
        "seed": seed,
    }


def trained_model(data: ImageData, split: Split, arch: str = "cnn", recipe: Recipe = Recipe(),
                  *, seed: int = 0, **arch_options) -> tuple[nn.Module, dict]:
    """The model trained on `split.train` (from the cache when it was built before).

    Returns (model on the data's device, meta with ``seconds``, ``history``, ``cached``).
    """
    config = trained_config(data, split, arch, recipe, seed, arch_options)

    def create() -> nn.Module:
        return models.create_for(arch, data, seed=seed, **arch_options)

    def build(model: nn.Module) -> dict:
        return {"history": fit(model, data, split.train, recipe, seed=seed)}

    model, meta = cached_model_on(data, config, create, build)
    return model, {**meta, "config": config}


def unlearned_model(data: ImageData, split: Split, method: str,
                    trained: tuple[nn.Module, dict], **hyperparameters) -> tuple[nn.Module, dict]:
    """`trained` (a `trained_model` result) unlearned by `method`, from the cache when it
    was built before. Returns (model, meta with ``seconds``, the method's run time)."""
    from .unlearn import check_request

    model, trained_meta = trained
    registered = check_request(method, split, hyperparameters)
    settings = {**registered.hyperparameters(), **hyperparameters}
    config = {
        "role": "unlearned",
        "mu_core": __version__,
        "trained": trained_meta["config"],
        "forget": {"kind": split.kind, "size": len(split.forget),
                   "digest": indices_digest(split.forget)},
        "method": method,
        "hyperparameters": settings,
    }

    def create() -> nn.Module:
        return copy.deepcopy(model)

    def build(copy_of_trained: nn.Module) -> None:  # in place: create() made the copy
        registered.run(copy_of_trained, data, split, **hyperparameters)

    unlearned, meta = cached_model_on(data, config, create, build)
    return unlearned, {**meta, "config": config}


def cached_model_on(data: ImageData, config: dict, create, build) -> tuple[nn.Module, dict]:
    """`cache.cached_model`, with the model returned in eval mode on the data's device."""
    model, meta = cache.cached_model(config, create, build)
    return model.to(data.device).eval(), meta
