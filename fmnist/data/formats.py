"""Fashion-MNIST file formats: Zalando/Kaggle CSV and the official IDX archives.

Readers validate everything and raise DataError naming the file, row and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
import zlib
from pathlib import Path

import numpy as np

from fmnist import CLASS_NAMES, IMAGE_SIZE, NUM_CLASSES
from fmnist.core.errors import DataError
from fmnist.core.io import write_bytes

PIXELS = IMAGE_SIZE * IMAGE_SIZE
CSV_HEADER = ["label", *(f"pixel{i}" for i in range(1, PIXELS + 1))]
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
# Far above the real data (the train CSV is ~130 MB, its IDX ~47 MB): stops gzip bombs.
MAX_DECOMPRESSED_BYTES = 1 << 30


def gunzip_capped(raw: bytes, name: str, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Decompress (possibly multi-member) gzip data, refusing to expand beyond `limit` bytes."""
    out, size = [], 0
    while raw:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(raw, limit - size + 1)
        except zlib.error as error:
            raise DataError(f"{name}: corrupt or truncated gzip data ({error})") from None
        size += len(chunk)
        if size > limit:
            raise DataError(f"{name}: decompresses to more than {limit} bytes; refusing (a gzip bomb?)")
        if not inflater.eof:
            raise DataError(f"{name}: corrupt or truncated gzip data (stream ends early)")
        out.append(chunk)
        raw = inflater.unused_data.lstrip(b"\x00")  # gzip allows zero padding between members
    return b"".join(out)


