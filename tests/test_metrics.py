import math

import pytest
import torch

from mu_core import metrics, models
from mu_core.attacks import mia
from mu_core.splits import make_split
from mu_core.train import Recipe, fit, predict
from mu_core.unlearn import unlearn
from mu_core.zoo import trained_model


def test_mia_features_match_a_hand_computed_example():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1]])
    labels = torch.tensor([0, 1])  # a different label per row
    f = mia.mia_features(probs, labels)
    assert f["correctness"].tolist() == [1.0, 0.0]
    assert f["confidence"].tolist() == pytest.approx([0.7, 0.2])
    entropy = -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1))
    assert f["entropy"].tolist() == pytest.approx([entropy, entropy])
    # Mentr = -(1 - p_y) log p_y - sum_{i != y} p_i log(1 - p_i)
    first = -(0.3 * math.log(0.7)) - 0.2 * math.log(0.8) - 0.1 * math.log(0.9)
    second = -(0.8 * math.log(0.2)) - 0.7 * math.log(0.3) - 0.1 * math.log(0.9)
    assert f["modified_entropy"].tolist() == pytest.approx([first, second])  # 0.1622, 2.1409


def test_mia_efficacy_separates_members_from_non_members_of_an_overfitted_model(mnist):
    # 500 training digits fitted to zero loss: the forget set, still trained on, is
    # recognised as members; of unseen validation digits standing in for it, those the
    # model gets wrong or is unsure of are called non-members (the test accuracy is 88%).
    split = make_split(mnist, random_fraction=0.2, train_size=500, val_fraction=0.1, seed=0)
    model = models.create_for("mlp", mnist, hidden=(256,), seed=0)
    fit(model, mnist, split.train, Recipe(epochs=40, lr=0.05, batch_size=50, weight_decay=0))
    members = metrics.mia_efficacy(model, mnist, split)
    unseen = make_split(mnist, forget_indices=split.val[:100].tolist())  # never trained on
    as_target = type(split)(split.train, unseen.forget, split.retain, split.test, split.val,
                            "samples", (), {})
    non_members = metrics.mia_efficacy(model, mnist, as_target)
    assert members < 0.05 and non_members > members + 0.1  # measured: 0.00 vs. 0.18


def test_accuracy_by_class_covers_the_classes_present_in_order():
    predicted = torch.tensor([3, 3, 0, 7, 1, 7])
    labels = torch.tensor([7, 3, 3, 7, 1, 7])  # classes 1, 3, 7: 1 of 1, 1 of 2, 2 of 3
    assert metrics.accuracy_by_class(predicted, labels, 10) == pytest.approx(
        {1: 1.0, 3: 0.5, 7: 2 / 3})
    assert list(metrics.accuracy_by_class(predicted, labels, 10)) == [1, 3, 7]


def test_tow_and_average_disparity_worked_examples():
    assert metrics.tug_of_war({"forget": 0.9, "retain": 1.0, "test": 0.8},
                              {"forget": 0.7, "retain": 0.9, "test": 0.8}) == pytest.approx(0.72)
    # The adversarial-unlearning paper's CIFAR-10 random-forgetting FT row (dense) vs. retrain:
    ft = {"UA": 0.18, "MIA": 1.70, "RA": 99.92, "TA": 94.25}
    retrain = {"UA": 5.80, "MIA": 13.91, "RA": 100.00, "TA": 94.30}
    assert metrics.average_disparity(ft, retrain) == pytest.approx(4.49, abs=0.01)  # paper: 4.48


def test_recovery_metrics_worked_examples():
    assert metrics.recovery_improvement(0.6, 0.2) == pytest.approx(0.4)
    assert metrics.recovery_rate(0.6, 0.2) == pytest.approx(2.0)
    r = 0.8
    assert metrics.polygon_area([r] * 5) == pytest.approx(2.5 * r * r * math.sin(math.radians(72)))
    assert metrics.polygon_area([1, 1, 1, 1]) == pytest.approx(2.0)  # the unit-diagonal square
    # Doubling every radius quadruples the area: A_R = 3.
    assert metrics.area_recovery_rate([0.4] * 5, [0.2] * 5) == pytest.approx(3.0)


def test_ssim_is_one_for_identical_images_and_finds_the_nearest(mnist):
    images = mnist.images[mnist.train[:6]].float() / 255
    assert torch.allclose(metrics.ssim(images, images), torch.ones(6), atol=1e-5)
    noisy = (images + 0.1 * torch.randn_like(images)).clamp(0, 1)
    best, index = metrics.nearest_ssim(noisy, images)
    assert index.tolist() == list(range(6)) and (best > 0.3).all()
    digits8 = torch.rand(3, 1, 8, 8)
    assert metrics.ssim(digits8, digits8).tolist() == pytest.approx([1, 1, 1], abs=1e-5)


def test_ssim_window_fits_images_smaller_than_eleven_pixels():
    generator = torch.Generator().manual_seed(0)
    for size in (3, 5, 8):
        images = torch.rand(4, 1, size, size, generator=generator)
        assert metrics.ssim(images, images).tolist() == pytest.approx([1] * 4, abs=1e-5)
        scores = metrics.ssim(images, torch.rand(4, 1, size, size, generator=generator))
        assert (scores < 0.9).all()
    assert metrics.ssim_window(28) == (11, 1.5)
    assert metrics.ssim_window(8) == (7, pytest.approx(1.5 * 7 / 11))
    assert metrics.ssim_window(3) == (3, pytest.approx(1.5 * 3 / 11))
    assert metrics.ssim_window(1) == (1, pytest.approx(1.5 / 11))


