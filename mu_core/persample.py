"""Per-sample gradients with `torch.func` (vmap of grad), in chunks: no loop over samples.

Used by Fisher forgetting (diagonal Fisher), influence unlearning (WoodFisher) and SalUn
(saliency). The model is evaluated in eval mode, so batch norm uses its running statistics
and every sample's gradient is independent of the others in its chunk.

Per-sample work is held one chunk at a time, and a chunk is as large as fits the memory
budget (`memory_budget`); `fisher_product` multiplies by the Fisher without holding any
per-sample gradient.
"""

from __future__ import annotations

import os
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad, jacrev, jvp, vjp, vmap

from . import loops
from .data import ImageData
from .errors import ConfigError


def trainable(model: nn.Module) -> dict[str, Tensor]:
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def _buffers(model: nn.Module) -> dict[str, Tensor]:
    return {name: b.detach() for name, b in model.named_buffers()}


def flatten(tensors: dict[str, Tensor], batch_dims: int = 0) -> Tensor:
    """Concatenate a dict of tensors into one vector (per leading batch element)."""
    return torch.cat([t.reshape(*t.shape[:batch_dims], -1) for t in tensors.values()], dim=-1)


def unflatten(vector: Tensor, like: dict[str, Tensor]) -> dict[str, Tensor]:
    out, start = {}, 0
    for name, t in like.items():
        out[name] = vector[start:start + t.numel()].view_as(t)
        start += t.numel()
    return out


def _chunks(data: ImageData, indices: Tensor, chunk_size: int) -> Iterator[tuple[Tensor, Tensor]]:
    for chunk in loops.track(indices.split(chunk_size), "per-sample chunks", unit="chunk"):
        yield data.inputs(chunk), data.targets(chunk)


def sample_gradients(model: nn.Module, data: ImageData, indices: Tensor, *,
                     chunk_size: int = 128) -> Iterator[dict[str, Tensor]]:
    """Yield, chunk by chunk, the gradients of each sample's cross-entropy loss:
    a dict name -> (chunk, *parameter shape)."""
    model.eval()
    params, buffers = trainable(model), _buffers(model)

    def loss(p, x, y):
        logits = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return F.cross_entropy(logits, y.unsqueeze(0))

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))
    for x, y in _chunks(data, indices, chunk_size):
        yield per_sample(params, x, y)


def log_probability_jacobians(model: nn.Module, data: ImageData, indices: Tensor, *,
                              chunk_size: int = 32) -> Iterator[tuple[dict[str, Tensor], Tensor]]:
    """Yield (d log p(c | x_i) / d theta for every class c: name -> (chunk, C, *shape),
    p(c | x_i): (chunk, C)) chunk by chunk, for the expected (true) Fisher."""
    model.eval()
    params, buffers = trainable(model), _buffers(model)

    def log_probs(p, x):
        return functional_call(model, (p, buffers), (x.unsqueeze(0),)).log_softmax(-1)[0]

    jacobian = vmap(jacrev(log_probs), in_dims=(None, 0))
    for x, _ in _chunks(data, indices, chunk_size):
        with torch.no_grad():
            probs = functional_call(model, (params, buffers), (x,)).softmax(-1)
        yield jacobian(params, x), probs


# Chunk sizes measured fastest on 2 CPU cores for the small CNN: per-sample gradients
# vectorise well in large chunks; class Jacobians (10x the memory) in small ones. A large
# model gets smaller chunks, from the memory budget.
CHUNK = {"empirical": 256, "expected": 32}
FISHER_KINDS = tuple(CHUNK)

# Bytes that one chunk of per-sample work may hold; $MU_MEMORY_BUDGET overrides it.
MEMORY_BUDGET = 2 * 2**30
BUDGET_VARIABLE = "MU_MEMORY_BUDGET"


def memory_budget() -> int:
    """The memory budget of per-sample work in bytes: $MU_MEMORY_BUDGET, read at each call,
    else MEMORY_BUDGET."""
    value = os.environ.get(BUDGET_VARIABLE, "").strip()
    if not value:
        return MEMORY_BUDGET
    if not value.isdigit() or int(value) == 0:
        raise ConfigError(f"{BUDGET_VARIABLE} must be a positive whole number of bytes, "
                          f"got {value!r}.")
    return int(value)


