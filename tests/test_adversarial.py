"""Discriminative adversarial unlearning: the learned attacker's inputs, Barlow Twins, the
min-max steps, sparse models, the study's tables and claim rules, and the chapter."""

import dataclasses
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from mu_core import book, models
from mu_core.attacks.mia import (MIA_FEATURES, attacker_inputs, fit_attacker,
                                 learned_attack, membership_loss, new_attacker, paired_logits)
from mu_core.chapter import jsonable
from mu_core.claims import Interval
from mu_core.errors import ConfigError
from mu_core.metrics import average_disparity
from mu_core.papers.adversarial import TABLE1, TABLE2
from mu_core.regime import Leakage
from mu_core.splits import make_split
from mu_core.studies import adversarial as study
from mu_core.train import Recipe, fit
from mu_core.unlearn import METHODS, check_request, unlearn
from mu_core.unlearn.adversarial import attacker_step, barlow_twins_loss, defender_step
from mu_core.unlearn.pruning import held_masks, hold_masks, omp_masks, sparsity_of

from conftest import ROOT, equal_with_nan


# ---------------------------------------------------------------------------------------
# The attacker's inputs

def _linear(weight: torch.Tensor) -> nn.Module:
    model = nn.Sequential(nn.Flatten(), nn.Linear(weight.shape[1], weight.shape[0], bias=False))
    with torch.no_grad():
        model[1].weight.copy_(weight)
    return model


def test_sensitivity_is_zero_for_a_constant_model():
    model = _linear(torch.zeros(3, 4))
    x = torch.randn(5, 1, 2, 2)
    rows = attacker_inputs(model, x, torch.tensor([0, 1, 2, 0, 1]))
    assert torch.equal(rows[:, 3:6], torch.zeros(5, 3))
    assert torch.allclose(rows[:, :3], torch.full((5, 3), 1 / 3))
    assert torch.equal(rows[:, 6:], torch.eye(3)[[0, 1, 2, 0, 1]])


def test_sensitivity_matches_the_expected_slope_of_a_logistic_model():
    # Two classes with logits (a.x, 0): p = sigmoid(a.x). For small noise s u the change of
    # either probability is p (1 - p) |a.u| s, and E|a.u| = ||a|| sqrt(2 / pi).
    a = torch.tensor([0.5, -1.0, 2.0, 0.25])
    model = _linear(torch.stack([a, torch.zeros(4)]))
    x = torch.tensor([0.3, 0.1, -0.2, 0.4]).view(1, 1, 2, 2)
    p = torch.sigmoid(a @ x.flatten())
    rows = attacker_inputs(model, x, torch.tensor([0]), samples=20000, scale=1e-4,
                           generator=torch.Generator().manual_seed(0))
    expected = p * (1 - p) * a.norm() * math.sqrt(2 / math.pi)
    assert rows[0, 2].item() == pytest.approx(expected.item(), rel=0.03)
    assert rows[0, 3].item() == pytest.approx(expected.item(), rel=0.03)


def test_all_perturbations_go_through_the_model_in_one_batch():
    model = _linear(torch.randn(3, 4))
    sizes = []
    model.register_forward_hook(lambda _m, inputs, _o: sizes.append(len(inputs[0])))
    attacker_inputs(model, torch.randn(6, 1, 2, 2), torch.zeros(6, dtype=torch.long),
                    samples=10)
    assert sizes == [6, 60]


def test_the_attacker_reads_one_token_per_class():
    attacker = new_attacker(3, seed=0).eval()
    attacker.norm = nn.Identity()  # so the tokens show the raw inputs
    tokens = []
    attacker.embed.register_forward_hook(lambda _m, inputs, _o: tokens.append(inputs[0]))
    probs, sensitivity, onehot = [0.7, 0.2, 0.1], [5.0, 6.0, 7.0], [0.0, 1.0, 0.0]
    assert attacker(torch.tensor([probs + sensitivity + onehot])).shape == (1,)
    assert torch.equal(tokens[0][0], torch.tensor([[0.7, 5.0, 0.0], [0.2, 6.0, 1.0],
                                                   [0.1, 7.0, 0.0]]))
    layers = attacker.encoder.layers
    assert len(layers) == 3 and layers[0].self_attn.num_heads == 4


def test_the_learned_attacker_separates_a_planted_signal_and_not_noise():
    generator = torch.Generator().manual_seed(0)
    members = torch.randn(200, 30, generator=generator)
    members[:, 0] += 3.0  # the first class's probability is higher for members
    nonmembers = torch.randn(200, 30, generator=generator)
    attacker = fit_attacker(members[:100], nonmembers[:100], epochs=20, seed=0)
    with torch.no_grad():
        member_logits, nonmember_logits = paired_logits(attacker, members[100:], nonmembers[100:])
    accuracy = ((member_logits > 0).double().mean() + (nonmember_logits <= 0).double().mean()) / 2
    assert accuracy > 0.9


def test_learned_attack_refuses_bad_indices(mnist):
    model = models.create_for("cnn", mnist, seed=0)
    with pytest.raises(ConfigError, match="1-d int64"):
        learned_attack(model, mnist, [1, 2, 3], mnist.test[:10])
    with pytest.raises(ConfigError, match="at least 2"):
        learned_attack(model, mnist, mnist.train[:1], mnist.test[:10])
    with pytest.raises(ConfigError, match="train_fraction"):
        learned_attack(model, mnist, mnist.train[:10], mnist.test[:10], train_fraction=1.0)


# ---------------------------------------------------------------------------------------
# Barlow Twins (Eq. 2), worked by hand

_C1 = torch.tensor([1.0, 1.0, -1.0, -1.0])
_C2 = torch.tensor([1.0, -1.0, 1.0, -1.0])


def test_barlow_twins_is_zero_for_identical_decorrelated_standardised_features():
    features = torch.stack([_C1, _C2], 1)
    assert barlow_twins_loss(features, features.clone()).item() == pytest.approx(0, abs=1e-12)
    # a shift and a scale of each column change nothing (centred, then normalised)
    assert barlow_twins_loss(features * 3 + 2, features).item() == pytest.approx(0, abs=1e-12)


def test_barlow_twins_by_hand():
    twins = torch.stack([_C1, _C1], 1)  # both features identical: C = [[1, 1], [1, 1]]
    assert barlow_twins_loss(twins, twins, 5e-3).item() == pytest.approx(2 * 5e-3)
    # opposite features: C = -[[1, 1], [1, 1]]: diagonal (1 + 1)^2 twice, off-diagonal 1 twice
    assert barlow_twins_loss(twins, -twins, 5e-3).item() == pytest.approx(8 + 2 * 5e-3)


def test_barlow_twins_is_positive_for_unrelated_features():
    generator = torch.Generator().manual_seed(0)
    loss = barlow_twins_loss(torch.randn(64, 8, generator=generator),
                             torch.randn(64, 8, generator=generator))
    assert loss.item() > 1


# ---------------------------------------------------------------------------------------
# One min-max step (Algorithm 1, lines 7 and 8)

def _rows(model, data, batch):
    """Attacker inputs of the forget and validation batches (and the encoder's features),
    with the noise the steps below draw (a generator seeded 7, forget first)."""
    from mu_core.features import logits_and_features

    model.eval()
    generator = torch.Generator().manual_seed(7)
    rows, features = [], []
    for name in ("forget", "val"):
        x = data.inputs(batch[name])
        logits, encoded = logits_and_features(model, x)
        rows.append(attacker_inputs(model, x, data.targets(batch[name]), logits=logits,
                                    generator=generator))
        features.append(encoded)
    return rows, features


def _attacker_objective(model, attacker, data, batch):
    """L_A as the attacker's step sees it: in train mode, with the dropout of seed 3."""
    rows, _ = _rows(model, data, batch)
    attacker.train()
    torch.manual_seed(3)
    return -membership_loss(*paired_logits(attacker, *[r.detach() for r in rows])).item()


def _defender_objective(model, attacker, data, batch, *, alpha, beta):
    """L_D + alpha L_A + beta V_ss as the defender's step sees it (attacker in eval mode)."""
    rows, features = _rows(model, data, batch)
    attacker.eval()
    retain = torch.nn.functional.cross_entropy(model(data.inputs(batch["retain"])),
                                               data.targets(batch["retain"]))
    attack = -membership_loss(*paired_logits(attacker, *rows))
    return (retain + alpha * attack + beta * barlow_twins_loss(*features)).item()


def test_the_defenders_attack_term_by_hand():
    from mu_core.unlearn.adversarial import defender_attack_loss

    # A(forget) = sigmoid(0) = 1/2 and A(val) = sigmoid(log 3) = 3/4
    member, nonmember = torch.tensor([0.0]), torch.tensor([math.log(3)])
    # Eq. (1): the defender minimises L_A = log A(f) + log(1 - A(v)) = log 1/2 + log 1/4
    assert defender_attack_loss(member, nonmember, "minimax").item() == \
        pytest.approx(math.log(0.5) + math.log(0.25))
    # Section 3.3: it maximises log(1 - A(f)) + log A(v) = log 1/2 + log 3/4
    assert defender_attack_loss(member, nonmember, "non_saturating").item() == \
        pytest.approx(-(math.log(0.5) + math.log(0.75)))


