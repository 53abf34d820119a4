"""UnlearnGuard: max-margin training, Algorithm 2's losses and projection, the protocol's
truth table, the baselines, and bad input."""

import pytest
import torch
import torch.nn.functional as F

from mu_core.studies import unlearnguard as study
from mu_core.attacks import backdoor
from mu_core.attacks.inversion import class_representatives
from mu_core.attacks.reconstruct import (ReconstructionConfig, SurrogateReLU, reconstruct,
                                         stationarity_loss)
from mu_core.errors import ConfigError
from mu_core.maxmargin import (MarginRecipe, homogeneous_mlp, margin_loss, margins, predictions,
                               prune_randomly, train_to_margin)
from mu_core.verify import (EXECUTED, NOT_EXECUTED, NOT_VERIFIABLE, VerificationReport,
                            drop_threshold, paired_reading, unlearned_by_drop, verdict)


def toy_problem(outputs=2, hidden=(64,), steps=1500):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(8, 1, 3, 3, generator=generator)
    labels = torch.arange(8) % max(outputs, 2)
    model = homogeneous_mlp(images.mean(0), outputs, hidden, init_scale=1e-2, seed=0)
    history = train_to_margin(model, images, labels, MarginRecipe(steps=steps, lr=0.5))
    return model, images, labels, history


def test_margin_loss_is_cross_entropy_and_stays_positive_at_large_margins():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.3, -0.2]])
    labels = torch.tensor([0, 2])
    assert torch.allclose(margin_loss(logits, labels), F.cross_entropy(logits, labels))
    far = torch.tensor([[60.0, 0.0, 0.0]])
    assert F.cross_entropy(far, torch.tensor([0])).item() == 0.0  # float32 rounds it away
    expected = 2 * torch.exp(torch.tensor(-60.0)).item()
    assert margin_loss(far, torch.tensor([0])).item() == pytest.approx(expected, rel=1e-4)


def test_margins_worked_example():
    logits = torch.tensor([[3.0, 1.0, 2.5], [0.0, 4.0, 1.0]])
    assert margins(logits, torch.tensor([0, 2])).tolist() == pytest.approx([0.5, -3.0])
    assert margins(torch.tensor([[2.0], [2.0]]), torch.tensor([1, 0])).tolist() == [2.0, -2.0]


def test_training_to_margin_separates_the_training_set_with_a_growing_margin():
    model, images, labels, history = toy_problem()
    assert history[-1] < 1e-3 < history[0]
    assert (predictions(model, images) == labels).all()
    assert margins(model(images), labels).min() > 3


def test_stationarity_vanishes_at_a_constructed_kkt_point():
    # A linear (one-layer, homogeneous) binary model: theta = (1/m) sum lambda_i y_i x_i is
    # a stationary point, whatever the multipliers.
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(5, 1, 2, 2, generator=generator)
    labels = torch.tensor([1, 0, 1, 1, 0])
    lambdas = torch.rand(5, 1, generator=generator) + 0.1
    model = homogeneous_mlp(torch.zeros(1, 2, 2), 1, hidden=())
    signs = (2 * labels.float() - 1).view(-1, 1)
    with torch.no_grad():
        model[1][1].weight.copy_((lambdas * signs * x.flatten(1)).mean(0, keepdim=True))
    assert stationarity_loss(model, x, labels, lambdas).item() < 1e-12
    assert stationarity_loss(model, x + 0.1, labels, lambdas).item() > 1e-4


def test_batched_stationarity_equals_the_per_candidate_loop():
    from mu_core.bench import _stationarity_by_loop

    generator = torch.Generator().manual_seed(2)
    model = homogeneous_mlp(torch.full((1, 3, 3), 0.5), 3, hidden=(16,), init_scale=0.3)
    x = torch.rand(6, 1, 3, 3, generator=generator).requires_grad_()
    labels, lambdas = torch.tensor([0, 1, 2, 0, 1, 2]), torch.rand(6, 1, generator=generator)
    batched = stationarity_loss(model, x, labels, lambdas, pairs="max")
    (batched_grad,) = torch.autograd.grad(batched, x)
    looped = _stationarity_by_loop(model, x, labels, lambdas)
    (looped_grad,) = torch.autograd.grad(looped, x)
    assert batched.item() == pytest.approx(looped.item(), rel=1e-5)
    assert torch.allclose(batched_grad, looped_grad, rtol=1e-4, atol=1e-7)
    assert batched_grad.abs().max() > 0


