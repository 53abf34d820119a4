"""Benchmarks that print ratios measured side by side in one run (`mu-book bench`).

* `training_throughput`: `mu_core.train.fit` on device-resident tensors vs. the same model,
  optimiser and memory format fed by a plain `torch.utils.data.DataLoader` over a
  torchvision-style dataset (uint8 storage, PIL conversion and ToTensor/Normalize per item).
* `gpu_training_throughput`: ResNet-18 training on 32-pixel images (synthetic, on the GPU)
  in fp32 eager, bf16 + channels_last, and bf16 + channels_last + `torch.compile`: images
  per second and the ratios to fp32 (CUDA only; skipped on a CPU).
* `chapter_cache`: the foundations chapter with a cold and a warm model cache.
* `fisher_diagonal_speed`: the retain-set Fisher diagonal from `torch.func` (vmap of grad,
  in chunks) vs. the per-sample `autograd.grad` loop of the public reference.
* `iu_memory`: influence unlearning's Newton step solved with the whole matrix of
  per-sample gradients (Woodbury) and matrix-free by conjugate gradient, each in a fresh
  process: peak memory, time and the largest relative difference of the two steps.
* `method_run_times`: each unlearning method's run time relative to `retrain`.
* `mra_speed`: MRA rounds per second, closed and open source.
* `reconstruction_speed`: UnlearnGuard's reconstruction steps per second for m = 100, 200
  and 400 candidates, one batched double back-propagation vs. a per-candidate loop.
* `shadow_ensemble_speed`: LiRA's shadow models (RSU's MNIST CNN) trained as one vmap
  ensemble vs. one after another on the same batches, at several batch sizes.
* `scorecard_ensemble_speed`: the scorecard's N retrained models (its cpu preset's cnn on
  one retain set) the same two ways.
* `sensitivity_speed`: the learned attacker's inputs (softmax, sensitivity over n = 10
  perturbations, label) with all perturbations in one forward vs. a loop over them.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from . import book, models, prices
from .data import ImageData, load
from .dryrun import Timer
from .errors import ConfigError
from .train import Recipe, fit, make_optimizer, prepare_model


class TorchvisionStyleDataset(torch.utils.data.Dataset):
    """What torchvision.datasets.MNIST does per item: uint8 -> PIL image -> transform."""

    def __init__(self, data: ImageData, indices: torch.Tensor):
        from torchvision import transforms

        self.images = data.images[indices].cpu()
        self.labels = data.labels[indices].cpu()
        self.transform = transforms.Compose([transforms.ToTensor(),
                                             transforms.Normalize(data.mean, data.std)])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        from PIL import Image

        image = Image.fromarray(self.images[i].squeeze(0).numpy(), mode="L")
        return self.transform(image), int(self.labels[i])


def _dataloader_fit(model, data: ImageData, indices, recipe: Recipe, seed: int) -> None:
    """The plain PyTorch loop: same model, optimiser, memory format and learning rate."""
    loader = torch.utils.data.DataLoader(TorchvisionStyleDataset(data, indices),
                                         batch_size=recipe.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    model = prepare_model(model, data.device)
    optimizer = make_optimizer(model, recipe)
    model.train()
    for _ in range(recipe.epochs):
        for x, y in loader:
            x = x.to(data.device).contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(x), y.to(data.device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def training_throughput(epochs: int = 2, repeats: int = 2, architecture: str = "cnn") -> dict:
    """Samples per second of both loops on mnist5k (best of `repeats`), and their ratio."""
    data = load("mnist5k")
    recipe = Recipe(epochs=epochs, lr=0.05, batch_size=128)
    samples = epochs * len(data.train)
    timings = {"device_resident": [], "dataloader": []}
    for repeat in range(repeats):  # interleaved, so both see the same machine state
        for name, run in (("device_resident", lambda m: fit(m, data, data.train, recipe)),
                          ("dataloader", lambda m: _dataloader_fit(m, data, data.train,
                                                                   recipe, repeat))):
            model = models.create_for(architecture, data, seed=repeat)
            start = time.perf_counter()
            run(model)
            timings[name].append(time.perf_counter() - start)
    ours, naive = (samples / min(timings[k]) for k in ("device_resident", "dataloader"))
    return {"device_resident_samples_per_s": ours, "dataloader_samples_per_s": naive,
            "ratio": ours / naive}


# name -> (bf16 autocast and channels_last, torch.compile of the model with CUDA graphs)
TRAINING_VARIANTS = {"fp32_eager": (False, False), "bf16_channels_last": (True, False),
                     "bf16_channels_last_compiled": (True, True)}


def _training_step(model, optimizer, x, y, fast: bool):
    with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=fast):
        loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def _images_per_second(variant: str, device: torch.device, batch: int, steps: int,
                       warmup: int) -> float:
    fast, compiled = TRAINING_VARIANTS[variant]
    memory_format = torch.channels_last if fast else torch.contiguous_format
    model = models.create("resnet18", 10, 3, 32, seed=0).to(device, memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    generator = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, device=device, generator=generator)
    x = x.contiguous(memory_format=memory_format)
    y = torch.randint(0, 10, (batch,), device=device, generator=generator)
    model.train()
    # the model's forward and backward compiled and replayed as CUDA graphs; the optimiser
    # step stays eager (compiling the whole step, optimiser included, ran slower than eager)
    forward = torch.compile(model, mode="reduce-overhead") if compiled else model
    for _ in range(warmup):  # compilation and cuDNN's autotuning happen here
        _training_step(forward, optimizer, x, y, fast)
    with Timer(device) as timer:
        for _ in range(steps):
            _training_step(forward, optimizer, x, y, fast)
    return steps * batch / timer.seconds


def gpu_training_throughput(device: str = "cuda", batch: int = 512, steps: int = 50,
                            warmup: int = 10, variants=tuple(TRAINING_VARIANTS)) -> dict:
    """Images per second of a ResNet-18 training step on 32-pixel synthetic images resident
    on `device`, per variant, and each variant's ratio to fp32 eager (measured in this run).
    None when `device` is CUDA and none is available."""
    if device == "cuda" and not torch.cuda.is_available():
        return None
    device = torch.device(device)
    rates = {v: _images_per_second(v, device, batch, steps, warmup) for v in variants}
    baseline = rates.get("fp32_eager")
    return {v: {"images_per_s": r, "ratio_to_fp32": r / baseline if baseline else None}
            for v, r in rates.items()}


def chapter_cache(root: Path, chapter: str = "00_foundations", preset: str = "cpu") -> dict:
    """Wall time of one chapter run with an empty model cache, then again with it warm."""
    source = book.find_chapter(root, chapter)
    result = {}
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out, \
            book.environment({"MU_CACHE_DIR": cache}):
        for state in ("cold", "warm"):
            start = time.perf_counter()
            path = book.run_chapter(root, source, preset, out=Path(out))
            result[f"{state}_wall_s"] = time.perf_counter() - start
            result[f"{state}_chapter_s"] = json.loads(path.read_text())["provenance"]["seconds"]
    result["cold_over_warm"] = result["cold_wall_s"] / result["warm_wall_s"]
    return result


def dry_run_calibration(root: Path, chapter: str = "00_foundations",
                        preset: str = "cpu") -> dict:
    """A chapter's dry run's price of the whole run beside the real run on this machine,
    both cold (fresh model caches): the dry run's `total_hours` (its loops at the preset's
    budgets plus its own time outside them) against the real run's wall time."""
    source = book.find_chapter(root, chapter)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with book.environment({"MU_CACHE_DIR": str(folder / "dry-cache")}):
            dry = book.run_chapter(root, source, preset, out=folder / "dry", dry_run=True)
        estimate = json.loads(dry.read_text())["dry_run_estimate"]
        with book.environment({"MU_CACHE_DIR": str(folder / "cache")}):
            start = time.perf_counter()
            book.run_chapter(root, source, preset, out=folder / "real")
            measured = time.perf_counter() - start
    predicted = estimate["total_hours"] * 3600
    return {"chapter": chapter, "preset": preset, "estimate_s": predicted,
            "loops_s": estimate["hours"] * 3600, "measured_s": measured,
            "ratio": predicted / measured}


