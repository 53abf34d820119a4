"""One value switches a chapter's scale: `preset = "paper"` in its parameters cell (Colab,
Jupyter, papermill), with the presets shipped inside the package."""

import importlib
import json

import papermill
import pytest

from mu_core import book, presets
from mu_core.chapter import Chapter
from mu_core.errors import ConfigError

from conftest import ROOT

CHAPTERS = book.chapters(ROOT)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.slug for c in CHAPTERS])
def test_the_published_preset_holds_the_parameters_cell_values_of_every_preset_name(chapter):
    defaults = book.notebook_parameters(book.read_notebook(chapter.source))
    assert defaults["preset"] == presets.PUBLISHED
    published = presets.values(chapter.slug, presets.PUBLISHED)
    assert {name: defaults[name] for name in published} == published
    for preset in presets.available(chapter.slug):
        assert set(presets.values(chapter.slug, preset)) <= set(published), preset


def test_the_presets_are_found_beside_the_installed_package():
    assert presets.FOLDER == (ROOT / "mu_core" / "presets").resolve()
    assert presets.available("02_mra") == [*presets.PRESETS, "paper_cifar100",
                                           "paper_flowers102", "paper_oxford_pets"]


def test_a_variant_extends_the_paper_preset_and_overrides_what_it_lists():
    paper = presets.values("02_mra", "paper")
    pets = presets.values("02_mra", "paper_oxford_pets")
    assert pets["dataset"] == "oxford_pets" and pets["tau_closed"] == 0.05
    assert pets["rounds"] == paper["rounds"] == 20  # not listed: the paper preset's
    assert "extends" not in pets


def test_a_preset_that_extends_itself_in_a_circle_is_refused(tmp_path):
    for name, base in (("paper", "paper_a"), ("paper_a", "paper")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "00_x.yaml").write_text(f"extends: {base}\nseed: 1\n")
    with pytest.raises(ConfigError, match="extends 'paper', which extends it in turn"):
        presets.values("00_x", "paper", tmp_path)


def test_the_pet_breeds_table_5_names_resolve_to_class_ids():
    from mu_core.data import require_classes, synthetic

    pets = synthetic("oxford_pets", 32)
    named = presets.values("02_mra", "paper_oxford_pets")["forget_classes"]
    assert require_classes(pets, named) == (5, 26, 3, 4, 17)
    assert require_classes(pets, ["basset_hound", "japanese chin"]) == (3, 17)
    with pytest.raises(ConfigError, match="names class 'Sphinx', which 'oxford_pets' does not"):
        require_classes(pets, ["Sphinx"])


# A hand-worked namespace for chapter 00: the published values, with seed and lr changed.
PUBLISHED_00 = {"preset": "cpu", "dataset": "mnist5k", "architecture": "cnn", "epochs": 8,
                "lr": 0.05, "batch_size": 128, "optimizer": "sgd", "weight_decay": 0.0005,
                "augment": "none", "forget_classes": [1, 3, 5, 7, 9],
                "forget_fraction": 0.5, "seed": 0, "device": "auto"}


def test_the_paper_preset_sets_every_unchanged_value_and_keeps_the_changed_ones(monkeypatch):
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    namespace = {**PUBLISHED_00, "preset": "paper", "lr": 0.01, "seed": 3}
    changed = presets.apply("00_foundations", namespace)
    assert namespace == {**PUBLISHED_00, "preset": "paper", "dataset": "cifar10",
                         "architecture": "resnet18", "epochs": 160, "lr": 0.01,
                         "batch_size": 256, "augment": "flip_crop", "seed": 3,
                         "device": "cuda"}
    assert set(changed) == {"dataset", "architecture", "epochs", "batch_size", "augment",
                            "device"}


def test_the_chapter_records_the_parameters_after_its_preset(monkeypatch):
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    namespace = {**PUBLISHED_00, "preset": "smoke"}
    chapter = Chapter("00_foundations", namespace, device="cpu")
    assert chapter.params["epochs"] == namespace["epochs"] == 2
    assert chapter.provenance()["preset"] == "smoke"


