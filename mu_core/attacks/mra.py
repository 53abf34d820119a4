"""The Membership Recall Attack (MRA, Sui et al. 2025): the unlearned model as a noisy
labeller for a student, then confident, class-balanced agreement sets for both.

The attacker holds only the unlearned model and the unlabelled prediction images
`X_p = test ∪ forget`; labels are never read here (the chapter scores with them).
Algorithm 1, for `rounds` (K_E) rounds:

1. denoising knowledge distillation, `distill_epochs` (K_D) epochs: mixup of the images
   (Eq. 1), the teacher's soft labels mixed with the student's own (Eqs. 2-3; the
   teacher's alone in the first, warm-up epoch), soft cross-entropy for the student (Eq. 4);
2. confident membership recall, `recall_epochs` (K_R) epochs: Laplace-smoothed
   probabilities of teacher and student (Eq. 6), their product (Eq. 7), the top-K of each
   class with label smoothing (Eq. 8), a student epoch on that set (Eqs. 9-10) and, in the
   open-source case, a teacher epoch on the set rebuilt with the updated student (Eqs. 11-12).

`components` is the paper's ablation switch: "dst" (distillation only), "dst+stu" (the
closed-source case) and "dst+stu+tch" (the open-source case).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import loops
from ..data import ImageData, batch_indices
from ..errors import (MAX_EPOCHS, MAX_ROUNDS, ConfigError, check_budget, check_choice,
                      check_fraction, check_positive_int, check_positive_number)
from ..train import Recipe, as_model_input, autocast, fit, predict, prepare_model

COMPONENTS = ("dst", "dst+stu", "dst+stu+tch")
CASES = {"closed": "dst+stu", "open": "dst+stu+tch"}
STUDENT_SEED_OFFSET = 10_000  # the attacker's student never shares the trained model's init


@dataclass(frozen=True)
class MRAConfig:
    """Hyper-parameters of Algorithm 1 (defaults: the paper's Table 6-7 values where it
    gives them, epoch counts and learning rates for the CPU default)."""

    rounds: int = 4  # K_E
    distill_epochs: int = 1  # K_D
    recall_epochs: int = 1  # K_R
    lr_student: float = 1e-3
    lr_unlearned: float = 1e-3  # open-source case only
    weight_decay: float = 0.01  # AdamW's default
    batch_size: int = 128
    alpha_x: float = 0.2
    alpha_y: float = 0.75
    gamma_l: float = 0.01
    gamma_s: float = 0.05
    tau: float = 0.6
    components: str = "dst+stu"

    def __post_init__(self):
        check_budget("rounds", self.rounds, MAX_ROUNDS)
        for name in ("distill_epochs", "recall_epochs"):
            check_budget(name, getattr(self, name), MAX_EPOCHS)
        check_positive_int("batch_size", self.batch_size)
        for name in ("lr_student", "lr_unlearned", "alpha_x", "alpha_y"):
            check_positive_number(name, getattr(self, name))
        for name in ("weight_decay", "gamma_l"):
            check_positive_number(name, getattr(self, name), allow_zero=True)
        check_fraction("gamma_s", self.gamma_s, allow_zero=True, allow_one=False)
        check_fraction("tau", self.tau)
        check_choice("components", self.components, COMPONENTS)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class MRAResult:
    recalled: nn.Module  # the student (closed source, DST) or the updated teacher (open)
    student: nn.Module
    teacher: nn.Module  # the unlearned model itself in the closed case, a trained copy if open
    history: list[dict]  # per round: distillation loss, recall losses, agreement-set size


def laplace_smooth(probs: Tensor, gamma: float) -> Tensor:
    """Eq. 6: (p + gamma) / (1 + C gamma), row-wise; keeps rows summing to one."""
    return (probs + gamma) / (1 + probs.shape[1] * gamma)


def smoothed_one_hot(classes: Tensor, num_classes: int, gamma: float) -> Tensor:
    """Eq. 8's label smoothing of hard labels: (1 - gamma) one_hot + gamma / C.

    The paper prints gamma / K; with K the top-K size the label would not sum to one, so we
    follow the label smoothing it cites (Lukasik et al. 2020), which divides by the number
    of classes.
    """
    return (1 - gamma) * F.one_hot(classes, num_classes).float() + gamma / num_classes


def balanced_top_k(joint: Tensor, tau: float) -> tuple[Tensor, Tensor]:
    """Eq. 8: for every class c the K = ceil(tau N / C) rows with the largest joint[:, c].

    Returns (row positions, classes), K per class, classes in order. A row may be chosen for
    two classes, as the equation allows.
    """
    n, num_classes = joint.shape
    k = min(n, math.ceil(tau * n / num_classes))
    rows = joint.topk(k, dim=0).indices.T  # (C, K)
    classes = torch.arange(num_classes).repeat_interleave(k)
    return rows.reshape(-1), classes


def confident_agreement(teacher_probs: Tensor, student_probs: Tensor, gamma_l: float,
                        gamma_s: float, tau: float) -> tuple[Tensor, Tensor]:
    """Eqs. 6-8: positions into X_p and their smoothed labels, K per class."""
    joint = laplace_smooth(teacher_probs, gamma_l) * laplace_smooth(student_probs, gamma_l)
    rows, classes = balanced_top_k(joint, tau)
    return rows, smoothed_one_hot(classes, joint.shape[1], gamma_s)


def membership_recall(unlearned: nn.Module, data: ImageData, prediction: Tensor,
                      student: nn.Module, config: MRAConfig = MRAConfig(), *,
                      seed: int = 0) -> MRAResult:
    """Run MRA against `unlearned` on the images `data[prediction]` (X_p).

    `student` is a freshly initialised model of any architecture with the same classes; it
    is trained in place. `unlearned` is never modified: the open-source case trains a copy.
    """
    if not isinstance(config, MRAConfig):
        raise ConfigError(f"config must be a mu_core.attacks.mra.MRAConfig, got "
                          f"{type(config).__name__}.")
    if len(prediction) == 0:
        raise ConfigError("MRA needs prediction images; the prediction index set is empty.")
    device = data.device
    open_source = config.components == "dst+stu+tch"
    teacher = prepare_model(copy.deepcopy(unlearned) if open_source else unlearned, device)
    student = prepare_model(student, device)
    student_optimizer = _adamw(student, config.lr_student, config.weight_decay)
    teacher_optimizer = (_adamw(teacher, config.lr_unlearned, config.weight_decay)
                         if open_source else None)
    generator = torch.Generator().manual_seed(seed)
    fixed_teacher_probs = None if open_source else predict(teacher, data, prediction)
    history = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for round_ in loops.track(range(config.rounds), "MRA rounds", unit="round"):
            with _timed_epochs("MRA DST", config.distill_epochs, data, prediction):
                record = {"distill_loss": _distill(teacher, student, student_optimizer, data,
                                                   prediction, config, generator,
                                                   warmup=round_ == 0)}
            if config.components != "dst":
                with loops.repeated("rounds"):  # its training is `fit`'s, recorded there
                    record.update(_recall(teacher, student, student_optimizer,
                                          teacher_optimizer, data, prediction, config,
                                          generator, fixed_teacher_probs))
            history.append(record)
    teacher.eval(), student.eval()
    return MRAResult(teacher if open_source else student, student, teacher, history)


def _timed_epochs(desc: str, epochs: int, data: ImageData, prediction: Tensor):
    """`epochs` passes over the prediction set in a round, recorded in a dry run at the real
    size and the preset's rounds."""
    return loops.loop(desc, None, "epoch", work=epochs * len(prediction), device=data.device,
                      real_work=epochs * loops.real_count(prediction, data), over=("rounds",))