def calibration_table(root: Path, chapters: list[str], preset: str = "cpu") -> list[dict]:
    """`dry_run_calibration` for each of `chapters` in turn (refused before any run if one
    lacks `preset`), a line each as it finishes: the issue's target is a ratio within
    0.7-1.3 for every chapter."""
    for chapter in chapters:
        source = book.find_chapter(root, chapter)
        if preset not in source.presets(root):
            raise ConfigError(f"chapter {source.slug} has no {preset!r} preset; it has: "
                              f"{', '.join(source.presets(root))}.")
    rows = []
    print(f"{'chapter':18s} {'estimated s':>12s} {'loops s':>9s} {'measured s':>11s} "
          f"{'ratio':>6s}  (dry run's price vs cold run, {preset} preset, this machine)")
    for chapter in chapters:
        row = dry_run_calibration(root, chapter, preset)
        print(f"{row['chapter']:18s} {row['estimate_s']:12.0f} {row['loops_s']:9.0f} "
              f"{row['measured_s']:11.0f} {row['ratio']:6.2f}", flush=True)
        rows.append(row)
    return rows


def priced_chapter(root: Path, chapter: str, preset: str) -> book.ChapterSource:
    """The chapter whose `preset` dry run is to be priced, refused with a sentence when the
    preset is no paper preset (the price table holds `paper` and its `paper_` variants) or
    the chapter lacks it."""
    source = book.find_chapter(root, chapter)
    if preset != prices.PAPER and not preset.startswith(prices.PAPER + "_"):
        raise ConfigError(f"the price table holds paper presets (paper, or a paper_ variant "
                          f"such as paper_lite), not {preset!r}.")
    if preset not in source.presets(root):
        raise ConfigError(f"chapter {source.slug} has no {preset!r} preset; it has: "
                          f"{', '.join(source.presets(root))}.")
    return source


