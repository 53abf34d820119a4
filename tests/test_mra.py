import dataclasses
import json
import math

import pandas as pd
import pytest
import torch

from mu_core import book, models
from mu_core.attacks.mra import (MRAConfig, balanced_top_k, confident_agreement,
                                 laplace_smooth, membership_recall, smoothed_one_hot)
from mu_core.chapter import jsonable
from mu_core.data import ImageData
from mu_core.errors import ConfigError
from mu_core.papers import mra as paper
from mu_core.splits import make_split
from mu_core.studies import mra
from mu_core.train import Recipe, evaluate
from mu_core.unlearn import unlearn
from mu_core.zoo import trained_model

from conftest import ROOT


def test_laplace_smoothing_matches_eq_6_on_a_worked_example():
    # (p + 0.1) / (1 + 3 * 0.1) for p = (1, 0, 0): (1.1, 0.1, 0.1) / 1.3
    smoothed = laplace_smooth(torch.tensor([[1.0, 0.0, 0.0]]), 0.1)
    assert torch.allclose(smoothed, torch.tensor([[1.1, 0.1, 0.1]]) / 1.3)
    assert torch.allclose(smoothed.sum(1), torch.ones(1))


def test_label_smoothing_matches_eq_8_on_a_worked_example():
    # (1 - 0.05) one_hot(2) + 0.05 / 4 over four classes
    label = smoothed_one_hot(torch.tensor([2]), 4, 0.05)
    assert torch.allclose(label, torch.tensor([[0.0125, 0.0125, 0.9625, 0.0125]]))


def test_balanced_top_k_takes_exactly_k_of_each_class_with_the_largest_joint():
    torch.manual_seed(0)
    joint = torch.rand(50, 4)
    rows, classes = balanced_top_k(joint, tau=0.3)
    k = math.ceil(0.3 * 50 / 4)  # 4
    assert torch.equal(torch.bincount(classes), torch.full((4,), k))
    for c in range(4):
        chosen = set(rows[classes == c].tolist())
        assert chosen == set(joint[:, c].argsort(descending=True)[:k].tolist())


def test_confident_agreement_prefers_samples_both_models_are_sure_of():
    # Sample 0: both say class 0. Sample 1: teacher says 0, student says 1. Sample 2: both 1.
    teacher = torch.tensor([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9]])
    student = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9]])
    rows, labels = confident_agreement(teacher, student, gamma_l=0.01, gamma_s=0.0, tau=0.6)
    assert rows.tolist() == [0, 2]  # K = ceil(0.6 * 3 / 2) = 1 per class
    assert torch.equal(labels, torch.eye(2))


def test_bad_configuration_fails_with_a_clear_message():
    with pytest.raises(ConfigError, match="components"):
        MRAConfig(components="dst+tch")
    with pytest.raises(ConfigError, match="tau"):
        MRAConfig(tau=1.5)


@pytest.fixture(scope="module")
def ga_attack(mnist):
    split = make_split(mnist, forget_classes=[1, 3, 5, 7, 9], forget_fraction=0.5)
    trained, _ = trained_model(mnist, split, "cnn", Recipe(epochs=4))
    unlearned = unlearn("ga", trained, mnist, split, lr=3.5e-3, momentum=0.0,
                        weight_decay=0.0)  # plain SGD, as measured: forget accuracy 0.17
    prediction = torch.cat([split.test, split.forget])
    return split, unlearned, prediction


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _recall(mnist, unlearned, prediction, components, tau):
    student = models.create_for("cnn", mnist, seed=1)
    return membership_recall(unlearned, mnist, prediction, student,
                             MRAConfig(rounds=3, components=components, tau=tau), seed=0)


def test_closed_source_leaves_the_unlearned_model_bit_identical_and_recalls(mnist, ga_attack):
    # The claim of the paper on the offline default: the recalled student predicts the
    # forget set better than the GA-unlearned model it learned from (measured: 0.171 ->
    # 0.256 forget accuracy); we ask for a gain of at least 0.05.
    split, unlearned, prediction = ga_attack
    before = _state(unlearned)
    result = _recall(mnist, unlearned, prediction, "dst+stu", tau=0.6)
    assert all(torch.equal(v, before[k]) for k, v in unlearned.state_dict().items())
    assert result.recalled is result.student
    unlearned_forget = evaluate(unlearned, mnist, split, ("forget",))["forget"]
    recalled_forget = evaluate(result.recalled, mnist, split, ("forget",))["forget"]
    assert recalled_forget > unlearned_forget + 0.05


def test_open_source_trains_a_copy_of_the_unlearned_model_and_recalls_more(mnist, ga_attack):
    # Training the unlearned model itself on its confident agreements recalls far more than
    # the student alone (measured: 0.171 -> 0.740 forget accuracy); we ask for 0.3.
    split, unlearned, prediction = ga_attack
    before = _state(unlearned)
    result = _recall(mnist, unlearned, prediction, "dst+stu+tch", tau=0.3)
    assert all(torch.equal(v, before[k]) for k, v in unlearned.state_dict().items())
    assert result.recalled is result.teacher
    assert "teacher_loss" in result.history[-1]
    unlearned_forget = evaluate(unlearned, mnist, split, ("forget",))["forget"]
    recalled_forget = evaluate(result.recalled, mnist, split, ("forget",))["forget"]
    assert recalled_forget > unlearned_forget + 0.3


def test_the_attack_never_reads_a_label(mnist, ga_attack):
    # Shuffling every label of the dataset leaves the attack's result unchanged.
    split, unlearned, prediction = ga_attack
    shuffled = dataclasses.replace(mnist, labels=mnist.labels[torch.randperm(len(mnist.labels))])
    config = MRAConfig(rounds=1, components="dst+stu+tch", tau=0.3)
    results = [membership_recall(unlearned, d, prediction, models.create_for("cnn", d, seed=1),
                                 config, seed=0) for d in (mnist, shuffled)]
    assert all(torch.equal(a, b) for a, b in zip(results[0].recalled.state_dict().values(),
                                                  results[1].recalled.state_dict().values()))


