"""The attack registry: its refusals, its applicability reasons, every registered attack
against every unlearning method at the smoke scale, and each adapter against the function
it wraps."""

import math

import pytest
import torch

from mu_core import models
from mu_core.attacks import cmira, mra, registry
from mu_core.attacks.adapters import MARGIN_MLP, PARTIAL_CLASSWISE
from mu_core.attacks.mia import lira_scores, lira_statistic
from mu_core.attacks.inversion import inversion_quality
from mu_core.attacks.reconstruct import ReconstructionConfig
from mu_core.data import pixels
from mu_core.errors import ConfigError
from mu_core.maxmargin import MarginRecipe, homogeneous_mlp, train_to_margin
from mu_core.metrics import accuracy_on, relearn_time
from mu_core import regime
from mu_core.splits import make_split, training_subset
from mu_core.studies import adversarial
from mu_core.train import Recipe, predict
from mu_core.unlearn import METHODS, unlearn
from mu_core.verify import verify_unlearning
from mu_core.zoo import shadow_models, trained_model

# Each attack at the smoke scale (a round, an epoch, a few shadow models).
SMOKE = {"mra_closed": dict(rounds=1, batch_size=64),
         "mra_open": dict(rounds=1, batch_size=64),
         "cmira": dict(pretrain_epochs=1, rounds=1, patience=1, probe_size=50),
         "lira": dict(shadow_count=4, recipe={"epochs": 1}),
         "learned": dict(epochs=1),
         "unlearnguard": dict(candidates_per_class=1, steps=5, prior_steps=2),
         "inversion": dict(samples=2, steps=3),
         "relearn_time": dict(max_epochs=2)}
FAST_METHODS = {"epochs": 1, "iterations": 5, "pretrain_iterations": 5, "max_samples": 32}


def _fast(method: str) -> dict:
    accepted = METHODS[method].hyperparameters()
    return {key: value for key, value in FAST_METHODS.items() if key in accepted}


@pytest.fixture(scope="module")
def setting(digits):
    """Digits cut to 400 training images (the rest unseen, for LiRA's pool), partial
    class-wise forgetting (CMIRA's setting) and a CNN trained for two epochs."""
    data = training_subset(digits, 400)
    split = make_split(data, forget_classes=[1, 3], forget_fraction=0.5, val_fraction=0.1,
                       seed=0)
    trained, _ = trained_model(data, split, "cnn", Recipe(epochs=2), seed=0)
    return registry.Setting(data, split, trained)


_UNLEARNED = {}


def unlearned(setting, method: str):
    """The method's unlearned model of `setting`, built once for the module."""
    if method not in _UNLEARNED:
        _UNLEARNED[method] = unlearn(method, setting.trained, setting.data, setting.split,
                                     **_fast(method))
    return _UNLEARNED[method]


def _one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message.rstrip(".")


# ---------------------------------------------------------------------------------------
# Refusals before any training