def record_paper_price(root: Path, chapter: str, folder: Path = prices.PRICES,
                       preset: str = prices.PAPER) -> Path:
    """Run a chapter's paper dry run here (its `paper` preset, or a `paper_<name>` variant
    of it such as `paper_lite`) and store its estimate, with the ledger it was worked from
    and where, when and at which commit it ran, as `folder`/<slug>.json for the paper
    preset and <slug>.<preset>.json for a variant (the price table's source:
    `write_price_table`). A preset that is no paper preset, or that the chapter lacks, is
    refused before anything runs."""
    import os
    from datetime import datetime, timezone

    from .chapter import git_revision

    source = priced_chapter(root, chapter, preset)
    with tempfile.TemporaryDirectory() as scratch, \
            book.environment({"MU_CACHE_DIR": str(Path(scratch) / "cache")}):
        started = time.perf_counter()
        results = book.run_chapter(root, source, preset, out=Path(scratch) / "dry",
                                   dry_run=True)
        wall = time.perf_counter() - started
        found = json.loads(results.read_text())["dry_run_estimate"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    ran = (f"dry run of {when} at {git_revision()} on {', '.join(found['devices'])}, "
           f"{wall:.0f} s, load average {os.getloadavg()[0]:.1f}")
    path = Path(folder) / f"{prices.price_key(source.slug, preset)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"chapter": source.slug, "preset": preset, "ran": ran,
                                "estimate": found}, indent=1) + "\n")
    return path


def write_price_table(root: Path, folder: Path = prices.PRICES) -> bool:
    """Rewrite the README's price table (between `prices.README_START` and README_END) from
    the committed paper dry runs; whether it changed."""
    readme = Path(root) / "README.md"
    text = readme.read_text()
    start, end = text.index(prices.README_START), text.index(prices.README_END)
    new = text[:start] + prices.readme_table(folder) + text[end + len(prices.README_END):]
    readme.write_text(new)
    return new != text


def _prices_command(argv: list[str]) -> int:
    """`python -m mu_core.bench prices record CHAPTER... [--preset paper_lite]` (a paper
    dry run each, stored; `--preset` a paper variant's instead) or `python -m mu_core.bench
    prices table` (the README's table from the stored runs)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mu_core.bench prices")
    parser.add_argument("action", choices=("record", "table"))
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--preset", default=prices.PAPER,
                        help="the paper preset or a paper_ variant of it (default paper)")
    args = parser.parse_args(argv)
    root = book.project_root()
    chapters = args.chapters if args.action == "record" else []
    for chapter in chapters:  # every one checked before any runs
        priced_chapter(root, chapter, args.preset)
    for chapter in chapters:
        print(f"{chapter}: {record_paper_price(root, chapter, preset=args.preset)}",
              flush=True)
    changed = write_price_table(root)
    print("README price table " + ("rewritten" if changed else "already matched"))
    return 0


def sweep_engines(root: Path, points: int = 4, chapter: str = "00_foundations",
                  preset: str = "smoke") -> dict | None:
    """Wall time of one sweep of `points` seeds of a chapter on the local engine, then on a
    local Ray instance (its start-up included), each with a cold model cache; whether the
    two gave the same numbers. None without Ray."""
    import pandas as pd

    from . import sweep
    from .errors import ConfigError

    try:
        sweep.engines.import_ray()
    except ConfigError:  # Ray is an optional extra
        return None
    grid = ["seed=" + ",".join(map(str, range(points)))]
    result, tables = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for engine in ("local", "ray"):
            with book.environment({"MU_CACHE_DIR": str(Path(scratch) / f"cache-{engine}")}):
                planned = sweep.plan(root, chapter, preset, grid, [], name=engine,
                                     out=scratch, engine=engine)
                start = time.perf_counter()
                statuses = sweep.run(planned)
                result[f"{engine}_s"] = time.perf_counter() - start
            if set(statuses.values()) != {"finished"}:
                raise RuntimeError(f"the {engine} sweep did not finish: {statuses}")
            tables[engine] = pd.read_csv(planned.folder / "results.csv")
    result["ray_over_local"] = result["ray_s"] / result["local_s"]
    result["identical"] = tables["local"].equals(tables["ray"])
    return result


def _fisher_by_loop(model, data, indices) -> dict:
    """The reference's way: one autograd.grad call per sample, squares summed."""
    model.eval()
    total = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for chunk in indices.split(128):
        log_probs = model(data.inputs(chunk)).log_softmax(-1)
        labels = data.targets(chunk)
        for i in range(len(chunk)):  # the per-sample loop being measured
            grads = torch.autograd.grad(log_probs[i, labels[i]], list(model.parameters()),
                                        retain_graph=True)
            for (name, _), g in zip(model.named_parameters(), grads):
                total[name] += g.pow(2)
    return {name: t / len(indices) for name, t in total.items()}