class _Untouchable(torch.nn.Module):
    """A trained model the attacker must not have: NaN weights, and a forward that fails."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        with torch.no_grad():
            for p in net.parameters():
                p.fill_(math.nan)

    def forward(self, x):
        raise AssertionError("MRA read the trained model")


@pytest.mark.parametrize("case", ["mra_closed", "mra_open"])
def test_the_attack_never_reads_the_trained_model(mnist, ga_attack, case):
    # The paper's premise (Section 1): the attacker holds the ULM only. The registry hands
    # every attack the trained model; MRA's recalled model is the same bit for bit when that
    # model is unusable.
    from mu_core.attacks import registry

    split, unlearned, _ = ga_attack
    trained, _ = trained_model(mnist, split, "cnn", Recipe(epochs=4))
    untouchable = _Untouchable(models.create_for("cnn", mnist, seed=0))
    outcomes = [registry.run(case, unlearned, mnist, split, trained=model, seed=0, rounds=1,
                             tau=0.3) for model in (trained, untouchable)]
    assert all(torch.equal(a, b) for a, b in zip(outcomes[0].model.state_dict().values(),
                                                  outcomes[1].model.state_dict().values()))


# The study's tables, figures and claim rules, on hand-made attack rows.

COMPONENTS = {"closed": "dst+stu", "open": "dst+stu+tch", "dst": "dst",
              "closed, other student": "dst+stu", "open, other student": "dst+stu+tch"}
TRAINED = {0: {"test": 0.9, "forget": 1.0}, 1: {"test": 0.8, "forget": 0.98}}


def _scores(test, forget, confusion=None):
    return {"test": test, "forget": forget, "forget_per_class": {1: forget, 3: forget / 2},
            "forget_confusion": torch.zeros(2, 4) if confusion is None else confusion,
            "count": {"test": 100, "forget": 100, "per_class": {1: 50, 3: 50}}}


def _row(attack, method, ulm, rcm, seed=0, test=(0.5, 0.6)):
    """One attack run: ULM and RCM forget accuracies `ulm` and `rcm` (test: `test`)."""
    return {"seed": seed, "method": method, "attack": attack, "components": COMPONENTS[attack],
            "student": "mlp" if "other" in attack else "cnn", "seconds": 2.0,
            "ulm": _scores(test[0], ulm), "rcm": _scores(test[1], rcm)}


def _rows(accuracies: dict) -> pd.DataFrame:
    """Rows of seed 0 from {(attack, method): (ulm_forget, rcm_forget)}, or with the test
    accuracies too: (ulm_forget, rcm_forget, ulm_test, rcm_test)."""
    return pd.DataFrame([_row(attack, method, *values[:2], test=values[2:] or (0.5, 0.6))
                         for (attack, method), values in accuracies.items()])


def _gains(**gains) -> pd.Series:
    return pd.Series(gains, dtype=float)


PARAMS = dict(rounds=2, distill_epochs=1, recall_epochs=3, lr_student_closed=2e-3,
              lr_student_open=1e-3, lr_unlearned=5e-4,
              attack_batch_size=64, alpha_x=0.2, alpha_y=0.75, gamma_l=0.01, gamma_s=0.05,
              tau_closed=0.6, tau_open=0.3, student="cnn", student_options={},
              heterogeneous_student="mlp", heterogeneous_options={"hidden": [32]},
              ablation_methods=["salun"], ablation_seeds=[0], heterogeneous_seeds=[1],
              dataset="mnist5k", epochs=8, methods=["retrain", "salun"], seeds=[0, 1])


def test_attack_settings_names_the_five_attacks_from_the_parameters():
    attacks = mra.attack_settings(PARAMS)
    assert list(attacks) == ["closed", "open", "dst", "closed, other student",
                             "open, other student"]
    assert {n: (a["components"], a["tau"], a["student"]) for n, a in attacks.items()} == {
        "closed": ("dst+stu", 0.6, "cnn"), "open": ("dst+stu+tch", 0.3, "cnn"),
        "dst": ("dst", 0.6, "cnn"), "closed, other student": ("dst+stu", 0.6, "mlp"),
        "open, other student": ("dst+stu+tch", 0.3, "mlp")}
    assert attacks["open, other student"]["student_options"] == {"hidden": [32]}
    # Tables 6-7 give each case its own LR_S; DST alone is the closed-source ablation
    assert {n: a["lr_student"] for n, a in attacks.items()} == {
        "closed": 2e-3, "open": 1e-3, "dst": 2e-3, "closed, other student": 2e-3,
        "open, other student": 1e-3}
    for spec in attacks.values():
        config = MRAConfig(**{k: v for k, v in spec.items()
                              if k not in ("student", "student_options")})
        assert (config.batch_size, config.recall_epochs, config.lr_unlearned) == (64, 3, 5e-4)


def test_attack_restrictions_limit_the_ablation_and_the_other_student():
    other = {"seeds": [1], "seed_list": "heterogeneous_seeds"}
    assert mra.attack_restrictions(PARAMS) == {
        "dst": {"methods": ["salun"], "seeds": [0], "seed_list": "ablation_seeds"},
        "closed, other student": other, "open, other student": other}


@pytest.mark.parametrize("name, value, message", [
    ("heterogeneous_seeds", [0], "heterogeneous_seeds must be a list of one or more of seeds "
                                 "[3, 4], got [0]."),
    ("ablation_seeds", [], "ablation_seeds must be a list of one or more of seeds [3, 4], got "
                           "[]."),
    ("ablation_seeds", 3, "ablation_seeds must be a list of one or more of seeds [3, 4], got "
                          "3."),  # a number, not a list: once a TypeError
    ("ablation_methods", "retrain", "ablation_methods must be a list of one or more of "
                                    "methods ['retrain', 'salun'], got 'retrain'."),
    ("ablation_methods", ["ga"], "ablation_methods must be a list of one or more of methods "
                                 "['retrain', 'salun'], got ['ga'].")])
def test_attack_restrictions_refuse_seeds_or_methods_the_chapter_does_not_run(name, value,
                                                                             message):
    # seeds [3, 4] with the default heterogeneous_seeds [0] failed after the whole study ran
    params = PARAMS | {"seeds": [3, 4], "ablation_seeds": [3], "heterogeneous_seeds": [4],
                       name: value}
    with pytest.raises(ConfigError) as error:
        mra.attack_restrictions(params)
    assert str(error.value) == message


# The paper's numbers (mu_core.papers.mra) and the columns that show them.

def test_the_papers_printed_gains_match_its_accuracies_within_rounding():
    # Tables 2-3 print ΔAcc beside ULM and RCM: each printed gain is RCM - ULM to within the
    # rounding of three printed numbers, so a mistyped number shows.
    checked = 0
    for dataset, printed in paper.DELTA.items():
        for components, methods in printed.items():
            for method, gains in methods.items():
                for subset, gain in gains.items():
                    difference = (paper.RCM[dataset][components][method][subset]
                                  - paper.ULM[dataset][method][subset])
                    assert abs(gain - difference) <= 0.0015, (dataset, components, method)
                    checked += 1
    assert checked == (4 * 8 - 1) * 2 * 2  # Flower-102 has no UNSC (it does not run on Swin-T)
    assert all(set(paper.RCM[d]["dst"]) == set(paper.ULM[d]) for d in paper.DATASETS)


def test_no_ulm_of_the_paper_keeps_more_than_forgot_little_of_its_forget_accuracy():
    kept = [ulm[m]["forget"] / paper.TRAINED[d]["forget"] for d, ulm in paper.ULM.items()
            for m in ulm]
    assert max(kept) == pytest.approx(0.340)  # Flower-102's BU
    assert max(kept) < mra.FORGOT_LITTLE


def test_the_paper_column_follows_the_dataset_and_says_when_the_paper_has_no_rows():
    assert mra.paper_dataset("cifar100") == "cifar100"
    assert mra.paper_dataset("mnist5k") == "cifar10"
    assert mra.paper_label("oxford_pets") == "paper (Pet-37)"
    assert mra.paper_label("mnist5k", "Table 8") == \
        "paper (CIFAR-10, Table 8; it has no mnist5k rows)"
    assert mra.paper_rows_note("flowers102") == \
        "The paper columns hold the paper's Flower-102 rows (Swin-T teacher, ResNet student)."
    assert mra.paper_rows_note("digits").startswith(
        "The paper has no digits rows: its columns hold the paper's CIFAR-10 rows")


def _tiny_data(train_counts, test_count=3):
    """Three classes with `train_counts` training images each and `test_count` test images."""
    labels = torch.tensor([c for c, n in enumerate(train_counts) for _ in range(n)]
                          + [0] * test_count)
    n, train = len(labels), sum(train_counts)
    return ImageData("tiny", torch.zeros(n, 1, 2, 2, dtype=torch.uint8), labels,
                     torch.arange(train), torch.arange(train, n), ("a", "b", "c"), (0.0,), (1.0,))


def test_split_sizes_count_a_hand_made_split():
    # Half of class 1's six and of class 2's two training images are forgotten.
    sizes = mra.split_sizes(_tiny_data([4, 6, 2]), {"forget_classes": [2, 1],
                                                    "forget_fraction": 0.5})
    assert sizes == {"classes": 3, "train": 12, "test": 3, "forget": 4,
                     "forget_per_class": [3, 1]}
    with pytest.raises(ConfigError, match="forget_classes"):
        mra.split_sizes(_tiny_data([4, 6, 2]), {"forget_classes": [7]})


def test_split_table_puts_this_run_above_the_papers_four_datasets():
    even = {"classes": 10, "train": 4000, "test": 1000, "forget": 1000,
            "forget_per_class": [200] * 5}
    table = mra.split_table(even, "mnist5k")
    assert list(table.index) == ["here (mnist5k)", "paper (CIFAR-10)", "paper (CIFAR-100)",
                                 "paper (Pet-37)", "paper (Flower-102)"]
    assert table.loc["here (mnist5k)"].tolist() == ["10", "4,000", "1,000", "200×5"]
    assert table.loc["paper (CIFAR-10)"].tolist() == ["10", "50,000", "10,000", "2,500×5"]
    assert table.loc["paper (Pet-37)"].tolist() == ["37", "3,680", "3,669", "50×5"]
    assert table.loc["paper (Flower-102)", "forget (D_f)"] == "224"  # a total in Table 1
    uneven = dict(even, forget=4, forget_per_class=[3, 1])
    assert mra.split_table(uneven, "tiny").loc["here (tiny)", "forget (D_f)"] == "4"


def test_settings_table_sets_tables_6_7_of_the_dataset_that_runs_beside_this_run():
    params = {"rounds": 4, "distill_epochs": 1, "recall_epochs": 2, "alpha_x": 0.2, "alpha_y": 0.5, "gamma_l": 0.01, "gamma_s": 0.05,
              "tau_closed": 0.6, "tau_open": 0.3, "lr_student_closed": 3e-3,
              "lr_student_open": 1e-3, "lr_unlearned": 2e-3,
              "attack_batch_size": 128, "student_options": {}}
    pets = mra.settings_table(params, "oxford_pets")
    paper = "paper (Pet-37, Tables 6-7)"
    # Pet-37's rows of Table 6 (closed) and Table 7 (open), read from the paper
    assert pets.loc["tau, closed source", paper] == "0.05"
    assert pets.loc["LR_U, open source", paper] == "0.0001"
    assert pets.loc["batch size", paper] == "64"
    assert pets.loc["alpha_y (mixup)", "here"] == "0.5"
    assert pets.loc["tau, open source", "here"] == "0.3"
    assert pets.loc[["LR_S, closed source", "LR_S, open source"], "here"].tolist() == [
        "0.003", "0.001"]
    assert pets.loc["student starts from", "here"] == "random weights"
    # Algorithm 1's epoch counts and AdamW's weight decay are not in Tables 6-7.
    assert pets.loc[["rounds K_E", "recall epochs K_R", "AdamW weight decay"], paper].tolist() \
        == ["not given"] * 3
    assert pets.loc[["rounds K_E", "AdamW weight decay"], "here"].tolist() == ["4", "0.01"]
    flowers = mra.settings_table(dict(params, student_options={"pretrained": True}),
                                 "flowers102")
    paper = "paper (Flower-102, Tables 6-7)"
    assert flowers.loc[["LR_S, closed source", "LR_S, open source"], paper].tolist() == [
        "0.0002", "0.0001"]
    assert flowers.loc["student starts from", "here"] == "ImageNet weights"
    assert "it has no mnist5k rows" in mra.settings_table(params, "mnist5k").columns[0]


def test_accuracy_beside_paper_puts_mean_and_std_beside_the_papers_numbers():
    rows = pd.DataFrame([_row("closed", "ga", 0.2, 0.5, seed=0),
                         _row("closed", "ga", 0.4, 0.6, seed=1),
                         _row("closed", "retrain", 0.9, 0.9, seed=0),
                         _row("closed", "retrain", 0.9, 0.9, seed=1),
                         _row("open", "ga", 0.2, 0.9)])
    table = mra.accuracy_beside_paper(rows, "closed", TRAINED, "mnist5k")
    assert list(table.columns) == ["ga", "retrain"]  # as wide as the methods; sources in rows
    here = table.xs("here", level="source")
    theirs = table.xs("paper (CIFAR-10; it has no mnist5k rows)", level="source")
    assert here.loc[("forget", "ULM"), "ga"] == "0.300\u00a0±\u00a00.100"
    assert here.loc[("forget", "ΔAcc"), "ga"] == "0.250\u00a0±\u00a00.050"
    assert here.loc[("test", "TRM"), "ga"] == "0.850\u00a0±\u00a00.050"
    assert theirs.loc[("forget", "ΔAcc"), "ga"] == "0.091"  # Table 2: 0.358 - 0.267
    assert theirs.loc[("test", "RCM"), "ga"] == "0.528"
    assert theirs.loc[("test", "RCM"), "retrain"] == "–"  # not in the paper
    hundred = mra.accuracy_beside_paper(rows, "closed", TRAINED, "cifar100").xs(
        "paper (CIFAR-100)", level="source")
    # Table 2 prints ΔAcc 0.070 for CIFAR-100's GA, beside 0.270 - 0.201 = 0.069.
    assert [hundred.loc[("forget", m), "ga"] for m in ("ULM", "RCM", "ΔAcc")] == \
        ["0.201", "0.270", "0.070"]
    assert hundred.loc[("test", "TRM"), "ga"] == "0.643"
    pets = mra.accuracy_beside_paper(rows, "open", TRAINED, "oxford_pets").xs(
        "paper (Pet-37)", level="source")
    assert pets.loc[("forget", "RCM"), "ga"] == "0.952"  # Table 3


def test_paper_gains_are_the_printed_delta_and_the_open_lead_table_3_minus_table_2():
    assert mra.paper_gain("dst+stu", ["ga", "retrain"], "cifar100").to_dict() == {"ga": 0.070}
    assert mra.paper_gain("dst+stu+tch", ["iu"], "mnist5k", "test").to_dict() == {"iu": 0.584}
    assert mra.paper_gain("dst+stu", ["unsc"], "flowers102").empty
    # CIFAR-10 test: RL's open-source RCM 0.471 is below its closed-source 0.479.
    lead = mra.paper_open_lead(["rl", "ga"], "cifar10", "test")
    assert lead.to_dict() == pytest.approx({"rl": -0.008, "ga": 0.054})


def test_the_papers_ablation_follows_the_dataset():
    ten = mra.paper_ablation_table(["ga", "salun"], "mnist5k")  # CIFAR-10's Table 8
    # The ULM row is Table 2's, then Table 8's DST, DST+STU and DST+STU+TCH.
    assert ten[("salun", "forget")].tolist() == [0.117, 0.027, 0.615, 0.997]
    assert ten[("ga", "test")].tolist() == [0.505, 0.501, 0.528, 0.582]
    pets = mra.paper_ablation_table(["salun", "retrain"], "oxford_pets")
    assert list(pets.columns) == [("salun", "test"), ("salun", "forget")]
    assert pets[("salun", "forget")].tolist() == [0.128, 0.108, 0.712, 0.948]  # Tables 2, 4
    assert mra.paper_ablation_table(["unsc"], "flowers102").empty  # no UNSC on Swin-T
    both = mra.ablation_beside_paper(pets, pets, "oxford_pets")
    assert list(both.index.get_level_values(-1).unique()) == ["here",
                                                              "paper (Pet-37, Tables 4, 10)"]
    labels = mra.ablation_beside_paper(ten, ten, "mnist5k").index.get_level_values(-1).unique()
    assert labels[1] == "paper (CIFAR-10, Table 8; it has no mnist5k rows)"


def test_the_ablation_table_has_methods_as_rows_and_eight_columns():
    # readable at 1,400 px: eight methods make 16 rows (ours, the paper's under it), never
    # 16 columns; the paper's numbers sit under ours in the same column
    methods = ["ff", "rl", "ga", "iu", "bu", "l1_sparse", "salun", "unsc"]
    ours = pd.DataFrame({(m, subset): {"ULM": 0.1 * i, "DST": 0.2, "DST+STU": 0.3,
                                       "DST+STU+TCH": 0.4}
                         for i, m in enumerate(methods) for subset in mra.SUBSETS})
    paper_rows = mra.paper_ablation_table(methods, "mnist5k")
    table = mra.ablation_beside_paper(ours, paper_rows, "mnist5k")
    assert list(table.columns) == [(subset, stage) for subset in ("test", "forget")
                                   for stage in ("ULM", "DST", "DST+STU", "DST+STU+TCH")]
    assert len(table) == 16 and list(table.index.get_level_values(0).unique()) == methods
    paper_label = "paper (CIFAR-10, Table 8; it has no mnist5k rows)"
    assert table.loc[("ga", "here"), ("test", "ULM")] == "0.200"
    # Table 8's GA test row, as the paper prints it, under ours
    assert table.loc[("ga", paper_label)].loc["test"].tolist() == [
        "0.505", "0.501", "0.528", "0.582"]
    assert table.loc[("salun", paper_label), ("forget", "DST+STU+TCH")] == "0.997"
    # a method the paper's table lacks shows a dash, not a made-up number
    missing = [m for m in methods if (m, "test") not in paper_rows.columns]
    for m in missing:
        assert (table.loc[(m, paper_label)] == "–").all()


def test_student_table_has_both_students_in_both_cases_for_the_chosen_seeds():
    rows = pd.DataFrame([_row(attack, "ga", 0.2, rcm, seed=seed)
                         for attack, rcm in (("closed", 0.4), ("open", 0.8),
                                             ("closed, other student", 0.3),
                                             ("open, other student", 0.7))
                         for seed in (0, 1)] + [_row("closed", "ga", 0.2, 0.0, seed=2)])
    table = mra.student_table(rows, TRAINED, [0, 1], student="cnn", other_student="mlp")
    assert list(table.index.get_level_values(0).unique()) == [
        "closed, student: cnn", "closed, other student: mlp",
        "open, student: cnn", "open, other student: mlp"]
    assert table.loc[("closed, student: cnn", "forget", "RCM"), "ga"] == pytest.approx(0.4)
    assert table.loc[("open, other student: mlp", "forget", "RCM"), "ga"] == pytest.approx(0.7)
    assert table.loc[("open, other student: mlp", "test", "ULM"), "ga"] == pytest.approx(0.5)
    assert len(table) == 16


def test_ablation_table_reads_each_stages_attack_for_the_chosen_methods_and_seeds():
    rows = pd.DataFrame([_row(attack, method, 0.1, rcm, seed=seed)
                         for attack, rcm in (("dst", 0.2), ("closed", 0.5), ("open", 0.9))
                         for method in ("salun", "ga") for seed in (0, 1)])
    rows.loc[rows.seed == 1, "rcm"] = [_scores(0.6, 0.0)] * 6  # an excluded seed
    table = mra.ablation_table(rows, TRAINED, ["salun"], [0])
    assert list(table.index) == ["ULM", "DST", "DST+STU", "DST+STU+TCH"]
    assert list(table.columns) == [("salun", "test"), ("salun", "forget")]
    assert table[("salun", "forget")].tolist() == pytest.approx([0.1, 0.2, 0.5, 0.9])
    assert table[("salun", "test")].tolist() == pytest.approx([0.5, 0.6, 0.6, 0.6])


def test_forget_confusions_are_the_ulm_and_each_stages_rcm_of_one_seed():
    marks = {"ulm": torch.full((2, 4), 0.1), "dst": torch.full((2, 4), 0.2),
             "closed": torch.full((2, 4), 0.3), "open": torch.full((2, 4), 0.4)}
    rows = pd.DataFrame([{"seed": seed, "method": "ff", "attack": attack,
                          "ulm": _scores(0.5, 0.1, marks["ulm"]),
                          "rcm": _scores(0.5, 0.1, marks[attack] + seed)}
                         for attack in ("dst", "closed", "open") for seed in (0, 1)])
    matrices = mra.forget_confusions(rows, ["ff"], seed=1)
    assert list(matrices["ff"]) == ["ULM", "DST", "DST+STU", "DST+STU+TCH"]
    assert [m[0, 0].item() for m in matrices["ff"].values()] == pytest.approx([0.1, 1.2, 1.3, 1.4])


def test_per_class_figure_has_a_panel_per_method():
    rows = _rows({("closed", "ga"): (0.2, 0.4), ("closed", "salun"): (0.9, 0.8)})
    fig = mra.per_class_figure(rows, "closed", [str(c) for c in range(10)], "closed")
    assert [ax.get_title() for ax in fig.axes if ax.axison] == ["ga", "salun"]


def test_confusion_diagonals_read_each_forget_class_at_its_own_column():
    # Forget classes 1 and 3 of four: row 0 is class 1's, row 1 class 3's.
    matrix = torch.tensor([[0.1, 0.6, 0.2, 0.1], [0.3, 0.0, 0.0, 0.7]])
    diagonals = mra.confusion_diagonals({"ff": {"ULM": matrix, "DST": matrix / 2}}, [1, 3],
                                        ["a", "b", "c", "d"])
    assert list(diagonals.columns) == ["b", "d"]
    assert list(diagonals.index) == [("ff", "ULM"), ("ff", "DST")]
    assert diagonals.loc[("ff", "ULM")].tolist() == pytest.approx([0.6, 0.7])
    assert diagonals.loc[("ff", "DST")].tolist() == pytest.approx([0.3, 0.35])


def _diagonals(values: dict) -> pd.DataFrame:
    """Figure 7's diagonals from {method: (ULM, DST, DST+STU, DST+STU+TCH)}, each stage's
    entries for the forget classes b and d."""
    return pd.DataFrame({(m, stage): entries for m, stages in values.items()
                         for stage, entries in zip(["ULM", *mra.STAGES], stages)},
                        index=["b", "d"]).T


def test_all_positive_needs_every_value_strictly_above_zero():
    assert mra.all_positive(_gains(ga=0.1, iu=0.2)) is True
    assert mra.all_positive(_gains(ga=0.1, iu=0.0)) is False
    assert mra.all_positive(_gains()) is None


def test_precise_easiest_compares_the_precise_methods_mean_with_the_others():
    assert mra.precise_easiest(_gains(salun=0.5, unsc=0.1, ga=0.2, iu=0.3)) is True
    assert mra.precise_easiest(_gains(salun=0.3, ga=0.2, iu=0.4)) is False
    assert mra.precise_easiest(_gains(salun=0.3, ga=0.3)) is False  # strictly
    assert mra.precise_easiest(_gains(ga=0.2, iu=0.4)) is None  # no precise method ran
    assert mra.precise_easiest(_gains(salun=0.5, unsc=0.1)) is None  # no other method


def test_iu_turns_around_needs_iu_in_the_lowest_two_closed_and_the_top_two_open():
    closed = _gains(iu=0.1, ga=0.05, ff=0.3, bu=0.4)
    assert mra.iu_turns_around(closed, _gains(iu=0.5, ga=0.1, ff=0.6, bu=0.2)) is True
    assert mra.iu_turns_around(closed, _gains(iu=0.3, ga=0.1, ff=0.6, bu=0.4)) is False
    third = _gains(iu=0.35, ga=0.05, ff=0.3, bu=0.4)  # third lowest closed source
    assert mra.iu_turns_around(third, _gains(iu=0.9, ga=0.1, ff=0.6, bu=0.2)) is False
    tied = _gains(iu=0.3, ga=0.3, ff=0.3, bu=0.4)  # IU ties for the lowest three: not in two
    assert mra.iu_turns_around(tied, _gains(iu=0.9, ga=0.1, ff=0.6, bu=0.2)) is False
    assert mra.iu_turns_around(_gains(iu=0.1, ga=0.2, ff=0.3),
                               _gains(iu=0.9, ga=0.1, ff=0.2)) is None  # three methods
    assert mra.iu_turns_around(_gains(ga=0.1, ff=0.2, bu=0.3, rl=0.4),
                               _gains(ga=0.1, ff=0.2, bu=0.3, rl=0.4)) is None
    # The paper's CIFAR-10 rows: on test IU's 0.010 is the second lowest of Table 2 and its
    # 0.584 the highest of Table 3; on forget its 0.668 is only fifth of eight in Table 3.
    methods = list(paper.ULM["cifar10"])
    gains = {s: [mra.paper_gain(c, methods, "cifar10", s) for c in ("dst+stu", "dst+stu+tch")]
             for s in ("test", "forget")}
    assert mra.iu_turns_around(*gains["test"]) is True
    assert mra.iu_turns_around(*gains["forget"]) is False


def test_l1_among_hardest_asks_for_the_lower_half_of_the_gains():
    assert mra.l1_among_hardest(_gains(l1_sparse=0.1, ga=0.2, iu=0.3, ff=0.4)) is True
    assert mra.l1_among_hardest(_gains(l1_sparse=0.3, ga=0.2, iu=0.1, ff=0.4)) is False
    assert mra.l1_among_hardest(_gains(l1_sparse=0.2, ga=0.1, iu=0.3)) is False  # the middle
    assert mra.l1_among_hardest(_gains(ga=0.2, iu=0.4)) is None
    assert mra.l1_among_hardest(_gains(l1_sparse=0.2)) is None


def _ablation(forget: dict, test: dict | None = None, ulm: dict | None = None) -> pd.DataFrame:
    """An ablation table from {method: (DST, DST+STU, DST+STU+TCH)} forget accuracies, test
    accuracies (the same unless given) and the ULM's {method: (forget, test)} (0 unless
    given)."""
    test, ulm = test or forget, ulm or {}
    return pd.DataFrame({(m, s): dict(zip(["ULM", *mra.STAGES],
                                          (ulm.get(m, (0.0, 0.0))[s == "test"],
                                           *(test if s == "test" else forget)[m])))
                         for m in forget for s in ("test", "forget")})


def test_ablation_ordered_needs_a_strict_rise_at_each_stage_for_every_method():
    assert mra.ablation_ordered(_ablation({"ff": (0.1, 0.5, 0.9), "bu": (0.2, 0.3, 0.4)}))
    assert mra.ablation_ordered(_ablation({"ff": (0.1, 0.5, 0.9),
                                           "bu": (0.2, 0.5, 0.4)})) is False
    assert mra.ablation_ordered(_ablation({"ff": (0.1, 0.1, 0.9)})) is False
    assert mra.ablation_ordered(pd.DataFrame()) is None
    assert mra.ablation_ordered(mra.paper_ablation_table(["ff", "bu", "salun", "unsc"],
                                                         "oxford_pets"))  # Table 4
    # CIFAR-10's IU (Table 8): DST 0.101 on forget, DST+STU 0.096.
    assert mra.ablation_ordered(mra.paper_ablation_table(["iu"], "cifar10")) is False


def test_ablation_ordered_reads_the_subset_it_is_asked_for():
    table = _ablation({"ff": (0.1, 0.5, 0.9)}, test={"ff": (0.5, 0.6, 0.55)})
    assert mra.ablation_ordered(table) is True
    assert mra.ablation_ordered(table, "test") is False
    swapped = _ablation({"ff": (0.5, 0.6, 0.55)}, test={"ff": (0.1, 0.5, 0.9)})
    assert mra.ablation_ordered(swapped, "test") is True


def test_dst_near_ulm_needs_dst_nearer_the_ulm_than_dst_stu_for_every_method():
    near = _ablation({"ff": (0.15, 0.5, 0.9)}, ulm={"ff": (0.1, 0.1)})  # 0.05 against 0.4
    assert mra.dst_near_ulm(near) is True
    # bu: DST moves 0.3 from the ULM, DST+STU 0.2 (it may fall below the ULM: distances count)
    far = _ablation({"ff": (0.15, 0.5, 0.9), "bu": (0.5, 0.0, 0.9)}, ulm={"ff": (0.1, 0.1),
                                                                         "bu": (0.2, 0.2)})
    assert mra.dst_near_ulm(far) is False
    tie = _ablation({"ff": (0.3, 0.5, 0.9)}, ulm={"ff": (0.4, 0.4)})  # 0.1 against 0.1
    assert mra.dst_near_ulm(tie) is False
    assert mra.dst_near_ulm(near, "test") is True
    assert mra.dst_near_ulm(_ablation({"ff": (0.15, 0.5, 0.9)}, test={"ff": (0.6, 0.2, 0.9)},
                                      ulm={"ff": (0.1, 0.1)}), "test") is False
    assert mra.dst_near_ulm(pd.DataFrame()) is None
    # The paper's own tables: CIFAR-10's IU (Tables 2, 8) has ULM 0.090, DST 0.101 and
    # DST+STU 0.096 on forget, so the rule fails there and holds on Pet-37's Table 4.
    assert mra.dst_near_ulm(mra.paper_ablation_table(["iu"], "cifar10")) is False
    assert mra.dst_near_ulm(mra.paper_ablation_table(["ff", "bu", "salun", "unsc"],
                                                     "oxford_pets")) is True


def test_every_method_forgot_needs_each_ulm_at_most_half_the_trained_forget_accuracy():
    assert mra.every_method_forgot(_gains(ga=0.2, iu=0.45), 0.9) is True  # 0.45 is half
    assert mra.every_method_forgot(_gains(ga=0.2, rl=0.46), 0.9) is False
    assert mra.every_method_forgot(_gains(), 1.0) is None
    theirs = {d: _gains(**{m: ulm[m]["forget"] for m in ulm}) for d, ulm in paper.ULM.items()}
    assert all(mra.every_method_forgot(theirs[d], paper.TRAINED[d]["forget"]) for d in theirs)


EXPECTED_IDS = ["every_method_forgot", "recall_every_method_closed", "recall_every_method_closed_test",
                "recall_every_method_open", "recall_every_method_open_test",
                "open_beats_closed", "open_beats_closed_test",
                "precise_unlearning_easiest", "precise_unlearning_easiest_test",
                "precise_unlearning_easiest_open", "precise_unlearning_easiest_open_test",
                "l1_sparse_among_hardest", "l1_sparse_among_hardest_test",
                "salun_recalled_most_per_class", "l1_sparse_recalled_little_per_class",
                "open_gaps_narrow_per_class",
                "iu_lowest_closed_top_open", "iu_lowest_closed_top_open_test",
                "ablation_order", "ablation_order_test", "dst_near_ulm", "dst_near_ulm_test",
                "confusion_diagonal_rises",
                "other_student_recalls", "other_student_recalls_test",
                "other_student_recalls_open", "other_student_recalls_open_test"]

# Claim rules on hand-made runs of three seeds. A value is the same on every seed, or a
# tuple of one value per seed. The trained model's forget accuracy is 1.0, so a ULM at 0.2
# forgot and one at 0.95 did not (FORGOT_MARGIN 0.2).
SEEDS = (0, 1, 2)
TRAINED3 = {s: {"test": 0.9, "forget": 1.0} for s in SEEDS}
GAIN = (0.5, 0.52, 0.48)  # from a ULM at 0.2: +0.3 on every seed, a tight interval above 0
LOSS = (0.1, 0.12, 0.08)  # -0.1 on every seed: an interval below 0
NOISE = (0.5, 0.0, 0.3)  # +0.3, -0.2, +0.1: an interval across 0


def _at(value, i):
    return value[i] if isinstance(value, tuple) else value


def _seeded(accuracies: dict, seeds=SEEDS) -> pd.DataFrame:
    """Rows from {(attack, method): (ulm_forget, rcm_forget[, ulm_test, rcm_test])}."""
    return pd.DataFrame([
        _row(attack, method, _at(v[0], i), _at(v[1], i), seed=seed,
             test=(_at(v[2], i), _at(v[3], i)) if len(v) > 2 else (0.5, 0.6))
        for (attack, method), v in accuracies.items() for i, seed in enumerate(seeds)])


def _reasons(rows):
    return mra.forgetting_reasons(rows, TRAINED3)


def test_forgetting_reasons_name_the_methods_whose_ulm_kept_the_forget_set():
    rows = _seeded({("closed", "ga"): (0.2, 0.5), ("closed", "rl"): ((0.95, 0.9, 0.97), 0.9),
                    ("closed", "iu"): ((0.2, 0.9, 0.5), 0.9)})
    reasons = _reasons(rows)
    assert reasons["ga"] is None
    assert reasons["rl"].startswith("rl did not forget: forget accuracy 0.940")
    assert reasons["iu"] is not None  # mean 0.53, but the interval over three seeds reaches 1
    assert mra.methods_that_forgot(reasons) == ["ga"]


def test_one_seed_reads_its_images_wilson_and_newcombe():
    rows = _seeded({("closed", "ga"): (0.2, 0.5)}, seeds=(0,))
    assert mra.forgetting_reasons(rows, TRAINED3)["ga"] is None  # Wilson over 100 images
    ulm, rcm = (mra.seed_accuracies(rows, "closed", m)["ga"] for m in ("ulm", "rcm"))
    gain = mra.accuracy_difference(rcm, ulm, 100)
    assert gain.n == "100 + 100 images, 1 seed"
    assert gain.estimate == pytest.approx(0.3) and 0.15 < gain.low < 0.3 < gain.high < 0.45
    assert not mra.accuracy_difference(rcm, ulm, None).finite  # one seed, no count


@pytest.mark.parametrize("ulm, verdict", [
    (0.2, "held"), ((0.9, 0.91, 0.89), "did not hold"), ((0.3, 0.7, 0.5), "inconclusive")])
def test_every_method_forgot_compares_each_ulm_with_half_the_trained_model(ulm, verdict):
    rows = _seeded({("closed", "ga"): (0.2, 0.5), ("closed", "salun"): (ulm, 0.5)})
    claim = mra.forgetting_claim(rows, TRAINED3, "mnist5k")
    assert claim.verdict == verdict
    assert claim.here.startswith("ULM forget accuracy - 0.5 x TRM's (1.000): ga -0.300")


def test_every_method_forgot_is_not_testable_without_runs():
    empty = _seeded({("open", "ga"): (0.2, 0.5)})
    assert mra.forgetting_claim(empty, TRAINED3, "mnist5k").verdict == "not testable here"


@pytest.mark.parametrize("salun, verdict", [
    ((0.2, GAIN), "held"), ((0.2, LOSS), "did not hold"), ((0.2, NOISE), "inconclusive"),
    ((0.95, 0.99), "not testable here")])  # salun did not forget: nothing to recall
def test_recall_every_method_needs_each_gain_above_zero_where_the_ulm_forgot(salun, verdict):
    rows = _seeded({("closed", "ga"): (0.2, GAIN), ("closed", "salun"): salun,
                    ("open", "ga"): (0.2, GAIN), ("open", "salun"): salun})
    found = {c.id: c for c in mra.recall_claims(rows, "mnist5k", _reasons(rows))}
    claim = found["recall_every_method_closed"]
    assert claim.verdict == verdict
    assert claim.here.startswith("ΔAcc = RCM - ULM: ga +0.300 [")
    if verdict == "not testable here":
        assert "salun not testable (salun did not forget: forget accuracy 0.950" in claim.here


def test_a_method_that_did_not_recall_decides_even_beside_one_not_testable():
    rows = _seeded({("closed", "ga"): (0.2, LOSS), ("closed", "rl"): (0.95, 0.99),
                    ("open", "ga"): (0.2, GAIN), ("open", "rl"): (0.95, 0.99)})
    found = {c.id: c.verdict for c in mra.recall_claims(rows, "mnist5k", _reasons(rows))}
    assert found["recall_every_method_closed"] == "did not hold"
    assert found["recall_every_method_open"] == "not testable here"


def test_recall_on_test_reads_the_test_accuracies():
    rows = _seeded({("closed", "ga"): (0.2, GAIN, 0.5, (0.4, 0.41, 0.39)),
                    ("open", "ga"): (0.2, GAIN, 0.5, (0.7, 0.71, 0.69))})
    found = {c.id: c for c in mra.recall_claims(rows, "mnist5k", _reasons(rows))}
    assert found["recall_every_method_closed_test"].verdict == "did not hold"
    assert found["recall_every_method_open_test"].verdict == "held"
    assert found["open_beats_closed_test"].verdict == "held"  # 0.7 against 0.4


@pytest.mark.parametrize("open_rcm, verdict", [
    ((0.7, 0.75, 0.72), "held"), ((0.3, 0.31, 0.32), "did not hold"),
    ((0.9, 0.2, 0.5), "inconclusive")])
def test_open_beats_closed_compares_the_two_rcms_seed_by_seed(open_rcm, verdict):
    rows = _seeded({("closed", "ga"): (0.2, GAIN), ("open", "ga"): (0.2, open_rcm)})
    found = {c.id: c.verdict for c in mra.recall_claims(rows, "mnist5k", _reasons(rows))}
    assert found["open_beats_closed"] == verdict


def _gain_rows(ulm: dict, gains: dict, attack: str = "closed") -> pd.DataFrame:
    """Rows of one attack where each method's ULM is `ulm[m]` (0.2 unless given) and its
    RCM that plus `gains[m]` (a number or one per seed)."""
    return _seeded({(attack, m): (ulm.get(m, 0.2),
                                  tuple(ulm.get(m, 0.2) + _at(g, i) for i in range(3)))
                    for m, g in gains.items()})


@pytest.mark.parametrize("gains, ulm, verdict", [
    ({"salun": 0.5, "unsc": 0.4, "ga": 0.1, "iu": (0.1, 0.12, 0.08)}, {}, "held"),
    ({"salun": 0.1, "unsc": 0.1, "ga": 0.4, "iu": (0.5, 0.52, 0.48)}, {}, "did not hold"),
    ({"salun": (0.6, 0.0, 0.3), "unsc": 0.3, "ga": 0.3, "iu": 0.3}, {}, "inconclusive"),
    ({"salun": 0.5, "unsc": 0.4, "ga": 0.1}, {"salun": 0.95}, "not testable here"),
    # rl did not forget and gained nothing: it is no evidence that salun is easy to recall
    ({"salun": 0.2, "unsc": 0.2, "ga": 0.4, "rl": (0.0, 0.01, 0.0)}, {"rl": 0.95},
     "did not hold")])
def test_precise_unlearning_easiest_against_the_other_methods_that_forgot(gains, ulm, verdict):
    rows = _gain_rows(ulm, gains)
    claim = mra.precise_claim("p", "claim", "paper", mra.seed_gains(rows, "closed"),
                              _reasons(rows))
    assert claim.verdict == verdict


@pytest.mark.parametrize("l1, ulm, verdict", [
    (0.05, {}, "held"), (0.6, {}, "did not hold"), ((0.6, 0.0, 0.3), {}, "inconclusive"),
    # L1-SP did not forget: a tiny gain is no sign that it is hard to recall
    (0.0, {"l1_sparse": 0.95}, "not testable here")])
def test_l1_sparse_among_hardest_needs_it_forgotten_and_below_the_others_median(l1, ulm,
                                                                               verdict):
    rows = _gain_rows(ulm, {"l1_sparse": l1, "ga": 0.3, "iu": 0.4, "ff": 0.5})
    claim = mra.hardest_claim("h", "claim", "paper", mra.seed_gains(rows, "closed"),
                              _reasons(rows))
    assert claim.verdict == verdict
    if verdict == "not testable here":
        assert claim.here.startswith("l1_sparse did not forget")
    else:
        assert claim.here.startswith("ΔAcc of l1_sparse - median of the others that forgot "
                                     "(ga, iu, ff): ")


def _class_claims(closed: dict, open_gains: dict | None = None, ulm: dict | None = None):
    rows = pd.concat([_gain_rows(ulm or {}, closed, "closed"),
                      _gain_rows(ulm or {}, open_gains or closed, "open")])
    return {c.id: c for c in mra.per_class_claims(rows, _reasons(rows))}


@pytest.mark.parametrize("gains, ulm, verdict", [
    ({"salun": 0.6, "ga": 0.3, "l1_sparse": 0.1}, {}, "held"),
    ({"salun": 0.25, "ga": 0.3, "l1_sparse": 0.1}, {}, "did not hold"),  # below the largest
    ({"salun": (0.6, 0.1, 0.3), "ga": 0.3, "l1_sparse": 0.1}, {}, "inconclusive"),
    ({"salun": 0.0, "ga": 0.3, "l1_sparse": 0.1}, {"salun": 0.95}, "not testable here")])
def test_salun_recalled_most_in_every_class(gains, ulm, verdict):
    claim = _class_claims(gains, ulm=ulm)["salun_recalled_most_per_class"]
    assert claim.verdict == verdict
    if verdict == "held":  # class 3 reads half of each gain
        assert claim.here.startswith("ΔAcc of salun - max of ga, l1_sparse: class 1 +0.300 [")
        assert "class 3 +0.150" in claim.here


@pytest.mark.parametrize("gains, ulm, verdict", [
    ({"l1_sparse": 0.05, "ga": 0.3, "iu": 0.4, "salun": 0.5}, {}, "held"),
    ({"l1_sparse": 0.45, "ga": 0.3, "iu": 0.4, "salun": 0.5}, {}, "did not hold"),  # > median
    ({"l1_sparse": (0.7, 0.0, 0.4), "ga": 0.3, "iu": 0.4, "salun": 0.5}, {}, "inconclusive"),
    ({"l1_sparse": 0.0, "ga": 0.3, "iu": 0.4}, {"l1_sparse": 0.95}, "not testable here")])
def test_l1_sparse_recalled_little_in_every_class(gains, ulm, verdict):
    assert _class_claims(gains, ulm=ulm)["l1_sparse_recalled_little_per_class"].verdict == \
        verdict


@pytest.mark.parametrize("open_gains, ulm, verdict", [
    ({"ga": 0.5, "salun": 0.55, "rl": 0.6}, {}, "held"),  # spread 0.1 against 0.4
    ({"ga": 0.0, "salun": 0.8, "rl": 0.4}, {}, "did not hold"),  # 0.8 against 0.4
    ({"ga": (0.0, 0.5, 0.1), "salun": 0.6, "rl": 0.3}, {}, "inconclusive"),
    ({"ga": 0.5, "salun": 0.55, "rl": 0.6}, {"salun": 0.95, "rl": 0.95}, "not testable here")])
def test_open_gaps_narrow_compares_the_spread_of_the_methods_that_forgot(open_gains, ulm,
                                                                        verdict):
    closed = {"ga": 0.1, "salun": 0.5, "rl": 0.3}
    claim = _class_claims(closed, open_gains, ulm)["open_gaps_narrow_per_class"]
    assert claim.verdict == verdict


@pytest.mark.parametrize("closed_iu, open_iu, ulm, verdict", [
    (0.2, 0.5, {}, "held"),  # second lowest closed (0.1 < 0.2 < 0.3), second highest open
    (0.45, 0.7, {}, "did not hold"),  # IU the highest closed source
    (0.05, (0.9, 0.1, 0.5), {}, "inconclusive"),
    (0.05, 0.7, {"iu": 0.95}, "not testable here")])
def test_iu_turns_around_among_the_methods_that_forgot(closed_iu, open_iu, ulm, verdict):
    others = {"ga": 0.1, "ff": 0.3, "bu": 0.4}
    rows = pd.concat([_gain_rows(ulm, {**others, "iu": closed_iu}, "closed"),
                      _gain_rows(ulm, {"ga": 0.2, "ff": 0.6, "bu": 0.3, "iu": open_iu},
                                 "open")])
    assert mra.iu_claims(rows, "mnist5k", _reasons(rows))[0].verdict == verdict


def _stage_rows(stages: dict, ulm: dict | None = None, seeds=SEEDS) -> pd.DataFrame:
    """Rows from {method: (DST, DST+STU, DST+STU+TCH)} forget accuracies (numbers or one
    per seed), the ULM at `ulm[m]` (0.1 unless given); test accuracies 0.5 → 0.6."""
    ulm = ulm or {}
    return _seeded({(attack, m): (ulm.get(m, 0.1), values[i])
                    for m, values in stages.items()
                    for i, attack in enumerate(("dst", "closed", "open"))}, seeds=seeds)


@pytest.mark.parametrize("stages, ulm, verdict", [
    ({"ff": (0.15, 0.5, 0.9), "bu": ((0.2, 0.21, 0.19), 0.4, 0.6)}, {}, "held"),
    ({"ff": (0.15, 0.5, 0.9), "bu": (0.2, 0.6, (0.5, 0.52, 0.51))}, {}, "did not hold"),
    ({"ff": (0.15, 0.5, 0.9), "bu": (0.2, 0.4, (0.9, 0.3, 0.5))}, {}, "inconclusive"),
    ({"ff": (0.15, 0.5, 0.9), "bu": (0.96, 0.97, 0.98)}, {"bu": 0.95}, "not testable here")])
def test_ablation_order_needs_both_steps_of_every_method_that_forgot(stages, ulm, verdict):
    rows = _stage_rows(stages, ulm)
    found = {c.id: c for c in mra.ablation_claims(rows, mra.paper_ablation_table(
        list(stages), "mnist5k"), "mnist5k", _reasons(rows))}
    assert found["ablation_order"].verdict == verdict
    assert found["ablation_order"].here.startswith(
        "accuracy gained at each step: ff DST → DST+STU +0.350 [+0.350, +0.350], 3 seeds, "
        "paired; ff DST+STU → DST+STU+TCH +0.400")
    assert found["ablation_order_test"].verdict == "did not hold"  # 0.6 at every stage


def test_ablation_of_one_seed_reads_its_images():
    found = {c.id: c for c in mra.ablation_claims(
        _stage_rows({"ff": (0.15, 0.5, 0.9)}, seeds=(0,)),
        mra.paper_ablation_table(["ff"], "mnist5k"), "mnist5k", {"ff": None})}
    assert found["ablation_order"].verdict == "held"
    assert "100 + 100 images, 1 seed" in found["ablation_order"].here
    assert found["dst_near_ulm"].verdict == "inconclusive"  # one seed: no interval


@pytest.mark.parametrize("dst, verdict", [
    ((0.15, 0.16, 0.14), "held"),  # DST moves 0.05, DST+STU 0.4
    ((0.8, 0.82, 0.81), "did not hold"),  # DST moves 0.7
    ((0.1, 0.9, 0.5), "inconclusive")])
def test_dst_near_ulm_compares_the_distances_seed_by_seed(dst, verdict):
    rows = _stage_rows({"ff": (dst, 0.5, 0.9)})
    found = {c.id: c for c in mra.ablation_claims(rows, mra.paper_ablation_table(
        ["ff"], "mnist5k"), "mnist5k", _reasons(rows))}
    assert found["dst_near_ulm"].verdict == verdict


def test_dst_near_ulm_is_not_testable_where_the_ulm_did_not_forget():
    rows = _stage_rows({"ff": (0.96, 0.97, 0.98)}, {"ff": 0.95})
    found = {c.id: c.verdict for c in mra.ablation_claims(rows, mra.paper_ablation_table(
        ["ff"], "mnist5k"), "mnist5k", _reasons(rows))}
    assert found["dst_near_ulm"] == "not testable here"


@pytest.mark.parametrize("stages, ulm, verdict", [
    ({"ff": (0.15, 0.5, 0.9)}, {}, "held"),
    ({"ff": (0.15, 0.5, (0.45, 0.46, 0.44))}, {}, "did not hold"),  # falls at TCH
    ({"ff": (0.15, 0.5, (0.9, 0.2, 0.6))}, {}, "inconclusive"),
    ({"ff": (0.96, 0.97, 0.98)}, {"ff": 0.95}, "not testable here")])
def test_confusion_diagonal_rises_in_every_forget_class(stages, ulm, verdict):
    rows = _stage_rows(stages, ulm)
    claim = mra.diagonal_claim(rows, _reasons(rows))
    assert claim.verdict == verdict
    if verdict == "held":  # class 3 reads half of class 1's accuracy
        assert "ff class 3 DST → DST+STU +0.175" in claim.here


def test_other_student_recalls_reads_its_own_attack_rows():
    rows = _seeded({("closed", "ga"): (0.2, LOSS), ("closed", "rl"): (0.95, 0.9),
                    ("closed, other student", "ga"): (0.2, GAIN),
                    ("closed, other student", "rl"): (0.95, 0.9),
                    ("open, other student", "ga"): (0.2, GAIN)})
    found = {c.id: c for c in mra.other_student_claims(rows, "mlp", _reasons(rows))}
    assert found["other_student_recalls"].verdict == "not testable here"  # rl kept it
    assert "ga +0.300" in found["other_student_recalls"].here
    assert found["other_student_recalls_open"].verdict == "held"
    assert "(mlp)" in found["other_student_recalls"].claim


# (ulm_forget, rcm_forget, ulm_test, rcm_test) of hand-made runs, the same on three seeds.
CLAIM_ROWS = {("closed", "ga"): (0.2, 0.4, 0.5, 0.45), ("closed", "rl"): (0.15, 0.3, 0.4, 0.5),
              ("closed", "salun"): (0.9, 0.8, 0.5, 0.6),
              ("open", "ga"): (0.2, 0.7, 0.5, 0.7), ("open", "rl"): (0.15, 0.5, 0.4, 0.45),
              ("open", "salun"): (0.9, 0.95, 0.5, 0.55),
              ("dst", "salun"): (0.9, 0.85, 0.5, 0.5),
              ("closed, other student", "ga"): (0.2, 0.3, 0.5, 0.6),
              ("closed, other student", "salun"): (0.9, 0.91, 0.5, 0.55),
              ("open, other student", "ga"): (0.2, 0.6, 0.5, 0.6),
              ("open, other student", "salun"): (0.9, 0.85, 0.5, 0.5)}


def _results(rows, trained, *, dataset="mnist5k", ablation_methods=("salun",),
             other_student="mlp", splits=None) -> mra.Results:
    """A hand-made `mra.Results` of attack `rows` and the `trained` models' scores (the
    classes a, b, c, d; the ablation and the other student on the rows' first seed)."""
    seeds = sorted(set(rows.seed))
    return mra.Results(dataset, ["a", "b", "c", "d"], splits or {}, list(dict.fromkeys(
        rows.method)), seeds, "cnn", other_student, seeds[:1], list(ablation_methods),
        seeds[:1], rows, trained)


