"""Interrupted runs recover: SIGKILL mid-training, then `dvc repro` completes (marked slow)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import make_repo, run

pytestmark = pytest.mark.slow


def test_sigkill_mid_epoch_then_repro_completes(tmp_path):
    repo = make_repo(tmp_path / "repo", epochs=1, variants=["cnn_basic"])
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["variants"]["cnn_basic"]["epochs"] = 40  # long enough to be killed mid-run
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    process = subprocess.Popen(
        ["dvc", "repro"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    seen = ""
    for line in process.stdout:
        seen += line
        if "Epoch 3/40" in line or time.monotonic() > deadline:
            break
    assert "Epoch 3/40" in seen, seen[-2000:]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert not (repo / "metrics" / "train" / "cnn_basic.json").exists()

    params["variants"]["cnn_basic"]["epochs"] = 2
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro"], repo, timeout=600)
    metrics = json.loads((repo / "metrics" / "eval" / "cnn_basic.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1
    assert json.loads((repo / "metrics" / "train" / "cnn_basic.json").read_text())["epochs_run"] == 2
    leftovers = [p for p in (repo / "models" / "variants").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert "up to date" in run(["dvc", "status"], repo).stdout