def test_surrogate_relu_forward_is_relu_and_backward_is_sigmoid():
    x = torch.tensor([-1.0, -0.01, 0.02, 2.0], requires_grad=True)
    out = SurrogateReLU(40.0)(x)
    assert out.tolist() == F.relu(x).tolist()
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    assert torch.allclose(grad, torch.sigmoid(40 * x))
    (second,) = torch.autograd.grad(grad.sum(), x)  # differentiable: double backprop works
    assert (second[1:3] > 1).all()  # d/dx sigmoid(40 x) near 0


def test_reconstruction_lowers_the_kkt_loss_and_phase2_stays_in_its_eps_box():
    model, *_ = toy_problem(outputs=2)
    config = ReconstructionConfig(candidates_per_class=4, steps=150, prior_steps=40, lr=0.01,
                                  lambda_lr=0.01, eps=0.05, init_scale=0.1)
    result = reconstruct(model, config)
    assert result.losses["stationary"][-1] < 0.5 * result.losses["stationary"][0]
    assert (result.phase2 - result.phase1).abs().max() <= 0.05 + 1e-6
    assert result.phase2.min() >= 0 and result.phase2.max() <= 1
    assert len(result.losses["prior"]) == 40


def test_a_diverging_reconstruction_backs_off_and_an_unstable_one_fails_with_a_reason():
    model, *_ = toy_problem(outputs=2)
    with pytest.warns(UserWarning, match="diverges"):
        result = reconstruct(model, ReconstructionConfig(candidates_per_class=4, steps=200,
                                                         prior_steps=0, lambda_lr=1e3))
    assert result.halvings and torch.isfinite(result.phase1).all()
    assert result.losses["stationary"][-1] < 0.1 * result.losses["stationary"][0]
    with pytest.warns(UserWarning), pytest.raises(FloatingPointError, match="10 halvings"):
        reconstruct(model, ReconstructionConfig(candidates_per_class=4, steps=200,
                                                prior_steps=0, lambda_lr=1e5))


def test_phase1_recovers_the_training_points_of_a_tiny_two_layer_network():
    # 4 points in 25 dimensions: the first layer's rows must lie in their span, so the
    # stationarity condition pins the candidates near the points
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(4, 1, 5, 5, generator=generator)
    labels = torch.tensor([0, 1, 0, 1])
    model = homogeneous_mlp(images.mean(0), 1, (200,), init_scale=1e-3, seed=0)
    train_to_margin(model, images, labels, MarginRecipe(steps=3000, lr=0.5, max_boost=10))
    config = ReconstructionConfig(candidates_per_class=4, steps=3000, prior_steps=0, lr=0.01,
                                  lambda_lr=0.01, init_scale=0.1)
    result = reconstruct(model, config)
    assert result.losses["stationary"][-1] < 0.01 * result.losses["stationary"][0]
    distance = torch.cdist(images.flatten(1), result.phase1.flatten(1)).min(1).values
    unrelated = torch.rand(8, 1, 5, 5, generator=generator)
    chance = torch.cdist(images.flatten(1), unrelated.flatten(1)).min(1).values
    assert chance.min() > 1.2  # random points in [0, 1]^25 are about 2 apart
    assert distance.max() < 0.7, distance  # measured 0.37-0.59


def test_verdict_follows_algorithm_1():
    assert verdict(True, False) == EXECUTED
    assert verdict(True, True) == NOT_EXECUTED
    assert verdict(False, False) == NOT_VERIFIABLE
    report = VerificationReport(torch.tensor([0.9, 0.9, 0.2]), torch.tensor([0.3, 0.8, 0.1]), 0.5)
    assert report.verdicts == [EXECUTED, NOT_EXECUTED, NOT_VERIFIABLE]
    assert report.counts() == {EXECUTED: 1, NOT_EXECUTED: 1, NOT_VERIFIABLE: 1}