def _claims(dataset: str) -> dict:
    found = mra.claims(_results(_seeded(CLAIM_ROWS), TRAINED3, dataset=dataset))
    assert [c.id for c in found] == EXPECTED_IDS
    return {c.id: c for c in found}


def test_claims_read_the_results_dataset_ablation_and_other_student():
    # the same rows judged with the paper's rows of another dataset, another ablated
    # method and another student's name
    rows = _seeded(CLAIM_ROWS)
    by_id = {c.id: c for c in mra.claims(_results(rows, TRAINED3, dataset="cifar100",
                                                  other_student="vit"))}
    assert by_id["recall_every_method_closed"].paper.startswith("held on CIFAR-100")
    assert "(vit)" in by_id["other_student_recalls"].claim
    ablated = {c.id: c for c in mra.claims(_results(rows, TRAINED3, ablation_methods=()))}
    assert ablated["ablation_order"].paper != _claims("mnist5k")["ablation_order"].paper
    # the claims read the results' trained models: a trained model at the ULMs' accuracy
    # leaves no ULM forgotten
    kept = {s: {"test": 0.9, "forget": 0.2} for s in SEEDS}
    assert {c.id: c.verdict for c in mra.claims(_results(rows, kept))}[
        "recall_every_method_closed"] == "not testable here"


