"""DVC experiments on the fixture: a queued 2-point sweep, `exp show`, `exp apply`/`exp branch`,
and a push/pull round trip through a local-directory remote (marked slow)."""

import json
import time
from pathlib import Path

import pytest

from fmnist.tools.seeds import study
from tests.helpers import make_repo, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    path = make_repo(tmp_path_factory.mktemp("experiments") / "repo", epochs=1, variants=["mlp_a"])
    run(["dvc", "repro"], path, timeout=900)
    run(["git", "add", "-A"], path)
    run(["git", "commit", "-qm", "baseline"], path)
    return path


def wait_for_queue(repo: Path, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run(["dvc", "queue", "status"], repo).stdout
        if "Queued" not in status and "Running" not in status:
            return status
        time.sleep(3)
    raise AssertionError(f"queue did not finish in {timeout} s:\n{status}")


def experiments(repo: Path) -> list[dict]:
    """(params, metrics) of each experiment of the workspace baseline in `dvc exp show --json`."""
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    rows = []
    for baseline in shown:
        for exp in baseline.get("experiments") or []:
            for revision in exp["revs"]:
                data = revision["data"]
                rows.append({"name": revision.get("name"), "params": data["params"], "metrics": data["metrics"]})
    return rows


def test_queued_sweep_runs_and_shows_params_and_metrics(repo):
    # A seed sweep, as `make seeds` queues it: fmnist.tools.seeds reads the real `dvc exp show` below.
    sweep = "variants.mlp_a.seed=1,2"
    queued = run(["dvc", "exp", "run", "--queue", "-S", sweep], repo).stdout
    assert queued.count("Queued experiment") == 2, queued
    run(["dvc", "queue", "start", "-j", "2"], repo)
    try:
        status = wait_for_queue(repo)
    finally:
        run(["dvc", "queue", "stop", "--kill"], repo, check=False)
    assert status.count("Success") == 2, status
    rows = experiments(repo)
    seeds = sorted(row["params"]["params.yaml"]["data"]["variants"]["mlp_a"]["seed"] for row in rows)
    assert seeds == [1, 2]
    for row in rows:
        accuracy = row["metrics"]["metrics/eval/mlp_a.json"]["data"]["accuracy"]
        assert 0 <= accuracy <= 1
    table = run(["dvc", "exp", "show", "--only-changed", "--drop", "metrics/train.*", "--md"], repo).stdout
    assert "seed" in table and "accuracy" in table
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    entry = study(shown, ["mlp_a"])["variants"]["mlp_a"]
    committed = json.loads((repo / "metrics" / "eval" / "mlp_a.json").read_text())["accuracy"]
    accuracies = [committed] + [row["metrics"]["metrics/eval/mlp_a.json"]["data"]["accuracy"] for row in rows]
    assert entry["runs"][0]["seed"] == 42 and entry["seeds"] == 3
    assert entry["test_accuracy_mean"] == pytest.approx(sum(accuracies) / 3, abs=1e-6)
    sort = ["--sort-by", "metrics/eval/mlp_a.json:accuracy", "--sort-order", "desc"]
    assert "accuracy" in run(["dvc", "exp", "show", "--only-changed", *sort], repo).stdout

    # Keep the winner: apply it to the workspace, or branch it.
    winner = max(rows, key=lambda row: row["metrics"]["metrics/eval/mlp_a.json"]["data"]["val_accuracy"])
    run(["dvc", "exp", "branch", winner["name"], "sweep-winner"], repo)
    assert "sweep-winner" in run(["git", "branch"], repo).stdout
    run(["dvc", "exp", "apply", winner["name"]], repo)
    applied = json.loads((repo / "metrics" / "eval" / "mlp_a.json").read_text())
    assert applied == winner["metrics"]["metrics/eval/mlp_a.json"]["data"]
    run(["git", "checkout", "--", "."], repo)
    run(["dvc", "checkout", "--force"], repo)


def test_remote_round_trip_needs_no_retraining(repo, tmp_path):
    remote = tmp_path / "remote"
    run(["dvc", "remote", "add", "-d", "local", str(remote)], repo)
    run(["git", "commit", "-qam", "local DVC remote"], repo)
    run(["dvc", "push"], repo)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    run(["dvc", "pull"], clone)
    assert (clone / "models" / "variants" / "mlp_a" / "model.keras").is_file()
    output = run(["dvc", "repro"], clone).stdout
    assert "Running stage" not in output and "up to date" in output, output
