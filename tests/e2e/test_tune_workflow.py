"""An Optuna study fanned out over runners: the tune workflow's steps run by the harness.

Each matrix job is its own machine (a fresh clone of the bare `origin`, its own DVC cache); they
share `origin`, the S3 DVC remote (moto's server) and one study in a real PostgreSQL server, whose
URL reaches them as the TUNE_STORAGE secret. Optuna hands out the trials; every trial is one DVC
experiment pushed to origin, and the summary job tabulates them all.
"""

import json

import pytest

from tests.harness import Runner, dump
from tests.harness.workflow_repo import remote_settings
from tests.helpers import ROOT, run

pytestmark = pytest.mark.slow

TUNE = ROOT / ".github" / "workflows" / "tune.yml"


def dispatch(origin, home, secrets: dict, variables: dict, run_id: str) -> tuple[Runner, dict]:
    inputs = {"study-name": "fanned", "workers": "2", "trials": "1", "runner": "ubuntu-latest"}
    event = {"inputs": inputs}
    runner = Runner(TUNE, origin, home, "workflow_dispatch", event, run_id=run_id, secrets=secrets, variables=variables)
    return runner, runner.run()


def test_runners_share_one_study_and_the_summary_shows_every_trial(workflow_origin, s3, postgres, tmp_path):
    import optuna

    remote = remote_settings(s3)
    secrets = {**remote["secrets"], "TUNE_STORAGE": postgres.url}
    runner, jobs = dispatch(workflow_origin, tmp_path / "run", secrets, remote["variables"], "5151")
    assert all(jobs[name].result == "success" for name in ("plan", "worker", "summary")), dump(jobs)
    machines = {jobs[f"worker[{i}]"].workspace for i in range(2)}
    assert len(machines) == 2

    study = optuna.load_study(study_name="fanned", storage=postgres.url)
    assert sorted(t.number for t in study.trials) == [0, 1]
    assert {t.state.name for t in study.trials} == {"COMPLETE"}
    ran = [jobs[f"worker[{i}]"].step("Run trials").output.count("tune: trial ") for i in range(2)]
    assert ran == [1, 1], ran  # one trial each, none twice
    pushed = run(["git", "for-each-ref", "--format=%(refname:lstrip=-1)", "refs/exps"], workflow_origin).stdout
    assert sorted(name for name in pushed.split() if name.startswith("fanned-")) == ["fanned-0", "fanned-1"]

    summary = jobs["summary"].summary
    assert "### Study fanned" in summary and "2 complete, 0 pruned, 0 failed" in summary, summary
    assert "fanned-0" in summary and "fanned-1" in summary  # the experiment table, a row per trial
    written = json.loads((runner.artifacts / "tune-study" / "metrics" / "tune" / "fanned.json").read_text())
    assert [t["experiment"] for t in written["trials"]] == ["fanned-0", "fanned-1"]
    assert (runner.artifacts / "tune-study" / "plots" / "tune" / "fanned").is_dir()

    # Without the storage secret the plan stops in one line and no worker starts.
    _, refused = dispatch(workflow_origin, tmp_path / "refused", remote["secrets"], remote["variables"], "5152")
    assert refused["plan"].result == "failure" and refused["worker"].result == "skipped", dump(refused)
    assert "secret TUNE_STORAGE is not set" in refused["plan"].step("One matrix row per worker").output
