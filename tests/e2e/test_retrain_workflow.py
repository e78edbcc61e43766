"""The retrain workflow, executed step by step once per trigger (tests/harness/), on the fixture.

The setting is a runner's: a bare `origin`, a real S3-compatible DVC remote (moto's server, named
by repository variables, credentials as secrets), no git identity, a stub `gh`, 1-epoch params.
The runs share one origin, in the order a project lives them: a push to main trains, pushes its
outputs to S3 and commits; a weekly run finds nothing to do; a dispatch with `-S` overrides
lands its results although main gained a commit while it trained; pull requests (own and fork)
report without pushing, and a fork, which gets no secrets, trains without the remote.
"""

import json
from pathlib import Path

import pytest
import yaml

from tests.harness import Runner, concurrency_outcome, dump
from tests.harness.s3 import CREDENTIALS
from tests.harness.workflow_repo import QUICK_TESTS, remote_settings
from tests.helpers import ROOT, run

pytestmark = pytest.mark.slow

WORKFLOW = ROOT / ".github" / "workflows" / "retrain.yml"


@pytest.fixture(scope="module")
def origin(workflow_origin) -> Path:
    return workflow_origin


@pytest.fixture(scope="module")
def remote(s3) -> dict:
    return remote_settings(s3)


def trigger(origin: Path, home: Path, event_name: str, event: dict, **kwargs) -> tuple[Runner, dict]:
    runner = Runner(WORKFLOW, origin, home, event_name, event, extra_env=QUICK_TESTS, **kwargs)
    return runner, runner.run()


def head(origin: Path, ref: str = "main") -> str:
    return run(["git", "rev-parse", ref], origin).stdout.strip()


def assert_consistent_clone(origin: Path, target: Path, remote: dict) -> Path:
    """A fresh clone: dvc pull from the S3 remote restores everything, nothing to re-run,
    README matches metrics."""
    run(["git", "clone", "-q", str(origin), str(target)], target.parent)
    url, endpoint = remote["variables"]["DVC_REMOTE_URL"], remote["variables"]["DVC_REMOTE_ENDPOINT"]
    run(["dvc", "remote", "add", "--local", "-d", "team", url], target)
    run(["dvc", "remote", "modify", "--local", "team", "endpointurl", endpoint], target)
    run(["dvc", "pull"], target, env=CREDENTIALS)
    status = run(["dvc", "status"], target).stdout
    assert "Data and pipelines are up to date." in status, status
    summary = json.loads((target / "metrics" / "summary.json").read_text())
    params = yaml.safe_load((target / "params.yaml").read_text())
    assert set(summary["variants"]) == set(params["variants"])
    env_check = run(
        ["python", "-m", "fmnist.tools.cli", "results", "--check", "README.md", "docs/performance.md"], target
    )
    assert "match" in env_check.stdout
    tests = run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/tools/test_cli.py", "-k", "committed"],
        target,
    )
    assert "2 passed" in tests.stdout, tests.stdout
    return target


def test_push_to_main_tests_trains_and_commits_a_consistent_result(origin, remote, s3, tmp_path):
    before = head(origin)
    runner, jobs = trigger(origin, tmp_path / "run", "push", {"ref": "refs/heads/main", "after": before}, **remote)
    assert jobs["test"].result == "success" and jobs["retrain"].result == "success", dump(jobs)
    assert jobs["pull-request"].result == "skipped"
    assert "passed" in jobs["test[0]"].step("Test (the README's test command)").output
    message = run(["git", "log", "-1", "--format=%s", "main"], origin).stdout
    assert head(origin) != before and message.startswith("Retrain (push)"), message
    # With a remote, outputs go to S3 and no DVC cache is kept in actions/cache.
    assert "DVC remote: ci" in jobs["retrain"].step("Use the DVC remote").output
    assert jobs["retrain"].step("Restore the DVC cache").outcome == "skipped"
    assert runner.cache_saves == [] and s3.objects() > 0
    assert "### Leaderboard" in jobs["retrain"].summary and "```mermaid" in jobs["retrain"].summary
    assert (runner.artifacts / "fmnist-report" / "plots" / "compare" / "leaderboard.png").is_file()
    assert "<h2>Leaderboard</h2>" in (runner.artifacts / "fmnist-report" / "report.html").read_text()
    # The credentials reached DVC through env, never the log.
    assert not any(CREDENTIALS["AWS_SECRET_ACCESS_KEY"] in step.output for step in jobs["retrain"].steps)
    clone = assert_consistent_clone(origin, tmp_path / "clone", remote)
    assert json.loads((clone / "metrics" / "train" / "ann.json").read_text())["epochs_run"] == 1


def test_schedule_finds_nothing_to_do(origin, remote, tmp_path):
    before = head(origin)
    _, jobs = trigger(origin, tmp_path / "run", "schedule", {"schedule": "17 3 * * 1"}, **remote)
    assert jobs["retrain"].result == "success", dump(jobs)
    assert "Data and pipelines are up to date" in jobs["retrain"].step("Train").output
    assert "Results unchanged" in jobs["retrain"].step("Push outputs and commit results").output
    assert "No parameter changes." in jobs["retrain"].summary
    assert head(origin) == before