def test_one_step_moves_the_attacker_up_and_the_defender_down(mnist):
    torch.manual_seed(0)
    model = models.create_for("mlp", mnist, seed=0, hidden=[32])  # no batch norm: one mode
    split = make_split(mnist, random_fraction=0.1, val_fraction=0.1, seed=0)
    fit(model, mnist, split.train[torch.randperm(len(split.train))[:500]], Recipe(epochs=2))
    batch = {"retain": split.retain[:64], "forget": split.forget[:32], "val": split.val[:32]}
    attacker = new_attacker(10, seed=0)
    before = _attacker_objective(model, attacker, mnist, batch)
    torch.manual_seed(3)  # the same dropout as in the objective
    attacker_step(model, attacker, torch.optim.SGD(attacker.parameters(), lr=1e-3), mnist,
                  batch, torch.Generator().manual_seed(7), samples=10, scale=1e-3)
    assert _attacker_objective(model, attacker, mnist, batch) > before  # ascent on L_A
    before = _defender_objective(model, attacker, mnist, batch, alpha=0.9, beta=0.001)
    defender_step(model, attacker, torch.optim.SGD(model.parameters(), lr=1e-3), mnist, batch,
                  torch.Generator().manual_seed(7), alpha=0.9, beta=0.001,
                  redundancy_weight=5e-3, game="minimax", samples=10, scale=1e-3)
    after = _defender_objective(model, attacker, mnist, batch, alpha=0.9, beta=0.001)
    assert after < before  # descent on L_D + alpha L_A + beta V_ss
    assert all(p.grad is None for p in attacker.parameters())  # the defender's loss stays out


def _batch_norm_net():
    """Linear, batch norm, ReLU, linear; running statistics unlike any batch's, so that the
    three ways of normalising give different outputs and gradients."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 8), nn.BatchNorm1d(8),
                          nn.ReLU(), nn.Linear(8, 10))
    with torch.no_grad():
        model[2].running_mean.fill_(0.5)
        model[2].running_var.fill_(2.0)
        model[2].weight.uniform_(0.5, 1.5)
        model[2].bias.uniform_(-0.5, 0.5)
    return model


class _ByHand(nn.Module):
    """The net of `_batch_norm_net` written out, batch norm normalising each input by
    `statistics(h)` (h: batch norm's input), on the same parameters."""

    def __init__(self, net, statistics):
        super().__init__()
        self.net, self.statistics = net, statistics

    def logits_and_features(self, x):
        h = self.net[1](x.flatten(1))
        mean, var = self.statistics(h)
        norm = self.net[2]
        features = torch.relu((h - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias)
        return self.net[4](features), features

    def forward(self, x):
        return self.logits_and_features(x)[0]


NOISE_SCALE = 0.05  # the sensitivity's step: larger than the game's, so that float rounding,
# divided by it, stays below the tolerance whichever kernel normalises


def _own(h):
    return h.mean(0), h.var(0, unbiased=False)


def _eq3_by_hand(model, data, batch, *, alpha, beta, batch_norm):
    """L_D + alpha L_A + beta V_ss with L_A written out from Eq. (1) (mean log A(forget) +
    mean log(1 - A(validation)), A the attacker's sigmoid) and batch norm as `batch_norm`
    says: the retain batch by its own statistics (by the running ones when deployed), D_f
    and D_v (and their noisy copies, one forward each) by their own batch's, the retain
    batch's or the running statistics."""
    norm = model[2]
    running = lambda h: (norm.running_mean, norm.running_var)  # noqa: E731
    retain_x = data.inputs(batch["retain"])
    retain_h = model[1](retain_x.flatten(1))
    retain_stats = _own(retain_h)
    of_retain = {"batch": _own, "retain": _own, "deployed": running}[batch_norm]
    of_others = {"batch": _own, "retain": lambda h: retain_stats, "deployed": running}[batch_norm]
    retain = torch.nn.functional.cross_entropy(_ByHand(model, of_retain)(retain_x),
                                               data.targets(batch["retain"]))
    hand = _ByHand(model, of_others)
    generator = torch.Generator().manual_seed(7)
    rows, features = [], []
    for name in ("forget", "val"):
        x = data.inputs(batch[name])
        logits, encoded = hand.logits_and_features(x)
        rows.append(attacker_inputs(hand, x, data.targets(batch[name]), logits=logits,
                                    samples=10, scale=NOISE_SCALE, generator=generator))
        features.append(encoded)
    attacker = new_attacker(10, seed=0).eval()
    member, nonmember = paired_logits(attacker, *rows)
    l_a = torch.log(torch.sigmoid(member)).mean() + torch.log(1 - torch.sigmoid(nonmember)).mean()
    return retain + alpha * l_a + beta * barlow_twins_loss(*features)


def _step_delta(model, data, batch, *, alpha, beta, batch_norm):
    """The change of every parameter in one defender step at SGD lr 1 (no momentum)."""
    before = [p.detach().clone() for p in model.parameters()]
    defender_step(model, new_attacker(10, seed=0), torch.optim.SGD(model.parameters(), lr=1.0),
                  data, batch, torch.Generator().manual_seed(7), alpha=alpha, beta=beta,
                  redundancy_weight=5e-3, game="minimax", samples=10, scale=NOISE_SCALE,
                  batch_norm=batch_norm)
    return torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)])


def _game_batch(mnist):
    split = make_split(mnist, random_fraction=0.1, val_fraction=0.1, seed=0)
    return {"retain": split.retain[:64], "forget": split.forget[:32], "val": split.val[:32]}


@pytest.mark.parametrize("batch_norm", ["batch", "retain", "deployed"])
@pytest.mark.parametrize("alpha, beta", [(10.0, 0.5), (10.0, 0.0), (0.0, 0.5)])
def test_the_defender_steps_down_the_gradient_of_eq3(mnist, batch_norm, alpha, beta):
    # One step at lr 1 moves the parameters by minus the gradient of Eq. (3) written out
    # here: a flipped attack term, a dropped V_ss or batch norm normalising by other
    # statistics than the mode's moves them elsewhere; the retain-only step below checks
    # that each term's share is large enough to be told apart.
    batch = _game_batch(mnist)
    model = _batch_norm_net()
    objective = _eq3_by_hand(model, mnist, batch, alpha=alpha, beta=beta, batch_norm=batch_norm)
    expected = -torch.cat([g.flatten() for g in torch.autograd.grad(
        objective, list(model.parameters()))])
    delta = _step_delta(_batch_norm_net(), mnist, batch, alpha=alpha, beta=beta,
                        batch_norm=batch_norm)
    assert torch.allclose(delta, expected, atol=1e-5, rtol=1e-4)
    retain_only = _step_delta(_batch_norm_net(), mnist, batch, alpha=0.0, beta=0.0,
                              batch_norm=batch_norm)
    assert (delta - retain_only).abs().max() > 1e-3


