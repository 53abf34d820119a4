"""Model registry: `create(name, num_classes, in_channels, image_size, **options)`.

Small inputs (28/32 px and below) get small-input stems: a 3x3 stride-1 first convolution
and no max-pool for ResNets (as in the CIFAR ResNets of the unlearning literature), a
global-pool + linear classifier for VGG.
"""

from __future__ import annotations

import functools
import inspect
from types import SimpleNamespace
from typing import Callable

import torch
from torch import nn
from torch.nn.utils import parametrize

from . import loops
from .errors import ConfigError, check_positive_int

SMALL_INPUT = 64  # at or below this size a model gets its small-input stem


def cnn(num_classes: int, in_channels: int, image_size: int, width: int = 16,
        hidden: int = 128) -> nn.Module:
    """Two conv blocks and a two-layer head: the CPU default (97.4% test on mnist5k after 8
    epochs; width 32 reaches 97.7% at 3x the training time on 2 CPU cores).

    Each block max-pools right after its convolution, so batch norm and ReLU run on maps 4x
    smaller: 1.8x faster training on 2 CPU cores than conv-BN-ReLU-pool, at the same
    accuracy on mnist5k (97.7% vs. 97.2% test after 8 epochs). `hidden=0` gives a single
    linear head: RSU's MNIST network of two convolutional layers and one FC layer.
    """
    check_positive_int("width", width)
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 0:
        raise ConfigError(f"hidden must be a non-negative integer (0: one linear layer), got "
                          f"{hidden!r}.")
    pooled = 4 if image_size >= 16 else 2
    features = 2 * width * pooled * pooled
    layers = [  # created in this order, which fixes the seeded initial weights
        nn.Conv2d(in_channels, width, 3, padding=1), nn.MaxPool2d(2), nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.MaxPool2d(2), nn.BatchNorm2d(2 * width),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(pooled), nn.Flatten(),
    ]
    if hidden:
        layers += [nn.Linear(features, hidden), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(hidden or features, num_classes))


def mlp(num_classes: int, in_channels: int, image_size: int, hidden=(1000, 1000),
        bias: bool = True) -> nn.Module:
    """Fully connected ReLU network; `bias=False` gives the homogeneous nets of data
    reconstruction (Haim et al. 2022)."""
    if isinstance(hidden, (int, str)) or not all(isinstance(h, int) and not isinstance(h, bool)
                                                   and h > 0 for h in hidden):
        raise ConfigError(f"hidden must be a list of positive layer widths, got {hidden!r}.")
    sizes = [in_channels * image_size * image_size, *hidden]
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out, bias=bias), nn.ReLU()]
    layers.append(nn.Linear(sizes[-1], num_classes, bias=bias))
    return nn.Sequential(*layers)


def _torchvision_resnet(arch: str):
    def build(num_classes, in_channels, image_size, pretrained: bool = False, width: int = 64):
        import torchvision.models as tvm

        _check_width(arch, width, pretrained)
        model = getattr(tvm, arch)(weights="DEFAULT" if pretrained else None)
        if width != 64:
            _narrow_resnet(model, width)
        model.fc = nn.Linear(model.fc.in_features, num_classes)
        if image_size <= SMALL_INPUT:
            model.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
            model.maxpool = nn.Identity()
        elif in_channels != 3:
            model.conv1 = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
        return model
    build.__doc__ = (f"torchvision {arch}, small-input stem at <= {SMALL_INPUT} px; `width` "
                     f"scales every stage (64: the standard network).")
    return build


def _check_width(arch: str, width, pretrained: bool) -> None:
    check_positive_int("width", width)
    if width != 64 and pretrained:
        raise ConfigError(f"{arch} has pretrained weights only at width 64, got width {width}.")


def _narrow_resnet(model: nn.Module, width: int) -> None:
    """Rebuild a torchvision ResNet's stages with `width`, 2, 4, 8 x `width` planes (the
    layer names stay torchvision's), initialised as torchvision initialises them."""
    if model.groups != 1:
        raise ConfigError("width applies to ResNets without grouped convolutions "
                          "(resnet18, resnet50); use the standard resnext50.")
    block = type(model.layer1[0])
    model.inplanes = width
    model.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
    model.bn1 = nn.BatchNorm2d(width)
    for stage in range(4):
        name = f"layer{stage + 1}"
        setattr(model, name, model._make_layer(block, width * 2 ** stage, len(getattr(model, name)),
                                               stride=1 if stage == 0 else 2))
    model.fc = nn.Linear(8 * width * block.expansion, 1)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")


