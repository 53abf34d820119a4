"""A hostile but fair user's bad inputs, through the real `mu-book` command on the book's own
chapters: each exits 2 with one `mu-book: error:` sentence and no traceback, before any
model is trained (the private model cache stays empty)."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT

BIG = "1000000000"

# (chapter, preset arguments, what the error sentence must contain)
CASES = [
    # the command line itself, refused before any kernel starts
    ("nope", [], "unknown chapter 'nope'"),
    ("00", ["--preset", "gpu"], "unknown preset 'gpu'"),
    ("00", ["-p", "epoch=3"], "unknown parameter 'epoch'"),
    ("00", ["-p", "epochs=three"], "parameter epochs in the command line must be an int"),
    ("00", ["-p", "lr=.nan"], "finite numbers only"),
    ("00", ["-p", "forget_classes=[1, .inf]"], "finite numbers only"),
    ("00", ["-p", "lr"], "key=value"),
    ("00", ["-p", "preset=paper"], "the preset is chosen with --preset"),
    ("00", ["-p", "seed=!!python/name:os.system"], "not readable YAML"),
    ("01", ["-p", "hyperparameters={ga: {lr: 1}, ga: {lr: 2}}"], "given twice"),
    # the chapters' own checks, run before any training
    ("00", ["-p", f"epochs={BIG}"], "epochs must be an integer from 1 to 10000"),
    ("00", ["-p", "lr=-0.1"], "lr must be > 0"),
    ("00", ["-p", "batch_size=0"], "batch_size must be a positive integer"),
    ("00", ["-p", "seed=-1"], "seed"),
    ("00", ["-p", "device=mps"], "device"),
    ("00", ["-p", "dataset=cifar11"], "unknown dataset 'cifar11'"),
    ("00", ["-p", "architecture=resnet7"], "unknown model 'resnet7'"),
    ("00", ["-p", "forget_fraction=1.5"], "forget_fraction"),
    ("00", ["-p", "forget_classes=[10]"], "forget_classes"),
    ("00", ["-p", "optimizer=lbfgs"], "unknown optimizer 'lbfgs'"),
    ("01", ["-p", "methods=[]"], "methods must be a non-empty list"),
    ("01", ["-p", "seeds=[]"], "seeds must be a non-empty list"),
    ("01", ["-p", "methods=[forget_everything]"], "unknown unlearning method"),
    ("01", ["-p", "hyperparameters={ga: 3}"], "hyperparameters['ga'] must map"),
    ("01", ["-p", "hyperparameters={ft: {lr: -0.1}}"], "ft lr must be > 0"),
    ("01", ["-p", "hyperparameters={ga: {epochs: %s}}" % BIG], "ga epochs must be an integer"),
    ("01", ["-p", "hyperparameters={ga: {nesterov: true}}"], "has no hyper-parameter nesterov"),
    ("02", ["-p", f"rounds={BIG}"], "rounds must be an integer from 1 to 1000"),
    ("02", ["-p", f"distill_epochs={BIG}"], "distill_epochs must be an integer"),
    ("02", ["-p", "tau_closed=2.0"], "tau"),
    ("02", ["-p", "student=transformer"], "unknown model 'transformer'"),
    ("03", ["-p", f"pretrain_epochs={BIG}"], "pretrain_epochs must be an integer"),
    ("03", ["-p", "rounds=0"], "rounds must be an integer from 1 to 1000"),
    ("03", ["-p", "probe_size=0"], "probe_size must be a positive integer"),
    ("03", ["-p", "dataset_names=[mnist5k, cifar11]"], "unknown dataset 'cifar11'"),
    ("04", ["-p", f"train_steps={BIG}"], "steps must be an integer from 1 to 10000000"),
    ("04", ["-p", f"inversion_steps={BIG}"], "inversion_steps must be an integer"),
    ("04", ["-p", "per_class=0"], "per_class must be a positive integer"),
    ("04", ["-p", "prune_fraction=1.0"], "prune_fraction must be in [0, 1)"),
    ("04", ["-p", "trigger_size=40"], "trigger_size must leave a one-pixel border"),
    ("04", ["-p", "hidden=[0]"], "hidden must be a list of positive layer widths"),
    ("04", ["-p", "ssim_levels=[1.5]"], "ssim_levels entry must be in (0, 1]"),
    ("05", ["-p", f"shadow_count={BIG}"], "shadow_count must be an integer from 1 to 1000"),
    ("05", ["-p", f"relearn_epochs={BIG}"], "relearn_epochs must be an integer"),
    ("05", ["-p", "rounds=0"], "rounds"),
    ("06", ["-p", f"attack_epochs={BIG}"], "attack_epochs must be an integer"),
    ("06", ["-p", f"sparse_epochs={BIG}"], "epochs must be an integer from 1 to 10000"),
    ("06", ["-p", "val_fraction=0.0"], "val_fraction"),
    # issue 36: numbers bounded by what their use accepts, sets given once, YAML bounded
    ("00", ["-p", "seed=99999999999999999999"], "seeds, integers from 0 to 4294967295"),
    ("01", ["-p", "seeds=[0, 4294967296]"], "seeds, integers from 0 to 4294967295"),
    ("00", ["-p", "lr=1e308"], "numbers of at most 1e+06 in size, got 1e+308"),
    ("01", ["-p", "hyperparameters={ga: {lr: 1e300}}"], "at most 1e+06"),
    ("00", ["-p", "epochs=99999999999999999999"], "integers of at most 2,147,483,647"),
    ("01", ["-p", "seeds=[0, 0]"], "parameter seeds in the command line gives 0 twice"),
    ("01", ["-p", "methods=[ga, ga]"], "parameter methods in the command line gives 'ga' twice"),
    ("00", ["-p", "device=cuda:7"], "'cuda:7'"),
    ("00", ["-p", "forget_classes=" + "[" * 5000 + "]" * 5000], "more than 32 levels deep"),
    ("00", ["-p", "forget_classes=" + "{a: &a [x,x,x,x,x,x,x,x,x], " + ", ".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]"
        for i in range(8)) + "}"], "expands to more than 100,000 values"),
    # refused by the chapter's plan, before any training, naming the parameters
    ("01", ["-p", "forget_classes=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", "-p", "forget_fraction=1"],
     "forget_classes=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9] with forget_fraction=1.0 forgets all"),
]


@pytest.mark.parametrize("chapter, arguments, message", CASES,
                         ids=[f"{c}:{' '.join(a)[:60]}" for c, a, _ in CASES])
def test_bad_input_exits_2_with_one_sentence_before_any_training(tmp_path, chapter, arguments,
                                                                 message):
    cache = tmp_path / "cache"
    env = dict(os.environ, MU_CACHE_DIR=str(cache))
    preset = [] if "--preset" in arguments else ["--preset", "smoke"]
    completed = subprocess.run(
        [sys.executable, "-m", "mu_core.cli", "--root", str(ROOT), "run", chapter, *preset,
         *arguments, "--out", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=180)
    error = completed.stderr
    assert completed.returncode == 2, error
    assert error.startswith("mu-book: error: ") and len(error.splitlines()) == 1, error
    assert message in error, error
    assert "Traceback" not in error
    models = [p for p in cache.rglob("*") if p.is_file() and "locks" not in p.parts]
    assert models == [], "a model was trained before the input was refused"


def test_a_malformed_memory_budget_exits_2_with_one_sentence(tmp_path):
    env = dict(os.environ, MU_CACHE_DIR=str(tmp_path / "cache"), MU_MEMORY_BUDGET="2GB")
    completed = subprocess.run(
        [sys.executable, "-m", "mu_core.cli", "--root", str(ROOT), "run", "00", "--preset",
         "smoke", "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True,
        timeout=180)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr == ("mu-book: error: MU_MEMORY_BUDGET must be a positive whole "
                                "number of bytes, got '2GB'.\n")
    assert not (tmp_path / "out").exists()