def fisher_diagonal_speed(samples: int = 512) -> dict:
    """Seconds for the empirical Fisher diagonal of `samples` retain digits, both ways, and
    the largest relative difference between the two results."""
    from .persample import fisher_diagonal

    data = load("mnist5k")
    model = models.create_for("cnn", data, seed=0)
    indices = data.train[:samples]
    fisher_diagonal(model, data, indices[:8], kind="empirical")  # warm both paths up
    _fisher_by_loop(model, data, indices[:8])
    start = time.perf_counter()
    fast = fisher_diagonal(model, data, indices, kind="empirical")
    vectorised = time.perf_counter() - start
    start = time.perf_counter()
    slow = _fisher_by_loop(model, data, indices)
    loop = time.perf_counter() - start
    difference = max(((fast[k] - slow[k]).abs().max() / slow[k].abs().max()).item() for k in slow)
    return {"torch_func_s": vectorised, "loop_s": loop, "ratio": loop / vectorised,
            "max_relative_difference": difference}


def _peak_rss_bytes() -> int:
    """This process's peak resident memory (ru_maxrss: kibibytes on Linux, bytes on macOS)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _unlearning_setting(seed: int = 0):
    """mnist5k, 5 classes x 50% forgotten, and the cnn trained on it (from the cache)."""
    from .splits import make_split
    from .zoo import trained_model

    data = load("mnist5k")
    split = make_split(data, forget_classes=[1, 3, 5, 7, 9], forget_fraction=0.5, seed=seed)
    model, _ = trained_model(data, split, "cnn", Recipe(epochs=8), seed=seed)
    return data, split, model


def _iu_run(solver: str, kind: str, samples: int, out: str) -> None:
    """In a fresh process: IU's step with `solver`; prints its seconds and its peak memory
    above the peak after loading data and model, and saves the step to `out`."""
    from .unlearn import unlearn

    data, split, model = _unlearning_setting()
    baseline = _peak_rss_bytes()
    start = time.perf_counter()
    unlearned = unlearn("iu", model, data, split, fisher=kind, max_samples=samples, solver=solver)
    seconds = time.perf_counter() - start
    peak = _peak_rss_bytes() - baseline
    torch.save(torch.cat([(a - b).detach().flatten() for a, b in
                          zip(unlearned.parameters(), model.parameters())]), out)
    print(json.dumps({"seconds": seconds, "peak_mib": peak / 2**20}))


def _iu_in_fresh_process(solver: str, kind: str, samples: int, out: Path) -> dict:
    call = (f"from mu_core.bench import _iu_run; "
            f"_iu_run({solver!r}, {kind!r}, {samples}, {str(out)!r})")
    done = subprocess.run([sys.executable, "-c", call], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def iu_memory(samples: int = 512, kinds=("empirical", "expected")) -> dict:
    """Per Fisher kind: seconds and peak memory (MiB above the loaded data and model) of IU
    on the trained mnist5k cnn with `samples` retain samples, solved with the whole matrix
    of Fisher rows (Woodbury) and matrix-free (conjugate gradient), and the largest
    difference of the two steps relative to the step's largest entry."""
    _unlearning_setting()  # trains the model into the cache once, before the measured processes
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            runs, steps = {}, {}
            for solver in ("woodbury", "cg"):
                out = Path(folder) / f"{kind}_{solver}.pt"
                runs[solver] = _iu_in_fresh_process(solver, kind, samples, out)
                steps[solver] = torch.load(out)
            difference = (steps["cg"] - steps["woodbury"]).abs().max() / \
                steps["woodbury"].abs().max()
            results[kind] = {f"{solver}_{key}": value for solver, run in runs.items()
                             for key, value in run.items()}
            results[kind]["max_relative_difference"] = difference.item()
    return results


