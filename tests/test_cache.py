import os
from pathlib import Path

import pytest
import torch
from torch import nn

from mu_core import cache, zoo
from mu_core.errors import ConfigError
from mu_core.splits import make_split
from mu_core.train import Recipe

CONFIG = {"role": "trained", "dataset": "toy", "seed": 0, "recipe": {"lr": 0.1, "epochs": 2}}


def _net():
    torch.manual_seed(0)
    return nn.Linear(4, 3)


class Builder:
    """A build function that counts its calls and changes the weights recognisably."""

    def __init__(self):
        self.calls = 0

    def __call__(self, model):
        self.calls += 1
        with torch.no_grad():
            model.weight.fill_(float(self.calls))
        return {"note": "built"}


def test_canonical_json_ignores_key_order_and_tuple_vs_list():
    a = {"b": 1, "a": (1, 2), "c": {"y": 1.5, "x": None}}
    b = {"c": {"x": None, "y": 1.5}, "a": [1, 2], "b": 1}
    assert cache.canonical_json(a) == cache.canonical_json(b) == \
        '{"a":[1,2],"b":1,"c":{"x":null,"y":1.5}}'
    assert cache.config_key(a) == cache.config_key(b)
    assert cache.config_key(a) != cache.config_key({**a, "b": 2})


def test_the_key_changes_with_the_code_that_builds_models(monkeypatch, tmp_path):
    package = tmp_path / "pkg"
    (package / "unlearn").mkdir(parents=True)
    (package / "train.py").write_text("LR = 0.1\n")
    (package / "unlearn" / "ga.py").write_text("STEPS = 5\n")
    (package / "notes.yaml").write_text("not code\n")
    before = cache.code_fingerprint(package)
    (package / "notes.yaml").write_text("changed, still not code\n")
    assert cache.code_fingerprint.__wrapped__(package) == before
    (package / "unlearn" / "ga.py").write_text("STEPS = 6\n")
    assert cache.code_fingerprint.__wrapped__(package) != before
    # the same bytes under another name are other code
    (package / "unlearn" / "ga.py").rename(package / "unlearn" / "rl.py")
    (package / "unlearn" / "rl.py").write_text("STEPS = 5\n")
    assert cache.code_fingerprint.__wrapped__(package) != before
    key = cache.config_key(CONFIG)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "other code")
    assert cache.config_key(CONFIG) != key


def test_location_from_the_environment_or_a_per_user_default(monkeypatch, tmp_path):
    monkeypatch.setenv("MU_CACHE_DIR", str(tmp_path / "x"))
    assert cache.cache_dir() == tmp_path / "x"
    monkeypatch.delenv("MU_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / ".cache" / "mu_core" / "models"


def test_a_second_request_is_served_from_the_cache(cache_dir):
    build = Builder()
    first, meta1 = cache.cached_model(CONFIG, _net, build)
    second, meta2 = cache.cached_model(dict(reversed(CONFIG.items())), _net, build)
    assert build.calls == 1
    assert (meta1["cached"], meta2["cached"]) == (False, True)
    assert meta2["note"] == "built" and meta2["seconds"] >= 0
    assert torch.equal(first.weight, second.weight) and (second.weight == 1).all()
    assert [p.name for p in cache_dir.glob("*.pt")] == [f"{cache.config_key(CONFIG)}.pt"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other_config", "pickled_object",
                                    "flipped_byte", "changed_tensor"])
def test_a_damaged_file_is_detected_and_rebuilt(cache_dir, damage):
    build = Builder()
    cache.cached_model(CONFIG, _net, build)
    path = cache.path_for(CONFIG)
    if damage == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(300))
    elif damage == "other_config":
        cache.save({"something": "else"}, _net().state_dict())
        cache.path_for({"something": "else"}).replace(path)
    elif damage == "flipped_byte":  # inside the stored weights (all 1.0: 00 00 80 3f)
        data = bytearray(path.read_bytes())
        at = data.find(bytes.fromhex("0000803f"))
        data[at + 2] ^= 0x01
        path.write_bytes(bytes(data))
    elif damage == "changed_tensor":  # whole and readable, but not what was stored
        payload = torch.load(path, weights_only=True)
        payload["state"]["weight"][0, 0] = 5.0
        torch.save(payload, path)
    else:  # weights_only=True refuses arbitrary objects
        torch.save({"format": cache.FORMAT, "config": cache.canonical_json(CONFIG),
                    "state": {"weight": Path("/")}, "meta": "{}"}, path)
    with pytest.warns(UserWarning, match="unreadable.*rebuilt"):
        model, meta = cache.cached_model(CONFIG, _net, build)
    assert build.calls == 2 and meta["cached"] is False and (model.weight == 2).all()
    assert cache.load(CONFIG) is not None  # the rebuilt file is whole again


def test_an_entry_replaced_by_a_folder_is_reported_and_rebuilt(cache_dir):
    build = Builder()
    cache.cached_model(CONFIG, _net, build)
    path = cache.path_for(CONFIG)
    path.unlink()
    (path / "inside").mkdir(parents=True)
    with pytest.warns(UserWarning, match="is a folder, not a file.*rebuilt"):
        model, meta = cache.cached_model(CONFIG, _net, build)
    assert build.calls == 2 and meta["cached"] is False and path.is_file()


