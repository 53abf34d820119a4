"""The RSU chapter's experiment from its parameters (`run`) and its headline numbers."""

from __future__ import annotations

from ... import data as datasets
from ... import loops
from ...splits import training_subset
from ...train import Recipe, resolve_device
from .. import named_numbers
from .experiment import (Setup, check_requests, forget_sets, leakage, privacy_risks,
                         risk_runs, rsu_runs, scenario_variants)
from .results import Results


def run(params: dict, device=None) -> Results:
    """The chapter's experiment from its parameters (`Chapter.params`): every request and
    size checked before any training (`check_requests`); then part one on the first seed
    (the trained model, every training sample's privacy risks, the forget sets, the regime,
    every risk method on every forget set) and part two (`rsu_runs`: every variant of each
    scenario in every seed). `device`: the chapter's (default: its `device` parameter's)."""
    recipe = Recipe(epochs=params["epochs"], lr=params["lr"], batch_size=params["batch_size"],
                    schedule=params["schedule"])
    device = resolve_device(params.get("device", "auto")) if device is None else device
    data = training_subset(datasets.load(params["dataset"]).to(device), params["train_size"])
    setup = Setup(data, params["architecture"], params["architecture_options"], recipe,
                  params["hyperparameters"])
    scenarios = {"class": {"forget_classes": [params["forget_class"]]},
                 "random": {"random_fraction": params["random_fraction"]}}
    seeds, risk_methods = params["seeds"], params["risk_methods"]
    rsu_methods = params["rsu_methods"]
    variants = scenario_variants(scenarios, rsu_methods, params["hyperparameters"],
                                 params["scenario_hyperparameters"], params["rounds"],
                                 params["ablation_method"])
    full = check_requests(
        setup, scenarios, variants, risk_methods, seeds, params["subset_size"],
        candidates=params["inversion_candidates"], shadow_count=params["shadow_count"],
        fix_variance=params["lira_fix_variance"], inversion_steps=params["inversion_steps"],
        relearn_lr=params["relearn_lr"], relearn_epochs=params["relearn_epochs"],
        inversion_precision=params["inversion_precision"],
        inversion_success=params["inversion_success"],
        mi_high_size=params["mi_high_size"])
    trained = setup.trained(full, seeds[0])
    with loops.once_per_run():  # the first seed's risk sets, not one per seed
        risks = privacy_risks(setup, full, trained[0], shadow_count=params["shadow_count"],
                              shadow_recipe=recipe, candidates=params["inversion_candidates"],
                              inversion_steps=params["inversion_steps"], seed=seeds[0],
                              fix_variance=params["lira_fix_variance"],
                              inversion_precision=params["inversion_precision"])
    sets = forget_sets(risks, params["subset_size"], seeds[0], params["mi_high_size"])
    regime = leakage(setup, full, trained[0], risks)
    with loops.once_per_run():  # part one runs on the first seed alone
        part_one = risk_runs(setup, trained, sets, risk_methods, risks, seed=seeds[0],
                             relearn_lr=params["relearn_lr"],
                             relearn_epochs=params["relearn_epochs"])
    part_two = rsu_runs(setup, scenarios, variants, seeds, risks)
    return Results.gather(setup, risks, sets, regime, part_one, part_two,
                          risk_methods=risk_methods, rsu_methods=rsu_methods,
                          ablation_method=params["ablation_method"],
                          relearn_budget=params["relearn_epochs"],
                          inversion_success=params["inversion_success"])


def headline(results: Results) -> dict[str, float]:
    """The chapter's headline numbers (what a sweep gathers): the risk profile of each
    forget set, every RSU gain, and the loss-ASR rank correlation."""
    profile = [{**row, "set": name} for name, row in results.risk_profile.to_dict("index").items()]
    gains = results.gains().to_dict("records")
    return {**named_numbers(profile, ("set",), ("ASR", "entropy", "confidence", "loss")),
            **named_numbers(gains, ("scenario", "method", "metric"), ("gain",)),
            "loss_asr_spearman": results.loss_asr_spearman}
