"""The machinery of params.yaml's schema: a field declares its default, its description and its
allowed values in one `option(...)`, and `build` turns a mapping into the frozen dataclass,
checking every key, type and range on the way with the key's dotted path in the message.

Rules that relate two keys (warm-up shorter than training, settings an optimizer would ignore)
stay with their section in fmnist/core/config.py. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from fmnist.core.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Range:
    """Numbers from `low` to `high` (either may be open, or None for no bound)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    unit: str = ""
    what: str = ""  # e.g. "a probability": "must be a probability in [0, 1]"

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {_number(self.low)}{unit}"
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        low = "-inf" if self.low is None else _number(self.low)
        return f"{left}{low}, {_number(self.high)}{right}{unit}"

    def check(self, key: str, value: Any) -> None:
        # Written as "inside", so that NaN (never inside) fails rather than slipping through.
        above_low = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below_high = self.high is None or (value < self.high if self.high_open else value <= self.high)
        if not (above_low and below_high):
            what = f"{self.what} " if self.what else ""
            where = f"in {self.describe()}" if self.high is not None else self.describe()
            raise ConfigError(f"{key}: must be {what}{where}, got {value!r}")


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of strings."""

    choices: tuple[str, ...]

    def describe(self) -> str:
        return " ".join(f"`{choice}`" for choice in self.choices)

    def check(self, key: str, value: Any) -> None:
        if value not in self.choices:
            hint = did_you_mean(str(value), self.choices)
            raise ConfigError(f"{key}: unknown {value!r}{hint}; expected one of {list(self.choices)}")


POSITIVE = Range(0, low_open=True)
NON_NEGATIVE = Range(0)
FRACTION = Range(0, 1, high_open=True)  # [0, 1)


def _number(value: float | None) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def option(
    default: Any = dataclasses.MISSING,
    doc: str = "",
    *,
    check: Range | OneOf | None = None,
    factory: Any = dataclasses.MISSING,
) -> Any:
    """A params field: its default, its one description and its allowed values. The options table
    in docs/experiments.md is generated from these (`fmnist results --update-readme`)."""
    return field(default=default, default_factory=factory, metadata={"doc": doc, "check": check})


def allowed(option_field: dataclasses.Field) -> str:
    """The allowed values of a field as the docs show them ("" when only the type limits it)."""
    check = option_field.metadata.get("check")
    return check.describe() if check else ""


def empty() -> Mapping[str, Any]:
    return types.MappingProxyType({})


def name(key: Any) -> str:
    """A key as it can be shown on one line (odd keys, e.g. with newlines, are quoted)."""
    text = str(key)
    return text if text.replace("_", "").replace("-", "").isalnum() else repr(key)


def require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")


def check_type(key: str, value: Any, expected: Any) -> Any:
    """`value` as type `expected` (bool, int, float, str, or a tuple of str), or a ConfigError."""
    if expected is bool:
        require(isinstance(value, bool), key, f"expected true or false, got {value!r}")
    elif expected is int:
        require(isinstance(value, int) and not isinstance(value, bool), key, f"expected an integer, got {value!r}")
    elif expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        require(ok, key, f"expected a number, got {value!r}")
        return float(value)
    elif expected is str:
        require(isinstance(value, str), key, f"expected a string, got {value!r}")
    elif expected == tuple[str, ...]:
        ok = isinstance(value, Sequence) and not isinstance(value, str) and all(isinstance(v, str) for v in value)
        require(ok, key, f"expected a list of names, got {value!r}")
        return tuple(value)
    return value


def build(cls, raw: Any, prefix: str, **fixed: Any):
    """Dataclass `cls` from mapping `raw`: unknown keys, wrong types and values outside a field's
    `check` fail with the dotted key. Nested dataclass fields are built the same way."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{prefix}: expected a mapping, got {raw!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in fixed}
    values: dict[str, Any] = dict(fixed)
    for key, value in raw.items():
        dotted = f"{prefix}.{name(key)}"
        if key not in fields:
            known = list(fields)
            raise ConfigError(f"{dotted}: unknown key{did_you_mean(str(key), known)}; expected one of {known}")
        expected = hints[key]
        if dataclasses.is_dataclass(expected):
            values[key] = build(expected, value, dotted)
            continue
        if expected == Mapping[str, Any]:  # builder arguments: free-form, lists become tuples
            require(isinstance(value, Mapping), dotted, f"expected a mapping of builder arguments, got {value!r}")
            values[key] = types.MappingProxyType({k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
            continue
        values[key] = check_type(dotted, value, expected)
        check = fields[key].metadata.get("check")
        if check is not None and expected in (int, float, str):  # a mapping's check is for its values
            check.check(dotted, values[key])
    return cls(**values)