def _vgg_without_large_classifier(features: nn.Sequential) -> nn.Module:
    """torchvision's VGG on `features`, initialised as torchvision does, without allocating
    its 224-pixel classifier (120M weights, about 1.5 s to draw), which small inputs replace."""
    import torchvision.models as tvm

    with torch.device("meta"):
        model = tvm.vgg.VGG(nn.Identity(), init_weights=False)
    model.features = features
    for module in features.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return model


def vgg16_bn(num_classes: int, in_channels: int, image_size: int, pretrained: bool = False,
             width: int = 64):
    """torchvision VGG-16-BN; small inputs use global pooling and one linear classifier
    (the CIFAR VGG of Unlearn-Sparse), and keep only the max-pools the size allows.
    `width` scales every convolution (64: the standard network)."""
    import torchvision.models as tvm

    _check_width("vgg16_bn", width, pretrained)
    config = [v if v == "M" else v * width // 64 for v in tvm.vgg.cfgs["D"]]
    if image_size <= SMALL_INPUT and not pretrained:
        model = _vgg_without_large_classifier(tvm.vgg.make_layers(config, batch_norm=True))
    elif width == 64:
        model = tvm.vgg16_bn(weights="DEFAULT" if pretrained else None)
    else:
        model = tvm.vgg.VGG(tvm.vgg.make_layers(config, batch_norm=True))
        model.classifier[0] = nn.Linear(8 * width * 7 * 7, 4096)
    if in_channels != 3:
        model.features[0] = nn.Conv2d(in_channels, width, 3, padding=1)
    if image_size <= SMALL_INPUT:
        pools = [i for i, m in enumerate(model.features) if isinstance(m, nn.MaxPool2d)]
        for i in pools[max(1, image_size.bit_length() - 1):]:  # 2**pools <= image_size
            model.features[i] = nn.Identity()
        model.avgpool = nn.AdaptiveAvgPool2d(1)
        model.classifier = nn.Linear(8 * width, num_classes)
    else:
        model.classifier[-1] = nn.Linear(4096, num_classes)
    return model


def efficientnet(num_classes: int, in_channels: int, image_size: int,
                 variant: str = "tf_efficientnetv2_s.in21k_ft_in1k", pretrained: bool = False):
    """timm EfficientNet (MRA's "EFN, small version": EfficientNetV2-S by default, the
    variant with ImageNet weights; timm's `efficientnetv2_s` has none)."""
    import timm

    return timm.create_model(variant, pretrained=pretrained, num_classes=num_classes,
                             in_chans=in_channels)


def swinv2_tiny(num_classes: int, in_channels: int, image_size: int,
                variant: str = "swinv2_tiny_window8_256", pretrained: bool = False):
    """timm Swin-V2-T at the data's image size; the window shrinks to fit small inputs."""
    import timm

    if image_size % 32:
        raise ConfigError(f"swinv2_tiny needs an image size divisible by 32, got {image_size}.")
    window = min(8, image_size // 32)
    return timm.create_model(variant, pretrained=pretrained, num_classes=num_classes,
                             in_chans=in_channels, img_size=image_size, window_size=window)


MODELS: dict[str, Callable[..., nn.Module]] = {
    "cnn": cnn,
    "mlp": mlp,
    "resnet18": _torchvision_resnet("resnet18"),
    "resnet50": _torchvision_resnet("resnet50"),
    "resnext50": _torchvision_resnet("resnext50_32x4d"),
    "vgg16_bn": vgg16_bn,
    "efficientnet": efficientnet,
    "swinv2_tiny": swinv2_tiny,
}


def create(name: str, num_classes: int, in_channels: int, image_size: int, *,
           seed: int | None = None, **options) -> nn.Module:
    """Build a registered model; with `seed`, its initial weights are a function of the seed."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; accepted: {', '.join(MODELS)}.")
    for label, value in (("num_classes", num_classes), ("in_channels", in_channels),
                         ("image_size", image_size)):
        check_positive_int(label, value)
    _check_options(name, options)
    if options.get("pretrained") and loops.dry():
        check_pretrained(name, options)
        options = {**options, "pretrained": False}  # a dry run downloads nothing
    if seed is None:
        model = MODELS[name](num_classes, in_channels, image_size, **options)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = MODELS[name](num_classes, in_channels, image_size, **options)
    if options.get("pretrained"):
        # how `restart` draws this model's starting point again: pretrained weights, new head
        model.starting_point = functools.partial(create, name, num_classes, in_channels,
                                                 image_size, **options)
    return model


def check_pretrained(name: str, options: dict) -> None:
    """Raise ConfigError unless `name` (with its `variant`) has pretrained weights to
    download; reads the model libraries' registries, downloads nothing."""
    variant = options.get("variant") or _default_variant(name)
    if variant is None:
        raise ConfigError(f"model {name!r} has no pretrained weights; drop pretrained.")
    if name in ("efficientnet", "swinv2_tiny"):
        import timm

        if not timm.list_pretrained(f"{variant}*"):
            raise ConfigError(f"timm has no pretrained weights for {variant!r}; pass a variant "
                              "that has them (timm.list_pretrained() lists them).")


def _default_variant(name: str) -> str | None:
    if name in ("cnn", "mlp"):
        return None
    parameter = inspect.signature(MODELS[name]).parameters.get("variant")
    return parameter.default if parameter is not None else name


def _check_options(name: str, options: dict) -> None:
    accepted = list(inspect.signature(MODELS[name]).parameters)[3:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"model {name!r} has no option {', '.join(unknown)}; accepted: "
                          f"{', '.join(accepted) or 'none'}.")


def reinitialize(model: nn.Module, seed: int) -> nn.Module:
    """Draw fresh initial weights (and reset batch-norm statistics) in place, from `seed`.

    A parametrised weight (a held pruning mask) is redrawn in its free parameter, and the
    parametrisation kept: a sparse model stays sparse, with the same mask."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in model.modules():
            if hasattr(module, "reset_parameters"):
                _reset(module)
    return model


def restart(model: nn.Module, seed: int) -> nn.Module:
    """The model's starting point drawn again from `seed`, in place (retraining from
    scratch): a model built from pretrained weights gets them back, with its other weights
    (the new head) drawn from `seed`; any other model is `reinitialize`d. A held pruning
    mask is kept either way."""
    build = getattr(model, "starting_point", None)
    if build is None:
        return reinitialize(model, seed)
    fresh = build(seed=seed).state_dict()
    with torch.no_grad():
        for name, tensor in model.state_dict(keep_vars=True).items():
            if ".parametrizations." not in name:
                tensor.copy_(fresh[name])
            elif name.endswith(".original"):  # the free weight; the mask beside it is kept
                tensor.copy_(fresh[name.replace(".parametrizations.", ".")[:-len(".original")]])
    return model


def _reset(module: nn.Module) -> None:
    if not parametrize.is_parametrized(module, "weight"):
        module.reset_parameters()
        return
    # Redraw the free parameter through the layer's own reset, with the same draws as a
    # plain layer. Removing the parametrisation instead would edit its class, which every
    # copy of the model shares.
    free = SimpleNamespace(weight=module.parametrizations.weight.original, bias=module.bias)
    type(module).reset_parameters(free)


def create_for(name: str, data, *, seed: int | None = None, **options) -> nn.Module:
    """`create` with the class count, channels and image size of an `ImageData`."""
    return create(name, data.num_classes, data.in_channels, data.image_size, seed=seed,
                  **options)


def last_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    """The model's last linear layer (in module order) as (parent, attribute, layer)."""
    named = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not named:
        raise ConfigError(f"{type(model).__name__} has no linear layer; this needs an "
                          "architecture that ends in a linear classifier.")
    path, layer = named[-1]
    parent_path, _, attribute = path.rpartition(".")
    return model.get_submodule(parent_path), attribute, layer