def test_the_ablation_without_vss_does_not_compute_it(mnist, monkeypatch):
    # Table 2 times the game without V_ss: with beta = 0 the step must not compute V_ss
    # (multiplied by zero it changes no weight, but it costs its run time and the claim
    # that V_ss costs run time would compare a game with itself)
    from mu_core.unlearn import adversarial as method

    calls = []
    original = method.barlow_twins_loss
    monkeypatch.setattr(method, "barlow_twins_loss",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    batch = _game_batch(mnist)
    record = defender_step(_batch_norm_net(), new_attacker(10, seed=0),
                           torch.optim.SGD(_batch_norm_net().parameters(), lr=1.0), mnist,
                           batch, torch.Generator().manual_seed(7), alpha=10.0, beta=0.0,
                           redundancy_weight=5e-3, game="minimax", samples=10,
                           scale=NOISE_SCALE)
    assert calls == [] and math.isnan(record["barlow_twins"])
    _step_delta(_batch_norm_net(), mnist, batch, alpha=10.0, beta=0.5, batch_norm="batch")
    assert calls == [1]


@pytest.mark.parametrize("beta", [0.5, 0.0])
def test_a_switched_off_attack_term_is_not_computed(mnist, monkeypatch, beta):
    # alpha is 0 after 30 iterations of whole-class forgetting: the attack term changes no
    # weight then, so neither the attacker nor its sensitivity passes may run (the step's
    # update itself is checked against Eq. 3 with alpha = 0 above)
    from mu_core.unlearn import adversarial as method

    calls = []
    for name in ("attacker_inputs", "defender_attack_loss"):
        original = getattr(method, name)
        monkeypatch.setattr(method, name, lambda *a, _o=original, _n=name, **k:
                            calls.append(_n) or _o(*a, **k))
    batch = _game_batch(mnist)
    off = _step_delta(_batch_norm_net(), mnist, batch, alpha=0.0, beta=beta, batch_norm="batch")
    assert calls == []
    _step_delta(_batch_norm_net(), mnist, batch, alpha=10.0, beta=beta, batch_norm="batch")
    assert set(calls) == {"attacker_inputs", "defender_attack_loss"}  # the spies see calls
    monkeypatch.undo()
    model = _batch_norm_net()
    objective = _eq3_by_hand(model, mnist, batch, alpha=0.0, beta=beta, batch_norm="batch")
    expected = -torch.cat([g.flatten() for g in torch.autograd.grad(
        objective, list(model.parameters()))])
    assert torch.allclose(off, expected, atol=1e-5, rtol=1e-4)


def test_the_three_batch_norm_modes_step_differently(mnist):
    # the modes are not one computation under three names
    batch = _game_batch(mnist)
    deltas = [_step_delta(_batch_norm_net(), mnist, batch, alpha=10.0, beta=0.5, batch_norm=m)
              for m in ("batch", "retain", "deployed")]
    for i in range(3):
        for j in range(i + 1, 3):
            assert (deltas[i] - deltas[j]).abs().max() > 1e-3


@pytest.mark.parametrize("batch_norm", ["batch", "retain", "deployed"])
def test_only_the_retain_batch_moves_the_running_statistics(mnist, batch_norm):
    # In a training step the running mean becomes 0.9 old + 0.1 (the mean over the retain
    # batch of batch norm's input), worked out from the weights before the step: the
    # forget and validation passes (and their noisy copies) leave it alone. On the deployed
    # model nothing moves it.
    batch = _game_batch(mnist)
    model = _batch_norm_net()
    with torch.no_grad():
        inputs = mnist.inputs(batch["retain"]).flatten(1)
        retain_mean = (inputs @ model[1].weight.T + model[1].bias).mean(0)
    expected = 0.5 if batch_norm == "deployed" else 0.9 * 0.5 + 0.1 * retain_mean
    _step_delta(model, mnist, batch, alpha=0.9, beta=0.001, batch_norm=batch_norm)
    assert torch.allclose(model[2].running_mean, torch.as_tensor(expected).expand(8),
                          atol=1e-5)


def test_an_unknown_batch_norm_mode_is_refused_before_training(mnist):
    split = make_split(mnist, random_fraction=0.1, val_fraction=0.1, seed=0)
    with pytest.raises(ConfigError, match="batch_norm"):
        check_request("adversarial", split, {"batch_norm": "frozen"})


# ---------------------------------------------------------------------------------------
# Sparse models

def test_omp_prunes_exactly_the_share_asked_for_and_the_zeros_stay(mnist):
    model = models.create_for("cnn", mnist, seed=0)
    masks = omp_masks(model, 0.95, layers="conv")
    assert set(masks) == {"0.weight", "4.weight"}  # convolutions only (the reference OMP)
    total = sum(m.numel() for m in masks.values())
    assert sum(int((m == 0).sum()) for m in masks.values()) == round(0.95 * total)
    kept = torch.cat([w.detach().abs().flatten()[m.flatten() == 1] for w, m in
                      zip((model[0].weight, model[4].weight), masks.values())])
    cut = torch.cat([w.detach().abs().flatten()[m.flatten() == 0] for w, m in
                     zip((model[0].weight, model[4].weight), masks.values())])
    assert kept.min() >= cut.max()  # the largest magnitudes survive
    hold_masks(model, masks)
    split = make_split(mnist, random_fraction=0.05, val_fraction=0.1, train_size=600, seed=0)
    for method, settings in (("ft", {"epochs": 1}), ("retrain", {"epochs": 1}),
                             ("adversarial", {"iterations": 3, "pretrain_iterations": 2,
                                              "batch_size": 8})):
        unlearned = unlearn(method, model, mnist, split, **settings)
        assert sparsity_of(unlearned) == round(0.95 * total) / total, method
        assert all(torch.equal(a, b) for a, b in zip(held_masks(unlearned).values(),
                                                     masks.values()))


def test_omp_share_is_the_pruned_layers_share_of_the_weights():
    # the cpu preset's CNN: convolutions 1x16x3x3 and 16x32x3x3, linear 512x128 and 128x10
    # (biases and norms are never pruned); ResNet-18 keeps almost all in its convolutions
    conv, linear = 144 + 4608, 512 * 128 + 128 * 10
    cnn = {"architecture": "cnn", "dataset": "mnist5k"}
    assert study.omp_share({**cnn, "sparse_layers": "conv"}) == pytest.approx(
        conv / (conv + linear))
    assert study.omp_share({**cnn, "sparse_layers": "conv_linear"}) == 1.0
    assert study.omp_share({**cnn, "sparse_layers": "conv_linear_but_classifier"}) == \
        pytest.approx((conv + 512 * 128) / (conv + linear))
    assert study.omp_share({"architecture": "resnet18", "dataset": "mnist5k",
                            "sparse_layers": "conv"}) > 0.99


def test_omp_but_classifier_prunes_every_layer_but_the_last_linear_one(mnist):
    # the cpu CNN: convolutions 0 and 4, hidden linear 10 (512 x 128), classifier 12
    model = models.create_for("cnn", mnist, seed=0)
    masks = omp_masks(model, 0.95, layers="conv_linear_but_classifier")
    assert list(masks) == ["0.weight", "4.weight", "10.weight"]  # never "12.weight"
    total = 144 + 4608 + 512 * 128
    assert sum(int((m == 0).sum()) for m in masks.values()) == round(0.95 * total)
    # one global threshold over the three: what is kept is the largest of all of them
    weights = [model.get_submodule(n.removesuffix(".weight")).weight for n in masks]
    kept = torch.cat([w.detach().abs().flatten()[m.flatten() == 1]
                      for w, m in zip(weights, masks.values())])
    cut = torch.cat([w.detach().abs().flatten()[m.flatten() == 0]
                     for w, m in zip(weights, masks.values())])
    assert kept.min() >= cut.max()
    # a network with one linear layer: it is the classifier, and stays whole
    single = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(4, 10))
    assert list(omp_masks(single, 0.5, layers="conv_linear_but_classifier")) == ["0.weight"]


def test_kept_by_layer_counts_each_layers_non_zero_weights_by_hand():
    from mu_core.unlearn.pruning import kept_by_layer

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(4, 3), nn.Linear(3, 2))
    masks = {"0.weight": torch.ones(2, 1, 3, 3), "2.weight": torch.zeros(3, 4)}
    masks["0.weight"][0] = 0  # 9 of the 18 convolution weights
    masks["2.weight"][0, :2] = 1  # 2 of the 12 hidden weights
    hold_masks(model, masks)
    assert kept_by_layer(model) == {
        "0.weight": {"kind": "Conv2d", "weights": 18, "kept": 9, "pruned": True},
        "2.weight": {"kind": "Linear", "weights": 12, "kept": 2, "pruned": True},
        "3.weight": {"kind": "Linear", "weights": 6, "kept": 6, "pruned": False}}


def test_the_trained_rows_sparsity_leaves_the_classifier_out(mnist):
    # the regime's measure: zeros among every convolution and linear weight but the
    # classifier's (those the reference's count covers in ResNet-18, its convolutions), so
    # a classifier left whole does not dilute it; the old measure over all of them read
    # round(0.95 x 70288) / 71568 = 93.3% for the same model
    model = models.create_for("cnn", mnist, seed=0)
    hold_masks(model, omp_masks(model, 0.95, layers="conv_linear_but_classifier"))
    split = make_split(mnist, random_fraction=0.1, val_fraction=0.1, train_size=300, seed=0)
    row = study.trained_row((model.eval(), {}), mnist, split, 0, "random", "sparse", None)
    assert row[study.WEIGHT_SPARSITY] == round(0.95 * 70288) / 70288
    assert row[study.KEPT_BY_LAYER]["12.weight"] == {"kind": "Linear", "weights": 1280,
                                                     "kept": 1280, "pruned": False}
    assert row[study.KEPT_BY_LAYER]["10.weight"]["pruned"]


def test_layer_table_reads_each_seeds_sparse_model_once():
    # two seeds, each recorded by both settings (which share the seed's sparse model)
    def by_layer(conv_kept, hidden_kept):
        return {"0.weight": {"kind": "Conv2d", "weights": 100, "kept": conv_kept,
                             "pruned": True},
                "2.weight": {"kind": "Linear", "weights": 300, "kept": hidden_kept,
                             "pruned": True},
                "3.weight": {"kind": "Linear", "weights": 20, "kept": 20, "pruned": False}}
    runs = pd.DataFrame([
        {"setting": s, "density": "sparse", "seed": seed, "method": "trained",
         study.KEPT_BY_LAYER: by_layer(*kept)}
        for s in ("random", "class") for seed, kept in ((0, (10, 10)), (1, (30, 10)))]
        + [{"setting": "random", "density": "dense", "seed": 0, "method": "trained",
            study.KEPT_BY_LAYER: by_layer(100, 300)}])  # a dense row is left out
    table = study.layer_table(runs)
    assert list(table.index) == ["0.weight", "2.weight", "3.weight", "pruned layers",
                                 "whole network"]
    # the conv (10 + 30) / 2 %, the pruned layers (20 / 400 + 40 / 400) / 2, the whole
    # network (40 / 420 + 60 / 420) / 2
    assert table["kept (%)"].tolist() == [20.0, 3.33, 100.0, 7.5, 11.9]
    assert table.loc["3.weight", "pruned"] == "no" and table.loc["0.weight", "pruned"] == "yes"
    assert table.loc["pruned layers", "weights"] == 400
    assert table.loc["whole network", "weights"] == 420
    assert study.layer_table(runs[runs.density == "dense"]).empty


def test_a_sparse_model_comes_back_from_the_cache_with_its_mask(mnist, cache_dir):
    from mu_core.zoo import sparse_model, trained_model

    split = make_split(mnist, random_fraction=0.1, train_size=400, seed=0)
    trained = trained_model(mnist, split, "cnn", Recipe(epochs=1), seed=0)
    built, meta = sparse_model(mnist, split, trained, sparsity=0.9, recipe=Recipe(epochs=1))
    loaded, again = sparse_model(mnist, split, trained, sparsity=0.9, recipe=Recipe(epochs=1))
    assert not meta["cached"] and again["cached"]
    assert sparsity_of(loaded) == sparsity_of(built) > 0.89
    x = mnist.inputs(split.test[:8])
    assert torch.equal(loaded(x), built(x))


# ---------------------------------------------------------------------------------------
# The method: requests refused before training, and the game on a leaky model

def test_adversarial_requests_are_checked_before_training(mnist):
    without_val = make_split(mnist, random_fraction=0.1, seed=0)
    with pytest.raises(ConfigError, match="validation set"):
        check_request("adversarial", without_val, {})
    split = make_split(mnist, random_fraction=0.1, val_fraction=0.1, seed=0)
    for bad, message in (({"game": "wgan"}, "game"), ({"alpha_iterations": -1}, "alpha_iterations"),
                         ({"iterations": 0}, "iterations"), ({"beta": -1.0}, "beta"),
                         ({"sensitivity_samples": 0}, "sensitivity_samples")):
        with pytest.raises(ConfigError, match=message):
            check_request("adversarial", split, bad)


