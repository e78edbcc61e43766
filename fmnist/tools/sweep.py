"""Sweeps across machines: expand a grid into points, then pull and rank what the machines pushed.

Nothing here schedules anything. Each machine (a CI runner, a workstation) runs its points with
`dvc exp run -S … -n NAME` and `dvc exp push origin NAME`; DVC carries the git refs and, through
the DVC remote, the outputs. `collect` pulls them back and ranks them on a validation metric.
The grid uses DVC's own `-S key=a,b` syntax and DVC's own expansion, so a point is exactly
what `dvc exp run --queue -S …` would have queued.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Sequence
from typing import Any

from fmnist.core.errors import FmnistError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}")


def expand(overrides: Sequence[str]) -> list[list[str]]:
    """`-S` overrides (each may sweep, `key=a,b`) -> one list of plain overrides per point.

    DVC has no public API for its sweep grammar; these are the functions `dvc exp run --queue -S`
    itself calls, so a point is exactly what DVC would queue (pinned: dvc==3.67.1)."""
    from dvc.dependency.param import ParamsDependency
    from dvc.utils.cli_parse import to_path_overrides
    from dvc.utils.hydra import get_hydra_sweeps

    if not overrides:
        raise FmnistError("sweep: no -S overrides given (e.g. variants.mlp_a.learning_rate=0.001,0.003)")
    for override in overrides:
        if "=" not in override:
            raise FmnistError(f"sweep: {override!r}: expected key=value or key=a,b,… (DVC's -S syntax)")
    try:
        sweeps = get_hydra_sweeps(to_path_overrides(list(overrides)))
    except Exception as error:  # hydra's grammar errors carry the offending text
        raise FmnistError(f"sweep: {' '.join(overrides)}: {str(error).splitlines()[0]}") from None
    points = []
    for sweep in sweeps:
        point = []
        for path, settings in sweep.items():
            prefix = "" if path == ParamsDependency.DEFAULT_PARAMS_FILE else f"{path}:"
            point += [prefix + setting for setting in settings]
        points.append(point)
    return points


def plan(grid: str, prefix: str) -> dict[str, list[dict[str, str]]]:
    """A GitHub Actions matrix: one entry per point, named `<prefix>-<n>` as `dvc exp run --queue -n` names them."""
    if not NAME.fullmatch(prefix):
        raise FmnistError(f"sweep: name prefix {prefix!r}: use letters, digits, '-' and '_' (at most 41)")
    points = expand(shlex.split(grid))
    return {"include": [{"name": f"{prefix}-{i + 1}", "set": " ".join(p)} for i, p in enumerate(points)]}


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def revision_row(revision: dict) -> dict[str, Any]:
    """One revision of `dvc exp show --json`: its name, commit, flat params and each metrics
    file's content. Files that report an error instead of data, as a running experiment's do,
    are left out."""
    data = revision.get("data") or {}
    params = {k: v for path in (data.get("params") or {}).values() for k, v in flatten(path.get("data") or {}).items()}
    metrics = {path: content["data"] for path, content in (data.get("metrics") or {}).items() if content.get("data")}
    return {
        "name": revision.get("name"),
        "rev": data.get("rev") or revision.get("rev"),
        "params": params,
        "metrics": metrics,
    }


def experiment_rows(shown: list[dict]) -> list[dict[str, Any]]:
    """(name, flat params, flat metrics) of every experiment in `dvc exp show --json` output."""
    rows = []
    for baseline in shown:
        for experiment in baseline.get("experiments") or []:
            for revision in experiment.get("revs") or []:
                row = revision_row(revision)
                metrics = {
                    f"{path}:{key}": value
                    for path, content in row["metrics"].items()
                    for key, value in flatten(content).items()
                }
                rows.append({"name": row["name"] or row["rev"][:7], "params": row["params"], "metrics": metrics})
    return rows


def rank(rows: list[dict[str, Any]], metric: str, names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows that report `metric` (and are among `names`, if given), best first."""
    chosen = [
        r for r in rows if (not names or r["name"] in names) and isinstance(r["metrics"].get(metric), int | float)
    ]
    if not chosen:
        known = sorted({m for r in rows for m in r["metrics"]})[:20]
        raise FmnistError(f"sweep: no experiment reports {metric!r}; metrics seen: {known}")
    return sorted(chosen, key=lambda r: r["metrics"][metric], reverse=True)


