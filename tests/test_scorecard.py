"""The privacy scorecard (chapter 07): its study end to end at the smoke preset (with the
README's external method as a row), the forgetting-quality rows on cases with a known
answer, each cell's verdict, each cross-paper claim rule on hand-made results for every
verdict it gives, and the refusals before any training."""

import dataclasses
import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from mu_core import book, dryrun, explorer
from mu_core.chapter import jsonable
from mu_core.claims import HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE
from mu_core.errors import ConfigError
from mu_core.forgetting_quality import forgetting_quality
from mu_core.studies import scorecard
from mu_core.studies.scorecard import (DISTINGUISHABLE, NOT_APPLICABLE, NOT_DISTINGUISHED,
                                       QUALITY, REFERENCE, REFERENCE_CELL, RETRAIN, Results)
from mu_core.unlearn.registry import METHODS

from conftest import ROOT

CHAPTER = next(c for c in book.chapters(ROOT) if c.slug == "07_scorecard")
CLAIM_IDS = ["adversarial_resists_mra_recall", "unlearnguard_agrees_with_lira"]
README_METHOD = "my_unlearning:unlearning"


def smoke_params(**changes) -> dict:
    """The chapter's parameters at the smoke preset, with `changes`."""
    defaults = book.notebook_parameters(book.read_notebook(CHAPTER.source))
    return {**defaults, **book.chapter_parameters(ROOT, CHAPTER, "smoke"), **changes}


def readme_example() -> str:
    """The README's example method: the first Python block of its scorecard section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Your own method on the scorecard", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The study at the smoke preset with the README's example as an extra method."""
    folder = tmp_path_factory.mktemp("external")
    (folder / "my_unlearning.py").write_text(readme_example())
    before = set(METHODS)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        yield scorecard.run(smoke_params(extra_methods=[README_METHOD]))
    for name in set(METHODS) - before:  # the run registered the example: leave the
        del METHODS[name]  # registry as other test modules expect it


def check_smoke_results(results, out):
    """The chapter's smoke-run results (tests/test_chapters.py runs it)."""
    r = results["results"]
    read = Results.from_json(r)
    assert [dataclasses.asdict(c) for c in scorecard.claims(read)] == r["claims"]
    assert [c["id"] for c in r["claims"]] == CLAIM_IDS
    check_every_cell(read, r["cells"])


def check_every_cell(read: Results, cells: list[dict]):
    """Every attack and every row appears in every setting with a verdict or a reason."""
    frame = pd.DataFrame(cells)
    for setting, rows in read.rows.items():
        assert rows[0] == RETRAIN and rows[-1] == REFERENCE
        for attack in read.attacks:
            chosen = frame[(frame.setting == setting)
                           & frame.column.str.startswith(f"{attack}/")]
            assert set(chosen.row) == set(rows), (setting, attack)
            assert all(v in (DISTINGUISHABLE, NOT_DISTINGUISHED, REFERENCE_CELL) or
                       (v in (NOT_APPLICABLE, scorecard.NOT_MEASURED) and reason) for v, reason in
                       zip(chosen.verdict, chosen.reason)), (setting, attack)
    assert set(frame[frame.row == RETRAIN].verdict) <= {REFERENCE_CELL, NOT_APPLICABLE}


# ------------------------------------------------------------------------- end to end

def test_smoke_run_scores_every_row_with_every_attack(smoke):
    check_every_cell(smoke, smoke.to_json()["cells"])
    assert set(smoke.rows) == {"random", "classwise", "class"}
    for rows in smoke.rows.values():
        assert rows == [RETRAIN, "ga", "adversarial", README_METHOD, REFERENCE]
    runs = smoke.runs
    assert len(runs) == 3 * 5 * len(smoke.seeds)  # every setting, row and seed
    reference = runs[runs.row == REFERENCE]
    assert (reference.seed >= scorecard.REFERENCE_OFFSET).all()
    assert (reference.method == RETRAIN).all()
    # CMIRA needs partial class-wise forgetting, UnlearnGuard a bias-free MLP: said why
    assert set(smoke.not_applicable["random"]) == {"cmira", "unlearnguard"}
    assert "partial class-wise" in smoke.not_applicable["class"]["cmira"]
    assert "bias-free MLP" in smoke.not_applicable["classwise"]["unlearnguard"]
    assert "cmira/r_i" in runs and runs[runs.setting == "classwise"]["cmira/r_i"].notna().any()


