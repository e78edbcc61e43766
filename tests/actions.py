"""Run a GitHub Actions workflow's jobs here, step by step, as a hosted runner would.

What is real: every `run:` step, exactly as written, under `bash --noprofile --norc -eo pipefail`
with the `${{ }}` expressions evaluated from the event; job order (`needs`), `if:` conditions,
`continue-on-error`, matrices, `timeout-minutes`, and the runner's files (GITHUB_ENV, GITHUB_PATH,
GITHUB_OUTPUT, GITHUB_STEP_SUMMARY). Git has no identity configured, as on a fresh runner.

What is emulated: `uses:` steps. checkout clones the bare `origin` with the given fetch depth
(a pull request checks out its head commit); setup-* do nothing; a cache of `.venv` or
`node_modules` is a hit on this repository's own (the Makefile's content-keyed markers decide
whether anything is installed); other caches miss and their saves are recorded; artifacts are
copied to a folder. `gh` is a stub that records its calls and refuses a read-only (fork) token.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from expressions import evaluate, interpolate, to_string

ROOT = Path(__file__).resolve().parents[1]
GH_STUB = """#!/usr/bin/env bash
# Records each call; a read-only token (a fork's pull request) is refused as GitHub does.
printf '%s\\n' "$*" >> "$GH_CALLS"
if [ "$GH_TOKEN" = "read-only" ]; then echo "GraphQL: Resource not accessible by integration" >&2; exit 1; fi
while [ $# -gt 0 ]; do
  if [ "$1" = "--body-file" ]; then cp "$2" "$GH_CALLS.body.$(wc -l < "$GH_CALLS" | tr -d ' ')"; fi
  shift
done
"""


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    output: str = ""
    seconds: float = 0.0


@dataclass
class JobResult:
    name: str
    result: str
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    workspace: Path | None = None

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


@dataclass
class Runner:
    """One workflow run: `origin` is a bare repository, `home` a scratch folder for this run."""

    workflow: Path
    origin: Path
    home: Path
    event_name: str
    event: dict[str, Any]
    ref: str = "refs/heads/main"
    repository: str = "fmnist/fmnist"
    token: str = "write-token"
    extra_env: dict[str, str] = field(default_factory=dict)
    cache_saves: list[str] = field(default_factory=list)
    run_id: str = "4242"
    # The repository's Actions variables (`vars`) and secrets (`secrets`); a fork's pull request
    # gets no secrets, so tests of one pass none.
    variables: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    # Called before the named step runs (for example: main gains a commit while a job trains).
    before_step: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spec = yaml.safe_load(self.workflow.read_text())
        self.home.mkdir(parents=True, exist_ok=True)
        self.artifacts = self.home / "artifacts"
        self.bin = self.home / "bin"
        self.bin.mkdir(exist_ok=True)
        (self.bin / "gh").write_text(GH_STUB)
        (self.bin / "gh").chmod(0o755)
        self.gh_calls = self.home / "gh-calls"
        self.gh_calls.touch()
        if self.event_name == "workflow_dispatch":
            self.inputs = dispatch_inputs(self.spec, self.event.get("inputs") or {})
            # github.event.inputs holds strings ("true"); only the inputs context keeps types.
            self.event = {**self.event, "inputs": {k: to_string(v) for k, v in self.inputs.items()}}
        else:
            self.inputs = {}
        # No git identity anywhere: a global config that only refuses to guess one.
        (self.home / "gitconfig").write_text("[user]\n\tuseConfigOnly = true\n[init]\n\tdefaultBranch = main\n")

    # ----- the run
    def run(self) -> dict[str, JobResult]:
        jobs: dict[str, JobResult] = {}
        pending = dict(self.spec["jobs"])
        while pending:
            ready = [n for n, j in pending.items() if set(_list(j.get("needs"))) <= set(jobs)]
            assert ready, f"unsatisfiable needs: {sorted(pending)}"
            for name in ready:
                spec = pending.pop(name)
                needs = {n: {"result": jobs[n].result, "outputs": jobs[n].outputs} for n in _list(spec.get("needs"))}
                # At job level, success()/failure() are about the needs: a failed or skipped need
                # skips the job unless its `if:` asks for always() or failure().
                status = "success" if all(n["result"] == "success" for n in needs.values()) else "failure"
                condition = status_condition(spec.get("if"))
                if not evaluate(condition, self._context(needs=needs, _status=status)):
                    jobs[name] = JobResult(name, "skipped")
                    continue
                matrix_rows = self._matrix(spec, needs)
                results = [self._job(name, spec, needs, row, index) for index, row in enumerate(matrix_rows)]
                merged = JobResult(name, "success" if all(r.result == "success" for r in results) else "failure")
                for result in results:
                    merged.steps += result.steps
                    merged.outputs.update(result.outputs)
                    merged.summary += result.summary
                merged.workspace = results[-1].workspace
                jobs[name] = merged
                jobs.update({f"{name}[{i}]": r for i, r in enumerate(results)} if len(results) > 1 else {})
        return jobs

    def _matrix(self, spec: dict, needs: dict) -> list[dict]:
        matrix = (spec.get("strategy") or {}).get("matrix")
        if matrix is None:
            return [{}]
        if isinstance(matrix, str):
            matrix = evaluate(matrix, self._context(needs=needs))
        keys = {k: _list(v) for k, v in matrix.items() if k not in ("include", "exclude")}
        rows = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*keys.values())] if keys else []
        include = matrix.get("include") or []
        if isinstance(include, str):
            include = evaluate(include, self._context(needs=needs))
        return rows + list(include) if rows or include else [{}]

    def _context(self, **extra: Any) -> dict[str, Any]:
        github = {
            "event_name": self.event_name,
            "event": self.event,
            "ref": self.ref,
            "ref_name": self.ref.split("/", 2)[-1],
            "sha": self._origin_sha(),
            "repository": self.repository,
            "run_id": self.run_id,
            "run_attempt": "1",
            "token": self.token,
            "server_url": "https://github.com",
            "workspace": "",
        }
        inputs = self.inputs
        runner = {"os": "Linux", "arch": "X64", "temp": str(self.home)}
        return {"github": github, "inputs": inputs, "runner": runner, "vars": dict(self.variables), **extra}

    def _origin_sha(self) -> str:
        if self.event_name == "pull_request":
            return self.event["pull_request"]["head"]["sha"]
        ref = self.ref if self.ref.startswith("refs/heads/") else "refs/heads/main"
        return _git(["rev-parse", ref], self.origin).strip()

    def _job(self, name: str, spec: dict, needs: dict, matrix: dict, index: int) -> JobResult:
        workspace = self.home / f"{name}-{index}" / "workspace"
        workspace.mkdir(parents=True)
        files = {key: workspace.parent / key for key in ("env", "path", "output", "summary")}
        for path in files.values():
            path.touch()
        result = JobResult(name, "success", workspace=workspace)
        steps_context: dict[str, dict] = {}
        context = self._context(needs=needs, matrix=matrix, steps=steps_context, secrets=dict(self.secrets))
        writes = _permissions(spec, self.spec).get("contents") == "write"
        context["github"]["workspace"] = str(workspace)
        job_env = {k: to_string(interpolate(v, {**context, "env": {}})) for k, v in (spec.get("env") or {}).items()}
        added_env: dict[str, str] = {}
        paths: list[str] = []
        timeout = float(interpolate(spec.get("timeout-minutes", 360), context)) * 60
        shell = ((spec.get("defaults") or self.spec.get("defaults") or {}).get("run") or {}).get("shell", "bash")
        assert shell == "bash", f"{name}: only bash steps are supported, got {shell}"
        for number, step in enumerate(spec["steps"]):
            step_name = step.get("name") or step.get("uses") or f"step {number}"
            env = {**job_env, **added_env}
            env.update(
                {k: to_string(interpolate(v, {**context, "env": env})) for k, v in (step.get("env") or {}).items()}
            )
            context["env"] = env
            failed = any(s.outcome == "failure" and not s.output.startswith("[continue]") for s in result.steps)
            context["_status"] = "failure" if failed else "success"
            if not evaluate(status_condition(step.get("if")), context):
                result.steps.append(StepResult(step_name, "skipped"))
                steps_context[step.get("id", f"_{number}")] = {"outcome": "skipped", "conclusion": "skipped"}
                continue
            files["output"].write_text("")
            if step_name in self.before_step:
                self.before_step[step_name]()
            began = time.perf_counter()
            if "uses" in step:
                ok, output = self._uses(step, context, workspace, files["output"])
            else:
                script = to_string(interpolate(step["run"], context))
                ok, output = self._bash(script, workspace, env, files, paths, timeout, writes)
            outcome = "success" if ok else "failure"
            if not ok and step.get("continue-on-error"):
                output = "[continue]" + output
            result.steps.append(StepResult(step_name, outcome, output, time.perf_counter() - began))
            added_env.update(_read_pairs(files["env"]))
            paths = [p for p in files["path"].read_text().splitlines() if p.strip()][::-1]
            conclusion = "success" if ok or step.get("continue-on-error") else "failure"
            steps_context[step.get("id", f"_{number}")] = {
                "outcome": outcome,
                "conclusion": conclusion,
                "outputs": _read_pairs(files["output"]),
            }
            if conclusion == "failure":
                result.result = "failure"
        context["_status"] = result.result
        for key, value in (spec.get("outputs") or {}).items():
            result.outputs[key] = str(interpolate(value, context))
        result.summary = files["summary"].read_text()
        return result

    def _bash(
        self, script: str, workspace: Path, env: dict, files: dict, paths: list[str], timeout: float, writes: bool
    ):
        # A runner starts with no credentials: whatever a step gets comes through `env:`.
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GIT_", "VIRTUAL_ENV", "AWS_"))}
        venv_bin = str(Path(sys.executable).parent)
        path = os.pathsep.join(
            [*paths, str(self.bin), *[p for p in base.get("PATH", "").split(os.pathsep) if p != venv_bin]]
        )
        full_env = {
            **base,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_REF": self.ref,
            "GITHUB_REF_NAME": self.ref.split("/", 2)[-1],
            "GITHUB_SHA": self._origin_sha(),
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_RUN_ID": self.run_id,
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ENV": str(files["env"]),
            "GITHUB_PATH": str(files["path"]),
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "RUNNER_TEMP": str(self.home),
            "GIT_CONFIG_GLOBAL": str(self.home / "gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GH_CALLS": str(self.gh_calls),
            # Read by origin's pre-receive hook: a job without `contents: write` cannot push.
            "HARNESS_CONTENTS": "write" if writes else "read",
            # The runner's python imports the checked-out package, not this repository's.
            "PYTHONPATH": str(workspace),
            **self.extra_env,
            **env,
            "PATH": path,
        }
        script_file = workspace.parent / "step.sh"
        script_file.write_text(script)
        try:
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
                cwd=workspace,
                env=full_env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return False, f"timed out after {timeout:.0f} s"
        return done.returncode == 0, done.stdout + done.stderr

    # ----- `uses:` steps
    def _uses(self, step: dict, context: dict, workspace: Path, output_file: Path) -> tuple[bool, str]:
        action = step["uses"].split("@")[0]
        given = {k: to_string(interpolate(v, context)) for k, v in (step.get("with") or {}).items()}
        if action == "actions/checkout":
            return self._checkout(workspace, int(given.get("fetch-depth", 1)), given.get("ref")), "checkout"
        if action in ("actions/setup-python", "actions/setup-node"):
            version = ".".join(map(str, sys.version_info[:3]))
            output_file.write_text(f"python-version={version}\n" if action == "actions/setup-python" else "")
            return True, "setup: the machine's own"
        if action in ("actions/cache", "actions/cache/restore"):
            hits = []
            for path in _lines(given["path"]):
                if path in (".venv", "node_modules") and (ROOT / path).is_dir():
                    (workspace / path).symlink_to(ROOT / path)
                    hits.append(path)
            output_file.write_text(f"cache-hit={'true' if hits else 'false'}\n")
            if action == "actions/cache" and not hits:
                self.cache_saves.append(given["key"])
            return True, f"cache: key {given['key']}, restored {hits or 'nothing'}"
        if action == "actions/cache/save":
            self.cache_saves.append(given["key"])
            return True, f"cache saved: {given['key']}"
        if action == "actions/upload-artifact":
            target = self.artifacts / given["name"]
            for pattern in _lines(given["path"]):
                for source in glob.glob(str(workspace / pattern)):
                    relative = Path(source).relative_to(workspace)
                    copy = shutil.copytree if Path(source).is_dir() else shutil.copy2
                    (target / relative).parent.mkdir(parents=True, exist_ok=True)
                    copy(source, target / relative, dirs_exist_ok=True) if Path(source).is_dir() else copy(
                        source, target / relative
                    )
            return target.exists(), f"artifact {given['name']}"
        if action == "actions/download-artifact":
            destination = workspace / given.get("path", ".")
            for folder in sorted(self.artifacts.glob("*")):
                if fnmatch.fnmatch(folder.name, given.get("pattern", given.get("name", "*"))):
                    into = destination if given.get("merge-multiple") == "true" else destination / folder.name
                    shutil.copytree(folder, into, dirs_exist_ok=True)
            return True, "artifacts downloaded"
        return False, f"the harness does not know the action {step['uses']}"

    def _checkout(self, workspace: Path, depth: int, ref: str | None) -> bool:
        url = self.origin.resolve().as_uri()
        _git(["init", "-q"], workspace)
        _git(["remote", "add", "origin", url], workspace)
        if self.event_name == "pull_request" and not ref:
            return self._checkout_merge(workspace, depth)
        target = ref or self.ref
        fetch = ["fetch", "-q", "origin"] + ([f"--depth={depth}"] if depth > 0 else [])
        if depth == 0:
            _git([*fetch, "+refs/heads/*:refs/remotes/origin/*"], workspace)
            if re.fullmatch(r"[0-9a-f]{40}", target):
                _git(["fetch", "-q", "origin", target], workspace)
        else:
            _git([*fetch, target], workspace)
        if target.startswith("refs/heads/"):
            branch = target.removeprefix("refs/heads/")
            _git(["checkout", "-q", "-B", branch, "FETCH_HEAD" if depth else f"origin/{branch}"], workspace)
        else:
            _git(["checkout", "-q", "--detach", target if depth == 0 else "FETCH_HEAD"], workspace)
        return True

    def _checkout_merge(self, workspace: Path, depth: int) -> bool:
        """A pull request checks out refs/pull/N/merge: its head merged into the base branch's tip."""
        pull = self.event["pull_request"]
        _git(["fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*"], workspace)
        _git(["fetch", "-q", "origin", pull["head"]["sha"]], workspace)
        base = f"origin/{pull['base']['ref']}"
        _git(["checkout", "-q", "--detach", base], workspace)
        identity = ["-c", "user.name=GitHub", "-c", "user.email=noreply@github.com"]
        _git(
            [
                *identity,
                "merge",
                "-q",
                "--no-ff",
                "--no-edit",
                "-m",
                f"Merge {pull['head']['sha']} into {base}",
                pull["head"]["sha"],
            ],
            workspace,
        )
        return True


def dispatch_inputs(workflow: dict, given: dict[str, Any]) -> dict[str, Any]:
    """The `inputs` context of a workflow_dispatch run, as GitHub builds it: defaults filled in,
    booleans as booleans and numbers as numbers, everything else a string; an undeclared input
    or a missing required one is refused before any job runs."""
    triggers = workflow.get(True) or workflow.get("on") or {}  # YAML 1.1 reads `on` as true
    declared = ((triggers.get("workflow_dispatch") if isinstance(triggers, dict) else None) or {}).get("inputs") or {}
    unexpected = sorted(set(given) - set(declared))
    assert not unexpected, f"Unexpected inputs provided: {unexpected}"
    inputs: dict[str, Any] = {}
    for name, spec in declared.items():
        kind = spec.get("type", "string")
        value = given.get(name, spec.get("default", False if kind == "boolean" else ""))
        assert not (spec.get("required") and value in ("", None)), f"Required input '{name}' not provided"
        if kind == "boolean":
            assert str(value).lower() in ("true", "false"), f"input {name}: {value!r} is not a boolean"
            inputs[name] = str(value).lower() == "true"
        elif kind == "number":
            number = float(value)
            inputs[name] = int(number) if number.is_integer() else number
        else:
            if kind == "choice":
                assert value in spec.get("options", []), f"input {name}: {value!r} is not one of its options"
            inputs[name] = to_string(value)
    return inputs


def _permissions(job: dict, workflow: dict) -> dict[str, str]:
    """The job's token permissions: its own `permissions:`, else the workflow's (GitHub's default
    for a repository is read-only contents here)."""
    permissions = job.get("permissions", workflow.get("permissions", {"contents": "read"}))
    if permissions == "write-all":
        return {"contents": "write", "pull-requests": "write"}
    return {} if permissions in ("read-all", None) else dict(permissions)


PRE_RECEIVE = """#!/bin/sh
# The harness's token check: only a job with `contents: write` may push (GitHub answers 403).
if [ -n "$HARNESS_CONTENTS" ] && [ "$HARNESS_CONTENTS" != write ]; then
  echo "remote: Permission to the repository denied to github-actions[bot] (contents: read)." >&2
  exit 1
fi
"""


def guard_origin(origin: Path) -> None:
    """Install the permissions check in a bare origin (pushes from outside the harness pass)."""
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(PRE_RECEIVE)
    hook.chmod(0o755)


def concurrency_outcome(workflow: Path, runs: list[tuple[str, dict, str]]) -> list[str]:
    """What GitHub does with runs triggered in this order, all before the first ends: per
    concurrency group one runs and at most one waits; a newer run replaces (cancels) the waiting
    one, and with `cancel-in-progress` also the running one. Each run is (event name, event,
    run id); the result is 'run' or 'cancelled' per run."""
    spec = yaml.safe_load(workflow.read_text())
    concurrency = spec.get("concurrency")
    outcomes = ["run"] * len(runs)
    running: dict[str, int] = {}
    pending: dict[str, int] = {}
    for index, (event_name, event, run_id) in enumerate(runs):
        if concurrency is None:
            continue
        context = {
            "github": {
                "event_name": event_name,
                "event": event,
                "ref": event.get("ref", "refs/heads/main"),
                "run_id": run_id,
            },
            "inputs": event.get("inputs", {}),
        }
        group = str(interpolate(concurrency["group"], context))
        cancel = interpolate(concurrency.get("cancel-in-progress", False), context)
        if cancel in (True, "true") and group in running:
            outcomes[running.pop(group)] = "cancelled"
        if group in pending:
            outcomes[pending.pop(group)] = "cancelled"
        if group in running:
            pending[group] = index
        else:
            running[group] = index
    return outcomes


def status_condition(condition: str | None) -> str:
    """GitHub adds `success() &&` to a condition that names no status function."""
    text = re.sub(r"^\s*\$\{\{(.*)\}\}\s*$", r"\1", condition or "", flags=re.S).strip()
    if not text:
        return "success()"
    if re.search(r"\b(success|failure|always|cancelled)\s*\(", text):
        return text
    return f"success() && ({text})"


def _git(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def _list(value: Any) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read_pairs(path: Path) -> dict[str, str]:
    """KEY=value lines and KEY<<DELIMITER blocks, as GITHUB_ENV and GITHUB_OUTPUT take them."""
    pairs, lines = {}, path.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            pairs[key] = "\n".join(lines[index + 1 : end])
            index = end
        elif "=" in line:
            key, value = line.split("=", 1)
            pairs[key] = value
        index += 1
    return pairs


def hash_files(workspace: Path, *patterns: str) -> str:
    digest, found = hashlib.sha256(), False
    for pattern in patterns:
        for path in sorted(glob.glob(str(workspace / pattern), recursive=True)):
            if Path(path).is_file():
                digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
                found = True
    return digest.hexdigest() if found else ""


def dump(jobs: dict[str, JobResult]) -> str:
    """Every step's outcome and output, for assertion messages."""
    return "\n".join(
        f"[{j.name}] {s.name}: {s.outcome} ({s.seconds:.1f} s)\n{s.output[-3000:]}"
        for j in jobs.values()
        for s in j.steps
    )


__all__ = ["JobResult", "Runner", "concurrency_outcome", "dump", "guard_origin", "hash_files", "json"]