def read_maybe_gzip(path: str | os.PathLike) -> bytes:
    """Return the (decompressed) bytes of a file; .gz files are detected by their magic bytes."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: expected a file, found a folder") from None
    if raw[:2] == b"\x1f\x8b":
        return gunzip_capped(raw, str(path))
    return raw


# ---------------------------------------------------------------- IDX


def parse_idx(payload: bytes, name: str, expected_magic: int) -> np.ndarray:
    """Parse IDX bytes (ubyte only) into an array of the shape the header declares."""
    if len(payload) < 4:
        raise DataError(f"{name}: too short for an IDX header ({len(payload)} bytes)")
    magic = int.from_bytes(payload[:4], "big")
    if magic != expected_magic:
        raise DataError(f"{name}: IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DataError(f"{name}: truncated IDX header")
    shape = tuple(int.from_bytes(payload[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    count = math.prod(shape)  # Python ints: np.prod wraps past 2**64 and would "need 0" bytes
    if len(payload) - header != count:
        raise DataError(
            f"{name}: IDX payload has {len(payload) - header} bytes, header dimensions {shape} need {count}"
        )
    try:
        return np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(shape)
    except ValueError as error:  # an empty payload whose other dimensions are too big for numpy
        raise DataError(f"{name}: IDX header dimensions {shape} cannot be an array ({error})") from None


def read_idx_pair(images_path: Path, labels_path: Path, sha256: dict[str, str] | None = None):
    """Read an images/labels IDX pair, optionally checking SHA-256 of the decompressed bytes."""
    blobs = {}
    for path in (images_path, labels_path):
        blobs[path] = read_maybe_gzip(path)
        expected = (sha256 or {}).get(path.name)
        if expected is not None:
            digest = hashlib.sha256(blobs[path]).hexdigest()
            if digest != expected:
                raise DataError(f"{path}: SHA-256 of decompressed content is {digest}, expected {expected}")
    images = parse_idx(blobs[images_path], str(images_path), IDX_IMAGES_MAGIC)
    labels = parse_idx(blobs[labels_path], str(labels_path), IDX_LABELS_MAGIC)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{images_path}: images have shape {images.shape}, expected (N, 28, 28)")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{labels_path}: {labels.shape[0]} labels for {len(images)} images in {images_path}")
    if labels.size and labels.max() >= NUM_CLASSES:
        row = int(np.argmax(labels >= NUM_CLASSES))
        raise DataError(f"{labels_path}: item {row}: label {labels[row]}, expected 0-9")
    return images, labels


# ---------------------------------------------------------------- CSV


def write_csv(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> None:
    """Write the Kaggle/Zalando CSV layout (label,pixel1..pixel784) atomically."""
    flat = images.reshape(len(images), PIXELS)
    table = np.array([str(i) for i in range(256)])
    lines = [",".join(CSV_HEADER)]
    for label, row in zip(labels, flat, strict=True):
        lines.append(f"{int(label)}," + ",".join(table[row]))
    write_bytes(path, ("\n".join(lines) + "\n").encode("ascii"))


_NOT_CSV_INTEGERS = re.compile(r"[^0-9,\s]")


def _diagnose_csv(text: str, name: str) -> DataError:
    """Slow, precise pass that finds the first bad cell (only run after the fast path failed)."""
    reader = csv.reader(io.StringIO(text))
    try:
        return _first_bad_cell(reader, name)
    except csv.Error as error:  # e.g. a stray carriage return inside a line
        return DataError(f"{name}: row {reader.line_num}: malformed CSV line ({error})")


def _first_bad_cell(reader, name: str) -> DataError:
    for line_no, row in enumerate(reader, start=1):
        cells = [cell.strip() for cell in row]
        if line_no == 1:
            if cells != CSV_HEADER:
                got = ",".join(cells[:3]) + (",…" if len(cells) > 3 else "")
                return DataError(
                    f"{name}: row 1: header is {got!r} ({len(cells)} columns), "
                    "expected 'label,pixel1,…,pixel784' (785 columns)"
                )
            continue
        if not cells or cells == [""]:
            return DataError(f"{name}: row {line_no}: blank line, expected 785 values")
        if len(cells) != PIXELS + 1:
            return DataError(f"{name}: row {line_no}: {len(cells)} columns, expected 785")
        for col, cell in enumerate(cells):
            column = CSV_HEADER[col]
            limit = NUM_CLASSES - 1 if col == 0 else 255
            what = "a label 0-9" if col == 0 else "an integer pixel 0-255"
            if cell == "":
                return DataError(f"{name}: row {line_no}, column {column}: blank cell, expected {what}")
            if not (cell.isascii() and cell.isdigit()) or int(cell) > limit:
                return DataError(f"{name}: row {line_no}, column {column}: {cell[:20]!r}, expected {what}")
    return DataError(f"{name}: unreadable CSV")


def parse_csv(payload: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse CSV bytes into (uint8 N×28×28 images, uint8 labels); errors name row and column."""
    try:
        text = payload.decode("utf-8-sig")  # tolerate a UTF-8 byte-order mark
    except UnicodeDecodeError as error:
        raise DataError(f"{name}: byte {error.start}: not UTF-8 text") from None
    if not text.strip():
        raise DataError(f"{name}: empty file, expected a header and at least one row")
    first, _, body = text.partition("\n")
    if [cell.strip() for cell in first.strip().split(",")] != CSV_HEADER:
        raise _diagnose_csv(first, name)
    if not body.strip():
        raise DataError(f"{name}: header only, expected at least one data row")
    # pandas would accept "1e2", "+5" or "7.0" as integers: only digits, commas and spaces are valid.
    if _NOT_CSV_INTEGERS.search(body):
        raise _diagnose_csv(text, name)
    # Fast path: numpy parses integers in C. Any irregularity makes it fail, and only then the
    # slow pass runs to say exactly where.
    try:
        import pandas as pd

        values = pd.read_csv(
            io.StringIO(body),
            header=None,
            dtype=np.int64,
            skipinitialspace=True,
            skip_blank_lines=False,
            engine="c",
        ).to_numpy()
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError):
        raise _diagnose_csv(text, name) from None
    if values.ndim != 2 or values.shape[1] != PIXELS + 1:
        raise _diagnose_csv(text, name)
    labels, pixels = values[:, 0], values[:, 1:]
    if labels.min() < 0 or labels.max() >= NUM_CLASSES or pixels.min() < 0 or pixels.max() > 255:
        raise _diagnose_csv(text, name)
    images = pixels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images, labels.astype(np.uint8)


def read_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a Fashion-MNIST CSV (plain or .csv.gz)."""
    return parse_csv(read_maybe_gzip(path), str(path))