def method_run_times(seed: int = 0) -> dict:
    """Seconds of every unlearning method on mnist5k (5 classes x 50%, cnn) and the ratio to
    retraining, measured in one run."""
    from .unlearn import METHODS, unlearn

    data, split, model = _unlearning_setting(seed)
    seconds = {}
    for name in METHODS:
        start = time.perf_counter()
        unlearn(name, model, data, split, seed=seed)
        seconds[name] = time.perf_counter() - start
    return {name: {"seconds": s, "relative_to_retrain": s / seconds["retrain"]}
            for name, s in seconds.items()}


def mra_speed(rounds: int = 2, seed: int = 0) -> dict:
    """MRA rounds (K_E, one distillation and one recall epoch each) per second on mnist5k,
    closed and open source, against a GA-unlearned cnn; X_p = test ∪ forget."""
    from .attacks.mra import CASES, MRAConfig, membership_recall
    from .splits import make_split
    from .zoo import trained_model, unlearned_model

    data = load("mnist5k")
    split = make_split(data, forget_classes=[1, 3, 5, 7, 9], forget_fraction=0.5, seed=seed)
    trained = trained_model(data, split, "cnn", Recipe(epochs=8), seed=seed)
    unlearned, _ = unlearned_model(data, split, "ga", trained, lr=4e-3, seed=seed)
    prediction = torch.cat([split.test, split.forget])
    results = {}
    for case, components in CASES.items():
        student = models.create_for("cnn", data, seed=seed + 1)
        start = time.perf_counter()
        membership_recall(unlearned, data, prediction, student,
                          MRAConfig(rounds=rounds, components=components), seed=seed)
        seconds = time.perf_counter() - start
        results[case] = {"rounds_per_s": rounds / seconds,
                         "prediction_images_per_s": rounds * len(prediction) / seconds}
    return results


def _stationarity_by_loop(model, candidates, labels, lambdas) -> torch.Tensor:
    """The naive way: one create_graph autograd.grad call per candidate, gradients summed."""
    from .maxmargin import margins

    params = list(model.parameters())
    total = [torch.zeros_like(p) for p in params]
    for i in range(len(candidates)):  # the per-candidate loop being measured
        margin = margins(model(candidates[i:i + 1]), labels[i:i + 1])[0]
        grads = torch.autograd.grad(lambdas[i, 0] * margin, params, create_graph=True)
        total = [t + g for t, g in zip(total, grads)]
    return sum((p.detach() - t / len(candidates)).pow(2).sum() for p, t in zip(params, total))


def _step_seconds(loss_fn, candidates, lambdas, steps: int) -> tuple[float, list]:
    """Best-of-`steps` seconds of one reconstruction step (loss and double back-propagation)
    and the gradients of the last step."""
    seconds = []
    for _ in range(steps):
        candidates.grad = lambdas.grad = None
        start = time.perf_counter()
        loss_fn().backward()
        seconds.append(time.perf_counter() - start)
    return min(seconds), [candidates.grad.clone(), lambdas.grad.clone()]


