"""The UnlearnGuard chapter's experiment from its parameters (`run`) and its headline."""

from __future__ import annotations

from ...train import resolve_device
from .experiment import (accuracy_table, backdoor_budget, backdoor_verifications,
                         boundary_distance, class_level, collect, distance_table,
                         inversion_confidence, inversions, providers, relabel_table,
                         relabel_unlearning, robustness, sample_level, setup, ssim_table,
                         train_models, verifiable, verification)
from .results import Results


def run(params: dict, device=None) -> Results:
    """The chapter's experiment from its parameters (`Chapter.params`), every one checked
    before any training (`setup`): the models, their reconstructions side by side
    (`Study.recover_each`), the sample-level and class-level schemes, model inversion, the
    robustness batch (with relabel fine-tuning's model), the providers, the prior, the
    backdoor's budget and relabel fine-tuning. `device`: the chapter's (default: its
    `device` parameter's)."""
    device = resolve_device(params.get("device", "auto")) if device is None else device
    study = setup(params, device)
    models = train_models(study)
    accuracy = accuracy_table(study, models)
    reconstructed = study.recover_each(first_reconstructions(models))
    recovered = dict(zip(("before", "after", "again", "class after"), reconstructed.values()))
    before, after, again, class_after = recovered.values()
    samples = sample_level(study, models, before, after)
    checked = verification(study, before, after, again)
    ssim = ssim_table(study, before, after)
    distances = distance_table(study, before, after, again)
    classes = class_level(study, models, before, class_after)
    representatives = inversions(study, models)
    inversion = inversion_confidence(study, models.trained, representatives)
    relabel_model = relabel_unlearning(study, models.trained)
    robust, robust_scores = robustness(study, models, before, again,
                                       also={"relabel fine-tuned": relabel_model})
    relabel_scores = robust_scores.pop("relabel fine-tuned")
    returned = providers(study, before, {"honest (retrains)": after, "skips unlearning": again,
                                         "fine-tunes instead": robust_scores["fine-tuned"]})
    distance = boundary_distance(study, models.trained)
    budget = backdoor_budget(study)
    counts = verifiable(study, before)
    verifications = backdoor_verifications(budget, len(study.labels))
    relabel = relabel_table(study, models.trained, {
        "before": (models.trained, before),
        "after relabel fine-tuning": (relabel_model, relabel_scores),
        "after retraining": (models.class_retrained, class_after)})
    tables = {
        "accuracy": accuracy.to_dict(), "verification": checked.table().to_dict(),
        "distance_table": distances, "ssim_table": ssim.to_dict(),
        "paired": {"threshold": checked.paired_threshold,
                   "unlearned": checked.paired.tolist(),
                   "false_alarms": checked.false_alarms.tolist(),
                   "false_alarm_rate": checked.false_alarm_rate},
        "providers": returned, "backdoor_budget": {str(k): v for k, v in budget.items()},
        "verifiable": {str(k): v for k, v in counts.items()},
        "prior": {"phase1": before["phase1"].tolist(), "phase2": before["phase2"].tolist(),
                  "control": before["control"].tolist(), "distance": distance.tolist()}}
    drawn = {"recovered": recovered, "robust_scores": robust_scores,
             "relabel_scores": relabel_scores, "representatives": representatives,
             "checked": checked}
    return collect(study, models, {**recovered, **robust_scores}, sample_level=samples,
                   class_level=classes, robustness=robust, inversion=inversion, budget=budget,
                   relabel=relabel, backdoor_verifications=verifications,
                   trained_accuracy=accuracy.loc["trained", "test"], tables=tables,
                   drawn=drawn)


def first_reconstructions(models) -> dict[str, dict]:
    """The `Study.recover_each` requests of the first batch: the pre-verification of the
    trained model (with the prior-free control), and the post-verification of the retrained
    models and of the trained model itself (another seed: the unchanged model's check)."""
    return {"trained": {"model": models.trained, "control": True, "pre": True},
            "retrained": {"model": models.retrained},
            "trained, again (another seed)": {"model": models.trained},
            "retrained (class)": {"model": models.class_retrained}}


def headline(results: Results) -> dict[str, float]:
    """The chapter's headline numbers (what a sweep gathers): tau, the mean SSIMs of
    Table 2's layout, the verification counts, the paired reading's false-alarm rate and
    every model's accuracy."""
    tables = {"ssim": results.ssim_table, "verification": results.verification,
              "accuracy": results.accuracy}
    numbers = {f"{name}/{column}/{row}": value for name, table in tables.items()
               for column, rows in table.items() for row, value in rows.items()}
    return {"tau": results.tau, "paired_false_alarm_rate": results.paired["false_alarm_rate"],
            **numbers}
