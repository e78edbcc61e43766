"""A sweep fanned out over machines: the sweep workflow's steps run by the harness (tests/harness/).

Each matrix job is its own machine: a fresh clone of the bare `origin` with its own DVC cache;
they share nothing but `origin` and the S3 DVC remote (moto's server). Of the first sweep's two
points one fails (a learning rate params validation refuses): the other is still ranked, with
its model pulled. A second dispatch of the same name ranks only its own point. A laptop clone
then pulls the pushed experiments of both, ranks them, applies the best and finds `dvc repro`
up to date. (One training point per dispatch: each costs about 90 s of a 2-core runner.)
"""

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from fmnist.tools.sweep import expand, plan
from tests.harness import Runner, dump
from tests.harness.s3 import CREDENTIALS
from tests.harness.workflow_repo import QUICK_TESTS, remote_settings
from tests.helpers import ROOT, run

pytestmark = pytest.mark.slow

SWEEP = ROOT / ".github" / "workflows" / "sweep.yml"
METRIC = "metrics/eval/mlp_a.json:val_accuracy"


def test_plan_expands_the_grid_as_dvc_queue_does():
    assert expand(["variants.mlp_a.learning_rate=0.001,0.01", "variants.mlp_a.epochs=1,2"]) == [
        ["variants.mlp_a.learning_rate=0.001", "variants.mlp_a.epochs=1"],
        ["variants.mlp_a.learning_rate=0.001", "variants.mlp_a.epochs=2"],
        ["variants.mlp_a.learning_rate=0.01", "variants.mlp_a.epochs=1"],
        ["variants.mlp_a.learning_rate=0.01", "variants.mlp_a.epochs=2"],
    ]
    matrix = plan("variants.mlp_a.seed=1,2 other.yaml:x=3", "seeds")
    assert matrix["include"] == [
        {"name": "seeds-1", "set": "variants.mlp_a.seed=1 other.yaml:x=3"},
        {"name": "seeds-2", "set": "variants.mlp_a.seed=2 other.yaml:x=3"},
    ]


def dispatch(origin: Path, home: Path, grid: str, run_id: str, remote: dict) -> tuple[Runner, dict]:
    inputs = {
        "grid": grid,
        "metric": METRIC,
        "runner": "ubuntu-latest",
        "max-parallel": "2",
        "name": "lr",
        "open-pull-request": True,
    }
    event = {"inputs": inputs}
    runner = Runner(SWEEP, origin, home, "workflow_dispatch", event, extra_env=QUICK_TESTS, run_id=run_id, **remote)
    return runner, runner.run()


def cached(workspace: Path, experiment: str, out: str) -> bool:
    """Whether `workspace`'s DVC cache holds `out` as the experiment's dvc.lock records it."""
    refs = run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], workspace).stdout.split()
    ref = next(ref for ref in refs if ref.rsplit("/", 1)[1] == experiment)  # refs/exps/<base>/<name>
    lock = yaml.safe_load(run(["git", "show", f"{ref}:dvc.lock"], workspace).stdout)
    entry = next(o for stage in lock["stages"].values() for o in stage.get("outs", []) if o["path"] == out)
    digest = entry["md5"]
    return (workspace / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]).is_file()


