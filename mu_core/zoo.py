"""The models chapters share, built once and kept in `mu_core.cache`, and the plan of
unlearning runs (settings x seeds x methods) that every study walks through.

A trained model is identified by what determines it: the dataset, the exact training
indices (by hash, so every forget spec with the same training set shares one model), the
architecture and its options, the recipe and the seed. An unlearned model adds the forget
set, the method and all its hyper-parameters (defaults filled in). Both carry the
`mu_core` version, so a new release never loads a model built by different code.
"""

from __future__ import annotations

import copy
import hashlib
import warnings
from dataclasses import replace

import torch
from torch import Tensor, nn

from . import __version__, cache, loops, models
from .attacks.mia import shadow_keep_masks
from .data import ImageData
from .ensemble import Ensemble, fit_ensemble
from .errors import ConfigError, Diverged, check_fraction
from .splits import Split, make_split
from .train import Recipe, fit
from .unlearn import METHODS, check_request
from .unlearn.pruning import check_layers, hold_masks, omp_masks


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
        **({"records": list(registered.records)} if registered.records else {}),
    }

    def create() -> nn.Module:
        return copy.deepcopy(model)

    def build(copy_of_trained: nn.Module) -> dict | None:  # in place: create() made the copy
        record = registered.run(copy_of_trained, data, split, **hyperparameters)  # or None
        check_finite(copy_of_trained, f"unlearning with {method} ({settings})")
        return record

    unlearned, meta = cached_model_on(data, config, create, build)
    return unlearned, {**meta, "config": config}


def check_finite(model: nn.Module, what: str) -> None:
    """Raise `Diverged`, naming `what`, when a weight or buffer of `model` is not finite (a
    run whose rate was too high for it), before the model is cached or scored. A dry run
    only warns: its models barely trained on synthetic data, so their numbers prove nothing
    either way (UNSC's eval-mode steps diverge on the paper preset's untrained ResNet-18)."""
    tensors = [*model.parameters(), *model.buffers()]
    if all(torch.isfinite(t).all() for t in tensors if t.is_floating_point()):
        return
    message = f"{what} diverged: the model's weights are not finite; lower its learning rate."
    if loops.dry():
        warnings.warn(f"dry run: {message}", stacklevel=2)
        return
    raise Diverged(message)


def sparse_model(data: ImageData, split: Split, trained: tuple[nn.Module, dict], *,
                 sparsity: float, recipe: Recipe, seed: int = 0,
                 layers: str = "conv") -> tuple[nn.Module, dict]:
    """`trained` (a `trained_model` result) pruned by one-shot magnitude pruning to
    `sparsity` of the weights of its `layers` ("conv": the convolutions, the layers the
    Unlearn-Sparse reference's OMP prunes; "conv_linear": the linear layers too;
    "conv_linear_but_classifier": every convolution and linear layer but the last) and
    fine-tuned on `split.train` with `recipe`, the mask held by the model; from the cache when
    it was built before. Returns (model, meta) like `trained_model`, so it can be unlearned
    the same way. Prune, then fine-tune: the reference's OMP instead rewinds the kept weights
    to their values at epoch 8 of training and retrains the whole schedule with the mask."""
    model, trained_meta = trained
    check_fraction("sparsity", sparsity, allow_one=False)
    check_layers("sparse_layers", layers, model)
    config = {"role": "sparse", "mu_core": __version__, "trained": trained_meta["config"],
              "sparsity": sparsity, "layers": layers, "recipe": recipe.as_dict(), "seed": seed}

    def create() -> nn.Module:
        masks = omp_masks(model, sparsity, layers=layers)  # overwritten by a cached state
        return hold_masks(copy.deepcopy(model), masks)

    def build(pruned: nn.Module) -> dict:
        return {"history": fit(pruned, data, split.train, recipe, seed=seed, desc="sparse")}

    pruned, meta = cached_model_on(data, config, create, build)
    return pruned, {**meta, "config": config}


def check_sparse_layers(data: ImageData, architecture: str, layers: str,
                        **arch_options) -> str:
    """Before any training: `layers` (a `sparse_model`'s) names layers that `architecture`
    has."""
    return check_layers("sparse_layers", layers,
                        models.create_for(architecture, data, seed=0, **arch_options))


SHADOW_SEEDS = 1_000_000  # shadow models draw their weights from a stream of their own, so
# none starts from the weights of a trained model of a small seed (its target)


def shadow_models(data: ImageData, pool: Tensor, arch: str, recipe: Recipe, *, count: int,
                  seed: int = 0, **arch_options) -> tuple[Ensemble, Tensor, dict]:
    """`count` shadow models, each trained on a random half of `pool` (LiRA; every sample in
    exactly half of them), from the cache when they were built before.

    Returns (the ensemble, its bool keep mask (count, len(pool)), meta)."""
    keep = shadow_keep_masks(count, len(pool), seed=seed)
    config = {"role": "shadow models", "mu_core": __version__, "dataset": data.name,
              "pool": {"size": len(pool), "digest": indices_digest(pool)}, "count": count,
              "model": {"name": arch, **arch_options}, "recipe": recipe.as_dict(), "seed": seed}
    seeds = [SHADOW_SEEDS + seed * count + m for m in range(count)]

    def create() -> nn.Module:
        return nn.ModuleList(models.create_for(arch, data, seed=s, **arch_options) for s in seeds)

    def build(members: nn.Module) -> None:
        trained = fit_ensemble(data, pool, keep, arch, recipe, seeds=seeds, **arch_options)
        for m, member in enumerate(members):
            member.load_state_dict(trained.model(m).state_dict())

    members, meta = cached_model_on(data, config, create, build)
    return Ensemble.from_models(members), keep, {**meta, "config": config}


