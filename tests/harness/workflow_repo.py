"""The project on the fixture behind a bare `origin`, for the workflow tests.

The origin commits no DVC remote: the runs get the S3 server's URL as the repository variables
a fork would set (DVC_REMOTE_URL, DVC_REMOTE_ENDPOINT) and its credentials as secrets.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.harness import guard_origin
from tests.harness.s3 import CREDENTIALS, S3Server
from tests.helpers import ROOT, make_repo, run

PROJECT_FILES = [
    "README.md",
    "docs/performance.md",
    "Makefile",
    ".github",
    ".ci",
    "package.json",
    "package-lock.json",
    ".npmrc",
    "requirements.lock",
    "data/external/README.md",
    "metrics/bench.json",
    "tests",
]
# The test job runs `make test` as written; the harness narrows pytest to quick files.
QUICK_TESTS = {
    "PYTEST_ADDOPTS": "tests/harness/test_expressions.py tests/unit/core/test_schema.py -p no:cacheprovider",
    "TEST_WORKERS": "0",  # a few seconds of tests: no worker processes
}


def make_origin(base: Path) -> Path:
    """A bare origin holding the project on the fixture (two variants, 1 epoch, no floors)."""
    seed = make_repo(base / "seed", epochs=1, variants=["mlp_a", "ann"])
    for name in PROJECT_FILES:
        source, target = ROOT / name, seed / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        else:
            shutil.copy2(source, target)
    params = yaml.safe_load((seed / "params.yaml").read_text())
    params["ci"]["floors"] = {}  # 1 epoch on 500 images reaches none of the real floors
    params["ci"]["max_accuracy_drop"] = 100.0  # the fixture's accuracy is noise; floors test the gate
    (seed / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "add", "-A", "-f", "data/external/README.md", "."], seed)
    run(["git", "commit", "-qm", "the project on the fixture"], seed)
    run(["git", "branch", "-M", "main"], seed)
    origin = base / "origin.git"
    run(["git", "clone", "-q", "--bare", str(seed), str(origin)], base)
    guard_origin(origin)
    return origin


def remote_settings(server: S3Server) -> dict[str, dict[str, str]]:
    """The repository variables and secrets that point a workflow run at `server`."""
    return {
        "variables": {"DVC_REMOTE_URL": server.url, "DVC_REMOTE_ENDPOINT": server.endpoint},
        "secrets": dict(CREDENTIALS),
    }
