"""DVC experiments on the fixture: a queued 2-point sweep, `exp show`, `exp apply`/`exp branch`,
and a push/pull round trip through a local-directory remote (marked slow)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fmnist.tools.seeds import seed_runs, study
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


def run_queue(repo: Path, count: int) -> None:
    run(["dvc", "queue", "start", "-j", "2"], repo)
    try:
        status = wait_for_queue(repo)
    finally:
        run(["dvc", "queue", "stop", "--kill"], repo, check=False)
    assert status.count("Success") == count, status


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


def column(columns: list[str], path: str, key: str) -> str | None:
    """`dvc exp show` heads a column with the key alone where no other file has that key,
    else with `path:key`."""
    return next((name for name in (key, f"{path}:{key}") if name in columns), None)


def test_queued_sweep_runs_and_shows_params_and_metrics(repo, monkeypatch):
    # A seed sweep, as `make seeds` queues it: fmnist.tools.seeds reads the real `dvc exp show` below.
    queued = run(["fmnist", "queue-seeds", "mlp_a", "--seeds", "1", "2"], repo).stdout
    assert "queued 2 experiment(s): seed-mlp_a-1, seed-mlp_a-2" in queued, queued
    run_queue(repo, 2)
    rows = experiments(repo)
    seeds = sorted(row["params"]["params.yaml"]["data"]["variants"]["mlp_a"]["seed"] for row in rows)
    assert seeds == [1, 2]
    for row in rows:
        accuracy = row["metrics"]["metrics/eval/mlp_a.json"]["data"]["accuracy"]
        assert 0 <= accuracy <= 1
    # The experiment table a person reads: the seed and each run's headline, a row per seed.
    header, *lines = run(["dvc", "exp", "show", "--only-changed", "--csv"], repo).stdout.splitlines()
    columns = header.split(",")
    # --only-changed drops a metric that every row shares (the fixture's 50 validation images
    # can give two seeds one accuracy); the loss always differs.
    assert column(columns, "params.yaml", "variants.mlp_a.seed"), columns
    assert column(columns, "metrics/eval/mlp_a.json", "loss"), columns
    named = [line for line in lines if line.split(",", 1)[0]]  # experiment rows: the name comes first
    assert len(columns) <= 30 and len(named) == 2, (columns, lines)
    # Plain `dvc exp show` carries the headline files only: no per-class figures, no machine.
    assert {path for row in rows for path in row["metrics"]} == {"metrics/eval/mlp_a.json", "metrics/best.json"}
    keys = [key for row in rows for metrics in row["metrics"].values() for key in metrics["data"]]
    plain = run(["dvc", "exp", "show", "--csv"], repo).stdout.splitlines()[0].split(",")
    assert not any("per_class" in name or "cpu" in name for name in keys + plain), plain
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    monkeypatch.chdir(repo)  # fmnist seeds reads each seed's training record with `git show` where it runs
    entry = study(shown, ["mlp_a"])["variants"]["mlp_a"]
    committed = json.loads((repo / "metrics" / "eval" / "mlp_a.json").read_text())["accuracy"]
    accuracies = [committed] + [row["metrics"]["metrics/eval/mlp_a.json"]["data"]["accuracy"] for row in rows]
    assert entry["runs"][0]["seed"] == 42 and entry["seeds"] == 3
    assert entry["test_accuracy_mean"] == pytest.approx(sum(accuracies) / 3, abs=1e-6)
    sort = ["--sort-by", "metrics/eval/mlp_a.json:accuracy", "--sort-order", "desc"]
    assert "accuracy" in run(["dvc", "exp", "show", "--only-changed", *sort], repo).stdout

    # A preset's seeds: each an experiment of the preset copied into variants, params.yaml untouched.
    before = (repo / "params.yaml").read_bytes()
    # Its own seed only, to keep the test short: more seeds are the same queueing (test_seeds.py).
    queued = run(["fmnist", "queue-seeds", "airbench", "--seeds", "42"], repo).stdout
    assert "queued 1 experiment(s): seed-airbench-42" in queued, queued
    assert (repo / "params.yaml").read_bytes() == before
    run_queue(repo, 3)  # dvc queue status lists the earlier two as well
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    _, preset = seed_runs(shown, "airbench", section="presets")
    assert [(entry["seed"], entry["experiment"]) for entry in preset] == [(42, "seed-airbench-42")]
    assert 0 <= preset[0]["test_accuracy"] <= 1 and preset[0]["train_seconds"] > 0

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


def clone_worker(repo: Path, target: Path) -> Path:
    """Another machine: a git clone that reads the outputs from the first one's DVC cache."""
    run(["git", "clone", "-q", str(repo), str(target)], repo.parent)
    run(["git", "config", "user.email", "test@example.com"], target)
    run(["git", "config", "user.name", "fmnist tests"], target)
    run(["dvc", "cache", "dir", "--local", str(repo / ".dvc" / "cache")], target)
    run(["dvc", "checkout"], target)
    return target


