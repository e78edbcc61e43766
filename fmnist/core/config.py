"""params.yaml -> frozen dataclasses, validated before any heavy work.

Each key is declared once, with its default, its description and its allowed values
(`option(...)`, fmnist/core/schema.py). An unknown key fails with a "did you mean" hint, a wrong
type or an out-of-range value with the key's dotted path. Rules that relate keys sit beside
their section below. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fmnist.core.errors import ConfigError, did_you_mean
from fmnist.core.schema import FRACTION, NON_NEGATIVE, POSITIVE, OneOf, Range, build, check_type, empty, name, option
from fmnist.core.schema import require as _require
from fmnist.core.tuning import TuneConfig, parse_tune, scalar_keys

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "one_cycle")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("auto", "single", "mirrored")
ERASING_FILLS = ("noise", "zero")
INIT_FROM = ("scratch", "teacher")


@dataclass(frozen=True)
class DataConfig:
    source: str = option(
        "auto", "`auto` (folder, then the Debian package, then download), `folder`, or an https:// base URL"
    )
    folder: str = option("data/external", "your own copy of the CSV/IDX files; a DVC dependency of `fetch`")
    val_fraction: float = option(
        0.1, "share of the training set held out (stratified) for validation", check=Range(0, 0.5, low_open=True)
    )
    seed: int = option(42, "seed of the validation split")


@dataclass(frozen=True)
class AugmentConfig:
    rotation: float = option(0.0, "max degrees either way", check=Range(0, 180, unit="degrees"))
    shift: float = option(
        0.0, "max fraction of width/height, per image (bilinear, sub-pixel)", check=Range(0, 0.5, high_open=True)
    )
    crop: int = option(
        0, "pixels: pad by this much and crop back at a random whole-pixel offset, per image", check=Range(0, 8)
    )
    zoom: float = option(0.0, "scale drawn from [1 - zoom, 1 + zoom]", check=FRACTION)
    shear: float = option(0.0, "max degrees either way", check=Range(0, 60, high_open=True, unit="degrees"))
    horizontal_flip: bool = option(False, "mirror half the images")
    erasing: float = option(0.0, "probability of erasing one random rectangle", check=Range(0, 1, what="a probability"))
    erasing_fill: str = option(
        "noise",
        "what fills an erased rectangle: `noise` (uniform pixels) or `zero` (black, the background)",
        check=OneOf(ERASING_FILLS),
    )
    mixup: float = option(
        0.0, "> 0: mix each batch with a shuffled copy, images and labels, by Beta(mixup, mixup)", check=Range(0, 10)
    )
    cutmix: float = option(
        0.0,
        "> 0: paste a box of a shuffled copy, area by Beta(cutmix, cutmix), labels by area "
        "(with `mixup` too, each batch takes one of the two)",
        check=Range(0, 10),
    )

    @property
    def enabled(self) -> bool:
        """Whether images are transformed one by one (mixup and CutMix act on batches, apart)."""
        return any((self.rotation, self.shift, self.crop, self.zoom, self.shear, self.horizontal_flip, self.erasing))

    @property
    def mixing(self) -> bool:
        return bool(self.mixup or self.cutmix)


@dataclass(frozen=True)
class VariantConfig:
    name: str = option(doc="the variant's key under `variants:` (set by the loader)")
    architecture: str = option(doc="a registered builder: `fmnist.train.models` (defaults to the variant's key)")
    model: Mapping[str, Any] = option(doc="keyword arguments of the builder, e.g. `{filters: 48}`", factory=empty)
    epochs: int = option(10, "epochs to train; the best validation epoch is kept", check=POSITIVE)
    batch_size: int = option(128, "images per step (per replica under `runtime.strategy: mirrored`)", check=POSITIVE)
    optimizer: str = option("adam", "`adam`, `adamw`, `sgd` (Nesterov momentum) or `rmsprop`", check=OneOf(OPTIMIZERS))
    learning_rate: float = option(1e-3, "peak learning rate of the schedule", check=POSITIVE)
    weight_decay: float = option(0.0, "decoupled weight decay: `adamw`, `sgd`, `rmsprop` only", check=NON_NEGATIVE)
    momentum: float = option(0.9, "`sgd` and `rmsprop` only", check=FRACTION)
    schedule: str = option("constant", "`constant`, `step`, `cosine` or `one_cycle`", check=OneOf(SCHEDULES))
    warmup_epochs: float = option(
        0.0, "linear warm-up before `constant`, `step` or `cosine`; shorter than `epochs`", check=NON_NEGATIVE
    )
    step_epochs: int = option(5, "`step` schedule: epochs between decays", check=POSITIVE)
    step_factor: float = option(0.5, "`step` schedule: factor of each decay", check=Range(0, 1, low_open=True))
    early_stopping_patience: int = option(
        0, "stop after this many epochs without a better validation accuracy; 0 runs all", check=NON_NEGATIVE
    )
    label_smoothing: float = option(0.0, "label smoothing of the cross-entropy loss", check=FRACTION)
    ema_momentum: float = option(
        0.0, "> 0: validate, select and keep an exponential moving average of the weights", check=FRACTION
    )
    precision: str = option(
        "float32",
        "`auto` (bf16 where the CPU runs it natively and a probe finds it faster, else float32), `float32`, "
        "`mixed_bfloat16` (AMX/AVX512-BF16 CPUs, TPUs) or `mixed_float16` (GPUs)",
        check=OneOf(PRECISIONS),
    )
    class_weights: bool = option(False, "weight the loss by inverse class frequency")
    retrain_on_all: bool = option(
        False,
        "train on all 60,000 training images (the validation split included) for exactly `epochs`, "
        "keeping the last epoch: set `epochs` from a run on the split. Reported apart, never chosen on validation",
    )
    seed: int = option(42, "seed of initialisation, shuffling and augmentation")
    augment: AugmentConfig = field(
        default_factory=AugmentConfig, metadata={"doc": "augmentation, see `augment.*`; `{}` for none", "check": None}
    )


@dataclass(frozen=True)
class StudentConfig(VariantConfig):
    """A variant that learns from another variant's trained model, its `teacher`: that model is a
    declared DVC dep of the student's stage, so retraining the teacher re-trains the student."""

    teacher: str = option("", "required: the variant (or student) whose trained model this one learns from")
    init_from: str = option(
        "scratch",
        "`scratch` (new weights) or `teacher` (start from the teacher's trained weights: fine-tuning; "
        "same architecture and model)",
        check=OneOf(INIT_FROM),
    )
    distill: float = option(
        0.0,
        "weight of the teacher's softened predictions in the loss (knowledge distillation; the labels "
        "get the rest); 0 trains on labels only",
        check=Range(0, 1, what="a weight"),
    )
    temperature: float = option(4.0, "softmax temperature of distillation", check=POSITIVE)