@pytest.mark.parametrize("chapter", CHAPTERS[1:], ids=[c.slug for c in CHAPTERS[1:]])
def test_a_studys_quoted_values_take_no_name_the_chapter_already_glued(chapter, monkeypatch):
    # the book build fails on a glue key stored twice (`paper_lr` was, in 01 and 06)
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    namespace = book.notebook_parameters(book.read_notebook(chapter.source))
    study = importlib.import_module(f"mu_core.studies.{chapter.slug.partition('_')[2]}")
    Chapter(chapter.slug, namespace, device="cpu").quote(study.quoted())


def test_a_name_glued_twice_is_refused_with_a_sentence(monkeypatch):
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    chapter = Chapter("00_foundations", {**PUBLISHED_00, "preset": "smoke"}, device="cpu")
    with pytest.raises(ConfigError, match=r"^00_foundations glues epochs, paper_lr twice "):
        chapter.quote({"paper_lr": 0.1, "epochs": 3, "new": 1})
    chapter.quote({"new": 1})


def test_nothing_changes_for_the_published_preset_or_a_preset_mu_book_resolved(monkeypatch):
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    namespace = dict(PUBLISHED_00)
    assert presets.apply("00_foundations", namespace) == {} and namespace == PUBLISHED_00
    assert presets.apply("00_foundations", {"seed": 0}) == {}  # no preset parameter
    monkeypatch.setenv(presets.RESOLVED_ENV, "paper")
    resolved = {**PUBLISHED_00, "preset": "paper", "device": "auto"}  # -p device=auto
    assert presets.apply("00_foundations", resolved) == {} and resolved["device"] == "auto"


def test_an_unknown_preset_is_refused_with_a_sentence(monkeypatch):
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    with pytest.raises(ConfigError, match=r"^unknown preset 'gpu'; accepted: smoke, cpu, "
                                          r"paper, paper_cifar100, .*\.$"):
        presets.apply("00_foundations", {**PUBLISHED_00, "preset": "gpu"})


def test_a_variant_the_chapter_lacks_is_refused(monkeypatch):
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    with pytest.raises(ConfigError, match="chapter 00_foundations has no 'paper_cifar100' "
                                          "preset; it has: smoke, cpu, paper."):
        presets.apply("00_foundations", {**PUBLISHED_00, "preset": "paper_cifar100"})


def test_a_preset_naming_a_parameter_the_chapter_lacks_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    with pytest.raises(ConfigError, match="sets 'dataset', which is not a parameter"):
        presets.apply("00_foundations", {"preset": "paper", "seed": 0})


@pytest.mark.chapter
def test_papermill_switches_a_chapter_to_a_preset_with_one_value(tmp_path, monkeypatch):
    """The Colab and plain-papermill path: no mu-book, only `preset` injected."""
    monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    source = tmp_path / "00_foundations.ipynb"
    import nbformat

    chapter = book.find_chapter(ROOT, "00")
    nbformat.write(book.read_notebook(chapter.source), source)
    papermill.execute_notebook(str(source), str(tmp_path / "run.ipynb"),
                               parameters={"preset": "smoke", "seed": 1}, cwd=str(tmp_path),
                               kernel_name="python3", progress_bar=False)
    results = json.loads((tmp_path / "00_foundations.results.json").read_text())
    smoke = presets.values("00_foundations", "smoke")
    assert {name: results["params"][name] for name in smoke} == smoke
    assert results["params"]["seed"] == 1 and results["provenance"]["preset"] == "smoke"


