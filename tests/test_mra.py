import dataclasses
import math

import pandas as pd
import pytest
import torch

from mu_core import models
from mu_core.attacks.mra import (MRAConfig, balanced_top_k, confident_agreement,
                                 laplace_smooth, membership_recall, smoothed_one_hot)
from mu_core.errors import ConfigError
from mu_core.splits import make_split
from mu_core.studies import mra
from mu_core.train import Recipe, evaluate
from mu_core.unlearn import unlearn
from mu_core.zoo import trained_model


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


# The study's tables, figures and claim rules, on hand-made attack rows.

COMPONENTS = {"closed": "dst+stu", "open": "dst+stu+tch", "dst": "dst",
              "closed, other student": "dst+stu", "open, other student": "dst+stu+tch"}
TRAINED = {0: {"test": 0.9, "forget": 1.0}, 1: {"test": 0.8, "forget": 0.98}}


def _scores(test, forget, confusion=None):
    return {"test": test, "forget": forget, "forget_per_class": {1: forget, 3: forget / 2},
            "forget_confusion": torch.zeros(2, 4) if confusion is None else confusion}


def _row(attack, method, ulm, rcm, seed=0, test=(0.5, 0.6)):
    """One attack run: ULM and RCM forget accuracies `ulm` and `rcm` (test: `test`)."""
    return {"seed": seed, "method": method, "attack": attack, "components": COMPONENTS[attack],
            "student": "mlp" if "other" in attack else "cnn", "seconds": 2.0,
            "ulm": _scores(test[0], ulm), "rcm": _scores(test[1], rcm)}


def _rows(forget: dict) -> pd.DataFrame:
    """Rows of seed 0 from {(attack, method): (ulm_forget, rcm_forget)}."""
    return pd.DataFrame([_row(attack, method, *values)
                         for (attack, method), values in forget.items()])


def _gains(**gains) -> pd.Series:
    return pd.Series(gains, dtype=float)


PARAMS = dict(rounds=2, distill_epochs=1, recall_epochs=3, lr_student=1e-3, lr_unlearned=5e-4,
              attack_batch_size=64, alpha_x=0.2, alpha_y=0.75, gamma_l=0.01, gamma_s=0.05,
              tau_closed=0.6, tau_open=0.3, student="cnn", student_options={},
              heterogeneous_student="mlp", heterogeneous_options={"hidden": [32]},
              ablation_methods=["salun"], ablation_seeds=[0], heterogeneous_seeds=[1],
              dataset="mnist5k", epochs=8)


def test_attack_settings_names_the_five_attacks_from_the_parameters():
    attacks = mra.attack_settings(PARAMS)
    assert list(attacks) == ["closed", "open", "dst", "closed, other student",
                             "open, other student"]
    assert {n: (a["components"], a["tau"], a["student"]) for n, a in attacks.items()} == {
        "closed": ("dst+stu", 0.6, "cnn"), "open": ("dst+stu+tch", 0.3, "cnn"),
        "dst": ("dst", 0.6, "cnn"), "closed, other student": ("dst+stu", 0.6, "mlp"),
        "open, other student": ("dst+stu+tch", 0.3, "mlp")}
    assert attacks["open, other student"]["student_options"] == {"hidden": [32]}
    for spec in attacks.values():
        config = MRAConfig(**{k: v for k, v in spec.items()
                              if k not in ("student", "student_options")})
        assert (config.batch_size, config.recall_epochs, config.lr_unlearned) == (64, 3, 5e-4)


def test_attack_restrictions_limit_the_ablation_and_the_other_student():
    assert mra.attack_restrictions(PARAMS) == {
        "dst": {"methods": ["salun"], "seeds": [0]},
        "closed, other student": {"seeds": [1]}, "open, other student": {"seeds": [1]}}


def test_accuracy_beside_paper_puts_mean_and_std_beside_the_papers_numbers():
    rows = pd.DataFrame([_row("closed", "ga", 0.2, 0.5, seed=0),
                         _row("closed", "ga", 0.4, 0.6, seed=1),
                         _row("closed", "retrain", 0.9, 0.9, seed=0),
                         _row("closed", "retrain", 0.9, 0.9, seed=1),
                         _row("open", "ga", 0.2, 0.9)])
    table = mra.accuracy_beside_paper(rows, "closed", TRAINED)
    here, paper = table["here"], table["paper (CIFAR-10)"]
    assert here.loc[("forget", "ULM"), "ga"] == "0.300 ± 0.100"
    assert here.loc[("forget", "ΔAcc"), "ga"] == "0.250 ± 0.050"
    assert here.loc[("test", "TRM"), "ga"] == "0.850 ± 0.050"
    assert paper.loc[("forget", "ΔAcc"), "ga"] == "0.091"  # Table 2: 0.358 - 0.267
    assert paper.loc[("test", "RCM"), "ga"] == "0.528"
    assert paper.loc[("test", "RCM"), "retrain"] == "nan"  # not in the paper
    open_table = mra.accuracy_beside_paper(rows, "open", TRAINED)["paper (CIFAR-10)"]
    assert open_table.loc[("forget", "RCM"), "ga"] == "0.509"  # Table 3


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
    assert list(table.index) == ["DST", "DST+STU", "DST+STU+TCH"]
    assert list(table.columns) == [("salun", "test"), ("salun", "forget")]
    assert table[("salun", "forget")].tolist() == pytest.approx([0.2, 0.5, 0.9])
    assert table[("salun", "test")].tolist() == pytest.approx([0.6, 0.6, 0.6])