def test_the_forgetting_quality_of_every_row_but_retraining(smoke):
    table = smoke.quality()
    for setting, rows in smoke.rows.items():
        assert set(table.loc[setting].index) == set(rows) - {RETRAIN}
        assert ((table[QUALITY] >= 0) & (table[QUALITY] <= 1)).all()
        forget = len(smoke.example_scores[setting][REFERENCE])
        assert (table.loc[setting, "examples"] == forget).all()


def test_the_results_file_round_trip_keeps_the_cells_and_claims(smoke):
    document = json.loads(json.dumps(jsonable(smoke.to_json()), allow_nan=False))
    read = Results.from_json(document)
    pd.testing.assert_frame_equal(read.cells(), smoke.cells())
    assert scorecard.claims(read) == scorecard.claims(smoke)


def test_tables_figures_and_the_explorer_view(smoke):
    table = scorecard.scorecard_table(smoke, "classwise")
    assert list(table.index) == smoke.rows["classwise"]
    assert list(table.columns) == scorecard.columns(smoke)
    assert (table.loc[RETRAIN, "UA"][-1]).isdigit()  # retraining's cells carry no mark
    assert table.loc["ga", "cmira/r_i"].endswith(("≠", "~"))
    assert table.loc["ga", "unlearnguard/unlearning_executed"] == NOT_APPLICABLE
    for setting in smoke.rows:
        assert scorecard.distance_figure(smoke, setting).axes
    assert scorecard.ranking_figure(smoke).axes
    assert explorer.view(smoke.summary(), "random", QUALITY, smoke.rows["random"]).axes
    counts = scorecard.verdict_counts(smoke)
    assert (counts["distinguishable"] <= counts["judged cells"]).all()
    assert set(scorecard.interval_table(smoke, "classwise").verdict) <= {
        DISTINGUISHABLE, NOT_DISTINGUISHED}
    headline = scorecard.headline(smoke)
    assert headline[f"random/{REFERENCE}/{QUALITY}"] == \
        smoke.quality().loc[("random", REFERENCE), QUALITY]


# ------------------------------------------------------------- refusals before training

@pytest.fixture
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("trained before every request was checked")
    monkeypatch.setattr(scorecard, "trained_model", refuse)
    monkeypatch.setattr(scorecard, "unlearned_model", refuse)


@pytest.mark.parametrize("path, message", [
    ("no_such_package_for_the_scorecard:unlearning", "cannot be imported"),
    ("external_example:not_a_function", "not callable"),
    ("external_example:two_arguments", "cannot take"),
    ("external_example:returns_another_architecture", "another architecture"),
    ("external_example:returns_nothing", "not an nn.Module"),
    ("no colon here", "one colon"),
])
def test_a_bad_extra_method_is_refused_before_any_training(no_training, path, message):
    with pytest.raises(ConfigError, match=message):
        scorecard.run(smoke_params(extra_methods=[path]))


@pytest.mark.parametrize("changes, message", [
    ({"settings": ["random", "sideways"]}, "settings must be"),
    ({"settings": []}, "settings must be"),
    ({"seeds": [0, 0]}, "distinct"),
    ({"seeds": [10_000]}, "below 10000"),
    ({"attack_runs": -1}, "attack_runs"),
    ({"claim_runs": 1.5}, "claim_runs must be a whole number"),
    ({"delta": 1.5}, "delta must be"),
    ({"attacks": ["lira", "telepathy"]}, "unknown attack 'telepathy'"),
    ({"attack_settings": {"telepathy": {}}}, "attack_settings must map"),
    ({"attack_settings": {"lira": {"shadow_count": 2}}}, "shadow_count"),
    ({"methods": ["ga", "fft"]}, "unknown unlearning method 'fft'"),
    ({"setting_hyperparameters": {"sideways": {}}}, "setting_hyperparameters"),
    ({"extra_methods": "external_example:unlearning"}, "extra_methods must be a list"),
])
def test_bad_requests_are_refused_before_any_training(no_training, changes, message):
    with pytest.raises(ConfigError, match=message):
        scorecard.run(smoke_params(**changes))


# ------------------------------------------------- forgetting quality with a known answer

