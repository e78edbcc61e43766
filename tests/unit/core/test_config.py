import copy
from pathlib import Path

import pytest
import yaml

from fmnist.core.config import load_params, parse_params
from fmnist.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
RAW = yaml.safe_load((ROOT / "params.yaml").read_text())


def with_change(path: str, value):
    raw = copy.deepcopy(RAW)
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[last] = value
    return raw


def test_repo_params_are_valid():
    params = load_params(ROOT / "params.yaml")
    assert "champion" in params.variants
    champion = params.variant("champion")
    assert champion.architecture == "resnet"
    assert champion.model["widths"] == (32, 64, 128)
    assert params.variant("mlp_a").architecture == "mlp_a"
    assert 0 < params.data.val_fraction <= 0.5


def test_params_are_frozen():
    params = parse_params(RAW)
    with pytest.raises(AttributeError):
        params.data.seed = 1


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("data.val_fraction", 0.0, "data.val_fraction: must be in (0, 0.5]"),
        ("data.val_fraction", 0.7, "data.val_fraction: must be in (0, 0.5]"),
        ("data.seed", "x", "data.seed: expected an integer"),
        ("data.sourse", "auto", "data.sourse: unknown key (did you mean 'source'?)"),
        ("variants.mlp_a.epochs", 0, "variants.mlp_a.epochs: must be > 0"),
        ("variants.mlp_a.epochs", 1.5, "variants.mlp_a.epochs: expected an integer"),
        ("variants.mlp_a.epochs", True, "variants.mlp_a.epochs: expected an integer"),
        ("variants.mlp_a.learning_rate", -0.1, "variants.mlp_a.learning_rate: must be > 0"),
        ("variants.mlp_a.learning_rate", "fast", "variants.mlp_a.learning_rate: expected a number"),
        ("variants.mlp_a.optimizer", "adamm", "unknown 'adamm' (did you mean 'adam'?)"),
        ("variants.mlp_a.schedule", "onecycle", "unknown 'onecycle' (did you mean 'one_cycle'?)"),
        ("variants.mlp_a.batchsize", 3, "variants.mlp_a.batchsize: unknown key (did you mean 'batch_size'?)"),
        ("variants.mlp_a.augment.rotaton", 3, "variants.mlp_a.augment.rotaton: unknown key (did you mean 'rotation'?)"),
        ("variants.mlp_a.augment.erasing", 2, "variants.mlp_a.augment.erasing: must be a probability"),
        ("variants.mlp_a.label_smoothing", 1.0, "variants.mlp_a.label_smoothing: must be in [0, 1)"),
        ("variants.mlp_a.model", [1], "variants.mlp_a.model: expected a mapping"),
        ("variants", {}, "variants: expected a non-empty mapping"),
        ("variants.mlp_a.precision", "bf16", "variants.mlp_a.precision: unknown 'bf16'"),
        ("variants.mlp_a.weight_decay", 0.01, "variants.mlp_a.weight_decay: adam ignores weight decay"),
        ("variants.mlp_a.momentum", 0.8, "variants.mlp_a.momentum: adam has no momentum setting"),
        ("variants.cnn_optimum.warmup_epochs", 1.0, "variants.cnn_optimum.warmup_epochs: one_cycle warms up by itself"),
        ("variants.mlp_a.step_factor", 0.3, "variants.mlp_a.step_factor: only schedule: step uses it"),
        ("runtime.strategy", "mirorred", "runtime.strategy: unknown 'mirorred' (did you mean 'mirrored'?)"),
        ("variants.mlp_a.ema_momentum", 1.0, "variants.mlp_a.ema_momentum: must be in [0, 1)"),
        ("evaluate.tta_shift", 5, "evaluate.tta_shift: must be in [0, 4] pixels"),
        ("evaluate.tta_shift", -1, "evaluate.tta_shift: must be in [0, 4] pixels"),
        ("presets.champion_long.epochs", 0, "presets.champion_long.epochs: must be > 0"),
        ("presets.champion_long", [1], "presets.champion_long: expected a mapping of settings"),
        ("presets", [1], "presets: expected a mapping"),
        ("trainer", {}, "trainer: unknown top-level key"),
        ("ci.floors.champoin", 0.9, "ci.floors.champoin: unknown variant (did you mean 'champion'?)"),
        ("ci.floors.mlp_a", 88, "ci.floors.mlp_a: must be a fraction in [0, 1]"),
        ("ci.floors.mlp_a", "high", "ci.floors.mlp_a: expected a number"),
        ("ci.floors", [0.9], "ci.floors: expected a mapping"),
        ("variants.mlp_a.floor", 0.9, "variants.mlp_a.floor: unknown key"),
        ("variants.mlp_a.learning_rate", float("nan"), "variants.mlp_a.learning_rate: must be > 0, got nan"),
        ("data.val_fraction", float("nan"), "data.val_fraction: must be in (0, 0.5], got nan"),
        ("variants.mlp_a.augment.crop", 9, "variants.mlp_a.augment.crop: must be in [0, 8], got 9"),
        ("variants.mlp_a.augment.crop", 1.5, "variants.mlp_a.augment.crop: expected an integer"),
        ("variants.mlp_a.augment.mixup", -0.2, "variants.mlp_a.augment.mixup: must be in [0, 10]"),
        ("variants.mlp_a.augment.cutmix", "yes", "variants.mlp_a.augment.cutmix: expected a number"),
        ("variants.mlp_a.warmup_epochs", 15.0, "variants.mlp_a.warmup_epochs: must be shorter than epochs"),
        ("bench.racer", "champoin", "bench.racer: unknown variant 'champoin' (did you mean 'champion'?)"),
        ("bench.determinism", "champion", "bench.determinism: expected a list of names"),
        ("bench.determinism", ["mlp_a", "champion_long"], "bench.determinism: unknown variant 'champion_long'"),
        ("bench.racers", "mlp_a", "bench.racers: unknown key (did you mean 'racer'?)"),
        ("variants.mlp_a.augment.erasing_fill", "black", "augment.erasing_fill: unknown 'black'; expected one of"),
        ("students", [1], "students: expected a mapping of student name"),
        ("students.kd", {"distill": 0.5}, "students.kd.teacher: required: the variant whose trained model"),
        ("students.kd", {"teacher": "champoin", "distill": 0.5}, "kd.teacher: unknown variant 'champoin' (did"),
        ("students.kd", {"teacher": "champion"}, "students.kd: learns nothing from its teacher: set distill > 0"),
        ("students.kd", {"teacher": "champion", "distill": 1.5}, "students.kd.distill: must be a weight in [0, 1]"),
        ("students.kd", {"teacher": "champion", "distil": 0.5}, "students.kd.distil: unknown key (did you mean 'dis"),
        ("students.kd", {"teacher": "champion", "temperature": 0, "distill": 0.5}, "kd.temperature: must be > 0"),
        ("students.kd", {"teacher": "champion", "init_from": "teacher"}, "kd.init_from: fine-tuning needs the teac"),
        ("students.kd", {"teacher": "mlp_a", "init_from": "techer"}, "kd.init_from: unknown 'techer' (did you mean"),
        ("students.kd", {"teacher": "kd", "distill": 0.5}, "students.kd.teacher: teachers form a cycle: kd -> kd"),
        ("students.mlp_a", {"teacher": "ann", "distill": 0.5}, "students.mlp_a: the name is taken under variants:"),
        ("students.kd", {"teacher": "ann", "distill": 0.5, "class_weights": True}, "kd.class_weights: distillation"),
        ("ensembles", [1], "ensembles: expected a mapping of ensemble name -> members"),
        ("ensembles.trio", {"members": ["mlp_a", "ann"]}, "ensembles.trio.members: expected 3 different variants"),
        ("ensembles.trio", {"members": ["mlp_a", "ann", "ann"]}, "trio.members: expected 3 different variants, got"),
        ("ensembles.trio", {"members": ["mlp_a", "ann", "champoin"]}, "unknown variant 'champoin' (did you mean"),
        ("ensembles.trio", {"members": ["mlp_a", "ann", "champion_long"]}, "a member is a variant of this run"),
        ("ensembles.trio", {"member": ["mlp_a"]}, "ensembles.trio.member: unknown key (did you mean 'members'?)"),
        ("ensembles.trio", {"members": "mlp_a"}, "ensembles.trio.members: expected a list of names"),
        ("ensembles.mlp_a", {"members": ["mlp_b", "ann", "champion"]}, "ensembles.mlp_a: the name is taken under"),
    ],
)
def test_invalid_params_name_the_key(path, value, message):
    with pytest.raises(ConfigError) as error:
        parse_params(with_change(path, value))
    assert message in str(error.value)