def test_the_game_drives_the_attacker_towards_chance_and_keeps_most_of_the_retain_set(mnist):
    # A CNN that overfits 500 training samples (train 100%, test about 93%, like the
    # paper's CIFAR-10 ResNet-18) leaks membership; 30% of them are forgotten.
    from mu_core.metrics import unlearning_scores

    split = make_split(mnist, random_fraction=0.3, val_fraction=0.1, train_size=500, seed=0)
    model = models.create_for("cnn", mnist, seed=0)
    fit(model, mnist, split.train, Recipe(epochs=30, lr=0.05), seed=0)
    def auc(target):  # three fresh attackers (other halves, weights and noise), averaged
        return sum(learned_attack(target, mnist, split.forget, split.val, epochs=20,
                                  seed=seed)["auc"] for seed in (1, 2, 3)) / 3

    before = auc(model.eval())
    unlearned = unlearn("adversarial", model, mnist, split, iterations=100, lr=0.005,
                        pretrain_iterations=100, batch_size=32)
    after = auc(unlearned)
    assert before > 0.55  # the trained model leaks (measured 0.567 / 0.560, 1 / 2 threads)
    # distance to chance, measured 0.067 -> 0.031 (1 thread), 0.060 -> 0.038 (2 threads)
    assert abs(after - 0.5) < abs(before - 0.5) - 0.015
    trained_ra = unlearning_scores(model, mnist, split)["RA"]
    assert unlearning_scores(unlearned, mnist, split)["RA"] > trained_ra - 0.1  # measured -0.074
    # (at lr 0.01 the same game costs 54 points of RA: the game is fragile)


def test_alpha_goes_off_after_30_iterations_in_class_forgetting_only(mnist, monkeypatch):
    from mu_core.unlearn import adversarial as method

    used = []
    original = method.defender_step

    def spy(*args, **kwargs):
        used.append(kwargs["alpha"])
        return original(*args, **kwargs)

    monkeypatch.setattr(method, "defender_step", spy)

    def alphas(split, **settings):
        used.clear()
        METHODS["adversarial"].run(models.create_for("cnn", mnist, seed=0), mnist, split,
                                   iterations=32, pretrain_iterations=0, batch_size=8,
                                   **settings)
        return list(used)

    whole_class = make_split(mnist, forget_classes=[3], val_fraction=0.1, train_size=300, seed=0)
    assert alphas(whole_class) == [0.9] * 30 + [0.0] * 2  # the paper's rule
    random = make_split(mnist, random_fraction=0.1, val_fraction=0.1, train_size=300, seed=0)
    assert alphas(random) == [0.9] * 32  # never off in random forgetting
    assert alphas(random, alpha_iterations=5) == [0.9] * 5 + [0.0] * 27


# ---------------------------------------------------------------------------------------
# The study: scored splits, tables and claim rules on hand-made summaries

def test_whole_class_forgetting_scores_ta_on_the_remaining_classes(mnist):
    split = make_split(mnist, forget_classes=[3], val_fraction=0.1, seed=0)
    scored, forgotten = study.scored_split(mnist, split)
    labels = mnist.labels[scored.test].cpu()
    assert 3 not in labels.tolist() and len(scored.test) + len(forgotten) == len(split.test)
    assert set(mnist.labels[forgotten].cpu().tolist()) == {3}
    random = make_split(mnist, random_fraction=0.1, val_fraction=0.1, seed=0)
    assert study.scored_split(mnist, random)[0] is random


def test_moving_average_by_hand():
    assert study.moving_average([1, 2, 3, 4], 2).tolist() == [1, 1.5, 2.5, 3.5]


def test_the_papers_disparities_follow_from_its_own_scores_in_cifar10_dense():
    # An independent check of the transcription where the paper is self-consistent: each
    # CIFAR-10 dense row's average disparity, recomputed from its UA, MIA, RA and TA,
    # matches the printed one to rounding (IU random excepted: 4.66 recomputed, 4.96 printed).
    rows_checked = 0
    for setting in ("random", "class"):
        rows = TABLE1["cifar10"][setting]["dense"]
        for method, row in rows.items():
            if (setting, method) == ("random", "iu"):
                continue
            assert average_disparity(row, rows["retrain"]) == pytest.approx(
                row["disparity"], abs=0.06), (setting, method)
            rows_checked += 1
    assert rows_checked == 11
    consistent, legible = study.paper_disparity_consistency()
    # recounted by hand from the tables: 16 of the 32 non-retrain rows agree
    assert (consistent, legible) == (16, 32)


SEEDS = (0, 1, 2)
_BASE = {"UA": 0.5, "MIA": 0.5, "RA": 0.9, "TA": 0.9, "seconds": 1.0, "TA_forgotten": 0.0,
         "attacker_auc": float("nan"), "cached": False, **{c: 0.5 for c in study.METRIC_COLUMNS}}
# the trained model: nothing forgotten, every attack with a clear signal on it
_TRAINED = {"UA": 0.0, "seconds": float("nan"), "attacker_auc": 0.7,
            **{f"signal_{f}": 0.7 for f in MIA_FEATURES},
            **{f"signal_{f}_variance": 0.02 ** 2 for f in MIA_FEATURES}}  # DeLong's


def _row(setting, density, method, seed=0, **scores):
    # a trained sparse model in the paper's regime (95% of all its weights zero)
    trained = {**_TRAINED, "weight_sparsity": 0.95 if density == "sparse" else 0.0}
    base = {**_BASE, **(trained if method == "trained" else {})}
    return {"setting": setting, "density": density, "seed": seed, "method": method,
            **base, **scores}


def _summary(*rows):
    return study.summary_of(pd.DataFrame(rows))


def _runs(configurations):
    """Per-seed runs: {(setting, density): {method: {score: value or [one per seed]}}},
    each configuration with the trained model's rows first."""
    rows = []
    for (setting, density), methods in configurations.items():
        for method, values in {"trained": {}, **methods}.items():
            for seed in SEEDS:
                rows.append(_row(setting, density, method, seed, **{
                    k: v[seed] if isinstance(v, list) else v for k, v in values.items()}))
    return pd.DataFrame(rows)


RD, CD = ("random", "dense"), ("class", "dense")


def test_lowest_disparity_rule_reads_the_paired_interval_and_needs_forgetting():
    # disparity = |UA - retrain's| / 4; retraining drops forget accuracy by 6 points
    def runs(ft_ua, ours_ua=(0.04, 0.05, 0.042)):
        return _runs({RD: {"retrain": {"UA": 0.06}, "ft": {"UA": ft_ua},
                           "adversarial": {"UA": list(ours_ua)}}})
    claim = study.lowest_disparity(runs(0.0))
    assert claim.verdict == "held"
    assert claim.here.startswith("baseline's disparity - ours (points): random dense ft - ours "
                                 "+1.10 [+0.77, +1.43], 3 seeds, paired")
    assert study.lowest_disparity(runs([0.0, 0.1, 0.04])).verdict == "inconclusive"
    # ft nearer retraining than ours on every seed (swapping the two would hold)
    assert study.lowest_disparity(runs(0.06)).verdict == "did not hold"
    not_forgotten = study.lowest_disparity(runs(0.0, ours_ua=(0.0, 0.01, 0.0)))
    assert not_forgotten.verdict == "not testable here"
    assert "adversarial (random) did not forget" in not_forgotten.here
    assert study.lowest_disparity(_runs({RD: {"ft": {}}})).verdict == "not testable here"


def test_flawless_rule_reads_rates_over_the_forget_samples_against_99_percent():
    def runs(ua, mia=1.0, signal=0.7, size=500):
        return _runs({(c, d): {"adversarial": {"UA": ua, "MIA": mia, "forget_size": size},
                               "trained": {"signal_confidence": signal}}
                      for c in ("class",) for d in ("dense", "sparse")})
    claim = study.flawless_class_forgetting(runs(1.0))
    assert claim.verdict == "held"
    # 1,500 of 1,500: Wilson's lower bound 1500 / (1500 + 1.96²) = 99.74%
    assert claim.here.startswith("rate over the forget samples (%), above 99 to hold: dense "
                                 "UA +100.00 [+99.74, +100.00], 1500 forget samples, 3 seeds")
    # a perfect score on 3 x 50 samples: a t interval over the seeds read it as a point
    # at 100% (held); 150 samples cannot show a rate above 99%
    small = study.flawless_class_forgetting(runs(1.0, size=50))
    assert small.verdict == "inconclusive" and "[+97.50, +100.00]" in small.here
    assert study.flawless_class_forgetting(runs([1.0, 1.0, 0.99])).verdict == "inconclusive"
    assert study.flawless_class_forgetting(runs([0.9, 0.91, 0.92])).verdict == "did not hold"
    # one seed that kept 30% of the class: the seeds' disagreement widens the pooled
    # interval (135 of 150 alone gives [84.2, 93.9]), and no bound goes above 100% (the t
    # interval of the old rule reached +113%)
    split = study.flawless_class_forgetting(runs([1.0, 1.0, 0.7], size=50))
    assert split.verdict == "did not hold"
    assert "sparse UA +90.00 [+57.73, +98.34], 150 forget samples, 3 seeds" in split.here
    no_signal = study.flawless_class_forgetting(runs(1.0, signal=[0.5, 0.49, 0.52]))
    assert no_signal.verdict == "not testable here"
    assert "dense MIA not testable (the confidence SVC has no signal" in no_signal.here
    # UA misses on every seed: it fails whatever the attack (forgetting is the claim)
    assert study.flawless_class_forgetting(
        runs(0.5, signal=[0.5, 0.49, 0.52])).verdict == "did not hold"


