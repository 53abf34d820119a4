from dataclasses import replace

import pytest
import torch

from mu_core.data import class_counts
from mu_core.errors import ConfigError
from mu_core.splits import make_split, same_class_test, training_subset


def _as_set(t):
    return set(t.tolist())


def test_classwise_partial_forgetting_takes_half_of_each_chosen_class(mnist):
    split = make_split(mnist, forget_classes=[1, 3, 5, 7, 9], forget_fraction=0.5, seed=0)
    counts = class_counts(mnist, split.forget).tolist()
    assert counts == [0, 200, 0, 200, 0, 200, 0, 200, 0, 200]
    assert split.kind == "classwise" and split.forget_classes == (1, 3, 5, 7, 9)
    assert _as_set(split.forget) | _as_set(split.retain) == _as_set(split.train)
    assert not _as_set(split.forget) & _as_set(split.retain)
    assert split.sizes() == {"train": 4000, "forget": 1000, "retain": 3000, "test": 1000, "val": 0}


def test_a_split_is_a_pure_function_of_its_inputs_and_seed(mnist):
    a = make_split(mnist, forget_classes=[2], forget_fraction=0.3, seed=4)
    b = make_split(mnist, forget_classes=[2], forget_fraction=0.3, seed=4)
    c = make_split(mnist, forget_classes=[2], forget_fraction=0.3, seed=5)
    assert torch.equal(a.forget, b.forget) and torch.equal(a.retain, b.retain)
    assert not torch.equal(a.forget, c.forget)


def test_the_order_of_the_forget_classes_does_not_change_the_request(mnist):
    ordered = make_split(mnist, forget_classes=[1, 9], forget_fraction=0.5, seed=3)
    reversed_ = make_split(mnist, forget_classes=[9, 1], forget_fraction=0.5, seed=3)
    assert torch.equal(ordered.forget, reversed_.forget)
    assert reversed_.forget_classes == (1, 9) and reversed_.spec == ordered.spec


def test_whole_class_forgetting(mnist):
    split = make_split(mnist, forget_classes=[4], forget_fraction=1.0)
    assert split.kind == "class"
    assert class_counts(mnist, split.forget)[4] == 400 and len(split.forget) == 400
    assert class_counts(mnist, split.retain)[4] == 0


def test_random_forgetting(mnist):
    split = make_split(mnist, random_fraction=0.1, seed=1)
    assert split.kind == "random" and len(split.forget) == 400
    assert (class_counts(mnist, split.forget) > 10).all()  # spread over the classes


def test_explicit_indices(mnist):
    chosen = mnist.train[[0, 5, 17]].tolist()
    split = make_split(mnist, forget_indices=chosen)
    assert split.kind == "samples" and split.forget.tolist() == sorted(chosen)
    assert len(split.retain) == 3997
    with pytest.raises(ConfigError, match="not in the training split"):
        make_split(mnist, forget_indices=[int(mnist.test[0])])
    with pytest.raises(ConfigError, match="twice"):
        make_split(mnist, forget_indices=[chosen[0], chosen[0]])


def test_validation_holdout_and_small_training_sets_are_stratified(mnist):
    split = make_split(mnist, forget_classes=[0], forget_fraction=0.5, val_fraction=0.1)
    assert class_counts(mnist, split.val).tolist() == [40] * 10
    assert len(split.train) == 3600 and not _as_set(split.val) & _as_set(split.train)
    small = make_split(mnist, random_fraction=0.1, train_size=50)
    assert class_counts(mnist, small.train).tolist() == [5] * 10 and len(small.forget) == 5