def test_retrain_on_all_has_nothing_held_out_to_stop_on():
    raw = with_change("variants.cnn_advanced.retrain_on_all", True)  # cnn_advanced stops early
    with pytest.raises(ConfigError, match=r"variants\.cnn_advanced\.early_stopping_patience: retrain_on_all trains"):
        parse_params(raw)
    raw["variants"]["cnn_advanced"].pop("early_stopping_patience")
    assert parse_params(raw).variant("cnn_advanced").retrain_on_all is True


def test_students_learn_from_a_variant_or_another_student():
    raw = with_change("students", {
        "ft": {"architecture": "mlp_a", "teacher": "mlp_a", "init_from": "teacher", "learning_rate": 1e-4},
        "kd": {"architecture": "mlp_a", "teacher": "ft", "distill": 0.7},
    })  # fmt: skip
    raw["ci"]["floors"]["kd"] = 0.85
    params = parse_params(raw)
    assert params.trained[-2:] == ["ft", "kd"] and params.trained[: len(params.variants)] == list(params.variants)
    assert params.variant("kd").teacher == "ft" and params.variant("kd").distill == 0.7
    assert params.variant("kd").temperature == 4.0 and params.variant("kd").init_from == "scratch"
    assert params.section("kd") == "students" and params.section("mlp_a") == "variants"
    assert params.section("champion_long") == "presets" and params.ci.floors["kd"] == 0.85
    assert parse_params(RAW).students == {}  # the default run has none


