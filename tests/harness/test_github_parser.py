"""Every workflow passes GitHub's own workflow parser (`@actions/workflow-parser`, run by node
through .ci/workflow-parser.mjs), and the harness reads the same jobs, needs and steps from it."""

import json
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import ROOT

PARSER = ROOT / ".ci" / "workflow-parser.mjs"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "@actions" / "workflow-parser").is_dir(),
    reason="needs node and `npm ci` (make node-tools)",
)


def github_parses(*files) -> list[dict]:
    done = subprocess.run(
        ["node", str(PARSER), *map(str, files)], capture_output=True, text=True, check=True, timeout=120
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def harness_jobs(path) -> list[dict]:
    """What tests/harness/runner.py runs: the YAML's jobs, their needs and their steps."""
    jobs = yaml.safe_load(path.read_text())["jobs"]
    return [
        {"id": name, "needs": [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []),
         "steps": len(job.get("steps", []))}
        for name, job in jobs.items()
    ]  # fmt: skip


def test_every_workflow_is_valid_for_github_and_read_alike():
    assert len(WORKFLOWS) >= 2
    for result, path in zip(github_parses(*WORKFLOWS), WORKFLOWS, strict=True):
        assert result["errors"] == [], result["errors"]
        assert result["jobs"] == harness_jobs(path), path.name


def test_the_parser_reports_what_github_would_refuse(tmp_path):
    """The check can fail: an unknown key and a broken expression are reported with their line."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n"
        "  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.sha ) }}\n"
    )
    errors = github_parses(broken)[0]["errors"]
    assert any("Line: 5" in e and "stepz" in e for e in errors), errors
    assert any("Line: 9" in e for e in errors), errors
