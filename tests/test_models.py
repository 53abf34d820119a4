import pytest
import torch
from torch import nn

from mu_core import models
from mu_core.errors import ConfigError


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_every_registered_model_maps_small_images_to_class_logits(name):
    channels, size = (3, 32) if name in ("efficientnet", "swinv2_tiny") else (1, 28)
    model = models.create(name, 7, channels, size, seed=0).eval()
    with torch.no_grad():
        assert model(torch.randn(2, channels, size, size)).shape == (2, 7)


@pytest.mark.parametrize("size", [8, 28, 32])
def test_cnn_and_vgg_fit_every_offline_image_size(size):
    for name in ("cnn", "vgg16_bn"):
        model = models.create(name, 10, 1, size).eval()
        with torch.no_grad():
            assert model(torch.randn(2, 1, size, size)).shape == (2, 10)


def test_small_input_stems():
    resnet = models.create("resnet18", 10, 3, 32)
    assert resnet.conv1.kernel_size == (3, 3) and resnet.conv1.stride == (1, 1)
    assert isinstance(resnet.maxpool, nn.Identity)
    large = models.create("resnet18", 10, 3, 224)
    assert large.conv1.kernel_size == (7, 7)
    vgg = models.create("vgg16_bn", 10, 1, 28)
    assert sum(isinstance(m, nn.MaxPool2d) for m in vgg.features) == 4
    assert isinstance(vgg.classifier, nn.Linear)


def test_bias_free_mlp_is_positively_homogeneous():
    # Without biases, a depth-L ReLU net is 1-homogeneous in its input and L-homogeneous in
    # its weights (f(x; c theta) = c^L f(x; theta), c > 0): the property the reconstruction
    # attacks of Haim et al. (2022) rely on.
    model = models.create("mlp", 10, 1, 8, hidden=(32, 16), bias=False, seed=0).double()
    assert not any("bias" in name for name, _ in model.named_parameters())
    x = torch.randn(5, 1, 8, 8, dtype=torch.float64)
    before = model(x)
    assert torch.allclose(model(3.0 * x), 3.0 * before)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(2.0)
    assert torch.allclose(model(x), 2.0 ** 3 * before)


def test_seeded_creation_is_reproducible():
    a, b, c = (models.create("cnn", 10, 1, 28, seed=s) for s in (1, 1, 2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_cnn_draws_its_first_convolution_first_from_the_seed():
    # The seeded weights of every cached and published cnn depend on the order in which
    # its layers are created: the first convolution takes the first draws of the seed.
    for hidden in (128, 0):
        torch.manual_seed(7)
        first = nn.Conv2d(1, 16, 3, padding=1)
        model = models.create("cnn", 10, 1, 28, seed=7, hidden=hidden)
        assert torch.equal(model[0].weight, first.weight)


def test_cnn_with_hidden_zero_has_two_convolutions_and_one_linear_layer():
    model = models.create("cnn", 10, 1, 28, hidden=0)
    layers = [type(m).__name__ for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers == ["Conv2d", "Conv2d", "Linear"]
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ConfigError, match="hidden must be a non-negative integer"):
        models.create("cnn", 10, 1, 28, hidden=-1)


def test_unknown_names_and_options_fail_with_the_accepted_ones():
    with pytest.raises(ConfigError, match="unknown model 'resnet19'; accepted: cnn, mlp, resnet18"):
        models.create("resnet19", 10, 3, 32)
    with pytest.raises(ConfigError, match="no option depth; accepted: width, hidden"):
        models.create("cnn", 10, 1, 28, depth=3)
    with pytest.raises(ConfigError, match="num_classes must be a positive integer"):
        models.create("cnn", 0, 1, 28)
    with pytest.raises(ConfigError, match="divisible by 32"):
        models.create("swinv2_tiny", 10, 3, 28)


def test_retraining_a_pretrained_model_restarts_from_its_pretrained_weights(monkeypatch):
    # A stand-in for a pretrained network: its body is a constant "downloaded" weight when
    # pretrained, its head random. Retraining from scratch starts where training started:
    # the pretrained body again, a head drawn from the retrain seed; a pruning mask stays.
    from mu_core.unlearn.pruning import hold_masks

    def build(num_classes, in_channels, image_size, pretrained=False):
        body = nn.Linear(in_channels * image_size * image_size, 6)
        if pretrained:
            nn.init.constant_(body.weight, 0.5)
        return nn.Sequential(nn.Flatten(), body, nn.Linear(6, num_classes))

    monkeypatch.setitem(models.MODELS, "toy", build)
    model = models.create("toy", 3, 1, 2, seed=0, pretrained=True)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # training moves every weight
    models.restart(model, seed=7)
    assert torch.all(model[1].weight == 0.5)
    assert not torch.equal(model[2].weight, start["2.weight"])  # a head from seed 7
    assert torch.equal(model[2].weight, models.create("toy", 3, 1, 2, seed=7,
                                                      pretrained=True)[2].weight)
    hold_masks(model, {"1.weight": torch.tensor([[1.0, 0, 1, 0]] * 6)})
    model[1].parametrizations.weight.original.data.add_(1.0)
    models.restart(model, seed=7)
    assert torch.equal(model[1].weight, torch.tensor([[0.5, 0, 0.5, 0]] * 6))
    plain = models.create("toy", 3, 1, 2, seed=0)  # not pretrained: fresh weights
    assert not hasattr(plain, "starting_point")
