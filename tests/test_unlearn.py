import copy
import dataclasses

import pytest
import torch
import torch.nn.functional as F

from mu_core import models, persample
from mu_core.errors import ConfigError
from mu_core.splits import make_split
from mu_core.train import Recipe, evaluate, predict
from mu_core.unlearn import METHODS, unlearn
from mu_core.unlearn.pruning import omp_masks, prunable
from mu_core.unlearn.saliency import saliency_masks
from mu_core.zoo import plan, trained_model

# The most any method may lower accuracy on retained samples of the classes that are not
# being forgotten. (On the retained half of the forget classes, class-level methods such as
# UNSC and BU also forget: measured 0.00 and 0.43 after 0.98, as the MRA paper's Table 2
# shows for CIFAR-10.)
RETAIN_MARGIN = 0.05
# FF's noise is shaped by the retain Fisher, which the retained halves of the forget classes
# share, so noise that moves the forget set costs the other classes more: at alpha 3e-6,
# forget 0.958 -> 0.940 and other classes 0.977 -> 0.883; at the default 1e-6 the forget
# accuracy does not move (measured on this fixture).
METHOD_RETAIN_MARGIN = {"ff": 0.15}


@pytest.fixture(scope="module")
def setting(mnist):
    split = make_split(mnist, forget_classes=[1, 3, 5, 7, 9], forget_fraction=0.5)
    model, _ = trained_model(mnist, split, "cnn", Recipe(epochs=4))
    return model, split, _scores(model, mnist, split)


def _scores(model, data, split):
    other = split.retain[~torch.isin(data.labels[split.retain], torch.tensor(split.forget_classes))]
    predicted = predict(model, data, other).argmax(1)
    return {"forget": evaluate(model, data, split, ("forget",))["forget"],
            "other_retain": (predicted == data.labels[other]).float().mean().item()}


def test_the_fourteen_methods_are_registered():
    assert set(METHODS) == {"retrain", "ft", "ga", "rl", "ff", "iu", "wp", "l1_sparse", "bu",
                            "salun", "unsc", "bad_teacher", "rsu", "adversarial"}


# RSU runs its base method once per round on nested subsets, (n + 1) / 2 passes over the
# forget set per base epoch: three rounds of one GA epoch match GA's default two epochs.
SETTINGS = {"rsu": {"rounds": 3, "base_settings": {"epochs": 3}}, "ff": {"alpha": 3e-6}}  # rsu: an epoch a round


# The adversarial method needs a validation set and aims at membership, not at forget
# accuracy: tests/test_adversarial.py checks it on a model that leaks.
@pytest.mark.parametrize("name", sorted(set(METHODS) - {"adversarial"}))
def test_every_method_forgets_and_keeps_the_other_classes(mnist, setting, name):
    model, split, before = setting
    reference = copy.deepcopy(model.state_dict())
    after = _scores(unlearn(name, model, mnist, split, **SETTINGS.get(name, {})), mnist, split)
    assert after["forget"] < before["forget"]
    margin = METHOD_RETAIN_MARGIN.get(name, RETAIN_MARGIN)
    assert after["other_retain"] > before["other_retain"] - margin
    assert all(torch.equal(v, reference[k]) for k, v in model.state_dict().items())  # input untouched


def test_influence_unlearning_matches_exact_retraining_of_logistic_regression(digits):
    # L2-regularised softmax regression, solved exactly with and without the forget set.
    # The influence step with the Gauss-Newton (expected) Fisher is the Newton step of the
    # retain objective: it lands within 5% of the distance it had to travel. The empirical
    # Fisher of WoodFisher is a poor Hessian near the optimum (about 94% error here).
    torch.set_default_dtype(torch.float64)
    try:
        split = make_split(digits, random_fraction=0.05, seed=0)
        decay = 1e-2
        model = _solve(models.create("mlp", 10, 1, 8, hidden=(), seed=0), digits, split.train, decay)
        retrained = _solve(copy.deepcopy(model), digits, split.retain, decay)
        errors = {}
        for fisher in ("expected", "empirical"):
            unlearned = unlearn("iu", model, digits, split, alpha=1.0, damping=decay,
                                weight_decay=decay, fisher=fisher, max_samples=None)
            errors[fisher] = ((_vector(unlearned) - _vector(retrained)).norm()
                              / (_vector(model) - _vector(retrained)).norm()).item()
    finally:
        torch.set_default_dtype(torch.float32)
    assert errors["expected"] < 0.05
    assert errors["expected"] < errors["empirical"] < 1.0