@pytest.mark.parametrize("name, settings, match", [
    ("mra", {}, r"unknown attack 'mra'; accepted: mra_closed, mra_open, cmira"),
    ("mra_closed", {"round": 2},
     r"attack 'mra_closed' has no setting round; accepted: student, student_options, rounds"),
    ("mra_closed", {"rounds": "2"}, r"setting rounds must be an int like its default 4, got"),
    ("mra_closed", {"rounds": 2.5}, r"setting rounds must be an int like its default 4, got"),
    ("mra_closed", {"tau": 2.0}, r"tau"),
    ("mra_closed", {"components": "dst+stu+tch"},
     r"unknown mra_closed components 'dst\+stu\+tch'; accepted: dst\+stu, dst"),
    ("mra_open", {"student": "transformer"}, r"unknown model 'transformer'"),
    ("cmira", {"prior": "resnet"}, r"cmira prior must be a pretrained attack model"),
    ("cmira", {"probe_size": 0}, r"cmira probe_size"),
    ("lira", {"shadow_count": 1},
     r"lira shadow_count must put every sample in and out of at least 2 shadow models"),
    ("lira", {"statistic": "loss"}, r"unknown lira statistic 'loss'; accepted: logit_gap"),
    ("learned", {"train_fraction": 1.0}, r"learned train_fraction"),
    ("inversion", {"objective": "l1"}, r"unknown inversion objective 'l1'; accepted: cosine, l2"),
    ("relearn_time", {"lr": -1.0}, r"relearn_time lr"),
    ("svc_entropy", {"feature": "loss"}, r"attack 'svc_entropy' has no setting feature; "
                                          r"accepted: none"),
])
def test_check_request_refuses_a_bad_name_or_setting_in_one_sentence(
        name, settings, match, setting, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("trained before the request was checked")
    for module, function in ((mra, "membership_recall"), (cmira, "induce_recovery"),
                             (cmira, "pretrain")):
        monkeypatch.setattr(module, function, never)
    with pytest.raises(ConfigError, match=match) as refused:
        registry.run(name, setting.trained, setting.data, setting.split,
                     trained=setting.trained, seed=0, **settings)
    assert _one_sentence(str(refused.value)), str(refused.value)


def test_a_request_that_passes_is_the_registered_attack():
    assert registry.check_request("mra_open", {"tau": 0.3}).name == "mra_open"
    listed = registry.attacks()
    assert listed["cmira"]["needs"] == [PARTIAL_CLASSWISE.what]
    assert {"title", "needs", "settings"} == set(listed["lira"])
    assert listed["mra_closed"]["settings"]["components"] == "dst+stu"


# ---------------------------------------------------------------------------------------
# Applicability

def test_applicable_states_what_an_attack_needs_and_what_the_setting_has(setting, digits):
    assert registry.applicable("cmira", setting) == (True, "")
    random = make_split(setting.data, random_fraction=0.1, seed=0)
    ok, reason = registry.applicable("cmira", registry.Setting(setting.data, random,
                                                               setting.trained))
    assert not ok and reason == ("cmira needs partial class-wise forgetting (classes whose "
                                 "other images are retained); this split's forgetting is random")
    ok, reason = registry.applicable("unlearnguard", setting)
    assert not ok and reason == (
        f"unlearnguard needs {MARGIN_MLP.what}; this setting's trained model is a "
        f"convolutional network, not an MLP")
    pixels_in = setting.data.in_channels * setting.data.image_size ** 2
    plain = registry.Setting(setting.data, setting.split,
                             torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(pixels_in, 10)))
    assert registry.applicable("unlearnguard", plain)[1].endswith(
        "not a homogeneous MLP built for reconstruction (it has no input-centring layer)")
    whole = make_split(digits, forget_classes=[1], seed=0)  # every training image is used
    ok, reason = registry.applicable("lira", registry.Setting(digits, whole, setting.trained))
    assert not ok and reason.startswith("lira needs shadow models") and "digits has" in reason
    no_val = make_split(setting.data, forget_classes=[1, 3], forget_fraction=0.5, seed=0)
    ok, reason = registry.applicable("learned", registry.Setting(setting.data, no_val,
                                                                 setting.trained))
    assert not ok and reason.endswith("this split has 0 validation image(s)")
    with pytest.raises(ConfigError, match="^not testable here: cmira needs partial class-wise"):
        registry.run("cmira", setting.trained, setting.data, random, trained=setting.trained,
                     seed=0)


# ---------------------------------------------------------------------------------------
# Every attack against every method

@pytest.mark.xdist_group("attack_registry")  # one worker builds the unlearned models once
@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("attack", list(registry.ATTACKS))
def test_every_attack_runs_against_every_method_or_says_why_not(attack, method, setting):
    model = unlearned(setting, method)
    ok, reason = registry.applicable(attack, setting)
    if not ok:
        assert reason.startswith(f"{attack} needs ")
        with pytest.raises(ConfigError, match="^not testable here: "):
            registry.run(attack, model, setting.data, setting.split, trained=setting.trained,
                         seed=0, **SMOKE.get(attack, {}))
        return
    numbers = registry.run(attack, model, setting.data, setting.split,
                           trained=setting.trained, seed=0, **SMOKE.get(attack, {}))
    assert numbers and all(isinstance(value, float) for value in numbers.values())
    censored = {"epochs"} if numbers.get("reached") == 0.0 else set()  # relearn_time's
    assert all(math.isfinite(v) for k, v in numbers.items() if k not in censored), numbers


# ---------------------------------------------------------------------------------------
# Each adapter against the function it wraps

def _mra_check(setting, model, case):
    settings = SMOKE[case]
    numbers = registry.run(case, model, setting.data, setting.split, trained=setting.trained,
                           seed=1, **settings)
    components = {"mra_closed": "dst+stu", "mra_open": "dst+stu+tch"}[case]
    student = models.create_for("cnn", setting.data, seed=1 + mra.STUDENT_SEED_OFFSET)
    result = mra.membership_recall(model, setting.data,
                                   torch.cat([setting.split.test, setting.split.forget]),
                                   student, mra.MRAConfig(components=components, **settings),
                                   seed=1)
    return numbers["forget_recalled"], accuracy_on(result.recalled, setting.data,
                                                   setting.split.forget)


def _cmira_check(setting, model):
    data, split = setting.data, setting.split
    settings = SMOKE["cmira"]
    numbers = registry.run("cmira", model, data, split, trained=setting.trained, seed=1,
                           **settings)
    config = cmira.CMIRAConfig(pretrain_epochs=1, rounds=1, patience=1)
    prior = cmira.lipsoftmax_model("cnn", data, seed=1 + cmira.ATTACK_SEED_OFFSET)
    cmira.pretrain(prior, data, cmira.probing_set(data, split, 50, 1), config, seed=1)
    result = cmira.induce_recovery(model, prior, data, split.test, split.forget, config, seed=1)
    return numbers["acc_a"], accuracy_on(result.attack, data, split.forget)