def test_the_provenance_says_which_models_came_from_the_cache_and_how_they_were_made(
        cache_dir):
    """A model built with one thread and then served to a run of two threads: the run's
    provenance names it as cached and made with one thread, so numbers that differ from a
    two-thread build in the last digits are explained (issue 36, item 4)."""
    from mu_core.chapter import Chapter

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cache.cached_model(CONFIG, _net, Builder())
    finally:
        torch.set_num_threads(threads)
    chapter = Chapter("00_demo", {"seed": 0})
    cache.cached_model(CONFIG, _net, Builder())
    cache.cached_model({**CONFIG, "seed": 1}, _net, Builder())
    entries = chapter.provenance()["models"]
    assert "1 from the cache, made with 1 thread in a main process on cpu by mu_core" in entries
    assert f"1 built in this run, made with {threads} thread" in entries
    used = cache.used(chapter.models_since)
    assert [(e["key"], e["cached"], e["made_by"]["threads"]) for e in used] == [
        (cache.config_key(CONFIG), True, 1),
        (cache.config_key({**CONFIG, "seed": 1}), False, threads)]


def test_a_failed_write_leaves_neither_file_nor_temporary(cache_dir, monkeypatch):
    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        cache.save(CONFIG, _net().state_dict())
    assert list(cache_dir.iterdir()) == []


@pytest.mark.parametrize("off", ["0", "false", "False", "no", "OFF", " off "])
def test_the_cache_can_be_switched_off(cache_dir, monkeypatch, off):
    monkeypatch.setenv("MU_CACHE", off)
    build = Builder()
    cache.cached_model(CONFIG, _net, build)
    cache.cached_model(CONFIG, _net, build)
    assert build.calls == 2 and not cache_dir.exists()


@pytest.mark.parametrize("on", ["1", "true", "yes", "on"])
def test_the_usual_true_spellings_keep_the_cache_on(monkeypatch, on):
    monkeypatch.setenv("MU_CACHE", on)
    assert cache.enabled()


def test_trained_models_are_shared_across_forget_specs_with_the_same_training_set(mnist, cache_dir):
    recipe = Recipe(epochs=1, batch_size=256)
    classwise = make_split(mnist, forget_classes=[1, 3], forget_fraction=0.5)
    random = make_split(mnist, random_fraction=0.1, seed=7)
    smaller = make_split(mnist, random_fraction=0.1, train_size=500)
    model, meta = zoo.trained_model(mnist, classwise, "cnn", recipe)
    again, meta_again = zoo.trained_model(mnist, random, "cnn", recipe)
    other, meta_other = zoo.trained_model(mnist, smaller, "cnn", recipe)
    assert (meta["cached"], meta_again["cached"], meta_other["cached"]) == (False, True, False)
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(),
                                                 again.state_dict().values()))
    assert len(meta_again["history"]) == 1


def test_unlearned_models_are_cached_with_their_method_and_hyperparameters(mnist, cache_dir):
    split = make_split(mnist, forget_classes=[2], forget_fraction=0.5)
    trained = zoo.trained_model(mnist, split, "cnn", Recipe(epochs=1, batch_size=256))
    first, meta = zoo.unlearned_model(mnist, split, "ft", trained, epochs=1)
    again, meta_again = zoo.unlearned_model(mnist, split, "ft", trained, epochs=1)
    other, meta_other = zoo.unlearned_model(mnist, split, "ft", trained, epochs=1, lr=0.01)
    assert (meta["cached"], meta_again["cached"], meta_other["cached"]) == (False, True, False)
    assert meta_again["seconds"] == meta["seconds"] > 0  # the run time is kept
    assert meta["config"]["hyperparameters"]["batch_size"] == 128  # defaults are in the key
    assert all(torch.equal(p, q) for p, q in zip(first.parameters(), again.parameters()))
    assert not torch.equal(first[0].weight, trained[0][0].weight)  # unlearning changed it


CONCURRENT = """
import sys, time
import torch
from torch import nn
from mu_core import cache

def build(model):
    with open(sys.argv[1], "a") as log:
        log.write("built\\n")
    time.sleep(1.0)
    with torch.no_grad():
        model.weight.fill_(7.0)

model, meta = cache.cached_model({"role": "concurrency test"}, lambda: nn.Linear(2, 2), build)
assert (model.weight == 7).all()
print(meta["cached"])
"""


def test_two_processes_sharing_a_cold_cache_build_the_model_once(cache_dir, tmp_path):
    import subprocess
    import sys

    script, log = tmp_path / "race.py", tmp_path / "builds.log"
    script.write_text(CONCURRENT)
    runs = [subprocess.Popen([sys.executable, str(script), str(log)], stdout=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = sorted(run.communicate(timeout=120)[0].strip() for run in runs)
    assert all(run.returncode == 0 for run in runs)
    assert log.read_text().splitlines() == ["built"] and outputs == ["False", "True"]
    entries = list(cache_dir.glob("*.pt"))  # one valid entry, no temporary left behind
    assert len(entries) == 1 and not list(cache_dir.glob("*.tmp"))
    state, _ = cache.load({"role": "concurrency test"})
    assert (state["weight"] == 7).all()


def test_temporaries_of_killed_processes_are_removed(cache_dir):
    cache_dir.mkdir(parents=True)
    dead = 2**22 + 12345  # above the default pid_max: no such process
    stale = cache_dir / f"abc.{dead}.x1.tmp"
    live = cache_dir / f"abc.{os.getpid()}.x2.tmp"
    for path in (stale, live):
        path.write_bytes(b"half")
    cache.check_writable()
    assert not stale.exists() and live.exists()


def test_an_unwritable_cache_fails_before_building(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("MU_CACHE_DIR", str(tmp_path / "file" / "cache"))
    build = Builder()
    with pytest.raises(ConfigError, match="cannot be written"):
        cache.cached_model(CONFIG, _net, build)
    assert build.calls == 0
