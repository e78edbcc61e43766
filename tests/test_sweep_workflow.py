"""A sweep fanned out over machines: the sweep workflow's steps run by the harness (tests/actions.py).

Each matrix job is its own machine: a fresh clone of the bare `origin` with its own DVC cache;
they share nothing but `origin` and the local-folder DVC remote. A third clone then pulls
the pushed experiments, ranks them, applies the best and finds `dvc repro` up to date.
"""

import json
from pathlib import Path

import pytest
import yaml
from actions import Runner, dump
from helpers import ROOT, run
from workflow_repo import QUICK_TESTS

from fmnist.sweep import expand, plan

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


def test_sweep_runs_on_separate_machines_and_one_command_ranks_them(workflow_origin, tmp_path):
    origin = workflow_origin
    inputs = {
        "grid": "variants.mlp_a.learning_rate=0.0005,0.01",
        "metric": METRIC,
        "runner": "ubuntu-latest",
        "max-parallel": "2",
        "name": "lr",
        "open-pull-request": True,
    }
    runner = Runner(SWEEP, origin, tmp_path / "run", "workflow_dispatch", {"inputs": inputs}, extra_env=QUICK_TESTS)
    jobs = runner.run()
    assert all(jobs[name].result == "success" for name in ("plan", "point", "collect")), dump(jobs)
    machines = {jobs[f"point[{i}]"].workspace for i in range(2)}
    assert len(machines) == 2 and all((m / ".dvc" / "cache").is_dir() for m in machines)
    pushed = run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], origin).stdout.split()
    assert sorted(ref.rsplit("/", 1)[1] for ref in pushed) == ["lr-1", "lr-2"]
    summary = jobs["collect"].summary
    assert "| 1 | `lr-" in summary and "| 2 | `lr-" in summary and METRIC in summary
    assert (runner.artifacts / "sweep-leaderboard" / "leaderboard.png").is_file()
    assert runner.gh_calls.read_text().startswith("pr create --head sweep/lr")
    assert "sweep/lr" in run(["git", "branch", "--list", "sweep/lr"], origin).stdout

    # A person with the pushed experiments: one command pulls and ranks; the best is applied.
    clone = tmp_path / "laptop"
    run(["git", "clone", "-q", str(origin), str(clone)], tmp_path)
    ranked = run(["python", "-m", "fmnist.cli", "sweep", "collect", "--remote", "origin", "--metric", METRIC], clone)
    rows = [line for line in ranked.stdout.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert len(rows) == 2 and "learning_rate" in ranked.stdout, ranked.stdout
    shown = json.loads(run(["dvc", "exp", "show", "--json"], clone).stdout)
    names = {rev["name"] for b in shown for e in b.get("experiments") or [] for rev in e["revs"]}
    assert {"lr-1", "lr-2"} <= names
    best = rows[0].split("`")[1]
    run(["dvc", "exp", "apply", best], clone)
    run(["dvc", "pull"], clone)
    assert "Data and pipelines are up to date." in run(["dvc", "repro"], clone).stdout
    rate = yaml.safe_load((clone / "params.yaml").read_text())["variants"]["mlp_a"]["learning_rate"]
    assert f"| {rate} |" in rows[0]
    assert Path(clone / "metrics" / "eval" / "mlp_a.json").is_file()