def _solve(model, data, indices, decay):
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=500, tolerance_grad=1e-12,
                                  tolerance_change=1e-14, history_size=50,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data.inputs(indices)), data.targets(indices)) + \
            decay / 2 * sum(p.pow(2).sum() for p in model.parameters())
        loss.backward()
        return loss

    for _ in range(5):
        optimizer.step(closure)
    return model


def _vector(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.mark.parametrize("kind", ["empirical", "expected"])
def test_fisher_diagonal_from_torch_func_equals_a_per_sample_loop(digits, kind):
    model = models.create("cnn", 10, 1, 8, width=4, seed=0).eval()
    indices = digits.train[:30]
    fast = persample.fisher_diagonal(model, digits, indices, kind=kind, chunk_size=8)
    slow = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for i in indices:  # the reference's explicit loop over samples
        log_probs = model(digits.inputs(i.view(1))).log_softmax(-1)[0]
        classes = [int(digits.labels[i])] if kind == "empirical" else range(10)
        for c in classes:
            weight = 1.0 if kind == "empirical" else log_probs[c].exp().item()
            grads = torch.autograd.grad(log_probs[c], list(model.parameters()), retain_graph=True)
            for (name, _), g in zip(model.named_parameters(), grads):
                slow[name] += weight * g.pow(2) / len(indices)
    for name in slow:
        assert torch.allclose(fast[name], slow[name], rtol=1e-4, atol=1e-10), name


def test_batch_mean_fisher_squares_batch_mean_gradients_like_unlearn_sparse(digits):
    model = models.create("cnn", 10, 1, 8, width=4, seed=0).eval()
    indices = digits.train[:30]
    fast = persample.batch_mean_fisher_diagonal(model, digits, indices, batch_size=8,
                                                class_chunk=3)
    slow = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    batches = indices.split(8)  # 8, 8, 8 and 6 samples
    for batch in batches:  # the reference's loop: a backward per batch and class
        log_probs = model(digits.inputs(batch)).log_softmax(-1)
        for c in range(10):
            weight = log_probs[:, c].exp().mean().item()
            grads = torch.autograd.grad(log_probs[:, c].mean(), list(model.parameters()),
                                        retain_graph=True)
            for (name, _), g in zip(model.named_parameters(), grads):
                slow[name] += weight * g.pow(2) / len(batches)
    exact = persample.fisher_diagonal(model, digits, indices, kind="expected")
    single = persample.batch_mean_fisher_diagonal(model, digits, indices, batch_size=1)
    for name in slow:
        assert torch.allclose(fast[name], slow[name], rtol=1e-4, atol=1e-10), name
        assert torch.allclose(single[name], exact[name], rtol=1e-4, atol=1e-10), name
    assert fast["0.weight"].sum() < 0.5 * exact["0.weight"].sum()  # not the per-sample one


def test_salun_leaves_masked_out_weights_bit_identical(mnist, setting):
    model, split, _ = setting
    masks = saliency_masks(model, mnist, split, 0.5)
    kept = sum(m.sum().item() for m in masks.values()) / sum(m.numel() for m in masks.values())
    assert kept == pytest.approx(0.5, abs=0.01)
    unlearned = unlearn("salun", model, mnist, split, mask_fraction=0.5, epochs=1)
    before, after = dict(model.named_parameters()), dict(unlearned.named_parameters())
    changed = 0
    for name, mask in masks.items():
        assert torch.equal(after[name][~mask], before[name][~mask]), name
        changed += (after[name][mask] != before[name][mask]).sum().item()
    assert changed > 0


def test_omp_reaches_the_sparsity_and_the_mask_stays_applied(mnist, setting):
    model, split, _ = setting
    masks = omp_masks(model, 0.9)
    zeros = sum((m == 0).sum().item() for m in masks.values())
    assert zeros / sum(m.numel() for m in masks.values()) == pytest.approx(0.9, abs=1e-4)
    pruned = unlearn("wp", model, mnist, split, sparsity=0.9, epochs=1, layers="conv_linear")
    weights = prunable(pruned)
    for name, mask in masks.items():
        assert (weights[name][mask == 0] == 0).all()


@pytest.mark.parametrize("call, message", [
    (dict(name="forget_all"), "unknown unlearning method 'forget_all'; accepted: .*retrain"),
    (dict(name="ft", lr=-0.1), "lr must be > 0"),
    (dict(name="ft", learning_rate=0.1), "no hyper-parameter learning_rate; accepted: epochs, lr"),
    (dict(name="bu", random=True), "'bu' does not support random forgetting"),
    (dict(name="unsc", random=True), "'unsc' does not support random forgetting; it supports: class"),
    (dict(name="wp", sparsity=1.0), r"sparsity must be in \[0, 1\)"),
    (dict(name="iu", fisher="exact"), "unknown fisher 'exact'"),
    (dict(name="ga", lr=float("nan")), "ga lr must be a finite number, got nan"),
    (dict(name="ff", alpha=float("inf")), "ff alpha must be a finite number, got inf"),
    (dict(name="ga", epochs=2.5), "ga epochs must be an int like its default 2, got float 2.5"),
    (dict(name="iu", fisher=1), "iu fisher must be a str like its default"),
])
def test_bad_requests_fail_with_a_sentence(mnist, setting, call, message):
    model, split, _ = setting
    call = dict(call)
    if call.pop("random", False):
        split = make_split(mnist, random_fraction=0.1)
    with pytest.raises(ConfigError, match=message):
        unlearn(call.pop("name"), model, mnist, split, **call)


@pytest.mark.parametrize("method, settings, message", [
    ("ft", {"epochs": 0}, "ft epochs must be an integer from 1 to 10000"),
    ("ga", {"epochs": 10**6}, "ga epochs must be an integer from 1 to 10000"),
    ("rl", {"batch_size": -1}, "rl batch_size must be a positive integer"),
    ("rl", {"weight_decay": -1e-4}, "rl weight_decay must be >= 0"),
    ("l1_sparse", {"alpha": -1.0}, "l1_sparse alpha must be >= 0"),
    ("ff", {"alpha": 0.0}, "alpha must be > 0"),
    ("iu", {"fisher": "exact"}, "unknown fisher 'exact'"),
    ("iu", {"max_samples": 0}, "iu max_samples must be a positive integer"),
    ("bad_teacher", {"retain_fraction": 1.5}, r"bad_teacher retain_fraction must be in \(0, 1\]"),
    ("salun", {"mask_fraction": 0.0}, r"salun mask_fraction must be in \(0, 1\]"),
    ("retrain", {"schedule": "linear"}, "unknown retrain schedule 'linear'"),
    ("retrain", {"augment": "rotate"}, "unknown retrain augment 'rotate'"),
    ("bu", {"bound": -0.1}, "bu bound must be > 0"),
])
def test_out_of_range_settings_fail_in_the_plan_before_any_training(mnist, method, settings,
                                                                    message, cache_dir):
    with pytest.raises(ConfigError, match=message):
        plan(mnist, {"class": {"forget_classes": [3]}}, [method], [0], {method: settings})
    assert not list(cache_dir.glob("**/*.pt"))  # nothing was trained


def test_unsc_updates_leave_the_retain_inputs_outputs_of_a_linear_layer_unchanged(mnist):
    # The null-space projection at work on one layer: after unlearning, the first layer's
    # response to the retain inputs that spanned its basis (99.9% of their energy) barely
    # moves, although its weights changed.
    from mu_core.unlearn.fisher import subsample
    from mu_core.unlearn.nullspace import layer_inputs

    split = make_split(mnist, forget_classes=[3], forget_fraction=1.0)
    model, _ = trained_model(mnist, split, "mlp", Recipe(epochs=2), hidden=(64,))
    probe = subsample(split.retain, 300, seed=0)  # the samples the basis is built from
    unlearned = unlearn("unsc", model, mnist, split, energy=0.999, max_samples=300)
    x = layer_inputs(model, mnist, probe)[model[1]][0].T
    moved = (unlearned[1](x) - model[1](x)).norm() / model[1](x).norm()
    assert moved < 0.05
    assert (unlearned[1].weight - model[1].weight).norm() > 0  # it did change


def test_unsc_projects_a_depthwise_convolution_group_by_group(digits):
    # A depthwise convolution's filters each see one channel, so its null space is one
    # per group (EfficientNet has 30 such layers). After unlearning, the response of both
    # convolutions to the retain samples the bases were built from barely moves.
    from torch import nn

    from mu_core.train import fit
    from mu_core.unlearn.fisher import subsample

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(4, 8, 3, padding=1, groups=4), nn.ReLU(),
                          nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
    split = make_split(digits, forget_classes=[3], forget_fraction=1.0)
    fit(model, digits, split.train, Recipe(epochs=3, batch_size=64))
    unlearned = unlearn("unsc", model, digits, split, energy=0.999, max_samples=300, lr=0.05)
    probe = digits.inputs(subsample(split.retain, 300, seed=0))
    before, after = model[:3](probe), unlearned[:3](probe)
    assert (after - before).norm() / before.norm() < 0.05


def test_the_null_space_of_a_grouped_convolution_is_taken_per_group(digits):
    # With 5 patches per group (fewer than the 2 x 3 x 3 = 18 dimensions of a group's
    # filter), the projected gradient is exactly orthogonal to the group's own patches:
    # the layer's output on them cannot move. Mixing up groups breaks this.
    from torch import nn

    from mu_core.unlearn.nullspace import layer_inputs, principal_projector, project_out

    torch.manual_seed(0)
    grouped = nn.Conv2d(4, 6, 3, padding=1, groups=2)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), grouped)
    patches = layer_inputs(model, digits, digits.train[:40], max_columns=5)[grouped]
    assert patches.shape == (2, 18, 5)
    gradient = torch.randn_like(grouped.weight)
    projected = project_out(principal_projector(patches, 1 - 1e-9))(gradient)
    response = projected.reshape(2, 3, 18) @ patches  # (group, its filters, its patches)
    assert response.abs().max() < 1e-4 * gradient.abs().max()
    assert (gradient.reshape(2, 3, 18) @ patches).abs().max() > 0.1
    assert projected.norm() > 0.5 * gradient.norm()  # 13 of 18 directions remain free