def reconstruction_speed(ms=(100, 200, 400), steps: int = 5, naive_steps: int = 2,
                         hidden=(1000,)) -> dict:
    """Reconstruction steps per second (Algorithm 2, phase 1: L_stationary plus L_lambda and
    their gradients for m candidates) on a D-1000-10 homogeneous MLP, batched vs. the
    per-candidate loop, with the largest relative difference of their gradients; and the
    closed form of a one-hidden-layer network (what `reconstruct` runs on one) vs. the
    batched double back-propagation (weights frozen for it, as `reconstruct` freezes them)."""
    from .attacks.reconstruct import (lambda_loss, stationarity_loss,
                                      stationarity_loss_two_layer, with_surrogate_relu)
    from .data import pixels
    from .maxmargin import homogeneous_mlp

    data = load("mnist5k")
    mean_image = pixels(data, data.train).mean(0)
    model = with_surrogate_relu(homogeneous_mlp(mean_image, 10, hidden, init_scale=0.05),
                                alpha=40.0)
    generator = torch.Generator().manual_seed(0)
    results = {}
    for m in ms:
        candidates = torch.rand((m, *mean_image.shape), generator=generator).requires_grad_()
        labels = torch.arange(10).repeat_interleave(m // 10 + 1)[:m]
        lambdas = torch.rand((m, 1), generator=generator).requires_grad_()
        batched, fast = _step_seconds(
            lambda: stationarity_loss(model, candidates, labels, lambdas, "max")
            + lambda_loss(lambdas, 0.2), candidates, lambdas, steps)
        loop, slow = _step_seconds(
            lambda: _stationarity_by_loop(model, candidates, labels, lambdas)
            + lambda_loss(lambdas, 0.2), candidates, lambdas, naive_steps)
        difference = max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(fast, slow))
        model.requires_grad_(False)
        closed, exact = _step_seconds(
            lambda: stationarity_loss_two_layer(model, candidates, labels, lambdas, "max")
            + lambda_loss(lambdas, 0.2), candidates, lambdas, steps)
        model.requires_grad_(True)
        results[m] = {"batched_steps_per_s": 1 / batched, "loop_steps_per_s": 1 / loop,
                      "ratio": loop / batched, "max_relative_difference": difference,
                      "closed_form_steps_per_s": 1 / closed, "closed_form_ratio": batched / closed,
                      "closed_form_difference": max(((a - b).abs().max() / b.abs().max()).item()
                                                    for a, b in zip(exact, fast))}
    return results


def shadow_ensemble_speed(count: int = 16, batch_sizes=(16, 32, 128), pool_size: int = 2048,
                          device: str = "auto") -> dict:
    """Seconds for one epoch of `count` shadow models on random halves of `pool_size`
    mnist5k samples, vectorised (one vmap) and one after another, per batch size; and the
    largest weight difference between the two (they follow the same batches)."""
    from .attacks.mia import shadow_keep_masks
    from .train import resolve_device

    data = load("mnist5k").to(resolve_device(device))
    pool = data.train[:pool_size]
    keep = shadow_keep_masks(count, pool_size, seed=0)
    return {batch_size: _ensemble_vs_one_by_one(data, pool, keep, Recipe(
        epochs=1, lr=0.05, batch_size=batch_size), hidden=0) for batch_size in batch_sizes}


def scorecard_ensemble_speed(count: int = 16, epochs: int = 1, repeats: int = 2,
                             device: str = "auto") -> dict:
    """The scorecard's retrained models (its cpu preset: `count` models of the cnn on the
    retain set of its random setting, batch 128) for `epochs` epochs, trained as one vmap
    ensemble and one after another in this process on the same batches: seconds (best of
    `repeats`), their ratio and the largest weight difference. The unlearned rows run
    different methods and cannot share a vmap; retraining (the retrain row and the
    floor's, 2N of a setting's models) can."""
    from .splits import make_split
    from .train import resolve_device

    data = load("mnist5k").to(resolve_device(device))
    split = make_split(data, random_fraction=0.1, train_size=500, val_fraction=0.1, seed=0)
    keep = torch.ones(count, len(split.retain), dtype=torch.bool)
    with book.environment({"MU_WORKERS": "1"}):  # one after another here, not in workers
        return _ensemble_vs_one_by_one(data, split.retain, keep,
                                       Recipe(epochs=epochs, lr=0.05, batch_size=128), repeats)


def _ensemble_vs_one_by_one(data: ImageData, pool, keep, recipe: Recipe, repeats: int = 1,
                            **architecture_options) -> dict:
    """`fit_ensemble` of the cnn on `pool` with `keep`, vectorised and one after another
    (the same batches), side by side: seconds (the best of `repeats`, interleaved), ratio,
    largest weight difference."""
    from .ensemble import fit_ensemble

    seconds, ensembles = {True: math.inf, False: math.inf}, {}
    for _ in range(repeats):
        for vectorized in (True, False):
            start = time.perf_counter()
            ensembles[vectorized] = fit_ensemble(data, pool, keep, "cnn", recipe,
                                                 seeds=list(range(len(keep))),
                                                 vectorized=vectorized, **architecture_options)
            if data.device.type == "cuda":
                torch.cuda.synchronize()
            seconds[vectorized] = min(seconds[vectorized], time.perf_counter() - start)
    difference = max((ensembles[True].params[k] - ensembles[False].params[k]).abs().max().item()
                     for k in ensembles[True].params)
    return {"vmap_s": seconds[True], "one_by_one_s": seconds[False],
            "ratio": seconds[False] / seconds[True], "max_weight_difference": difference}


