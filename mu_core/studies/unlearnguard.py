"""The UnlearnGuard experiments' building blocks: the data provider's small training set,
models trained to a large margin on it, and the four verification schemes' numbers
(membership inference INA, backdoor ASR, accuracy, reconstruction SSIM) for a subset."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..attacks.mia import membership_ina
from ..data import ImageData, pixels, require_classes
from ..errors import ConfigError, check_positive_int
from ..maxmargin import MarginRecipe, homogeneous_mlp, predictions, train_to_margin
from ..metrics import accuracy
from ..splits import Split, make_split


@dataclass(frozen=True)
class Provider:
    """The data provider's training set D as [0, 1] images, its labels and dataset indices."""

    images: Tensor
    labels: Tensor
    indices: Tensor


def provider_splits(data: ImageData, per_class: int, forget_per_class: int, unlearn_class: int,
                    seed: int) -> tuple[Split, Split]:
    """The same stratified training set of per_class x C samples, with a sample-level
    request (forget_per_class samples of every class) and a class-level request."""
    per_class = check_positive_int("per_class", per_class)
    forget_per_class = check_positive_int("forget_per_class", forget_per_class)
    if forget_per_class >= per_class:
        raise ConfigError(f"forget_per_class must be below per_class ({per_class}) so that "
                          f"every class keeps samples, got {forget_per_class}.")
    require_classes(data, [unlearn_class], "unlearn_class")
    size = per_class * data.num_classes
    samples = make_split(data, forget_classes=list(range(data.num_classes)),
                         forget_fraction=forget_per_class / per_class, train_size=size, seed=seed)
    whole_class = make_split(data, forget_classes=[unlearn_class], train_size=size, seed=seed)
    return samples, whole_class


def provider(data: ImageData, indices: Tensor) -> Provider:
    return Provider(pixels(data, indices), data.labels[indices.to(data.device)].cpu(),
                    indices.cpu())


def train_model(images: Tensor, labels: Tensor, mean_image: Tensor, num_outputs: int, *,
                hidden, init_scale: float, recipe: MarginRecipe, seed: int,
                desc: str = "train") -> nn.Module:
    """A fresh homogeneous MLP trained to a large margin on (images, labels)."""
    model = homogeneous_mlp(mean_image, num_outputs, hidden, init_scale=init_scale, seed=seed)
    train_to_margin(model, images, labels, recipe, desc=desc)
    return model.eval()


def fine_tune(model: nn.Module, images: Tensor, labels: Tensor, recipe: MarginRecipe, *,
              desc: str = "fine-tune") -> nn.Module:
    """A copy of `model` trained further on (images, labels)."""
    import copy

    tuned = copy.deepcopy(model).train()
    train_to_margin(tuned, images, labels, recipe, desc=desc)
    return tuned.eval()


def random_relabels(labels: Tensor, num_classes: int, seed: int) -> Tensor:
    """Each label replaced by a different class drawn uniformly (relabel-based unlearning)."""
    generator = torch.Generator().manual_seed(seed)
    shift = torch.randint(1, num_classes, labels.shape, generator=generator)
    return (labels + shift) % num_classes


def subset_accuracy(model: nn.Module, images: Tensor, labels: Tensor) -> float:
    return accuracy(predictions(model, images), labels)


def nearest_training(candidates: Tensor, training_images: Tensor) -> tuple[Tensor, Tensor]:
    """For each reconstruction (min-max scaled) its best SSIM to a training sample and that
    sample's index (the paper's Figure 13 scoring); empty when there are no candidates."""
    from ..attacks.reconstruct import minmax_scale
    from ..metrics import nearest_ssim

    if len(candidates) == 0:
        return torch.empty(0), torch.empty(0, dtype=torch.long)
    return nearest_ssim(minmax_scale(candidates.float()), training_images.float())


def check_class(name: str, data: ImageData, value, other: int) -> int:
    """A class of `data` different from `other` (the class-level request's class)."""
    (value,) = require_classes(data, [value], name)
    if value == other:
        raise ConfigError(f"{name} must differ from unlearn_class ({other}), got {value}.")
    return value


def check_fractions(fractions) -> list[float]:
    """Backdoor budgets: a non-empty list of fractions in (0, 1)."""
    from ..errors import check_fraction

    if not isinstance(fractions, (list, tuple)) or not fractions:
        raise ConfigError(f"backdoor_fractions must be a non-empty list of fractions in "
                          f"(0, 1), got {fractions!r}.")
    return [check_fraction("backdoor_fractions entry", f, allow_one=False) for f in fractions]


def scheme_values(model: nn.Module, images: Tensor, labels: Tensor, subset: Tensor,
                  members: Tensor, nonmembers: tuple[Tensor, Tensor],
                  ssim: Tensor) -> dict[str, float]:
    """The MIA's INA, the accuracy and our mean best SSIM for the training samples in the
    boolean mask `subset`; `members` marks the training samples the MIA knows as members."""
    subset, members = subset.to(images.device), members.to(images.device)
    return {"MIA": membership_ina(model, (images[members], labels[members]), nonmembers,
                                  (images[subset], labels[subset])),
            "Accuracy": subset_accuracy(model, images[subset], labels[subset]),
            "Ours": ssim[subset.cpu()].mean().item()}