def check_kind(kind: str) -> None:
    if kind not in FISHER_KINDS:
        raise ConfigError(f"unknown Fisher kind {kind!r}; accepted: expected, empirical.")


def rows_per_sample(kind: str, num_classes: int) -> int:
    """Fisher rows per sample: one gradient (empirical) or one per class (expected)."""
    check_kind(kind)
    return 1 if kind == "empirical" else num_classes


def parameter_bytes(model: nn.Module) -> int:
    """Bytes of one copy of the trainable parameters: one per-sample gradient row."""
    return sum(p.numel() * p.element_size() for p in trainable(model).values())


def activation_bytes(model: nn.Module, x: Tensor) -> int:
    """Bytes that autograd saves for a backward through the model at `x` (its activations),
    the parameters excluded; each storage counted once."""
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in parameters:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    model.eval()
    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    return sum(saved.values())


def chunk_for(bytes_per_sample: int, default: int, budget: int | None = None) -> int:
    """Samples per chunk: as many as the budget holds (`memory_budget()` when None), at
    least 1 and at most `default`."""
    budget = memory_budget() if budget is None else budget
    return max(1, min(default, budget // max(1, bytes_per_sample)))


def sample_bytes(model: nn.Module, data: ImageData, indices: Tensor, rows: int) -> int:
    """A sample's share of a chunk of per-sample work: `rows` gradient rows, and its
    activations once per row and once for the forward (measured on the first sample)."""
    activations = activation_bytes(model, data.inputs(indices[:1]))
    return rows * (parameter_bytes(model) + activations) + activations


def budget_chunk(model: nn.Module, data: ImageData, indices: Tensor, kind: str) -> int:
    """Chunk size of the per-sample gradients (empirical) or class Jacobians (expected) of
    `kind`: today's fastest chunk (CHUNK), or fewer samples when they overflow the budget."""
    rows = rows_per_sample(kind, data.num_classes)
    return chunk_for(sample_bytes(model, data, indices, rows), CHUNK[kind])


def fisher_diagonal(model: nn.Module, data: ImageData, indices: Tensor, *,
                    kind: str = "expected", chunk_size: int | None = None) -> dict[str, Tensor]:
    """Diagonal of the Fisher information over `indices`.

    ``expected``: mean over samples of sum_c p(c|x) (d log p(c|x) / d theta)^2, the Fisher
    of the model's own predictive distribution; ``empirical``: mean over samples of
    (d log p(y|x) / d theta)^2 at the true label y.
    """
    check_kind(kind)
    params = trainable(model)
    total = {name: torch.zeros_like(p) for name, p in params.items()}
    chunk_size = chunk_size or budget_chunk(model, data, indices, kind)
    # Each loop drops its chunk before the generator computes the next one: a name still
    # bound to it would hold two chunks at once, twice the budget.
    if kind == "empirical":
        for grads in sample_gradients(model, data, indices, chunk_size=chunk_size):
            _add_squares(total, grads)
            del grads
    else:
        for jacobians, probs in log_probability_jacobians(model, data, indices,
                                                          chunk_size=chunk_size):
            _add_squares(total, jacobians, probs)
            del jacobians
    return {name: t / len(indices) for name, t in total.items()}


def batch_mean_fisher_diagonal(model: nn.Module, data: ImageData, indices: Tensor, *,
                               batch_size: int = 32,
                               class_chunk: int | None = None) -> dict[str, Tensor]:
    """Diagonal of the Fisher as Unlearn-Sparse's fisher_new estimates it, from batches of
    `batch_size` consecutive samples of `indices` (the last may be smaller): per batch,
    sum_c mean_i p(c|x_i) (d mean_i log p(c|x_i) / d theta)^2, the square of a batch-mean
    gradient; then the mean over batches. With batch_size 1 it is the expected Fisher of
    `fisher_diagonal`.

    One forward per batch; its backward runs for `class_chunk` classes at once (vmap over
    one-hot cotangents), as many as the memory budget holds when None.
    """
    model.eval()
    params, buffers = trainable(model), _buffers(model)
    total = {name: torch.zeros_like(p) for name, p in params.items()}
    batches = indices.split(batch_size)
    class_chunk = class_chunk or class_chunk_for(model, data, indices, batch_size)
    classes = torch.eye(data.num_classes, device=data.device)
    # a dry run backpropagates a few classes and prices the rest (100 on CIFAR-100)
    backpropagated = loops.budget_per_sample("fisher_classes", data.num_classes)
    for batch in batches:
        x = data.inputs(batch)

        def mean_log_probs(p):
            log_probs = functional_call(model, (p, buffers), (x,)).log_softmax(-1)
            return log_probs.mean(0), log_probs.detach().exp().mean(0)

        _, pullback, mean_probs = vjp(mean_log_probs, params, has_aux=True)
        for chunk in range(0, backpropagated, class_chunk):
            end = min(chunk + class_chunk, backpropagated)
            (grads,) = vmap(pullback)(classes[chunk:end])
            _add_squares(total, {name: g.unsqueeze(0) for name, g in grads.items()},
                         mean_probs[chunk:end].unsqueeze(0))
            del grads
    return {name: t / len(batches) for name, t in total.items()}


def class_chunk_for(model: nn.Module, data: ImageData, indices: Tensor, batch_size: int) -> int:
    """Classes per backward of `batch_mean_fisher_diagonal`: each holds a gradient row and
    the gradients of a batch's activations."""
    activations = activation_bytes(model, data.inputs(indices[:1]))
    return chunk_for(parameter_bytes(model) + batch_size * activations, data.num_classes)


def _add_squares(total: dict[str, Tensor], chunk: dict[str, Tensor],
                 probs: Tensor | None = None) -> None:
    """Add a chunk's squared per-sample gradients (name -> (chunk, *shape)), or its squared
    class Jacobians (name -> (chunk, C, *shape)) weighted by p(c | x), to `total`; squares
    in place, the chunk is not used again."""
    for name, g in chunk.items():
        if probs is None:
            total[name] += g.square_().sum(0)
        else:
            weights = probs.view(*probs.shape, *([1] * (g.dim() - 2)))
            total[name] += g.square_().mul_(weights).sum((0, 1))


def fisher_rows(model: nn.Module, data: ImageData, indices: Tensor, *, kind: str = "empirical",
                chunk_size: int | None = None) -> Tensor:
    """Rows r whose outer products sum to the Fisher: F = sum_r r r^T / len(indices).

    ``empirical``: one row per sample, its loss gradient at the true label (WoodFisher's
    rows). ``expected``: one row per sample and class, sqrt(p(c|x)) d log p(c|x) / d theta;
    for a softmax output this is the Gauss-Newton matrix, the exact Hessian of the
    cross-entropy of a linear softmax model.

    The whole (rows, d) matrix is held: each chunk is written into it in place, so the
    peak is the matrix and one chunk.
    """
    check_kind(kind)
    chunk_size = chunk_size or budget_chunk(model, data, indices, kind)
    params = trainable(model)
    per_sample = rows_per_sample(kind, data.num_classes)
    rows = next(iter(params.values())).new_empty(
        len(indices) * per_sample, sum(p.numel() for p in params.values()))
    blocks = rows.view(len(indices), per_sample, -1).split(chunk_size)
    if kind == "empirical":
        gradients = sample_gradients(model, data, indices, chunk_size=chunk_size)
        for block, grads in zip(blocks, gradients):
            torch.cat([g.flatten(1) for g in grads.values()], dim=1, out=block[:, 0])
            del grads
    else:
        jacobians = log_probability_jacobians(model, data, indices, chunk_size=chunk_size)
        for block, (chunk, probs) in zip(blocks, jacobians):
            torch.cat([j.flatten(2) for j in chunk.values()], dim=2, out=block)
            block.mul_(probs.sqrt().unsqueeze(-1))
            del chunk
    return rows


def woodbury_bytes(model: nn.Module, data: ImageData, samples: int, kind: str) -> int:
    """Bytes of the whole-matrix solve: the Fisher rows of `samples` samples and their Gram
    matrix."""
    rows = samples * rows_per_sample(kind, data.num_classes)
    gram_bytes = rows * next(iter(trainable(model).values())).element_size()
    return rows * (parameter_bytes(model) + gram_bytes)


def _output_cotangent(kind: str, logits: Tensor, tangent: Tensor, labels: Tensor) -> Tensor:
    """M t for each sample's output-space Fisher M at its logits, t = J_z v: the Fisher is
    J_z^T M J_z. Empirical: M = g g^T with g = p - onehot(y), the loss gradient in logit
    space; expected: M = diag(p) - p p^T, the Hessian of the cross-entropy in the logits."""
    probs = logits.softmax(-1)
    if kind == "empirical":
        residual = probs - F.one_hot(labels, probs.shape[-1]).to(probs.dtype)
        return residual * (residual * tangent).sum(-1, keepdim=True)
    return probs * (tangent - (probs * tangent).sum(-1, keepdim=True))


# A chunk of the Fisher-vector product holds its activations for the backward, their
# tangents during the forward and their gradients during the backward.
PRODUCT_ACTIVATION_COPIES = 3


def activation_chunk(model: nn.Module, data: ImageData, indices: Tensor, copies: int) -> int:
    """Samples per chunk of a batched pass that holds `copies` of each sample's activations
    (measured on the first sample) and no per-sample gradient: at most CHUNK["empirical"]."""
    activations = activation_bytes(model, data.inputs(indices[:1]))
    return chunk_for(copies * activations, CHUNK["empirical"])


def fisher_product(model: nn.Module, data: ImageData, indices: Tensor, *,
                   kind: str = "empirical", chunk_size: int | None = None
                   ) -> Callable[[Tensor], Tensor]:
    """v -> F v for the Fisher whose rows `fisher_rows` returns, F = R^T R / len(indices),
    holding no per-sample gradient: per chunk, one forward-mode product t = J_z v of the
    logits and one backward pass J_z^T (M t), M the output-space Fisher of each sample
    (`_output_cotangent`)."""
    check_kind(kind)
    model.eval()
    params, buffers = trainable(model), _buffers(model)
    chunk_size = chunk_size or activation_chunk(model, data, indices, PRODUCT_ACTIVATION_COPIES)

    def product(vector: Tensor) -> Tensor:
        direction = unflatten(vector, params)
        total = torch.zeros_like(vector)
        for x, y in _chunks(data, indices, chunk_size):
            def logits_of(p):
                return functional_call(model, (p, buffers), (x,))

            logits, tangent = jvp(logits_of, (params,), (direction,))
            _, pullback = vjp(logits_of, params)
            (gradient,) = pullback(_output_cotangent(kind, logits.detach(), tangent, y))
            total += flatten(gradient)
        return total / len(indices)
    return product


# A chunk of a batched backward holds its activations and, during the backward, their
# gradients.
BACKWARD_ACTIVATION_COPIES = 2


def gradient_sum(model: nn.Module, data: ImageData, indices: Tensor, *,
                 chunk_size: int | None = None) -> dict[str, Tensor]:
    """Sum over `indices` of each sample's cross-entropy gradient (one batched pass), in
    chunks of 256 samples or as many as the memory budget holds."""
    model.eval()
    chunk_size = chunk_size or activation_chunk(model, data, indices,
                                                BACKWARD_ACTIVATION_COPIES)
    params = [p for p in model.parameters() if p.requires_grad]
    total = [torch.zeros_like(p) for p in params]
    for chunk in indices.split(chunk_size):
        loss = F.cross_entropy(model(data.inputs(chunk)), data.targets(chunk), reduction="sum")
        for t, g in zip(total, torch.autograd.grad(loss, params)):
            t += g
    names = [name for name, p in model.named_parameters() if p.requires_grad]
    return dict(zip(names, total))