def test_two_workers_share_one_study_in_postgresql(repo, postgres, tmp_path):
    """`fmnist tune` on two machines with one PostgreSQL storage: Optuna hands out the trials,
    each trial is one DVC experiment of one worker, and none runs twice."""
    import optuna
    import yaml

    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["tune"] = {
        "variant": "mlp_a",
        "trials": 1,
        "pruner": "none",
        # label_smoothing is not in mlp_a's settings: the trial adds it (-S ++key=value).
        "space": {
            "learning_rate": {"low": 0.0003, "high": 0.01, "log": True},
            "label_smoothing": {"low": 0.0, "high": 0.2},
        },
    }
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "commit", "-qam", "search space"], repo)
    workers = [clone_worker(repo, tmp_path / f"worker{i}") for i in (1, 2)]
    command = ["fmnist", "tune", "--storage", postgres.url, "--study-name", "shared"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    processes = [
        subprocess.Popen(command, cwd=worker, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for worker in workers
    ]
    outputs = [process.communicate(timeout=900)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs

    study = optuna.load_study(study_name="shared", storage=postgres.url)
    assert sorted(trial.number for trial in study.trials) == [0, 1]
    assert {trial.state.name for trial in study.trials} == {"COMPLETE"}
    ran = {}  # experiment name -> (worker, ref)
    for worker in workers:
        refs = run(["git", "for-each-ref", "--format=%(refname)", "refs/exps/"], worker).stdout.split()
        for ref in refs:
            ran.setdefault(ref.rsplit("/", 1)[-1], []).append((worker, ref))
    assert sorted(ran) == ["shared-0", "shared-1"] and all(len(w) == 1 for w in ran.values()), ran
    for trial in study.trials:  # the study's value is its experiment's validation accuracy
        worker, ref = ran[f"shared-{trial.number}"][0]
        metrics = json.loads(run(["git", "show", f"{ref}:metrics/train/mlp_a.json"], worker).stdout)
        assert trial.value == metrics["best_val_accuracy"]
        trained = yaml.safe_load(run(["git", "show", f"{ref}:params.yaml"], worker).stdout)
        for key in ("learning_rate", "label_smoothing"):
            assert trained["variants"]["mlp_a"][key] == pytest.approx(trial.params[key])
    last = max(outputs, key=len)
    assert "tune: shared: " in last and "dvc exp apply shared-" in last
    header, *lines = run(["dvc", "exp", "show", "--only-changed", "--csv"], workers[0]).stdout.splitlines()
    columns = header.split(",")
    assert column(columns, "params.yaml", "variants.mlp_a.learning_rate"), columns
    assert column(columns, "metrics/eval/mlp_a.json", "loss"), columns
    assert len(columns) <= 30 and sum(line.startswith("shared-") for line in lines) >= 1, (columns, lines)

    # The same study name with another space is refused in one line, before any trial runs.
    changed = yaml.safe_load((workers[0] / "params.yaml").read_text())
    changed["tune"]["space"] = {"learning_rate": {"low": 0.001, "high": 0.1, "log": True}}
    (workers[0] / "params.yaml").write_text(yaml.safe_dump(changed, sort_keys=False))
    refused = run(command, workers[0], check=False)
    assert refused.returncode == 2 and "exists with another variant or space" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    closed = postgres.url.rsplit(":", 1)[0] + ":1/postgres"  # nothing listens on port 1
    unreachable = run(["fmnist", "tune", "--storage", closed, "--study-name", "other"], workers[0], check=False)
    assert unreachable.returncode == 2 and "cannot open the study" in unreachable.stderr
    assert len(optuna.load_study(study_name="shared", storage=postgres.url).trials) == 2  # nothing lost
