"""The learned membership attacker of Yuan & Zhang (2022), the attacker of discriminative
adversarial unlearning (Sharma et al.), usable on its own against any classifier.

Per sample the attacker reads three vectors of the defender, each with one entry per class:
its softmax output D(x), its sensitivity Delta(x) to small Gaussian input noise, and the
one-hot label. A batch-norm over the 3K inputs, then one token per class holding its three
entries, a linear embedding, a transformer encoder (3 self-attention layers, 4 heads) and
two linear layers give one membership logit (higher: member).

The sensitivity follows the reference code (mia_prune, `predict_target_sensitivity`):
per class, the mean over n = 10 perturbations x + s u (u ~ N(0, I), s = 1e-3) of
|D(x) - D(x + s u)| / s. The adversarial-unlearning paper writes a norm over classes with
unit noise; a per-class vector is what the attacker's one-token-per-class encoder needs,
and a small s measures the local slope rather than the output on noise-swamped images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mu_core import loops
from mu_core.errors import (MAX_EPOCHS, ConfigError, check_budget, check_fraction,
                            check_positive_int, check_positive_number, describe)

from .lira import roc_summary

SENSITIVITY_SAMPLES = 10
SENSITIVITY_SCALE = 1e-3


def attacker_inputs(model: nn.Module, x: Tensor, labels: Tensor, *, logits: Tensor | None = None,
                    samples: int = SENSITIVITY_SAMPLES, scale: float = SENSITIVITY_SCALE,
                    generator: torch.Generator | None = None) -> Tensor:
    """Rows [D(x), Delta(x), one-hot(y)] of shape (B, 3K), differentiable in the model's
    parameters. The `samples` perturbed copies of the batch go through the model in one
    forward; `logits` (the model's output on `x`, when the caller has it) saves one more."""
    logits = model(x) if logits is None else logits
    probs = logits.float().softmax(1)
    noise = torch.randn((samples, *x.shape), generator=generator).to(x.device, x.dtype)
    noisy = model((x.unsqueeze(0) + scale * noise).flatten(0, 1)).float().softmax(1)
    delta = (noisy.view(samples, *probs.shape) - probs).abs().mean(0) / scale
    onehot = F.one_hot(labels.to(x.device), probs.shape[1]).to(probs.dtype)
    return torch.cat([probs, delta, onehot], 1)


class MembershipTransformer(nn.Module):
    """The attacker network: (B, 3K) inputs to (B,) membership logits."""

    def __init__(self, num_classes: int, hidden: int = 64, layers: int = 3, heads: int = 4,
                 feedforward: int = 128, dropout: float = 0.2):
        super().__init__()
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.norm = nn.BatchNorm1d(3 * num_classes)
        self.embed = nn.Linear(3, hidden)
        layer = nn.TransformerEncoderLayer(hidden, heads, feedforward, dropout,
                                           activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.Linear(hidden * num_classes, hidden), nn.ReLU(),
                                  nn.Linear(hidden, 1))

    def forward(self, inputs: Tensor) -> Tensor:
        tokens = self.norm(inputs).view(len(inputs), 3, self.num_classes).transpose(1, 2)
        encoded = self.encoder(F.gelu(self.embed(tokens)))
        return self.head(encoded.flatten(1)).squeeze(1)


def new_attacker(num_classes: int, *, seed: int) -> MembershipTransformer:
    """A `MembershipTransformer` with initial weights drawn from `seed`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MembershipTransformer(num_classes)


def paired_logits(attacker: nn.Module, members: Tensor, nonmembers: Tensor) -> tuple[Tensor, Tensor]:
    """The attacker's logits of member and non-member rows from one forward, so that its
    batch norm (in training) sees both groups together and cannot tell them apart by batch."""
    logits = attacker(torch.cat([members, nonmembers]))
    return logits[:len(members)], logits[len(members):]


def membership_loss(member_logits: Tensor, nonmember_logits: Tensor) -> Tensor:
    """The attacker's objective as a loss: -(mean log A(member) + mean log(1 - A(non-member))),
    i.e. minus L_A of the adversarial-unlearning paper's Eq. (1)."""
    return F.softplus(-member_logits).mean() + F.softplus(nonmember_logits).mean()


def attacker_features(model: nn.Module, data, indices: Tensor, *, seed: int,
                      samples: int = SENSITIVITY_SAMPLES, scale: float = SENSITIVITY_SCALE,
                      batch_size: int = 256) -> Tensor:
    """`attacker_inputs` of the samples at `indices` under the model in eval mode, without
    gradients, in batches; the noise is drawn from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    rows = []
    with torch.no_grad():
        for batch in indices.split(batch_size):
            rows.append(attacker_inputs(model, data.inputs(batch), data.targets(batch),
                                        samples=samples, scale=scale, generator=generator))
    model.train(was_training)
    return torch.cat(rows)


def fit_attacker(members: Tensor, nonmembers: Tensor, *, epochs: int = 30, lr: float = 1e-3,
                 batch_size: int = 128, seed: int = 0) -> MembershipTransformer:
    """A fresh attacker trained on attacker-input rows of known members and non-members
    (Adam with weight decay 5e-4, our choice: the reference trains with SGD at lr 1e-3 for
    100 epochs); each batch draws as many of each."""
    _check_rows("members", members)
    _check_rows("nonmembers", nonmembers)
    check_budget("epochs", epochs, MAX_EPOCHS)
    check_positive_number("lr", lr)
    half = check_positive_int("batch_size", batch_size) // 2 or 1
    attacker = new_attacker(members.shape[1] // 3, seed=seed).to(members.device)
    optimizer = torch.optim.Adam(attacker.parameters(), lr=lr, weight_decay=5e-4)
    generator = torch.Generator().manual_seed(seed)
    steps = epochs * -(-max(len(members), len(nonmembers)) // half)
    attacker.train()
    devices = [members.device] if members.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)  # dropout: the same attacker for the same seed
        for _ in loops.track(range(steps), "learned attacker", work=steps * 2 * half,
                             device=members.device, over=("attack_epochs",)):
            pick = lambda rows: rows[torch.randint(len(rows), (half,), generator=generator)]  # noqa: E731
            loss = membership_loss(*paired_logits(attacker, pick(members), pick(nonmembers)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return attacker.eval()


def attacker_scores(attacker: nn.Module, rows: Tensor) -> Tensor:
    """Membership logits of attacker-input rows (eval mode, no gradients)."""
    attacker.eval()
    with torch.no_grad():
        return torch.cat([attacker(chunk) for chunk in rows.split(1024)])


def learned_attack(model: nn.Module, data, members: Tensor, nonmembers: Tensor, *,
                   train_fraction: float = 0.5, epochs: int = 30, seed: int = 0) -> dict:
    """The learned attacker against `model`: fitted on a random `train_fraction` of the known
    members and non-members (dataset indices), scored on the rest. Returns the held-out
    AUC, the TPR at 0.1% and 1% FPR, and the balanced accuracy at score 0."""
    fraction = check_fraction("train_fraction", train_fraction, allow_one=False)
    generator = torch.Generator().manual_seed(seed)
    fit_rows, test_rows = [], []
    for name, indices in (("members", members), ("nonmembers", nonmembers)):
        indices = _check_indices(name, indices)
        order = indices[torch.randperm(len(indices), generator=generator)]
        cut = min(max(int(round(fraction * len(order))), 1), len(order) - 1)
        rows = attacker_features(model, data, order, seed=seed)
        fit_rows.append(rows[:cut])
        test_rows.append(rows[cut:])
    attacker = fit_attacker(*fit_rows, epochs=epochs, seed=seed)
    scores = [attacker_scores(attacker, rows).cpu() for rows in test_rows]
    is_member = torch.cat([torch.ones(len(scores[0])), torch.zeros(len(scores[1]))])
    summary = roc_summary(torch.cat(scores), is_member)
    summary["accuracy"] = float(((scores[0] > 0).double().mean()
                                 + (scores[1] <= 0).double().mean()) / 2)
    return summary


def _check_rows(name: str, rows) -> None:
    if not isinstance(rows, Tensor) or rows.dim() != 2 or rows.shape[1] % 3 or len(rows) == 0:
        raise ConfigError(f"{name} must be a non-empty (samples, 3 x classes) tensor of "
                          f"attacker inputs, got {describe(rows)}.")


def _check_indices(name: str, indices) -> Tensor:
    if not isinstance(indices, Tensor) or indices.dim() != 1 or indices.dtype != torch.long:
        raise ConfigError(f"{name} must be a 1-d int64 tensor of dataset indices, got "
                          f"{describe(indices)}.")
    if len(indices) < 2:
        raise ConfigError(f"{name} needs at least 2 samples (one to fit on, one to score), "
                          f"got {len(indices)}.")
    return indices
