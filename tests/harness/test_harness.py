"""The workflow harness is as strict as GitHub where it matters: job status, permissions,
pull requests on the merge commit, concurrency groups. Tiny synthetic workflows, no training."""

from pathlib import Path

import yaml

from tests.harness import Runner, concurrency_outcome, dump, guard_origin
from tests.helpers import run


def origin_with(tmp_path: Path, files: dict[str, str]) -> Path:
    seed = tmp_path / "seed"
    seed.mkdir()
    for name, text in files.items():
        (seed / name).write_text(text)
    run(["git", "init", "-q", "-b", "main"], seed)
    run(["git", "add", "-A"], seed)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base"], seed)
    origin = tmp_path / "origin.git"
    run(["git", "clone", "-q", "--bare", str(seed), str(origin)], tmp_path)
    guard_origin(origin)
    return origin


def workflow(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "wf.yml"
    path.write_text(yaml.safe_dump({"name": "t", "on": "push", **spec}))
    return path


def step(script: str) -> dict:
    return {"run": script}


def test_job_status_functions_follow_the_needs(tmp_path):
    origin = origin_with(tmp_path, {"a.txt": "a"})
    spec = {
        "jobs": {
            "build": {"runs-on": "ubuntu-latest", "steps": [step("exit 1")]},
            "after": {"needs": "build", "runs-on": "ubuntu-latest", "steps": [step("echo after")]},
            "on-failure": {"needs": "build", "if": "failure()", "runs-on": "ubuntu-latest", "steps": [step("true")]},
            "always": {"needs": "after", "if": "always()", "runs-on": "ubuntu-latest", "steps": [step("true")]},
            "plain-if": {
                "needs": "build",
                "if": "github.event_name == 'push'",
                "runs-on": "x",
                "steps": [step("true")],
            },
        }
    }
    jobs = Runner(workflow(tmp_path, spec), origin, tmp_path / "run", "push", {"ref": "refs/heads/main"}).run()
    assert jobs["build"].result == "failure"
    assert jobs["after"].result == "skipped"  # its need failed
    assert jobs["on-failure"].result == "success", dump(jobs)  # if: failure() runs when a need failed
    assert jobs["always"].result == "success"
    assert jobs["plain-if"].result == "skipped"  # an if without a status function implies success()


def test_a_job_without_contents_write_cannot_push(tmp_path):
    origin = origin_with(tmp_path, {"a.txt": "a"})
    push = "git -c user.name=t -c user.email=t@e commit -q --allow-empty -m x && git push origin HEAD:refs/heads/main"
    checkout = {"uses": "actions/checkout@v4"}
    spec = {
        "permissions": {"contents": "read"},
        "jobs": {
            "reader": {"runs-on": "ubuntu-latest", "steps": [checkout, step(push)]},
            "writer": {
                "runs-on": "ubuntu-latest",
                "permissions": {"contents": "write"},
                "steps": [checkout, step(push)],
            },
        },
    }
    jobs = Runner(workflow(tmp_path, spec), origin, tmp_path / "run", "push", {"ref": "refs/heads/main"}).run()
    assert jobs["reader"].result == "failure" and "contents: read" in jobs["reader"].steps[-1].output
    assert jobs["writer"].result == "success", dump(jobs)


def test_a_pull_request_runs_on_the_merge_commit(tmp_path):
    origin = origin_with(tmp_path, {"a.txt": "a"})
    work = tmp_path / "work"
    run(["git", "clone", "-q", str(origin), str(work)], tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e"]
    run(["git", "checkout", "-qb", "feature"], work)
    (work / "feature.txt").write_text("f")
    run(["git", "add", "-A"], work)
    run([*git, "commit", "-qm", "feature"], work)
    run(["git", "push", "-q", "origin", "feature"], work)
    head = run(["git", "rev-parse", "HEAD"], work).stdout.strip()
    run(["git", "checkout", "-q", "main"], work)
    (work / "main.txt").write_text("m")  # main moved after the branch was cut
    run(["git", "add", "-A"], work)
    run([*git, "commit", "-qm", "main moved"], work)
    run(["git", "push", "-q", "origin", "main"], work)
    base = run(["git", "rev-parse", "HEAD"], work).stdout.strip()
    spec = {"jobs": {"look": {"runs-on": "x", "steps": [{"uses": "actions/checkout@v4"}, step("ls *.txt")]}}}
    event = {
        "pull_request": {"number": 1, "head": {"sha": head, "ref": "feature"}, "base": {"sha": base, "ref": "main"}}
    }
    jobs = Runner(workflow(tmp_path, spec), origin, tmp_path / "run", "pull_request", event).run()
    assert jobs["look"].result == "success", dump(jobs)
    assert jobs["look"].steps[-1].output.split() == ["a.txt", "feature.txt", "main.txt"]


def test_secrets_and_variables_reach_steps_only_through_env(tmp_path, monkeypatch):
    origin = origin_with(tmp_path, {"a.txt": "a"})
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-developer-shell")
    script = 'echo "url=$URL key=$KEY leaked=${AWS_SECRET_ACCESS_KEY:-none}"'
    spec = {
        "jobs": {
            "j": {
                "runs-on": "x",
                "env": {"URL": "${{ vars.DVC_REMOTE_URL }}", "KEY": "${{ secrets.KEY }}"},
                "steps": [step(script)],
            }
        }
    }
    runner = Runner(
        workflow(tmp_path, spec),
        origin,
        tmp_path / "run",
        "push",
        {"ref": "refs/heads/main"},
        variables={"DVC_REMOTE_URL": "s3://b/p"},
        secrets={"KEY": "k"},
    )
    jobs = runner.run()
    assert jobs["j"].steps[0].output.strip() == "url=s3://b/p key=k leaked=none"


def test_concurrency_groups_keep_one_running_and_one_pending(tmp_path):
    spec = {"concurrency": {"group": "g-${{ github.ref }}", "cancel-in-progress": False}, "jobs": {}}
    path = workflow(tmp_path, spec)
    main = {"ref": "refs/heads/main"}
    other = {"ref": "refs/heads/other"}
    runs = [("push", main, "1"), ("push", main, "2"), ("push", other, "3"), ("push", main, "4")]
    assert concurrency_outcome(path, runs) == ["run", "cancelled", "run", "run"]
    spec["concurrency"]["cancel-in-progress"] = True
    path.write_text(yaml.safe_dump({"name": "t", "on": "push", **spec}))
    assert concurrency_outcome(path, runs) == ["cancelled", "cancelled", "run", "run"]


def test_two_expressions_in_one_string_are_interpolated_apart():
    from tests.harness.expressions import interpolate

    context = {"inputs": {"name": "lr"}, "github": {"run_id": "7"}}
    assert interpolate("${{ inputs.name }}-${{ github.run_id }}", context) == "lr-7"
    assert interpolate("${{ github.run_id }}", context) == "7"


def test_dispatch_inputs_are_typed_in_inputs_and_strings_in_the_event(tmp_path):
    """GitHub: `inputs.flag` is a boolean, `github.event.inputs.flag` the string 'true'; defaults
    fill what the dispatch left out; an undeclared input is refused."""
    import pytest

    origin = origin_with(tmp_path, {"a.txt": "a"})
    declared = {
        "flag": {"type": "boolean", "default": False},
        "count": {"type": "number", "default": 2},
        "name": {"required": True, "default": "sweep"},
    }
    script = (
        "echo 'typed=${{ inputs.flag == true }} string=${{ github.event.inputs.flag == 'true' }} "
        "mixed=${{ inputs.flag == 'true' }} count=${{ inputs.count }} name=${{ inputs.name }}'"
    )
    path = tmp_path / "wf.yml"
    path.write_text(
        yaml.safe_dump({"name": "t", "on": {"workflow_dispatch": {"inputs": declared}},
                        "jobs": {"show": {"runs-on": "ubuntu-latest", "steps": [step(script)]}}})
    )  # fmt: skip
    event = {"inputs": {"flag": True}}
    jobs = Runner(path, origin, tmp_path / "run", "workflow_dispatch", event).run()
    assert "typed=true string=true mixed=false count=2 name=sweep" in jobs["show"].steps[0].output, dump(jobs)
    with pytest.raises(AssertionError, match="Unexpected inputs provided"):
        Runner(path, origin, tmp_path / "again", "workflow_dispatch", {"inputs": {"nope": "1"}})
