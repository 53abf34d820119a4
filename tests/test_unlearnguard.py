"""UnlearnGuard: max-margin training, Algorithm 2's losses and projection, the protocol's
truth table, the baselines, and bad input."""

import copy
import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mu_core.studies import unlearnguard as study
from mu_core.attacks import backdoor
from mu_core.attacks.inversion import class_representatives
from mu_core.attacks.reconstruct import (ReconstructionConfig, SurrogateReLU, centre_of,
                                         prior_loss, reconstruct, stationarity_loss)
from mu_core.chapter import jsonable
from mu_core.claims import HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE, VERDICTS, wilson
from mu_core.errors import ConfigError
from mu_core.maxmargin import (MarginRecipe, homogeneous_mlp, margin_loss, margins, predictions,
                               prune_randomly, train_to_margin)
from mu_core.verify import (EXECUTED, NOT_EXECUTED, NOT_VERIFIABLE, VerificationReport,
                            drop_threshold, paired_reading, unlearned_by_drop, verdict)

from conftest import equal_with_nan


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


@pytest.mark.parametrize("outputs,pairs", [(3, "max"), (3, "all"), (1, "max")])
def test_the_one_hidden_layer_closed_form_equals_the_double_back_propagation(outputs, pairs):
    # The expanded squared distances and Gram matrices against torch's double
    # back-propagation through the surrogate network: the loss and its gradients in the
    # candidates and the multipliers agree to float rounding.
    from mu_core.attacks.reconstruct import (_multiplier_mask, stationarity_loss_two_layer,
                                             with_surrogate_relu)

    generator = torch.Generator().manual_seed(3)
    model = with_surrogate_relu(homogeneous_mlp(torch.full((1, 4, 4), 0.4), outputs,
                                                hidden=(24,), init_scale=0.3), alpha=40.0)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]) % max(outputs, 2)
    x = torch.rand(8, 1, 4, 4, generator=generator).requires_grad_()
    mask = _multiplier_mask(labels, outputs, pairs)
    lambdas = torch.rand(mask.shape, generator=generator).requires_grad_()
    exact = stationarity_loss(model, x, labels, lambdas * mask, pairs)
    closed = stationarity_loss_two_layer(model, x, labels, lambdas * mask, pairs)
    assert closed.item() == pytest.approx(exact.item(), rel=1e-5)
    for a, b in zip(torch.autograd.grad(closed, [x, lambdas]),
                    torch.autograd.grad(exact, [x, lambdas])):
        assert b.abs().max() > 0
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6 * b.abs().max().item())


def test_only_a_one_hidden_layer_surrogate_network_takes_the_closed_form():
    from mu_core.attacks.reconstruct import one_hidden_layer, with_surrogate_relu

    mean = torch.full((1, 4, 4), 0.4)
    one = with_surrogate_relu(homogeneous_mlp(mean, 3, hidden=(8,)), alpha=40.0)
    assert [t.shape for t in one_hidden_layer(one)[:2]] == [(8, 16), (3, 8)]
    assert one_hidden_layer(one)[2] == 40.0
    assert one_hidden_layer(with_surrogate_relu(homogeneous_mlp(mean, 3, hidden=(8, 8)),
                                                alpha=40.0)) is None
    assert one_hidden_layer(homogeneous_mlp(mean, 3, hidden=(8,))) is None  # plain ReLU


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


def test_the_prior_free_control_runs_phase_2_from_phase_1_in_the_same_box():
    model, *_ = toy_problem(outputs=2)
    config = ReconstructionConfig(candidates_per_class=4, steps=150, prior_steps=40, lr=0.01,
                                  lambda_lr=0.01, eps=0.05, init_scale=0.1, alpha_prior=5.0)
    result = reconstruct(model, config, control=True)
    assert (result.control - result.phase1).abs().max() <= 0.05 + 1e-6
    assert not torch.equal(result.control, result.phase1)  # it moved, within the box
    assert not torch.allclose(result.control, result.phase2, atol=1e-4)  # the prior matters
    with torch.no_grad():  # ... and does its job: larger |logits| than the control's
        assert prior_loss(model, result.phase2) < prior_loss(model, result.control) - 0.1
    assert len(result.losses["stationary"]) == 190  # the control's steps are not logged
    # with the prior switched off, phase 2 is the control
    no_prior = reconstruct(model, ReconstructionConfig(**{**config.__dict__, "alpha_prior": 0}),
                           control=True)
    assert torch.allclose(no_prior.phase2, no_prior.control, atol=1e-6)
    assert torch.equal(no_prior.phase1, result.phase1)
    assert reconstruct(model, config).control is None


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
    # the provider returns the trained model; post-verification reconstructs it anew
    report = verify_unlearning(model, model, images[:3], tau=-1.0, config=config)
    assert not torch.equal(report.ssim_before, report.ssim_after)  # another seed
    assert report.counts() == {EXECUTED: 0, NOT_EXECUTED: 3, NOT_VERIFIABLE: 0}
    assert verify_unlearning(model, model, images[:3], tau=1.0, config=config).counts() \
        == {EXECUTED: 0, NOT_EXECUTED: 0, NOT_VERIFIABLE: 3}


