"""Property-based tests: any input either parses into valid arrays or raises the project's error."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmnist.core.config import parse_params
from fmnist.core.errors import ConfigError, DataError
from fmnist.data.formats import CSV_HEADER, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parse_csv, parse_idx, read_maybe_gzip
from tests.helpers import idx_bytes

HEADER = ",".join(CSV_HEADER) + "\n"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_valid(images: np.ndarray, labels: np.ndarray) -> None:
    assert images.dtype == np.uint8 and images.ndim == 3 and images.shape[1:] == (28, 28)
    assert labels.dtype == np.uint8 and len(labels) == len(images) and labels.max() <= 9


@FAST
@given(st.binary(max_size=3000))
def test_csv_any_bytes(payload):
    try:
        check_valid(*parse_csv(payload, "fuzz.csv"))
    except DataError as error:
        assert str(error).startswith("fuzz.csv")


@FAST
@given(st.binary(max_size=400))
def test_csv_any_body_after_a_valid_header(body):
    try:
        check_valid(*parse_csv(HEADER.encode() + body, "fuzz.csv"))
    except DataError as error:
        assert "\n" not in str(error)


@FAST
@given(st.lists(st.integers(-3, 300), min_size=783, max_size=787), st.sampled_from([",", ", ", ",,"]))
def test_csv_rows_near_the_valid_shape(cells, separator):
    row = separator.join(str(cell) for cell in cells)
    try:
        images, labels = parse_csv((HEADER + row + "\n").encode(), "row.csv")
        check_valid(images, labels)
        assert len(cells) == 785 and separator != ",,"
    except DataError as error:
        assert "row.csv: row 2" in str(error)


@FAST
@given(st.binary(max_size=2000), st.sampled_from([IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC]))
def test_idx_any_bytes(payload, magic):
    try:
        array = parse_idx(payload, "fuzz.idx", magic)
        assert array.dtype == np.uint8
    except DataError as error:
        assert str(error).startswith("fuzz.idx")


@FAST
@given(st.integers(0, 3), st.integers(0, 3), st.integers(-2, 2))
def test_idx_header_dimensions_must_match_payload(rows, cols, extra):
    payload = idx_bytes(np.zeros((rows, cols), np.uint8), 0x00000802)
    payload = payload[: len(payload) + extra] if extra < 0 else payload + b"\0" * extra
    try:
        assert parse_idx(payload, "f", 0x00000802).shape == (rows, cols)
        assert extra == 0 or (extra < 0 and rows * cols == 0 and len(payload) >= 12)
    except DataError:
        assert extra != 0


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5)
)
trees = st.recursive(scalars, lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@FAST
@given(trees)
def test_params_any_structure(raw):
    try:
        parse_params(raw)
    except ConfigError as error:
        assert "\n" not in str(error)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "epochs",
                "batch_size",
                "learning_rate",
                "optimizer",
                "schedule",
                "label_smoothing",
                "augment",
                "model",
                "seed",
            ]
        ),
        scalars,
        max_size=4,
    )
)
def test_params_any_variant_settings(settings_):
    raw = {"data": {}, "variants": {"v": settings_}}
    try:
        params = parse_params(raw)
        assert params.variant("v").epochs > 0
    except ConfigError as error:
        assert "variants.v" in str(error)


@FAST
@given(
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4),
    st.binary(max_size=64),
)
def test_idx_any_header_dimensions(dims, body):
    """Dimensions whose product passes 2**64 once wrapped to 0 in np.prod: an empty payload then
    passed the size check and numpy's ValueError escaped. Sizes are Python ints now."""
    header = (0x800 | len(dims)).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    try:
        array = parse_idx(header + body, "fuzz.idx", 0x800 | len(dims))
        assert array.shape == tuple(dims) and array.size == len(body)
    except DataError as error:
        assert str(error).startswith("fuzz.idx:") and "\n" not in str(error)
        if len(body) != math.prod(dims):
            assert f"need {math.prod(dims)}" in str(error)


def test_idx_dimensions_past_two_to_the_64_need_their_true_size():
    dims = (2**32 - 1, 2**32 - 1, 2**32 - 1)  # product ≈ 2**96; np.prod of these wraps
    header = (0x803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    with pytest.raises(DataError, match=rf"big.idx: IDX payload has 0 bytes, .* need {math.prod(dims)}$"):
        parse_idx(header, "big.idx", 0x803)


@FAST
@given(st.binary(max_size=2000))
def test_gzip_any_bytes(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("gz") / "fuzz.gz"
    path.write_bytes(b"\x1f\x8b" + body)
    try:
        read_maybe_gzip(path)
    except DataError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