def _sensitivity_by_loop(model, x, samples: int, scale: float, generator) -> torch.Tensor:
    """The naive way: one forward per perturbation."""
    probs = model(x).softmax(1)
    total = torch.zeros_like(probs)
    for _ in range(samples):
        noise = torch.randn(x.shape, generator=generator).to(x.device)
        total += (model(x + scale * noise).softmax(1) - probs).abs()
    return total / samples / scale


def sensitivity_speed(batch: int = 256, repeats: int = 3, device: str = "auto") -> dict:
    """Seconds (best of `repeats`) for the sensitivity of `batch` mnist5k digits under the
    cnn, batched and looped, and the largest difference between the two (same noise)."""
    from .attacks.mia import attacker_inputs
    from .train import as_model_input, resolve_device

    data = load("mnist5k").to(resolve_device(device))
    model = models.create_for("cnn", data, seed=0).to(data.device).eval()
    x = as_model_input(data.inputs(data.train[:batch]))
    labels = data.targets(data.train[:batch])
    timings, values = {}, {}
    with torch.no_grad():
        for name, run in (
                ("batched", lambda g: attacker_inputs(model, x, labels, generator=g)[:, 10:20]),
                ("loop", lambda g: _sensitivity_by_loop(model, x, 10, 1e-3, g))):
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                values[name] = run(torch.Generator().manual_seed(0))
                if data.device.type == "cuda":
                    torch.cuda.synchronize()
                best = min(best, time.perf_counter() - start)
            timings[name] = best
    # the loop draws one (B, ...) noise per perturbation, the batch one (n, B, ...) tensor:
    # the same numbers from the same generator, in the same order
    difference = (values["batched"] - values["loop"]).abs().max().item()
    return {"batched_s": timings["batched"], "loop_s": timings["loop"],
            "ratio": timings["loop"] / timings["batched"], "max_difference": difference}


