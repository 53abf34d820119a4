"""Dry runs: budgets cut by name, synthetic data of the real shapes, the training loop's
real budget recorded, and the cost estimate worked by hand."""

import json
import time
from contextlib import contextmanager

import pytest
import torch

from mu_core import dryrun
from mu_core.train import Recipe, fit


@pytest.fixture
def dry(monkeypatch, tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(dryrun.ENV, "1")
    monkeypatch.setenv(dryrun.LEDGER_ENV, str(ledger))
    monkeypatch.setattr(dryrun, "_STEP_COSTS", {})  # every test times its own loops
    monkeypatch.setattr(dryrun, "_PER_SAMPLE", {})
    # no step is "too slow" here unless a test says so: on loaded cores a probe step can
    # take seconds, and which batch a loop is timed at must not hang on the machine's load
    monkeypatch.setattr(dryrun, "STEP_BUDGET", float("inf"))
    return ledger


def test_dry_parameters_cut_budgets_by_name_at_any_depth_and_never_raise_them():
    params = {"epochs": 100, "rounds": 20, "seeds": [3, 1, 2], "device": "cuda",
              "hyperparameters": {"iu": {"max_samples": 1000}, "adversarial":
                                  {"iterations": 2000, "lr": 0.01}},
              "shadow_count": 4, "methods": ["ga", "ft"], "steps": True}
    assert dryrun.dry_parameters(params, cuda=False) == {
        "epochs": 100,  # train.fit cuts epochs itself and records the real budget
        "rounds": 2, "seeds": [3], "device": "cpu",
        "hyperparameters": {"iu": {"max_samples": 1000}, "adversarial":
                            {"iterations": 3, "lr": 0.01}},
        "shadow_count": 4, "methods": ["ga", "ft"], "steps": True}
    assert dryrun.dry_parameters({"device": "cuda"}, cuda=True) == {"device": "cuda"}
    batches = {"batch_size": 128, "attack_batch_size": 4, "hyperparameters": {
        "adversarial": {"batch_size": 64}}}
    # batch sizes stay the preset's on any device: steps are timed at them
    assert dryrun.dry_parameters(batches, cuda=True) == batches
    assert dryrun.dry_parameters(batches, cuda=False) == batches


def test_synthetic_data_has_the_real_shape_and_is_deterministic(dry):
    from mu_core.data import load

    data = load("cifar100")
    assert data.images.shape[1:] == (3, 32, 32) and data.num_classes == 100
    assert torch.bincount(data.labels[data.train]).tolist() == [4] * 100
    assert torch.equal(load("cifar100").images, data.images)
    assert load("oxford_pets", image_size=64).images.shape[1:] == (3, 64, 64)
    # each synthetic sample stands for its own split's real size: 400 training samples for
    # 50,000, 200 test samples for 10,000 (a probing set drawn from the test split was
    # counted at the training split's 125 a sample: 2.5x its real size)
    assert dryrun.real_count(data.train[:10], data) == pytest.approx(10 * 50_000 / 400)
    assert dryrun.real_count(data.test[:10], data) == pytest.approx(10 * 10_000 / 200)
    mixed = torch.cat([data.train[:4], data.test[:6]])
    assert dryrun.real_count(mixed, data) == pytest.approx(4 * 125 + 6 * 50)
    assert dryrun.real_count(mixed, data, max_samples=100) == 100


def test_a_dry_training_loop_runs_one_small_step_and_records_the_real_budget(dry):
    from mu_core.data import load
    from mu_core.models import create_for

    data = load("cifar10")  # 60 synthetic training samples stand for 50,000
    model = create_for("cnn", data, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    history = fit(model, data, data.train[:50], Recipe(epochs=7, batch_size=256))
    assert len(history) == 1 and any(not torch.equal(a, b) for a, b in
                                     zip(before, model.parameters()))
    (entry,) = [json.loads(line) for line in dry.read_text().splitlines()]
    assert entry["loop"] == "train"
    assert entry["samples"] == pytest.approx(7 * 50 * 50_000 / 60)
    assert 0 < entry["seconds_per_sample"] < 1


def _batch_sizes(model) -> list[int]:
    """The batch size of every forward pass of `model` from now on."""
    sizes = []
    model.register_forward_pre_hook(lambda module, args: sizes.append(len(args[0])))
    return sizes


def test_a_dry_training_loop_is_timed_on_full_batches_of_the_presets_batch_size(dry):
    """A dry run's few samples make tiny batches, whose per-sample cost is mostly overhead
    (a GPU estimate came out a hundred times too high): the steps are timed on batches of
    the preset's size drawn from those samples, after a warm-up step, on a CPU first at
    PROBE_BATCH; the same loop again is not timed again."""
    from mu_core.data import load
    from mu_core.models import create_for

    data = load("cifar10")
    model = create_for("cnn", data, seed=0)
    sizes = _batch_sizes(model)
    fit(model, data, data.train[:6], Recipe(epochs=3, batch_size=64))
    timed = [n for n in sizes if n > 6]
    assert timed == [dryrun.PROBE_BATCH] * 3 + [64] * 3  # warm-up + TIMED_STEPS, twice
    fit(model, data, data.train[:6], Recipe(epochs=5, batch_size=64))
    assert [n for n in sizes if n > 6] == timed  # the same loop: its cost is known
    first, second = [json.loads(line) for line in dry.read_text().splitlines()]
    assert first["timed_batch"] == second["timed_batch"] == 64
    assert first["seconds_per_sample"] == second["seconds_per_sample"] > 0
    assert second["samples"] == pytest.approx(5 * 6 * 50_000 / 60)


def test_a_step_too_slow_for_the_cpu_is_priced_at_the_probe_batch(dry, monkeypatch):
    from mu_core.data import load
    from mu_core.models import create_for

    monkeypatch.setattr(dryrun, "STEP_BUDGET", 0.0)  # every full batch "too slow"
    data = load("cifar10")
    model = create_for("cnn", data, seed=0)
    sizes = _batch_sizes(model)
    fit(model, data, data.train[:6], Recipe(epochs=1, batch_size=256))
    assert [n for n in sizes if n > 6] == [dryrun.PROBE_BATCH] * 3
    (entry,) = [json.loads(line) for line in dry.read_text().splitlines()]
    assert entry["timed_batch"] == dryrun.PROBE_BATCH


def test_margin_training_and_reconstruction_steps_are_priced_at_the_presets_budgets(dry):
    """UnlearnGuard's loops run full-batch steps (margin training) or steps over all
    candidates (reconstruction): each records candidates-or-samples x steps, repeated over
    the budgets that the real run raises."""
    from mu_core.attacks.reconstruct import ReconstructionConfig, reconstruct
    from mu_core.maxmargin import MarginRecipe, homogeneous_mlp, train_to_margin

    images, labels = torch.rand(6, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    model = homogeneous_mlp(images.mean(0), 3, hidden=(5,))
    train_to_margin(model, images, labels,
                    MarginRecipe(steps=3, budgets=("per_class", "train_steps")), desc="trained")
    reconstruct(model, ReconstructionConfig(candidates_per_class=1, steps=2, prior_steps=1))
    entries = [json.loads(line) for line in dry.read_text().splitlines()]
    assert [(e["loop"], e["samples"], e["repeated"]) for e in entries] == [
        ("trained", 6 * 3, ["per_class", "train_steps"]),
        ("reconstruction (phase 1)", 3 * 2, ["candidates_per_class", "steps"]),
        ("reconstruction (phase 2)", 3 * 1, ["candidates_per_class", "prior_steps"])]
    # the preset: 10x the samples per class, 1,000x the training steps, 100x phase 1's
    # steps and 300x phase 2's (the candidates are not cut: `dry_parameters`)
    found = dryrun.estimate(dry, ratios={"per_class": 10, "train_steps": 1000, "steps": 100,
                                         "prior_steps": 300})
    assert found["samples"] == pytest.approx(18 * 10_000 + 6 * 100 + 3 * 300)
    assert {row["kind"] for row in found["work"]} == {"steps"}  # outside `train.fit`


def test_the_candidates_of_a_reconstruction_or_inversion_are_not_cut_in_a_dry_run():
    # A step over a fifth of the candidates costs far more than a fifth of a step (04's
    # reconstruction was priced at 2.5x its real run): the dry run times steps over them
    # all, except gradient inversion's beyond what the synthetic training set holds.
    params = {"candidates_per_class": 10, "inversion_candidates": 200, "steps": 1500,
              "hyperparameters": {"iu": {"max_samples": 512}}}
    dry = dryrun.dry_parameters(params, cuda=False)
    assert dry["candidates_per_class"] == 10 and dry["hyperparameters"]["iu"]["max_samples"] == 512
    assert dry["inversion_candidates"] == dryrun.CUTS["inversion_candidates"] <= 6 * 10
    assert dryrun.cut_ratios(params, dry) == {"inversion_candidates": 200 / 48,
                                              "steps": 1500 / 3}


def _sleeping_steps(first: float, then: float):
    """A step function whose first call sleeps `first` seconds and the others `then`."""
    calls = []

    def step():
        time.sleep(first if not calls else then)
        calls.append(1)
    return step


def test_a_timed_loop_is_priced_after_its_first_step(dry):
    """The first step warms up (allocations, kernel choice): a loop of three steps is
    priced at the pace of the last two, as training steps are (`step_cost`)."""
    from mu_core import loops

    step = _sleeping_steps(0.3, 0.02)
    with loops.loop("reconstruction", 3, work=3 * 10, device=torch.device("cpu")) as current:
        for _ in current.each(range(3)):
            step()
    (entry,) = [json.loads(line) for line in dry.read_text().splitlines()]
    # 10 candidates a step at 0.02 s a step: 0.002 s each (with the warm-up, 0.011)
    assert 0.002 <= entry["seconds_per_sample"] < 0.004
    assert entry["spent"] >= 0.34 and entry["kind"] == "steps"


def test_a_timed_loop_without_steps_of_its_own_is_priced_by_its_inner_loops_steps(dry):
    # gradient inversion: the timed loop wraps the work, whose steps report in a loop of
    # their own (a chunk's setup and first step warm up)
    from mu_core import loops

    step = _sleeping_steps(0.3, 0.02)
    with loops.loop("gradient inversion", None, work=4 * 8, device=torch.device("cpu")):
        time.sleep(0.1)  # the chunk's true gradients
        for _ in loops.track(range(4), "gradient inversion steps"):
            step()
    (entry,) = [json.loads(line) for line in dry.read_text().splitlines()]
    assert 0.02 / 8 <= entry["seconds_per_sample"] < 0.035 / 8


def test_a_loop_of_one_step_is_priced_at_all_it_took(dry):
    from mu_core import loops

    with loops.loop("one step", 1, work=5, device=torch.device("cpu")) as current:
        for _ in current.each(range(1)):
            time.sleep(0.05)
    (entry,) = [json.loads(line) for line in dry.read_text().splitlines()]
    assert entry["seconds_per_sample"] >= 0.05 / 5


@pytest.mark.parametrize("method, settings, loop, real", [
    # 60 synthetic training samples stand for 50,000; the retain set is 50 of them
    ("ff", {"max_samples": None}, "ff Fisher", 50 * 50_000 / 60),
    ("ff", {"max_samples": 500}, "ff Fisher", 500),
    ("iu", {"max_samples": 512, "solver": "cg"}, "iu Fisher (cg)", 512),
])
def test_dry_per_sample_work_runs_one_chunk_of_its_real_size_and_records_the_real_count(
        dry, method, settings, loop, real, monkeypatch):
    from mu_core.data import load
    from mu_core.models import create_for
    from mu_core.splits import make_split
    from mu_core.unlearn import unlearn

    data = load("cifar10")
    split = make_split(data, forget_indices=data.train[50:].tolist())
    assert len(split.retain) == 50
    given = []
    per_sample = dryrun.per_sample_work

    def recording(*args, **kwargs):  # the pools the method's per-sample work ran on
        with per_sample(*args, **kwargs) as pool:
            given.append(len(pool))
            yield pool
    monkeypatch.setattr(dryrun, "per_sample_work", contextmanager(recording))
    unlearn(method, create_for("cnn", data, seed=0), data, split, **settings)
    (entry,) = [e for e in map(json.loads, dry.read_text().splitlines()) if e["loop"] == loop]
    assert entry["samples"] == pytest.approx(real)
    # a chunk of the real run's size (not two samples: their per-sample cost is overhead)
    assert given == [min(real, dryrun.CPU_PER_SAMPLE_CHUNK)] and entry["kind"] == "per-sample"
    assert entry["seconds_per_sample"] == pytest.approx(entry["spent"] / given[0])


def test_the_dry_per_sample_chunk_is_the_largest_chunk_per_sample_work_takes_on_a_gpu():
    from mu_core import persample

    assert dryrun.per_sample_chunk(torch.device("cuda")) == max(persample.CHUNK.values())
    # on a CPU a smaller one: 256 samples of a full-width ResNet-18 took minutes a pass
    assert dryrun.per_sample_chunk(torch.device("cpu")) == 32


def test_ius_conjugate_gradient_is_priced_at_its_cap_over_the_real_samples(dry, monkeypatch):
    """A dry run runs 3 products over a chunk of 32 samples; the real run's solve takes up
    to CG_MAX_ITERATIONS passes over max_samples (512), priced from the timed products, and
    left out of the per-sample entry that encloses it."""
    from mu_core.data import load
    from mu_core.models import create_for
    from mu_core.persample import fisher_product as product_of
    from mu_core.splits import make_split
    from mu_core.unlearn import fisher, unlearn

    def slow_product(*args, **kwargs):  # 0.05 s a product: the timed products' pace
        product = product_of(*args, **kwargs)

        def slow(v):
            time.sleep(0.05)
            return product(v)
        return slow
    monkeypatch.setattr(fisher, "fisher_product", slow_product)
    data = load("cifar10")
    split = make_split(data, forget_indices=data.train[50:].tolist())
    unlearn("iu", create_for("cnn", data, seed=0), data, split, max_samples=512, solver="cg")
    entries = {e["loop"]: e for e in map(json.loads, dry.read_text().splitlines())}
    solve, rest = entries["iu conjugate gradient"], entries["iu Fisher (cg)"]
    assert solve["samples"] == 512 * fisher.CG_MAX_ITERATIONS and solve["kind"] == "steps"
    # 3 products of 32 samples: at least 0.05 s each (the first warms up and is left out)
    assert solve["seconds_per_sample"] >= 0.05 / 32
    assert solve["spent"] >= 3 * 0.05 and rest["spent"] < 0.05
    found = dryrun.estimate(dry)
    assert found["hours_by_loop"]["iu conjugate gradient"] >= 512 * 200 * 0.05 / 32 / 3600


def test_per_sample_work_that_repeats_is_timed_once_and_priced_at_each_runs_count(
        dry, monkeypatch):
    """iu in two forget settings of one network: the second runs on REPLAY_SAMPLES samples,
    untimed, and its per-sample and conjugate-gradient entries take the first run's paces
    at its own real count; another network is timed anew."""
    from mu_core.data import load
    from mu_core.models import create_for
    from mu_core.splits import make_split
    from mu_core.unlearn import fisher, unlearn

    given = []
    product_of = fisher.fisher_product

    def counted(model, data, retain, **kwargs):
        given.append(len(retain))
        return product_of(model, data, retain, **kwargs)
    monkeypatch.setattr(fisher, "fisher_product", counted)
    data = load("cifar10")  # 60 synthetic training samples stand for 50,000
    small = make_split(data, forget_indices=data.train[50:].tolist())  # 50 retained
    large = make_split(data, forget_indices=data.train[56:].tolist())  # 56 retained
    for split, model in [(small, "cnn"), (large, "cnn"), (small, "mlp")]:
        unlearn("iu", create_for(model, data, seed=0), data, split, max_samples=None,
                solver="cg")
    assert given == [32, dryrun.REPLAY_SAMPLES, 32]
    entries = [json.loads(line) for line in dry.read_text().splitlines()]
    solves = [e for e in entries if e["loop"] == "iu conjugate gradient"]
    rests = [e for e in entries if e["loop"] == "iu Fisher (cg)"]
    assert [e["samples"] for e in rests] == pytest.approx([50 * 50_000 / 60, 56 * 50_000 / 60,
                                                           50 * 50_000 / 60])
    assert [e["samples"] for e in solves] == pytest.approx(  # iu counts whole samples
        [e["samples"] * fisher.CG_MAX_ITERATIONS for e in rests], rel=1e-4)
    assert solves[1]["seconds_per_sample"] == solves[0]["seconds_per_sample"]
    assert rests[1]["seconds_per_sample"] == rests[0]["seconds_per_sample"]
    assert solves[2]["seconds_per_sample"] != solves[0]["seconds_per_sample"]


def test_a_per_sample_budget_cut_in_a_dry_run_prices_the_work_at_the_real_budget(dry):
    pool = torch.arange(10)
    from mu_core.data import load

    data = load("cifar100")
    with dryrun.per_sample_work("classes", pool, data, 64) as chosen:
        assert dryrun.cut_per_sample("fisher_classes", 100) == 10
        assert dryrun.cut_per_sample("fisher_classes", 4) == 4  # under the cut: all
        time.sleep(0.1)
    (entry,) = [json.loads(line) for line in dry.read_text().splitlines()]
    # 0.1 s for a tenth of the classes of 32 samples: 100 / 10 times that per sample
    assert 10 * 0.1 / len(chosen) <= entry["seconds_per_sample"] < 10 * 0.2 / len(chosen)


def test_ffs_dry_batch_mean_fisher_backpropagates_ten_classes_of_a_hundred(dry, monkeypatch):
    from mu_core import persample
    from mu_core.data import load
    from mu_core.models import create_for

    rows, vmap = [], persample.vmap

    def counted(function, *args, **kwargs):
        mapped = vmap(function, *args, **kwargs)

        def call(cotangents, *rest):
            rows.append(len(cotangents))
            return mapped(cotangents, *rest)
        return call
    monkeypatch.setattr(persample, "vmap", counted)
    data = load("cifar100")
    model = create_for("cnn", data, seed=0)
    persample.batch_mean_fisher_diagonal(model, data, data.train[:8], batch_size=4, class_chunk=3)
    assert rows == [3, 3, 3, 1] * 2  # per batch, 10 classes in chunks of 3
    rows.clear()
    monkeypatch.delenv(dryrun.ENV)
    persample.batch_mean_fisher_diagonal(model, data, data.train[:4], batch_size=4, class_chunk=50)
    assert rows == [50, 50]  # outside a dry run every class


def test_the_estimate_adds_samples_times_seconds_per_sample(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    rows = [{"loop": "train", "samples": 7200, "seconds_per_sample": 1.0, "device": "X"},
            {"loop": "ga", "samples": 3600, "seconds_per_sample": 0.5, "device": "X"}]
    ledger.write_text("".join(json.dumps(r) + "\n" for r in rows))
    found = dryrun.estimate(ledger)
    assert found["hours"] == pytest.approx(2.5)
    assert found["hours_by_loop"] == {"train": 2.0, "ga": 0.5}
    assert found["samples"] == 10800  # training images the real run sees
    three = dryrun.estimate(ledger, seeds=3)  # every loop repeats per seed
    assert three["hours"] == pytest.approx(7.5) and three["samples"] == 32400
    assert three["hours_by_loop"] == {"train": 6.0, "ga": 1.5}
    assert "per seed, times 3 seeds" in dryrun.describe(three)
    assert "about 2.5 hours on X" in dryrun.describe(found)
    assert "total_hours" not in found  # the rest of the run needs the dry run's wall time


def test_the_whole_runs_price_adds_the_dry_runs_time_outside_its_loops(tmp_path):
    # a dry run of 100 s that spent 30 s in its two loops: 70 s of kernel, imports, data,
    # evaluation and figures, once, beside the loops' real cost (3 seeds: 3 x 0.5 h)
    ledger = tmp_path / "ledger.jsonl"
    rows = [{"loop": "train", "samples": 1200, "seconds_per_sample": 0.5, "device": "X",
             "spent": 20.0},
            {"loop": "ga", "samples": 600, "seconds_per_sample": 2.0, "device": "X",
             "spent": 10.0}]
    ledger.write_text("".join(json.dumps(r) + "\n" for r in rows))
    found = dryrun.estimate(ledger, seeds=3, wall_seconds=100.0)
    assert found["hours"] == pytest.approx(3 * 1800 / 3600)
    assert found["rest_hours"] == pytest.approx(70 / 3600)
    assert found["total_hours"] == pytest.approx((3 * 1800 + 70) / 3600)
    assert "the whole run about 1.5 hours." in dryrun.describe(found)
    # loops that took longer than the wall time (impossible) leave no negative rest
    assert dryrun.estimate(ledger, wall_seconds=10.0)["rest_hours"] == 0.0


def test_a_dry_loop_records_the_seconds_it_spent(dry):
    from mu_core.data import load
    from mu_core.models import create_for

    data = load("cifar10")
    started = time.perf_counter()
    fit(create_for("cnn", data, seed=0), data, data.train[:6], Recipe(epochs=1, batch_size=64))
    elapsed = time.perf_counter() - started
    (entry,) = [json.loads(line) for line in dry.read_text().splitlines()]
    assert 0 < entry["spent"] <= elapsed
    # the timed full-batch steps are part of it: at least one full batch's cost (not three:
    # on loaded cores one slow step moves the per-sample price, and no test may hang on it)
    assert entry["spent"] >= 64 * entry["seconds_per_sample"]


def test_cut_ratios_say_how_often_the_real_run_repeats_what_the_dry_one_did():
    real = {"rounds": 200, "epochs": 100, "seeds": [0, 1, 2], "flag": True, "patience": 1,
            "hyperparameters": {"adversarial": {"iterations": 2000, "batch_size": 64}},
            "batch_size": 256}
    dry = dryrun.dry_parameters(real, cuda=False)
    assert dryrun.cut_ratios(real, dry) == {"rounds": 100.0, "iterations": 2000 / 3,
                                            "seeds": 3.0}
    assert dryrun.cut_ratios({"a": {"rounds": 8}, "b": {"rounds": 40}},
                             {"a": {"rounds": 2}, "b": {"rounds": 2}}) == {"rounds": 20.0}


def test_loops_repeated_over_a_cut_budget_count_at_the_real_budget(dry):
    with dryrun.repeated("rounds"):
        with dryrun.timed("M_A", 4, torch.device("cpu"), real_samples=40):
            pass
        with dryrun.repeated("batch_size"):
            dryrun.record("game", 2, 1.0, torch.device("cpu"))
    dryrun.record("train", 10, 1.0, torch.device("cpu"))
    entries = [json.loads(line) for line in dry.read_text().splitlines()]
    assert [(e["loop"], e["samples"], e["repeated"]) for e in entries] == [
        ("M_A", 40, ["rounds"]), ("game", 2, ["rounds", "batch_size"]), ("train", 10, [])]
    found = dryrun.estimate(dry, ratios={"rounds": 100.0, "batch_size": 4.0})
    # game: 2 samples x 100 rounds x 4 (batch) x 1 s; train: 10 x 1 s, never repeated
    assert found["hours_by_loop"]["game"] == pytest.approx(800 / 3600)
    assert found["hours_by_loop"]["train"] == pytest.approx(10 / 3600)
    assert found["samples"] == pytest.approx(40 * 100 + 800 + 10)


def test_a_block_run_per_seed_of_a_seed_list_counts_that_lists_length(dry):
    """MRA's ablation runs on `ablation_seeds` (one of three seeds): counted once, where
    every other loop counts three times."""
    real = {"seeds": [0, 1, 2], "ablation_seeds": [0], "heterogeneous_seeds": [0, 1]}
    ratios = dryrun.cut_ratios(real, dryrun.dry_parameters(real, cuda=False))
    with dryrun.per_seed_of("ablation_seeds"):
        dryrun.record("ablation", 10, 1.0, torch.device("cpu"))
    with dryrun.per_seed_of("heterogeneous_seeds"):
        dryrun.record("other student", 10, 1.0, torch.device("cpu"))
    dryrun.record("attack", 10, 1.0, torch.device("cpu"))
    found = dryrun.estimate(dry, seeds=3, ratios=ratios)
    assert {loop: hours * 3600 for loop, hours in found["hours_by_loop"].items()} == \
        pytest.approx({"ablation": 10, "other student": 20, "attack": 30})


def test_timed_records_nothing_outside_a_dry_run(tmp_path, monkeypatch):
    monkeypatch.delenv(dryrun.ENV, raising=False)
    monkeypatch.setenv(dryrun.LEDGER_ENV, str(tmp_path / "ledger.jsonl"))
    with dryrun.timed("loop", 4, torch.device("cpu")):
        pass
    assert not (tmp_path / "ledger.jsonl").exists()


def test_pretrained_weights_are_checked_but_not_downloaded(dry):
    from mu_core.errors import ConfigError
    from mu_core.models import create

    model = create("efficientnet", 10, 3, 32, pretrained=True)  # offline: no download
    assert model.conv_stem.weight.shape[1] == 3
    with pytest.raises(ConfigError, match="no pretrained weights for 'efficientnetv2_s'"):
        create("efficientnet", 10, 3, 32, pretrained=True, variant="efficientnetv2_s")


def test_dry_shadow_models_time_one_member_on_full_batches_on_a_cpu(dry, monkeypatch):
    # Members trained one after another each cost the same: one is timed on full batches of
    # the preset's size, the others only take the dry run's small untimed steps.
    from mu_core import ensemble, models
    from mu_core.attacks.mia import shadow_keep_masks
    from mu_core.data import load

    data = load("cifar10")
    created = []
    real_create = models.create_for

    def recording_create(*args, **kwargs):
        model = real_create(*args, **kwargs)
        created.append(_batch_sizes(model))
        return model

    monkeypatch.setattr(models, "create_for", recording_create)
    pool = data.train[:20]
    keep = shadow_keep_masks(4, len(pool), seed=0)
    ensemble.fit_ensemble(data, pool, keep, "cnn", Recipe(epochs=2, batch_size=64),
                          seeds=[0, 1, 2, 3], vectorized=False)
    first, *others = created
    assert [n for n in first if n > dryrun.CPU_BATCH] == [dryrun.PROBE_BATCH] * 3 + [64] * 3
    assert all(n <= dryrun.CPU_BATCH for sizes in others for n in sizes)
    (entry,) = [json.loads(line) for line in dry.read_text().splitlines()]
    assert entry["loop"] == "shadow models" and entry["timed_batch"] == 64
    assert entry["samples"] == pytest.approx(4 * 2 * 10 * 50_000 / 60)  # half the pool each
    # the members are the preset's shadow_count, which the dry run cuts: counted at the preset's
    assert entry["repeated"] == ["shadow_count"] and entry["network"]["input"] == [3, 32, 32]
    found = dryrun.estimate(dry, ratios={"shadow_count": 4.0})
    assert found["samples"] == pytest.approx(4 * entry["samples"])


RESNET18 = {"model": "ResNet", "parameters": 11173962, "input": [3, 32, 32]}


def _ledger(tmp_path, rows) -> str:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return ledger


def test_the_work_is_counted_by_loop_kind_and_network_over_the_seeds(tmp_path):
    rows = [{"loop": "train", "samples": 1000, "seconds_per_sample": 0.01, "device": "X",
             "kind": "training", "network": RESNET18},
            {"loop": "train", "samples": 500, "seconds_per_sample": 0.01, "device": "X",
             "kind": "training", "network": RESNET18},
            {"loop": "reconstruction (phase 1)", "samples": 30, "seconds_per_sample": 1.0,
             "device": "X", "kind": "steps", "repeated": ["steps"]},
            {"loop": "ff Fisher", "samples": 400, "seconds_per_sample": 0.1, "device": "X",
             "kind": "per-sample"}]
    found = dryrun.estimate(_ledger(tmp_path, rows), seeds=2, ratios={"steps": 100})
    assert [(r["loop"], r["kind"], r["count"]) for r in found["work"]] == [
        ("reconstruction (phase 1)", "steps", 2 * 3000), ("ff Fisher", "per-sample", 800),
        ("train", "training", 2 * 1500)]  # largest first, by hours on the dry run's device
    assert found["work"][0]["hours"] == pytest.approx(2 * 3000 / 3600)
    assert dryrun.estimate_entries(found["ledger"], 2, found["ratios"]) == found


def test_the_price_names_the_work_and_the_reference_gpus_time_for_what_it_has_figures_for(
        tmp_path):
    from mu_core import prices

    figures = prices.reference_figures()
    rate = figures["figures"][0]["images_per_s"][figures["variant"]]
    rows = [{"loop": "train", "samples": rate * 3600, "seconds_per_sample": 0.01,
             "device": "CPU (2 threads)", "kind": "training", "network": RESNET18},
            {"loop": "train", "samples": 1e6, "seconds_per_sample": 0.001, "device": "X",
             "kind": "training", "network": {**RESNET18, "parameters": 11227812}},
            {"loop": "gradient inversion", "samples": 7200, "seconds_per_sample": 1.0,
             "device": "X", "kind": "steps"}]
    found = dryrun.estimate(_ledger(tmp_path, rows))
    ref = prices.reference_time(found)
    assert ref["hours"] == pytest.approx(1.0) and ref["priced"] == ["train"]
    # a ResNet-18 with 100 classes has no figure: it is named, not priced from another's
    assert [(r["loop"], r["hours"]) for r in ref["unpriced"]] == [
        ("gradient inversion", pytest.approx(2.0)), ("train", pytest.approx(1e3 / 3600))]
    text = dryrun.describe(found)
    assert f"{prices.count(rate * 3600 + 1e6)} training images" in text
    assert "about 1.0 h" in text and "no reference figure for the other loops" in text
    row = prices.row("00_foundations", dryrun.estimate(_ledger(tmp_path, rows[:1]), seeds=3))
    assert row["reference GPU"].startswith("1.0 h") and row["no reference figure"] == "none"
    assert row["training images"] == prices.count(rate * 3600)  # per seed


def test_the_reference_figure_fits_the_network_the_library_builds():
    from mu_core import models, prices

    model = models.create("resnet18", 10, 3, 32, seed=0)
    figure = prices.reference_figures()["figures"][0]
    assert figure["network"] == {"model": type(model).__name__, "parameters":
                                 sum(p.numel() for p in model.parameters()),
                                 "input": [3, 32, 32]}


def test_a_block_run_once_is_not_multiplied_by_the_seeds(dry):
    # LiRA's shadow models on the first seed's trained model run once however many seeds
    # the preset has; the dry run, which runs the first seed only, is told so
    from mu_core import loops

    dryrun.record("retrain", 100, 0.01, torch.device("cpu"))
    with loops.once_per_run():
        dryrun.record("shadow models", 100, 0.01, torch.device("cpu"))
    found = dryrun.estimate(dry, seeds=3)
    assert found["hours_by_loop"] == {"retrain": pytest.approx(3 / 3600),
                                      "shadow models": pytest.approx(1 / 3600)}
    assert found["samples"] == 400
    assert [row["count"] for row in found["work"]] == [300, 100]


def record_threads_and_work(seconds_per_sample: float) -> int:
    """A piece of a study: records one loop and says how many threads it ran on."""
    dryrun.record("piece", 100, seconds_per_sample, torch.device("cpu"))
    return torch.get_num_threads()


def test_pieces_a_real_run_spreads_over_workers_are_timed_at_their_threads_and_shared(
        dry, monkeypatch):
    # a real run trains 4 pieces in 2 one-thread processes side by side; the dry run runs
    # them one after another here, at one thread each, and prices them at their sum over
    # two workers' worth of WORKER_EFFICIENCY each
    from mu_core import workers

    monkeypatch.setenv(workers.ENV, "2")
    monkeypatch.setattr(workers, "cores", lambda: 2)
    torch.set_num_threads(2)
    threads = workers.run_each(record_threads_and_work, [(0.01,)] * 4, device="cpu")
    assert threads == [1, 1, 1, 1] and torch.get_num_threads() == 2
    dryrun.record("alone", 100, 0.01, torch.device("cpu"))  # outside the pieces: all of it
    monkeypatch.setattr(dryrun, "WORKER_EFFICIENCY", 0.8)
    found = dryrun.estimate(dry)
    assert found["hours_by_loop"] == {"piece": pytest.approx(4 / 1.6 / 3600),
                                      "alone": pytest.approx(1 / 3600)}
    assert [row["count"] for row in found["work"]] == [400, 100]  # the work is not halved


def test_a_gpu_or_a_single_piece_is_not_shared(dry, monkeypatch):
    from mu_core import workers

    monkeypatch.setattr(workers, "cores", lambda: 2)
    workers.run_each(record_threads_and_work, [(0.01,)], device="cpu")
    assert dryrun.estimate(dry)["hours_by_loop"] == {"piece": pytest.approx(1 / 3600)}


def test_the_dry_run_keeps_an_early_stops_patience_so_every_cut_round_runs():
    # CMIRA stops when agreement has not risen for `patience` rounds: cut to one, the dry
    # run's synthetic data stopped after one of its two rounds, and 03 was priced at half
    # its rounds; the estimate prices every round the preset allows (an upper bound)
    cut = dryrun.dry_parameters({"rounds": 4, "patience": 2}, cuda=False)
    assert cut == {"rounds": 2, "patience": 2}