def test_the_foundations_and_baselines_paper_presets_train_one_model(monkeypatch):
    # chapter 00 has no paper of its own: its paper preset trains chapter 01's seed-0 model,
    # so that running both trains it once (one cache entry)
    from conftest import ROOT

    from mu_core import book, dryrun
    from mu_core.data import load
    from mu_core.splits import make_split
    from mu_core.studies.baselines import forget_settings
    from mu_core.train import Recipe
    from mu_core.zoo import trained_config

    monkeypatch.setenv(dryrun.ENV, "1")  # CIFAR-10's shape, not its download
    data = load("cifar10")
    p0 = {**PUBLISHED_00, **book.chapter_parameters(ROOT, book.find_chapter(ROOT, "00"), "paper", [])}
    p1 = book.chapter_parameters(ROOT, book.find_chapter(ROOT, "01"), "paper", [])
    foundations = trained_config(
        data, make_split(data, forget_classes=p0["forget_classes"],
                         forget_fraction=p0["forget_fraction"], seed=p0["seed"]),
        p0["architecture"], Recipe(epochs=p0["epochs"], lr=p0["lr"], batch_size=p0["batch_size"],
                                   optimizer=p0["optimizer"], weight_decay=p0["weight_decay"],
                                   augment=p0["augment"]), p0["seed"], {})
    spec = forget_settings(p1["forget_classes"], 0.5, p1["random_fraction"], p1["whole_classes"],
                           p1["train_size"])["random"]
    baselines = trained_config(
        data, make_split(data, seed=p1["seeds"][0], **spec), p1["architecture"],
        Recipe(epochs=p1["epochs"], lr=p1["lr"], batch_size=p1["batch_size"],
               augment=p1["augment"]), p1["seeds"][0], {})
    assert foundations == baselines


def test_only_a_paper_lite_preset_carries_the_reduced_budget_mark():
    assert presets.budget_mark("paper_lite") == ("reduced budget (paper_lite preset, not "
                                                 "the paper's full run)")
    assert presets.budget_mark("paper_lite_cifar100").startswith(
        "reduced budget (paper_lite_cifar100 preset")
    for preset in ("paper", "cpu", "smoke", "paper_cifar100", "paper_literal", "none", None):
        assert presets.budget_mark(preset) is None, preset


@pytest.mark.parametrize("preset, resolved", [("paper_lite", None), ("paper_lite", "paper_lite"),
                                              ("paper", None), ("cpu", None), ("smoke", None)])
def test_a_paper_lite_run_marks_every_claim_and_its_findings_box(preset, resolved, monkeypatch):
    # the mark comes from the chapter's preset, whether the kernel applied it (Colab,
    # papermill) or mu-book resolved it and injected its name
    from mu_core.claims import HELD, NOT_TESTABLE, Claim

    if resolved:
        monkeypatch.setenv(presets.RESOLVED_ENV, resolved)
    else:
        monkeypatch.delenv(presets.RESOLVED_ENV, raising=False)
    source = book.find_chapter(ROOT, "03")
    namespace = {**book.notebook_parameters(book.read_notebook(source.source)),
                 "preset": preset}
    chapter = Chapter("03_cmira", namespace, device="cpu")
    claims = [Claim("a_holds", "A recovers", "Table 1", "A: +0.100 [+0.050, +0.150], 300 "
                    "images; B: +0.2 [+0.1, +0.3], 300 images", HELD),
              Claim("b_untested", "B", "Table 3", "the ablation did not run", NOT_TESTABLE)]
    box = chapter.findings(claims)
    chapter.add_claims(claims)
    mark = "reduced budget (paper_lite preset, not the paper's full run): "
    lite = preset == "paper_lite"
    assert [c.here.startswith(mark) for c in chapter.claims] == [lite, lite]
    assert [c.here.removeprefix(mark) for c in chapter.claims] == [c.here for c in claims]
    assert [c.verdict for c in chapter.claims] == [HELD, NOT_TESTABLE]
    assert (box.budget is not None) == lite and ("Reduced budget" in repr(box)) == lite
    assert box.lines()[0][2] == (mark if lite else "") + ("A: +0.100 [+0.050, +0.150], "
                                                          "300 images (more in the claims "
                                                          "section)")
    assert chapter.marked(chapter.claims[0]) == chapter.claims[0]  # marked once
    assert chapter.provenance()["preset"] == preset


