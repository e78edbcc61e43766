"""The harness's evaluator agrees with GitHub's own (`@actions/expressions`, run by node through
.ci/expressions.mjs) on every expression and `if:` in the workflows, under push, pull-request
and dispatch contexts, and on the expression tests' cases."""

import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.harness.expressions import evaluate
from tests.harness.github import status_condition
from tests.harness.test_expressions import CASES, CONTEXT
from tests.helpers import ROOT

EVALUATOR = ROOT / ".ci" / "expressions.mjs"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "@actions" / "expressions").is_dir(),
    reason="needs node and `npm ci` (make node-tools)",
)
MATRIX = '{"include": [{"name": "lr-1-1", "set": "variants.mlp_a.learning_rate=0.001"}]}'


def contexts() -> dict[str, dict]:
    common = {
        "runner": {"os": "Linux", "arch": "X64", "temp": "/tmp"},
        "vars": {"DVC_REMOTE_URL": "s3://bucket/dvc", "DVC_REMOTE_ENDPOINT": ""},
        "secrets": {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"},
        "steps": {"python": {"outputs": {"python-version": "3.11.7"}}, "rank": {"outputs": {"winner": "lr-1-1"}}},
        "needs": {
            "plan": {"result": "success", "outputs": {"matrix": MATRIX}},
            "collect": {"result": "success", "outputs": {"winner": "lr-1-1"}},
            "test": {"result": "success", "outputs": {}},
            "point": {"result": "failure", "outputs": {}},
        },
        "matrix": {
            "name": "lr-1-1",
            "set": "variants.mlp_a.learning_rate=0.001",
            "python": "3.13",
            "target": "test-fast",
        },
        "env": {"DVC_REMOTE_URL": "s3://bucket/dvc"},
        "_status": "success",
    }
    github = {"repository": "fmnist/fmnist", "run_id": "4242", "sha": "abc", "ref": "refs/heads/main", "token": "t"}
    pull = {"number": 7, "head": {"sha": "def", "ref": "topic", "repo": {"full_name": "fork/fmnist"}}}
    pull["base"] = {"sha": "abc", "ref": "main"}
    inputs = {"grid": "a=1,2", "metric": "m.json:acc", "runner": "ubuntu-latest", "max-parallel": "4", "name": "lr"}
    return {
        "push": {**common, "github": {**github, "event_name": "push", "event": {}}, "inputs": {}},
        "pull_request": {
            **common,
            "github": {**github, "event_name": "pull_request", "event": {"pull_request": pull}},
            "inputs": {},
        },
        "dispatch": {
            **common,
            "github": {
                **github,
                "event_name": "workflow_dispatch",
                "event": {"inputs": {**inputs, "open-pull-request": "true", "overrides": "x=1"}},
            },
            "inputs": {**inputs, "open-pull-request": True, "overrides": "x=1"},
            "_status": "failure",
        },
    }


def workflow_expressions() -> list[str]:
    found = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str):
            if key == "if":
                found.append(status_condition(node))
            found.extend(match.strip() for match in re.findall(r"\$\{\{(.*?)\}\}", node, re.S))

    for name in ("retrain.yml", "sweep.yml"):
        walk(yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text()))
    # hashFiles() reads the runner's files: not part of the expression language's evaluator.
    return sorted({e for e in found if "hashfiles(" not in e.lower()})


def github_evaluates(pairs: list[tuple[str, dict]]) -> list[dict]:
    lines = "\n".join(json.dumps({"expression": e, "context": c}) for e, c in pairs) + "\n"
    done = subprocess.run(["node", str(EVALUATOR)], input=lines, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def ours(expression: str, context: dict):
    try:
        return {"value": evaluate(expression, context)}
    except Exception as error:
        return {"error": str(error)}


def same(a: dict, b: dict) -> bool:
    if "error" in a or "error" in b:
        return "error" in a and "error" in b
    return json.loads(json.dumps(a["value"]), parse_float=float) == json.loads(json.dumps(b["value"]))


def test_every_workflow_expression_evaluates_as_on_github():
    expressions = workflow_expressions()
    assert len(expressions) > 30 and any("needs." in e for e in expressions)
    pairs = [(e, c) for c in contexts().values() for e in expressions]
    theirs = github_evaluates(pairs)
    differ = [(e, c["github"]["event_name"], ours(e, c), t) for (e, c), t in zip(pairs, theirs, strict=True)]
    differ = [d for d in differ if not same(d[2], d[3])]
    assert not differ, "\n".join(f"{e!r} [{event}]: harness {o}, GitHub {t}" for e, event, o, t in differ)


def test_the_expression_tests_agree_with_github():
    theirs = github_evaluates([(expression, CONTEXT) for expression, _ in CASES])
    for (expression, expected), result in zip(CASES, theirs, strict=True):
        assert result == {"value": expected}, expression
