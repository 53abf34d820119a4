"""Reconstructing training samples from a model's weights (UnlearnGuard, Algorithm 2).

A homogeneous ReLU network trained by gradient descent on the logistic/cross-entropy loss
converges in direction to a KKT point of the maximum-margin problem (Lyu & Li 2020; Ji &
Telgarsky 2020), so its weights are a non-negative combination of the margin gradients at
the training samples (Eqs. 9 and 21-22):

    theta = sum_i lambda_i grad_theta [Phi_{y_i}(x_i) - max_{j != y_i} Phi_j(x_i)].

Haim et al. (2022) and Buzaglo et al. (2023) search for candidates x~ and multipliers
lambda that satisfy this stationarity condition; the candidates then resemble training
samples. UnlearnGuard (Eq. 5) adds a second phase with a prior loss -|M(x~)| on the
predicted class's logit and projects the candidates back into an eps box around the
first phase's result after every step.

Choices the paper leaves open, taken from the reference code of Haim/Buzaglo:

* images in [0, 1] enter a fixed centring layer that subtracts the training set's mean
  image (their `data_reduce_mean`); the weights are trained from a small initialisation
  (`init_scale`) by full-batch gradient descent for many steps, so they converge in
  direction;
* the ReLU's backward pass is sigmoid(relu_alpha * x) during reconstruction, which gives
  the second derivative through the activation pattern a useful value;
* dual feasibility is the penalty 5 relu(lambda_min - lambda)^2 (Eq. 12 with a floor:
  lambda = 0 is a trivial minimiser of the stationarity loss for a candidate);
* candidates and multipliers are optimised by SGD with momentum 0.9, the stationarity
  gradient is divided by m, and each candidate carries a fixed label (m / C per class).

Ours: the valid pixel range is enforced by projecting the candidates onto [0, 1] after
every step (the paper's L_additional; the reference uses a soft penalty), and L_prior is
averaged over the candidates so that alpha_3 does not scale with m. A step whose KKT loss
is not finite or exceeds 100 times the lowest so far (the multipliers run away on deeper
networks at the reference learning rates) sends the search back to its lowest-loss state
with halved learning rates, and a warning.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from .. import loops
from ..errors import (MAX_STEPS, ConfigError, check_budget, check_choice, check_positive_int,
                      check_positive_number)
from ..maxmargin import Centre, margins
from ..models import last_linear

PAIRS = ("all", "max")
LAMBDA_PENALTY = 5.0  # weight of relu(lambda_min - lambda)^2, as in the reference code


class _SurrogateReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(ctx.alpha * x), None


class SurrogateReLU(nn.Module):
    """ReLU forward, sigmoid(alpha x) backward; the backward is differentiable in x."""

    def __init__(self, alpha: float):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return _SurrogateReLUFunction.apply(x, self.alpha)


def with_surrogate_relu(model: nn.Module, alpha: float) -> nn.Module:
    """A frozen copy of `model` whose ReLUs have the sigmoid backward pass."""
    copied = copy.deepcopy(model).eval()
    for module in list(copied.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(module, child_name, SurrogateReLU(alpha))
    for parameter in copied.parameters():
        parameter.requires_grad_(True)
    return copied


def pair_margins(logits: Tensor, labels: Tensor) -> Tensor:
    """Phi_y(x) - Phi_j(x) for every class j (m, C); the own class's entry is 0."""
    return logits.gather(1, labels.view(-1, 1)) - logits


def candidate_margins(logits: Tensor, labels: Tensor, pairs: str) -> Tensor:
    """The margins the multipliers weigh: (m, C) for "all" pairs (Eq. 21), (m, 1) for the
    runner-up only (Eq. 22)."""
    if pairs == "all" and logits.shape[1] > 1:
        return pair_margins(logits, labels)
    return margins(logits, labels).unsqueeze(1)


def stationarity_loss(model: nn.Module, candidates: Tensor, labels: Tensor,
                      lambdas: Tensor, pairs: str = "all") -> Tensor:
    """|| theta - (1/m) sum_i sum_j lambda_ij grad_theta margin_ij(x~_i) ||^2 (Eqs. 11, 21,
    22), one double back-propagation for all candidates."""
    params = [p for p in model.parameters()]
    weighted = (lambdas * candidate_margins(model(candidates), labels, pairs)).sum() \
        / len(candidates)
    gradients = torch.autograd.grad(weighted, params, create_graph=True)
    return sum((p.detach() - g).pow(2).sum() for p, g in zip(params, gradients))


