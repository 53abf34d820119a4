"""The backdoor-based verification baseline (Li et al.; Guo et al.): the data provider
stamps a trigger on its samples and relabels them to a target class before training;
after an unlearning request the attack success rate (ASR) of the trigger should fall.
"""

from __future__ import annotations

from torch import Tensor

from ..errors import ConfigError, check_choice, check_positive_int


CORNERS = ("bottom-right", "top-left")


def stamp_trigger(images: Tensor, size: int = 4, corner: str = "bottom-right") -> Tensor:
    """A copy of [0, 1] images with a white `size` x `size` square one pixel from the
    border in `corner` (BadNets' pattern; two corners give two providers two triggers)."""
    size = check_positive_int("trigger_size", size)
    check_choice("trigger corner", corner, CORNERS)
    if size + 1 > images.shape[-1]:
        raise ConfigError(f"trigger_size must leave a one-pixel border in {images.shape[-1]}-"
                          f"pixel images, got {size}.")
    stamped = images.clone()
    where = slice(-size - 1, -1) if corner == "bottom-right" else slice(1, size + 1)
    stamped[..., where, where] = 1.0
    return stamped


def poison(images: Tensor, labels: Tensor, chosen: Tensor, target: int, size: int = 4,
           corner: str = "bottom-right") -> tuple[Tensor, Tensor]:
    """The training set with the trigger stamped on `chosen` (a boolean mask) and their
    labels set to `target`."""
    images, labels = images.clone(), labels.clone()
    images[chosen] = stamp_trigger(images[chosen], size, corner)
    labels[chosen] = target
    return images, labels


def attack_success_rate(predicted: Tensor, target: int) -> float:
    """The share of triggered samples classified as the target class."""
    return (predicted == target).double().mean().item() if len(predicted) else float("nan")


def backdoor_asr(model, images: Tensor, labels: Tensor, target: int, size: int = 4,
                 corner: str = "bottom-right") -> float:
    """ASR of the trigger on the samples of `images` whose own label is not the target."""
    from ..maxmargin import predictions

    keep = labels != target
    return attack_success_rate(predictions(model, stamp_trigger(images[keep], size, corner)),
                               target)