def test_paper_ablation_keeps_the_methods_of_the_papers_table_4():
    paper = mra.paper_ablation_table(["ga", "salun"])
    assert list(paper.columns) == [("salun", "test"), ("salun", "forget")]
    assert paper[("salun", "forget")].tolist() == [0.108, 0.712, 0.948]
    both = mra.ablation_beside_paper(mra.paper_ablation_table(["salun"]), paper)
    assert list(both.index.get_level_values(0).unique()) == ["here", "paper (Pet-37)"]


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


def test_l1_among_hardest_asks_for_the_lower_half_of_the_gains():
    assert mra.l1_among_hardest(_gains(l1_sparse=0.1, ga=0.2, iu=0.3, ff=0.4)) is True
    assert mra.l1_among_hardest(_gains(l1_sparse=0.3, ga=0.2, iu=0.1, ff=0.4)) is False
    assert mra.l1_among_hardest(_gains(l1_sparse=0.2, ga=0.1, iu=0.3)) is False  # the middle
    assert mra.l1_among_hardest(_gains(ga=0.2, iu=0.4)) is None
    assert mra.l1_among_hardest(_gains(l1_sparse=0.2)) is None


def _ablation(forget: dict) -> pd.DataFrame:
    return pd.DataFrame({(m, s): dict(zip(mra.STAGES, values))
                         for m, values in forget.items() for s in ("test", "forget")})


def test_ablation_ordered_needs_a_strict_rise_at_each_stage_for_every_method():
    assert mra.ablation_ordered(_ablation({"ff": (0.1, 0.5, 0.9), "bu": (0.2, 0.3, 0.4)}))
    assert mra.ablation_ordered(_ablation({"ff": (0.1, 0.5, 0.9),
                                           "bu": (0.2, 0.5, 0.4)})) is False
    assert mra.ablation_ordered(_ablation({"ff": (0.1, 0.1, 0.9)})) is False
    assert mra.ablation_ordered(pd.DataFrame()) is None
    assert mra.ablation_ordered(mra.paper_ablation_table(["ff", "bu", "salun", "unsc"]))


EXPECTED_IDS = ["recall_every_method_closed", "recall_every_method_open", "open_beats_closed",
                "precise_unlearning_easiest", "l1_sparse_among_hardest", "ablation_order",
                "other_student_recalls"]


def test_claims_have_stable_ids_and_verdicts_computed_from_the_rows():
    rows = _rows({("closed", "ga"): (0.2, 0.4), ("closed", "salun"): (0.9, 0.8),
                  ("open", "ga"): (0.2, 0.7), ("open", "salun"): (0.9, 0.95),
                  ("closed, other student", "ga"): (0.2, 0.3),
                  ("closed, other student", "salun"): (0.9, 0.91)})
    ablation = _ablation({"salun": (0.1, 0.8, 0.95)})
    found = mra.claims(rows, ablation, mra.paper_ablation_table(["salun"]),
                       other_student="mlp")
    assert [c.id for c in found] == EXPECTED_IDS
    by_id = {c.id: c for c in found}
    assert by_id["recall_every_method_closed"].verdict == "did not hold"  # salun -0.1
    assert by_id["recall_every_method_closed"].here == "ga +0.200, salun -0.100"
    assert by_id["recall_every_method_open"].verdict == "held"
    assert by_id["open_beats_closed"].verdict == "held"
    assert by_id["open_beats_closed"].here == "ga +0.300, salun +0.150"
    # Paper: salun +0.498 against ga +0.091; here salun -0.1 against ga +0.2.
    assert (by_id["precise_unlearning_easiest"].paper,
            by_id["precise_unlearning_easiest"].verdict) == ("held", "did not hold")
    assert (by_id["l1_sparse_among_hardest"].paper,
            by_id["l1_sparse_among_hardest"].verdict) == ("not testable here",) * 2
    assert by_id["ablation_order"].verdict == "held"
    assert by_id["ablation_order"].here == "salun: 0.100 < 0.800 < 0.950"
    assert by_id["other_student_recalls"].verdict == "held"
    assert "(mlp)" in by_id["other_student_recalls"].claim