def test_the_null_scores_unseen_samples_as_reconstructions_are_scored():
    from mu_core.verify import null_threshold

    sample = torch.linspace(0, 1, 144).view(1, 1, 12, 12)
    # an unseen image that is the sample at a third of its contrast: a reconstruction like
    # it would score 1 after min-max scaling, so the null must score it 1 as well
    faint = 0.3 + sample / 3
    tau, null = null_threshold(sample, faint, quantile=1.0)
    assert null.tolist() == pytest.approx([1.0], abs=1e-5) and tau == pytest.approx(1.0, abs=1e-5)


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
    # a provider that returns the same model, reconstructed anew: the controls move by
    # -0.02 .. 0.03, so requested drops of at most 0.03 are noise and one of 0.04 is not
    noise = torch.tensor([0.01, -0.02, 0.03, 0.0, 0.02])
    again = torch.cat([control_before - noise, torch.tensor([0.59, 0.62, 0.58])])
    flags, threshold = paired_reading(before, again, requested, quantile=1.0)
    assert threshold == pytest.approx(0.03) and not flags.any()
    again[7] = 0.56
    assert paired_reading(before, again, requested, quantile=1.0)[0].tolist() == \
        [False, False, True]


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
    # The provider that skips unlearning returns the trained model; the third party
    # reconstructs it anew (another seed), so "no drop" is measured, not built in.
    from dataclasses import replace

    from mu_core.verify import recovery_ssim

    samples, _ = study.provider_splits(mnist, 3, 1, 3, seed=0)
    provider = study.provider(mnist, samples.train)
    forget = torch.isin(provider.indices, samples.forget)
    budget = dict(hidden=(200,), init_scale=1e-3, recipe=MarginRecipe(steps=600), seed=0)
    model = study.train_model(provider.images, provider.labels, 10, **budget)
    retrained = study.train_model(provider.images[~forget], provider.labels[~forget], 10,
                                  **budget)
    config = ReconstructionConfig(candidates_per_class=6, steps=300, prior_steps=50)
    images = provider.images
    before = recovery_ssim(model, images, config)["phase2"]
    again = recovery_ssim(model, images, replace(config, seed=1))["phase2"]
    after = recovery_ssim(retrained, images, config)["phase2"]
    assert not torch.equal(before, again)  # an independent reconstruction
    tau = before[forget].median().item()  # half the requested samples are verifiable
    skipped = VerificationReport(before[forget], again[forget], tau).counts()
    honest = VerificationReport(before[forget], after[forget], tau).counts()
    # measured: skipped 1 executed / 4 not, honest 5 executed / 0 not
    assert skipped[EXECUTED] < honest[EXECUTED] and skipped[NOT_EXECUTED] > honest[NOT_EXECUTED]
    # the unchanged model's requested samples keep their SSIM (0.53 -> 0.51), the
    # retrained model's fall (-> 0.28)
    assert abs(again[forget].mean() - before[forget].mean()) < 0.1
    assert before[forget].mean() - after[forget].mean() > 0.15
    # the paired reading marks fewer requested samples on the unchanged model (3 vs 8)
    assert paired_reading(before, again, forget)[0].sum() < \
        paired_reading(before, after, forget)[0].sum()


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
    model = study.train_model(images, labels, 3, hidden=(32,), init_scale=1e-2,
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


# --- the study: settings, masks and the study's steps on hand-made inputs ------------------

SMOKE_IDS = ["mia_accuracy_unchanged", "backdoor_drops", "ssim_drops", "remaining_unchanged",
             "recovered_before", "unlearned_not_recovered", "unlearned_move_more", "class_level",
             "inversion_loses_class", "remaining_class_unchanged", "robustness", "backdoor_misses_relearning",
             "prior_helps", "verification_range",
             "backdoor_costs_accuracy", "beats_null", "relabel"]


def chapter_params(preset="smoke", **changes):
    from mu_core import book
    from conftest import ROOT

    chapter = book.find_chapter(ROOT, "04")
    defaults = book.notebook_parameters(book.read_notebook(chapter.source))
    return {**defaults, **book.chapter_parameters(ROOT, chapter, preset), **changes}


def test_settings_name_every_parameter_of_the_chapter():
    settings = study.Settings.from_params(chapter_params())
    assert settings.per_class == 3 and settings.hidden == [200]
    with pytest.raises(ConfigError, match="unknown: \\['width'\\]"):
        study.Settings.from_params(chapter_params(width=3))
    params = chapter_params()
    del params["eps"]
    with pytest.raises(ConfigError, match="missing: \\['eps'\\]"):
        study.Settings.from_params(params)


def test_setup_masks_the_two_requests_and_checks_before_any_training():
    guard = study.setup(chapter_params(), torch.device("cpu"))
    assert len(guard.labels) == 30 and int(guard.forget.sum()) == 10  # 1 of 3 per class
    assert torch.bincount(guard.provider.labels[guard.forget], minlength=10).tolist() == [1] * 10
    assert int(guard.class_forget.sum()) == 3
    assert (guard.provider.labels[guard.class_forget] == 3).all()
    assert (guard.provider.labels[guard.class_kept] == 9).all()
    assert len(guard.null) == 30 and -1 <= guard.tau <= 1
    assert guard.nonmembers[0].shape[0] == 200
    with pytest.raises(ConfigError, match="differ"):
        study.setup(chapter_params(keep_class=3), torch.device("cpu"))
    with pytest.raises(ConfigError, match="backdoor_fractions"):
        study.setup(chapter_params(backdoor_fractions=[0.5, 1.0]), torch.device("cpu"))


def test_every_model_is_centred_on_its_own_training_data_and_reconstructed_from_it():
    guard = study.setup(chapter_params(train_steps=1), torch.device("cpu"))
    models = study.train_models(guard)
    images = guard.provider.images.double()
    mean_of = lambda mask: images[mask].sum(0) / int(mask.sum())  # noqa: E731
    everything = torch.ones_like(guard.forget)
    for model, trained_on in ((models.trained, everything), (models.retrained, guard.retain),
                              (models.class_retrained, ~guard.class_forget)):
        centre = centre_of(model).mean_image.double()
        assert torch.allclose(centre, mean_of(trained_on), atol=1e-6)
    for model in (models.retrained, models.class_retrained):
        assert (centre_of(model).mean_image.double() - mean_of(everything)).abs().max() > 1e-2
    # the reconstruction starts at the model's own centre: with no room to move, it stays
    still = ReconstructionConfig(candidates_per_class=1, steps=1, prior_steps=0, lr=1e-12,
                                 lambda_lr=1e-12, init_scale=1e-7)
    start = reconstruct(models.retrained, still).phase1.double()
    assert (start - mean_of(guard.retain)).abs().max() < 1e-5
    assert (start - mean_of(everything)).abs().max() > 1e-2


def test_second_trigger_samples_are_remaining_samples_as_many_as_requested():
    requested = torch.tensor([True, False, False, True, False, False, False, False])
    second = study.second_trigger_samples(requested, seed=0)
    assert int(second.sum()) == 2 and not (second & requested).any()
    assert torch.equal(second, study.second_trigger_samples(requested, seed=0))
    everything_requested = torch.tensor([True, True])
    assert not study.second_trigger_samples(everything_requested, seed=0).any()


def test_random_share_takes_at_least_one_sample():
    assert int(study.random_share(50, 0.1, seed=0).sum()) == 5
    assert int(study.random_share(50, 0.001, seed=0).sum()) == 1
    assert int(study.random_share(30, 0.05, seed=0).sum()) == 2  # round(1.5) is 2
    assert torch.equal(study.random_share(30, 0.4, 1), study.random_share(30, 0.4, 1))


def budget_rows(*rows):
    return {f: {"backdoored samples": n, "ASR (unseen digits)": asr, "clean test accuracy": 0.9}
            for f, n, asr in rows}


def test_backdoor_verifications_use_the_smallest_effective_share():
    budget = budget_rows((0.02, 10, 0.3), (0.1, 50, 0.95), (0.2, 100, 0.99))
    assert study.smallest_effective_share(budget) == 0.1
    assert study.backdoor_verifications(budget, 500) == 10  # the paper's 10 of 500
    assert study.backdoor_verifications(budget_rows((0.1, 3, 0.9)), 30) == 10  # 0.9 counts
    never = budget_rows((0.1, 3, 0.5), (0.4, 12, float("nan")))
    assert study.smallest_effective_share(never) is None
    assert study.backdoor_verifications(never, 30) == 0
    above_tau = {"phase 1": 2, "phase 2": 4, "null": 3}
    assert "more than the largest share" in study.budget_summary(never, above_tau, 0)
    assert "a 10% share" in study.budget_summary(budget, above_tau, 10)
    # the count above tau stands beside the null's own count above it
    assert "the reconstruction puts **4** training samples above tau, and unseen digits put " \
        "**3** there" in study.budget_summary(budget, above_tau, 10)
    # the paper's numbers come from mu_core.papers, as Section V-D states them
    assert study.budget_summary(budget, above_tau, 10).endswith(
        "The paper: 255 above SSIM 0.15 against 10 backdoor verifications, called over 40 "
        "times more.")


def fake_study(null, tau=0.5, forget=None, quantile=1.0, levels=(0.3,)):
    from types import SimpleNamespace

    return SimpleNamespace(null=torch.tensor(null), tau=tau, forget=forget,
                           retain=None if forget is None else ~forget,
                           settings=SimpleNamespace(ssim_levels=list(levels),
                                                    null_quantile=quantile, dataset="mnist5k"))


def test_verifiable_counts_samples_strictly_above_each_level_and_tau():
    guard = fake_study([0.2, 0.4, 0.6], tau=0.5, levels=(0.3, 0.6))
    before = {"phase1": torch.tensor([0.1, 0.35, 0.55]), "phase2": torch.tensor([0.3, 0.6, 0.7])}
    counts = study.verifiable(guard, before)
    assert counts == {0.3: {"phase 1": 2, "phase 2": 2, "null": 2},
                      0.6: {"phase 1": 0, "phase 2": 1, "null": 0},
                      0.5: {"phase 1": 1, "phase 2": 2, "null": 1}}
    assert study.verifiable_table(counts).loc[0.5, "phase 2"] == 2


def test_verification_tables_and_providers_on_a_worked_example():
    forget = torch.tensor([True, True, False, False, False])
    guard = fake_study([0.1, 0.2, 0.3, 0.4, 0.5], tau=0.5, forget=forget)
    before = {"phase2": torch.tensor([0.9, 0.4, 0.8, 0.7, 0.6]),
              "unseen": torch.tensor([0.3, 0.5])}
    after = {"phase2": torch.tensor([0.2, 0.4, 0.75, 0.7, 0.7]),
             "unseen": torch.tensor([0.2, 0.2])}
    again = {"phase2": torch.tensor([0.85, 0.3, 0.8, 0.75, 0.6])}  # requested drops .05, .1
    checked = study.verification(guard, before, after, again)
    assert checked.table().loc["requested samples"].to_dict() == {
        EXECUTED: 1, NOT_EXECUTED: 0, NOT_VERIFIABLE: 1}
    assert checked.table().loc["remaining samples"].to_dict() == {
        EXECUTED: 0, NOT_EXECUTED: 3, NOT_VERIFIABLE: 0}
    # beside Eq. 1, each sample's own null as its tau: sample 1 (0.4 before, null 0.2) is
    # recovered and stays (0.4 after); sample 0 stays above its null 0.1 too
    assert checked.table().loc["requested, own null"].to_dict() == {
        EXECUTED: 0, NOT_EXECUTED: 2, NOT_VERIFIABLE: 0}
    assert checked.table().loc["remaining, own null"].to_dict() == {
        EXECUTED: 0, NOT_EXECUTED: 3, NOT_VERIFIABLE: 0}
    assert checked.paired.tolist() == [True, False]  # remaining drops at most 0.05
    assert checked.paired_threshold == pytest.approx(0.05)
    # unchanged model: the remaining samples drop at most 0 (quantile 1), so both
    # requested drops of 0.05 and 0.1 are false alarms
    assert checked.false_alarms.tolist() == [True, True]
    assert checked.false_alarm_rate == 1.0
    summary = study.paired_summary(guard, checked)
    assert "**1 of 2** requested" in summary and "marks **2 of 2** (false-alarm rate 1.00)" \
        in summary
    table = study.ssim_table(guard, before, after)
    assert table.loc["requested"].tolist() == pytest.approx([0.15, 0.65, 0.3])
    assert table.loc["remaining"].tolist() == pytest.approx([0.4, 0.7, 0.7166667])
    # the unseen digits' own best SSIM to each model's reconstruction (no null of theirs)
    assert table.loc[study.UNSEEN_ROW].tolist() == pytest.approx([math.nan, 0.4, 0.2],
                                                                   nan_ok=True)
    # the provider that skips unlearning is scored by the unchanged model's independent
    # reconstruction: Eq. 1 keeps sample 0 (0.85 > tau), the paired reading false-alarms
    rows = study.providers(guard, before, {"honest": after, "skips": again})
    assert rows["honest"] == {EXECUTED: 1, NOT_EXECUTED: 0, NOT_VERIFIABLE: 1,
                              "paired: marked unlearned": 1}
    assert rows["skips"] == {EXECUTED: 0, NOT_EXECUTED: 1, NOT_VERIFIABLE: 1,
                             "paired: marked unlearned": 2}


def test_prior_table_sets_phase_2_beside_its_prior_free_control():
    guard = fake_study([0.1, 0.2, 0.3], tau=0.5)
    before = {"phase1": torch.tensor([0.4, 0.6, 0.2]), "control": torch.tensor([0.5, 0.7, 0.6]),
              "phase2": torch.tensor([0.6, 0.4, 0.2])}
    table = study.prior_table(guard, before)
    assert table["above tau"].tolist() == [1, 2, 1]
    assert table["mean best SSIM"].tolist() == pytest.approx([0.4, 0.6, 0.4])
    assert table["mean nearest SSIM (Haim)"].isna().all()  # not computed: no number made up
    quality = {**before, "phase1_quality": torch.tensor([0.1, 0.2, 0.3]),
               "phase2_quality": torch.tensor([0.3, 0.3, 0.0])}
    nearest = study.prior_table(guard, quality)["mean nearest SSIM (Haim)"].tolist()
    assert nearest[0] == pytest.approx(0.2) and nearest[2] == pytest.approx(0.2)
    assert math.isnan(nearest[1])  # the control's quality was not computed here
    with_control = {**quality, "control_quality": torch.tensor([0.2, 0.2, 0.2])}
    assert study.prior_table(guard, with_control)["mean nearest SSIM (Haim)"].tolist()[1] == \
        pytest.approx(0.2)


class FirstPixelSaysClass3(torch.nn.Module):
    """Class 3 when an image's top-left pixel is above 0.5, class 0 otherwise."""

    def forward(self, images):
        logits = torch.zeros(len(images), 10)
        logits[:, 3] = images[:, 0, 0, 0] - 0.5
        return logits


def test_figure_13_scores_the_candidates_classified_as_the_unlearned_class():
    from types import SimpleNamespace

    generator = torch.Generator().manual_seed(4)
    first, second = torch.rand(2, 1, 12, 12, generator=generator)
    first[0, 0, 0], first[0, -1, -1], second[0, 0, 0], second[0, -1, -1] = 1, 0, 0, 1
    guard = SimpleNamespace(device=torch.device("cpu"), settings=SimpleNamespace(unlearn_class=3),
                            provider=SimpleNamespace(images=torch.stack([first, second])),
                            tau=0.5)
    noise = torch.rand(1, 12, 12, generator=generator)
    noise[0, 0, 0] = 1
    # the first training sample itself (class 3), the second at half contrast (class 0:
    # left out), noise (class 3)
    scores = {"candidates": torch.stack([first, 0.5 * second, noise])}
    ssim = study.class_candidates_ssim(guard, FirstPixelSaysClass3(), scores)
    assert len(ssim) == 2 and ssim[0].item() == pytest.approx(1.0, abs=1e-5)
    assert ssim[1] < 0.3  # noise resembles neither training sample
    none = {"candidates": scores["candidates"][1:2]}  # no candidate of class 3
    guard.candidate_tau = 0.4
    figure = study.relabel_figure(guard, FirstPixelSaysClass3(), {"some": scores, "none": none})
    assert len(figure.axes) == 1
    # the dashed line is the candidates' tau, not the null's (0.5 here)
    lines = [line.get_ydata()[0] for line in figure.axes[0].get_lines()
             if line.get_linestyle() == "--"]
    assert lines == [0.4]


def test_the_candidates_tau_is_calibrated_on_the_statistic_figure_13_plots():
    # unseen digits scored as candidates (their SSIM to their nearest training sample):
    # one a copy of a training sample (1.0), the others unrelated noise; quantiles 1 and 0
    # give the largest and the least of those scores
    from mu_core.verify import null_threshold

    generator = torch.Generator().manual_seed(5)
    training = torch.rand(3, 1, 12, 12, generator=generator)
    unseen = torch.cat([training[:1], torch.rand(3, 1, 12, 12, generator=generator)])
    nearest = study.nearest_training(unseen, training)[0]
    top = study.candidate_threshold(training, unseen, 1.0)
    assert top.estimate == pytest.approx(1.0, abs=1e-3) and top.n == "4 unseen digits"
    assert study.candidate_threshold(training, unseen, 0.0).estimate == pytest.approx(
        nearest.min().item())
    # the null's tau reads another statistic (each training sample's best SSIM over the
    # unseen digits): here its median is that of the two noise-matched training samples
    # and the copy, not of the four unseen digits' scores
    tau, _ = null_threshold(training, unseen, 0.5)
    assert tau != pytest.approx(study.candidate_threshold(training, unseen, 0.5).estimate,
                                abs=1e-3)


def test_the_quantiles_interval_is_read_from_the_binomial_ranks():
    values = torch.arange(1.0, 401.0).flip(0)  # 400 .. 1: the order is the ranks'
    found = study.quantile_interval(values, 0.95, "digits")
    # Binomial(400, 0.95): 2.5% and 97.5% points 371 and 388 (scipy), so the interval
    # runs from the 371st to the 389th smallest value; the estimate interpolates 380.05
    assert (found.low, found.high, found.n) == (371.0, 389.0, "400 digits")
    assert found.estimate == pytest.approx(380.05)
    # 10 values cannot bound a 95% quantile from above: the 10th is below it too often
    few = study.quantile_interval(torch.arange(1.0, 11.0), 0.95, "digits")
    assert few.high == math.inf and few.low == 8.0  # Binomial(10, 0.95)'s 2.5% point is 8


def test_the_candidates_tau_is_read_on_unseen_digits_of_the_unlearned_class():
    guard = study.setup(chapter_params(), torch.device("cpu"))
    s, unseen = guard.settings, guard.class_unseen
    assert (unseen.labels == s.unlearn_class).all()
    assert not torch.isin(unseen.indices, guard.provider.indices).any()  # never trained on
    # mnist5k: 500 digits a class, 3 of them in D, so the cap is reached
    assert len(unseen.labels) == study.CLASS_NULL_SIZE
    class_tau = study.candidate_threshold(guard.provider.images, unseen.images, s.null_quantile)
    assert guard.candidate_tau == class_tau.estimate and guard.candidate_null == class_tau
    # the old calibration, on the unseen digits of every class, gives another tau
    every_class = study.candidate_threshold(guard.provider.images, guard.unseen.images,
                                            s.null_quantile)
    assert abs(every_class.estimate - guard.candidate_tau) > 0.01
    assert f"{study.CLASS_NULL_SIZE} unseen digits of class {s.unlearn_class}" in \
        study.describe(guard)


def test_the_nulls_unseen_digits_are_stratified_and_the_mias_non_members_disjoint():
    # mnist5k stores its test split sorted by class: a prefix of it is all zeros. The null
    # takes candidates_per_class test digits of every class (seeded), the MIA's known
    # non-members come from the test digits the null left
    guard = study.setup(chapter_params(), torch.device("cpu"))
    per_class = guard.settings.candidates_per_class
    assert torch.bincount(guard.unseen.labels, minlength=10).tolist() == [per_class] * 10
    test = guard.data.test
    assert torch.isin(guard.unseen.indices, test).all()
    assert torch.isin(guard.known_nonmembers.indices, test).all()
    assert not torch.isin(guard.unseen.indices, guard.known_nonmembers.indices).any()
    assert len(guard.known_nonmembers.indices.unique()) == study.KNOWN_NONMEMBERS
    assert guard.nonmembers[1].unique().tolist() == list(range(10))
    assert len(guard.test_labels) == len(test)  # accuracy and ASR read the whole split
    assert f"against {10 * per_class} unseen test digits ({per_class} of each class)" in \
        study.describe(guard)
    # seeded: the same seed draws the same digits, another seed others
    again, other = (study.null_and_nonmembers(guard.data, per_class, study.KNOWN_NONMEMBERS, seed)
                    for seed in (guard.settings.seed, guard.settings.seed + 1))
    assert torch.equal(again[0], guard.unseen.indices)
    assert torch.equal(again[1], guard.known_nonmembers.indices)
    assert not torch.equal(other[0], again[0])


def test_the_null_is_stratified_on_a_hand_made_split_of_unequal_classes():
    from types import SimpleNamespace

    # 12 test digits sorted by class, 6 / 4 / 2 of classes 0 / 1 / 2 (dataset indices 20-31)
    labels = torch.zeros(40, dtype=torch.long)
    labels[20:32] = torch.tensor([0] * 6 + [1] * 4 + [2] * 2)
    data = SimpleNamespace(name="toy", test=torch.arange(20, 32), labels=labels, num_classes=3)
    for seed in range(5):
        null, known = study.null_and_nonmembers(data, 2, 5, seed)
        assert torch.bincount(labels[null], minlength=3).tolist() == [2, 2, 2]
        assert len(known) == 5 and not torch.isin(known, null).any()
        assert torch.isin(known, data.test).all()
    # the whole class 2 goes to the null, every other digit is free: 6 fit, 7 do not
    assert len(study.null_and_nonmembers(data, 2, 6, 0)[1]) == 6
    with pytest.raises(ConfigError, match="holds 12 .2 in its smallest class.: accepted is "
                                          "candidates_per_class at most 1"):
        study.null_and_nonmembers(data, 2, 7, 0)
    with pytest.raises(ConfigError, match="smallest class.*at most 2"):
        study.null_and_nonmembers(data, 3, 1, 0)  # class 2 has only 2 digits


def test_a_null_and_non_members_that_do_not_fit_the_test_split_fail_before_training():
    from mu_core.data import load

    digits = load("digits")  # 359 test digits, 35 in its smallest class
    assert len(digits.test) == 359
    with pytest.raises(ConfigError, match="mnist5k holds 1000 .100 in its smallest class.: "
                                          "accepted is candidates_per_class at most 80"):
        study.setup(chapter_params(candidates_per_class=81), torch.device("cpu"))
    expected = ("candidates_per_class 16 asks for 16 unseen test digits of each of 10 classes "
                "for the null (160) beside the MIA's 200 known non-members, 360 in all, but "
                "the test split of digits holds 359 (35 in its smallest class): accepted is "
                "candidates_per_class at most 15.")
    with pytest.raises(ConfigError) as raised:
        study.setup(chapter_params(dataset="digits", candidates_per_class=16),
                    torch.device("cpu"))
    assert str(raised.value) == expected
    # 10 per class (100) + 200 fit, and 15 (150 + 200 = 350); 16 (160 + 200 = 360) do not
    null, known = study.null_and_nonmembers(digits, 10, study.KNOWN_NONMEMBERS, 0)
    assert len(null) == 100 and len(known) == 200
    assert len(study.null_and_nonmembers(digits, 15, study.KNOWN_NONMEMBERS, 0)[1]) == 200


def test_the_unlearned_class_digits_are_drawn_outside_the_training_set():
    from mu_core.data import load

    data = load("mnist5k")
    everything = torch.cat([data.train, data.test])
    class_3 = everything[data.labels[everything] == 3]
    training = class_3[:7]
    drawn = study.unseen_of_class(data, training, 3, 10_000, seed=0)
    assert sorted(drawn.indices.tolist()) == sorted(class_3[7:].tolist())  # all the others
    few = study.unseen_of_class(data, training, 3, 20, seed=0)
    assert len(few.indices) == 20 and torch.isin(few.indices, class_3[7:]).all()
    assert not torch.equal(few.indices, study.unseen_of_class(data, training, 3, 20,
                                                              seed=1).indices)
    with pytest.raises(ConfigError, match="no digit of unlearn_class 3 outside the training"):
        study.unseen_of_class(data, class_3, 3, 10, seed=0)


def test_relabel_table_counts_candidates_above_the_candidates_tau():
    from types import SimpleNamespace

    generator = torch.Generator().manual_seed(4)
    first, noise = torch.rand(2, 1, 12, 12, generator=generator)
    for image in (first, noise):
        image[0, 0, 0] = 1  # class 3 for FirstPixelSaysClass3
    near = 0.8 * first + 0.2 * noise  # like the training sample, not equal to it
    guard = SimpleNamespace(device=torch.device("cpu"), tau=0.99, candidate_tau=0.5,
                            settings=SimpleNamespace(unlearn_class=3),
                            provider=SimpleNamespace(images=first[None]),
                            class_forget=torch.tensor([True]), images=first[None],
                            labels=torch.tensor([3]))
    candidates = torch.stack([first, near, noise])
    ssim = study.class_candidates_ssim(guard, FirstPixelSaysClass3(), {"candidates": candidates})
    assert ssim[1] > 0.5 > ssim[2] and ssim[1] < 0.99  # the near copy between the two taus
    row = study.relabel_table(guard, FirstPixelSaysClass3(), {"before": (
        FirstPixelSaysClass3(), {"candidates": candidates, "phase2": torch.tensor([0.2])})})
    # the copy and the near copy clear the candidates' tau; the null's tau kept only the copy
    assert row["before"]["above tau"] == 2
    assert row["before"]["tau (candidates' null)"] == 0.5


def test_reconstruction_figures_show_candidates_as_their_ssim_scores_them():
    from types import SimpleNamespace

    sample = torch.linspace(0, 1, 16).view(1, 1, 4, 4)
    guard = SimpleNamespace(provider=SimpleNamespace(images=sample))
    faint = 0.25 + 0.5 * sample  # a low-contrast reconstruction: min-max scaled, the sample
    scores = {"candidates": faint, "index": torch.tensor([0]), "phase2": torch.tensor([1.0])}
    figure = study.reconstruction_pairs(guard, torch.tensor([0]), ["sample"], {"r": scores})
    shown = figure.axes[1].images[0].get_array()
    assert torch.allclose(torch.as_tensor(shown.data).float(), sample[0, 0], atol=1e-6)
    assert figure.axes[1].get_title() == "r 1.00"


def test_scheme_table_has_a_column_per_subset_and_moment():
    values = {"a": {"before": {"MIA": 0.5, "Ours": 0.6}, "after": {"MIA": 0.4, "Ours": 0.2}},
              "b": {"before": {"MIA": 0.1, "Ours": 0.3}, "after": {"MIA": 0.1, "Ours": 0.3}}}
    table = study.scheme_table(values)
    assert list(table.columns) == [("a", "before"), ("a", "after"), ("b", "before"),
                                   ("b", "after")]
    assert table.loc["Ours", ("a", "after")] == 0.2


# --- the claim rules, on hand-made Results: every verdict each rule can give ----------------

N = 80  # samples: the first half requested, the second half remaining


def base_results(**changes):
    """A run where every claim holds: the reconstruction and the MIA see the training
    samples, retraining hides the requested samples and the unlearned class, pruning and
    fine-tuning break the backdoor but not the reconstruction."""
    requested = [i < N // 2 for i in range(N)]
    class_forget = [i % 4 == 0 for i in range(N)]
    class_kept = [i % 4 == 1 for i in range(N)]
    before = [0.8 + 0.01 * (i % 5) for i in range(N)]
    null = [0.5 + 0.01 * (i % 3) for i in range(N)]
    after = [0.4 + 0.01 * (i % 7) if r else b + 0.002 * (i % 3 - 1)
             for i, (r, b) in enumerate(zip(requested, before))]
    class_after = [0.4 + 0.01 * (i % 7) if c else b + 0.002 * (i % 3 - 1)
                   for i, (c, b) in enumerate(zip(class_forget, before))]
    same = [b + 0.003 * (i % 2) for i, b in enumerate(before)]
    rates = lambda **v: {"MIA": 1.0, "Accuracy": 1.0, "Backdoor": 1.0, **v}  # noqa: E731
    class_size = sum(class_forget)
    values = dict(
        tau=0.7, null=null, requested=requested, second=[not r for r in requested],
        class_forget=class_forget, class_kept=class_kept,
        ssim={"before": before, "after": after, "again": same, "class after": class_after,
              "pruned": same, "fine-tuned": same, "unlearned + fine-tuned": same,
              "phase1": [0.6] * N, "control": [b - 0.05 for b in before],
              "start": [0.4 + 0.01 * (i % 5) for i in range(N)],
              "before quality": [b - 0.1 for b in before],
              "control quality": [b - 0.15 for b in before]},
        sample_level={"unlearning samples": {"before": rates(), "after": rates(Backdoor=0.0)},
                      "remaining samples": {"before": rates(), "after": rates()}},
        class_level={"unlearning class 3": {"before": rates(),
                                            "after": rates(MIA=0.0, Accuracy=0.0)},
                     "remaining class 9": {"before": rates(), "after": rates()}},
        trials={"unlearning samples": rates(MIA=40, Accuracy=40, Backdoor=40),
                "remaining samples": rates(MIA=40, Accuracy=40, Backdoor=40),
                "unlearning class 3": rates(MIA=class_size, Accuracy=class_size),
                "remaining class 9": rates(MIA=class_size, Accuracy=class_size)},
        mia_signal={"requested": [40, 40], "unseen": [0, 40]},
        distances={"retrained": [5.0 + 0.1 * (i % 3) if r else 1.0 + 0.1 * (i % 3)
                                 for i, r in enumerate(requested)],
                   "unchanged (reconstructed again)": [1.0 + 0.1 * (i % 3) for i in range(N)]},
        inversion={"before": [0.9, 0.95, 0.92, 0.97, 0.9], "after": [0.1, 0.05, 0.2, 0.1, 0.1]},
        robustness={name: {"backdoor ASR (requested)": asr, "SSIM requested": 0.8}
                    for name, asr in (("trained", 1.0), ("pruned", 0.0), ("fine-tuned", 0.0),
                                      ("unlearned + fine-tuned", 0.0))},
        backdoor_cost={"clean accuracy": 0.9, "backdoored accuracy": 0.44, "test_size": 1000,
                       "training_size": 500},
        backdoor_verifications=10,
        relabel={"before": {"above tau": 2, "accuracy on the class": 1.0},
                 "after relabel fine-tuning": {"above tau": 30, "accuracy on the class": 0.0},
                 "after retraining": {"above tau": 0, "accuracy on the class": 0.0}},
        candidates=100, unlearn_class=3, keep_class=9,
        unseen_ssim={"before": [0.3 + 0.01 * (i % 4) for i in range(100)],
                     "start": [0.4 + 0.01 * (i % 5) for i in range(100)]})
    values.update(changes)
    return study.Results(**values)


def with_ssim(results, **models):
    """`results` with the per-sample SSIM of some models replaced."""
    return replace(results, ssim={**results.ssim, **models})


def with_rate(results, level, subset, when, **rates):
    table = copy.deepcopy(getattr(results, level))
    table[subset][when].update(rates)
    return replace(results, **{level: table})


def no_reconstruction_signal(results):
    """The trained model's reconstruction does not tell its training samples from unseen
    digits: the unseen digits' best SSIM to it are the training samples' own."""
    return replace(results, unseen_ssim={**results.unseen_ssim,
                                         "before": list(results.ssim["before"])})


def no_fidelity(results):
    """The trained model's reconstructions no closer to the training samples than unseen
    digits are (before = null), while they still single out the training samples."""
    return with_ssim(results, before=list(results.null))


def verdicts(rule, *results):
    return [rule(r).verdict for r in results]


def test_the_base_run_holds_every_claim_and_round_trips_through_json():
    results = base_results()
    assert {c.id: c.verdict for c in study.claims(results)} == dict.fromkeys(SMOKE_IDS, HELD)
    assert study.Results.from_json({**results.to_json(), "other": 1}) == results


def full_results():
    """`base_results` with the tables' fields of a run, NaN included: the mean SSIM of no
    candidate, an unbounded false-alarm rate, a null backdoor cost (no budget ran it)."""
    base = base_results(backdoor_cost={"clean accuracy": 0.9, "backdoored accuracy": None,
                                       "test_size": 1000})
    relabel = copy.deepcopy(base.relabel)
    relabel["after retraining"]["their mean SSIM to the nearest training sample"] = math.nan
    return replace(
        base, relabel=relabel, accuracy={"train": {"trained": 1.0}, "test": {"trained": 0.5}},
        verification={EXECUTED: {"requested samples": 3}},
        distance_table={"retrained": {"p (permutation)": math.nan}},
        ssim_table={"before": {"requested": 0.8, "remaining": 0.81}},
        paired={"threshold": 0.1, "unlearned": [True, False], "false_alarms": [],
                "false_alarm_rate": math.nan},
        providers={"skips unlearning": {"paired: marked unlearned": 0}},
        backdoor_budget={"0.1": {"backdoored samples": 3, "ASR (unseen digits)": 0.64}},
        verifiable={"0.3": {"phase 2": 30}, str(base.tau): {"phase 2": 12}},
        prior={"phase1": [0.6] * N, "phase2": [0.8] * N, "control": [0.7] * N,
               "distance": [1.5] * N})


def test_results_round_trip_through_json_nan_included():
    results = full_results()
    text = json.dumps(jsonable(results.to_json()), allow_nan=False)  # NaN written as null
    for read in (study.Results.from_json(results.to_json()),
                 study.Results.from_json(json.loads(text))):
        assert equal_with_nan(read.to_json(), results.to_json())
        assert read.backdoor_cost["backdoored accuracy"] is None  # null is a value there
        assert [c.verdict for c in study.claims(read)] == \
            [c.verdict for c in study.claims(results)]
        assert study.claims(read) == study.claims(results)
        assert read.budget() == {0.1: results.backdoor_budget["0.1"]}
        assert read.verifiable_counts()[results.tau] == {"phase 2": 12}
        assert read.boundary_distance().tolist() == [1.5] * N
        assert equal_with_nan(study.headline(read), study.headline(results))
        assert read.study is None and read.recovered is None  # not in the results file


def test_results_json_keeps_the_keys_the_chapters_readers_read():
    document = full_results().to_json()
    assert {"tau", "ssim", "accuracy", "verification", "distance_table", "ssim_table",
            "paired", "providers", "backdoor_budget", "verifiable", "prior"} <= set(document)
    assert not {"study", "models", "recovered", "checked"} & set(document)
    headline = study.headline(full_results())
    assert headline["ssim/before/requested"] == 0.8 and headline["tau"] == 0.7


def test_verified_count_removes_the_chance_share():
    # 30 of 40 beat their null: (0.75 - 0.5) / 0.5 = half of the 40 samples held
    interval = study.verified_count(30, 40)
    assert interval.estimate == pytest.approx(20.0)
    assert interval.low == pytest.approx(80 * (wilson(30, 40).low - 0.5))


def test_the_reconstructions_signal_is_a_membership_test_not_fidelity():
    # AUC of the training samples' best SSIM against the unseen digits': by hand, members
    # 0.5 and 0.6 against unseen 0.4, 0.55 and 0.7 win 3 of 6 pairs
    r = base_results()
    toy = replace(r, ssim={**r.ssim, "before": [0.5, 0.6]},
                  unseen_ssim={"before": [0.4, 0.55, 0.7]})
    assert study.membership_interval(toy).estimate == pytest.approx(0.5)
    assert study.reconstruction_signal(r) is None
    assert "AUC of their best SSIM +0.500 [" in study.reconstruction_signal(
        no_reconstruction_signal(r))
    assert "did not score unseen digits" in study.reconstruction_signal(
        replace(r, unseen_ssim=None))
    # the reconstruction's start, the model's centre (the mean of its training images),
    # favours members before any step: measured on mnist5k, AUC 0.64 [0.55, 0.74] (seed 0).
    # A reconstruction that singles them out no better than its start has no signal of its
    # own, though its AUC lies above one half
    favoured = replace(r, ssim={**r.ssim, "start": r.ssim["before"]},
                       unseen_ssim={**r.unseen_ssim, "start": r.unseen_ssim["before"]})
    assert study.membership_interval(favoured).low > 0.5
    assert "what its start, the model's centre image, gives: +1.000 [" in \
        study.reconstruction_signal(favoured)
    assert study.ssim_drop_claim(favoured).verdict == NOT_TESTABLE
    # reconstructions no closer to the training samples than unseen digits are (fidelity
    # fails: our control claim does not hold) still single them out from unseen digits:
    # the claims on what unlearning hid are tested (the old precondition read fidelity and
    # made them all not testable)
    blurred = no_fidelity(r)
    assert study.null_claim(blurred).verdict != HELD
    assert study.reconstruction_signal(blurred) is None
    for rule in (study.ssim_drop_claim, study.distance_claim, study.class_level_claim,
                 study.relearning_claim):
        assert rule(blurred).verdict != NOT_TESTABLE, rule.__name__


def test_mia_accuracy_claim():
    rule, r = study.mia_accuracy_claim, base_results()
    fell = with_rate(r, "sample_level", "unlearning samples", "after", MIA=0.2)  # 1.0 -> 0.2
    unclear = with_rate(r, "sample_level", "unlearning samples", "after", Accuracy=0.7)
    blind = replace(r, mia_signal={"requested": [20, 40], "unseen": [20, 40]})
    assert verdicts(rule, r, fell, unclear, blind) == [HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]
    assert rule(blind).here.startswith("INA fall not testable (the MIA has no signal on the "
                                       "trained model")
    # a part that cannot be tested does not save a part that did not hold
    blind_fell = with_rate(blind, "sample_level", "unlearning samples", "after", Accuracy=0.2)
    assert rule(blind_fell).verdict == NOT_HELD
    assert rule(r).here.startswith("INA fall +0.000 [")


def test_backdoor_claim():
    rule, r = study.backdoor_claim, base_results()
    kept = with_rate(r, "sample_level", "unlearning samples", "after", Backdoor=0.9)
    unclear = with_rate(r, "sample_level", "unlearning samples", "after", Backdoor=0.15)
    small = replace(r, trials={**r.trials, "unlearning samples": {"MIA": 10, "Accuracy": 10,
                                                                  "Backdoor": 10}})
    never = with_rate(r, "sample_level", "unlearning samples", "before", Backdoor=0.3)
    assert verdicts(rule, r, kept, unclear, small, never) == \
        [HELD, NOT_HELD, INCONCLUSIVE, INCONCLUSIVE, NOT_TESTABLE]  # 0 of 10: [0, 0.28]


def test_ssim_drop_claim():
    rule, r = study.ssim_drop_claim, base_results()
    requested = r.mask("requested")
    # every sample falls alike: the requested samples are not singled out
    everyone = with_ssim(r, after=[b - 0.4 for b in r.ssim["before"]])
    # the requested samples rise
    rise = with_ssim(r, after=[b + 0.05 if q else a for b, a, q in
                               zip(r.ssim["before"], r.ssim["after"], requested)])
    mixed = with_ssim(r, after=[b + (0.3 if i % 2 else -0.32) if q else b
                                for i, (b, q) in enumerate(zip(r.ssim["before"], requested))])
    assert verdicts(rule, r, rise, mixed, no_reconstruction_signal(r)) == \
        [HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]
    assert rule(everyone).verdict in (NOT_HELD, INCONCLUSIVE)  # a shift of all is no drop


def test_remaining_claim():
    rule, r = study.remaining_claim, base_results()
    fell = with_rate(r, "sample_level", "remaining samples", "after", Backdoor=0.0)
    unclear = with_rate(r, "sample_level", "remaining samples", "after", Accuracy=0.85)
    moved = with_ssim(r, after=[a - 0.3 if not q else a
                                for a, q in zip(r.ssim["after"], r.mask("requested"))])
    assert verdicts(rule, r, fell, moved, unclear, no_reconstruction_signal(r)) == \
        [HELD, NOT_HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]


def test_recovery_claim_reads_each_samples_own_null():
    rule, r = study.recovery_claim, base_results()
    lost_all = with_ssim(r, before=[n - 0.01 for n in r.null])
    half = with_ssim(r, before=[n + (0.01 if i % 2 else -0.01) for i, n in enumerate(r.null)])
    assert verdicts(rule, r, lost_all, half) == [HELD, NOT_HELD, INCONCLUSIVE]
    # no precondition: this claim is itself the signal on the requested samples
    assert "Eq. 1 with tau 0.700: 40 of 40" in rule(r).here


def test_verdicts_claim_compares_lost_rates():
    rule, r = study.verdicts_claim, base_results()
    requested = r.mask("requested")
    # the remaining samples are lost, the requested ones stay: the request is not seen
    swapped = with_ssim(r, after=[b if q else 0.3 for b, q in zip(r.ssim["before"], requested)])
    few = with_ssim(r, after=[0.3 if q and i < 3 else b for i, (b, q) in
                              enumerate(zip(r.ssim["before"], requested))])
    assert verdicts(rule, r, swapped, few, no_reconstruction_signal(r)) == \
        [HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]
    # every sample lost alike: no difference, and an interval that cannot exclude one
    assert rule(with_ssim(r, after=[0.3] * N)).verdict == INCONCLUSIVE
    assert study.lost(r, requested, "after") == (40, 40)


def test_distance_claim():
    rule, r = study.distance_claim, base_results()
    flat = replace(r, distances={**r.distances, "retrained": [1.0] * N})
    reversed_ = replace(r, distances={**r.distances,
                                      "retrained": [1.0 if q else 5.0 for q in r.requested]})
    noisy = replace(r, distances={**r.distances, "retrained": [
        (9.0 if i % 2 else 0.0) if q else 4.0 for i, q in enumerate(r.requested)]})
    assert verdicts(rule, r, reversed_, flat, noisy, no_reconstruction_signal(r)) == \
        [HELD, NOT_HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]
    assert "unchanged model: -0.002 [" in rule(r).here  # the noise floor, shown beside


def test_class_level_claim():
    rule, r = study.class_level_claim, base_results()
    subset = "unlearning class 3"
    kept = with_rate(with_rate(r, "class_level", subset, "before", MIA=0.0),
                     "class_level", subset, "after", MIA=1.0)  # the INA rises
    unclear = with_rate(r, "class_level", subset, "after", MIA=0.9)
    assert verdicts(rule, r, kept, unclear, no_reconstruction_signal(r)) == \
        [HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]
    ssim_kept = with_ssim(r, **{"class after": r.ssim["before"]})
    assert rule(ssim_kept).verdict == NOT_HELD  # the SSIM part must fall too


def test_inversion_claim():
    rule, r = study.inversion_claim, base_results()
    stays = replace(r, inversion={"before": r.inversion["before"], "after": [0.8, 0.9, 0.85]})
    unclear = replace(r, inversion={"before": r.inversion["before"],
                                    "after": [0.1, 0.9, 0.2, 0.8]})
    never = replace(r, inversion={"before": [0.1, 0.2, 0.15], "after": [0.1, 0.1, 0.2]})
    assert verdicts(rule, r, stays, unclear, never) == [HELD, NOT_HELD, INCONCLUSIVE, NOT_HELD]
    single = replace(r, inversion={"before": [0.99], "after": [0.01]})
    assert rule(single).verdict == INCONCLUSIVE  # one restart has no interval


def test_remaining_class_claim():
    rule, r = study.remaining_class_claim, base_results()
    fell = with_rate(r, "class_level", "remaining class 9", "after", Accuracy=0.0)
    unclear = with_rate(r, "class_level", "remaining class 9", "after", MIA=0.8)
    blind = replace(r, mia_signal={"requested": [40, 40], "unseen": [38, 40]})
    assert verdicts(rule, r, fell, unclear, blind) == [HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]


def robust(results, name, asr=None, ssim=None):
    rows = copy.deepcopy(results.robustness)
    if asr is not None:
        rows[name]["backdoor ASR (requested)"] = asr
    changed = replace(results, robustness=rows)
    return with_ssim(changed, **{name: ssim}) if ssim is not None else changed


def test_robustness_claim_needs_both_changes():
    rule, r = study.robustness_claim, base_results()
    pruned_keeps = robust(r, "pruned", asr=0.9)  # the backdoor survives pruning
    # the backdoor's ASR rises with fine-tuning (0.5 on the trained backdoored model)
    tuned_rises = robust(robust(r, "trained", asr=0.5), "fine-tuned", asr=1.0)
    pruned_loses = robust(r, "pruned", ssim=r.ssim["after"])  # reconstruction at retrained level
    unclear = robust(r, "pruned", asr=0.15)
    tuned_unclear = robust(r, "fine-tuned", asr=1.0)  # 40 of 40 both times: [-0.09, +0.09]
    never = with_rate(r, "sample_level", "unlearning samples", "before", Backdoor=0.2)
    assert verdicts(rule, r, pruned_keeps, tuned_rises, pruned_loses, unclear, tuned_unclear,
                    never) == [HELD, NOT_HELD, NOT_HELD, NOT_HELD, INCONCLUSIVE, INCONCLUSIVE,
                               NOT_TESTABLE]
    # Fig. 9b says only that fine-tuning lowers the backdoor ("also decreases"): a fall from
    # 1.0 to 0.6 holds (the old rule asked fine-tuning for a near-zero ASR: did not hold)
    lowered = robust(r, "fine-tuned", asr=0.6)
    assert rule(lowered).verdict == HELD
    assert "fine-tuned: ASR change -0.400 [" in rule(lowered).here
    # without a planted backdoor the reconstruction's parts still decide a failure
    assert rule(robust(never, "pruned", ssim=r.ssim["after"])).verdict == NOT_HELD
    assert "pruned: ASR not testable (the backdoor is not planted" in rule(never).here


def test_relearning_claim():
    rule, r = study.relearning_claim, base_results()
    model = "unlearned + fine-tuned"
    seen = robust(r, model, asr=1.0)  # the backdoor sees the relearning
    lost_ = robust(r, model, ssim=r.ssim["after"])
    unclear = robust(r, model, asr=0.15)
    assert verdicts(rule, r, seen, lost_, unclear, no_reconstruction_signal(r)) == \
        [HELD, NOT_HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]


def test_prior_claim_is_a_sign_test_on_the_recovery_quality():
    rule, r = study.prior_claim, base_results()
    quality = r.ssim["before quality"]
    worse = with_ssim(r, **{"control quality": [q + 0.05 for q in quality]})
    ties = with_ssim(r, **{"control quality": quality})
    split = with_ssim(r, **{"control quality": [q + (0.05 if i % 2 else -0.05)
                                                for i, q in enumerate(quality)]})
    unrecorded = replace(r, ssim={k: v for k, v in r.ssim.items() if "quality" not in k})
    assert verdicts(rule, r, worse, split, ties, unrecorded, no_reconstruction_signal(r)) == [
        HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE, NOT_TESTABLE, NOT_TESTABLE]
    # the prior raises every sample's quality, yet the reconstructions do not beat unseen
    # digits: nothing more is verifiable (the old rule: held)
    assert "the reconstruction does not single out the training samples from unseen" in \
        rule(no_reconstruction_signal(r)).here
    assert rule(r).here.startswith("share that gain +1.000 [")
    # the best SSIM gains on every sample while the nearest candidate's SSIM falls on
    # every one: the claim reads the quality (the old rule read the best SSIM: held)
    best_only = with_ssim(r, **{"control quality": [q + 0.05 for q in quality]})
    assert (np.asarray(best_only.ssim["before"]) > np.asarray(best_only.ssim["control"])).all()
    assert rule(best_only).verdict == NOT_HELD
    assert "the run did not record the recovery quality" in rule(unrecorded).here


def test_verification_range_claim():
    rule, r = study.verification_range_claim, base_results()
    few = replace(r, backdoor_verifications=100)  # more than 80 samples can ever verify
    near = with_ssim(r, before=[n + (0.01 if i % 8 else -0.01) for i, n in enumerate(r.null)])
    unclear = replace(near, backdoor_verifications=60)  # 70 of 80 beat: [~45, ~73] samples
    assert verdicts(rule, r, few, unclear) == [HELD, NOT_HELD, INCONCLUSIVE]
    assert "the paper: 255 vs. 10, 25.5 times" in rule(r).here


def test_backdoor_cost_claim():
    rule, r = study.backdoor_cost_claim, base_results()
    cost = lambda **v: replace(r, backdoor_cost={**r.backdoor_cost, **v})  # noqa: E731
    no_fall = cost(**{"clean accuracy": 0.46})
    far = cost(**{"backdoored accuracy": 0.2})
    unclear = cost(**{"backdoored accuracy": 0.52, "test_size": 100})
    missing = cost(**{"backdoored accuracy": None})
    assert verdicts(rule, r, no_fall, far, unclear, missing) == \
        [HELD, NOT_HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE]
    assert rule(missing).here == "backdoor_fractions has no 40% share"
    # the paper's 44% belongs to its 500 training samples: on 50 the level is not tested
    # (the old rule: did not hold on the level), the fall still is
    small = cost(**{"training_size": 50, "backdoored accuracy": 0.2})
    assert rule(small).verdict == NOT_TESTABLE
    assert "the training set holds 50 samples, the paper's 500" in rule(small).here
    assert rule(cost(**{"training_size": 50, "clean accuracy": 0.46})).verdict == NOT_HELD
    # a results file from before the size was recorded: the training set's size (80)
    unrecorded = replace(r, backdoor_cost={k: v for k, v in r.backdoor_cost.items()
                                           if k != "training_size"})
    assert "holds 80 samples" in rule(unrecorded).here


def test_null_claim():
    rule, r = study.null_claim, base_results()
    below = with_ssim(r, before=[n - 0.1 for n in r.null])
    mixed = with_ssim(r, before=[n + (0.1 if i % 2 else -0.1) for i, n in enumerate(r.null)])
    nothing = with_ssim(r, before=[float("nan")] * N)
    assert verdicts(rule, r, below, mixed, nothing) == [HELD, NOT_HELD, INCONCLUSIVE,
                                                       NOT_TESTABLE]


def test_relabel_claim_needs_more_than_two_to_three_of_sixteen():
    rule, r = study.relabel_claim, base_results()
    relabel = lambda before, after, accuracy=0.0: replace(r, relabel={  # noqa: E731
        **r.relabel, "before": {"above tau": before, "accuracy on the class": 1.0},
        "after relabel fine-tuning": {"above tau": after, "accuracy on the class": accuracy}})
    fewer = relabel(30, 2)
    two_to_three = replace(relabel(2, 3), candidates=16)  # the case
    kept_class = relabel(2, 30, accuracy=1.0)  # relabel fine-tuning did not unlearn
    assert verdicts(rule, r, fewer, two_to_three, kept_class, no_reconstruction_signal(r)) == \
        [HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE, NOT_TESTABLE]
    assert rule(kept_class).here.startswith("relabel fine-tuning did not forget")


def test_claims_are_one_argument_and_keep_the_chapter_order():
    ids = [c.id for c in study.claims(base_results())]
    assert ids == SMOKE_IDS and len(set(ids)) == len(ids)


def test_recovered_distance_worked_example():
    first = {"candidates": torch.tensor([[[[0.0, 0.0]]], [[[1.0, 1.0]]]]),
             "index": torch.tensor([0, 1, 1])}
    second = {"candidates": torch.tensor([[[[0.0, 0.0]]], [[[0.6, 0.0]]], [[[3.0, 4.0]]]]),
              "index": torch.tensor([2, 1, 0])}
    distances = study.recovered_distance(first, second)
    assert distances.tolist() == pytest.approx([5.0, (0.16 + 1) ** 0.5, 2 ** 0.5])


def test_permutation_p_worked_example():
    group = torch.tensor([True, True, True, False, False, False, False, False])
    apart = torch.tensor([5.0, 6.0, 7.0, 1.0, 2.0, 3.0, 4.0, 0.0])
    assert study.permutation_p(apart, group) == pytest.approx(1 / 56, abs=0.004)  # C(8, 3)
    assert study.permutation_p(-apart, group) == 1.0  # the observed split is the lowest
    assert study.permutation_p(torch.ones(8), group) == 1.0  # every split ties


def test_trials_count_each_subset_and_leave_the_backdoor_target_out_of_the_asr():
    from types import SimpleNamespace

    labels = torch.tensor([0, 1, 2, 3, 0, 3, 9, 9])
    guard = SimpleNamespace(
        settings=SimpleNamespace(unlearn_class=3, keep_class=9, backdoor_target=0),
        provider=SimpleNamespace(labels=labels),
        forget=torch.tensor([True, True, False, False, False, False, False, False]),
        class_forget=labels == 3, class_kept=labels == 9)
    models = SimpleNamespace(second=torch.tensor([False, False, True, False, True, False,
                                                  False, False]))
    counted = study.trials(guard, models)
    assert counted["unlearning samples"] == {"MIA": 2, "Accuracy": 2, "Backdoor": 1}
    assert counted["remaining samples"] == {"MIA": 2, "Accuracy": 2, "Backdoor": 1}
    assert counted["unlearning class 3"]["Accuracy"] == 2
    assert counted["remaining class 9"]["MIA"] == 2
    stub = SimpleNamespace(test_labels=torch.zeros(7), labels=torch.zeros(50))
    cost = study.backdoor_cost(stub, budget_rows((0.1, 5, 1.0), (0.4, 20, 1.0)), 0.8)
    assert cost == {"clean accuracy": 0.8, "test_size": 7, "training_size": 50,
                    "backdoored accuracy": 0.9}
    assert study.backdoor_cost(stub, budget_rows((0.1, 5, 1.0)), 0.8)[
        "backdoored accuracy"] is None


def test_reading_decides_with_intervals_not_bare_means():
    null = [0.5 + 0.01 * (i % 3) for i in range(20)]
    unseen = torch.tensor([0.3 + 0.01 * (i % 5) for i in range(30)])
    start = {"start": torch.full((20,), 0.4), "unseen_start": torch.full((30,), 0.4)}
    guard = fake_study(null, tau=0.6, forget=torch.tensor([True] * 10 + [False] * 10))
    report = VerificationReport(torch.ones(10), torch.zeros(10), 0.6)
    marked, quiet = torch.tensor([True] * 10), torch.tensor([False] * 10)
    checked = study.Verification(report, None, marked, 0.1, quiet)
    above = torch.tensor(null) + 0.2
    text = study.reading(guard, {"phase2": above, "unseen": unseen, **start}, checked)
    assert "the reconstructions beat unseen" in text and "20 of 20 training samples beat" in text
    assert "so it tells the change from the reconstruction's noise" in text
    assert "while 20 clear tau, which 0 of the null's own values clear too" in text
    # a mean above the null's that the interval cannot separate from it
    mixed = torch.tensor(null) + torch.tensor([0.3, -0.2] * 10)
    text = study.reading(guard, {"phase2": mixed, "unseen": unseen, **start}, checked)
    assert "cannot be told apart from unseen" in text
    text = study.reading(guard, {"phase2": torch.tensor(null) - 0.1, "unseen": unseen, **start}, checked)
    assert "do **not** beat" in text
    # no closer than unseen digits in similarity, yet a membership test: AUC 1
    assert "the reconstruction tells its training samples from those unseen digits" in text
    assert "AUC +1.000 [" in text and "its start alone (the model's centre image, the mean " \
        "of its training set) gives +0.500 [" in text
    text = study.reading(guard, {"phase2": unseen[:20], "unseen": unseen, **start}, checked)
    assert "cannot be shown to tell its training samples" in text
    text = study.reading(guard, {"phase2": unseen[:20] - 0.2, "unseen": unseen, **start}, checked)
    assert "does **not** tell its training samples" in text
    checked.false_alarms = torch.tensor([True] * 8 + [False] * 2)  # 10 marks vs 8 on no change
    text = study.reading(guard, {"phase2": above, "unseen": unseen, **start}, checked)
    assert "does not tell the change from the reconstruction's noise" in text


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
    # the null's 60 unseen digits (6 per class) scored against every model's reconstruction
    assert {len(v) for v in r["unseen_ssim"].values()} == {60}
    assert {"before", "after", "again", "class after", "pruned"} <= set(r["unseen_ssim"])
    # the prior claim's recovery quality, with and without the prior, is recorded
    assert len(r["ssim"]["before quality"]) == len(r["ssim"]["control quality"]) == 30
    assert set(r["robustness"]) == {"trained", "pruned", "fine-tuned", "unlearned + fine-tuned"}
    # the unchanged model is reconstructed independently: its paired marks are the false
    # alarms, measured, not zero by construction
    alarms = r["paired"]["false_alarms"]
    assert len(alarms) == 10 and r["paired"]["false_alarm_rate"] == pytest.approx(sum(alarms) / 10)
    assert r["providers"]["skips unlearning"]["paired: marked unlearned"] == sum(alarms)
    assert r["robustness"]["trained"]["paired: requested marked unlearned"] == sum(alarms)
    assert len(r["paired"]["unlearned"]) == 10 and -1 <= r["paired"]["threshold"] <= 1
    assert len(r["prior"]["control"]) == 30
    assert [c["id"] for c in r["claims"]] == SMOKE_IDS
    verdicts = {c["id"]: c["verdict"] for c in r["claims"]}
    assert set(verdicts.values()) <= set(VERDICTS)
    # every claim that is not testable names the precondition that failed, with its number
    for claim in r["claims"]:
        if claim["verdict"] == NOT_TESTABLE:
            assert claim["here"] and any(ch.isdigit() for ch in claim["here"])
    assert study.Results.from_json(r).requested == r["requested"]
    # the backdoored model is trained to a margin on the requested samples with their
    # trigger: it has learnt it (the claim's verdict after retraining is measured, not known)
    requested = r["sample_level"]["unlearning samples"]
    assert requested["before"]["Backdoor"] == 1.0
    assert set(r["distances"]) == {"retrained", "unchanged (reconstructed again)"}
    assert len(results["figures"]) == 12


def test_a_margin_model_is_built_on_the_device_of_its_mean_image():
    """On CUDA its weights were left on the CPU (found on an H100)."""
    model = homogeneous_mlp(torch.zeros(1, 4, 4, device="meta"), 3, hidden=(5,))
    assert {t.device.type for t in [*model.parameters(), *model.buffers()]} == {"meta"}


PAPER = Path(__file__).resolve().parents[2] / "shared" / "papers" / "unlearnguard.md"


def test_the_papers_counts_are_its_texts():
    """`papers.unlearnguard`'s numbers against the paper's Section V-D sentences."""
    from mu_core.papers.unlearnguard import BACKDOOR_COST, CLAIMS, RANGE_COUNTS

    if not PAPER.exists():
        pytest.skip(f"the paper's text is not at {PAPER}")
    text = " ".join(PAPER.read_text().split())
    counts = RANGE_COUNTS
    assert (f"approximately {counts['verified']} samples have an SSIM greater than "
            f"{counts['ssim_level']}") in text
    assert f"over {counts['claimed_factor']} times the number of verifications" in text
    assert f"it only supports {counts['backdoor_verifications']} times" in text
    clean = round(100 * (1 - BACKDOOR_COST["backdoored_share"]))
    accuracy = round(100 * BACKDOOR_COST["clean_accuracy"])
    assert re.search(rf"when only {clean}% training samples for original task training, the "
                     rf"performance of the trained model will decrease to only {accuracy}%",
                     text)
    assert "255 of 500" in CLAIMS["verification_range"] and "44%" in \
        CLAIMS["backdoor_costs_accuracy"]
    # the robustness rule's two readings of Fig. 9: near zero after pruning, lower after
    # fine-tuning
    assert "as evidenced by the near-zero" in text
    assert "the accuracy of the backdoor also decreases" in text
    assert "near 0 after pruning, lower after fine-tuning" in CLAIMS["robustness"]
    # the training-set size the 44% belongs to
    assert f"({BACKDOOR_COST['training_samples']} in total)" in text


def test_figure_12_shows_another_reconstruction_for_each_level():
    # levels 0.2 and 0.15 are both closest to 0.18: the second takes the next closest
    values = torch.tensor([0.18, 0.9, 0.12, 0.3])
    assert study.distinct_closest(values, [0.3, 0.2, 0.15]).tolist() == [3, 0, 2]
    assert study.distinct_closest(values[:2], [0.3, 0.2, 0.15]).tolist() == [0, 1]


def test_box_panels_count_each_box_and_draw_the_reference_line():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from mu_core import plots

    frame = pd.DataFrame({"model": ["a", "a", "b", "c"], "SSIM": [0.1, 0.2, 0.3, math.nan]})
    fig = plots.box_panels(frame, ["SSIM"], ["model"], counts=True, reference=(0.25, "tau"))
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["a\n(n=2)", "b\n(n=1)", "c\n(n=0)"]
    assert [line.get_ydata()[0] for line in fig.axes[0].lines
            if line.get_label() == "tau"] == [0.25]
    legend = fig.axes[0].get_legend()  # right of the axes, never over a box
    assert legend.get_bbox_to_anchor().x0 >= fig.axes[0].get_window_extent().x1


def test_figure_10_shows_the_reconstruction_the_robustness_table_reads(monkeypatch):
    # the table scores the unchanged model by its independent reconstruction ("trained" of
    # robustness: another seed); Figure 10's first row must show that one, not `before`
    shown = {}
    monkeypatch.setattr(study.experiment, "sample_columns", lambda s: (None, []))
    monkeypatch.setattr(study.experiment, "reconstruction_pairs",
                        lambda s, columns, captions, rows: shown.update(rows))
    scores = {name: {"name": name} for name in
              ("trained", "pruned", "fine-tuned", "unlearned + fine-tuned")}
    study.robustness_pairs_figure(None, scores)
    assert shown["trained"] is scores["trained"]
    assert shown["unl.+tuned"] is scores["unlearned + fine-tuned"]


def test_membership_ina_balances_its_sides_with_a_random_subset_not_the_first(monkeypatch):
    # D is stored sorted by class: the first 100 of 400 known members are classes 0-2 alone
    from mu_core.attacks.mia import metric

    seen = {}

    def record(member_probs, member_labels, *rest):
        seen["labels"] = member_labels
        return torch.zeros(len(rest[-1]), dtype=torch.bool)

    monkeypatch.setattr(metric, "membership_predictions", record)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 10))
    members = (torch.randn(400, 4), torch.arange(10).repeat_interleave(40))
    nonmembers = (torch.randn(100, 4), torch.arange(10).repeat(10))
    metric.membership_ina(model, members, nonmembers, (torch.randn(5, 4), torch.zeros(5)))
    assert len(seen["labels"]) == 100
    assert len(set(seen["labels"].tolist())) == 10