def test_retrain_against_identical_retraining_scores_one_and_separation_zero():
    retrained = np.random.default_rng(0).normal(size=(6, 40))
    outputs = {RETRAIN: retrained, REFERENCE: retrained.copy(), "apart": retrained + 100.0,
               "one model": retrained[:1]}
    scores = scorecard.example_scores(outputs, 1e-5)
    assert scores[RETRAIN] is None and scores["one model"] is None
    # identical samples: every rule's epsilon is below 0, clipped to 0: the top score
    assert scores[REFERENCE] == [1.0] * 40
    assert forgetting_quality(retrained, retrained) == 1.0
    assert scores["apart"] == [0.0] * 40  # perfect separation: infinite epsilon


def hand_results(values: dict, *, trained: dict | None = None, attacks=(),
                 not_applicable: dict | None = None, example_scores: dict | None = None,
                 attack_runs: int = 3) -> Results:
    """Results of hand-made runs: `values[(setting, row)]` maps a column to its per-run
    values."""
    records = []
    for (setting, row), columns in values.items():
        count = max(len(v) for v in columns.values())
        for run in range(count):
            records.append({"setting": setting, "row": row, "method": row, "run": run,
                            "seed": run, **{c: v[run] if run < len(v) else math.nan
                                            for c, v in columns.items()}})
    settings = list(dict.fromkeys(s for s, _ in values))
    rows = {s: list(dict.fromkeys(r for t, r in values if t == s)) for s in settings}
    return Results({s: {} for s in settings}, rows, {s: {} for s in settings},
                   [0, 1, 2], attack_runs, list(attacks), 1e-5, pd.DataFrame(records),
                   trained or {s: {"UA": 0.0} for s in settings},
                   example_scores or {s: {} for s in settings},
                   not_applicable or {s: {} for s in settings}, {s: {} for s in settings})


def test_a_methods_quality_cell_is_judged_against_the_floor():
    base = {"UA": [0.1, 0.1], "RA": [1.0, 1.0], "TA": [0.9, 0.9]}
    results = hand_results(
        {("random", RETRAIN): base, ("random", "apart"): {**base, "RA": [0.5, 0.5]},
         ("random", "alike"): base, ("random", REFERENCE): base},
        example_scores={"random": {RETRAIN: None, "apart": [0.0, 0.0, 0.0],
                                   "alike": [1.0, 1.0, 1.0], REFERENCE: [1.0, 1.0, 1.0]}})
    assert scorecard.cell(results, "random", "apart", QUALITY)["verdict"] == DISTINGUISHABLE
    assert scorecard.cell(results, "random", "alike", QUALITY)["verdict"] == NOT_DISTINGUISHED
    assert scorecard.cell(results, "random", REFERENCE, QUALITY)["verdict"] == REFERENCE_CELL
    assert scorecard.cell(results, "random", RETRAIN, QUALITY)["verdict"] == REFERENCE_CELL
    table = results.quality()
    assert table.loc[("random", "apart"), "RA_ratio"] == 0.5
    assert table.loc[("random", "alike"), scorecard.FINAL] == 1.0


def test_a_cell_is_distinguishable_only_when_its_interval_excludes_zero():
    results = hand_results({
        ("random", RETRAIN): {"UA": [0.10, 0.11, 0.12, 0.10]},
        ("random", "above"): {"UA": [0.30, 0.31, 0.32, 0.30]},
        ("random", "below"): {"UA": [0.00, 0.01, 0.00, 0.01]},
        ("random", "noisy"): {"UA": [0.00, 0.30, 0.05, 0.20]}},
        attacks=["cmira"], not_applicable={"random": {"cmira": "cmira needs partial"}})
    verdicts = {row: scorecard.cell(results, "random", row, "UA")["verdict"]
                for row in ("above", "below", "noisy")}
    assert verdicts == {"above": DISTINGUISHABLE, "below": DISTINGUISHABLE,
                        "noisy": NOT_DISTINGUISHED}
    found = scorecard.cell(results, "random", "above", "cmira/r_i")
    assert found["verdict"] == NOT_APPLICABLE and found["reason"] == "cmira needs partial"


def test_distance_is_the_difference_in_half_widths_capped():
    frame = pd.DataFrame({"estimate": [1.0, 1.0, 0.0, 2.0, 1.0, 1.0],
                          "low": [0.0, -1.0, 0.0, 2.0, math.nan, 1.0],
                          "high": [2.0, 3.0, 0.0, 2.0, math.nan, 1.0],
                          "verdict": [DISTINGUISHABLE, NOT_DISTINGUISHED, NOT_DISTINGUISHED,
                                      DISTINGUISHABLE, NOT_APPLICABLE, NOT_DISTINGUISHED]})
    found = scorecard.distance(frame).tolist()
    assert found[:4] == [1.0, 0.5, 0.0, scorecard.DISTANCE_CAP]
    assert math.isnan(found[4]) and math.isnan(found[5])