def test_claims_of_a_run_keep_their_ids_and_state_what_was_not_testable():
    by_id = _claims("mnist5k")
    verdicts = {i: c.verdict for i, c in by_id.items()}
    assert set(verdicts.values()) <= {"held", "did not hold", "inconclusive",
                                      "not testable here"}
    assert verdicts["every_method_forgot"] == "did not hold"  # salun keeps 0.9 of 1.0
    assert verdicts["recall_every_method_closed_test"] == "did not hold"  # ga -0.05 on test
    assert verdicts["recall_every_method_open"] == "not testable here"  # salun kept it
    assert verdicts["l1_sparse_among_hardest"] == "not testable here"  # L1-SP did not run
    assert by_id["l1_sparse_among_hardest"].here == "l1_sparse did not run"
    assert verdicts["salun_recalled_most_per_class"] == "not testable here"
    assert verdicts["ablation_order"] == "not testable here"  # the ablated salun kept it
    assert "salun did not forget" in by_id["recall_every_method_open"].here


def test_claims_apply_each_rule_to_the_papers_rows_of_the_dataset_that_ran():
    # mnist5k: the paper has no rows, so its CIFAR-10 rows (Tables 2, 3 and 8) stand in.
    by_id = _claims("mnist5k")
    assert by_id["recall_every_method_closed"].paper == \
        "held on CIFAR-10: ga +0.091, rl +0.175, salun +0.498"
    # RL's open-source test accuracy, 0.471, is below its closed-source 0.479.
    assert by_id["open_beats_closed_test"].paper == \
        "did not hold on CIFAR-10: ga +0.054, rl -0.008, salun +0.132"
    assert by_id["precise_unlearning_easiest"].paper.startswith("held on CIFAR-10")
    # Table 3's ΔAcc on forget: SalUn 0.880 against GA's 0.242 and RL's 0.197.
    assert by_id["precise_unlearning_easiest_open"].paper == \
        "held on CIFAR-10: ga +0.242, rl +0.197, salun +0.880"
    assert by_id["l1_sparse_among_hardest"].paper.startswith("not testable here on CIFAR-10")
    assert by_id["ablation_order_test"].paper == \
        "held on CIFAR-10 (Table 8): salun: 0.451 → 0.697 → 0.829"
    assert by_id["confusion_diagonal_rises"].paper == "Figure 7 (matrices drawn, no numbers)"
    # Tables 2 and 8: SalUn's ULM 0.117 on forget, DST 0.027, DST+STU 0.615.
    assert by_id["dst_near_ulm"].paper == \
        "held on CIFAR-10 (Table 8): salun: 0.117 → 0.027 → 0.615"
    assert by_id["every_method_forgot"].paper == \
        "held on CIFAR-10: TRM 1.000; ga 0.267, rl 0.153, salun 0.117"
    # The other student: the paper's only such rows are Flower-102's, whatever ran.
    assert by_id["other_student_recalls"].paper == \
        "held on Flower-102 (Swin-T teacher, ResNet student): ga +0.113, salun +0.162"
    assert by_id["other_student_recalls_open"].paper == \
        "held on Flower-102 (Swin-T teacher, ResNet student): ga +0.470, salun +0.648"
    assert "(open source)" in by_id["other_student_recalls_open"].claim
    hundred = _claims("cifar100")
    assert hundred["recall_every_method_closed"].paper == \
        "held on CIFAR-100: ga +0.070, rl +0.451, salun +0.130"
    assert hundred["open_beats_closed_test"].paper.startswith("did not hold on CIFAR-100")
    assert hundred["ablation_order"].paper == \
        "held on CIFAR-100 (Table 9): salun: 0.142 → 0.358 → 0.945"
    assert hundred["other_student_recalls_test"].paper == \
        _claims("oxford_pets")["other_student_recalls_test"].paper


