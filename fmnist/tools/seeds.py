"""Accuracy over seeds: a variant judged on the mean of several training seeds, not one run.

`make seeds` queues one DVC experiment per extra seed (`queue`: `dvc exp run --queue -S
variants.<name>.seed=N evaluate@<name>`, or `students.<name>.seed=N evaluate_student@<name>`) and
runs the queue; each experiment re-trains that model alone. `fmnist seeds` then reads `dvc exp
show --json --all-commits`, so it still finds them after later commits.
A variant's seeds are the baseline commit's own run plus every experiment of that commit whose
params differ from the baseline's in that variant's seed alone, so points of other sweeps never
count. A preset has no committed run: each of its seeds, its own included, is an experiment whose
params.yaml holds the preset copied into `variants:` (as `fmnist preset` writes it), and that
copy, read back as `presets.<name>`, must equal the baseline's preset but for the seed.
The study goes to metrics/seeds.json with the commit it was measured on; the README's seeds
block is generated from it and says when the committed run has changed since.
"""

from __future__ import annotations

import json
import statistics
import subprocess
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from fmnist.core.errors import FmnistError
from fmnist.tools.sweep import revision_row


def queue(
    params_path: Path, names: Sequence[str], seeds: Sequence[int], run: Callable[..., Any] = subprocess.run
) -> list[str]:
    """Queue one `dvc exp run` per seed of each of `names` (a variant, student or preset) that
    targets its evaluate stage, so an experiment re-trains that model alone; returns the
    experiment names. A preset's own seed is queued too, and its experiments see params.yaml with
    the preset copied into `variants:`; the file's bytes are restored afterwards."""
    from fmnist.core.config import load_params
    from fmnist.core.io import write_bytes
    from fmnist.tools.presets import add_preset

    params = load_params(params_path)
    queued = []
    for name in names:
        # A preset already copied into variants (`fmnist preset`) is seeded as the variant.
        section, own = params.section(name), params.variant(name).seed
        extra = [seed for seed in dict.fromkeys(seeds) if seed != own]
        if section != "presets":
            stage = "evaluate_student" if section == "students" else "evaluate"
            queued += [_queue(run, name, seed, f"{section}.{name}.seed", f"{stage}@{name}") for seed in extra]
            continue
        original = params_path.read_bytes()
        add_preset(params_path, name)
        try:
            queued += [_queue(run, name, seed, f"variants.{name}.seed", f"evaluate@{name}") for seed in [own, *extra]]
        finally:
            write_bytes(params_path, original)
    return queued


def _queue(run: Callable[..., Any], name: str, seed: int, key: str, target: str) -> str:
    experiment = f"seed-{name}-{seed}"
    command = ["dvc", "exp", "run", "--queue", "-n", experiment, "-S", f"{key}={seed}", target]
    done = run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise FmnistError(f"seeds: {' '.join(command)} failed: {detail[-1] if detail else done.returncode}")
    return experiment


def _baselines(shown: list[dict]) -> list[tuple[dict, list[dict]]]:
    """(baseline commit row, its experiments' rows) for each commit in `dvc exp show --json`."""
    found = []
    for entry in shown:
        if entry.get("rev") == "workspace":
            continue
        experiments = [revision_row(r) for e in entry.get("experiments") or [] for r in e.get("revs") or []]
        found.append((revision_row(entry), experiments))
    return found


def committed_json(rev: str, path: str) -> dict | None:
    """A JSON file as commit (or experiment) `rev` holds it; None where it has none. The train
    stage's metrics are plain outputs, not experiment-table columns, so they are read here."""
    shown = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=False)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def _as_preset(params: dict[str, Any], name: str) -> dict[str, Any]:
    """An experiment's flat params with its `variants.<name>.*` copy read as `presets.<name>.*`."""
    copied, preset = f"variants.{name}.", f"presets.{name}."
    kept = {key: value for key, value in params.items() if not key.startswith((copied, preset))}
    return kept | {preset + key[len(copied) :]: value for key, value in params.items() if key.startswith(copied)}


