"""Atomic writes and file helpers: a failed stage never leaves half-written outputs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fmnist.core.errors import DataError

# Fixed zip timestamp so the same arrays always give the same bytes (and the same DVC hash).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _temp_prefix(target: Path) -> str:
    """Temporary siblings carry the writer's PID, so a later run can tell a dead writer's
    leftovers (removed) from a concurrent writer's work in progress (left alone)."""
    return f".{target.name}.{os.getpid()}-"


def _writer_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process, or a platform that cannot tell: keep its file
    return True


def _remove_stale(target: Path) -> None:
    """Delete temporary siblings left by a killed run (SIGKILL skips `finally`), never those of
    a writer that is still running."""
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        owner = stale.name[len(target.name) + 2 :].split("-", 1)[0]
        if owner.isdigit() and _writer_alive(int(owner)):
            continue
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _naming(error: OSError, target: Path) -> OSError:
    """The same OS error, naming the output it was for (a failed write() names no file)."""
    if error.errno is None or (error.filename and not Path(error.filename).name.startswith(f".{target.name}.")):
        return error  # not a plain OS error (e.g. URLError), or it already names another file
    return OSError(error.errno, error.strerror or str(error), str(target))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _keep_mode(tmp: Path, target: Path, default: int) -> None:
    """mkstemp/mkdtemp create 0600/0700: give the new file the old one's mode, or the umask's."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = default & ~_umask()
    os.chmod(tmp, mode)


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk (a folder cannot be opened on Windows)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename is still atomic
    finally:
        os.close(descriptor)


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            _fsync(Path(root) / name)
        _fsync(Path(root))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it into place only if the block succeeds.

    The file keeps the mode of the one it replaces (a new one follows the umask), and it and its
    folder are fsynced, so a crash leaves the old file or the new one, never an empty one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    handle, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _keep_mode(tmp, target, 0o666)
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent)
    except OSError as error:
        raise _naming(error, target) from None
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder; swap it in for `path` only if the block succeeds.

    As atomic_path: the folder keeps the old one's mode (or the umask's) and is fsynced."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent))
    old = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent)) / "old"
    try:
        yield tmp
        _keep_mode(tmp, target, 0o777)
        _fsync_tree(tmp)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        _fsync(target.parent)
    except OSError as error:
        raise _naming(error, target) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old.parent, ignore_errors=True)


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


def normalise_keras_archive(path: str | os.PathLike) -> None:
    """Make a .keras archive's bytes depend on the model only, so retraining to the same weights
    gives the same DVC hash: Keras writes the save time into metadata.json and into the zip
    entries, and Python object ids as `shared_object_id` into config.json (renumbered 1, 2, …
    in order of appearance, which keeps the links between shared objects)."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    ids: dict[str, int] = {}

    def renumber(match: re.Match) -> str:
        return f'"shared_object_id": {ids.setdefault(match.group(1), len(ids) + 1)}'

    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for info, data in members:
            if info.filename == "metadata.json":
                data = json.dumps({**json.loads(data), "date_saved": "1980-01-01@00:00:00"}).encode()
            elif info.filename == "config.json":
                data = re.sub(r'"shared_object_id": (\d+)', renumber, data.decode("utf-8")).encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            fixed.compress_type, fixed.external_attr = info.compress_type, 0o644 << 16
            archive.writestr(fixed, data)


def save_keras_model(model: Any, path: str | os.PathLike) -> None:
    """`model.save(path)` with the archive normalised (see normalise_keras_archive). Not atomic
    by itself: stages save into an `atomic_dir`."""
    model.save(path)
    normalise_keras_archive(path)
