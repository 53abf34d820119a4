"""CMIRA's inducing recovery (Algorithm 1), wired as the paper has it: each round M_A learns
from the probing set, the agreement set and M_U's confident disagreements (with M_U's
probabilities), and in "p+u+a" M_U learns from the same sets with M_A's; the unlearned
model handed in is never modified."""

import torch

from mu_core import models
from mu_core.attacks import cmira
from mu_core.train import predict


def _record_fits(monkeypatch) -> list[dict]:
    calls = []

    def fake_fit(model, data, indices, recipe, *, targets, **kwargs):
        calls.append({"model": model, "indices": indices.clone(), "targets": targets.clone()})
        return [0.0]

    monkeypatch.setattr(cmira, "fit", fake_fit)
    return calls


def test_each_model_learns_from_the_other_models_confident_disagreements(mnist, monkeypatch):
    calls = _record_fits(monkeypatch)
    unlearned = models.create_for("mlp", mnist, seed=0, hidden=[16])
    attack = models.create_for("mlp", mnist, seed=1, hidden=[16])
    before = [p.detach().clone() for p in unlearned.parameters()]
    forget, probe = mnist.train[:40], mnist.train[40:48]
    # tau near 0: every disagreement is confident, for both models
    config = cmira.CMIRAConfig(rounds=1, patience=5, tau=1e-6, components="p+u+a")
    probs_u = predict(unlearned, mnist, forget)
    probs_a = predict(attack, mnist, forget)
    disagree = torch.nonzero(probs_u.argmax(1) != probs_a.argmax(1)).flatten()
    agree = torch.nonzero(probs_u.argmax(1) == probs_a.argmax(1)).flatten()
    assert len(disagree) > 0 and len(agree) > 0  # the case tests something
    result = cmira.induce_recovery(unlearned, attack, mnist, probe, forget, config, seed=0)

    to_attack, to_unlearned = calls
    assert to_attack["model"] is attack and to_unlearned["model"] is result.unlearned
    assert result.unlearned is not unlearned  # "p+u+a" trains a copy
    assert all(torch.equal(a, b) for a, b in zip(before, unlearned.parameters()))
    expected_indices = torch.cat([probe, forget[agree], forget[disagree]])
    one_hot = torch.nn.functional.one_hot
    shared = torch.cat([one_hot(mnist.targets(probe).cpu(), 10).float(),
                        one_hot(probs_u.argmax(1)[agree], 10).float()])
    for call, teacher in ((to_attack, probs_u), (to_unlearned, probs_a)):
        assert torch.equal(call["indices"], expected_indices)
        # the probe's true labels, the agreed labels, then the *other* model's probabilities
        assert torch.allclose(call["targets"], torch.cat([shared, teacher[disagree]]))


def test_p_plus_u_trains_the_attack_model_only(mnist, monkeypatch):
    calls = _record_fits(monkeypatch)
    unlearned = models.create_for("mlp", mnist, seed=0, hidden=[16])
    attack = models.create_for("mlp", mnist, seed=1, hidden=[16])
    config = cmira.CMIRAConfig(rounds=2, patience=5, tau=1e-6, components="p+u")
    result = cmira.induce_recovery(unlearned, attack, mnist, mnist.train[40:48],
                                   mnist.train[:40], config, seed=0)
    assert [call["model"] is attack for call in calls] == [True, True]  # one fit a round
    assert result.unlearned is unlearned



def test_rounds_count_the_rounds_that_trained_not_the_early_stops_last_look(mnist,
                                                                            monkeypatch):
    """The early stop measures the agreement once more before it stops; that measurement
    trains nothing, so it is no round (the chapter's summary counts the attacks that used
    all their rounds from this number)."""
    from mu_core.attacks import registry
    from mu_core.splits import make_split

    calls = _record_fits(monkeypatch)  # no training: the agreement never improves
    split = make_split(mnist, forget_classes=[1, 3], forget_fraction=0.5)
    unlearned = models.create_for("mlp", mnist, seed=0, hidden=[16])
    prior = models.create_for("mlp", mnist, seed=1, hidden=[16])
    config = cmira.CMIRAConfig(rounds=5, patience=1, components="p+u")
    result = cmira.induce_recovery(unlearned, prior, mnist, split.test[:20], split.forget[:40],
                                   config, seed=0)
    assert len(result.history) == 2 and result.rounds == 1 == len(calls)
    calls.clear()
    outcome = registry.run("cmira", unlearned, mnist, split, trained=unlearned, seed=0,
                           prior=prior, rounds=5, patience=2, anchor_size=20)
    assert outcome["rounds"] == 2 == len(calls) / 2  # M_A and M_U each fit once a round
    full = cmira.induce_recovery(unlearned, prior, mnist, split.test[:20], split.forget[:40],
                                 cmira.CMIRAConfig(rounds=1, patience=1), seed=0)
    assert full.rounds == 1 == len(full.history)  # a budget used up: no last look