@dataclass(frozen=True)
class RuntimeConfig:
    deterministic: bool = option(True, "TensorFlow op determinism: same params and machine give the same metrics")
    strategy: str = option(
        "auto",
        "`auto` (MirroredStrategy when more than one GPU is visible), `single`, or `mirrored` "
        "(every GPU, or without GPUs every logical CPU device)",
        check=OneOf(STRATEGIES),
    )


@dataclass(frozen=True)
class EvaluateConfig:
    batch_size: int = option(1024, "images per prediction batch", check=POSITIVE)
    samples: int = option(25, "images in predictions.png and misclassified.png", check=Range(1, 100))
    tta_flip: bool = option(True, "average with the mirror image, for variants trained with flips")
    tta_shift: int = option(
        0,
        "pixels; > 0: also average over the image moved this far down-right and up-left "
        "(weights 1/2, 1/4, 1/4), for variants trained with shifts or crops",
        check=Range(0, 4, unit="pixels"),
    )


@dataclass(frozen=True)
class CompareConfig:
    ensemble_size: int = option(3, "most members the validation-greedy ensemble may take", check=POSITIVE)


@dataclass(frozen=True)
class ExportConfig:
    representative_samples: int = option(500, "training images that calibrate int8 quantization", check=POSITIVE)
    latency_runs: int = option(200, "single-image predictions timed (the median is reported)", check=POSITIVE)
    batch_size: int = option(256, "batch of the throughput measurement", check=POSITIVE)
    max_int8_drop: float = option(
        0.5, "percentage points of accuracy int8 may lose against float32", check=NON_NEGATIVE
    )