def test_the_reading_names_the_methods_that_did_not_forget_and_compares_the_cases():
    # The trained model's forget accuracy is 1.0: rl keeps 0.95 of it, salun 0.9, ga 0.2.
    rows = _seeded({("closed", "ga"): (0.2, (0.4, 0.41, 0.39)), ("closed", "rl"): (0.95, 0.9),
                    ("closed", "salun"): (0.9, 0.91), ("open", "ga"): (0.2, 0.8),
                    ("open", "rl"): (0.95, 0.97), ("open", "salun"): (0.9, 0.99)})
    text = mra.reading_the_verdicts(rows, TRAINED3, "mnist5k")
    assert "rl and salun did not forget here (ULM forget accuracy 0.90-0.95 against the " \
           "trained model's 1.00)" in text
    assert "In the paper's CIFAR-10 rows these methods had forgotten (forget accuracy " \
           "0.12-0.15 against 1.00)" in text
    assert "Where the ULM forgot (ga)" in text
    assert "recalls more than the closed-source one (their mean ΔAcc on forget, open minus " \
           "closed: +0.400 [+0.375, +0.425], 3 seeds), as in the paper's CIFAR-10 rows." in text
    pets = mra.reading_the_verdicts(rows, TRAINED3, "oxford_pets")
    assert "In the paper's Pet-37 rows these methods had forgotten (forget accuracy " \
           "0.13-0.33 against 1.00)" in pets