def _adamw(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


def _distill(teacher, student, optimizer, data, prediction, config, generator,
             warmup: bool) -> float:
    """K_D epochs of Eqs. 1-4; the first epoch of a warm-up round takes beta_y = 1."""
    teacher.eval()
    student.train()
    mix_x = torch.distributions.Beta(config.alpha_x, config.alpha_x)
    mix_y = torch.distributions.Beta(config.alpha_y, config.alpha_y)
    total, count = torch.zeros(()), 0
    for epoch in range(config.distill_epochs):
        for batch in batch_indices(prediction, config.batch_size, shuffle=True,
                                   generator=generator):
            x = data.inputs(batch)
            # Eq. 1 and Eq. 3 per image: each image gets its own beta_x, beta_y and a random
            # partner from the batch (a random image of X_p, as the batches are shuffled).
            n = len(batch)
            beta_x = mix_x.sample((n, 1, 1, 1)).to(x.device)
            partner = torch.randint(n, (n,), generator=generator).to(x.device)
            mixed = as_model_input(beta_x * x + (1 - beta_x) * x[partner])
            with torch.no_grad(), autocast(x.device):
                teacher_probs = teacher(mixed).float().softmax(1)
            with autocast(x.device):
                logits = student(mixed).float()
            beta_y = (torch.ones(n, 1) if warmup and epoch == 0
                      else mix_y.sample((n, 1))).to(x.device)
            target = beta_y * teacher_probs + (1 - beta_y) * logits.detach().softmax(1)
            loss = torch.sum(-target * logits.log_softmax(1), 1).mean()
            _step(optimizer, loss)
            total, count = total + loss.detach().cpu() * len(batch), count + len(batch)
    return float(total) / count


def _recall(teacher, student, student_optimizer, teacher_optimizer, data, prediction,
            config, generator, teacher_probs: Tensor | None) -> dict:
    """K_R epochs of Eqs. 5-10 for the student and, open-source, Eqs. 11-12 for the teacher.

    `teacher_probs` are the fixed teacher's predictions in the closed-source case (None when
    the teacher trains, so they are recomputed)."""
    record = {"student_loss": 0.0, "agreement_size": 0}
    for _ in range(config.recall_epochs):
        probs = predict(teacher, data, prediction) if teacher_probs is None else teacher_probs
        rows, labels = confident_agreement(probs, predict(student, data, prediction),
                                           config.gamma_l, config.gamma_s, config.tau)
        record["agreement_size"] = len(rows)
        record["student_loss"] = _soft_epoch(student, student_optimizer, data, prediction[rows],
                                             labels, config.lr_student, config.batch_size,
                                             _next_seed(generator))
        if teacher_optimizer is not None:  # open source: rebuild D_CF with the new student
            rows, labels = confident_agreement(probs, predict(student, data, prediction),
                                               config.gamma_l, config.gamma_s, config.tau)
            record["teacher_loss"] = _soft_epoch(teacher, teacher_optimizer, data,
                                                 prediction[rows], labels, config.lr_unlearned,
                                                 config.batch_size, _next_seed(generator))
    return record


def _soft_epoch(model, optimizer, data, indices, labels, lr, batch_size, seed) -> float:
    """One epoch of soft-label cross-entropy on (data[indices], labels); indices may repeat."""
    recipe = Recipe(epochs=1, lr=lr, optimizer="adamw", schedule="constant",
                    batch_size=batch_size)
    return fit(model, data, indices, recipe, targets=labels, optimizer=optimizer, seed=seed,
               desc="recall")[0]


def _next_seed(generator: torch.Generator) -> int:
    return int(torch.randint(2**31, (), generator=generator))


def _step(optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