# ------------------------------------------------------------------- cross-paper claims

def mra_results(adversarial_gain, *, adversarial_ua=(0.3, 0.3, 0.3), ga_gain=(0.3, 0.31, 0.29),
                retrain_gain=(0.05, 0.06, 0.055)) -> Results:
    def row(ua, gain):
        return {"UA": list(ua), "mra_closed/recall_gain_forget": list(gain),
                "mra_open/recall_gain_forget": list(gain)}
    return hand_results({("classwise", RETRAIN): row((0.1, 0.1, 0.1), retrain_gain),
                         ("classwise", "ga"): row((0.2, 0.2, 0.2), ga_gain),
                         ("classwise", "adversarial"): row(adversarial_ua, adversarial_gain),
                         ("classwise", REFERENCE): row((0.1, 0.1, 0.1), retrain_gain)},
                        attacks=["mra_closed", "mra_open"])


@pytest.mark.parametrize("gain, expected", [
    ((-0.01, -0.02, -0.015), HELD),
    ((0.30, 0.31, 0.32), NOT_HELD),
    ((0.0, 0.10, 0.05), INCONCLUSIVE),
])
def test_adversarial_resists_mra_on_hand_made_gains(gain, expected):
    claim = scorecard.adversarial_resists_mra(mra_results(gain))
    assert claim.verdict == expected, claim.here


def test_adversarial_resists_mra_is_not_testable_without_forgetting_or_signal():
    unforgetting = scorecard.adversarial_resists_mra(
        mra_results((0.0, 0.0, 0.0), adversarial_ua=(0.0, 0.0, 0.0)))
    assert unforgetting.verdict == NOT_TESTABLE and "did not forget" in unforgetting.here
    silent = scorecard.adversarial_resists_mra(
        mra_results((-0.01, -0.02, -0.015), ga_gain=(0.05, 0.06, 0.055)))
    assert silent.verdict == NOT_TESTABLE and "recalls no more" in silent.here
    missing = scorecard.adversarial_resists_mra(hand_results(
        {("classwise", RETRAIN): {"UA": [0.1, 0.1]}}, attacks=["mra_closed"]))
    assert missing.verdict == NOT_TESTABLE and "adversarial did not run" in missing.here
    few = mra_results((-0.01, -0.02, -0.015))
    few.attack_runs = 1
    assert "an interval needs 2" in scorecard.adversarial_resists_mra(few).here
    few.claim_runs = 3  # MRA's models in class-wise forgetting, not attack_runs, count
    assert scorecard.adversarial_resists_mra(few).verdict == HELD
    few.attack_runs, few.claim_runs = 3, 1
    assert "ran on 1 model(s)" in scorecard.adversarial_resists_mra(few).here


def test_the_attack_plan_gives_the_claims_attacks_more_models(monkeypatch):
    request = SimpleNamespace(attack_runs=2, claim_runs=6)
    rows = [RETRAIN, "ga", "adversarial", REFERENCE]
    plan = scorecard.attack_plan(rows, ["mra_closed", "lira"], "classwise", request)
    assert plan["ga"] == plan[RETRAIN] == {"mra_closed": 6, "lira": 2}
    assert plan[REFERENCE] == {"mra_closed": 2, "lira": 2}  # the floor is no claim's
    assert scorecard.attack_plan(rows, ["mra_closed"], "random", request)["ga"] == \
        {"mra_closed": 2}
    # a dry run attacks the first model of the first method's row only, in place of the
    # real run's attacked models of every row: 6 + 6 + 6 + 2 for MRA, 4 x 2 for LiRA
    monkeypatch.setenv(dryrun.ENV, "1")
    dry = scorecard.attack_plan(rows, ["mra_closed", "lira"], "classwise", request)
    assert dry == {RETRAIN: {"mra_closed": 0, "lira": 0}, "ga": {"mra_closed": 20, "lira": 8},
                   "adversarial": {"mra_closed": 0, "lira": 0},
                   REFERENCE: {"mra_closed": 0, "lira": 0}}
    alone = scorecard.attack_plan([RETRAIN, REFERENCE], ["lira"], "class", request)
    assert alone == {RETRAIN: {"lira": 4}, REFERENCE: {"lira": 0}}