def test_sweep_runs_on_separate_machines_and_one_command_ranks_them(workflow_origin, s3, tmp_path):
    origin, remote = workflow_origin, remote_settings(s3)
    runner, jobs = dispatch(origin, tmp_path / "run", "variants.mlp_a.learning_rate=0.01,-1", "4242", remote)
    assert all(jobs[name].result == "success" for name in ("plan", "collect", "propose")), dump(jobs)
    assert jobs["point"].result == "failure" and jobs["point[1]"].result == "failure"
    assert jobs["point[0]"].result == "success", dump(jobs)
    assert "learning_rate" in jobs["point[1]"].step("Run the point and push it").output
    machines = {jobs[f"point[{i}]"].workspace for i in range(2)}
    assert len(machines) == 2 and (jobs["point[0]"].workspace / ".dvc" / "cache").is_dir()
    pushed = run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], origin).stdout.split()
    assert sorted(ref.rsplit("/", 1)[1] for ref in pushed) == ["lr-4242-1"]
    summary = jobs["collect"].summary
    assert "| 1 | `lr-4242-1` |" in summary and METRIC in summary
    assert "| – | `lr-4242-2` |" in summary and "failed" in summary
    # collect pulled the point's outputs from S3: the winner's model is in its cache.
    winner = jobs["collect"].outputs["winner"]
    assert winner == "lr-4242-1" and cached(jobs["collect"].workspace, winner, "models/variants/mlp_a")
    assert (runner.artifacts / "sweep-leaderboard" / "leaderboard.png").is_file()
    assert runner.gh_calls.read_text().startswith(f"pr create --head sweep/{winner}")
    assert f"sweep/{winner}" in run(["git", "branch", "--list", f"sweep/{winner}"], origin).stdout

    # The same name dispatched again on an unchanged main: its own point only, never the old grid.
    again_runner, again = dispatch(origin, tmp_path / "again", "variants.mlp_a.learning_rate=0.003", "4243", remote)
    assert again["collect"].result == "success", dump(again)
    board = (again_runner.artifacts / "sweep-leaderboard" / "leaderboard.md").read_text()
    assert "| 1 | `lr-4243-1` |" in board and "lr-4242" not in board, board

    # A person with the pushed experiments: one command pulls and ranks; the best is applied.
    clone = tmp_path / "laptop"
    run(["git", "clone", "-q", str(origin), str(clone)], tmp_path)
    run(["dvc", "remote", "add", "--local", "-d", "team", s3.url], clone)
    run(["dvc", "remote", "modify", "--local", "team", "endpointurl", s3.endpoint], clone)
    ranked = run(
        ["python", "-m", "fmnist.tools.cli", "sweep", "collect", "--remote", "origin", "--metric", METRIC],
        clone,
        env=CREDENTIALS,
    )
    rows = [line for line in ranked.stdout.splitlines() if line.startswith(("| 1 ", "| 2 ", "| 3 "))]
    assert len(rows) == 2 and "learning_rate" in ranked.stdout, ranked.stdout
    assert {row.split("`")[1] for row in rows} == {"lr-4242-1", "lr-4243-1"}, rows  # both dispatches
    values = [float(row.split("|")[-2]) for row in rows]  # the metric, last column: best first
    assert values == sorted(values, reverse=True), rows
    shown = json.loads(run(["dvc", "exp", "show", "--json"], clone).stdout)
    names = {rev["name"] for b in shown for e in b.get("experiments") or [] for rev in e["revs"]}
    assert {"lr-4242-1", "lr-4243-1"} <= names
    best = rows[0].split("`")[1]
    run(["dvc", "exp", "apply", best], clone)
    run(["dvc", "pull"], clone, env=CREDENTIALS)
    assert "Data and pipelines are up to date." in run(["dvc", "repro"], clone).stdout
    rate = yaml.safe_load((clone / "params.yaml").read_text())["variants"]["mlp_a"]["learning_rate"]
    assert f"| {rate} |" in rows[0]
    assert Path(clone / "metrics" / "eval" / "mlp_a.json").is_file()


def test_a_diverged_experiment_push_is_an_error(tmp_path, monkeypatch):
    """DVC only warns (exit 0) when the remote's experiment of that name diverged, as when a
    second sweep reuses a name; fmnist's push fails instead. Real DVC on a one-line stage."""
    from fmnist.core.errors import FmnistError
    from fmnist.tools.sweep import push

    origin, repo = tmp_path / "origin.git", tmp_path / "repo"
    run(["git", "init", "-q", "--bare", str(origin)], tmp_path)
    run(["git", "init", "-q", str(repo)], tmp_path)
    run(["dvc", "init", "-q"], repo)
    (repo / "params.yaml").write_text("rate: 1\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n  echo:\n    cmd: cp params.yaml out.txt\n    params: [rate]\n    outs: [out.txt]\n"
    )
    for command in (
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base"],
        ["git", "remote", "add", "origin", str(origin)],
        ["git", "push", "-q", "origin", "HEAD:refs/heads/main"],
    ):
        run(command, repo)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for rate in (2, 3):
        run(["dvc", "exp", "remove", "--all-commits"], repo, check=False)
        run(["dvc", "exp", "run", "-n", "lr-1", "-S", f"rate={rate}"], repo)
        if rate == 2:
            push("origin", "lr-1")  # the first push of the name goes through
    with pytest.raises(FmnistError, match="diverged"):
        push("origin", "lr-1")
