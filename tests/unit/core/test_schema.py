from dataclasses import dataclass

import pytest

from fmnist.core.errors import ConfigError
from fmnist.core.schema import FRACTION, POSITIVE, OneOf, Range, allowed, build, option


@dataclass(frozen=True)
class Section:
    rate: float = option(0.1, "a rate", check=FRACTION)
    count: int = option(3, "a count", check=POSITIVE)
    kind: str = option("a", "a kind", check=OneOf(("a", "b")))
    pixels: int = option(0, "pixels", check=Range(0, 4, unit="pixels"))
    free: str = option("x", "no check")


def test_build_checks_types_and_ranges_with_the_dotted_key():
    assert build(Section, {"rate": 0, "count": 2}, "s") == Section(rate=0.0, count=2)
    cases = {
        "rate": (1.0, "s.rate: must be in [0, 1), got 1.0"),
        "count": (0, "s.count: must be > 0, got 0"),
        "kind": ("c", "s.kind: unknown 'c'"),
        "pixels": (5, "s.pixels: must be in [0, 4] pixels, got 5"),
    }
    for key, (value, message) in cases.items():
        with pytest.raises(ConfigError) as error:
            build(Section, {key: value}, "s")
        assert message in str(error.value)
    with pytest.raises(ConfigError, match=r"s.rte: unknown key \(did you mean 'rate'\?\)"):
        build(Section, {"rte": 0.2}, "s")


def test_the_docs_show_each_fields_allowed_values():
    import dataclasses

    shown = {field.name: allowed(field) for field in dataclasses.fields(Section)}
    assert shown == {"rate": "[0, 1)", "count": "> 0", "kind": "`a` `b`", "pixels": "[0, 4] pixels", "free": ""}
