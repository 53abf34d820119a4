"""The Class Membership Inducing Recovery Attack (CMIRA): an attack model trained on a
labelled probing set, then mutual knowledge distillation with the unlearned model.

The attacker holds the unlearned model M_U, the forget images X_f (without labels) and a
labelled probing set D_p from the same source (Algorithm 1):

1. probing prior learning: the attack model M_A = LipSoftMax(BBN_SN(x)) learns D_p
   (Eqs. 1-3): a backbone with spectrally normalised weight layers and a Lipschitz head;
2. inducing recovery, round after round: both models label X_f (Eqs. 4-5); the images
   they agree on keep the shared label (Eqs. 6-7); of the others, those a model predicts
   with confidence >= tau keep that model's probabilities (Eqs. 8-9); M_A trains on
   mixup (Eqs. 10-11) of D_p, the agreement set and M_U's confident disagreements, and
   M_U on D_p, the agreement set and M_A's confident disagreements.

The paper stops when the recovery accuracy has not improved for 7 rounds; that accuracy
needs the forget labels, which an attacker does not have, so the rounds here stop when the
agreement rate between the two models on X_f (the quantity the rounds build up, "to build
agreement between M_A and M_U as much as possible") has not improved for `patience`
rounds. Forget labels are never read here.

The rounds drop each epoch's last, incomplete batch, as MixMatch's loaders do: the round's
training set has any size, and a leftover of two mixed images through batch norm (the
last VGG blocks see 1 x 1 maps) wrecked the attack model in one step.

`components` is the ablation switch: "p" (the pretrained attack model), "p+u" (M_U frozen,
only M_A learns: one-way distillation) and "p+u+a" (the full mutual distillation).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from .. import loops, models
from ..data import ImageData, stratified_holdout
from ..errors import (MAX_EPOCHS, MAX_ROUNDS, ConfigError, check_budget, check_choice,
                      check_fraction, check_positive_int, check_positive_number)
from ..splits import Split
from ..train import Recipe, fit, predict, prepare_model

COMPONENTS = ("p", "p+u", "p+u+a")
ATTACK_SEED_OFFSET = 20_000  # the attack model never shares the trained model's init


@dataclass(frozen=True)
class CMIRAConfig:
    """Hyper-parameters of Algorithm 1 (the paper's values in comments; the defaults are
    sized for the CPU default dataset)."""

    pretrain_epochs: int = 15  # paper: 200
    pretrain_lr: float = 0.1  # paper: 0.01 over 200 epochs; 0.1 reaches it in our 15
    rounds: int = 10  # the most rounds; paper: 200
    round_epochs: int = 1  # epochs of each model per round; paper: 10
    lr: float = 0.001  # paper: 0.001, SGD
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 128
    tau: float = 0.9  # confidence threshold of Eqs. 8-9 (the paper gives no value)
    mixup_alpha: float = 0.75  # Beta(alpha, alpha) of Eq. 11; MixMatch's value
    patience: int = 3  # rounds without a better agreement rate; paper: 7 (on accuracy)
    head_width: int = 128  # hidden units of the LipSoftMax head
    components: str = "p+u+a"

    def __post_init__(self):
        for name in ("pretrain_epochs", "round_epochs"):
            check_budget(name, getattr(self, name), MAX_EPOCHS)
        for name in ("rounds", "patience"):
            check_budget(name, getattr(self, name), MAX_ROUNDS)
        for name in ("batch_size", "head_width"):
            check_positive_int(name, getattr(self, name))
        for name in ("pretrain_lr", "lr", "mixup_alpha"):
            check_positive_number(name, getattr(self, name))
        for name in ("momentum", "weight_decay"):
            check_positive_number(name, getattr(self, name), allow_zero=True)
        check_fraction("tau", self.tau)
        check_choice("components", self.components, COMPONENTS)

    def pretrain_recipe(self) -> Recipe:
        return Recipe(epochs=self.pretrain_epochs, lr=self.pretrain_lr, momentum=self.momentum,
                      weight_decay=self.weight_decay, batch_size=self.batch_size)

    def round_recipe(self) -> Recipe:
        return Recipe(epochs=self.round_epochs, lr=self.lr, momentum=self.momentum,
                      weight_decay=self.weight_decay, schedule="constant",
                      batch_size=self.batch_size)


@dataclass
class CMIRAResult:
    attack: nn.Module  # M_A after the last round (the pretrained model for "p")
    unlearned: nn.Module  # M_U after the last round (the input model unless "p+u+a")
    history: list[dict]  # per round: agreement rate, subset sizes, M_A's labels of X_f
    rounds: int = 0  # the rounds that trained: the early stop's last measurement trains none


# ---------------------------------------------------------------------------------------
# The attack model, Eq. 1

def constrained_layers(model: nn.Module) -> list[nn.Module]:
    """The layers that carry spectral normalisation."""
    return [m for m in model.modules() if hasattr(m, "parametrizations")
            and "weight" in m.parametrizations]


def lipsoftmax_model(architecture: str, data: ImageData, *, head_width: int = 128,
                     seed: int | None = None, **options) -> nn.Module:
    """M_A of Eq. 1: the architecture's backbone with every convolution and linear layer
    spectrally normalised (Miyato et al. 2018, W / sigma(W) with sigma from power
    iteration on W reshaped to out x in), and its classifier replaced by the LipSoftMax
    head: a spectrally normalised linear layer, ReLU, then the output layer. The model
    returns logits; its softmax is the attack's prediction.

    Two choices the paper's text leaves to its code, named: the output layer is not
    spectrally normalised (Eq. 1's text normalises "each layer"; a unit-norm output layer
    caps the logits' scale, so the softmax could not become confident: the LipSoftMax
    reference `nets/lip.py` leaves it free too), and the head has no BatchNorm1d (the
    reference puts one after the hidden layer; batch norm rescales the features, which
    would undo the Lipschitz bound the head is there for). Batch-norm layers of the
    backbone stay as they are: the paper constrains the weight layers. A third difference
    from the reference, the other way: Eq. 1 normalises the backbone (BBN_SN(W_B)), and so
    do we, while the reference's `nets/train.py` puts its head on a plain torchvision
    ResNet-18; we follow the paper's equation.
    """
    model = models.create_for(architecture, data, seed=seed, **options)
    parent, name, classifier = models.last_linear(model)
    with torch.random.fork_rng(devices=[]):  # the head and the power-iteration vectors
        if seed is not None:
            torch.manual_seed(seed + 1)
        head = nn.Sequential(nn.Linear(classifier.in_features, head_width), nn.ReLU(),
                             nn.Linear(head_width, data.num_classes))
        setattr(parent, name, head)
        output_layer = head[-1]
        for module in list(model.modules()):
            if isinstance(module, (nn.Conv2d, nn.Linear)) and module is not output_layer:
                spectral_norm(module)
    return model


def pretrain(attack: nn.Module, data: ImageData, probe: Tensor, config: CMIRAConfig,
             seed: int = 0) -> list[float]:
    """Probing prior learning (Eqs. 2-3): cross-entropy on the labelled probing set."""
    return fit(attack, data, probe, config.pretrain_recipe(), seed=seed, desc="probe prior")


def probing_set(data: ImageData, split: Split, size: int | None, seed: int) -> torch.Tensor:
    """The labelled probing set D_p: the test split, or a class-stratified subset of `size`
    of it (a smaller D_p gives a weaker probing prior, as on harder datasets). With the
    same seed a smaller subset lies inside a larger one, so the prior's D_p lies inside
    the rounds' anchor whenever it is the smaller."""
    if size is None or size >= len(split.test):
        return split.test
    kept, _ = stratified_holdout(data.targets(split.test), 1 - size / len(split.test), seed)
    return split.test[kept]



