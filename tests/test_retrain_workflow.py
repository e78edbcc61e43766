"""The retrain workflow, executed step by step once per trigger (tests/actions.py), on the fixture.

The setting is a runner's: a bare `origin`, a local-folder DVC remote, no git identity, a stub
`gh`, 1-epoch params. The runs share one origin, in the order a project lives them: a push to main
trains and commits, a weekly run finds nothing to do, a dispatch with `-S` overrides commits the
results with the params that made them, and pull requests (own and fork) report without pushing.
"""

import json
from pathlib import Path

import pytest
import yaml
from actions import Runner, dump
from helpers import ROOT, run
from workflow_repo import QUICK_TESTS

pytestmark = pytest.mark.slow

WORKFLOW = ROOT / ".github" / "workflows" / "retrain.yml"


@pytest.fixture(scope="module")
def origin(workflow_origin) -> Path:
    return workflow_origin


def trigger(origin: Path, home: Path, event_name: str, event: dict, **kwargs) -> tuple[Runner, dict]:
    runner = Runner(WORKFLOW, origin, home, event_name, event, extra_env=QUICK_TESTS, **kwargs)
    return runner, runner.run()


def head(origin: Path, ref: str = "main") -> str:
    return run(["git", "rev-parse", ref], origin).stdout.strip()


def assert_consistent_clone(origin: Path, target: Path) -> Path:
    """A fresh clone: dvc pull restores everything, nothing to re-run, README matches metrics."""
    run(["git", "clone", "-q", str(origin), str(target)], target.parent)
    run(["dvc", "pull"], target)
    status = run(["dvc", "status"], target).stdout
    assert "Data and pipelines are up to date." in status, status
    summary = json.loads((target / "metrics" / "summary.json").read_text())
    params = yaml.safe_load((target / "params.yaml").read_text())
    assert set(summary["variants"]) == set(params["variants"])
    env_check = run(["python", "-m", "fmnist.cli", "results", "--check", "README.md", "docs/performance.md"], target)
    assert "match" in env_check.stdout
    tests = run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cli.py", "-k", "committed"], target
    )
    assert "2 passed" in tests.stdout, tests.stdout
    return target


def test_push_to_main_tests_trains_and_commits_a_consistent_result(origin, tmp_path):
    before = head(origin)
    runner, jobs = trigger(origin, tmp_path / "run", "push", {"ref": "refs/heads/main", "after": before})
    assert jobs["test"].result == "success" and jobs["retrain"].result == "success", dump(jobs)
    assert "passed" in jobs["test"].step("Test (the README's test command)").output
    message = run(["git", "log", "-1", "--format=%s", "main"], origin).stdout
    assert head(origin) != before and message.startswith("Retrain (push)"), message
    # The DVC cache is saved after training, under a key of this run (never a stale exact hit).
    assert runner.cache_saves == ["dvc-4242-1"]
    assert "### Leaderboard" in jobs["retrain"].summary and "```mermaid" in jobs["retrain"].summary
    assert (runner.artifacts / "fmnist-report" / "plots" / "compare" / "leaderboard.png").is_file()
    assert "<h2>Leaderboard</h2>" in (runner.artifacts / "fmnist-report" / "report.html").read_text()
    clone = assert_consistent_clone(origin, tmp_path / "clone")
    assert json.loads((clone / "metrics" / "train" / "ann.json").read_text())["epochs_run"] == 1


def test_schedule_finds_nothing_to_do(origin, tmp_path):
    before = head(origin)
    _, jobs = trigger(origin, tmp_path / "run", "schedule", {"schedule": "17 3 * * 1"})
    assert jobs["retrain"].result == "success", dump(jobs)
    assert "Data and pipelines are up to date" in jobs["retrain"].step("Train").output
    assert "Results unchanged" in jobs["retrain"].step("Push outputs and commit results").output
    assert "No parameter changes." in jobs["retrain"].summary
    assert head(origin) == before


def test_dispatch_with_overrides_commits_results_with_their_params(origin, tmp_path):
    event = {"inputs": {"overrides": "variants.ann.epochs=2"}, "ref": "refs/heads/main"}
    _, jobs = trigger(origin, tmp_path / "run", "workflow_dispatch", event)
    assert jobs["retrain"].result == "success", dump(jobs)
    clone = assert_consistent_clone(origin, tmp_path / "clone")
    assert yaml.safe_load((clone / "params.yaml").read_text())["variants"]["ann"]["epochs"] == 2
    assert json.loads((clone / "metrics" / "train" / "ann.json").read_text())["epochs_run"] == 2
    assert "variants.ann.epochs=2" in run(["git", "log", "-1", "--format=%s"], clone).stdout


def open_pull_request(origin: Path, work: Path, branch: str, change) -> dict:
    """Push a branch with `change(params)` applied; the pull_request event GitHub would send."""
    clone = work / branch
    run(["git", "clone", "-q", str(origin), str(clone)], work)
    params = yaml.safe_load((clone / "params.yaml").read_text())
    change(params)
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-qam", branch], clone)
    run(["git", "push", "-q", "origin", f"HEAD:refs/heads/{branch}"], clone)
    return {
        "number": 7,
        "base": {"sha": head(origin), "ref": "main"},
        "head": {"sha": head(origin, branch), "ref": branch},
    }


def test_pull_request_reports_and_comments_without_pushing(origin, tmp_path):
    pull_request = open_pull_request(origin, tmp_path, "faster-mlp", lambda p: p["variants"]["mlp_a"].update(epochs=2))
    pull_request["head"]["repo"] = {"full_name": "fmnist/fmnist"}
    refs = run(["git", "for-each-ref"], origin).stdout
    runner, jobs = trigger(
        origin, tmp_path / "run", "pull_request", {"pull_request": pull_request}, ref="refs/pull/7/merge"
    )
    assert jobs["retrain"].result == "success", dump(jobs)
    assert run(["git", "for-each-ref"], origin).stdout == refs  # nothing pushed
    assert jobs["retrain"].step("Push outputs and commit results").outcome == "skipped"
    calls = runner.gh_calls.read_text().splitlines()
    assert calls == ["pr comment 7 --body-file report.md"]
    comment = Path(f"{runner.gh_calls}.body.1").read_text()
    assert comment in jobs["retrain"].summary
    assert "variants.mlp_a.epochs" in comment and " pt |" in comment and "```mermaid" in comment
    assert "](plots/" not in comment  # every picture renders where it is posted


def test_fork_pull_request_gets_report_and_gate_but_no_comment(origin, tmp_path):
    pull_request = open_pull_request(origin, tmp_path, "fork-floor", lambda p: p["ci"].update(floors={"ann": 0.99}))
    pull_request["head"]["repo"] = {"full_name": "someone/fmnist"}
    runner, jobs = trigger(
        origin,
        tmp_path / "run",
        "pull_request",
        {"pull_request": pull_request},
        ref="refs/pull/7/merge",
        token="read-only",
    )
    retrain = jobs["retrain"]
    assert retrain.result == "failure", dump(jobs)  # the gate decides
    assert retrain.step("Regression gate").outcome == "failure"
    assert "below its floor 99.00%" in retrain.step("Regression gate").output
    assert retrain.step("Comment on the pull request").outcome == "skipped"
    assert runner.gh_calls.read_text() == ""
    assert "### Regression gate" in retrain.summary and "❌ ann" in retrain.summary
