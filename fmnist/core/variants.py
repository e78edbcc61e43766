"""Variant, augmentation, student and ensemble settings: params.yaml's `variants:`, `presets:`,
`students:` and `ensembles:` entries, each key declared once with its default, description and
allowed values.

Rules that relate a variant's keys (settings its optimizer or schedule would ignore, a student's
teacher) sit beside them. `fmnist.core.config` assembles these into `Params`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fmnist.core.errors import ConfigError, did_you_mean
from fmnist.core.schema import FRACTION, NON_NEGATIVE, POSITIVE, OneOf, Range, build, check_type, empty, name, option
from fmnist.core.schema import require as _require

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "one_cycle")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
ERASING_FILLS = ("noise", "zero")
INIT_FROM = ("scratch", "teacher")
# dvc.yaml's ensemble stage declares each member's model as a dep, one line a member: DVC cannot
# take a params list as a stage's deps (treeverse/dvc#8171), so an ensemble has this many.
ENSEMBLE_MEMBERS = 3


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

    teacher: str = option("", "required: the variant, student or ensemble whose trained model this one learns from")
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


def reject_ignored(v: VariantConfig, given: set[str], p: str) -> None:
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


@dataclass(frozen=True)
class EnsembleConfig:
    """Trained variants whose predictions are averaged into one model, a teacher for students.
    Each member's model is a declared DVC dep of the ensemble's stage."""

    members: tuple[str, ...] = option(
        (), f"required: the {ENSEMBLE_MEMBERS} variants of this run whose predicted probabilities are averaged"
    )


def parse_ensembles(
    raw: Mapping, variants: Mapping[str, VariantConfig], presets: Mapping[str, VariantConfig]
) -> dict[str, EnsembleConfig]:
    """Ensembles: `<name>: {members: [a, b, c]}`, each member a variant `dvc repro` trains."""
    ensembles = {}
    for ensemble, settings in raw.items():
        p = f"ensembles.{name(ensemble)}"
        _require(isinstance(ensemble, str) and ensemble.replace("_", "").isalnum(), p, "names use letters, digits, '_'")
        clash = "variants" if ensemble in variants else "presets" if ensemble in presets else ""
        _require(not clash, p, f"the name is taken under {clash}:; an ensemble needs a name of its own")
        parsed = build(EnsembleConfig, settings, p)
        members = parsed.members
        _require(
            len(members) == ENSEMBLE_MEMBERS and len(set(members)) == len(members),
            f"{p}.members",
            f"expected {ENSEMBLE_MEMBERS} different variants, got {list(members)}",
        )
        for member in members:
            _require(
                member in variants,
                f"{p}.members",
                f"unknown variant {member!r}{did_you_mean(member, variants)}; a member is a variant of this run, "
                f"known: {sorted(variants)}",
            )
        ensembles[ensemble] = parsed
    return ensembles


def parse_students(
    raw: Mapping,
    variants: Mapping[str, VariantConfig],
    presets: Mapping[str, VariantConfig],
    ensembles: Mapping[str, EnsembleConfig] | None = None,
) -> dict[str, StudentConfig]:
    """Students: variant settings plus a teacher (a variant, a student or an ensemble), which must
    be trained by the same `dvc repro`."""
    students = parse_variants(raw, "students", StudentConfig)
    ensembles = ensembles or {}
    teachers = {**variants, **students}
    for student, settings in students.items():
        p = f"students.{student}"
        taken = {"variants": variants, "presets": presets, "ensembles": ensembles}
        clash = next((section for section, names in taken.items() if student in names), "")
        _require(not clash, p, f"the name is taken under {clash}:; a student needs a name of its own")
        _require(bool(settings.teacher), f"{p}.teacher", "required: the variant whose trained model it learns from")
        known = [*teachers, *ensembles]
        _require(
            settings.teacher in known,
            f"{p}.teacher",
            f"unknown variant {settings.teacher!r}{did_you_mean(settings.teacher, known)}; "
            f"a teacher is a variant, student or ensemble of this run, known: {sorted(known)}",
        )
        _require(
            settings.distill > 0 or settings.init_from == "teacher",
            p,
            "learns nothing from its teacher: set distill > 0 (distillation) or init_from: teacher (fine-tuning)",
        )
        _require(
            not (settings.distill > 0 and settings.class_weights),
            f"{p}.class_weights",
            "distillation does not weight the loss by class; remove class_weights or set distill: 0",
        )
        if settings.teacher in ensembles:
            _require(
                settings.init_from != "teacher",
                f"{p}.init_from",
                f"an ensemble ({settings.teacher!r}) has no weights of one model to start from; it teaches by "
                "distillation only (init_from: scratch, distill > 0)",
            )
            continue
        teacher = teachers[settings.teacher]
        _require(
            settings.init_from != "teacher"
            or (settings.architecture, dict(settings.model)) == (teacher.architecture, dict(teacher.model)),
            f"{p}.init_from",
            f"fine-tuning needs the teacher's architecture and model ({teacher.architecture!r}, "
            f"{dict(teacher.model)}), got ({settings.architecture!r}, {dict(settings.model)})",
        )
        seen, current = [student], settings.teacher  # a chain of students must end at a variant
        while current in students:
            _require(current not in seen, f"{p}.teacher", f"teachers form a cycle: {' -> '.join([*seen, current])}")
            seen.append(current)
            current = students[current].teacher
    return students


def parse_variants(raw: Mapping, section: str, cls: type = VariantConfig) -> dict[str, Any]:
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
        reject_ignored(parsed, set(settings), f"{section}.{variant}")
        variants[variant] = parsed
    return variants