def one_hidden_layer(model: nn.Module) -> tuple[Tensor, Tensor, float] | None:
    """(W1, W2, the surrogate's alpha) of `with_surrogate_relu(homogeneous_mlp(..., hidden=(h,)))`
    (centre, flatten, W1, surrogate ReLU, W2, no biases); None for any other network."""
    layers = [m for m in model.modules() if not isinstance(m, nn.Sequential)]
    kinds = [type(m) for m in layers]
    if kinds != [Centre, nn.Flatten, nn.Linear, SurrogateReLU, nn.Linear] or \
            layers[2].bias is not None or layers[4].bias is not None:
        return None
    return layers[2].weight, layers[4].weight, layers[3].alpha


def stationarity_loss_two_layer(model: nn.Module, candidates: Tensor, labels: Tensor,
                                lambdas: Tensor, pairs: str = "all") -> Tensor:
    """`stationarity_loss` of a one-hidden-layer network (`one_hidden_layer`), without the
    double back-propagation: with C the margins' weights on the logits (m, classes), H = Z W1^T
    the hidden layer of the centred candidates Z, R = relu(H) and S = sigmoid(alpha H) (the
    surrogate's derivative), the weighted gradient is C^T R / m for W2 and U^T Z / m for W1,
    U = (C W2) * S; each squared distance ||W - G||^2 is expanded as ||W||^2 - 2 <W, G> +
    ||G||^2 with <W2, C^T R> = sum(C * logits), <W1, U^T Z> = sum(U * H) and ||A^T B||^2 =
    sum((A A^T) * (B B^T)), so every product is (m, m) or one pass through W1: about a
    third of the work of the two back-propagations, equal up to float rounding."""
    w1, w2, alpha = _layers(model)
    centred = centre_of(model)(candidates).flatten(1)
    hidden = centred @ w1.T
    relu = _SurrogateReLUFunction.apply(hidden, alpha)
    logits = relu @ w2.T
    free = logits.detach().requires_grad_(True)
    weighted = (lambdas * candidate_margins(free, labels, pairs)).sum() / len(candidates)
    weights = torch.autograd.grad(weighted, free, create_graph=True)[0]  # linear in lambdas
    u = (weights @ w2) * torch.sigmoid(alpha * hidden)
    gram = lambda a: a @ a.T  # noqa: E731
    second = w2.pow(2).sum() - 2 * (weights * logits).sum() + \
        (gram(weights) * gram(relu)).sum()
    first = w1.pow(2).sum() - 2 * (u * hidden).sum() + (gram(u) * gram(centred)).sum()
    return first + second


def _layers(model: nn.Module) -> tuple[Tensor, Tensor, float]:
    w1, w2, alpha = one_hidden_layer(model)
    return w1.detach(), w2.detach(), alpha


def lambda_loss(lambdas: Tensor, lambda_min: float) -> Tensor:
    """Dual feasibility as quadratic penalties: every multiplier >= 0 (Eq. 12) and each
    candidate's total >= lambda_min, so that every candidate is a support vector."""
    floor = (lambda_min - lambdas.sum(1)).relu().pow(2).sum()
    return LAMBDA_PENALTY * (floor + lambdas.clamp_max(0).pow(2).sum())


def prior_loss(model: nn.Module, candidates: Tensor) -> Tensor:
    """-|M_y^(x~)|, the logit of each candidate's predicted class, averaged (Eqs. 4-5)."""
    return -model(candidates).max(1).values.abs().mean()


@dataclass(frozen=True)
class ReconstructionConfig:
    """Algorithm 2's knobs. The defaults come from our search on mnist5k with 50 training
    samples (recorded in the chapter); reference values of Haim/Buzaglo in comments."""

    candidates_per_class: int = 10  # m / C; the paper and reference: m >= 2n
    steps: int = 1500  # T1; reference: 50,000
    prior_steps: int = 300  # T2
    lr: float = 0.1  # reference: 1.4e-3 (CIFAR-10), 3e-2 (MNIST)
    lambda_lr: float = 0.5  # reference: 0.48
    init_scale: float = 1e-3  # std of the candidates' start around the mean image
    lambda_min: float = 0.2  # reference: 0.2
    relu_alpha: float = 40.0  # reference: 39.5
    alpha_stationary: float = 1.0
    alpha_lambda: float = 1.0
    alpha_prior: float = 1.0
    eps: float = 0.1  # half-width of phase 2's box around the phase 1 candidates
    pairs: str = "max"  # "max": the runner-up margin, Eq. 22; "all": every other class, Eq. 21
    seed: int = 0

    def __post_init__(self):
        check_positive_int("candidates_per_class", self.candidates_per_class)
        check_budget("steps", self.steps, MAX_STEPS)
        check_choice("pairs", self.pairs, PAIRS)
        check_budget("prior_steps", self.prior_steps, MAX_STEPS, allow_zero=True)
        for name in ("lr", "lambda_lr", "init_scale", "relu_alpha", "alpha_stationary"):
            check_positive_number(name, getattr(self, name))
        for name in ("lambda_min", "alpha_lambda", "alpha_prior", "eps"):
            check_positive_number(name, getattr(self, name), allow_zero=True)