def test_a_dry_run_keeps_the_presets_attacked_models_although_it_has_one_seed(mnist,
                                                                               monkeypatch):
    # a real run attacks at most one model per seed; the dry run's one seed must not cut
    # the count its one attacked model stands for (07 was priced at half its attacks)
    params = smoke_params(seeds=[0], attack_runs=2, claim_runs=3)
    assert scorecard.check(params, mnist).attack_runs == 1
    monkeypatch.setenv(dryrun.ENV, "1")
    dry = scorecard.check(params, mnist)
    assert (dry.attack_runs, dry.claim_runs) == (2, 3)


def test_a_dry_runs_one_attack_is_priced_as_the_real_runs_attacked_models(monkeypatch,
                                                                          tmp_path):
    # the scorecard's dry run attacks one model; its loops count for every attacked model
    # of the real run, once (not once per seed as the unlearning runs count)
    from mu_core import loops

    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(dryrun.ENV, "1")
    monkeypatch.setenv(dryrun.LEDGER_ENV, str(ledger))
    dryrun.record("ga", 100, 0.01, torch.device("cpu"))
    with loops.stands_for(20):
        dryrun.record("MRA DST", 100, 0.01, torch.device("cpu"))
    found = dryrun.estimate(ledger, seeds=12)
    assert found["hours_by_loop"] == {"ga": pytest.approx(12 / 3600),
                                      "MRA DST": pytest.approx(20 / 3600)}


def guard_results(executed, member_share, *, auc=0.8, reason=None) -> Results:
    columns = {"unlearnguard/unlearning_executed": list(executed),
               "lira/member_share": list(member_share)}
    return hand_results({("random", RETRAIN): columns, ("random", "ga"): columns},
                        attacks=["unlearnguard", "lira"],
                        trained={"random": {"UA": 0.0, "lira/auc": auc, "lira_members": 50,
                                            "lira_non_members": 500}},
                        not_applicable={"random": {"unlearnguard": reason} if reason else {}})


@pytest.mark.parametrize("executed, member_share, expected", [
    ((0.50, 0.52, 0.49), (0.50, 0.49, 0.50), HELD),
    ((0.90, 0.92, 0.91), (0.50, 0.49, 0.50), NOT_HELD),
    ((0.50, 0.70, 0.40), (0.50, 0.50, 0.50), INCONCLUSIVE),
])
def test_unlearnguard_agrees_with_lira_on_hand_made_shares(executed, member_share, expected):
    claim = scorecard.unlearnguard_agrees_with_lira(guard_results(executed, member_share))
    assert claim.verdict == expected, claim.here


def test_unlearnguard_agrees_with_lira_is_not_testable_without_either():
    absent = scorecard.unlearnguard_agrees_with_lira(guard_results(
        (0.5,) * 3, (0.5,) * 3, reason="unlearnguard needs a bias-free MLP"))
    assert absent.verdict == NOT_TESTABLE and "bias-free MLP" in absent.here
    silent = scorecard.unlearnguard_agrees_with_lira(guard_results((0.5,) * 3, (0.5,) * 3,
                                                                   auc=0.5))
    assert silent.verdict == NOT_TESTABLE and "no signal" in silent.here


def test_hanley_mcneil_matches_its_closed_form_at_one_point():
    found = scorecard.hanley_mcneil(0.5, 50, 50)
    # at AUC 0.5: Q1 = 1/3, Q2 = 1/3, variance = (0.25 + 49/12 + 49/12) / 2500
    variance = (0.25 + 2 * 49 * (1 / 3 - 0.25)) / 2500
    assert found.high - 0.5 == pytest.approx(1.959964 * math.sqrt(variance), rel=1e-5)


def test_the_prepared_cmira_prior_gives_the_adapters_own_outcome(mnist):
    from mu_core.attacks import registry
    from mu_core.splits import make_split
    from mu_core.zoo import trained_model
    params = smoke_params()
    data = mnist.to("cpu")
    request = scorecard.check(params, data)
    split = make_split(data, seed=request.trained_seed, **request.specs["classwise"])
    model, _ = trained_model(data, split, request.architecture, request.recipe, seed=0)
    prepared = scorecard.prepared_attacks(data, split, request, ["cmira"])["cmira"]
    assert prepared["prior"] is not None and "prior" not in request.attacks["cmira"]
    own = registry.run("cmira", model, data, split, trained=model, seed=0,
                       **request.attacks["cmira"])
    shared = registry.run("cmira", model, data, split, trained=model, seed=0, **prepared)
    assert dict(own) == dict(shared)


