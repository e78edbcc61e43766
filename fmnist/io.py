"""Atomic writes and file helpers: a failed stage never leaves half-written outputs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fmnist.errors import DataError

# Fixed zip timestamp so the same arrays always give the same bytes (and the same DVC hash).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _remove_stale(target: Path) -> None:
    """Delete temporary siblings left by a run that was killed (SIGKILL skips `finally`)."""
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _naming(error: OSError, target: Path) -> OSError:
    """The same OS error, naming the output it was for (a failed write() names no file)."""
    if error.errno is None or (error.filename and not Path(error.filename).name.startswith(f".{target.name}.")):
        return error  # not a plain OS error (e.g. URLError), or it already names another file
    return OSError(error.errno, error.strerror or str(error), str(target))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it into place only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as error:
        raise _naming(error, target) from None
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder; swap it in for `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    old = target.with_name(f".{target.name}.old")
    try:
        yield tmp
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        raise _naming(error, target) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, payload: Mapping[str, Any], sort_keys: bool = True) -> None:
    """Atomic, indented JSON; keys sorted unless their order carries meaning (a ranking)."""
    write_text(path, json.dumps(payload, indent=2, sort_keys=sort_keys) + "\n")


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write an uncompressed .npz whose bytes depend only on the arrays (no timestamps)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            archive.writestr(info, buffer.getvalue())


def load_npz(path: str | os.PathLike, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Load named arrays from an .npz without ever unpickling; a missing key is a DataError."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise DataError(f"{path}: missing array(s) {missing}; found {archive.files}")
            return {key: archive[key] for key in keys}
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise DataError(f"{path}: not a readable .npz archive ({error})") from None