@dataclass
class Reconstruction:
    """Candidates after phase 1 (KKT only) and after phase 2 (with the prior), in [0, 1]."""

    phase1: Tensor
    phase2: Tensor
    labels: Tensor
    lambdas: Tensor
    losses: dict[str, list[float]] = field(default_factory=dict)
    halvings: list[int] = field(default_factory=list)  # steps where divergence halved the lr
    control: Tensor | None = None  # phase 2 without the prior: same start, steps and eps box


def reconstruct(model: nn.Module, config: ReconstructionConfig = ReconstructionConfig(), *,
                desc: str = "reconstruct", control: bool = False) -> Reconstruction:
    """Algorithm 2 on a trained network built by `maxmargin.homogeneous_mlp`. With
    `control`, phase 2 also runs without the prior loss from the same phase-1 state, for the
    same steps and in the same eps box, so that the prior's effect can be told from that of
    more steps in the box (`Reconstruction.control`)."""
    centre = centre_of(model)
    device = centre.mean_image.device
    num_classes = last_linear(model)[2].out_features
    surrogate = with_surrogate_relu(model, config.relu_alpha)
    generator = torch.Generator(device="cpu").manual_seed(config.seed)
    labels = torch.arange(max(num_classes, 2)).repeat_interleave(config.candidates_per_class)
    noise = torch.randn((len(labels), *centre.mean_image.shape), generator=generator)
    candidates = (centre.mean_image.cpu() + noise * config.init_scale).clamp(0, 1)
    candidates = candidates.to(device).requires_grad_(True)
    labels = labels.to(device)
    mask = _multiplier_mask(labels, num_classes, config.pairs)
    lambdas = torch.rand(mask.shape, generator=generator).to(device).requires_grad_(True)
    losses: dict[str, list[float]] = {"stationary": [], "lambda": [], "prior": []}
    halvings: list[int] = []
    weights = (config.alpha_stationary, config.alpha_lambda, config.alpha_prior)

    stationarity = stationarity_loss
    if one_hidden_layer(surrogate) is not None:  # its closed form needs no weight gradients
        stationarity = stationarity_loss_two_layer
        surrogate.requires_grad_(False)

    def terms_of(prior: bool) -> list[Tensor]:
        terms = [stationarity(surrogate, candidates, labels, lambdas * mask, config.pairs),
                 lambda_loss(lambdas * mask, config.lambda_min)]
        return terms + [prior_loss(surrogate, candidates)] if prior else terms

    def run(phase: str, steps: int, prior: bool, low: Tensor, high: Tensor, log: dict,
            halved: list):
        scale = 1.0
        optimisers = _optimisers(candidates, lambdas, config, scale)
        best = (float("inf"), candidates.detach().clone(), lambdas.detach().clone())
        budget = "steps" if phase == "phase 1" else "prior_steps"
        with loops.loop(f"reconstruction ({phase})", steps, work=len(labels) * steps,
                        device=device, over=("candidates_per_class", budget)) as current:
            for step in current.each(range(steps)):
                terms = terms_of(prior)
                loss = sum(weight * term for weight, term in zip(weights, terms))
                kkt = (weights[0] * terms[0] + weights[1] * terms[1]).item()
                if not (math.isfinite(loss.item()) and kkt <= DIVERGENCE * best[0]):
                    # diverging: back to the lowest KKT loss so far, at half the rates
                    scale = _halved(scale, step, desc, config)
                    halved.append(len(log["stationary"]))
                    with torch.no_grad():
                        candidates.copy_(best[1])
                        lambdas.copy_(best[2])
                    optimisers = _optimisers(candidates, lambdas, config, scale)
                    continue
                if kkt < best[0]:
                    best = (kkt, candidates.detach().clone(), lambdas.detach().clone())
                for optimiser in optimisers:
                    optimiser.zero_grad(set_to_none=True)
                loss.backward()
                for optimiser in optimisers:
                    optimiser.step()
                with torch.no_grad():
                    candidates.copy_(torch.maximum(torch.minimum(candidates, high), low))
                for name, term in zip(log, terms):
                    log[name].append(term.item())

    zeros, ones = torch.zeros((), device=device), torch.ones((), device=device)
    run("phase 1", config.steps, False, zeros, ones, losses, halvings)
    phase1, phase1_lambdas = candidates.detach().clone(), lambdas.detach().clone()
    box = ((phase1 - config.eps).clamp_min(0), (phase1 + config.eps).clamp_max(1))
    if config.prior_steps:
        run("phase 2", config.prior_steps, True, *box, losses, halvings)
    # clones: on the CPU, .cpu() would share storage with the candidates the control reuses
    result = Reconstruction(phase1.cpu().clone(), candidates.detach().cpu().clone(),
                            labels.cpu(), (lambdas * mask).detach().cpu(), losses, halvings)
    if control:
        with torch.no_grad():
            candidates.copy_(phase1)
            lambdas.copy_(phase1_lambdas)
        run("phase 2 without the prior", config.prior_steps, False, *box,
            {"stationary": [], "lambda": []}, [])
        result.control = candidates.detach().cpu()
    return result


