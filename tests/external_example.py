"""Unlearning methods in the NeurIPS 2023 kit's shape, loaded by path in
tests/test_external_methods.py: `unlearning` is the README's ten-line example."""

import torch
from torch import nn


def unlearning(net, retain, forget, validation):
    """Fine-tune on the retain set for one epoch."""
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    net.train()
    for inputs, targets in retain:
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(inputs), targets).backward()
        optimizer.step()
    return net.eval()


# Wrong shapes, each refused with its own sentence.
not_a_function = 3


def two_arguments(net, retain):
    return net


def returns_nothing(net, retain, forget, validation):
    return None


def returns_another_architecture(net, retain, forget, validation):
    return nn.Linear(2, 2)


def returns_a_fresh_copy(net, retain, forget, validation):
    """Zero the last layer's bias of a copy (a method that builds a new model)."""
    import copy
    new = copy.deepcopy(net)
    with torch.no_grad():
        list(new.parameters())[-1].zero_()
    return new


def counts_batches(net, retain, forget, validation):
    """Record what the loaders yield (for the data-form test)."""
    counts_batches.seen = {name: [(x.shape, y.dtype, y.tolist()) for x, y in loader]
                           for name, loader in (("retain", retain), ("forget", forget),
                                                ("validation", validation))}
    return net