def test_an_ensemble_teaches_by_distillation_only():
    raw = with_change("ensembles", {"trio": {"members": ["mlp_a", "ann", "champion"]}})
    raw["students"] = {"kd": {"architecture": "mlp_a", "teacher": "trio", "distill": 0.5}}
    params = parse_params(raw)
    assert params.ensembles["trio"].members == ("mlp_a", "ann", "champion") and params.variant("kd").teacher == "trio"
    assert "trio" not in params.trained  # nothing to evaluate: the stage only averages the members
    raw["students"]["kd"] = {"architecture": "mlp_a", "teacher": "trio", "init_from": "teacher"}
    with pytest.raises(ConfigError, match=r"students\.kd\.init_from: an ensemble \('trio'\) has no weights"):
        parse_params(raw)
    raw["students"]["kd"] = {"architecture": "mlp_a", "teacher": "trio", "distill": 0.5, "class_weights": True}
    with pytest.raises(ConfigError, match=r"students\.kd\.class_weights: distillation does not weight"):
        parse_params(raw)
    raw["students"] = {"trio": {"architecture": "mlp_a", "teacher": "mlp_a", "distill": 0.5}}
    with pytest.raises(ConfigError, match=r"students\.trio: the name is taken under ensembles:"):
        parse_params(raw)
    assert parse_params(RAW).ensembles == {}  # the default run has none


def test_a_preset_copied_into_variants_is_trained_with_the_variants_settings():
    # After `fmnist preset airbench`, `-S variants.airbench.seed=1` (make seeds) and every other
    # edit of the copy must reach the stage; the untouched preset must not win.
    raw = copy.deepcopy(RAW)
    raw["variants"]["airbench"] = {**raw["presets"]["airbench"], "seed": 1, "epochs": 3}
    params = parse_params(raw)
    assert params.variant("airbench").seed == 1 and params.variant("airbench").epochs == 3
    assert params.presets["airbench"].seed == 42 and params.section("airbench") == "variants"
    assert params.variant("champion_long") is params.presets["champion_long"]


def test_floors_live_in_ci_and_presets_may_have_one():
    params = parse_params(RAW)
    assert params.ci.floors["champion"] >= 0.935
    assert "champion_long" in params.ci.floors
    without = with_change("ci.floors", {})
    assert parse_params(without).ci.floors == {}


def test_flip_tta_needs_the_flag_and_flip_training():
    params = parse_params(RAW)
    assert params.flip_tta("champion") is True  # trained with horizontal flips
    assert params.flip_tta("mlp_a") is False
    assert parse_params(with_change("evaluate.tta_flip", False)).flip_tta("champion") is False


def test_shift_tta_needs_shift_training():
    shifting = parse_params(with_change("evaluate.tta_shift", 1))
    assert shifting.shift_tta("champion") == 1  # trained with shifts
    assert shifting.shift_tta("champion_fast") == 0  # flips only
    assert parse_params(with_change("evaluate.tta_shift", 0)).shift_tta("champion") == 0


def test_unknown_variant_suggests_a_name():
    with pytest.raises(ConfigError, match=r"unknown variant 'champoin' \(did you mean 'champion'\?\)"):
        parse_params(RAW).variant("champoin")


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data:\n  source: auto\n  seed: [1, 2\nvariants: {}\n")
    with pytest.raises(ConfigError, match=r"params.yaml: line \d+, column \d+: YAML syntax error"):
        load_params(path)


def test_missing_params_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_params(tmp_path / "params.yaml")


def test_every_default_passes_its_own_check():
    """A field's default and its allowed values are declared together; they must agree."""
    import dataclasses

    from fmnist.core import config, variants

    for section in (*config.SECTIONS.values(), variants.VariantConfig, variants.AugmentConfig, variants.StudentConfig):
        for option in dataclasses.fields(section):
            check = option.metadata.get("check")
            if check is not None and option.default is not dataclasses.MISSING:
                check.check(f"{section.__name__}.{option.name}", option.default)


def test_bench_names_variants_of_the_default_run():
    params = parse_params(RAW)
    assert params.bench.racer in params.variants and params.bench.published_twin in params.variants
    assert set(params.bench.determinism) <= set(params.variants)