def varied_params(rows: list[dict[str, Any]]) -> list[str]:
    keys = sorted({k for r in rows for k in r["params"]})
    return [k for k in keys if len({json.dumps(r["params"].get(k)) for r in rows}) > 1]


def leaderboard_markdown(ranked: list[dict[str, Any]], metric: str, failed: Sequence[str] = ()) -> str:
    """Ranked points, best first, then the points that did not finish (no rank)."""
    keys = varied_params(ranked)
    lines = [f"| rank | experiment | {' | '.join(keys)} | {metric} |", "|---:|---|" + "---|" * len(keys) + "---:|"]
    for position, row in enumerate(ranked, 1):
        values = " | ".join(str(row["params"].get(k)) for k in keys)
        lines.append(f"| {position} | `{row['name']}` | {values} | {row['metrics'][metric]:.4f} |")
    for name in failed:
        lines.append(f"| – | `{name}` | {' | ' * len(keys)}failed: not pushed |")
    return "\n".join(lines)


def _dvc(*command: str) -> tuple[int, str]:
    done = subprocess.run(["dvc", *command], capture_output=True, text=True, check=False)
    return done.returncode, (done.stdout + done.stderr).strip()


def pull(remote: str, names: Sequence[str]) -> list[str]:
    """`dvc exp pull REMOTE NAME` for each name (refs from git, outputs from the DVC remote);
    returns the names that could not be pulled: points that failed before they pushed. With no
    names, every experiment of every commit is pulled, and any error is fatal."""
    if not names:
        code, output = _dvc("exp", "pull", "--all-commits", remote)
        if code != 0:
            raise FmnistError(f"dvc exp pull --all-commits {remote}: {output.splitlines()[-1] if output else 'failed'}")
        return []
    return [name for name in names if _dvc("exp", "pull", remote, name)[0] != 0]


def push(remote: str, name: str) -> None:
    """`dvc exp push REMOTE NAME`, failing where DVC only warns: an experiment of that name that
    diverged on the remote (a rerun with the same name) would leave the older one to be ranked."""
    code, output = _dvc("exp", "push", remote, name)
    if code != 0 or "diverged" in output:
        lines = output.splitlines() or ["failed"]
        reason = next((line for line in lines if "diverged" in line), lines[-1]).strip()
        raise FmnistError(f"dvc exp push {remote} {name}: {reason} (use a new experiment name)")
    print(output)


def collect(remote: str | None, names: Sequence[str], metric: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Pull (when `remote` is given) and rank the finished points; the others are returned as
    failed. Fails only when no point finished."""
    failed = pull(remote, names) if remote else []
    finished = [name for name in names if name not in failed]
    if names and not finished:
        raise FmnistError(f"sweep: none of the {len(names)} points finished (none was pushed): {' '.join(names)}")
    ranked = rank(experiment_rows(show()), metric, finished)
    reported = {row["name"] for row in ranked}
    return ranked, [*failed, *(name for name in finished if name not in reported)]


def show(*options: str) -> list[dict]:
    """`dvc exp show --json [options]`, parsed. Not `dvc.api.exp_show`: it returns table cells,
    whose column names drop the file path when a key is unique (so a name depends on which other
    metrics exist), whose values went through text, and whose commits are cut to 7 characters."""
    done = subprocess.run(["dvc", "exp", "show", "--json", *options], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise FmnistError(f"dvc exp show: {done.stderr.strip()[:200]}")
    return json.loads(done.stdout)