@pytest.mark.parametrize("open_rcm, outcome", [
    ((0.3, 0.31, 0.29), "recalls no more than the closed-source one"),
    ((0.9, 0.2, 0.5), "recalls not clearly more than the closed-source one")])
def test_the_reading_says_when_every_ulm_forgot_and_open_source_did_not_help(open_rcm,
                                                                              outcome):
    rows = _seeded({("closed", "ga"): (0.2, 0.5), ("closed", "iu"): (0.5, 0.6),
                    ("open", "ga"): (0.2, open_rcm), ("open", "iu"): (0.5, 0.5)})
    text = mra.reading_the_verdicts(rows, TRAINED3, "mnist5k")
    assert "did not forget" not in text
    assert "Every ULM here forgot (forget accuracy 0.20-0.50 against the trained model's " \
           "1.00)" in text
    assert outcome in text


def test_results_keep_the_tables_and_one_record_per_run():
    rows = _rows({(attack, "ga"): (0.2, 0.4) for attack in COMPONENTS})
    ablation = _ablation({"ga": (0.1, 0.4, 0.8)})
    splits = {"classes": 10, "train": 40, "test": 10, "forget": 10, "forget_per_class": [2] * 5}
    diagonals = _diagonals({"ga": ((0.1, 0.2), (0.3, 0.4), (0.5, 0.6), (0.7, 0.8))})
    found = mra.results(rows, TRAINED, ablation, splits=splits, diagonals=diagonals)
    assert list(found) == ["table1_splits", "table2_closed", "table3_open", "table4_ablation",
                           "fig7_diagonals", "heterogeneous", "runs"]
    assert found["table1_splits"] == splits
    assert {"method": "ga", "subset": "forget", "model": "TRM", "mean": 1.0, "std": 0.0} in \
        found["table2_closed"]
    assert len(found["table3_open"]) == 8  # 2 subsets x TRM, ULM, RCM, ΔAcc
    assert found["table4_ablation"]["ga/forget"] == {"ULM": 0.0, "DST": 0.1, "DST+STU": 0.4,
                                                     "DST+STU+TCH": 0.8}
    assert found["fig7_diagonals"]["ga/DST+STU"] == {"b": 0.5, "d": 0.6}
    assert list(found["heterogeneous"]) == ["closed", "open"]
    assert found["runs"][3] == {"seed": 0, "method": "ga", "attack": "closed, other student",
                                "components": "dst+stu", "student": "mlp", "seconds": 2.0,
                                "ulm_test": 0.5, "ulm_forget": 0.2, "rcm_test": 0.6,
                                "rcm_forget": 0.4}


def _full_results():
    """Results of two seeds with every attack, the confusion rows, per-class counts and a
    NaN (a run without a measured time)."""
    confusion = torch.tensor([[0.5, 0.25, 0.125, 0.125], [0.0, 0.75, 0.0, 0.25]])
    rows = pd.DataFrame([{**_row(attack, method, 0.2, 0.4, seed=seed),
                          "seconds": math.nan if (seed, attack) == (1, "dst") else 2.0}
                         for seed in (0, 1) for attack in COMPONENTS for method in ("ga", "salun")])
    for column in ("ulm", "rcm"):
        rows[column] = [{**scores, "forget_confusion": confusion * (i + 1) / 8}
                        for i, scores in enumerate(rows[column])]
    trained = {seed: _scores(0.9, 1.0, confusion) for seed in (0, 1)}
    splits = {"classes": 4, "train": 40, "test": 10, "forget": 10, "forget_per_class": [5, 5]}
    return _results(rows, trained, ablation_methods=("ga", "salun"), splits=splits)


def _same_scores(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(
        a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor)
        else a[k] == b[k]
        for k in a)


def _assert_same_results(found, expected):
    fields = [f.name for f in dataclasses.fields(mra.Results) if f.name not in ("rows", "trained")]
    assert [getattr(found, f) for f in fields] == [getattr(expected, f) for f in fields]
    pd.testing.assert_frame_equal(found.rows.drop(columns=["ulm", "rcm"]),
                                  expected.rows.drop(columns=["ulm", "rcm"]))
    for column in ("ulm", "rcm"):
        assert all(_same_scores(a, b) for a, b in zip(found.rows[column], expected.rows[column]))
    assert list(found.trained) == list(expected.trained)
    assert all(_same_scores(found.trained[s], expected.trained[s]) for s in expected.trained)