@pytest.mark.parametrize("stride, size", [(1, 7), (2, 7), (2, 8)])
def test_layer_inputs_are_the_patches_a_same_padded_convolution_sees(stride, size):
    # timm's TF-style Conv2dSame (EfficientNet-V2's tf_ weights) pads inside forward, and
    # padding="same" is a string: the captured patches times the flattened filters must
    # give the convolution's own output, pixel for pixel.
    from timm.layers import Conv2dSame
    from torch import nn

    from mu_core.data import ImageData
    from mu_core.unlearn.nullspace import layer_inputs

    torch.manual_seed(0)
    same = Conv2dSame(3, 4, 3, stride=stride, bias=False)
    layers = [same] + ([nn.Conv2d(4, 4, 3, padding="same", bias=False)] if stride == 1 else [])
    model = nn.Sequential(*layers)
    images = torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8)
    data = ImageData("tiny", images, torch.tensor([0, 1]), torch.arange(2), torch.arange(0),
                     ("a", "b"), (0.5,) * 3, (0.25,) * 3)
    captured = layer_inputs(model, data, torch.arange(2), max_columns=10**6, seed=0)
    x = data.inputs(torch.arange(2))
    for layer in layers:
        output = layer(x).detach()
        patches = captured[layer][0].T  # (columns, d), rows in a random order
        products = patches @ layer.weight.reshape(4, -1).T.detach()
        expected = output.permute(0, 2, 3, 1).reshape(-1, 4)
        assert products.shape == expected.shape
        assert torch.allclose(products.sort(0).values, expected.sort(0).values, atol=1e-5)
        x = output