def test_prepared_lira_statistics_give_the_adapters_own_outcome(mnist):
    # computed once per setting and passed to every attacked model (and to the worker
    # processes): the same numbers as the adapter computing them itself
    from mu_core.attacks import registry
    from mu_core.splits import make_split
    from mu_core.zoo import trained_model
    data = mnist.to("cpu")
    request = scorecard.check(smoke_params(), data)
    split = make_split(data, seed=request.trained_seed, **request.specs["random"])
    model, _ = trained_model(data, split, request.architecture, request.recipe, seed=0)
    prepared = scorecard.prepared_attacks(data, split, request, ["lira"])["lira"]
    assert prepared["shadow_statistics"].shape[0] == request.attacks["lira"]["shadow_count"]
    own = registry.run("lira", model, data, split, trained=model, seed=0,
                       **request.attacks["lira"])
    shared = registry.run("lira", model, data, split, trained=model, seed=0, **prepared)
    assert dict(own) == dict(shared)
    state = scorecard.prepared_state({"lira": prepared})
    again = scorecard.prepared_attacks(data, split, request, ["lira"], state)["lira"]
    assert again["shadow_statistics"] is prepared["shadow_statistics"]
    with pytest.raises(ConfigError, match="shadow_statistics must be"):
        registry.run("lira", model, data, split, trained=model, seed=0,
                     **{**prepared, "shadow_statistics": prepared["shadow_statistics"][:2]})


def test_the_floor_by_n_reads_the_first_n_models_of_each_side():
    retrained = np.random.default_rng(1).normal(size=(12, 30))
    results = hand_results({("random", RETRAIN): {"UA": [0.1]}})
    results.floor_outputs = {"random": {RETRAIN: retrained.tolist(),
                                        REFERENCE: retrained.tolist()}}
    same = scorecard.floor_by_n(results)
    assert list(same.index) == [2, 4, 8, 12] and (same["random"] == 1.0).all()
    results.floor_outputs["random"][REFERENCE] = retrained[:8].tolist()
    assert list(scorecard.floor_by_n(results).index) == [2, 4, 8]
    results.floor_outputs["random"][REFERENCE] = (retrained + 100).tolist()
    assert (scorecard.floor_by_n(results)["random"] == 0.0).all()


def test_rows_in_worker_processes_match_rows_in_this_one(monkeypatch):
    # CMIRA's prior reaches a worker as its state dict (a parametrized module does not pickle)
    params = smoke_params(settings=["classwise"], methods=["ga"],
                          attacks=["svc_confidence", "cmira"])
    alone = scorecard.run(params)
    monkeypatch.setenv("MU_WORKERS", "2")
    side_by_side = scorecard.run(params)
    # the models come from the cache both times: the same numbers; CMIRA trains again, in a
    # worker's thread count (float rounding), so only that it ran on every attacked model
    columns = ["row", "seed", "UA", "RA", "TA", "svc_confidence/mia_efficacy"]
    pd.testing.assert_frame_equal(side_by_side.runs[columns], alone.runs[columns])
    assert side_by_side.runs["cmira/r_i"].notna().sum() == alone.runs["cmira/r_i"].notna().sum()
    assert side_by_side.rows == alone.rows


def test_samples_that_do_not_vary_are_judged_by_their_separation():
    def verdict(count):
        results = hand_results({("class", RETRAIN): {"UA": [1.0] * count},
                                ("class", "ga"): {"UA": [0.2] * count}})
        return scorecard.cell(results, "class", "ga", "UA")["verdict"]
    # Welch's interval is the point -0.8 either way; 2 against 2 is p = 1/3, 5 against 5 1/126
    assert verdict(2) == NOT_DISTINGUISHED and verdict(5) == DISTINGUISHABLE
    assert scorecard.separated(3, 3) == NOT_DISTINGUISHED  # p = 2/20 = 0.1
    assert scorecard.separated(4, 4) == DISTINGUISHABLE  # p = 2/70