# ---------------------------------------------------------------------------------------
# One round's data, Eqs. 4-9

def agreement_and_confident(probs_u: Tensor, probs_a: Tensor,
                            tau: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Positions into X_f of the agreement set (Eqs. 6-7), its shared labels, and of the
    confident disagreements of M_U and of M_A (Eqs. 8-9: max probability >= tau)."""
    labels_u, labels_a = probs_u.argmax(1), probs_a.argmax(1)
    agree = labels_u == labels_a
    positions = torch.arange(len(agree))
    confident_u = ~agree & (probs_u.max(1).values >= tau)
    confident_a = ~agree & (probs_a.max(1).values >= tau)
    return positions[agree], labels_u[agree], positions[confident_u], positions[confident_a]


def training_set(probe: Tensor, probe_labels: Tensor, forget: Tensor, agree: Tensor,
                 agree_labels: Tensor, confident: Tensor, confident_probs: Tensor,
                 num_classes: int) -> tuple[Tensor, Tensor]:
    """D_p ∪ D_agree ∪ D̄^tau as (dataset indices, label rows): one-hot rows for the probe
    and agreement labels, the teacher model's probabilities for its confident disagreements."""
    one_hot = lambda labels: nn.functional.one_hot(labels, num_classes).float()  # noqa: E731
    indices = torch.cat([probe, forget[agree], forget[confident]])
    rows = torch.cat([one_hot(probe_labels), one_hot(agree_labels), confident_probs])
    return indices, rows


# ---------------------------------------------------------------------------------------
# Inducing recovery, Algorithm 1

def induce_recovery(unlearned: nn.Module, attack: nn.Module, data: ImageData, probe: Tensor,
                    forget: Tensor, config: CMIRAConfig = CMIRAConfig(), *,
                    seed: int = 0) -> CMIRAResult:
    """Run the inducing-recovery stage from a pretrained `attack` model (trained in place).

    `probe` indexes the labelled probing set, `forget` the forget images X_f (their labels
    are not read). `unlearned` is never modified: "p+u+a" trains a copy.
    """
    if not isinstance(config, CMIRAConfig):
        raise ConfigError(f"config must be a mu_core.attacks.cmira.CMIRAConfig, got "
                          f"{type(config).__name__}.")
    if len(forget) == 0 or len(probe) == 0:
        raise ConfigError("CMIRA needs forget images and a probing set; one of them is empty.")
    device = data.device
    mutual = config.components == "p+u+a"
    target = prepare_model(copy.deepcopy(unlearned) if mutual else unlearned, device).eval()
    attack = prepare_model(attack, device).eval()
    if config.components == "p":
        return CMIRAResult(attack, target, [])
    recipe = config.round_recipe()
    optimizer_a = _sgd(attack, config)
    optimizer_u = _sgd(target, config) if mutual else None
    probe_labels = data.targets(probe).cpu()
    probs_u = predict(target, data, forget).float().cpu()
    history, best, stale, trained = [], -1.0, 0, 0
    for round_ in loops.track(range(config.rounds), "CMIRA rounds", unit="round"):
        probs_a = predict(attack, data, forget).float().cpu()
        agree, agree_labels, confident_u, confident_a = agreement_and_confident(
            probs_u, probs_a, config.tau)
        rate = len(agree) / len(forget)
        history.append({"round": round_, "agreement": rate, "agree": len(agree),
                        "confident_u": len(confident_u), "confident_a": len(confident_a),
                        "attack_labels": probs_a.argmax(1)})
        best, stale = (rate, 0) if rate > best else (best, stale + 1)
        if stale >= config.patience:
            break
        round_seed = seed * 1_000 + round_
        indices, rows = training_set(probe, probe_labels, forget, agree, agree_labels,
                                     confident_u, probs_u[confident_u], data.num_classes)
        with loops.repeated("rounds"):  # a dry run's estimate counts the preset's rounds
            fit(attack, data, indices, recipe, targets=rows, optimizer=optimizer_a,
                mixup_alpha=config.mixup_alpha, drop_last=True, seed=round_seed, desc="M_A")
        if mutual:
            indices, rows = training_set(probe, probe_labels, forget, agree, agree_labels,
                                         confident_a, probs_a[confident_a], data.num_classes)
            with loops.repeated("rounds"):
                fit(target, data, indices, recipe, targets=rows, optimizer=optimizer_u,
                    mixup_alpha=config.mixup_alpha, drop_last=True, seed=round_seed + 500,
                    desc="M_U")
            probs_u = predict(target, data, forget).float().cpu()
        trained += 1
    return CMIRAResult(attack.eval(), target.eval(), history, trained)


def _sgd(model: nn.Module, config: CMIRAConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay)