def test_patches_are_drawn_chunk_by_chunk_as_one_unfold_of_the_batch_would_draw_them():
    # 40 images, more than PATCH_CHUNK: the rows must be those a single unfold of the
    # whole batch and one random draw over its (image, position) rows give, in order.
    from torch import nn

    from mu_core.unlearn import nullspace

    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, groups=1)
    x = torch.randn(40, 3, 9, 9)
    drawn = nullspace.sampled_patches(conv, x, 70, torch.Generator().manual_seed(5))
    whole = torch.nn.functional.unfold(x, 3, 1, 1, 2).transpose(1, 2).reshape(-1, 27)
    chosen = torch.randperm(len(whole), generator=torch.Generator().manual_seed(5))[:70]
    assert nullspace.PATCH_CHUNK < 40 and torch.equal(drawn, whole[chosen])


def test_unscs_pseudo_labels_keep_partly_retained_forget_classes_possible(mnist, monkeypatch):
    # Each forget sample's label is its most likely class other than its own; classes
    # forgotten whole are excluded too, partly retained ones are not (excluding every forget
    # class in partial forgetting taught the model to abandon all of them: UA 100, TA 48).
    from mu_core.unlearn import nullspace

    def logits_of(split):
        labels = mnist.targets(split.forget).cpu()
        logits = torch.zeros(len(labels), 10)
        logits[torch.arange(len(labels)), labels] = 9.0  # its own class first,
        logits[:, 3] = 5.0  # then class 3 (a forget class) for every sample,
        logits[:, 0] = 4.0  # then class 0
        logits[labels == 3, 3] = 9.0
        return labels, logits

    partial = make_split(mnist, forget_classes=[1, 3], forget_fraction=0.5)
    labels, logits = logits_of(partial)
    monkeypatch.setattr(nullspace, "predict", lambda *args, **kwargs: logits.clone())
    pseudo = nullspace.pseudo_labels(None, mnist, partial)
    assert (pseudo != labels).all()
    assert (pseudo[labels == 1] == 3).all()  # class 3 keeps samples: still a label
    assert (pseudo[labels == 3] == 0).all()  # never its own
    whole = make_split(mnist, forget_classes=[1, 3], forget_fraction=1.0)
    labels, logits = logits_of(whole)
    monkeypatch.setattr(nullspace, "predict", lambda *args, **kwargs: logits.clone())
    assert (nullspace.pseudo_labels(None, mnist, whole) == 0).all()  # 1 and 3 are gone


