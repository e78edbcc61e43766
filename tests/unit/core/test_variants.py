"""Variant and student entries parsed on their own (test_config.py covers them inside params.yaml)."""

import pytest

from fmnist.core.errors import ConfigError
from fmnist.core.variants import StudentConfig, VariantConfig, parse_students, parse_variants

VARIANTS = parse_variants({"mlp_a": {"epochs": 2}, "small": {"architecture": "cnn_basic"}}, "variants")


def test_architecture_defaults_to_the_entry_name():
    assert VARIANTS["mlp_a"].architecture == "mlp_a" and VARIANTS["small"].architecture == "cnn_basic"
    assert VARIANTS["mlp_a"].epochs == 2 and isinstance(VARIANTS["small"], VariantConfig)
    with pytest.raises(ConfigError, match=r"presets\.bad-name: variant names use letters, digits and '_' only"):
        parse_variants({"bad-name": {}}, "presets")


def test_settings_the_optimizer_ignores_are_refused():
    with pytest.raises(ConfigError, match=r"variants\.v\.weight_decay: adam ignores weight decay"):
        parse_variants({"v": {"architecture": "mlp_a", "weight_decay": 0.01}}, "variants")


def test_a_student_may_learn_from_a_student_listed_after_it():
    students = parse_students(
        {
            "second": {"architecture": "mlp_a", "teacher": "first", "distill": 0.5},
            "first": {"architecture": "mlp_a", "teacher": "mlp_a", "init_from": "teacher"},
        },
        VARIANTS,
        {},
    )
    assert list(students) == ["second", "first"] and all(isinstance(s, StudentConfig) for s in students.values())
    assert students["second"].teacher == "first" and students["first"].init_from == "teacher"


def test_a_chain_of_students_that_loops_is_named():
    loop = {
        "a": {"architecture": "mlp_a", "teacher": "b", "distill": 0.5},
        "b": {"architecture": "mlp_a", "teacher": "a", "distill": 0.5},
    }
    with pytest.raises(ConfigError, match=r"students\.a\.teacher: teachers form a cycle: a -> b -> a"):
        parse_students(loop, VARIANTS, {})
    with pytest.raises(ConfigError, match=r"students\.small: the name is taken under presets:"):
        parse_students({"small": {"teacher": "mlp_a", "distill": 0.5}}, {"mlp_a": VARIANTS["mlp_a"]}, VARIANTS)
