"""params.yaml -> frozen dataclasses, validated before any heavy work.

Each key is declared once, with its default, its description and its allowed values
(`option(...)`, fmnist/core/schema.py); a variant's keys live in fmnist/core/variants.py. An
unknown key fails with a "did you mean" hint, a wrong type or an out-of-range value with the
key's dotted path. Rules that relate keys sit beside their section. Nothing here imports
TensorFlow.
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
from fmnist.core.schema import NON_NEGATIVE, POSITIVE, OneOf, Range, build, check_type, empty, name, option
from fmnist.core.schema import require as _require
from fmnist.core.tuning import TuneConfig, parse_tune, scalar_keys
from fmnist.core.variants import (
    AugmentConfig,
    EnsembleConfig,
    StudentConfig,
    VariantConfig,
    parse_ensembles,
    parse_students,
    parse_variants,
)

STRATEGIES = ("auto", "single", "mirrored")


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
    ensembles: Mapping[str, EnsembleConfig] = field(default_factory=empty)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    ci: CIConfig = field(default_factory=CIConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    bench: BenchConfig = field(default_factory=BenchConfig)
    tune: TuneConfig | None = None  # None without a `tune:` section

    def variant(self, name: str) -> VariantConfig:
        """A variant, a student, or a preset (same settings, trained only on request). A preset
        copied into variants (`fmnist preset`) is the variant: its settings are the ones edited."""
        known = {**self.presets, **self.variants, **self.students}
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
        return "variants" if name in self.variants else "students" if name in self.students else "presets"

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
TOP_LEVEL = (*SECTIONS, "variants", "presets", "ensembles", "students", "tune")


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
    variants = parse_variants(raw_variants, "variants")
    presets = parse_variants(raw_presets, "presets")
    raw_students = raw.get("students") or {}
    if not isinstance(raw_students, Mapping):
        raise ConfigError("students: expected a mapping of student name -> variant settings and a teacher")
    raw_ensembles = raw.get("ensembles") or {}
    if not isinstance(raw_ensembles, Mapping):
        raise ConfigError("ensembles: expected a mapping of ensemble name -> members")
    ensembles = parse_ensembles(raw_ensembles, variants, presets)
    students = parse_students(raw_students, variants, presets, ensembles)
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
            parse_variants({variant: settings}, "variants")

        tune = parse_tune(raw["tune"], raw_all, key_types, check)
    return Params(
        variants=types.MappingProxyType(variants),
        presets=types.MappingProxyType(presets),
        students=types.MappingProxyType(students),
        ensembles=types.MappingProxyType(ensembles),
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