def cached_model_on(data: ImageData, config: dict, create, build) -> tuple[nn.Module, dict]:
    """`cache.cached_model`, with the model returned in eval mode on the data's device."""
    model, meta = cache.cached_model(config, create, build)
    return model.to(data.device).eval(), meta


def plan(data: ImageData, settings: dict[str, dict], methods, seeds,
         hyperparameters: dict) -> list[tuple[str, int, str, object]]:
    """Every (setting, seed, method, split) to run, all checked before any training; a
    method that does not support a setting's kind is left out of that setting."""
    check_plan_shape(methods, seeds, hyperparameters)
    cache.check_writable()
    runs = []
    for setting, spec in settings.items():
        for seed in seeds:
            split = make_split(data, seed=seed, **spec)
            for method in methods:
                if method in METHODS and split.kind not in METHODS[method].kinds:
                    continue
                check_request(method, split, dict(hyperparameters.get(method, {}), seed=seed))
                runs.append((setting, seed, method, split))
    return runs


def check_plan_shape(methods, seeds, hyperparameters: dict) -> None:
    """Non-empty lists of methods and seeds, and {method: {setting: value}} settings."""
    for name, value in (("methods", methods), ("seeds", seeds)):
        if isinstance(value, (str, dict)) or not hasattr(value, "__iter__") or not list(value):
            raise ConfigError(f"{name} must be a non-empty list, got {value!r}.")
    if not isinstance(hyperparameters, dict):
        raise ConfigError(f"hyperparameters must map method names to their settings, got "
                          f"{hyperparameters!r}.")
    unknown = sorted(set(hyperparameters) - set(METHODS))
    if unknown:
        raise ConfigError(f"hyperparameters name unknown methods {unknown}; accepted: "
                          f"{', '.join(METHODS)}.")
    for method, values in hyperparameters.items():
        if not isinstance(values, dict):
            raise ConfigError(f"hyperparameters[{method!r}] must map setting names to values, "
                              f"e.g. {{'lr': 0.01}}, got {values!r}.")


def unlearned_models(data: ImageData, settings: dict[str, dict], methods, seeds, *,
                     architecture: str, recipe: Recipe, hyperparameters: dict | None = None,
                     architecture_options: dict | None = None, sparsity: float = 0.0,
                     sparse_recipe: Recipe | None = None, sparse_layers: str = "conv"):
    """Yield (setting, seed, method, split, trained, unlearned, meta) for every run of
    `plan`, all checked before any training; retrain uses the trained model's recipe unless
    `hyperparameters['retrain']` says otherwise. `trained` is a `trained_model` result, or
    with `sparsity` > 0 its `sparse_model` (of `sparse_layers`, fine-tuned with
    `sparse_recipe`), which every method then unlearns with the mask held; sparse retraining
    is `sparse_retrained`."""
    hyperparameters = hyperparameters or {}
    check_fraction("sparsity", sparsity, allow_zero=True, allow_one=False)
    if sparsity and not isinstance(sparse_recipe, Recipe):
        raise ConfigError("a sparse model needs sparse_recipe, the Recipe of its fine-tuning "
                          "after pruning.")
    if sparsity:
        check_sparse_layers(data, architecture, sparse_layers, **(architecture_options or {}))
    runs = plan(data, settings, methods, seeds, hyperparameters)
    trained_models = {}
    for setting, seed, method, split in loops.track(runs, "unlearning", unit="run"):
        key = (seed, indices_digest(split.train))  # settings share their training set
        if key not in trained_models:
            trained_models[key] = trained_model(data, split, architecture, recipe, seed=seed,
                                                **(architecture_options or {}))
        dense = trained_models[key]
        trained = sparse_model(data, split, dense, sparsity=sparsity, recipe=sparse_recipe,
                               seed=seed, layers=sparse_layers) if sparsity else dense
        settings_for_method = dict(hyperparameters.get(method, {}), seed=seed)
        if method == "retrain":
            settings_for_method = {**recipe_settings(recipe), **settings_for_method}
        model, meta = unlearned_model(data, split, method, dense if sparsity and
                                      method == "retrain" else trained, **settings_for_method)
        if sparsity and method == "retrain":
            model, meta = sparse_retrained(data, split, (model, meta), sparsity=sparsity,
                                           recipe=sparse_recipe, seed=seed,
                                           layers=sparse_layers)
        yield setting, seed, method, split, trained, model, meta


def sparse_retrained(data: ImageData, split: Split, retrained: tuple[nn.Module, dict], *,
                     sparsity: float, recipe: Recipe, seed: int,
                     layers: str = "conv") -> tuple[nn.Module, dict]:
    """Sparse retraining: the dense retrained model pruned and fine-tuned on the retain set,
    the sparse pipeline on D_r alone (a mask chosen on D would carry the forget set into
    it). Its run time is the dense retraining's plus the fine-tuning's."""
    model, meta = sparse_model(data, replace(split, train=split.retain), retrained,
                               sparsity=sparsity, recipe=recipe, seed=seed, layers=layers)
    return model, {**meta, "seconds": retrained[1]["seconds"] + meta["seconds"]}


def recipe_settings(recipe: Recipe) -> dict:
    """The settings of `retrain` that repeat a trained model's recipe."""
    return {key: getattr(recipe, key) for key in
            ("epochs", "lr", "batch_size", "optimizer", "weight_decay", "schedule", "augment")}
