import gzip
from pathlib import Path

import numpy as np
import pytest

from fmnist.core.errors import DataError
from fmnist.data.formats import (
    CSV_HEADER,
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    parse_csv,
    parse_idx,
    read_csv,
    read_idx_pair,
    write_csv,
)
from tests.helpers import idx_bytes

SYSTEM = Path("/usr/share/datasets/fashion-mnist")


def small_csv(rows: int = 3, text: str | None = None) -> str:
    header = ",".join(CSV_HEADER)
    lines = [f"{i % 10}," + ",".join(str((i + j) % 256) for j in range(784)) for i in range(rows)]
    return header + "\n" + "\n".join(lines) + "\n"


def test_csv_roundtrip(tmp_path, fixture_train):
    images, labels = fixture_train
    assert images.shape == (500, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [50] * 10
    write_csv(tmp_path / "out.csv", images, labels)
    again_images, again_labels = read_csv(tmp_path / "out.csv")
    np.testing.assert_array_equal(again_images, images)
    np.testing.assert_array_equal(again_labels, labels)


@pytest.mark.parametrize(
    "transform",
    [
        lambda t: t.replace("\n", "\r\n"),  # CRLF
        lambda t: "\ufeff" + t,  # UTF-8 byte-order mark
        lambda t: t.replace(",", ", "),  # whitespace after separators
    ],
    ids=["crlf", "bom", "spaces"],
)
def test_csv_accepts_harmless_variations(transform):
    images, labels = parse_csv(transform(small_csv()).encode(), "x.csv")
    expected_images, expected_labels = parse_csv(small_csv().encode(), "x.csv")
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_csv_gz(tmp_path):
    path = tmp_path / "train.csv.gz"
    path.write_bytes(gzip.compress(small_csv().encode()))
    images, labels = read_csv(path)
    assert images.shape == (3, 28, 28) and labels.tolist() == [0, 1, 2]


def replace_cell(text: str, row: int, column: int, value: str) -> str:
    lines = text.split("\n")
    cells = lines[row - 1].split(",")
    cells[column] = value
    lines[row - 1] = ",".join(cells)
    return "\n".join(lines)


def drop_last_cell(text: str, row: int) -> str:
    lines = text.split("\n")
    lines[row - 1] = lines[row - 1].rsplit(",", 1)[0]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: "", "empty file"),
        (lambda t: t.split("\n")[0] + "\n", "header only"),
        (lambda t: t.replace("label,", "lbl,", 1), "row 1: header"),
        (lambda t: replace_cell(t, 3, 5, "x"), "row 3, column pixel5: 'x', expected an integer pixel 0-255"),
        (lambda t: replace_cell(t, 2, 1, "0.5"), "row 2, column pixel1: '0.5'"),
        (lambda t: replace_cell(t, 4, 784, "256"), "row 4, column pixel784: '256'"),
        (lambda t: replace_cell(t, 2, 10, "-1"), "row 2, column pixel10: '-1'"),
        (lambda t: replace_cell(t, 3, 0, "10"), "row 3, column label: '10', expected a label 0-9"),
        (lambda t: replace_cell(t, 3, 0, "Bag"), "row 3, column label: 'Bag'"),
        (lambda t: replace_cell(t, 2, 7, ""), "row 2, column pixel7: blank cell"),
        (lambda t: replace_cell(t, 2, 784, "1,2"), "row 2: 786 columns, expected 785"),
        (lambda t: drop_last_cell(t, 3), "row 3: 784 columns, expected 785"),
        (lambda t: replace_cell(t, 2, 0, "-1"), "row 2, column label: '-1', expected a label 0-9"),
        (lambda t: replace_cell(t, 4, 0, ""), "row 4, column label: blank cell"),
        (lambda t: replace_cell(t, 3, 300, "1e2"), "row 3, column pixel300: '1e2'"),
        (lambda t: t + t.split("\n")[0] + "\n", "row 6, column label: 'label', expected a label 0-9"),
        (lambda t: t.replace("\n", "\n\n", 2).replace("\n\n", "\n", 1), "row 3: blank line"),
        (lambda t: "label\n1\n", "row 1: header is 'label' (1 columns)"),
        (lambda t: t.split("\n", 1)[1], "row 1: header is"),
    ],
    ids=[
        "empty",
        "header-only",
        "bad-header",
        "text",
        "float",
        "256",
        "negative",
        "label-10",
        "label-name",
        "blank",
        "786-columns",
        "784-columns",
        "label-negative",
        "label-blank",
        "exponent",
        "header-mid-file",
        "blank-line",
        "one-column",
        "no-header",
    ],
)
def test_csv_errors_name_row_and_column(mutate, message):
    with pytest.raises(DataError) as error:
        parse_csv(mutate(small_csv(4)).encode(), "bad.csv")
    text = str(error.value)
    assert text.startswith("bad.csv") and message in text and "\n" not in text


