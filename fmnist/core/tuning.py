"""params.yaml's `tune:` section: the search space of `fmnist tune` (an Optuna study).

Each key of `space` is a variant key (dotted for augmentation, e.g. `augment.shift`) and gets a
distribution: `{low, high}` (with optional `log: true` or `step`), or `{choices: [...]}`. Whether
it draws floats or integers follows the key's own type. Every bound and choice must be a value the
variant accepts: it is checked by building the variant with it, so a range that would reach
`weight_decay` on Adam, or a batch size of 0, fails here, before any trial runs.
"""

from __future__ import annotations

import copy
import itertools
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, get_type_hints

from fmnist.core.errors import ConfigError, did_you_mean
from fmnist.core.schema import NON_NEGATIVE, POSITIVE, OneOf, build, check_type, empty, name, option, require

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")


@dataclass(frozen=True)
class Distribution:
    """One key's search range: floats or integers from low to high, or a list of choices."""

    key: str
    kind: str  # "float", "int" or "categorical"
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple = ()


@dataclass(frozen=True)
class TuneConfig:
    variant: str = option("champion_fast", "variant whose keys the study searches (`--variant` overrides)")
    trials: int = option(20, "trials per worker (`--trials`)", check=POSITIVE)
    timeout_minutes: float = option(0.0, "stop starting trials after this long; 0: no limit", check=NON_NEGATIVE)
    sampler: str = option(
        "tpe", "`tpe` (default), `random` or `grid` (every key needs `choices` or `step`)", check=OneOf(SAMPLERS)
    )
    pruner: str = option(
        "median", "`median`, `hyperband` or `none`: stops weak trials on their epoch curve", check=OneOf(PRUNERS)
    )
    seed: int = option(0, "seed of the sampler")
    space: Mapping[str, Distribution] = option(
        doc="variant key -> `{low, high[, log, step]}` or `{choices}`", factory=empty
    )


def scalar_keys(cls: type, prefix: str = "") -> dict[str, type]:
    """The keys of dataclass `cls` that hold a bool, int, float or str, with their types."""
    hints = get_type_hints(cls)
    return {prefix + f.name: hints[f.name] for f in fields(cls) if hints[f.name] in (int, float, str, bool)}


def _key_type(key: str, key_types: Mapping[str, type]) -> type:
    if key not in key_types:
        shown = key if key.replace(".", "").replace("_", "").isalnum() else repr(key)
        known = list(key_types)
        raise ConfigError(f"tune.space.{shown}: not a variant key{did_you_mean(key, known)}; expected one of {known}")
    return key_types[key]


def _distribution(key: str, raw: Any, kind: type) -> Distribution:
    where = f"tune.space.{key}"
    require(isinstance(raw, Mapping), where, f"expected {{low, high}} or {{choices: [...]}}, got {raw!r}")
    allowed = {"choices"} if "choices" in raw else {"low", "high", "log", "step"}
    for extra in set(raw) - allowed:
        raise ConfigError(f"{where}.{name(extra)}: unknown key; expected one of {sorted(allowed)}")
    if "choices" in raw:
        choices = raw["choices"]
        require(
            isinstance(choices, list) and len(choices) > 0,
            f"{where}.choices",
            f"expected a non-empty list, got {choices!r}",
        )
        values = tuple(check_type(f"{where}.choices[{i}]", value, kind) for i, value in enumerate(choices))
        require(len(set(values)) == len(values), f"{where}.choices", "lists a value twice")
        return Distribution(key, "categorical", choices=values)
    require(kind in (int, float), where, f"a {kind.__name__} key takes {{choices: [...]}}, not a range")
    for bound in ("low", "high"):
        require(bound in raw, f"{where}.{bound}", "missing (a range needs low and high)")
    low, high = (check_type(f"{where}.{bound}", raw[bound], kind) for bound in ("low", "high"))
    require(low < high, where, f"low must be below high, got low={low!r}, high={high!r}")
    log = check_type(f"{where}.log", raw.get("log", False), bool)
    require(not log or low > 0, f"{where}.log", f"a log range needs low > 0, got {low!r}")
    step = raw.get("step")
    if step is not None:
        step = check_type(f"{where}.step", step, kind)
        require(step > 0, f"{where}.step", f"must be > 0, got {step!r}")
        require(not log, f"{where}.step", "takes no step with log: true (Optuna allows one or the other)")
    return Distribution(key, kind.__name__, low=low, high=high, log=log, step=step)


COMBINATIONS_CHECKED = 512  # corners of the space built and validated together, at most


def _with_values(raw_settings: Any, values: Mapping[str, Any]) -> dict:
    """A copy of a variant's raw settings with dotted `values` set (parents created)."""
    settings = copy.deepcopy(dict(raw_settings or {}))
    for key, value in values.items():
        node = settings
        *parents, leaf = key.split(".")
        for parent in parents:
            if not isinstance(node.get(parent), Mapping):
                node[parent] = {}
            node = node[parent] = dict(node[parent])
        node[leaf] = value
    return settings


def _check_combinations(space: Mapping[str, Distribution], raw_settings: Any, variant: str, check_variant) -> None:
    """Keys valid alone may clash together (adam with weight decay, warm-up as long as training):
    build the variant at the corners of the space (every choice, each range's ends)."""
    corners = [[(key, v) for v in (d.choices or (d.low, d.high))] for key, d in space.items()]
    for combination in itertools.islice(itertools.product(*corners), COMBINATIONS_CHECKED):
        values = dict(combination)
        try:
            check_variant(variant, _with_values(raw_settings, values))
        except ConfigError as error:
            shown = ", ".join(f"{key}={value!r}" for key, value in values.items())
            raise ConfigError(f"tune.space: {shown} together are not allowed for {variant}: {error}") from None


def parse_tune(
    raw: Any, raw_variants: Mapping[str, Any], key_types: Mapping[str, type], check_variant: Callable[[str, dict], Any]
) -> TuneConfig:
    """The `tune:` section. `key_types` maps each tunable variant key to its type; each bound and
    choice is checked by `check_variant(name, settings)` (the variant parser) on the variant's
    raw settings with that one value set."""
    require(isinstance(raw, Mapping), "tune", f"expected a mapping, got {raw!r}")
    raw = dict(raw)
    raw_space = raw.pop("space", None) or {}
    tune = build(TuneConfig, raw, "tune")
    require(
        tune.variant in raw_variants,
        "tune.variant",
        f"unknown variant {tune.variant!r}{did_you_mean(tune.variant, raw_variants)}; known: {sorted(raw_variants)}",
    )
    require(
        isinstance(raw_space, Mapping) and raw_space,
        "tune.space",
        "expected a non-empty mapping of variant key -> range",
    )
    space = {}
    for key, spec in raw_space.items():
        key = str(key)
        distribution = _distribution(key, spec, _key_type(key, key_types))
        values = distribution.choices or (distribution.low, distribution.high)
        for value in values:
            try:
                check_variant(tune.variant, _with_values(raw_variants[tune.variant], {key: value}))
            except ConfigError as error:
                raise ConfigError(f"tune.space.{key}: {value!r} is not allowed for {tune.variant}: {error}") from None
        space[key] = distribution
    _check_combinations(space, raw_variants[tune.variant], tune.variant, check_variant)
    if tune.sampler == "grid":
        for key, distribution in space.items():
            require(
                distribution.kind == "categorical" or distribution.step is not None,
                f"tune.space.{key}",
                "the grid sampler needs choices or a step",
            )
    return TuneConfig(
        **{**{f.name: getattr(tune, f.name) for f in fields(TuneConfig)}, "space": types.MappingProxyType(space)}
    )