@pytest.mark.parametrize("call, message", [
    (lambda model, data, split: ("ga", None, None, None), "needs a torch model"),
    (lambda model, data, split: ("ga", "resnet18", data, split), "needs a torch model.*got str"),
    (lambda model, data, split: ("ga", model, None, split), "needs the data as an ImageData"),
    (lambda model, data, split: ("ga", model, data, None), "needs a Split"),
    (lambda model, data, split: (["ga"], model, data, split), "given by its name, a string"),
    (lambda model, data, split: ("ga", models.create("cnn", 3, 1, data.image_size), data, split),
     r"outputs of shape \(1, 3\) but 'mnist5k' has 10 classes"),
    (lambda model, data, split: ("ga", models.create("cnn", 10, 3, data.image_size), data,
                                 split), "does not accept the images of 'mnist5k'"),
])
def test_a_library_call_with_wrong_arguments_is_one_sentence_before_any_step(
        mnist, setting, call, message, monkeypatch):
    """A researcher's own notebook calls `unlearn` with the wrong things: each is refused
    with one ConfigError sentence, and no method starts (issue 36, item 11)."""
    model, split, _ = setting
    started = []
    monkeypatch.setitem(METHODS, "ga", dataclasses.replace(
        METHODS["ga"], run=lambda *args, **kwargs: started.append(args)))
    with pytest.raises(ConfigError, match=message):
        unlearn(*call(model, mnist, split))
    assert started == []