def test_results_round_trip_through_json_nan_included():
    results = _full_results()
    untimed = (results.rows.seed == 1) & (results.rows.attack == "dst")
    assert results.rows[untimed].seconds.isna().all()
    _assert_same_results(mra.Results.from_json(results.to_json()), results)
    # through a results file: NaN written as null and read back as NaN, the classes as
    # numbers again, the confusion rows as a tensor
    read = mra.Results.from_json(json.loads(json.dumps(jsonable(results.to_json()),
                                                       allow_nan=False)))
    _assert_same_results(read, results)
    assert read.rows.seconds.dtype == float
    assert read.rows.ulm[0]["forget_per_class"] == {1: 0.2, 3: 0.1}
    assert read.trained[1]["count"]["per_class"] == {1: 50, 3: 50}
    assert [dataclasses.asdict(c) for c in mra.claims(read)] == \
        [dataclasses.asdict(c) for c in mra.claims(results)]
    assert mra.headline(read) == mra.headline(results)


def test_results_json_keeps_the_tables_the_readers_read():
    results = _full_results()
    document = results.to_json()
    assert list(document)[:7] == ["table1_splits", "table2_closed", "table3_open",
                                  "table4_ablation", "fig7_diagonals", "heterogeneous", "runs"]
    assert document["table1_splits"] == results.splits
    assert len(document["runs"]) == len(results.rows)
    # Figure 7's diagonals of the first ablation seed: ga's ULM reads the first row's
    # confusion (1/8 of the matrix), row 0 at class 1 and row 1 at class 3
    assert document["fig7_diagonals"]["ga/ULM"] == {"b": pytest.approx(0.25 / 8),
                                                    "d": pytest.approx(0.25 / 8)}
    headline = mra.headline(results)
    assert headline["closed/ga/RCM/forget"] == pytest.approx(0.4)
    assert headline["open/salun/ULM/test"] == pytest.approx(0.5)
    assert set(headline) == {f"{a}/{m}/{model}/{s}" for a in ("closed", "open")
                             for m in ("ga", "salun") for model in ("ULM", "RCM")
                             for s in ("test", "forget")}


def _chapter_params(**changes):
    """The chapter's parameters cell, with `changes`, on the CPU."""
    notebook = book.read_notebook(ROOT / "notebooks" / "02_mra.py")
    return {**book.notebook_parameters(notebook), "device": "cpu", **changes}


def test_run_checks_every_parameter_before_training(monkeypatch, cache_dir):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before every parameter was checked")
    monkeypatch.setattr(mra, "unlearned_models", no_training)
    with pytest.raises(ConfigError, match="heterogeneous_seeds must be a list of one or more of seeds"):
        mra.run(_chapter_params(seeds=[3, 4], ablation_seeds=[3]))
    with pytest.raises(ConfigError, match="unknown model 'transformer'"):
        mra.run(_chapter_params(student="transformer"))
    with pytest.raises(ConfigError, match="tau"):
        mra.run(_chapter_params(tau_closed=2.0))
    with pytest.raises(ConfigError, match="out of range"):
        mra.run(_chapter_params(forget_classes=[12]))


def test_run_passes_the_chapters_parameters_to_the_study(monkeypatch, cache_dir):
    calls = {}

    def recall_study(data, split_spec, methods, seeds, attacks, **options):
        calls["study"] = (split_spec, methods, seeds, attacks, options)
        return pd.DataFrame({"seed": [2]}), {2: {"forget": 1.0}}
    monkeypatch.setattr(mra, "recall_study", recall_study)
    params = _chapter_params(seeds=[2, 5], methods=["ga", "salun"], forget_classes=[0, 2],
                             ablation_methods=["salun"], ablation_seeds=[5],
                             heterogeneous_seeds=[2], epochs=3)
    results = mra.run(params)
    split_spec, methods, seeds, attacks, options = calls["study"]
    assert split_spec == {"forget_classes": [0, 2], "forget_fraction": 0.5}
    assert (methods, seeds) == (["ga", "salun"], [2, 5])
    assert attacks == mra.attack_settings(params)
    assert options["restrict"] == mra.attack_restrictions(params)
    assert options["recipe"].epochs == 3 and options["architecture"] == "cnn"
    assert options["hyperparameters"] == params["hyperparameters"]
    assert (results.dataset, results.class_names[:2]) == ("mnist5k", ["0", "1"])
    assert results.splits["forget_per_class"] == [200, 200]
    assert (results.methods, results.seeds) == (["ga", "salun"], [2, 5])
    assert (results.ablation_methods, results.ablation_seeds) == (["salun"], [5])
    assert (results.student, results.other_student, results.heterogeneous_seeds) == \
        ("cnn", "mlp", [2])
    assert results.trained == {2: {"forget": 1.0}} and list(results.rows.seed) == [2]


# The chapter's smoke run, checked against what is known without it: the mnist5k split, the
# per-run records and the paper's numbers worked by hand.

SMOKE_METHODS = ["ga", "iu", "salun", "unsc"]
# The paper's verdicts for the smoke preset's methods on its CIFAR-10 rows (it has no mnist5k
# rows), by hand from Tables 2, 3 and 8, and on its Flower-102 rows (no UNSC) for the other
# student: every gain and every rise is positive there.
SMOKE_PAPER = {
    "every_method_forgot": "held on CIFAR-10: TRM 1.000; ga 0.267, iu 0.090, salun 0.117, "
                           "unsc 0.031",
    "recall_every_method_closed": "held on CIFAR-10: ga +0.091, iu +0.005, salun +0.498, "
                                  "unsc +0.482",
    "recall_every_method_closed_test": "held on CIFAR-10: ga +0.023, iu +0.010, salun +0.211, "
                                       "unsc +0.375",
    "recall_every_method_open": "held on CIFAR-10: ga +0.242, iu +0.668, salun +0.880, "
                                "unsc +0.890",
    "open_beats_closed_test": "held on CIFAR-10: ga +0.054, iu +0.574, salun +0.132, "
                              "unsc +0.206",
    "ablation_order": "held on CIFAR-10 (Table 8): salun: 0.027 → 0.615 → 0.997; "
                      "unsc: 0.030 → 0.513 → 0.921",
    "dst_near_ulm": "held on CIFAR-10 (Table 8): salun: 0.117 → 0.027 → 0.615; "
                    "unsc: 0.031 → 0.030 → 0.513",
    "other_student_recalls_test": "held on Flower-102 (Swin-T teacher, ResNet student): "
                                  "ga +0.196, iu +0.077, salun +0.103",
}


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def _smoke_gains(runs, attack: str, subset: str) -> dict[str, float]:
    """Each method's gain on `subset` from the per-run records (the smoke run has one seed)."""
    return {run["method"]: run[f"rcm_{subset}"] - run[f"ulm_{subset}"]
            for run in runs if run["attack"] == attack}


def check_smoke_results(results, out):
    """The chapter's smoke-run results (tests/test_chapters.py runs it)."""
    r = results["results"]
    # the results file holds the whole Results: the claims recomputed from it are those recorded
    read = mra.Results.from_json(r)
    assert [dataclasses.asdict(c) for c in mra.claims(read)] == r["claims"]
    # mnist5k holds 500 digits a class, 400 of them for training: five classes x 50%.
    assert r["table1_splits"] == {"classes": 10, "train": 4000, "test": 1000, "forget": 1000,
                                  "forget_per_class": [200] * 5}
    runs = r["runs"]
    assert {run["attack"] for run in runs} == {"closed", "open", "dst", "closed, other student",
                                               "open, other student"}
    for table, attack in (("table2_closed", "closed"), ("table3_open", "open")):
        cells = {(row["method"], row["subset"], row["model"]): row["mean"] for row in r[table]}
        assert sorted({m for m, _, _ in cells}) == SMOKE_METHODS
        for method in SMOKE_METHODS:
            mine = [run for run in runs if (run["attack"], run["method"]) == (attack, method)]
            for subset in ("test", "forget"):
                ulm = _mean(run[f"ulm_{subset}"] for run in mine)
                rcm = _mean(run[f"rcm_{subset}"] for run in mine)
                assert 0 <= ulm <= 1 and cells[(method, subset, "ULM")] == pytest.approx(ulm)
                assert cells[(method, subset, "RCM")] == pytest.approx(rcm)
                assert cells[(method, subset, "ΔAcc")] == pytest.approx(rcm - ulm)
        # One trained model (one seed) for every method: two epochs of the CNN, as chapter
        # 00's smoke run, which reaches 0.9 test accuracy.
        for subset in ("test", "forget"):
            assert len({cells[(m, subset, "TRM")] for m in SMOKE_METHODS}) == 1
        assert cells[("ga", "test", "TRM")] > 0.9
    # Figure 7's diagonals: the five forget classes are the same size, so the mean of a
    # model's diagonal is its forget accuracy, measured apart (Table 4 and the runs).
    ablation, diagonals = r["table4_ablation"], r["fig7_diagonals"]
    assert set(ablation) == {"salun/test", "salun/forget", "unsc/test", "unsc/forget"}
    for method in ("salun", "unsc"):
        for stage in mra.STAGES:
            assert _mean(diagonals[f"{method}/{stage}"].values()) == \
                pytest.approx(ablation[f"{method}/forget"][stage], abs=1e-6)
        ulm = [run["ulm_forget"] for run in runs if (run["attack"], run["method"]) ==
               ("closed", method)]
        assert _mean(diagonals[f"{method}/ULM"].values()) == pytest.approx(ulm[0], abs=1e-6)
        assert ablation[f"{method}/forget"]["ULM"] == pytest.approx(ulm[0])
    claims = {c["id"]: c for c in r["claims"]}
    assert list(claims) == EXPECTED_IDS
    for claim_id, paper_cell in SMOKE_PAPER.items():
        assert claims[claim_id]["paper"] == paper_cell
    # Here, from the per-run records, outside the study's code. A ULM whose forget accuracy
    # is not 0.2 below the trained model's did not forget, whatever its interval.
    (trained_forget,) = {row["mean"] for row in r["table2_closed"]
                         if (row["subset"], row["model"]) == ("forget", "TRM")}
    kept = {run["method"] for run in runs if run["attack"] == "closed"
            and run["ulm_forget"] > trained_forget - mra.FORGOT_MARGIN}
    for claim_id in ("recall_every_method_closed", "recall_every_method_open",
                     "open_beats_closed", "other_student_recalls"):
        for method in kept:
            assert f"{method} not testable ({method} did not forget" in claims[claim_id]["here"]
    # One seed: a statistic across methods (a mean, a median, a spread, a rank, a distance)
    # has no interval, so it is never held or refuted; accuracy differences read the images.
    for claim_id in ("precise_unlearning_easiest", "precise_unlearning_easiest_open_test",
                     "l1_sparse_among_hardest", "salun_recalled_most_per_class",
                     "open_gaps_narrow_per_class", "iu_lowest_closed_top_open",
                     "dst_near_ulm", "dst_near_ulm_test"):
        assert claims[claim_id]["verdict"] in ("inconclusive", "not testable here"), claim_id
    for claim_id in ("recall_every_method_closed", "ablation_order", "other_student_recalls"):
        assert claims[claim_id]["verdict"] == "not testable here" or \
            "images, 1 seed" in claims[claim_id]["here"]
    for subset, suffix in (("forget", ""), ("test", "_test")):
        for attack in ("closed", "open"):
            gains = _smoke_gains(runs, attack, subset)
            tested = [g for m, g in gains.items() if m not in kept]
            verdict = claims[f"recall_every_method_{attack}{suffix}"]["verdict"]
            if verdict == "held":
                assert not kept and all(g > 0 for g in tested)
            if verdict == "did not hold":
                assert any(g < 0 for g in tested)
    assert claims["l1_sparse_among_hardest"]["here"] == "l1_sparse did not run"


