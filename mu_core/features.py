"""Penultimate-layer features (the input of a model's last linear layer), for t-SNE."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from .data import ImageData
from .models import last_linear
from .train import predict


def penultimate_features(model: nn.Module, data: ImageData, indices: Tensor) -> Tensor:
    """The rows fed into the model's last linear layer, one per index, on the CPU."""
    captured = []
    hook = last_linear(model)[2].register_forward_hook(
        lambda _module, inputs, _output: captured.append(inputs[0].detach().float().cpu()))
    try:
        predict(model, data, indices, output="logits")
    finally:
        hook.remove()
    return torch.cat(captured)


# t-SNE's optimisation steps: half of scikit-learn's default 1,000. The first 250 are its
# early exaggeration; on a figure's few hundred points the layout is settled well before
# 500 (a test checks its trustworthiness), and 03's six panels took a tenth of its run.
TSNE_ITERATIONS = 500


def tsne_embedding(features: Tensor, *, seed: int = 0) -> np.ndarray:
    """Two-dimensional t-SNE (scikit-learn, PCA initialisation) of feature rows."""
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(features) - 1) / 3)
    return TSNE(2, init="pca", perplexity=perplexity, max_iter=TSNE_ITERATIONS,
                random_state=seed).fit_transform(features.numpy())


def logits_and_features(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """The model's logits on a batch and the rows its last linear layer received (the
    encoder's features D_enc(x)), both differentiable in the parameters."""
    captured = []
    hook = last_linear(model)[2].register_forward_hook(
        lambda _module, inputs, _output: captured.append(inputs[0]))
    try:
        logits = model(x)
    finally:
        hook.remove()
    return logits, captured[-1].flatten(1)
