"""The `uses:` steps the workflows call, emulated: checkout clones the bare `origin` (a pull
request gets the merge of its head into the base tip), setup-* use this machine's Python, a
`.venv`/`node_modules` cache hits on this checkout's own, artifacts are copied to a folder."""

from __future__ import annotations

import fnmatch
import glob
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.harness.expressions import interpolate, to_string
from tests.harness.util import ROOT, git, lines

if TYPE_CHECKING:
    from tests.harness.runner import Runner


def run_action(runner: Runner, step: dict, context: dict, workspace: Path, output_file: Path) -> tuple[bool, str]:
    action = step["uses"].split("@")[0]
    given = {k: to_string(interpolate(v, context)) for k, v in (step.get("with") or {}).items()}
    if action == "actions/checkout":
        return checkout(runner, workspace, int(given.get("fetch-depth", 1)), given.get("ref")), "checkout"
    if action in ("actions/setup-python", "actions/setup-node"):
        version = ".".join(map(str, sys.version_info[:3]))
        output_file.write_text(f"python-version={version}\n" if action == "actions/setup-python" else "")
        return True, "setup: the machine's own"
    if action in ("actions/cache", "actions/cache/restore"):
        hits = []
        for path in lines(given["path"]):
            if path in (".venv", "node_modules") and (ROOT / path).is_dir():
                (workspace / path).symlink_to(ROOT / path)
                hits.append(path)
        output_file.write_text(f"cache-hit={'true' if hits else 'false'}\n")
        if action == "actions/cache" and not hits:
            runner.cache_saves.append(given["key"])
        return True, f"cache: key {given['key']}, restored {hits or 'nothing'}"
    if action == "actions/cache/save":
        runner.cache_saves.append(given["key"])
        return True, f"cache saved: {given['key']}"
    if action == "actions/upload-artifact":
        target = runner.artifacts / given["name"]
        for pattern in lines(given["path"]):
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
        for folder in sorted(runner.artifacts.glob("*")):
            if fnmatch.fnmatch(folder.name, given.get("pattern", given.get("name", "*"))):
                into = destination if given.get("merge-multiple") == "true" else destination / folder.name
                shutil.copytree(folder, into, dirs_exist_ok=True)
        return True, "artifacts downloaded"
    return False, f"the harness does not know the action {step['uses']}"


def checkout(runner: Runner, workspace: Path, depth: int, ref: str | None) -> bool:
    url = runner.origin.resolve().as_uri()
    git(["init", "-q"], workspace)
    git(["remote", "add", "origin", url], workspace)
    if runner.event_name == "pull_request" and not ref:
        return checkout_merge(runner, workspace, depth)
    target = ref or runner.ref
    fetch = ["fetch", "-q", "origin"] + ([f"--depth={depth}"] if depth > 0 else [])
    if depth == 0:
        git([*fetch, "+refs/heads/*:refs/remotes/origin/*"], workspace)
        if re.fullmatch(r"[0-9a-f]{40}", target):
            git(["fetch", "-q", "origin", target], workspace)
    else:
        git([*fetch, target], workspace)
    if target.startswith("refs/heads/"):
        branch = target.removeprefix("refs/heads/")
        git(["checkout", "-q", "-B", branch, "FETCH_HEAD" if depth else f"origin/{branch}"], workspace)
    else:
        git(["checkout", "-q", "--detach", target if depth == 0 else "FETCH_HEAD"], workspace)
    return True


def checkout_merge(runner: Runner, workspace: Path, depth: int) -> bool:
    """A pull request checks out refs/pull/N/merge: its head merged into the base branch's tip."""
    pull = runner.event["pull_request"]
    git(["fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*"], workspace)
    git(["fetch", "-q", "origin", pull["head"]["sha"]], workspace)
    base = f"origin/{pull['base']['ref']}"
    git(["checkout", "-q", "--detach", base], workspace)
    identity = ["-c", "user.name=GitHub", "-c", "user.email=noreply@github.com"]
    git(
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