def test_vss_rule_needs_both_scores_higher_over_the_seeds():
    def runs(mia_without, signal=0.7):
        return _runs({RD: {"adversarial": {"UA": [0.1, 0.12, 0.11], "MIA": [0.2, 0.22, 0.21]},
                           study.ABLATION: {"UA": 0.05, "MIA": mia_without},
                           "trained": {"signal_confidence": signal}}})
    claim = study.vss_raises_forgetting(runs(0.1))
    assert claim.verdict == "held"
    assert claim.here.startswith("with V_ss - without (points): dense UA +6.00 [+3.52, +8.48]")
    assert study.vss_raises_forgetting(runs([0.1, 0.25, 0.2])).verdict == "inconclusive"
    assert study.vss_raises_forgetting(runs(0.3)).verdict == "did not hold"  # sign matters
    assert study.vss_raises_forgetting(runs(0.1, signal=0.5)).verdict == "not testable here"
    # a game that forgot nothing (UA 0 on every seed, as the trained model's) says nothing
    # of what V_ss adds, even where the ablation is worse still
    kept = _runs({RD: {"adversarial": {"UA": 0.0, "MIA": 0.2},
                       study.ABLATION: {"UA": 0.0, "MIA": 0.1}, "trained": {}}})
    claim = study.vss_raises_forgetting(kept)
    assert claim.verdict == "not testable here" and "adversarial (random) did not forget" \
        in claim.here


def test_vss_disparity_rule_pairs_the_ablations_disparity_with_ours():
    # disparity = |UA - retrain's| / 4 (the other scores equal retraining's, 6% UA): ours
    # 1, 0.8 and 1.2 points off UA, the ablation 4 points off on every seed
    def runs(without_ua, ours_ua=(0.05, 0.052, 0.048), density="dense", sparsity=0.95):
        frame = _runs({("random", density): {
            "retrain": {"UA": 0.06}, "adversarial": {"UA": list(ours_ua)},
            study.ABLATION: {"UA": without_ua}}})
        frame.loc[frame.method == "trained", study.WEIGHT_SPARSITY] = sparsity
        return frame
    claim = study.vss_lowers_disparity(runs(0.02))
    # per seed (1 - 0.25, 1 - 0.2, 1 - 0.3): mean 0.75, half-width 4.303 x 0.05 / sqrt 3
    assert claim.verdict == "held"
    assert claim.here.startswith("without V_ss - with (points): dense +0.75 [+0.63, +0.87], "
                                 "3 seeds, paired")
    assert claim.paper == "paper Table 2 (dense): lower in 2 of its 2 average disparities"
    assert study.vss_lowers_disparity(runs([0.02, 0.06, 0.04])).verdict == "inconclusive"
    assert study.vss_lowers_disparity(runs(0.058)).verdict == "did not hold"  # ablation nearer
    forgot_nothing = study.vss_lowers_disparity(runs(0.02, ours_ua=(0.0, 0.0, 0.0)))
    assert forgot_nothing.verdict == "not testable here"
    assert "adversarial (random) did not forget" in forgot_nothing.here
    mostly_dense = study.vss_lowers_disparity(runs(0.02, density="sparse", sparsity=0.066))
    assert mostly_dense.verdict == "not testable here" and "6.6% sparse" in mostly_dense.here
    assert study.vss_lowers_disparity(runs(0.02, density="sparse")).verdict == "held"
    assert study.vss_lowers_disparity(_runs({RD: {"adversarial": {}, "retrain": {}}})).verdict \
        == "not testable here"


def test_five_times_faster_rule_compares_retraining_with_five_times_ours():
    def runs(ours, cached=False):
        return _runs({RD: {"retrain": {"seconds": [5.0, 5.2, 4.8], "cached": cached},
                           "adversarial": {"seconds": ours, "cached": cached}}})
    claim = study.five_times_faster(runs([0.8, 0.85, 0.75]))
    assert claim.verdict == "held" and "measured in this run" in claim.here
    assert "random dense +1.00 [+0.88, +1.12], 3 seeds, paired" in claim.here
    assert "first build's seconds" in study.five_times_faster(runs(0.8, cached=True)).here
    assert study.five_times_faster(runs([0.8, 1.2, 0.9])).verdict == "inconclusive"
    assert study.five_times_faster(runs(1.2)).verdict == "did not hold"  # 6 > 5 on each seed
    assert study.five_times_faster(_runs({RD: {"retrain": {}}})).verdict == \
        "not testable here"


def test_keeps_ra_ta_rule_reads_the_gap_to_retraining_against_five_points():
    def runs(ours_ra, ours_ua=0.05):
        return _runs({RD: {"retrain": {"UA": 0.06, "RA": 0.99, "TA": 0.94},
                           "adversarial": {"UA": ours_ua, "RA": ours_ra, "TA": 0.93}}})
    claim = study.random_keeps_ra_ta(runs([0.98, 0.97, 0.985]))
    assert claim.verdict == "held"
    # differences 1, 2, 0.5 points: mean 1.17, t(2) 4.303 x sd 0.764 / sqrt 3 = 1.90
    assert "dense RA +1.17 [-0.73, +3.06], 3 seeds, paired" in claim.here
    assert study.random_keeps_ra_ta(runs([0.98, 0.90, 0.96])).verdict == "inconclusive"
    # RA 10 points below retraining's on every seed: a decline by the paper's own measure
    assert study.random_keeps_ra_ta(runs([0.89, 0.88, 0.895])).verdict == "did not hold"
    kept = study.random_keeps_ra_ta(runs(0.99, ours_ua=0.0))  # forgot nothing: RA is free
    assert kept.verdict == "not testable here" and "did not forget" in kept.here
    assert study.random_keeps_ra_ta(_runs({CD: {"retrain": {}, "adversarial": {}}})).verdict \
        == "not testable here"  # no random forgetting ran


SPARSE_TRAINED = {"weight_sparsity": 0.95}  # the sparse models in the paper's regime


def _class_densities(dense: dict, sparse: dict, sparse_trained=SPARSE_TRAINED):
    """Whole-class runs, dense and sparse: {method: scores} each, retraining's UA 1.0."""
    return _runs({("class", d): {"retrain": {"UA": 1.0, "MIA": 1.0}, **methods,
                                 **({"trained": sparse_trained} if d == "sparse" else {})}
                  for d, methods in (("dense", dense), ("sparse", sparse))})


def test_sparsity_rule_reads_the_baselines_together_seed_by_seed():
    # disparity = |UA - retrain's| / 4 (the other scores equal retraining's): FT 10 points
    # dense, 2.5, 2 and 3 sparse; GA 1 point worse sparse on every seed
    def runs(ft_sparse, ga_sparse=(0.86, 0.86, 0.86), **options):
        return _class_densities({"ft": {"UA": 0.6}, "ga": {"UA": 0.9}},
                                {"ft": {"UA": ft_sparse}, "ga": {"UA": list(ga_sparse)}},
                                **options)
    claim = study.sparsity_eases_baselines(runs([0.9, 0.92, 0.88]))
    # per seed (7.5 - 1, 8 - 1, 7 - 1) / 2: mean 3.25, half-width 4.303 x 0.25 / sqrt 3;
    # the old rule, baseline by baseline, failed it on GA's worse sparse disparity
    assert claim.verdict == "held"
    assert claim.here.startswith("baselines' mean dense - sparse disparity (points), above 0 "
                                 "to hold: mean over ft, ga +3.25 [+2.63, +3.87], 3 seeds, "
                                 "paired")
    assert study.sparsity_eases_baselines(runs([0.9, 0.5, 0.7])).verdict == "inconclusive"
    assert study.sparsity_eases_baselines(runs([0.4, 0.42, 0.38])).verdict == "did not hold"
    dense_only = _runs({CD: {"retrain": {"UA": 1.0}, "ft": {"UA": 0.6}}})
    assert study.sparsity_eases_baselines(dense_only).verdict == "not testable here"
    # OMP of the convolutions alone left a CNN whose linear layers hold most weights dense
    mostly_dense = study.sparsity_eases_baselines(runs([0.9, 0.92, 0.88], sparse_trained={
        "weight_sparsity": 0.066}))
    assert mostly_dense.verdict == "not testable here"
    assert "the sparse models are 6.6% sparse over their weights but the classifier's" in \
        mostly_dense.here
    assert "the paper's 95%" in mostly_dense.here


SPARSE_RULES = [study.lowest_disparity, study.flawless_class_forgetting,
                study.vss_raises_forgetting, study.vss_lowers_disparity,
                study.closest_under_metric_attacks,
                study.attacker_driven_to_chance, study.random_keeps_ra_ta]
RUN_TIME_RULES = [study.five_times_faster, study.vss_costs_run_time]


def _every_configuration(sparsity, seconds=None):
    """Every configuration with the ablation, ours forgetting as retraining does, the sparse
    models `sparsity` sparse; with `seconds` ({method: seconds}), those run times."""
    frame = _runs({(s, d): {"retrain": {}, "adversarial": {"attacker_auc": 0.55}, "ft": {},
                            **({study.ABLATION: {}} if s == "random" else {})}
                   for s in ("random", "class") for d in study.DENSITIES})
    frame[study.FORGET_SIZE] = 25
    sparse_trained = (frame.density == "sparse") & (frame.method == "trained")
    frame.loc[sparse_trained, study.WEIGHT_SPARSITY] = sparsity
    for method, values in (seconds or {}).items():
        chosen = frame.method == method
        frame.loc[chosen, "seconds"] = np.resize(values, chosen.sum())
    return frame