def push_change(origin: Path, work: Path, change, message: str) -> None:
    """A teammate's commit to main: `change(params)` applied, dvc.lock left as it was."""
    clone = work / "teammate"
    run(["git", "clone", "-q", str(origin), str(clone)], work)
    params = yaml.safe_load((clone / "params.yaml").read_text())
    change(params)
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-qam", message], clone)
    run(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], clone)


def test_dispatch_lands_its_results_although_main_moved_while_it_trained(origin, remote, tmp_path):
    """main gains a commit between training and pushing: the results are rebased onto it, what it
    changed (mlp_a's epochs) is re-run, and the landed commit's lock, params and metrics agree."""
    event = {"inputs": {"overrides": "variants.ann.epochs=2"}, "ref": "refs/heads/main"}
    teammate = lambda: push_change(  # noqa: E731
        origin, tmp_path, lambda p: p["variants"]["mlp_a"].update(epochs=2), "mlp_a: 2 epochs"
    )
    _, jobs = trigger(
        origin,
        tmp_path / "run",
        "workflow_dispatch",
        event,
        before_step={"Push outputs and commit results": teammate},
        **remote,
    )
    assert jobs["retrain"].result == "success", dump(jobs)
    landing = jobs["retrain"].step("Push outputs and commit results").output
    assert "rebasing the results onto it" in landing and "Landed on main (attempt 2)" in landing, landing
    log = run(["git", "log", "-2", "--format=%s", "main"], origin).stdout.splitlines()
    assert log[0].startswith("Retrain (workflow_dispatch: variants.ann.epochs=2)") and log[1] == "mlp_a: 2 epochs"
    clone = assert_consistent_clone(origin, tmp_path / "clone", remote)
    params = yaml.safe_load((clone / "params.yaml").read_text())
    assert params["variants"]["ann"]["epochs"] == 2 and params["variants"]["mlp_a"]["epochs"] == 2
    for variant in ("ann", "mlp_a"):
        assert json.loads((clone / "metrics" / "train" / f"{variant}.json").read_text())["epochs_run"] == 2


def test_concurrency_never_drops_a_dispatch_and_cancels_only_superseded_pull_requests():
    main = {"ref": "refs/heads/main"}
    runs = [
        ("workflow_dispatch", {**main, "inputs": {"overrides": "variants.ann.epochs=3"}}, "111"),
        ("push", main, "112"),
        ("workflow_dispatch", {**main, "inputs": {"overrides": "variants.ann.epochs=4"}}, "113"),
        ("push", main, "114"),
        ("push", main, "115"),
    ]
    outcomes = concurrency_outcome(WORKFLOW, runs)
    # Both dispatches run; of the pushes queued behind a running one, the newest replaces the pending.
    assert [outcomes[0], outcomes[2]] == ["run", "run"], outcomes
    assert outcomes[1] == "run" and outcomes[3] == "cancelled" and outcomes[4] == "run", outcomes
    pull = {"ref": "refs/pull/7/merge", "pull_request": {"number": 7}}
    assert concurrency_outcome(WORKFLOW, [("pull_request", pull, "1"), ("pull_request", pull, "2")]) == [
        "cancelled",
        "run",
    ]


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


def test_pull_request_reports_and_comments_without_pushing(origin, remote, tmp_path):
    pull_request = open_pull_request(origin, tmp_path, "faster-mlp", lambda p: p["variants"]["mlp_a"].update(epochs=3))
    pull_request["head"]["repo"] = {"full_name": "fmnist/fmnist"}
    refs = run(["git", "for-each-ref"], origin).stdout
    runner, jobs = trigger(
        origin, tmp_path / "run", "pull_request", {"pull_request": pull_request}, ref="refs/pull/7/merge", **remote
    )
    assert jobs["pull-request"].result == "success", dump(jobs)
    assert jobs["retrain"].result == "skipped"
    assert run(["git", "for-each-ref"], origin).stdout == refs  # nothing pushed
    calls = runner.gh_calls.read_text().splitlines()
    assert calls == ["pr comment 7 --body-file report.md --edit-last --create-if-none"]  # one comment, kept current
    comment = Path(f"{runner.gh_calls}.body.1").read_text()
    assert comment in jobs["pull-request"].summary
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
    retrain = jobs["pull-request"]
    assert retrain.result == "failure", dump(jobs)  # the gate decides
    # A fork's run gets no secrets: no remote, the actions/cache DVC cache instead, said so.
    assert "No DVC remote" in retrain.summary and retrain.step("Restore the DVC cache").outcome == "success"
    assert retrain.step("Regression gate").outcome == "failure"
    assert "below its floor 99.00%" in retrain.step("Regression gate").output
    assert retrain.step("Comment on the pull request").outcome == "skipped"
    assert runner.gh_calls.read_text() == ""
    assert "### Regression gate" in retrain.summary and "❌ ann" in retrain.summary
