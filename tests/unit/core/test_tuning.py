import copy
from pathlib import Path

import pytest
import yaml

from fmnist.core.config import parse_params
from fmnist.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
RAW = yaml.safe_load((ROOT / "params.yaml").read_text())


def with_tune(**changes):
    raw = copy.deepcopy(RAW)
    raw["tune"] = {**raw["tune"], **changes}
    return raw


def test_the_repository_space_parses_with_types_from_the_variant_keys():
    tune = parse_params(RAW).tune
    assert tune.variant == "champion_fast" and tune.sampler == "tpe"
    assert tune.space["learning_rate"].kind == "float" and tune.space["learning_rate"].log
    assert tune.space["batch_size"].kind == "categorical" and tune.space["batch_size"].choices == (64, 128, 256)


def test_without_a_tune_section_there_is_no_study():
    raw = copy.deepcopy(RAW)
    del raw["tune"]
    assert parse_params(raw).tune is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"space": {"learnig_rate": {"low": 0.1, "high": 1}}},
            "tune.space.learnig_rate: not a variant key (did you mean 'learning_rate'?)",
        ),
        ({"space": {"augment.shfit": {"low": 0.0, "high": 0.1}}}, "tune.space.augment.shfit: not a variant key"),
        (
            {"space": {"learning_rate": {"low": 0.01, "high": 0.001}}},
            "tune.space.learning_rate: low must be below high",
        ),
        (
            {"space": {"learning_rate": {"low": 0.0, "high": 0.1, "log": True}}},
            "tune.space.learning_rate.log: a log range needs low > 0",
        ),
        ({"space": {"learning_rate": {"low": 0.001}}}, "tune.space.learning_rate.high: missing"),
        (
            {"space": {"learning_rate": {"low": 0.001, "high": 0.1, "scale": 2}}},
            "tune.space.learning_rate.scale: unknown key",
        ),
        (
            {"space": {"batch_size": {"low": 0, "high": 256}}},
            "tune.space.batch_size: 0 is not allowed for champion_fast",
        ),
        ({"space": {"batch_size": {"choices": [64, 12.5]}}}, "tune.space.batch_size.choices[1]: expected an integer"),
        (
            {"space": {"weight_decay": {"low": 0.0, "high": 0.1}}},
            "0.1 is not allowed for champion_fast: variants.champion_fast.weight_decay: adam ignores weight decay",
        ),
        ({"space": {"optimizer": {"low": 0, "high": 1}}}, "tune.space.optimizer: a str key takes {choices: [...]}"),
        ({"space": {"optimizer": {"choices": ["adam", "adamm"]}}}, "'adamm' is not allowed for champion_fast"),
        ({"space": {}}, "tune.space: expected a non-empty mapping"),
        ({"variant": "champoin"}, "tune.variant: unknown variant 'champoin' (did you mean 'champion'?)"),
        ({"sampler": "bayes"}, "tune.sampler: unknown 'bayes'"),
        ({"pruner": "medain"}, "tune.pruner: unknown 'medain' (did you mean 'median'?)"),
        ({"trials": 0}, "tune.trials: must be > 0"),
        ({"sampler": "grid"}, "tune.space.learning_rate: the grid sampler needs choices or a step"),
        ({"tirals": 3}, "tune.tirals: unknown key (did you mean 'trials'?)"),
    ],
)
def test_a_bad_space_names_the_key(change, message):
    with pytest.raises(ConfigError) as error:
        parse_params(with_tune(**change))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_preset_can_be_tuned_and_an_integer_range_draws_integers():
    tune = parse_params(with_tune(variant="champion_long", space={"epochs": {"low": 20, "high": 60, "step": 10}})).tune
    assert tune.space["epochs"].kind == "int" and tune.space["epochs"].step == 10


def test_keys_valid_alone_but_not_together_are_refused():
    space = {"epochs": {"low": 3, "high": 20}, "warmup_epochs": {"low": 0.0, "high": 5.0}}
    with pytest.raises(ConfigError) as error:
        parse_params(with_tune(variant="mlp_a", space=space))
    assert "tune.space: epochs=3, warmup_epochs=5.0 together are not allowed for mlp_a" in str(error.value)