def _svc_check(setting, model, feature):
    numbers = registry.run(f"svc_{feature}", model, setting.data, setting.split,
                           trained=setting.trained, seed=2)
    column = adversarial.METRIC_COLUMNS[adversarial.MIA_FEATURES.index(feature)]
    return numbers["mia_efficacy"], adversarial.score(model, setting.data, setting.split,
                                                      2)[column]


def _lira_check(setting, model):
    data, split = setting.data, setting.split
    numbers = registry.run("lira", model, data, split, trained=setting.trained, seed=0,
                           **SMOKE["lira"])
    pool = regime.shadow_pool(data, split.train, 0)
    ensemble, keep, _ = shadow_models(data, pool, "cnn", Recipe(epochs=1), count=4, seed=0)
    labels = data.targets(pool).cpu()
    stats = lira_statistic(ensemble.logits(data, pool), labels, kind=regime.STATISTIC)
    target = lira_statistic(predict(model, data, pool, output="logits"), labels,
                            kind=regime.STATISTIC)
    scores = lira_scores(stats, keep, target, fix_variance=True)
    forget = torch.isin(pool, split.forget)
    return numbers["member_share"], (scores[forget] > 0).double().mean().item()


def _learned_check(setting, model):
    numbers = registry.run("learned", model, setting.data, setting.split,
                           trained=setting.trained, seed=adversarial.EVALUATION_SEEDS + 3,
                           epochs=2)
    return numbers["auc"], adversarial.attacker_auc(model, setting.data, setting.split, 3, 2)


def _unlearnguard_check(setting, model):
    data = setting.data
    images = pixels(data, setting.split.train)
    mlp = homogeneous_mlp(images.mean(0), data.num_classes, hidden=(16,), seed=0)
    train_to_margin(mlp, images, data.targets(setting.split.train).cpu(),
                    MarginRecipe(steps=5))
    guard = registry.Setting(data, setting.split, mlp)
    assert registry.applicable("unlearnguard", guard) == (True, "")
    numbers = registry.run("unlearnguard", mlp, data, setting.split, trained=mlp, seed=4,
                           tau=0.5, **SMOKE["unlearnguard"])
    config = ReconstructionConfig(**SMOKE["unlearnguard"], seed=4)
    report = verify_unlearning(mlp, mlp, pixels(data, setting.split.forget), 0.5, config)
    return numbers["ssim_after"], report.ssim_after.mean().item()


def _inversion_check(setting, model):
    numbers = registry.run("inversion", model, setting.data, setting.split,
                           trained=setting.trained, seed=5, **SMOKE["inversion"])
    order = torch.randperm(len(setting.split.forget), generator=torch.Generator().manual_seed(5))
    chosen = setting.split.forget[order[:2]]
    quality, _ = inversion_quality(model, setting.data, chosen, steps=3, seed=5, chunk_size=2)
    return numbers["ssim_mean"], quality.mean().item()


def _relearn_check(setting, model):
    data, split = setting.data, setting.split
    numbers = registry.run("relearn_time", model, data, split, trained=setting.trained,
                           seed=6, max_epochs=3)
    loss = torch.nn.functional.cross_entropy(
        predict(setting.trained, data, split.forget, output="logits"),
        data.targets(split.forget).cpu()).item()
    epochs = relearn_time(model, data, split, loss, max_epochs=3, seed=6)
    return numbers["epochs"], math.nan if epochs is None else float(epochs)


CHECKS = {"mra_closed": lambda s, m: _mra_check(s, m, "mra_closed"),
          "mra_open": lambda s, m: _mra_check(s, m, "mra_open"),
          "cmira": _cmira_check, "lira": _lira_check, "learned": _learned_check,
          "unlearnguard": _unlearnguard_check, "inversion": _inversion_check,
          "relearn_time": _relearn_check,
          **{f"svc_{f}": (lambda s, m, f=f: _svc_check(s, m, f))
             for f in adversarial.MIA_FEATURES}}


def test_every_registered_attack_has_an_independent_check():
    assert set(CHECKS) == set(registry.ATTACKS)


@pytest.mark.xdist_group("attack_registry")
@pytest.mark.parametrize("attack", sorted(CHECKS))
def test_an_adapter_returns_what_the_function_it_wraps_returns(attack, setting):
    ours, theirs = CHECKS[attack](setting, unlearned(setting, "ga"))
    assert ours == pytest.approx(theirs, nan_ok=True)