@pytest.mark.parametrize("kwargs, message", [
    ({"forget_classes": [10]}, "class 10, out of range.*0 to 9"),
    ({"forget_classes": [-1]}, "out of range"),
    ({"forget_classes": [1, 1]}, "class twice"),
    ({"forget_classes": [True]}, "integer class ids"),
    ({"forget_classes": 3}, "must be a list"),
    ({"forget_classes": [1], "forget_fraction": 0}, r"forget_fraction must be in \(0, 1\]"),
    ({"forget_classes": [1], "forget_fraction": 1.5}, r"forget_fraction must be in \(0, 1\]"),
    ({"forget_classes": [1], "forget_fraction": "0.5"}, "must be a number.*str '0.5'"),
    ({"random_fraction": 0.0}, r"random_fraction must be in \(0, 1\]"),
    ({}, "exactly one forget spec"),
    ({"random_fraction": 0.1, "forget_classes": [1]}, "exactly one forget spec"),
    ({"forget_indices": []}, "forget set must not be empty"),
    ({"forget_classes": [1], "forget_fraction": 0.001}, "forget set must not be empty"),
    ({"random_fraction": 0.1, "val_fraction": 1.0}, r"val_fraction must be in \[0, 1\)"),
    ({"random_fraction": 0.1, "train_size": 5000}, "train_size must be at most"),
    ({"random_fraction": 0.1, "seed": 1.5}, "seed must be a non-negative integer"),
    ({"random_fraction": 0.1, "seed": -1}, "seed must be a non-negative integer, got int -1"),
    ({"random_fraction": 1.0}, "random_fraction=1.0 forgets all 4000 training samples and "
                               "leaves none to retain"),
    ({"forget_classes": list(range(10)), "forget_fraction": 1},
     r"forget_classes=\[0, 1, 2, 3, 4, 5, 6, 7, 8, 9\] with forget_fraction=1.0 forgets all"),
])
def test_bad_specs_fail_with_a_sentence(mnist, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_split(mnist, **kwargs)


def test_unknown_subset_name(mnist):
    split = make_split(mnist, random_fraction=0.1)
    with pytest.raises(ConfigError, match="unknown subset 'probe'"):
        split.subset("probe")


def test_a_training_subset_is_stratified_fixed_and_leaves_the_test_split(mnist):
    subset = training_subset(mnist, 1000)
    assert len(subset.train) == 1000 and torch.isin(subset.train, mnist.train).all()
    assert class_counts(mnist, subset.train).tolist() == [100] * 10
    assert torch.equal(subset.train, training_subset(mnist, 1000).train)  # the same each run
    assert torch.equal(subset.test, mnist.test) and subset.images is mnist.images
    split = make_split(subset, random_fraction=0.1, seed=3)  # splits draw from the subset
    assert torch.isin(split.forget, subset.train).all() and len(split.train) == 1000
    assert training_subset(mnist, None) is mnist
    with pytest.raises(ConfigError, match="train_size must be at most"):
        training_subset(mnist, len(mnist.train) + 1)


def test_a_membership_signal_compares_the_forget_set_with_test_samples_of_its_classes(mnist):
    partial = make_split(mnist, forget_classes=[3, 5], forget_fraction=0.5, seed=0)
    chosen = same_class_test(mnist, partial)
    assert set(mnist.labels[chosen].tolist()) == {3, 5}
    assert len(chosen) == int(torch.isin(mnist.labels[mnist.test], torch.tensor([3, 5])).sum())
    whole = make_split(mnist, forget_classes=[3], seed=0)
    assert set(mnist.labels[same_class_test(mnist, whole)].tolist()) == {3}
    random = make_split(mnist, random_fraction=0.1, seed=0)
    assert torch.equal(same_class_test(mnist, random), random.test)


def test_a_split_is_refused_on_other_data_than_it_was_made_from(mnist, digits):
    """A split of digits used with mnist5k would unlearn the wrong samples (issue 36, 12)."""
    from mu_core import models
    from mu_core.unlearn import unlearn

    split = make_split(digits, forget_classes=[1], forget_fraction=0.5)
    assert split.data["dataset"] == "digits" and split.data["images"] == len(digits.labels)
    model = models.create_for("cnn", mnist, seed=0)
    with pytest.raises(ConfigError, match="this split was made from 'digits' .* but is used "
                                          "with 'mnist5k'"):
        unlearn("ga", model, mnist, split)
    with pytest.raises(ConfigError, match="made from 'digits'"):
        split.check_data(mnist)


def test_a_split_of_a_training_subset_fits_the_subset_and_the_whole_data(mnist):
    """Chapters 01, 05 and 06 draw splits from `training_subset(data)`; the subset has the
    same images and labels, so its splits fit both (and one moved to a device too)."""
    subset = training_subset(mnist, 500)
    split = make_split(subset, random_fraction=0.1, seed=1)
    split.check_data(subset)
    split.check_data(mnist)
    replace(split, forget=split.forget[:3]).check_data(subset)  # as `rsu` takes parts of it