@pytest.mark.parametrize("rule", SPARSE_RULES, ids=lambda rule: rule.__name__)
def test_every_claim_presupposes_the_papers_sparsity_on_its_sparse_parts_alone(rule):
    # the sparse models' share of zero weights as OMP of the cpu CNN's convolutions alone
    # left it
    runs = _every_configuration
    reason = "not testable (the sparse models are 6.6% sparse over their weights but the " \
             "classifier's, the paper's 95%)"
    mostly_dense = rule(runs(0.066))
    parts = mostly_dense.here.split("; ")
    flagged = [p for p in parts if reason in p]
    assert flagged and all("sparse" in p.split(reason)[0] for p in flagged)  # sparse parts
    assert not any("dense" in p and "not testable" in p for p in parts)  # dense ones judged
    assert mostly_dense.verdict != "held"
    assert "sparse models are" not in rule(runs(0.95)).here


@pytest.mark.parametrize("rule", RUN_TIME_RULES, ids=lambda rule: rule.__name__)
def test_the_run_time_claims_judge_sparse_parts_whatever_the_sparsity(rule):
    # a masked model costs the same at any sparsity: the sparse parts are judged on their
    # run times alike at 6.6% and at 95% (before, 6.6% made them not testable); retraining
    # 10 s and ours 1 s on every seed, the ablation 0.5 s: each part held
    seconds = {"retrain": [10.0, 10.2, 9.8], "adversarial": [1.0, 1.05, 0.95],
               study.ABLATION: [0.5, 0.52, 0.49]}
    for sparsity in (0.066, 0.95):
        claim = rule(_every_configuration(sparsity, seconds))
        assert claim.verdict == "held" and "not testable" not in claim.here, sparsity
        assert "sparse" in claim.here
    slow = {**seconds, "adversarial": [3.0, 3.1, 2.9]}  # 5 x 3 s above retraining's 10 s
    if rule is study.five_times_faster:
        assert rule(_every_configuration(0.066, slow)).verdict == "did not hold"
    else:
        assert rule(_every_configuration(0.066, {**seconds, study.ABLATION: 2.0})).verdict == \
            "did not hold"


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100"])
def test_the_papers_own_table_meets_the_sparsity_rule(dataset):
    # each baseline's printed whole-class disparity d (points) as UA = MIA = 1 - 2d/100
    # against retraining's 1.0, which gives back d, with a little spread over the seeds;
    # CIFAR-10's GA is worse sparse (6.00 -> 6.84), which failed the rule baseline by baseline
    rows = TABLE1[dataset]["class"]

    def scores(density, method):
        value = 1 - 2 * rows[density][method]["disparity"] / 100
        return {"UA": value, "MIA": value, "RA": [0.9, 0.901, 0.899]}
    baselines = [m for m in study.BASELINES if m in rows["sparse"]]
    retrain = {"UA": 1.0, "MIA": 1.0, "RA": [0.9, 0.901, 0.899]}
    runs = _runs({("class", d): {"retrain": retrain,
                                 **{m: scores(d, m) for m in baselines},
                                 **({"trained": SPARSE_TRAINED} if d == "sparse" else {})}
                  for d in study.DENSITIES})
    assert study.sparsity_eases_baselines(runs).verdict == "held"


def test_the_sparsity_claims_paper_field_counts_the_tables_rows():
    assert study.paper_sparsity_eases() == (
        "paper Table 1 (class), baselines' mean dense - sparse disparity: cifar10 +7.51, "
        "cifar100 +6.83; lower sparse in 6 of its 7 rows (not cifar10 ga)")


def test_weight_sparsity_counts_every_convolution_and_linear_weight():
    from mu_core.unlearn.pruning import weight_sparsity

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(4, 10))
    with torch.no_grad():
        model[0].weight.zero_()  # 18 of the 58 weights
        model[2].weight.fill_(1.0)
    assert weight_sparsity(model) == 18 / 58
    # without the classifier (the last linear layer): the convolution's 18 of 18
    assert weight_sparsity(model, "conv_linear_but_classifier") == 1.0


def test_vss_cost_rule_pairs_the_run_times_over_the_seeds():
    def runs(without):
        return _runs({RD: {"adversarial": {"seconds": [2.0, 2.1, 1.9]},
                           study.ABLATION: {"seconds": without}}})
    claim = study.vss_costs_run_time(runs([1.5, 1.6, 1.45]))
    # differences 0.5, 0.5, 0.45 s: mean 0.483, half-width 4.303 x 0.0289 / sqrt 3 = 0.072
    assert claim.verdict == "held" and "dense +0.48 [+0.41, +0.56], 3 seeds" in claim.here
    assert study.vss_costs_run_time(runs([1.5, 2.4, 1.7])).verdict == "inconclusive"
    assert study.vss_costs_run_time(runs(2.5)).verdict == "did not hold"
    assert study.vss_costs_run_time(_runs({RD: {"adversarial": {}}})).verdict == \
        "not testable here"


def test_metric_attack_rule_counts_ties_as_closest_and_reads_every_attack():
    retrain = {c: 0.3 for c in study.METRIC_COLUMNS}

    def runs(ours, ga=0.1, signal=0.7):
        return _runs({RD: {"retrain": {"UA": 0.05, **retrain},
                           "adversarial": {"UA": 0.05, **ours},
                           "ga": {c: ga for c in retrain},
                           "trained": {"signal_entropy": signal}}})
    claim = study.closest_under_metric_attacks(runs({c: 0.31 for c in retrain}))
    assert claim.verdict == "held" and claim.here.startswith("held in 4 of 4 comparisons")
    tie = study.closest_under_metric_attacks(runs({c: 0.1 for c in retrain}))
    assert tie.verdict == "held"  # as close as ga on every seed
    one_off = dict({c: 0.31 for c in retrain}, MIA_entropy=0.9)
    claim = study.closest_under_metric_attacks(runs(one_off))
    assert claim.verdict == "did not hold" and "entropy vs ga" in claim.here
    scattered = dict({c: 0.31 for c in retrain}, MIA_entropy=[0.1, 0.6, 0.45])
    assert study.closest_under_metric_attacks(runs(scattered)).verdict == "inconclusive"
    claim = study.closest_under_metric_attacks(runs({c: 0.31 for c in retrain}, signal=0.5))
    assert claim.verdict == "not testable here" and "entropy SVC has no signal" in claim.here


def test_attacker_to_chance_rule_needs_a_signal_on_the_trained_model():
    def runs(after, before=0.7):
        return _runs({RD: {"trained": {"attacker_auc": before}, "retrain": {},
                           "adversarial": {"attacker_auc": after}}})
    claim = study.attacker_driven_to_chance(runs([0.55, 0.52, 0.58]))
    assert claim.verdict == "held"
    assert claim.here == ("|AUC - 0.5| trained - unlearned: dense +0.150 [+0.075, +0.225], "
                          "3 seeds, paired")
    assert study.attacker_driven_to_chance(runs([0.55, 0.75, 0.65])).verdict == \
        "inconclusive"
    assert study.attacker_driven_to_chance(runs(0.25)).verdict == "did not hold"  # farther
    claim = study.attacker_driven_to_chance(runs(0.5, before=[0.49, 0.53, 0.5]))
    assert claim.verdict == "not testable here"
    assert "the learned attacker has no signal" in claim.here


CLAIM_IDS = ["lowest_disparity_everywhere", "flawless_class_forgetting",
             "vss_raises_ua_and_mia", "vss_lowers_disparity", "five_times_faster_than_retrain",
             "closest_under_metric_attacks", "attacker_driven_to_chance",
             "random_keeps_ra_ta", "sparsity_eases_class_baselines", "vss_costs_run_time"]
LIRA = Leakage(train_accuracy=1.0, test_accuracy=0.92,
               auc=Interval(0.71, 0.66, 0.76, "1000 + 1000 samples"), tpr_at_1pct_fpr=0.08,
               shadow_auc=math.nan, shadow_tpr_at_1pct_fpr=0.05, shadow_count=6,
               pool_size=2000)
# No shadow models: LiRA not run, so its AUC and TPRs are NaN and its interval unbounded
NO_LIRA = Leakage(train_accuracy=1.0, test_accuracy=0.9,
                  auc=Interval(math.nan, -math.inf, math.inf, "not run"),
                  tpr_at_1pct_fpr=math.nan, shadow_auc=math.nan,
                  shadow_tpr_at_1pct_fpr=math.nan, shadow_count=0, pool_size=0)


def _results(runs, curves=None, leakage=LIRA):
    """A hand-made `study.Results` of per-seed `runs`."""
    settings = {s: {} for s in dict.fromkeys(runs.setting)}
    return study.Results(settings, list(dict.fromkeys(runs.method)), sorted(set(runs.seed)),
                         len(runs), runs, curves or {}, leakage)


def _verdicts(runs):
    return {c.id: c.verdict for c in study.claims(_results(runs))}


def test_every_claim_is_present_whatever_ran():
    assert list(_verdicts(_runs({RD: {"ft": {}}}))) == CLAIM_IDS
    assert set(_verdicts(_runs({RD: {"ft": {}}})).values()) == {"not testable here"}


