"""The Makefile works where GNU coreutils and apt are absent (macOS): digests fall back to shasum."""

import os
import shutil
import subprocess

import pytest

from tests.helpers import ROOT


def test_install_markers_are_the_same_without_sha256sum(tmp_path):
    """A PATH with make, sh and shasum but no sha256sum names the same install marker as GNU
    coreutils does, so an installed venv counts as installed instead of being rebuilt."""
    tools = ["make", "sh", "bash", "cat", "cut", "shasum", "perl", "rm", "id"]
    if any(shutil.which(tool) is None for tool in tools):
        pytest.skip("needs make, shasum and perl")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    assert shutil.which("sha256sum", path=str(bin_dir)) is None

    def dry_run(path: str) -> str:
        env = {**os.environ, "PATH": path}
        done = subprocess.run(["make", "-n", "setup"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    with_coreutils = dry_run(os.environ["PATH"])
    assert dry_run(str(bin_dir)) == with_coreutils
    assert "Nothing to be done for 'setup'" in with_coreutils or ".installed-" in with_coreutils
