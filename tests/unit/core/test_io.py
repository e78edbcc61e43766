import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fmnist.core.errors import DataError
from fmnist.core.io import atomic_dir, atomic_path, load_npz, read_json, save_npz, write_bytes, write_json


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_dir_swaps_only_on_success(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "b").write_text("2")
        raise RuntimeError("boom")
    assert sorted(p.name for p in target.iterdir()) == ["a"]
    with atomic_dir(target) as tmp:
        (tmp / "c").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_npz_is_byte_stable_and_safe(tmp_path):
    arrays = {"x": np.arange(12, dtype=np.float32).reshape(3, 4), "y": np.array([1, 2, 3], np.uint8)}
    save_npz(tmp_path / "a.npz", **arrays)
    save_npz(tmp_path / "b.npz", **arrays)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = load_npz(tmp_path / "a.npz", ("x", "y"))
    np.testing.assert_array_equal(loaded["x"], arrays["x"])
    with pytest.raises(DataError, match="missing array"):
        load_npz(tmp_path / "a.npz", ("z",))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"not a readable \.npz"):
        load_npz(tmp_path / "bad.npz", ("x",))
    # Object arrays would need pickle: refused.
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError):
        load_npz(tmp_path / "obj.npz", ("x",))


def test_read_json_errors(tmp_path):
    (tmp_path / "bad.json").write_text("{\n  'a': 1}")
    with pytest.raises(DataError, match=r"bad.json: line 2: not valid JSON"):
        read_json(tmp_path / "bad.json")
    with pytest.raises(DataError, match="file not found"):
        read_json(tmp_path / "none.json")


def test_stale_temporaries_from_a_killed_run_are_removed(tmp_path):
    target = tmp_path / "model"
    (tmp_path / ".model.abc123.tmp").mkdir()
    (tmp_path / ".model.abc123.tmp" / "half").write_text("x")
    (tmp_path / ".other.x.tmp").write_text("kept")
    with atomic_dir(target) as tmp:
        (tmp / "done").write_text("1")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.x.tmp", "model"]


def test_a_running_writers_temporary_is_left_alone(tmp_path):
    """Two processes writing one output: the second must not delete the first's work in progress."""
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    try:
        running = tmp_path / f".out.json.{writer.pid}-abc.tmp"
        running.write_text("half")
        leftover = tmp_path / f".out.json.{dead.stdout.strip()}-def.tmp"
        leftover.write_text("killed")
        write_json(tmp_path / "out.json", {"a": 1})
        assert running.read_text() == "half" and not leftover.exists()
    finally:
        writer.kill()
        writer.wait()


def test_replaced_files_and_folders_keep_their_mode(tmp_path):
    target = tmp_path / "README.md"
    target.write_text("old")
    target.chmod(0o664)
    write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o664 and target.read_text() == "new"
    folder = tmp_path / "models"
    folder.mkdir()
    folder.chmod(0o755)
    with atomic_dir(folder) as tmp:
        (tmp / "model.keras").write_text("weights")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755


def test_new_files_and_folders_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_bytes(tmp_path / "new.bin", b"x")
        with atomic_dir(tmp_path / "new-dir") as tmp:
            (tmp / "f").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "new-dir").stat().st_mode) == 0o750


def test_file_and_folder_are_fsynced_before_and_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real(fd)))
    write_bytes(tmp_path / "out.bin", b"data")
    assert synced[0].startswith(str(tmp_path / ".out.bin.")) and synced[-1] == str(tmp_path)
    synced.clear()
    with atomic_dir(tmp_path / "model") as tmp:
        (tmp / "weights").write_bytes(b"w")
    assert any(path.endswith("/weights") for path in synced) and synced[-1] == str(tmp_path)


def test_unwritable_output_gives_one_line_error(tmp_path, capsys):
    from fmnist.core.errors import exit_on_error

    blocker = tmp_path / "metrics"
    blocker.write_text("a file where a folder should be")

    @exit_on_error
    def stage():
        write_json(blocker / "eval" / "x.json", {"a": 1})

    with pytest.raises(SystemExit) as exit_info:
        stage()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "metrics" in err and "\n" not in err


def _disk_full_stage(path):
    from fmnist.core.errors import exit_on_error

    @exit_on_error
    def stage():
        write_bytes(path, b"x" * 200_000)

    return stage


def test_disk_full_gives_one_line_error_and_keeps_old_output(tmp_path, capsys, monkeypatch):
    import errno

    target = tmp_path / "metrics" / "summary.json"
    write_json(target, {"old": 1})
    before = target.read_bytes()

    def no_space(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", no_space)
    with pytest.raises(SystemExit) as exit_info:
        _disk_full_stage(target)()
    monkeypatch.undo()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {target}: No space left on device"
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["summary.json"]  # no temporary left


def test_disk_full_on_a_real_small_filesystem(tmp_path, capsys):
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        target = mount / "out.bin"
        write_bytes(target, b"old")
        with pytest.raises(SystemExit):
            _disk_full_stage(target)()
        assert capsys.readouterr().err.strip() == f"error: {target}: No space left on device"
        assert target.read_bytes() == b"old" and [p.name for p in mount.iterdir()] == ["out.bin"]
    finally:
        subprocess.run(["umount", str(mount)], check=False)


SAVE_TINY_MODEL = """
import sys, keras
from fmnist.core.io import save_keras_model
keras.utils.set_random_seed(7)
inputs = keras.Input((28, 28, 1))
hidden = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3)(inputs))
model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(hidden)))
save_keras_model(model, sys.argv[1])
"""


def test_the_same_model_saved_by_two_processes_has_the_same_bytes(tmp_path):
    """Keras writes the save time and Python object ids into .keras; fmnist's archive carries
    neither, so retraining to the same weights leaves dvc.lock unchanged."""
    import keras

    paths = [tmp_path / f"run{i}" / "model.keras" for i in range(2)]
    for path in paths:
        path.parent.mkdir()
        subprocess.run([sys.executable, "-c", SAVE_TINY_MODEL, str(path)], check=True, capture_output=True)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    with zipfile.ZipFile(paths[0]) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert '"shared_object_id": 1' in archive.read("config.json").decode()
    model = keras.saving.load_model(paths[0])  # still a loadable archive, shared objects linked
    assert model.predict(np.zeros((1, 28, 28, 1), "float32"), verbose=0).shape == (1, 10)