def test_the_reading_names_the_methods_that_forgot_little_and_compares_the_cases():
    # The trained model's forget accuracy is 1.0: rl keeps 0.95 of it, salun 0.6, ga 0.2.
    rows = _rows({("closed", "ga"): (0.2, 0.4), ("closed", "rl"): (0.95, 0.9),
                  ("closed", "salun"): (0.6, 0.61), ("open", "ga"): (0.2, 0.8),
                  ("open", "rl"): (0.95, 0.97), ("open", "salun"): (0.6, 0.99)})
    text = mra.reading_the_verdicts(rows, TRAINED)
    assert "rl and salun forgot little here (ULM forget accuracy 0.60-0.95 against the " \
           "trained model's 1.00)" in text
    assert "rl -0.050, salun +0.010" in text
    assert "forget accuracy 0.12-0.15 against 1.00" in text  # the paper's RL and SalUn ULMs
    assert "Where the ULM forgot (ga)" in text
    assert "recalls more than the closed-source one (mean ΔAcc on forget +0.600 against " \
           "+0.200), as in the paper." in text


def test_the_reading_says_when_every_ulm_forgot_and_open_source_did_not_help():
    rows = _rows({("closed", "ga"): (0.2, 0.5), ("closed", "iu"): (0.5, 0.6),
                  ("open", "ga"): (0.2, 0.3), ("open", "iu"): (0.5, 0.55)})
    text = mra.reading_the_verdicts(rows, TRAINED)
    assert "forgot little" not in text
    assert "Every ULM here keeps at most half of the trained model's forget accuracy " \
           "(0.20-0.50 against 1.00)" in text
    assert "recalls no more than the closed-source one" in text
    assert text.endswith("unlike the paper.")


def test_results_keep_the_tables_and_one_record_per_run():
    rows = _rows({(attack, "ga"): (0.2, 0.4) for attack in COMPONENTS})
    ablation = _ablation({"ga": (0.1, 0.4, 0.8)})
    found = mra.results(rows, TRAINED, ablation)
    assert list(found) == ["table2_closed", "table3_open", "table4_ablation", "heterogeneous",
                           "runs"]
    assert {"method": "ga", "subset": "forget", "model": "TRM", "mean": 1.0, "std": 0.0} in \
        found["table2_closed"]
    assert len(found["table3_open"]) == 8  # 2 subsets x TRM, ULM, RCM, ΔAcc
    assert found["table4_ablation"]["ga/forget"] == {"DST": 0.1, "DST+STU": 0.4,
                                                     "DST+STU+TCH": 0.8}
    assert list(found["heterogeneous"]) == ["closed", "open"]
    assert found["runs"][3] == {"seed": 0, "method": "ga", "attack": "closed, other student",
                                "components": "dst+stu", "student": "mlp", "seconds": 2.0,
                                "ulm_test": 0.5, "ulm_forget": 0.2, "rcm_test": 0.6,
                                "rcm_forget": 0.4}


def check_smoke_results(results, out):
    """The chapter's smoke-run results (tests/test_chapters.py runs it)."""
    r = results["results"]
    closed = {(row["method"], row["subset"], row["model"]): row["mean"]
              for row in r["table2_closed"]}
    assert {m for m, _, _ in closed} == {"ga", "iu", "salun", "unsc"}
    for method in ("ga", "iu", "salun", "unsc"):
        gain = closed[(method, "forget", "RCM")] - closed[(method, "forget", "ULM")]
        assert gain == pytest.approx(closed[(method, "forget", "ΔAcc")])
        assert 0 <= closed[(method, "forget", "ULM")] <= 1
    assert set(r["table4_ablation"]) == {"salun/test", "salun/forget", "unsc/test", "unsc/forget"}
    attacks = {run["attack"] for run in r["runs"]}
    assert attacks == {"closed", "open", "dst", "closed, other student", "open, other student"}
    claims = {c["id"]: c for c in r["claims"]}
    assert list(claims) == EXPECTED_IDS
    # L1-SP is not among the smoke preset's methods; every other claim is testable.
    assert (claims["l1_sparse_among_hardest"]["paper"],
            claims["l1_sparse_among_hardest"]["verdict"]) == ("not testable here",) * 2
    assert all(c["verdict"] in ("held", "did not hold") for i, c in claims.items()
               if i != "l1_sparse_among_hardest")
    # The paper's own numbers for the smoke preset's methods.
    assert claims["precise_unlearning_easiest"]["paper"] == "held"
    assert claims["ablation_order"]["paper"] == "held"
