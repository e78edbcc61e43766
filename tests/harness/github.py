"""GitHub's rules that the harness enforces: dispatch inputs, token permissions (checked by the
bare origin's pre-receive hook), concurrency groups, and the implied `success()` of `if:`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.harness.expressions import interpolate, to_string


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


def permissions(job: dict, workflow: dict) -> dict[str, str]:
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