# ---------------------------------------------------------------------------------------
# DST (Eqs. 1-4) and the open-source teacher's update (Eqs. 11-12), step by step

class _Recorder(torch.nn.Module):
    """A model that records what it was given and what it returned."""

    def __init__(self, net):
        super().__init__()
        self.net, self.inputs, self.outputs = net, [], []

    def forward(self, x):
        out = self.net(x)
        self.inputs.append(x.detach().clone())
        self.outputs.append(out.detach().clone())
        return out


class _FixedBeta:
    """Beta(alpha, alpha) whose draws are fixed: per image, distinct, known values."""

    def __init__(self, a, b):
        self.alpha = a

    def sample(self, shape):
        n = shape[0]
        low, high = (0.2, 0.8) if self.alpha == 0.2 else (0.3, 0.6)  # beta_x, beta_y
        return torch.linspace(low, high, n).view(shape)


@pytest.mark.parametrize("warmup", [True, False])
def test_distillation_mixes_each_image_and_targets_the_teacher_alone_in_the_warm_up_epoch(
        mnist, monkeypatch, warmup):
    from mu_core.attacks import mra as attack

    monkeypatch.setattr(torch.distributions, "Beta", _FixedBeta)  # known draws, one per image
    losses = []
    monkeypatch.setattr(attack, "_step", lambda optimizer, loss: losses.append(loss))
    teacher = _Recorder(models.create_for("mlp", mnist, seed=0, hidden=[8]))
    student = _Recorder(models.create_for("mlp", mnist, seed=1, hidden=[8]))
    config = MRAConfig(distill_epochs=2, batch_size=8)
    prediction = torch.arange(8)  # one batch an epoch
    attack._distill(teacher, student, None, mnist, prediction, config,
                    torch.Generator().manual_seed(0), warmup=warmup)
    x = mnist.inputs(prediction).flatten(1)
    beta_x = torch.linspace(0.2, 0.8, 8)
    for epoch in range(2):
        mixed = teacher.inputs[epoch].flatten(1)
        assert torch.equal(mixed, student.inputs[epoch].flatten(1))  # both see the same mix
        # Eq. 1 per image: the i-th image of the (shuffled) batch mixed with its own beta_x,
        # the i-th draw, and a partner from the batch
        for i in range(8):
            candidates = beta_x[i] * x[:, None] + (1 - beta_x[i]) * x[None, :]
            assert (candidates - mixed[i]).abs().amax(2).min() < 1e-6
        # Eqs. 3-4: beta_y = 1 (the teacher alone) in the first epoch of a warm-up round
        teacher_probs = teacher.outputs[epoch].softmax(1)
        logits = student.outputs[epoch]
        beta_y = (torch.ones(8, 1) if warmup and epoch == 0
                  else torch.linspace(0.3, 0.6, 8).view(8, 1))  # one per image
        target = beta_y * teacher_probs + (1 - beta_y) * logits.softmax(1)
        expected = -(target * logits.log_softmax(1)).sum(1).mean().item()
        assert losses[epoch].item() == pytest.approx(expected, rel=1e-5)
        # Eq. 4's label is a target: the student's gradient is that of the cross-entropy
        # against it held fixed (no gradient through the student's share of Eq. 3)
        weights = list(student.net.parameters())
        held = student.net(student.inputs[epoch])
        fixed = -(target * held.log_softmax(1)).sum(1).mean()
        for got, want in zip(torch.autograd.grad(losses[epoch], weights),
                             torch.autograd.grad(fixed, weights)):
            assert torch.allclose(got, want, atol=1e-6)


def test_the_open_source_teacher_learns_from_the_agreement_set_rebuilt_with_the_new_student(
        mnist, monkeypatch):
    # The student trains on D_CF (Eqs. 5-10), then the teacher on D_CF rebuilt with the
    # updated student (Eqs. 11-12): other images, since the student's update changes which
    # images each class ranks first. A teacher given the student's images, or images chosen
    # with the student's predictions from before its update, fails here.
    from mu_core.attacks import mra as attack

    class Shifted(torch.nn.Module):  # uniform before its update, image-dependent after
        def __init__(self):
            super().__init__()
            self.shift = 0.0
            self.bias = torch.nn.Parameter(torch.zeros(10))
            pixels = mnist.inputs(torch.arange(1))[0].numel()
            self.register_buffer("weight", torch.randn(
                pixels, 10, generator=torch.Generator().manual_seed(3)))

        def forward(self, x):
            return self.bias + self.shift * (x.flatten(1) @ self.weight)

    student, teacher = Shifted(), models.create_for("mlp", mnist, seed=0, hidden=[8])
    agreements, epochs = [], []
    real_agreement = attack.confident_agreement

    def recording_agreement(teacher_probs, student_probs, *args):
        agreements.append(student_probs.clone())
        return real_agreement(teacher_probs, student_probs, *args)

    def soft_epoch(model, optimizer, data, indices, labels, *args):
        epochs.append((model, indices.clone(), labels.clone()))
        if model is student:
            student.shift = 1.0  # the student's update
        return 0.0

    monkeypatch.setattr(attack, "confident_agreement", recording_agreement)
    monkeypatch.setattr(attack, "_soft_epoch", soft_epoch)
    config = MRAConfig(components="dst+stu+tch", tau=0.5)
    prediction = torch.arange(100, 140)  # positions into X_p are not dataset indices
    attack._recall(teacher, student, None, object(), mnist, prediction, config,
                   torch.Generator().manual_seed(0), None)
    assert [model is student for model, *_ in epochs] == [True, False]  # student, then teacher
    teacher_probs = attack.predict(teacher, mnist, prediction)
    before, after = agreements
    assert torch.allclose(before, torch.full((40, 10), 0.1))  # the student before its update
    assert torch.allclose(after, attack.predict(student, mnist, prediction))  # and after it
    for (_, indices, labels), student_probs in zip(epochs, agreements):
        rows, expected = real_agreement(teacher_probs, student_probs, config.gamma_l,
                                        config.gamma_s, config.tau)
        assert torch.equal(indices, prediction[rows]) and torch.equal(labels, expected)
    assert not torch.equal(epochs[0][1], epochs[1][1])  # the rebuilt set holds other images


def test_the_pieces_side_by_side_give_one_studys_rows_in_its_order(monkeypatch, cache_dir):
    # Two worker processes, each a (seed, method) piece, against one recall_study in this
    # process: the same rows (seed, method, attack) in the same order, the same seeds'
    # trained scores, and numbers equal up to the thread count's rounding.
    params = _chapter_params(seeds=[0, 1], methods=["ga", "rl"], epochs=1, rounds=1)
    attacks = {"closed": mra.attack_settings(params)["closed"]}
    options = dict(architecture="cnn", recipe=Recipe(epochs=1, lr=0.05, batch_size=128),
                   hyperparameters={}, restrict={}, architecture_options={})
    data = mra.datasets.load("mnist5k")
    spec = {"forget_classes": [1, 3], "forget_fraction": 0.5}
    monkeypatch.setenv("MU_WORKERS", "2")
    since = len(mra.cache.used())
    rows, trained = mra.recall_studies(data, "mnist5k", spec, ["ga", "rl"], [0, 1], attacks,
                                       device="cpu", **options)
    assert {e["made_by"]["process"] for e in mra.cache.used(since)} == {"worker"}
    monkeypatch.setenv("MU_WORKERS", "1")
    one_rows, one_trained = mra.recall_study(data, spec, ["ga", "rl"], [0, 1], attacks,
                                             **options)
    key = ["seed", "method", "attack"]
    assert rows[key].values.tolist() == one_rows[key].values.tolist() == [
        [0, "ga", "closed"], [0, "rl", "closed"], [1, "ga", "closed"], [1, "rl", "closed"]]
    assert list(trained) == list(one_trained) == [0, 1]
    assert trained[0]["forget"] == pytest.approx(one_trained[0]["forget"], abs=0.02)


def test_the_published_ablation_runs_on_every_seed():
    # A one-seed step's Newcombe interval covers the images, not the attack's training: in
    # the published run of 84f70e1 (ablation on seed 0) FF's DST+STU -> DST+STU+TCH step was
    # -0.083 [-0.124, -0.042] on seed 0 and +0.047, +0.200 on seeds 1 and 2, and
    # `ablation_order` "did not hold" on that seed alone. The cpu preset's ablation reads
    # every seed the closed- and open-source attacks ran on.
    from mu_core import presets

    cpu = presets.values("02_mra", "cpu")
    assert cpu["ablation_seeds"] == cpu["seeds"]


def test_the_published_ga_forgets_without_collapsing(mnist):
    # The paper's GA forgot (CIFAR-10: forget 0.267, test 0.505). At a fixed rate plain
    # ascent on this forget set kept 0.59-0.94 of it on some seeds (lr 0.004) or collapsed to
    # one class (a larger rate); the cpu preset's stopping rule ends it once forgotten. On
    # this trained model the former lr 0.004 kept most of the forget set.
    from mu_core import presets

    ga = presets.values("02_mra", "cpu")["hyperparameters"]["ga"]
    split = make_split(mnist, forget_classes=[1, 3, 5, 7, 9], forget_fraction=0.5)
    trained, _ = trained_model(mnist, split, "cnn", Recipe(epochs=8, lr=0.05, batch_size=128))
    scores = evaluate(unlearn("ga", trained, mnist, split, **ga), mnist, split,
                      ("forget", "test"))
    assert scores["forget"] <= ga["stop_at"]
    assert scores["test"] > 0.3  # not a predictor of one class (chance: about 0.1)


def test_the_ablation_and_the_other_student_count_once_per_seed_of_their_lists(monkeypatch,
                                                                               cache_dir):
    # a dry run prices every loop once per seed of `seeds`; the attacks restricted to
    # `ablation_seeds` or `heterogeneous_seeds` run inside `loops.per_seed_of` that list
    # (the cpu preset's 02 was priced at 1.5x its run: 5 attacks a method times 3 seeds)
    from types import SimpleNamespace

    from mu_core import dryrun

    seen = {}

    def attack(registered, unlearned, data, split, **settings):
        seen[len(seen)] = (list(dryrun._REPEATED), bool(dryrun._ONCE))
        return SimpleNamespace(model=unlearned)
    monkeypatch.setattr(mra.registry, "run", attack)
    params = _chapter_params(seeds=[0], methods=["ga"], epochs=1, heterogeneous_seeds=[0],
                             ablation_methods=["ga"], ablation_seeds=[0])
    attacks = mra.attack_settings(params)
    mra.recall_study(mra.datasets.load("mnist5k"), {"forget_classes": [1, 3],
                                                    "forget_fraction": 0.5},
                     ["ga"], [0], attacks, architecture="cnn",
                     recipe=Recipe(epochs=1, lr=0.05, batch_size=128), hyperparameters={},
                     restrict=mra.attack_restrictions(params))
    lists = {"dst": "ablation_seeds", mra.OTHER_STUDENT["closed"]: "heterogeneous_seeds",
             mra.OTHER_STUDENT["open"]: "heterogeneous_seeds"}
    assert dict(zip(attacks, seen.values())) == {
        name: ([lists[name]], True) if name in lists else ([], False) for name in attacks}