@dataclass(frozen=True)
class CIConfig:
    max_accuracy_drop: float = option(
        0.3, "percentage points `fmnist gate` allows against the base revision", check=NON_NEGATIVE
    )
    # Kept out of `variants:` so that moving a floor does not re-train the variant (train stages
    # depend on their variant's section).
    floors: Mapping[str, float] = option(
        doc="variant -> test accuracy `fmnist gate` requires", check=Range(0, 1, what="a fraction"), factory=empty
    )


@dataclass(frozen=True)
class BenchConfig:
    """`make bench` (fmnist.tools.bench); no stage reads it, so editing it re-trains nothing."""

    racer: str = option(
        "champion_fast", "variant trained in full for time-to-accuracy against the published recipe's epochs"
    )
    published_twin: str = option(
        "cnn_enhanced", "variant that reproduces the published enhanced-CNN recipe: its speed is compared with it"
    )
    determinism: tuple[str, ...] = option(
        ("cnn_basic", "champion"), "variants whose cost of op determinism is measured (a small and a large model)"
    )


@dataclass(frozen=True)
class Params:
    data: DataConfig
    variants: Mapping[str, VariantConfig]
    presets: Mapping[str, VariantConfig] = field(default_factory=empty)
    students: Mapping[str, StudentConfig] = field(default_factory=empty)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    ci: CIConfig = field(default_factory=CIConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    bench: BenchConfig = field(default_factory=BenchConfig)
    tune: TuneConfig | None = None  # None without a `tune:` section

    def variant(self, name: str) -> VariantConfig:
        """A variant, a student, or a preset (same settings, trained only on request)."""
        known = {**self.variants, **self.students, **self.presets}
        if name not in known:
            raise ConfigError(f"unknown variant {name!r}{did_you_mean(name, known)}; known: {sorted(known)}")
        return known[name]

    @property
    def trained(self) -> list[str]:
        """Every model `dvc repro` trains: the variants, then the students."""
        return [*self.variants, *self.students]

    def section(self, name: str) -> str:
        """The params section that holds `name` (for `dvc exp run -S <section>.<name>.<key>=...`)."""
        self.variant(name)  # unknown names fail here, with a hint
        return "students" if name in self.students else "presets" if name in self.presets else "variants"

    def flip_tta(self, name: str) -> bool:
        """Mirror test-time augmentation applies only to variants trained with horizontal flips."""
        return self.evaluate.tta_flip and self.variant(name).augment.horizontal_flip

    def shift_tta(self, name: str) -> int:
        """Shift test-time augmentation (pixels) applies only to variants trained with shifts or crops."""
        augment = self.variant(name).augment
        return self.evaluate.tta_shift if augment.shift > 0 or augment.crop > 0 else 0


SECTIONS = {
    "data": DataConfig,
    "runtime": RuntimeConfig,
    "evaluate": EvaluateConfig,
    "compare": CompareConfig,
    "ci": CIConfig,
    "export": ExportConfig,
    "bench": BenchConfig,
}
TOP_LEVEL = (*SECTIONS, "variants", "presets", "students", "tune")


def _reject_ignored(v: VariantConfig, given: set[str], p: str) -> None:
    """Settings the chosen optimizer or schedule would silently ignore are errors, not no-ops."""
    _require(
        not (v.optimizer == "adam" and v.weight_decay > 0),
        f"{p}.weight_decay",
        "adam ignores weight decay; use optimizer: adamw (decoupled decay), sgd or rmsprop",
    )
    _require(
        not ("momentum" in given and v.optimizer in ("adam", "adamw")),
        f"{p}.momentum",
        f"{v.optimizer} has no momentum setting (only sgd and rmsprop use it)",
    )
    _require(
        not (v.schedule == "one_cycle" and v.warmup_epochs > 0),
        f"{p}.warmup_epochs",
        "one_cycle warms up by itself (the first 30 % of steps); remove warmup_epochs",
    )
    for key in ("step_epochs", "step_factor"):
        _require(
            not (key in given and v.schedule != "step"), f"{p}.{key}", f"only schedule: step uses it, not {v.schedule}"
        )
    _require(v.warmup_epochs < v.epochs, f"{p}.warmup_epochs", f"must be shorter than epochs, got {v.warmup_epochs}")
    _require(
        not (v.retrain_on_all and v.early_stopping_patience),
        f"{p}.early_stopping_patience",
        "retrain_on_all trains on the validation images too, so nothing held out can stop it; remove one",
    )


def parse_params(raw: Any) -> Params:
    """Validate a params mapping (as loaded from YAML) and return frozen dataclasses."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"params: expected a mapping at the top level, got {type(raw).__name__}")
    for key in raw:
        if key not in TOP_LEVEL:
            raise ConfigError(f"{name(key)}: unknown top-level key{did_you_mean(str(key), TOP_LEVEL)}")
    built = {key: build(cls, raw.get(key), key) for key, cls in SECTIONS.items()}
    data: DataConfig = built["data"]
    _require(
        data.source in ("auto", "folder") or data.source.startswith("https://"),
        "data.source",
        f"expected 'auto', 'folder' or an https:// base URL, got {data.source!r} (a folder goes in data.folder)",
    )
    _require(bool(data.folder.strip()), "data.folder", "must not be empty")

    raw_variants = raw.get("variants")
    if not isinstance(raw_variants, Mapping) or not raw_variants:
        raise ConfigError("variants: expected a non-empty mapping of variant name -> settings")
    raw_presets = raw.get("presets") or {}
    if not isinstance(raw_presets, Mapping):
        raise ConfigError("presets: expected a mapping of preset name -> variant settings")
    variants = _parse_variants(raw_variants, "variants")
    presets = _parse_variants(raw_presets, "presets")
    raw_students = raw.get("students") or {}
    if not isinstance(raw_students, Mapping):
        raise ConfigError("students: expected a mapping of student name -> variant settings and a teacher")
    students = _parse_students(raw_students, variants, presets)
    floors = _parse_floors(built["ci"].floors, {**variants, **students, **presets})
    built["ci"] = dataclasses.replace(built["ci"], floors=floors)
    if raw.get("bench") is not None:  # the defaults name variants a params file may not have
        _check_bench(built["bench"], variants)
    tune = None
    if raw.get("tune") is not None:
        key_types = {**scalar_keys(VariantConfig), **scalar_keys(AugmentConfig, "augment.")}
        for fixed in ("name", "architecture"):
            key_types.pop(fixed)
        raw_all = {**raw_presets, **raw_variants}

        def check(variant: str, settings: dict) -> None:
            _parse_variants({variant: settings}, "variants")

        tune = parse_tune(raw["tune"], raw_all, key_types, check)
    return Params(
        variants=types.MappingProxyType(variants),
        presets=types.MappingProxyType(presets),
        students=types.MappingProxyType(students),
        tune=tune,
        **built,
    )


def _check_bench(bench: BenchConfig, variants: Mapping[str, VariantConfig]) -> None:
    """The bench measures variants of the default run, named here, not in code."""
    for key, names in (
        ("racer", (bench.racer,)),
        ("published_twin", (bench.published_twin,)),
        ("determinism", bench.determinism),
    ):
        for variant in names:
            _require(
                variant in variants,
                f"bench.{key}",
                f"unknown variant {variant!r}{did_you_mean(variant, variants)}; known: {sorted(variants)}",
            )


def _parse_floors(raw: Any, known: Mapping[str, VariantConfig]) -> Mapping[str, float]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"ci.floors: expected a mapping of variant name -> test accuracy, got {raw!r}")
    check = next(f for f in dataclasses.fields(CIConfig) if f.name == "floors").metadata["check"]
    floors = {}
    for variant, value in raw.items():
        key = f"ci.floors.{name(variant)}"
        if variant not in known:
            raise ConfigError(f"{key}: unknown variant{did_you_mean(str(variant), known)}; known: {sorted(known)}")
        floors[variant] = check_type(key, value, float)
        check.check(key, floors[variant])
    return types.MappingProxyType(floors)


def _parse_students(
    raw: Mapping, variants: Mapping[str, VariantConfig], presets: Mapping[str, VariantConfig]
) -> dict[str, StudentConfig]:
    """Students: variant settings plus a teacher, which must be trained by the same `dvc repro`."""
    students = _parse_variants(raw, "students", StudentConfig)
    for student, settings in students.items():
        p = f"students.{student}"
        clash = "variants" if student in variants else "presets" if student in presets else ""
        _require(not clash, p, f"the name is taken under {clash}:; a student needs a name of its own")
        teachers = {**variants, **students}
        _require(bool(settings.teacher), f"{p}.teacher", "required: the variant whose trained model it learns from")
        _require(
            settings.teacher in teachers,
            f"{p}.teacher",
            f"unknown variant {settings.teacher!r}{did_you_mean(settings.teacher, teachers)}; "
            f"a teacher is a variant or student of this run, known: {sorted(teachers)}",
        )
        _require(
            settings.distill > 0 or settings.init_from == "teacher",
            p,
            "learns nothing from its teacher: set distill > 0 (distillation) or init_from: teacher (fine-tuning)",
        )
        teacher = teachers[settings.teacher]
        _require(
            settings.init_from != "teacher"
            or (settings.architecture, dict(settings.model)) == (teacher.architecture, dict(teacher.model)),
            f"{p}.init_from",
            f"fine-tuning needs the teacher's architecture and model ({teacher.architecture!r}, "
            f"{dict(teacher.model)}), got ({settings.architecture!r}, {dict(settings.model)})",
        )
        _require(
            not (settings.distill > 0 and settings.class_weights),
            f"{p}.class_weights",
            "distillation does not weight the loss by class; remove class_weights or set distill: 0",
        )
        seen, current = [student], settings.teacher  # a chain of students must end at a variant
        while current in students:
            _require(current not in seen, f"{p}.teacher", f"teachers form a cycle: {' -> '.join([*seen, current])}")
            seen.append(current)
            current = students[current].teacher
    return students


def _parse_variants(raw: Mapping, section: str, cls: type = VariantConfig) -> dict[str, Any]:
    variants = {}
    for variant, settings in raw.items():
        if not isinstance(variant, str) or not variant.replace("_", "").isalnum():
            raise ConfigError(f"{section}.{name(variant)}: variant names use letters, digits and '_' only")
        if settings is not None and not isinstance(settings, Mapping):
            raise ConfigError(f"{section}.{variant}: expected a mapping of settings, got {settings!r}")
        settings = dict(settings or {})
        architecture = settings.pop("architecture", variant)
        check_type(f"{section}.{variant}.architecture", architecture, str)
        parsed = build(cls, settings, f"{section}.{variant}", name=variant, architecture=architecture)
        _reject_ignored(parsed, set(settings), f"{section}.{variant}")
        variants[variant] = parsed
    return variants


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml; YAML syntax errors name the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}:{where}: YAML syntax error: {problem}") from None
    try:
        return parse_params(raw)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