def test_the_cmira_lite_preset_cuts_the_paper_preset_only_where_its_file_says():
    # CIFAR-10 and ResNet-18 with fewer rounds and epochs a round; what the paper's argument
    # rests on is the paper preset's: the rounds' early stop, the whole test split as D_p
    # and as the rounds' anchor, the prior's pretraining, the ablation, Table A2's settings
    paper, lite = presets.values("03_cmira", "paper"), presets.values("03_cmira", "paper_lite")
    cut = {name for name in paper if lite[name] != paper[name]}
    assert cut == {"dataset_names", "backbones", "rounds", "round_epochs",
                   "dataset_hyperparameters"}
    assert lite["dataset_names"] == ["cifar10"] and list(lite["backbones"]) == ["ResNet-18"]
    assert lite["backbones"]["ResNet-18"] == paper["backbones"]["ResNet-18"]
    assert lite["dataset_hyperparameters"]["cifar10"]["ResNet-18"] == \
        paper["dataset_hyperparameters"]["cifar10"]["ResNet-18"]
    assert lite["patience"] < lite["rounds"] < paper["rounds"]  # the early stop can still act
    assert lite["round_epochs"] < paper["round_epochs"]
    assert lite["probe_size"] is lite["anchor_size"] is None
    assert lite["ablation_datasets"] is None


LITE_CHAPTERS = [c.slug for c in CHAPTERS if presets.LITE in c.presets(ROOT)]


@pytest.mark.parametrize("slug", LITE_CHAPTERS)
def test_a_lite_preset_extends_the_paper_preset_and_names_each_cut_above_it(slug):
    paper, lite = presets.values(slug, "paper"), presets.values(slug, presets.LITE)
    assert set(lite) == set(paper)  # it changes the paper preset's values, adds none
    cut = [name for name in paper if lite[name] != paper[name]]
    lines = presets.path(slug, presets.LITE).read_text().splitlines()
    assert "extends: paper" in lines and cut
    listed = [line.split(":")[0] for line in lines if line[:1].isalpha()]
    assert sorted(listed) == sorted(["extends", *cut])  # no value restated unchanged
    for name in cut:  # every cut is named in a comment right above it
        at = lines.index(next(line for line in lines if line.startswith(f"{name}:")))
        assert lines[at - 1].startswith("#"), name


def test_the_scorecard_lite_preset_cuts_the_paper_preset_only_where_its_file_says():
    # CIFAR-10 and ResNet-18 trained as in the paper preset (so every retrained model is),
    # in the setting the MRA claim reads, with its methods and the attacks it reads; fewer
    # models, rows, attacked models and attack rounds
    from mu_core.studies import scorecard

    paper = presets.values("07_scorecard", "paper")
    lite = presets.values("07_scorecard", presets.LITE)
    cut = {name for name in paper if lite[name] != paper[name]}
    assert cut == {"settings", "seeds", "methods", "attack_runs", "claim_runs",
                   "attack_settings"}
    assert lite["settings"] == list(scorecard.CLAIM_ATTACKS)  # class-wise: the MRA claim's
    assert 2 <= lite["attack_runs"] < lite["claim_runs"] <= len(lite["seeds"]) \
        < len(paper["seeds"])
    assert lite["seeds"] == paper["seeds"][:len(lite["seeds"])]
    assert "adversarial" in lite["methods"] and set(lite["methods"]) < set(paper["methods"])
    assert set(lite["attack_settings"]) == set(paper["attack_settings"])
    for attack, settings in lite["attack_settings"].items():  # only the rounds are cut
        kept = {k: v for k, v in settings.items() if k not in ("rounds", "round_epochs")}
        assert kept == {k: v for k, v in paper["attack_settings"][attack].items()
                        if k not in ("rounds", "round_epochs")}, attack
        for key in ("rounds", "round_epochs"):
            assert settings.get(key, 0) <= paper["attack_settings"][attack].get(key, 0), key
