"""The Makefile works where GNU coreutils and apt are absent (macOS): digests fall back to shasum."""

import os
import shutil
import subprocess

import pytest
from helpers import ROOT


@pytest.mark.skipif(not list((ROOT / ".venv").glob(".installed-*")), reason="needs `make setup`")
def test_install_markers_are_the_same_without_sha256sum(tmp_path):
    """A PATH with make, sh and shasum but no sha256sum names the same install marker, so an
    installed venv counts as installed (nothing to do) instead of being rebuilt."""
    tools = ["make", "sh", "bash", "cat", "cut", "shasum", "perl", "rm", "id"]
    if any(shutil.which(tool) is None for tool in tools):
        pytest.skip("needs make, shasum and perl")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {**os.environ, "PATH": str(bin_dir)}
    assert shutil.which("sha256sum", path=str(bin_dir)) is None
    result = subprocess.run(["make", "-n", "setup"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Nothing to be done for 'setup'" in result.stdout, result.stdout + result.stderr