def test_missing_csv_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_csv(tmp_path / "nope.csv")


def test_idx_pair_reads_and_checks(tmp_path):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    (tmp_path / "i.gz").write_bytes(gzip.compress(idx_bytes(images, IDX_IMAGES_MAGIC)))
    (tmp_path / "l.gz").write_bytes(gzip.compress(idx_bytes(np.array([3, 9]), IDX_LABELS_MAGIC)))
    x, y = read_idx_pair(tmp_path / "i.gz", tmp_path / "l.gz")
    assert x.shape == (2, 28, 28) and y.tolist() == [3, 9]
    np.testing.assert_array_equal(x, images)
    with pytest.raises(DataError, match="SHA-256"):
        read_idx_pair(tmp_path / "i.gz", tmp_path / "l.gz", {"i.gz": "0" * 64})
    (tmp_path / "l3.gz").write_bytes(gzip.compress(idx_bytes(np.array([3, 9, 1]), IDX_LABELS_MAGIC)))
    with pytest.raises(DataError, match="3 labels for 2 images"):
        read_idx_pair(tmp_path / "i.gz", tmp_path / "l3.gz")


def test_idx_errors():
    good = idx_bytes(np.zeros((2, 28, 28)), IDX_IMAGES_MAGIC)
    with pytest.raises(DataError, match="magic number"):
        parse_idx(good, "f", IDX_LABELS_MAGIC)
    with pytest.raises(DataError, match="payload has"):
        parse_idx(good[:-5], "f", IDX_IMAGES_MAGIC)


@pytest.mark.skipif(not SYSTEM.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_real_idx_archives_match_known_checksums():
    from fmnist.data.sources import IDX_SHA256

    x, y = read_idx_pair(SYSTEM / "t10k-images-idx3-ubyte.gz", SYSTEM / "t10k-labels-idx1-ubyte.gz", IDX_SHA256)
    assert x.shape == (10000, 28, 28)
    assert np.bincount(y).tolist() == [1000] * 10


def test_truncated_csv_gz_is_reported(tmp_path):
    path = tmp_path / "train.csv.gz"
    data = gzip.compress(small_csv(20).encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"train\.csv\.gz: corrupt or truncated gzip data"):
        read_csv(path)


def test_csv_that_is_binary_is_reported():
    with pytest.raises(DataError, match=r"x\.csv: byte 0: not UTF-8 text"):
        parse_csv(b"\xff\xfe\x00label", "x.csv")


def test_gzip_bomb_is_refused_and_multi_member_gzip_reads(tmp_path):
    from fmnist.data.formats import gunzip_capped

    bomb = gzip.compress(b"0" * 5_000_000)
    assert len(bomb) < 10_000
    with pytest.raises(DataError, match="decompresses to more than 1000000 bytes"):
        gunzip_capped(bomb, "bomb.csv.gz", limit=1_000_000)
    assert gunzip_capped(gzip.compress(b"ab") + gzip.compress(b"cd"), "two.gz") == b"abcd"
    with pytest.raises(DataError, match="truncated"):
        gunzip_capped(gzip.compress(b"abcdef" * 100)[:-12], "cut.gz")


def test_stray_carriage_return_is_a_one_line_error():
    text = small_csv(2).replace("\n", "\n0,\r1\n", 1)
    with pytest.raises(DataError, match=r"bad\.csv: row 2"):
        parse_csv(text.encode(), "bad.csv")