def test_claims_read_the_runs_of_the_results():
    # random dense: ours closer to retraining than ft on every seed, 5x faster, the
    # learned attacker driven towards chance; no ablation, no whole-class runs
    runs = _runs({RD: {"retrain": {"UA": 0.06, "seconds": [5.0, 5.2, 4.8]},
                       "ft": {"UA": 0.0},
                       "adversarial": {"UA": [0.04, 0.05, 0.042], "seconds": [0.8, 0.85, 0.75],
                                       "attacker_auc": [0.55, 0.52, 0.58],
                                       **{c: 0.5 for c in study.METRIC_COLUMNS}}}})
    assert _verdicts(runs) == {
        "lowest_disparity_everywhere": "held", "flawless_class_forgetting": "not testable here",
        "vss_raises_ua_and_mia": "not testable here", "vss_lowers_disparity": "not testable here",
        "five_times_faster_than_retrain": "held",
        "closest_under_metric_attacks": "held", "attacker_driven_to_chance": "held",
        "random_keeps_ra_ta": "held", "sparsity_eases_class_baselines": "not testable here",
        "vss_costs_run_time": "not testable here"}
    slow = runs.assign(seconds=runs.seconds.where(runs.method != "adversarial", 1.2))
    assert _verdicts(slow)["five_times_faster_than_retrain"] == "did not hold"


def _full_results(leakage):
    """Results of every configuration, with the ablation, curves and NaN (the trained
    model's run time, the attacker's AUC where it was not run, a curve's missing value)."""
    runs = _runs({(s, d): {"retrain": {}, "adversarial": {"UA": 0.2},
                           **({study.ABLATION: {}} if s == "random" else {})}
                  for s in ("random", "class") for d in study.DENSITIES})
    runs[study.FORGET_SIZE] = 25
    trained = runs.index[runs.method == "trained"]
    runs[study.KEPT_BY_LAYER] = pd.Series(
        {i: {"0.weight": {"kind": "Conv2d", "weights": 18, "kept": 1, "pruned": True}}
         for i in trained}, dtype=object)  # NaN on the other rows
    curves = {(s, d, seed): [{"iteration": i, "attacker_forget_accuracy": 0.5 + i / 10,
                              "attacker_val_accuracy": math.nan if i == 1 else 0.5}
                             for i in range(3)]
              for s in ("random", "class") for d in study.DENSITIES for seed in SEEDS}
    settings = study.forget_settings(0.1, 3, 0.1, 1000)
    return study.Results(settings, ["retrain", "adversarial"], list(SEEDS), 24, runs, curves,
                         leakage)


def _assert_same_results(found, expected):
    assert (found.settings, found.methods, found.seeds, found.planned) == \
        (expected.settings, expected.methods, expected.seeds, expected.planned)
    pd.testing.assert_frame_equal(found.runs, expected.runs)
    assert equal_with_nan(found.curves, expected.curves)
    assert equal_with_nan(found.leakage, expected.leakage)


@pytest.mark.parametrize("leakage", [LIRA, NO_LIRA], ids=["lira", "no_lira"])
def test_results_round_trip_through_json_nan_included(leakage):
    results = _full_results(leakage)
    assert math.isnan(results.runs.seconds[0]) and math.isnan(results.runs.attacker_auc[3])
    _assert_same_results(study.Results.from_json(results.to_json()), results)
    # through a results file: NaN and infinities written as null, read back as NaN and as
    # the interval's open ends
    text = json.dumps(jsonable(results.to_json()), allow_nan=False)
    read = study.Results.from_json(json.loads(text))
    _assert_same_results(read, results)
    assert math.isnan(read.curves[("random", "dense", 0)][1]["attacker_val_accuracy"])
    assert _verdicts(read.runs) == _verdicts(results.runs)


def test_results_json_keeps_the_keys_the_chapters_readers_read():
    results = _full_results(LIRA)
    document = results.to_json()
    assert {"summary", "runs", "forgot", "regime_lira", "curves"} <= set(document)
    assert document["curves"][0] == {"setting": "random", "density": "dense", "seed": 0,
                                     "curve": results.curves[("random", "dense", 0)]}
    assert {(r["setting"], r["density"]) for r in document["summary"]} == \
        {(s, d) for s in ("random", "class") for d in study.DENSITIES}
    headline = study.headline(results)
    assert headline["random/dense/adversarial/UA_mean"] == pytest.approx(0.2)
    assert headline["class/sparse/retrain/disparity_mean"] == 0.0


def _chapter_params(**changes):
    """The chapter's parameters cell, with `changes`, on the CPU."""
    notebook = book.read_notebook(ROOT / "notebooks" / "06_adversarial.py")
    return {**book.notebook_parameters(notebook), "device": "cpu", **changes}


def test_run_checks_every_parameter_before_training(monkeypatch, cache_dir):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before every parameter was checked")
    monkeypatch.setattr(study, "compare", no_training)
    monkeypatch.setattr(study.regime, "of_setting", no_training)
    with pytest.raises(ConfigError, match="unknown unlearning method 'fft'"):
        study.run(_chapter_params(methods=["retrain", "fft"]))
    with pytest.raises(ConfigError, match="ablation_densities is a list of densities"):
        study.run(_chapter_params(ablation_densities="dense"))
    with pytest.raises(ConfigError, match="attack_epochs"):
        study.run(_chapter_params(attack_epochs=0))
    with pytest.raises(ConfigError, match="shadow_count must be 0"):
        study.run(_chapter_params(shadow_count=1))
    with pytest.raises(ConfigError, match="out of range"):
        study.run(_chapter_params(forget_class=12))
    with pytest.raises(ConfigError, match="unknown sparse_layers 'dense'; accepted"):
        study.run(_chapter_params(sparse_layers="dense"))


def test_run_passes_the_chapters_parameters_to_the_study(monkeypatch, cache_dir):
    calls = {}

    def compare(data, settings, methods, seeds, **options):
        calls["compare"] = (settings, methods, seeds, options)
        return pd.DataFrame({"setting": ["random"]}), {("random", "dense", 4): []}

    def of_setting(data, spec, architecture, recipe, **options):
        calls["regime"] = (spec, architecture, recipe, options)
        return LIRA
    monkeypatch.setattr(study, "compare", compare)
    monkeypatch.setattr(study.regime, "of_setting", of_setting)
    params = _chapter_params(seeds=[4, 2], methods=["retrain", "adversarial"], shadow_count=0,
                             forget_class=5, train_size=300, sparse_epochs=2,
                             ablation_densities=["sparse"], attack_epochs=3,
                             augment="flip_crop")
    results = study.run(params)
    settings = study.forget_settings(params["random_fraction"], 5, params["val_fraction"], 300)
    assert results.settings == settings and calls["compare"][0] == settings
    assert (results.methods, results.seeds) == (["retrain", "adversarial"], [4, 2])
    assert results.planned == 2 * 2 * 2 * 2  # densities x settings x seeds x methods
    options = calls["compare"][3]
    assert options["sparse_recipe"].epochs == 2 and options["recipe"].epochs == params["epochs"]
    assert (options["ablation_densities"], options["attack_epochs"]) == (["sparse"], 3)
    assert options["sparsity"] == params["sparsity"]
    assert options["sparse_layers"] == params["sparse_layers"] == "conv_linear_but_classifier"
    # the paper preset trains with the reference's flips and crops, the cpu preset without
    assert options["recipe"].augment == options["sparse_recipe"].augment == "flip_crop"
    assert options["configuration_hyperparameters"] == params["configuration_hyperparameters"]
    spec, architecture, recipe, options = calls["regime"]
    assert spec == settings["random"] and options == {"seed": 4, "shadow_count": 0}
    assert recipe.augment == "flip_crop"
    assert results.leakage is LIRA and results.curves == {("random", "dense", 4): []}


def test_the_whole_class_table1_keeps_the_trained_row_beside_its_forgotten_class_accuracy():
    summary = _summary(_row("class", "dense", "trained", TA_forgotten=0.9),
                       _row("class", "dense", "retrain", UA=1.0, TA_forgotten=0.0),
                       _row("class", "dense", "adversarial", UA=1.0, TA_forgotten=0.1),
                       _row("class", "dense", "adversarial", seed=1, UA=1.0, TA_forgotten=0.3))
    table = study.table1(summary, "class", "dense", "cifar10")
    assert table.loc[("trained", "here"), "TA forgotten class"] == "90.00\u00a0±\u00a00.00"
    # mean ± std over the seeds, like every other column of ours
    assert table.loc[("adversarial", "here"), "TA forgotten class"] == \
        "20.00\u00a0±\u00a010.00"
    assert ("trained", "paper") not in table.index


def test_table1_sets_the_papers_numbers_beside_ours():
    summary = _summary(_row("random", "dense", "retrain", UA=0.05),
                       _row("random", "dense", "adversarial", UA=0.04))
    table = study.table1(summary, "random", "dense", "cifar10")
    assert table.loc[("adversarial", "paper"), "UA"] == 3.46
    assert table.loc[("adversarial", "here"), "UA"] == "4.00\u00a0±\u00a00.00"
    assert table.loc[("ff", "paper"), "UA"] == 6.96 and ("ff", "here") not in table.index
    # a CIFAR-100 run is set beside the paper's CIFAR-100 rows (Table 1, random, 95% sparse)
    table = study.table1(_summary(_row("random", "sparse", "adversarial", UA=0.1)), "random",
                         "sparse", "cifar100")
    assert table.loc[("adversarial", "paper"), "UA"] == 13.36
    assert table.loc[("retrain", "paper"), "TA"] == 69.73


def test_table2_sets_the_papers_ablation_of_the_runs_dataset_beside_ours():
    summary = _summary(_row("random", "dense", "retrain", UA=0.05),
                       _row("random", "dense", "adversarial", UA=0.04),
                       _row("random", "dense", study.ABLATION, UA=0.03))
    assert study.table2(summary, "cifar10").loc[("dense", study.ABLATION, "paper"), "UA"] == 3.03
    assert study.table2(summary, "cifar100").loc[("dense", study.ABLATION, "paper"), "UA"] == 9.79
    # the paper's Table 2 prints retraining's row too (Table 1's)
    assert study.table2(summary, "cifar100").loc[("dense", "retrain", "paper"), "UA"] == 24.75
    assert study.table2(summary, "cifar10").loc[("dense", "retrain", "paper"), "MIA"] == 13.91


