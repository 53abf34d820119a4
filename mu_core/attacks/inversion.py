"""Model inversion (Fredrikson et al.; the class-level verification of Graves et al.):
class representatives by gradient ascent on the input, from the mean image."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..errors import check_positive_int, check_positive_number


def class_representatives(model: nn.Module, start: Tensor, classes, *, steps: int = 300,
                          lr: float = 0.05, noise: float = 0.01, seed: int = 0) -> Tensor:
    """One image in [0, 1] per class maximising that class's softmax log-probability, all
    classes in one batch; projected onto [0, 1] after every step. The start gets a little
    seeded noise: a bias-free network on centred inputs has a zero gradient at the mean
    image itself."""
    steps = check_positive_int("inversion_steps", steps)
    lr = check_positive_number("inversion_lr", lr)
    classes = torch.as_tensor(list(classes))
    generator = torch.Generator().manual_seed(seed)
    jitter = torch.randn((len(classes), *start.shape), generator=generator) * noise
    images = (start.expand(len(classes), *start.shape) + jitter.to(start.device)).clamp(0, 1)
    images = images.requires_grad_(True)
    optimizer = torch.optim.Adam([images], lr=lr)
    model = model.eval()
    for _ in range(steps):
        log_probs = model(images).log_softmax(1)
        loss = -log_probs.gather(1, classes.view(-1, 1).to(images.device)).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            images.clamp_(0, 1)
    return images.detach()