def test_every_reconstruction_after_the_request_is_the_post_verifications(monkeypatch):
    # Algorithm 1 reconstructs the returned model independently of the pre-verification
    # (verify.post_verification: seed + 1). The retrained, class-retrained, pruned and
    # fine-tuned models were reconstructed from the pre-verification's seed, so only the
    # unchanged model's check started elsewhere: its false alarms were not comparable
    from types import SimpleNamespace

    from mu_core.verify import post_verification

    seeds = {}

    def run_each(function, pieces, device):
        seeds.update({name: config.seed for _, _, config, name, _, _ in pieces})
        return [None] * len(pieces)

    monkeypatch.setattr(study.experiment.workers, "run_each", run_each)
    config = ReconstructionConfig(seed=7)
    assert post_verification(config) == replace(config, seed=8)
    guard = SimpleNamespace(provider=SimpleNamespace(images=torch.zeros(2, 1, 3, 3)),
                            unseen=SimpleNamespace(images=torch.ones(3, 1, 3, 3)),
                            device=torch.device("cpu"), config=config)
    models = SimpleNamespace(trained="M", retrained="M_u", class_retrained="M_c")
    requests = study.first_reconstructions(models)
    study.Study.recover_each(guard, requests)
    study.Study.recover_each(guard, {"pruned": {"model": "M_p"}})  # as `robustness` asks
    assert seeds == {"trained": 7, "retrained": 8, "trained, again (another seed)": 8,
                     "retrained (class)": 8, "pruned": 8}
    assert requests["trained"]["control"] and requests["trained, again (another seed)"][
        "model"] == "M"