def _optimisers(candidates: Tensor, lambdas: Tensor, config: ReconstructionConfig,
                scale: float) -> tuple[torch.optim.SGD, torch.optim.SGD]:
    return (torch.optim.SGD([candidates], lr=config.lr * scale, momentum=0.9),
            torch.optim.SGD([lambdas], lr=config.lambda_lr * scale, momentum=0.9))


MAX_HALVINGS = 10
DIVERGENCE = 100.0  # a KKT loss this many times its lowest value so far counts as diverging


def _halved(scale: float, step: int, desc: str, config: ReconstructionConfig) -> float:
    """The learning-rate scale after a diverging step, with a warning; an error after
    MAX_HALVINGS halvings, when no learning rate keeps the optimisation stable."""
    import warnings

    if scale <= 0.5 ** MAX_HALVINGS:
        raise FloatingPointError(
            f"{desc}: the reconstruction loss still diverges after {MAX_HALVINGS} halvings "
            f"of lr {config.lr} and lambda_lr {config.lambda_lr}; check the model's weights "
            "(finite, trained to a margin).")
    warnings.warn(f"{desc}: the reconstruction loss diverges at step {step}; back to the "
                  f"lowest-loss candidates with lr and lambda_lr x {scale / 2:g}.", stacklevel=3)
    return scale / 2


def _multiplier_mask(labels: Tensor, num_classes: int, pairs: str) -> Tensor:
    """Which multipliers exist: every (candidate, other class) pair, or one per candidate."""
    if pairs == "max" or num_classes == 1:
        return torch.ones(len(labels), 1, device=labels.device)
    return 1 - torch.nn.functional.one_hot(labels, num_classes).float()


def centre_of(model: nn.Module) -> Centre:
    """The model's `Centre` layer, whose mean image the reconstruction starts from."""
    for module in model.modules():
        if isinstance(module, Centre):
            return module
    raise ConfigError("reconstruct needs a model built by maxmargin.homogeneous_mlp (a Centre "
                      "layer first); got one without it.")


def minmax_scale(images: Tensor) -> Tensor:
    """Each image stretched to [0, 1], as Haim et al. show and score reconstructions."""
    flat = images.flatten(1)
    low = flat.min(1).values.view(-1, *[1] * (images.dim() - 1))
    high = flat.max(1).values.view(-1, *[1] * (images.dim() - 1))
    return (images - low) / (high - low).clamp_min(1e-8)


def nearest_reconstruction(samples: Tensor, candidates: Tensor, *,
                           search: str = "ssim") -> tuple[Tensor, Tensor]:
    """For each sample (in [0, 1]) a min-max scaled candidate's SSIM and its index. The
    paper uses two: its Eq. 1 is an OR over the candidates of SSIM > tau, i.e. the largest
    SSIM (`search="ssim"`, the default, for verification); its recovery quality (Section
    V-D) follows Haim et al.'s (2022) `evaluations.py`, the nearest candidate by normalised
    cross-correlation at half resolution, then its SSIM (`search="ncc"`)."""
    from ..metrics import nearest_ssim

    return nearest_ssim(samples.float(), minmax_scale(candidates.float()), search=search)