def main(quick: bool = False, root: Path | None = None) -> dict:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"CUDA: {torch.cuda.is_available()}")
    throughput = training_throughput(epochs=1 if quick else 2, repeats=1 if quick else 2)
    print(f"training throughput (cnn, mnist5k): device-resident fit "
          f"{throughput['device_resident_samples_per_s']:.0f} samples/s, DataLoader "
          f"{throughput['dataloader_samples_per_s']:.0f} samples/s, ratio "
          f"{throughput['ratio']:.2f}x (target >= 1.5x)")
    results = {"training_throughput": throughput}
    gpu = gpu_training_throughput(steps=20 if quick else 50)
    if gpu is None:
        print("GPU training throughput (ResNet-18, 32 px): skipped, no CUDA device")
    else:
        print(f"GPU training throughput (ResNet-18, 32 px, batch 512, "
              f"{torch.cuda.get_device_name()}): " + ", ".join(
                  f"{v} {r['images_per_s']:.0f} img/s ({r['ratio_to_fp32']:.2f}x fp32)"
                  for v, r in gpu.items()))
    results["gpu_training_throughput"] = gpu
    fisher = fisher_diagonal_speed(samples=128 if quick else 512)
    print(f"retain Fisher diagonal (cnn): torch.func {fisher['torch_func_s']:.2f} s, per-sample "
          f"autograd.grad loop {fisher['loop_s']:.2f} s, ratio {fisher['ratio']:.1f}x (target "
          f">= 10x); results agree to {fisher['max_relative_difference']:.1e}")
    results["fisher_diagonal"] = fisher
    solves = iu_memory(samples=128 if quick else 512,
                       kinds=("empirical",) if quick else ("empirical", "expected"))
    print(f"influence unlearning's step (cnn, mnist5k, {128 if quick else 512} retain samples), "
          f"whole matrix (Woodbury) vs. matrix-free conjugate gradient, each in a fresh "
          f"process: " + ", ".join(
              f"{kind} Fisher: peak {r['woodbury_peak_mib']:.0f} MiB vs. "
              f"{r['cg_peak_mib']:.0f} MiB, {r['woodbury_seconds']:.1f} s vs. "
              f"{r['cg_seconds']:.1f} s (steps agree to {r['max_relative_difference']:.1e})"
              for kind, r in solves.items()))
    results["iu_memory"] = solves
    times = method_run_times()
    print("unlearning run time relative to retrain (cnn, mnist5k, 5 classes x 50%): " +
          ", ".join(f"{n} {t['relative_to_retrain']:.2f}x ({t['seconds']:.1f} s)"
                    for n, t in times.items()))
    results["method_run_times"] = times
    mra = mra_speed(rounds=1 if quick else 2)
    print("MRA attack (cnn student and teacher, mnist5k, 2,000 prediction images): " +
          ", ".join(f"{case} source {r['rounds_per_s']:.2f} rounds/s "
                    f"({r['prediction_images_per_s']:.0f} images/s)" for case, r in mra.items()))
    results["mra"] = mra
    recon = reconstruction_speed(steps=3 if quick else 5, naive_steps=1 if quick else 2)
    print("UnlearnGuard reconstruction step (L_stationary + L_lambda and their double "
          "back-propagation, 784-1000-10 MLP): " + ", ".join(
              f"m={m}: batched {r['batched_steps_per_s']:.1f} steps/s, per-candidate loop "
              f"{r['loop_steps_per_s']:.2f} steps/s, ratio {r['ratio']:.1f}x (gradients agree "
              f"to {r['max_relative_difference']:.1e}); one-hidden-layer closed form "
              f"{r['closed_form_steps_per_s']:.1f} steps/s, {r['closed_form_ratio']:.1f}x the "
              f"batched (agree to {r['closed_form_difference']:.1e})" for m, r in recon.items()))
    results["reconstruction"] = recon
    shadows = shadow_ensemble_speed(batch_sizes=(32,) if quick else (16, 32, 128))
    print("LiRA shadow models (16 x RSU's MNIST CNN, one epoch on halves of 2,048 samples), "
          "one vmap vs. one after another: " + ", ".join(
              f"batch {b}: {r['vmap_s']:.1f} s vs. {r['one_by_one_s']:.1f} s, ratio "
              f"{r['ratio']:.2f}x (weights agree to {r['max_weight_difference']:.1e})"
              for b, r in shadows.items()) + " (fit_ensemble uses vmap on CUDA only)")
    results["shadow_ensemble"] = shadows
    retrained = scorecard_ensemble_speed(count=4 if quick else 16, repeats=1 if quick else 2)
    print(f"scorecard's retrained row ({4 if quick else 16} x its cnn on one retain set, one "
          f"epoch, batch 128), one vmap vs. one after another: {retrained['vmap_s']:.1f} s vs. "
          f"{retrained['one_by_one_s']:.1f} s, ratio {retrained['ratio']:.2f}x (weights agree "
          f"to {retrained['max_weight_difference']:.1e}); the study trains them one after "
          f"another")
    results["scorecard_ensemble"] = retrained
    sensitivity = sensitivity_speed(repeats=1 if quick else 3)
    print(f"learned attacker's sensitivity (cnn, 256 digits, n = 10): one batched forward "
          f"{sensitivity['batched_s'] * 1000:.0f} ms, a loop over perturbations "
          f"{sensitivity['loop_s'] * 1000:.0f} ms, ratio {sensitivity['ratio']:.2f}x (values "
          f"agree to {sensitivity['max_difference']:.1e})")
    results["sensitivity"] = sensitivity
    if root is not None:
        timing = chapter_cache(root)
        print(f"foundations chapter (cpu preset), whole run with kernel start: cold "
              f"{timing['cold_wall_s']:.1f} s (target <= 60 s), warm {timing['warm_wall_s']:.1f}"
              f" s; inside the notebook: cold {timing['cold_chapter_s']:.1f} s, warm "
              f"{timing['warm_chapter_s']:.1f} s (target <= 10 s); cold/warm "
              f"{timing['cold_over_warm']:.2f}x")
        results["chapter_cache"] = timing
        calibration = dry_run_calibration(root)
        print(f"dry-run price of the foundations chapter (cpu preset) beside its cold run on "
              f"this machine: estimated {calibration['estimate_s']:.0f} s (training loops "
              f"{calibration['loops_s']:.0f} s), measured {calibration['measured_s']:.0f} s, "
              f"ratio {calibration['ratio']:.2f} (target within 0.7-1.3)")
        results["dry_run_calibration"] = calibration
        engines = sweep_engines(root, points=2 if quick else 4)
        if engines is None:
            print("sweep engines: skipped, Ray is not installed (pip install -e \".[sweep]\")")
        else:
            print(f"sweep of the foundations chapter (smoke preset, {2 if quick else 4} seeds, "
                  f"1 thread per point, cold caches): local engine {engines['local_s']:.1f} s, "
                  f"local Ray {engines['ray_s']:.1f} s (start-up included), ratio "
                  f"{engines['ray_over_local']:.2f}x (target <= 1.3x); identical numbers: "
                  f"{engines['identical']}")
        results["sweep_engines"] = engines
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["prices"]:
        sys.exit(_prices_command(sys.argv[2:]))
    main(root=book.project_root())