def skimage_ssim(images, references, sigma=1.5):
    """scikit-image's SSIM of each pair (Wang et al.'s Gaussian-weighted form), the
    reference our ssim is held to."""
    from skimage.metrics import structural_similarity

    colour = {"channel_axis": 2} if images.shape[1] > 1 else {}
    return torch.tensor([structural_similarity(
        x.permute(1, 2, 0).squeeze(2).double().numpy(),
        y.permute(1, 2, 0).squeeze(2).double().numpy(), gaussian_weights=True, sigma=sigma,
        use_sample_covariance=False, data_range=1.0, **colour)
        for x, y in zip(images, references)])


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)], ids=["grey28", "colour32"])
def test_ssim_agrees_with_scikit_image(shape):
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(12, *shape, generator=generator)
    unrelated = torch.rand(12, *shape, generator=generator)
    similar = (images + 0.2 * torch.randn(12, *shape, generator=generator)).clamp(0, 1)
    for references in (unrelated, similar):
        ours, reference = metrics.ssim(images, references).double(), skimage_ssim(images, references)
        assert (ours - reference).abs().max() < 0.005, (ours, reference)
    # the two sets span the scale, so the agreement is not one of two near-constants
    assert skimage_ssim(images, unrelated).max() < 0.2 < 0.5 < skimage_ssim(images, similar).min()


def test_ssim_on_small_images_agrees_with_scikit_image_at_the_scaled_sigma():
    generator = torch.Generator().manual_seed(2)
    for size in (3, 5, 8):  # scikit-image sizes the window from sigma: 3, 5 and 7 taps
        images, references = (torch.rand(6, 1, size, size, generator=generator) for _ in "ab")
        reference = skimage_ssim(images, references, sigma=1.5 * (size - 1 + size % 2) / 11)
        assert (metrics.ssim(images, references).double() - reference).abs().max() < 0.005


def test_ssim_hand_checks():
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    assert metrics.ssim(images, images).tolist() == pytest.approx([1, 1, 1], abs=1e-6)
    # flat images a and b: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1), C1 = 0.01^2
    flat = metrics.ssim(torch.full((1, 1, 16, 16), 0.2), torch.full((1, 1, 16, 16), 0.6))
    assert flat.item() == pytest.approx((0.24 + 1e-4) / (0.4 + 1e-4), abs=1e-3)  # float32
    with pytest.raises(ValueError, match="same shape"):
        metrics.ssim(images, images[:, :, :27])


def test_relearn_time_is_zero_before_unlearning_and_positive_after(mnist):
    split = make_split(mnist, forget_classes=[3], forget_fraction=1.0)
    model, _ = trained_model(mnist, split, "cnn", Recipe(epochs=4))
    logits = predict(model, mnist, split.forget, output="logits")
    reference = torch.nn.functional.cross_entropy(logits, mnist.labels[split.forget]).item()
    assert metrics.relearn_time(model, mnist, split, reference) == 0


def test_relearn_time_counts_the_epochs_until_the_forget_loss_reaches_the_reference(
        mnist, monkeypatch):
    # A linear model at zero whose every relearning epoch raises the forgotten class's
    # logit by one: after k epochs the forget loss is log(1 + 9 e^-k), so the first epoch
    # at or under the loss of k = 3 is 3, and just under it 4; an unreachable loss gives
    # None after max_epochs.
    import math

    from mu_core import train

    split = make_split(mnist, forget_classes=[3], forget_fraction=1.0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))
    torch.nn.init.zeros_(model[1].weight)
    torch.nn.init.zeros_(model[1].bias)

    def one_epoch(net, *args, **kwargs):
        with torch.no_grad():
            net[1].bias[3] += 1.0
        return [0.0]

    monkeypatch.setattr(train, "fit", one_epoch)
    at_three = math.log(1 + 9 * math.exp(-3))
    assert metrics.relearn_time(model, mnist, split, at_three + 1e-5) == 3
    assert metrics.relearn_time(model, mnist, split, at_three - 1e-3) == 4
    assert metrics.relearn_time(model, mnist, split, 0.0, max_epochs=5) is None
    assert model[1].bias.abs().sum() == 0  # the model handed in is not modified


def test_unlearning_scores_of_retraining_forget_a_whole_class(mnist):
    split = make_split(mnist, forget_classes=[3], forget_fraction=1.0)
    model, _ = trained_model(mnist, split, "cnn", Recipe(epochs=4))
    scores = metrics.unlearning_scores(unlearn("retrain", model, mnist, split, epochs=4), mnist, split)
    assert scores["UA"] == 1.0 and scores["MIA"] > 0.9 and scores["RA"] > 0.95


def test_a_diverged_models_scores_are_nan_and_the_others_unchanged():
    labels = torch.tensor([0, 1, 0, 1])
    right = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    wrong_on_two = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    scores = metrics.scores_from_predictions((wrong_on_two, labels), (right, labels),
                                             (right, labels))
    assert (scores["UA"], scores["RA"], scores["TA"]) == (0.5, 1.0, 1.0)
    diverged = right.clone()
    diverged[2] = float("nan")
    with pytest.warns(RuntimeWarning, match="not finite"):
        nan_scores = metrics.scores_from_predictions((right, labels), (diverged, labels),
                                                     (right, labels))
    assert all(math.isnan(v) for v in nan_scores.values()) and len(nan_scores) == 4