def seed_runs(
    shown: list[dict],
    variant: str,
    read: Callable[[str, str], dict | None] | None = None,
    student: bool = False,
    preset: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """The baseline commit with the most seeds of `variant`, and one record per seed: the commit's
    run first, then its experiments that changed only `variants.<variant>.seed`, each seed once,
    by seed. Test accuracy comes from the experiment table, the training record from `read`."""
    section, suffix = ("students", "_student") if student else ("presets" if preset else "variants", "")
    key, read = f"{section}.{variant}.seed", read or committed_json
    from fmnist.tools.pipeline import stage_path

    # `dvc exp show --json` keys metrics by the paths dvc.yaml gives them.
    train = stage_path("train" + suffix, "metrics", variant).as_posix()
    evaluation = stage_path("evaluate" + suffix, "metrics", variant).as_posix()
    studies = []
    for baseline, experiments in _baselines(shown):
        if key not in baseline["params"]:
            continue
        runs: dict[Any, dict[str, Any]] = {}
        for row in [baseline, *experiments]:
            params = _as_preset(row["params"], variant) if preset and row is not baseline else row["params"]
            keys = {*params, *baseline["params"]}
            changed = {k for k in keys if params.get(k) != baseline["params"].get(k)}
            if changed - {key} or evaluation not in row["metrics"] or params[key] in runs:
                continue
            training = read(row["rev"], train)
            if training is None:
                continue
            seed = params[key]
            runs[seed] = {
                "seed": seed,
                "experiment": row["name"] if row is not baseline else None,
                "test_accuracy": row["metrics"][evaluation]["accuracy"],
                "best_val_accuracy": training["best_val_accuracy"],
                "train_seconds": training["train_seconds"],
                "precision": training.get("precision", "not recorded"),
                "cpu": training.get("cpu", "not recorded"),
                "cpu_features": training.get("cpu_features", []),
            }  # fmt: skip
        # The committed seed first (a preset's: its experiment of that seed), then by seed.
        ordered = sorted(runs.values(), key=lambda run: (run["seed"] != baseline["params"][key], run["seed"]))
        studies.append((baseline["rev"], ordered))
    if not studies:
        raise FmnistError(f"seeds: no commit in `dvc exp show` has params key {key!r}")
    # With --all-commits, the commit whose seeds were run (the newest of equals) rather than HEAD.
    return max(studies, key=lambda study: len(study[1]))


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean and sample standard deviation of test and validation accuracy over the seeds."""
    test = [r["test_accuracy"] for r in runs]
    val = [r["best_val_accuracy"] for r in runs]
    return {
        "seeds": len(runs),
        "test_accuracy_mean": round(statistics.fmean(test), 6),
        "test_accuracy_sd": round(statistics.stdev(test), 6),
        "best_val_accuracy_mean": round(statistics.fmean(val), 6),
        "train_seconds_mean": round(statistics.fmean(r["train_seconds"] for r in runs), 1),
    }


def study(
    shown: list[dict],
    variants: Sequence[str],
    minimum: int = 3,
    previous: dict | None = None,
    targets: dict[str, float] | None = None,
    students: Collection[str] = (),
    presets: Collection[str] = (),
) -> dict:
    """metrics/seeds.json's content: `previous` with each of `variants` measured afresh, and the
    mean test accuracy each is held to (`targets`; else the table falls back to its CI floor).

    A variant with fewer than `minimum` seeds is an error naming the seeds found."""
    result = {"variants": dict((previous or {}).get("variants", {}))}
    for variant in variants:
        commit, runs = seed_runs(shown, variant, student=variant in students, preset=variant in presets)
        if len(runs) < minimum:
            found = ", ".join(str(r["seed"]) for r in runs) or "none"
            raise FmnistError(
                f"seeds: {variant}: {len(runs)} seed(s) found ({found}) at commit {commit[:7]}, expected at least "
                f"{minimum}; queue more with make seeds SEED_VARIANTS={variant}"
            )
        result["variants"][variant] = {"commit": commit, "runs": runs, **summarise(runs)}
        if targets and variant in targets:
            result["variants"][variant]["target"] = targets[variant]
    return result
