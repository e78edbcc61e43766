"""params.yaml -> frozen dataclasses, validated before any heavy work.

Every key is checked: an unknown key fails with a "did you mean" hint, a wrong type or an
out-of-range value fails with the key's dotted path. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from fmnist.core.errors import ConfigError, did_you_mean

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "one_cycle")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("auto", "single", "mirrored")


def option(default: Any = dataclasses.MISSING, doc: str = "", *, factory: Any = dataclasses.MISSING) -> Any:
    """A params field and its one description: docs/experiments.md's options table is generated
    from these (`fmnist results --update-readme`), and a test keeps it in sync."""
    return field(default=default, default_factory=factory, metadata={"doc": doc})


def _empty() -> Mapping[str, Any]:
    return types.MappingProxyType({})


@dataclass(frozen=True)
class DataConfig:
    source: str = option(
        "auto", "`auto` (folder, then the Debian package, then download), `folder`, or an https:// base URL"
    )
    folder: str = option("data/external", "your own copy of the CSV/IDX files; a DVC dependency of `fetch`")
    val_fraction: float = option(0.1, "share of the training set held out (stratified) for validation")
    seed: int = option(42, "seed of the validation split")


@dataclass(frozen=True)
class AugmentConfig:
    rotation: float = option(0.0, "max degrees either way")
    shift: float = option(0.0, "max fraction of width/height, per image")
    zoom: float = option(0.0, "scale drawn from [1 - zoom, 1 + zoom]")
    shear: float = option(0.0, "max degrees either way")
    horizontal_flip: bool = option(False, "mirror half the images")
    erasing: float = option(0.0, "probability of erasing one random rectangle")

    @property
    def enabled(self) -> bool:
        return any((self.rotation, self.shift, self.zoom, self.shear, self.horizontal_flip, self.erasing))


@dataclass(frozen=True)
class VariantConfig:
    name: str = option(doc="the variant's key under `variants:` (set by the loader)")
    architecture: str = option(doc="a registered builder: `fmnist.train.models` (defaults to the variant's key)")
    model: Mapping[str, Any] = option(doc="keyword arguments of the builder, e.g. `{filters: 48}`", factory=_empty)
    epochs: int = option(10, "epochs to train; the best validation epoch is kept")
    batch_size: int = option(128, "images per step (per replica under `runtime.strategy: mirrored`)")
    optimizer: str = option("adam", "`adam`, `adamw`, `sgd` (Nesterov momentum) or `rmsprop`")
    learning_rate: float = option(1e-3, "peak learning rate of the schedule")
    weight_decay: float = option(0.0, "decoupled weight decay: `adamw`, `sgd`, `rmsprop` only")
    momentum: float = option(0.9, "`sgd` and `rmsprop` only")
    schedule: str = option("constant", "`constant`, `step`, `cosine` or `one_cycle`")
    warmup_epochs: float = option(0.0, "linear warm-up before `constant`, `step` or `cosine`")
    step_epochs: int = option(5, "`step` schedule: epochs between decays")
    step_factor: float = option(0.5, "`step` schedule: factor of each decay")
    early_stopping_patience: int = option(
        0, "stop after this many epochs without a better validation accuracy; 0 runs all"
    )
    label_smoothing: float = option(0.0, "label smoothing of the cross-entropy loss")
    ema_momentum: float = option(0.0, "> 0: validate, select and keep an exponential moving average of the weights")
    precision: str = option(
        "float32",
        "`auto` (bf16 where the CPU runs it natively and a probe finds it faster, else float32), `float32`, "
        "`mixed_bfloat16` (AMX/AVX512-BF16 CPUs, TPUs) or `mixed_float16` (GPUs)",
    )
    class_weights: bool = option(False, "weight the loss by inverse class frequency")
    seed: int = option(42, "seed of initialisation, shuffling and augmentation")
    augment: AugmentConfig = field(
        default_factory=AugmentConfig, metadata={"doc": "augmentation, see `augment.*`; `{}` for none"}
    )


@dataclass(frozen=True)
class RuntimeConfig:
    deterministic: bool = option(True, "TensorFlow op determinism: same params and machine give the same metrics")
    strategy: str = option(
        "auto",
        "`auto` (MirroredStrategy when more than one GPU is visible), `single`, or `mirrored` "
        "(every GPU, or without GPUs every logical CPU device)",
    )


@dataclass(frozen=True)
class EvaluateConfig:
    batch_size: int = option(1024, "images per prediction batch")
    samples: int = option(25, "images in predictions.png and misclassified.png")
    tta_flip: bool = option(True, "average with the mirror image, for variants trained with flips")
    tta_shift: int = option(
        0,
        "pixels; > 0: also average over the image moved this far down-right and up-left "
        "(weights 1/2, 1/4, 1/4), for variants trained with shifts",
    )


@dataclass(frozen=True)
class CompareConfig:
    ensemble_size: int = option(3, "most members the validation-greedy ensemble may take")


@dataclass(frozen=True)
class ExportConfig:
    representative_samples: int = option(500, "training images that calibrate int8 quantization")
    latency_runs: int = option(200, "single-image predictions timed (the median is reported)")
    batch_size: int = option(256, "batch of the throughput measurement")
    max_int8_drop: float = option(0.5, "percentage points of accuracy int8 may lose against float32")


@dataclass(frozen=True)
class CIConfig:
    max_accuracy_drop: float = option(0.3, "percentage points `fmnist gate` allows against the base revision")
    # Kept out of `variants:` so that moving a floor does not re-train the variant (train stages
    # depend on their variant's section).
    floors: Mapping[str, float] = option(doc="variant -> test accuracy `fmnist gate` requires", factory=_empty)


@dataclass(frozen=True)
class Params:
    data: DataConfig
    variants: Mapping[str, VariantConfig]
    presets: Mapping[str, VariantConfig] = field(default_factory=_empty)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    ci: CIConfig = field(default_factory=CIConfig)
    export: ExportConfig = field(default_factory=ExportConfig)

    def variant(self, name: str) -> VariantConfig:
        """A variant, or a preset (same settings, trained only on request)."""
        known = {**self.variants, **self.presets}
        if name not in known:
            raise ConfigError(f"unknown variant {name!r}{did_you_mean(name, known)}; known: {sorted(known)}")
        return known[name]

    def flip_tta(self, name: str) -> bool:
        """Mirror test-time augmentation applies only to variants trained with horizontal flips."""
        return self.evaluate.tta_flip and self.variant(name).augment.horizontal_flip

    def shift_tta(self, name: str) -> int:
        """Shift test-time augmentation (pixels) applies only to variants trained with shifts."""
        return self.evaluate.tta_shift if self.variant(name).augment.shift > 0 else 0


def _name(key: Any) -> str:
    """A key as it can be shown on one line (odd keys, e.g. with newlines, are quoted)."""
    text = str(key)
    return text if text.replace("_", "").replace("-", "").isalnum() else repr(key)


def _check_type(key: str, value: Any, expected: type) -> Any:
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def _build(cls, raw: Any, prefix: str, **fixed: Any):
    """Build dataclass `cls` from mapping `raw`, checking every key and scalar type."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{prefix}: expected a mapping, got {raw!r}")
    hints = get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.name not in fixed]
    values: dict[str, Any] = dict(fixed)
    for key, value in raw.items():
        dotted = f"{prefix}.{_name(key)}"
        if key not in known:
            raise ConfigError(f"{dotted}: unknown key{did_you_mean(str(key), known)}; expected one of {known}")
        expected = hints[key]
        if expected is AugmentConfig:
            values[key] = _build(AugmentConfig, value, dotted)
        elif key == "model":
            if not isinstance(value, Mapping):
                raise ConfigError(f"{dotted}: expected a mapping of builder arguments, got {value!r}")
            values[key] = types.MappingProxyType({k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
        else:
            values[key] = _check_type(dotted, value, expected)
    return cls(**values)


def _require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


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


def _validate_variant(v: VariantConfig, section: str = "variants") -> None:
    p = f"{section}.{v.name}"
    _require(v.epochs > 0, f"{p}.epochs", f"must be > 0, got {v.epochs}")
    _require(v.batch_size > 0, f"{p}.batch_size", f"must be > 0, got {v.batch_size}")
    _require(v.learning_rate > 0, f"{p}.learning_rate", f"must be > 0, got {v.learning_rate}")
    _require(v.weight_decay >= 0, f"{p}.weight_decay", f"must be >= 0, got {v.weight_decay}")
    _require(0 <= v.momentum < 1, f"{p}.momentum", f"must be in [0, 1), got {v.momentum}")
    _require(
        v.optimizer in OPTIMIZERS,
        f"{p}.optimizer",
        f"unknown {v.optimizer!r}{did_you_mean(v.optimizer, OPTIMIZERS)}; expected one of {list(OPTIMIZERS)}",
    )
    _require(
        v.schedule in SCHEDULES,
        f"{p}.schedule",
        f"unknown {v.schedule!r}{did_you_mean(v.schedule, SCHEDULES)}; expected one of {list(SCHEDULES)}",
    )
    _require(0 <= v.warmup_epochs < v.epochs, f"{p}.warmup_epochs", f"must be in [0, epochs), got {v.warmup_epochs}")
    _require(v.step_epochs > 0, f"{p}.step_epochs", f"must be > 0, got {v.step_epochs}")
    _require(0 < v.step_factor <= 1, f"{p}.step_factor", f"must be in (0, 1], got {v.step_factor}")
    _require(v.early_stopping_patience >= 0, f"{p}.early_stopping_patience", "must be >= 0")
    _require(0 <= v.label_smoothing < 1, f"{p}.label_smoothing", f"must be in [0, 1), got {v.label_smoothing}")
    _require(
        v.precision in PRECISIONS,
        f"{p}.precision",
        f"unknown {v.precision!r}{did_you_mean(v.precision, PRECISIONS)}; expected one of {list(PRECISIONS)}",
    )
    _require(0 <= v.ema_momentum < 1, f"{p}.ema_momentum", f"must be in [0, 1), got {v.ema_momentum}")
    a = v.augment
    _require(0 <= a.rotation <= 180, f"{p}.augment.rotation", f"must be in [0, 180] degrees, got {a.rotation}")
    _require(0 <= a.shift < 0.5, f"{p}.augment.shift", f"must be in [0, 0.5), got {a.shift}")
    _require(0 <= a.zoom < 1, f"{p}.augment.zoom", f"must be in [0, 1), got {a.zoom}")
    _require(0 <= a.shear < 60, f"{p}.augment.shear", f"must be in [0, 60) degrees, got {a.shear}")
    _require(0 <= a.erasing <= 1, f"{p}.augment.erasing", f"must be a probability in [0, 1], got {a.erasing}")


def parse_params(raw: Any) -> Params:
    """Validate a params mapping (as loaded from YAML) and return frozen dataclasses."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"params: expected a mapping at the top level, got {type(raw).__name__}")
    sections = {
        "data": DataConfig,
        "runtime": RuntimeConfig,
        "evaluate": EvaluateConfig,
        "compare": CompareConfig,
        "ci": CIConfig,
        "export": ExportConfig,
    }
    for key in raw:
        if key not in (*sections, "variants", "presets"):
            top = [*sections, "variants", "presets"]
            raise ConfigError(f"{_name(key)}: unknown top-level key{did_you_mean(str(key), top)}")
    built = {key: _build(cls, raw.get(key), key) for key, cls in sections.items()}
    data: DataConfig = built["data"]
    _require(0 < data.val_fraction <= 0.5, "data.val_fraction", f"must be in (0, 0.5], got {data.val_fraction}")
    _require(
        data.source in ("auto", "folder") or data.source.startswith("https://"),
        "data.source",
        f"expected 'auto', 'folder' or an https:// base URL, got {data.source!r} (a folder goes in data.folder)",
    )
    _require(bool(data.folder.strip()), "data.folder", "must not be empty")
    strategy = built["runtime"].strategy
    _require(
        strategy in STRATEGIES,
        "runtime.strategy",
        f"unknown {strategy!r}{did_you_mean(strategy, STRATEGIES)}; expected one of {list(STRATEGIES)}",
    )
    _require(built["evaluate"].batch_size > 0, "evaluate.batch_size", "must be > 0")
    _require(1 <= built["evaluate"].samples <= 100, "evaluate.samples", "must be in [1, 100]")
    _require(0 <= built["evaluate"].tta_shift <= 4, "evaluate.tta_shift", "must be in [0, 4] pixels")
    _require(built["compare"].ensemble_size >= 1, "compare.ensemble_size", "must be >= 1")
    _require(built["ci"].max_accuracy_drop >= 0, "ci.max_accuracy_drop", "must be >= 0")
    export: ExportConfig = built["export"]
    _require(export.representative_samples >= 1, "export.representative_samples", "must be >= 1")
    _require(export.latency_runs >= 1, "export.latency_runs", "must be >= 1")
    _require(export.batch_size >= 1, "export.batch_size", "must be >= 1")
    _require(export.max_int8_drop >= 0, "export.max_int8_drop", "must be >= 0")

    raw_variants = raw.get("variants")
    if not isinstance(raw_variants, Mapping) or not raw_variants:
        raise ConfigError("variants: expected a non-empty mapping of variant name -> settings")
    raw_presets = raw.get("presets") or {}
    if not isinstance(raw_presets, Mapping):
        raise ConfigError("presets: expected a mapping of preset name -> variant settings")
    variants = _parse_variants(raw_variants, "variants")
    presets = _parse_variants(raw_presets, "presets")
    floors = _parse_floors(built["ci"].floors, {**variants, **presets})
    built["ci"] = dataclasses.replace(built["ci"], floors=floors)
    return Params(variants=types.MappingProxyType(variants), presets=types.MappingProxyType(presets), **built)


def _parse_floors(raw: Any, known: Mapping[str, VariantConfig]) -> Mapping[str, float]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"ci.floors: expected a mapping of variant name -> test accuracy, got {raw!r}")
    floors = {}
    for name, value in raw.items():
        key = f"ci.floors.{_name(name)}"
        if name not in known:
            raise ConfigError(f"{key}: unknown variant{did_you_mean(str(name), known)}; known: {sorted(known)}")
        floors[name] = _check_type(key, value, float)
        _require(0 <= floors[name] <= 1, key, f"must be a fraction in [0, 1], got {value}")
    return types.MappingProxyType(floors)


def _parse_variants(raw: Mapping, section: str) -> dict[str, VariantConfig]:
    variants = {}
    for name, settings in raw.items():
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise ConfigError(f"{section}.{_name(name)}: variant names use letters, digits and '_' only")
        if settings is not None and not isinstance(settings, Mapping):
            raise ConfigError(f"{section}.{name}: expected a mapping of settings, got {settings!r}")
        settings = dict(settings or {})
        architecture = settings.pop("architecture", name)
        _check_type(f"{section}.{name}.architecture", architecture, str)
        variant = _build(VariantConfig, settings, f"{section}.{name}", name=name, architecture=architecture)
        _validate_variant(variant, section)
        _reject_ignored(variant, set(settings), f"{section}.{name}")
        variants[name] = variant
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
