"""Gradient inversion (DLG / Inverting Gradients): exact on a linear layer with bias, real
progress on the small CNN, independent of the chunk size, and its argument checks."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mu_core.attacks.inversion import easiest_to_invert, invert_gradients, inversion_quality
from mu_core.data import ImageData, pixels
from mu_core.errors import ConfigError
from mu_core.metrics import ssim
from mu_core.models import create
from mu_core.train import Recipe, fit


def tiny_data(count: int = 6, classes: int = 3) -> ImageData:
    generator = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (count, 1, 6, 6), generator=generator, dtype=torch.uint8)
    scaled = images.float() / 255
    return ImageData("tiny", images, torch.arange(count) % classes, torch.arange(count),
                     torch.arange(0), tuple("abc"[:classes]), (scaled.mean().item(),),
                     (scaled.std().item(),))


def linear_model(data: ImageData) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(36, data.num_classes))


def loop_gradients(model: nn.Module, data: ImageData, images: torch.Tensor, indices):
    """Each sample's flattened loss gradient, one sample at a time by plain autograd (an
    independent check of the batched torch.func code); `images` in [0, 1]."""
    model.eval()
    mean = torch.tensor(data.mean).view(1, -1, 1, 1)
    std = torch.tensor(data.std).view(1, -1, 1, 1)
    rows = []
    for image, label in zip(images, data.targets(indices)):
        loss = F.cross_entropy(model((image[None] - mean) / std), label[None])
        grads = torch.autograd.grad(loss, [p for p in model.parameters() if p.requires_grad])
        rows.append(torch.cat([g.flatten() for g in grads]))
    return torch.stack(rows)


def uniform_starts(count: int, shape, seed: int = 0) -> torch.Tensor:
    """The documented starting images: uniform noise drawn up front from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((count, *shape), generator=generator, dtype=torch.float64).float()


def test_linear_layer_with_bias_is_inverted_exactly():
    data = tiny_data()
    model = linear_model(data)
    indices = torch.arange(len(data.labels))
    truth = pixels(data, indices)

    # The target is recoverable in closed form: for softmax cross-entropy, dL/dW = (p - y) x^T
    # and dL/db = p - y, so any class row with db_c != 0 gives the normalised input.
    for i, row in zip(indices, loop_gradients(model, data, truth, indices)):
        weight_grad, bias_grad = row[:-3].view(3, 36), row[-3:]
        c = bias_grad.abs().argmax()
        assert bias_grad[c].abs() > 1e-3
        recovered = weight_grad[c] / bias_grad[c] * data.std[0] + data.mean[0]
        torch.testing.assert_close(recovered, truth[i].flatten(), atol=1e-4, rtol=0)

    before = [p.detach().clone() for p in model.parameters()]
    model.train()
    quality, reconstructions = inversion_quality(model, data, indices, steps=300, lr=0.1,
                                                 tv_weight=0.0)
    assert reconstructions.shape == truth.shape and reconstructions.device.type == "cpu"
    assert reconstructions.dtype == torch.float32
    assert (reconstructions - truth).abs().max() < 0.02
    assert quality.min() > 0.99
    # The victim is untouched: same weights, no stray .grad, its train mode restored.
    assert all(torch.equal(b, p) for b, p in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())
    assert model.training


@pytest.fixture(scope="module")
def victim(mnist):
    model = create("cnn", 10, 1, 28, seed=0)
    fit(model, mnist, mnist.train[:500], Recipe(epochs=1), seed=0)
    return model.eval()


def test_cnn_inversion_beats_noise_and_ignores_chunking(mnist, victim):
    indices = mnist.train[:8]
    truth = pixels(mnist, indices)
    noise_quality = ssim(uniform_starts(8, truth.shape[1:]), truth)
    quality, whole = inversion_quality(victim, mnist, indices, steps=100, chunk_size=8)
    # Measured: noise ~0.005, reconstructions ~0.7 mean SSIM after 100 steps.
    assert quality.mean() > noise_quality.mean() + 0.4
    assert (quality > noise_quality + 0.1).all()
    assert whole.min() >= 0 and whole.max() <= 1

    # A sample's start depends only on (seed, position), and candidates do not interact.
    pairs = invert_gradients(victim, mnist, indices, steps=100, chunk_size=2)
    assert (pairs - whole).abs().max() < 1e-4

    ranked = easiest_to_invert(quality, indices, 3)
    assert torch.equal(ranked, indices[quality.argsort(descending=True)[:3]])


def test_l2_objective_reduces_the_gradient_distance(mnist, victim):
    indices = mnist.train[8:12]
    truth = pixels(mnist, indices)
    target = loop_gradients(victim, mnist, truth, indices)
    start = uniform_starts(4, truth.shape[1:])
    result = invert_gradients(victim, mnist, indices, steps=50, objective="l2", tv_weight=0.0)
    distance_before = (loop_gradients(victim, mnist, start, indices) - target).pow(2).sum(1)
    distance_after = (loop_gradients(victim, mnist, result, indices) - target).pow(2).sum(1)
    assert (distance_after < 0.5 * distance_before).all()


def test_easiest_to_invert_orders_from_the_easiest():
    quality = torch.tensor([0.1, 0.9, 0.5, 0.9])
    indices = torch.tensor([10, 20, 30, 40])
    assert easiest_to_invert(quality, indices, 3).tolist() == [20, 40, 30]
    assert easiest_to_invert(quality, indices, 4).tolist() == [20, 40, 30, 10]


@pytest.mark.parametrize("kwargs, message", [
    (dict(objective="ssim"), "unknown objective"),
    (dict(steps=0), "steps"),
    (dict(lr=0.0), "lr"),
    (dict(lr=-0.1), "lr"),
    (dict(tv_weight=-1e-4), "tv_weight"),
    (dict(chunk_size=0), "chunk_size"),
])
def test_invert_gradients_rejects_bad_arguments(kwargs, message):
    data = tiny_data()
    with pytest.raises(ConfigError, match=message):
        invert_gradients(linear_model(data), data, torch.arange(3), **kwargs)


def test_invert_gradients_rejects_empty_indices():
    data = tiny_data()
    with pytest.raises(ConfigError, match="non-empty"):
        invert_gradients(linear_model(data), data, torch.arange(0))
    with pytest.raises(ConfigError, match="non-empty"):
        inversion_quality(linear_model(data), data, torch.tensor([], dtype=torch.long))


@pytest.mark.parametrize("count, message", [(0, "positive"), (5, "at most"), (1.5, "positive")])
def test_easiest_to_invert_rejects_bad_counts(count, message):
    with pytest.raises(ConfigError, match=message):
        easiest_to_invert(torch.rand(4), torch.arange(4), count)


def test_easiest_to_invert_rejects_misaligned_inputs():
    with pytest.raises(ConfigError, match="aligned"):
        easiest_to_invert(torch.rand(3), torch.arange(4), 2)


def test_inversion_chunks_fit_memory_whole_for_a_small_network_split_for_resnet18():
    from torch import nn

    from mu_core.attacks.inversion import CHUNK_BYTES, chunk_for
    from mu_core.models import create

    small = nn.Linear(10, 2)  # 22 parameters: every candidate in one chunk
    assert chunk_for(small, 1000) == 1000
    resnet = create("resnet18", 10, 3, 32)  # about 11.2 million parameters
    per_candidate = 3 * 8 * sum(p.numel() for p in resnet.parameters())
    assert chunk_for(resnet, 1000) == CHUNK_BYTES // per_candidate < 50
    assert chunk_for(resnet, 1000, "float32") == CHUNK_BYTES // (per_candidate // 2)
