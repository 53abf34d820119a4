"""UNSC (Chen et al., IJCAI 2024): unlearning in the null space of the retain set.

Every weight layer's update is projected onto the orthogonal complement of the span of
the inputs the retain set gives that layer, so the layer's outputs on retain samples do
not move; the forget samples are relabelled to their most likely remaining class (the
calibration of the decision space) and the model is trained on them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import loops
from ..data import ImageData
from ..errors import check_fraction
from ..splits import Split
from ..train import Recipe, fit, predict
from .fisher import subsample
from .registry import register


# Inputs per layer that UNSC's basis is built from (its SVD is the costly part).
MAX_COLUMNS = 4096


def layer_inputs(model: nn.Module, data: ImageData, indices: Tensor, *,
                 max_columns: int = MAX_COLUMNS, seed: int = 0) -> dict[nn.Module, Tensor]:
    """For each Conv2d / Linear layer, a (groups, d, m) tensor whose columns are inputs the
    layer sees on `indices`: image patches for convolutions (d = in / groups * kh * kw, as
    the weight is laid out; a grouped or depthwise convolution has one set of patches per
    group, since each group's filters see only its own channels), at most `max_columns`
    of them drawn at random. Linear layers have one group."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    captured: dict[nn.Module, Tensor] = {}
    generator = torch.Generator().manual_seed(seed)

    def capture(module, inputs, _output):
        x = inputs[0].detach().float()
        groups = 1
        if isinstance(module, nn.Conv2d):
            rows = sampled_patches(module, x, max_columns, generator)
            groups = module.groups
        else:
            x = x.reshape(len(x), -1)
            rows = x[torch.randperm(len(x), generator=generator)[:max_columns].to(x.device)]
        # rows are channel-major (channel, kh, kw), so each group's patch is a block of d
        captured[module] = rows.reshape(len(rows), groups, -1).permute(1, 2, 0).cpu()

    handles = [layer.register_forward_hook(capture) for layer in layers]
    try:
        predict(model, data, indices, batch_size=len(indices))
    finally:
        for handle in handles:
            handle.remove()
    return captured


# Images unfolded at once when sampling patches: memory is bounded by this many images'
# patches, not by the whole batch's (3.6 GB for 500 images in a ResNet-18 layer at 224 px).
PATCH_CHUNK = 16


def sampled_patches(conv: nn.Conv2d, x: Tensor, count: int,
                    generator: torch.Generator) -> Tensor:
    """`count` of the patches the convolution sees in the batch `x`, drawn at random without
    replacement over (image, position): (count, in / groups * kh * kw). The draw is the one
    a single unfold of the whole batch would make; the unfolding goes PATCH_CHUNK images at
    a time."""
    x, padding = conv_input(conv, x)

    def unfold(images):
        return F.unfold(images, conv.kernel_size, conv.dilation, padding, conv.stride)

    positions = unfold(x[:1]).shape[-1]
    chosen = torch.randperm(len(x) * positions, generator=generator)[:count].to(x.device)
    images, places = chosen // positions, chosen % positions
    rows = x.new_empty(len(chosen), x.shape[1] * conv.kernel_size[0] * conv.kernel_size[1])
    for start in range(0, len(x), PATCH_CHUNK):
        inside = (images >= start) & (images < start + PATCH_CHUNK)
        if inside.any():
            patches = unfold(x[start:start + PATCH_CHUNK])
            rows[inside] = patches[images[inside] - start, :, places[inside]]
    return rows


def conv_input(conv: nn.Conv2d, x: Tensor) -> tuple[Tensor, tuple | int]:
    """`x` as the convolution's kernel sees it, and the padding still to apply: a
    convolution that pads "same" itself (padding="same", or timm's TF-style Conv2dSame,
    whose padding depends on the input size) gets its input padded here as it pads it."""
    if conv.padding == "valid":
        return x, 0
    if conv.padding == "same" or _pads_in_forward(conv):
        pads = []
        for size, k, s, d in zip(reversed(x.shape[-2:]), reversed(conv.kernel_size),
                                 reversed(conv.stride), reversed(conv.dilation)):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads), 0
    return x, conv.padding