@pytest.mark.parametrize("dataset, key", [("cifar100", "cifar100"), ("cifar10", "cifar10"),
                                          ("mnist5k", "cifar10")])
def test_a_run_is_compared_with_the_paper_rows_of_its_dataset(dataset, key):
    from mu_core.papers.adversarial import paper_dataset

    assert paper_dataset(dataset) == key


# ---------------------------------------------------------------------------------------
# The chapter's smoke run (called by test_chapters)

def check_smoke_results(results, out):
    r = results["results"]
    # the results file holds the whole Results: the claims recomputed from it are those recorded
    read = study.Results.from_json(r)
    assert [dataclasses.asdict(c) for c in study.claims(read)] == r["claims"]
    summary = pd.DataFrame(r["summary"])
    configurations = set(zip(summary.setting, summary.density))
    assert configurations == {(s, d) for s in ("random", "class") for d in ("dense", "sparse")}
    assert {"adversarial", study.ABLATION, "trained"} <= set(summary.method)
    assert [c["id"] for c in r["claims"]] == CLAIM_IDS  # every claim, in the chapter's order
    assert len(r["curves"]) == 4 * len(results["params"]["seeds"])  # settings x densities
    assert all(len(c["curve"]) == results["params"]["hyperparameters"]["adversarial"]
               ["iterations"] for c in r["curves"])
    retrained = summary[(summary.setting == "class") & (summary.method == "retrain")]
    assert (retrained.TA_forgotten_mean == 0).all()  # it never saw the class
    sparse = summary[(summary.density == "sparse") & (summary.method == "retrain")]
    assert (sparse.seconds_mean > 0).all()
    # OMP kept the asked share of the pruned layers and left the classifier whole
    layers = study.layer_table(read.runs)
    classifier = layers.loc[[name for name in layers.index if name.endswith(".weight")][-1]]
    assert (classifier["pruned"], classifier["kept (%)"]) == ("no", 100.0)
    assert layers.loc["pruned layers", "kept (%)"] == pytest.approx(
        100 * (1 - results["params"]["sparsity"]), abs=0.01)
    leakage = r["regime_lira"]  # LiRA on the first seed's trained model of random forgetting
    assert leakage["shadow_count"] == results["params"]["shadow_count"] > 0
    assert leakage["pool_size"] == 2 * results["params"]["train_size"]
    assert leakage["auc_low"] <= leakage["auc"] <= leakage["auc_high"]


def test_sparse_retraining_never_sees_the_forget_set(mnist, cache_dir):
    from mu_core.zoo import unlearned_models

    runs = list(unlearned_models(
        mnist, {"random": {"random_fraction": 0.2, "train_size": 300}}, ["retrain"], [0],
        architecture="cnn", recipe=Recipe(epochs=1), sparsity=0.9,
        sparse_recipe=Recipe(epochs=1)))
    (_, _, _, split, trained, retrained, meta), = runs
    # its mask is chosen by OMP of a model retrained on D_r, not the mask chosen on D
    assert not all(torch.equal(a, b) for a, b in zip(held_masks(retrained).values(),
                                                     held_masks(trained[0]).values()))
    assert sparsity_of(retrained) == pytest.approx(0.9, abs=1e-3)
    assert meta["config"]["trained"]["role"] == "unlearned"  # pruned from the dense retrain
    assert meta["config"]["trained"]["trained"]["role"] == "trained"  # of the dense model


def test_check_requests_counts_the_runs_and_refuses_bad_ablation_densities(mnist):
    settings = study.forget_settings(0.1, 3, 0.1, 100)

    def check(**kw):
        return study.check_requests(mnist, settings, ["retrain", "adversarial"], [0], {}, {},
                                    attack_epochs=1, **kw)
    assert check() == 2 * 2 * 2  # 2 densities x 2 settings x 2 methods, one seed
    assert check(ablation_densities=["dense"]) == 8
    with pytest.raises(ConfigError, match="ablation_densities is a list of densities"):
        check(ablation_densities="dense")
    with pytest.raises(ConfigError, match="unknown ablation_densities 'wide'; accepted: dense, "
                                          "sparse"):
        check(ablation_densities=["wide"])


def test_the_vss_claims_paper_reading_counts_only_the_densities_judged():
    import re

    def counts(text):
        return tuple(int(x) for x in re.search(r"higher in (\d+) of its (\d+) cells",
                                               text).groups())



    dense, sparse = study.paper_vss(("dense",)), study.paper_vss(("sparse",))
    both = counts(study.paper_vss())
    assert "(dense)" in dense and "(sparse)" in sparse and "(dense, sparse)" in \
        study.paper_vss()
    assert counts(dense)[1] == 2 * sum("dense" in rows for rows in TABLE2.values())  # UA, MIA
    assert tuple(a + b for a, b in zip(counts(dense), counts(sparse))) == both


# ---------------------------------------------------------------------------------------
# The paper's CIFAR-100 numbers against the paper's own text

PAPER = ROOT.parent / "shared" / "papers" / "adversarial_unlearning.md"
_TABLE1_KEYS = ("UA", "MIA", "RA", "TA", "disparity", "minutes")


def _means(line: str) -> list[float]:
    """The numbers of a line of the paper's text in order, standard deviations left out."""
    line = re.sub(r"(\\pm|±)\s*\{?\s*\d+(\.\d+)?", " ", line)
    return [float(x) for x in re.findall(r"\d+\.\d+", line)]


def _paper_lines(first: str, last: str) -> list[str]:
    if not PAPER.exists():
        pytest.skip(f"the paper's text is not at {PAPER}")
    lines = PAPER.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if first in line)
    end = next(i for i, line in enumerate(lines) if i > start and last in line)
    return lines[start:end]


def test_table1_cifar100_columns_are_printed_in_the_papers_order():
    # The text of Table 1's CIFAR-100 part is scrambled, but each of its cells lists one
    # column's values method by method: every transcribed column is one such run.
    rows = [_means(line) for line in _paper_lines("Cifar-100 Random Forgetting", "Our results")]
    compared = 0
    for setting, densities in TABLE1["cifar100"].items():
        for density, methods in densities.items():
            for key in _TABLE1_KEYS:
                column = [methods[m][key] for m in methods]
                assert any(row[i:i + len(column)] == column for row in rows
                           for i in range(len(row) - len(column) + 1)), (setting, density, key)
                compared += len(column)
    assert compared == 2 * 6 * 6 + 2 * 6 * 4  # two densities; whole-class lacks IU and ours


def test_table2_rows_are_the_papers_no_vss_rows():
    lines = _paper_lines("Table 2: **Ablations", "notice that the framework")
    for dataset, title in (("cifar10", "Cifar-10 Random"), ("cifar100", "Cifar-100 Random")):
        start = next(i for i, line in enumerate(lines) if title in line)
        row = next(_means(line) for line in lines[start:] if "No $\\mathcal{V}_{ss}$" in line)
        for offset, density in enumerate(("dense", "sparse")):
            printed = [*row[offset:10:2], row[10]]
            assert [TABLE2[dataset][density]["no_vss"][k] for k in _TABLE1_KEYS] == printed


def test_a_diverged_models_attack_columns_are_nan_not_an_error(mnist):
    # a model whose outputs are not finite (a diverged game at a dry run's scale) scores
    # NaN everywhere, the metric attacks included, instead of stopping the run in the SVC
    class Diverged(nn.Module):
        def forward(self, x):
            return torch.full((len(x), 10), float("nan"))

    split = make_split(mnist, random_fraction=0.1, val_fraction=0.1, seed=0)
    with pytest.warns(RuntimeWarning, match="not finite"):
        row = study.score(Diverged(), mnist, split, seed=0)
    assert all(math.isnan(row[c]) for c in (*study.METRIC_COLUMNS, "UA", "MIA", "RA", "TA"))


def test_configurations_side_by_side_give_one_processs_rows_in_its_order(monkeypatch,
                                                                         cache_dir):
    # Each (configuration, seed) a piece in two worker processes, against `compare` in this
    # process: the same rows (setting, density, seed, method; trained rows once per
    # configuration and seed) in
    # the same order. (The adversarial game is left out: it makes this test minutes long.)
    data = study.datasets.load("mnist5k")
    options = dict(architecture="cnn", recipe=Recipe(epochs=1, lr=0.05, batch_size=128),
                   sparsity=0.5, sparse_recipe=Recipe(epochs=1, lr=0.05, batch_size=128),
                   hyperparameters={},
                   configuration_hyperparameters={}, attack_epochs=1,
                   ablation_densities=())
    settings = study.forget_settings(0.1, 3, 0.1, train_size=400)
    monkeypatch.setenv("MU_WORKERS", "2")
    since = len(study.cache.used())
    rows, curves = study.compare(data, settings, ["ft", "ga"], [0, 1], name="mnist5k",
                                 **options)
    assert {e["made_by"]["process"] for e in study.cache.used(since)} == {"worker"}
    monkeypatch.setenv("MU_WORKERS", "1")
    one_rows, one_curves = study.compare(data, settings, ["ft", "ga"], [0, 1],
                                         **options)
    key = ["setting", "density", "seed", "method"]
    assert rows[key].values.tolist() == one_rows[key].values.tolist()
    assert rows[key].values.tolist()[:4] == [
        ["random", "dense", 0, study.TRAINED], ["random", "dense", 0, "ft"],
        ["random", "dense", 0, "ga"], ["random", "dense", 1, study.TRAINED]]
    assert len(rows) == 2 * 2 * 2 * 3  # settings x densities x seeds x (trained, ft, ga)
    assert list(rows.columns) == list(one_rows.columns)
    assert curves == one_curves == {}
