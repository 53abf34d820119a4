"""A method written outside the package, in the NeurIPS 2023 kit's shape, loaded by path
and run like a registered one (mu_core/unlearn/external.py)."""

import pytest
import torch

from mu_core.errors import ConfigError
from mu_core.models import create_for
from mu_core.splits import make_split
from mu_core.unlearn import METHODS, Method, unlearn
from mu_core.unlearn.external import load_external, probe_external, register_external

EXAMPLE = "external_example:unlearning"  # tests/ is on sys.path under pytest


@pytest.fixture(scope="module")
def tiny(mnist):
    split = make_split(mnist, random_fraction=0.1, val_fraction=0.02, train_size=100, seed=0)
    return mnist, split


def one_sentence(error) -> str:
    text = str(error.value)
    assert text.endswith(".") and ". " not in text, text
    return text


def test_the_example_is_loaded_by_path_and_run_like_a_registered_method(tiny):
    data, split = tiny
    model = create_for("cnn", data, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    method = register_external(EXAMPLE)
    try:
        assert isinstance(method, Method) and METHODS[EXAMPLE] is method
        assert method.title == f"Fine-tune on the retain set for one epoch ({EXAMPLE})"
        assert method.hyperparameters() == {"batch_size": 128, "seed": 0}
        unlearned = unlearn(EXAMPLE, model, data, split, batch_size=32)
        with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
            unlearn(EXAMPLE, model, data, split, batch_size=0)
    finally:
        METHODS.pop(EXAMPLE, None)
    after = list(unlearned.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # a copy
    assert not unlearned.training


def test_a_returned_new_model_is_copied_into_the_run_model(tiny):
    data, split = tiny
    model = create_for("cnn", data, seed=0)
    load_external("external_example:returns_a_fresh_copy").run(model, data, split)
    assert torch.count_nonzero(list(model.parameters())[-1]) == 0


def test_the_loaders_yield_the_kits_batches(tiny):
    import external_example

    data, split = tiny
    model = create_for("cnn", data, seed=0)
    method = load_external("external_example:counts_batches")
    method.run(model, data, split, batch_size=50, seed=3)
    seen = external_example.counts_batches.seen
    for name, indices in (("retain", split.retain), ("forget", split.forget),
                          ("validation", split.val)):
        shapes = [shape for shape, _, _ in seen[name]]
        assert [s[0] for s in shapes] == [min(50, len(indices) - i)
                                          for i in range(0, len(indices), 50)]
        assert all(s[1:] == (1, 28, 28) for s in shapes)
        assert all(dtype == torch.int64 for _, dtype, _ in seen[name])
        labels = [y for _, _, batch in seen[name] for y in batch]
        assert sorted(labels) == sorted(data.labels[indices].tolist())
    # validation in order; retain shuffled, the same order again from the same seed
    assert [y for _, _, b in seen["validation"] for y in b] == data.labels[split.val].tolist()
    first = seen["retain"]
    method.run(model, data, split, batch_size=50, seed=3)
    assert external_example.counts_batches.seen["retain"] == first
    assert [y for _, _, b in first for y in b] != data.labels[split.retain].tolist()


@pytest.mark.parametrize("path, message", [
    ("external_example.unlearning", "named 'package.module:function' \\(one colon"),
    ("a:b:c", "one colon"),
    ("no_such_module_xyz:unlearning", "module 'no_such_module_xyz' cannot be imported "
                                      "\\(ModuleNotFoundError"),
    ("external_example:missing", "has no attribute 'missing'; its functions: .*unlearning"),
    ("external_example:not_a_function", "is int 3, not callable; accepted: a function "
                                        "unlearning\\(net, retain, forget, validation\\)"),
    ("external_example:two_arguments", "signature \\(net, retain\\), which cannot take "
                                       "\\(net, retain, forget, validation\\)"),
])
def test_a_bad_path_is_refused_before_any_run(path, message):
    with pytest.raises(ConfigError, match=message) as error:
        load_external(path)
    one_sentence(error)


@pytest.mark.parametrize("name, message", [
    ("returns_nothing", "returned NoneType None, not an nn.Module"),
    ("returns_another_architecture", "returned a Linear of another architecture \\(missing "
                                     ".*; unexpected bias, weight\\)"),
])
def test_a_wrong_return_is_refused_by_a_probe_before_training(tiny, name, message):
    # Only a call shows what a function returns: the probe runs it on 4 samples of each set
    # and a copy of the model (here untrained), and leaves the model as it was.
    data, split = tiny
    model = create_for("cnn", data, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    method = load_external(f"external_example:{name}")
    with pytest.raises(ConfigError, match=message) as error:
        probe_external(method, model, data, split)
    one_sentence(error)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    probe_external(load_external(EXAMPLE), model, data, split)  # the right shape passes
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