def _pads_in_forward(conv: nn.Conv2d) -> bool:
    try:
        from timm.layers import Conv2dSame
    except ImportError:
        return False
    return isinstance(conv, Conv2dSame)


def principal_projector(columns: Tensor, energy: float) -> Tensor:
    """For each group of `columns` (groups, d, m), the projector onto its leading left
    singular vectors that hold `energy` of the columns' squared norm (the gradient
    projection memory of Saha et al. 2021, which UNSC builds on): (groups, d, d)."""
    u, s, _ = torch.linalg.svd(columns, full_matrices=False)
    share = (s ** 2).cumsum(-1) / (s ** 2).sum(-1, keepdim=True).clamp_min(1e-30)
    rank = (share < energy).sum(-1, keepdim=True) + 1  # (groups, 1)
    kept = torch.arange(u.shape[-1]) < rank  # (groups, k): the leading `rank` vectors
    basis = u * kept.unsqueeze(1)
    return basis @ basis.transpose(1, 2)


def project_out(projector: Tensor):
    """A gradient hook removing, group by group, the component of a weight's input
    dimension in the span its `projector` (groups, d, d) projects onto."""

    def hook(gradient: Tensor) -> Tensor:
        groups, d = projector.shape[0], projector.shape[-1]
        flat = gradient.reshape(groups, -1, d)  # out channels are grouped in order
        moved = flat @ projector.to(flat.device, flat.dtype)
        return (flat - moved).view_as(gradient)
    return hook


def pseudo_labels(model: nn.Module, data: ImageData, split: Split) -> Tensor:
    """Each forget sample's most likely class other than its own and other than the classes
    forgotten whole. In whole-class forgetting (UNSC's setting) that is the most likely
    remaining class; in partial class-wise forgetting the forget classes keep retained
    samples, so they stay possible labels (excluding them all, as before, taught the model
    to abandon every forget class: UA 100, TA 48 on the cpu preset)."""
    logits = predict(model, data, split.forget, output="logits")
    logits[torch.arange(len(logits)), data.targets(split.forget).to(logits.device)] = float("-inf")
    if split.kind == "class":
        logits[:, list(split.forget_classes)] = float("-inf")
    return logits.argmax(1)


@register("unsc", "UNSC: null-space calibration (Chen et al., IJCAI 2024)",
          kinds=("class", "classwise"))
def unsc(model: nn.Module, data: ImageData, split: Split, *, energy: float = 0.97,
         epochs: int = 5, lr: float = 0.02, batch_size: int = 64, momentum: float = 0.9,
         max_samples: int | None = 500, seed: int = 0) -> None:
    # As its reference (HQC-ML/UNSC's notebooks): biases and norm parameters frozen, batch
    # norm in eval mode, SGD without weight decay. Where ours differs: one basis per layer
    # from a random retain subset at one `energy` (the reference merges one batch of each
    # remaining class, at a threshold rising by class), and SGD with `momentum` 0.9 at the
    # small CNN's rate and epochs (the reference steps without momentum, lr 0.04 for 25
    # epochs of batches of 512 on CIFAR-10); momentum=0.0 gives its plain SGD.
    check_fraction("energy", energy)
    targets = pseudo_labels(model, data, split)
    inputs = layer_inputs(model, data, subsample(split.retain, max_samples, seed), seed=seed,
                          max_columns=loops.budget("max_columns", MAX_COLUMNS))
    handles = []
    for layer, columns in inputs.items():
        handles.append(layer.weight.register_hook(project_out(principal_projector(columns, energy))))
        if layer.bias is not None:
            handles.append(layer.bias.register_hook(torch.zeros_like))
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            for p in module.parameters():
                handles.append(p.register_hook(torch.zeros_like))
    recipe = Recipe(epochs=epochs, lr=lr, batch_size=batch_size, momentum=momentum,
                    weight_decay=0.0, schedule="constant")
    try:
        fit(model, data, split.forget, recipe, targets=targets, seed=seed, frozen_norms=True,
            desc="unsc")
    finally:
        for handle in handles:
            handle.remove()