def test_verify_unlearning_runs_algorithm_1_end_to_end():
    from mu_core.verify import verify_unlearning

    model, images, *_ = toy_problem(outputs=2, hidden=(32,), steps=300)
    config = ReconstructionConfig(candidates_per_class=2, steps=30, prior_steps=5, lr=0.01,
                                  lambda_lr=0.01)
    # the provider returns the trained model: the same candidates, the same SSIMs
    report = verify_unlearning(model, model, images[:3], tau=-1.0, config=config)
    assert torch.equal(report.ssim_before, report.ssim_after)
    assert report.counts() == {EXECUTED: 0, NOT_EXECUTED: 3, NOT_VERIFIABLE: 0}
    assert verify_unlearning(model, model, images[:3], tau=1.0, config=config).counts() \
        == {EXECUTED: 0, NOT_EXECUTED: 0, NOT_VERIFIABLE: 3}


def test_paired_drop_verification_worked_example():
    control_before = torch.tensor([0.5, 0.6, 0.7, 0.5, 0.6])
    control_after = torch.tensor([0.52, 0.55, 0.7, 0.45, 0.6])  # drops -0.02 .. 0.05
    threshold = drop_threshold(control_before, control_after, quantile=1.0)
    assert threshold == pytest.approx(0.05)
    flags = unlearned_by_drop(torch.tensor([0.6, 0.6, 0.6]), torch.tensor([0.4, 0.58, 0.7]),
                              threshold)
    assert flags.tolist() == [True, False, False]
    # the same as one request: three requested samples among the five controls
    before = torch.cat([control_before, torch.tensor([0.6, 0.6, 0.6])])
    after = torch.cat([control_after, torch.tensor([0.4, 0.58, 0.7])])
    requested = torch.arange(8) >= 5
    flags, threshold = paired_reading(before, after, requested, quantile=1.0)
    assert flags.tolist() == [True, False, False] and threshold == pytest.approx(0.05)
    # a provider that returns the same model: no drop anywhere, nothing marked unlearned
    assert not paired_reading(before, before, requested)[0].any()


def test_backdoor_trigger_and_asr_worked_example():
    images = torch.zeros(3, 1, 8, 8)
    stamped = backdoor.stamp_trigger(images, 2)
    assert stamped[0, 0, 5:7, 5:7].eq(1).all() and stamped.sum() == 3 * 4
    assert backdoor.stamp_trigger(images, 2, "top-left")[0, 0, 1:3, 1:3].eq(1).all()
    assert backdoor.attack_success_rate(torch.tensor([0, 0, 1, 0]), 0) == 0.75
    with pytest.raises(ConfigError, match="trigger_size"):
        backdoor.stamp_trigger(images, 8)


def test_pruning_zeroes_the_fraction_of_every_layer():
    model = homogeneous_mlp(torch.zeros(1, 4, 4), 3, (20, 10))
    pruned = prune_randomly(model, 0.2)
    for layer in [m for m in pruned.modules() if isinstance(m, torch.nn.Linear)]:
        assert (layer.weight == 0).float().mean().item() == pytest.approx(0.2, abs=0.01)
    assert all((p != 0).all() for p in model.parameters())  # the original is untouched


def test_model_inversion_representatives_are_classified_as_their_class():
    model, images, labels, _ = toy_problem(outputs=2)
    reps = class_representatives(model, images.mean(0), [0, 1], steps=300, lr=0.1)
    assert predictions(model, reps).tolist() == [0, 1]
    assert reps.min() >= 0 and reps.max() <= 1


def test_relabels_always_change_the_class():
    labels = torch.arange(10).repeat(5)
    relabelled = study.random_relabels(labels, 10, seed=0)
    assert (relabelled != labels).all() and relabelled.max() < 10


def test_provider_that_does_not_unlearn_is_caught_on_mnist5k(mnist):
    samples, _ = study.provider_splits(mnist, 3, 1, 3, seed=0)
    provider = study.provider(mnist, samples.train)
    model = study.train_model(provider.images, provider.labels, provider.images.mean(0), 10,
                              hidden=(200,), init_scale=1e-3,
                              recipe=MarginRecipe(steps=600), seed=0)
    forget = torch.isin(provider.indices, samples.forget)
    retrained = study.train_model(provider.images[~forget], provider.labels[~forget],
                                  provider.images.mean(0), 10, hidden=(200,), init_scale=1e-3,
                                  recipe=MarginRecipe(steps=600), seed=0)
    config = ReconstructionConfig(candidates_per_class=6, steps=300, prior_steps=50)
    from mu_core.verify import recovery_ssim

    trained_ssim = recovery_ssim(model, provider.images[forget], config)["phase2"]
    retrained_ssim = recovery_ssim(retrained, provider.images[forget], config)["phase2"]
    tau = trained_ssim.median().item()  # half the requested samples are verifiable
    skipped = VerificationReport(trained_ssim, trained_ssim, tau).counts()
    assert skipped[EXECUTED] == 0 and skipped[NOT_EXECUTED] >= 1
    honest = VerificationReport(trained_ssim, retrained_ssim, tau)
    assert retrained_ssim.mean() < trained_ssim.mean()
    assert honest.counts()[EXECUTED] >= 1


