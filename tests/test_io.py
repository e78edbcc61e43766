from pathlib import Path

import numpy as np
import pytest

from fmnist.errors import DataError
from fmnist.io import atomic_dir, atomic_path, load_npz, read_json, save_npz, write_bytes, write_json


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


def test_unwritable_output_gives_one_line_error(tmp_path, capsys):
    from fmnist.errors import exit_on_error

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
    from fmnist.errors import exit_on_error

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
