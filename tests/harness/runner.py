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

import itertools
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.harness.expressions import evaluate, interpolate, to_string
from tests.harness.github import dispatch_inputs, permissions, status_condition
from tests.harness.uses import run_action
from tests.harness.util import as_list, git, read_pairs

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
            ready = [n for n, j in pending.items() if set(as_list(j.get("needs"))) <= set(jobs)]
            assert ready, f"unsatisfiable needs: {sorted(pending)}"
            for name in ready:
                spec = pending.pop(name)
                needs = {n: {"result": jobs[n].result, "outputs": jobs[n].outputs} for n in as_list(spec.get("needs"))}
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
        # A key's values may be one expression too (`worker: ${{ fromJSON(needs.plan.outputs.workers) }}`).
        context = self._context(needs=needs)
        keys = {k: as_list(interpolate(v, context)) for k, v in matrix.items() if k not in ("include", "exclude")}
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
        return git(["rev-parse", ref], self.origin).strip()

    def _job(self, name: str, spec: dict, needs: dict, matrix: dict, index: int) -> JobResult:
        workspace = self.home / f"{name}-{index}" / "workspace"
        workspace.mkdir(parents=True)
        files = {key: workspace.parent / key for key in ("env", "path", "output", "summary")}
        for path in files.values():
            path.touch()
        result = JobResult(name, "success", workspace=workspace)
        steps_context: dict[str, dict] = {}
        context = self._context(needs=needs, matrix=matrix, steps=steps_context, secrets=dict(self.secrets))
        writes = permissions(spec, self.spec).get("contents") == "write"
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
                ok, output = run_action(self, step, context, workspace, files["output"])
            else:
                script = to_string(interpolate(step["run"], context))
                ok, output = self._bash(script, workspace, env, files, paths, timeout, writes)
            outcome = "success" if ok else "failure"
            if not ok and step.get("continue-on-error"):
                output = "[continue]" + output
            result.steps.append(StepResult(step_name, outcome, output, time.perf_counter() - began))
            added_env.update(read_pairs(files["env"]))
            paths = [p for p in files["path"].read_text().splitlines() if p.strip()][::-1]
            conclusion = "success" if ok or step.get("continue-on-error") else "failure"
            steps_context[step.get("id", f"_{number}")] = {
                "outcome": outcome,
                "conclusion": conclusion,
                "outputs": read_pairs(files["output"]),
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


def dump(jobs: dict[str, JobResult]) -> str:
    """Every step's outcome and output, for assertion messages."""
    return "\n".join(
        f"[{j.name}] {s.name}: {s.outcome} ({s.seconds:.1f} s)\n{s.output[-3000:]}"
        for j in jobs.values()
        for s in j.steps
    )