def test_bad_input_fails_before_any_work(mnist):
    with pytest.raises(ConfigError, match="pairs"):
        ReconstructionConfig(pairs="every")
    with pytest.raises(ConfigError, match="steps"):
        ReconstructionConfig(steps=0)
    with pytest.raises(ConfigError, match="forget_per_class"):
        study.provider_splits(mnist, 2, 2, 3, seed=0)
    with pytest.raises(ConfigError, match="unlearn_class"):
        study.provider_splits(mnist, 5, 1, 12, seed=0)
    with pytest.raises(ConfigError, match="differ"):
        study.check_class("keep_class", mnist, 3, 3)
    with pytest.raises(ConfigError, match="backdoor_fractions"):
        study.check_fractions([])
    with pytest.raises(ConfigError, match="homogeneous_mlp"):
        reconstruct(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2)))


def test_colour_images_run_through_the_whole_pipeline():
    # CIFAR-10 and SVHN (the paper preset's other datasets) cannot be downloaded here; the
    # same code path on 3 x 32 x 32 images: training, both phases, scoring, null, backdoor
    # and model inversion.
    from mu_core.verify import null_threshold, recovery_ssim

    generator = torch.Generator().manual_seed(3)
    images = torch.rand(6, 3, 32, 32, generator=generator)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    model = study.train_model(images, labels, images.mean(0), 3, hidden=(32,), init_scale=1e-2,
                              recipe=MarginRecipe(steps=200, lr=0.5), seed=0)
    assert (predictions(model, images) == labels).all()
    scores = recovery_ssim(model, images, ReconstructionConfig(candidates_per_class=2, steps=20,
                                                               prior_steps=5))
    assert scores["candidates"].shape == (6, 3, 32, 32)
    assert scores["phase2"].shape == (6,)
    assert ((scores["phase2"] > -1) & (scores["phase2"] <= 1)).all()
    tau, null = null_threshold(images, torch.rand(4, 3, 32, 32, generator=generator))
    assert null.shape == (6,) and -1 <= tau <= 1
    stamped = backdoor.stamp_trigger(images, 4, "top-left")
    assert (stamped[:, :, 1:5, 1:5] == 1).all() and torch.equal(stamped[:, :, 8:], images[:, :, 8:])
    assert class_representatives(model, images.mean(0), [0, 2], steps=5).shape == (2, 3, 32, 32)


def check_smoke_results(results, out):
    """The chapter's smoke-run results (tests/test_chapters.py runs it)."""
    r = results["results"]
    assert 0 < r["tau"] <= 1 and len(r["null"]) == 30  # smoke: 3 samples x 10 classes
    for subset in r["sample_level"].values():
        for when in ("before", "after"):
            assert set(subset[when]) == {"MIA", "Backdoor", "Accuracy", "Ours"}
            assert all(-1 <= v <= 1 for v in subset[when].values())
    # retraining without class 3 cannot classify it: the accuracy scheme must see that
    class_rows = r["class_level"]["unlearning class 3"]
    assert class_rows["before"]["Accuracy"] == 1.0 and class_rows["after"]["Accuracy"] == 0.0
    assert len(r["prior"]["phase1"]) == len(r["prior"]["phase2"]) == 30
    assert set(r["robustness"]) == {"trained", "pruned", "fine-tuned", "unlearned + fine-tuned"}
    # a provider that returns the trained model shows no drop: nothing is marked unlearned
    assert r["robustness"]["trained"]["paired: requested marked unlearned"] == 0
    skipped = r["providers"]["skips unlearning"]
    assert skipped["unlearning executed"] == 0 and skipped["paired: marked unlearned"] == 0
    assert len(r["paired"]["unlearned"]) == 10 and -1 <= r["paired"]["threshold"] <= 1
    assert len(r["claims"]) == 10
    assert {c["verdict"] for c in r["claims"]} <= {"held", "did not hold"}
    assert len(results["figures"]) == 11
