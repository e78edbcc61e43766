"""Accuracy over seeds: a variant judged on the mean of several training seeds, not one run.

`make seeds` queues one DVC experiment per extra seed (`queue`: `dvc exp run --queue -S
variants.<name>.seed=N evaluate@<name>`, or `students.<name>.seed=N evaluate_student@<name>`) and
runs the queue; each experiment re-trains that model alone. `fmnist seeds` then reads `dvc exp
show --json --all-commits`, so it still finds them after later commits.
A variant's seeds are a commit's own run plus every experiment of that commit whose params
differ from the commit's in that variant's seed alone, so points of other sweeps never count.
Runs of different commits join when their dvc.lock records the same stage inputs (code, data,
params) but the seed, so a seed run in a later session, after unrelated commits, still counts.
A preset has no committed run: each of its seeds, its own included, is an experiment whose
params.yaml holds the preset copied into `variants:` (as `fmnist preset` writes it), and that
copy, read back as `presets.<name>`, must equal the commit's preset but for the seed.
The study goes to metrics/seeds.json with the newest commit it covers and each run's own; the
README's seeds block is generated from it and says when the committed run has changed since.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fmnist.core.errors import FmnistError
from fmnist.tools.sweep import revision_row


def queue(
    params_path: Path,
    names: Sequence[str],
    seeds: Sequence[int],
    run: Callable[..., Any] = subprocess.run,
    own: bool = True,
) -> list[str]:
    """Queue one `dvc exp run` per seed of each of `names` (a variant, student or preset) that
    targets its evaluate stage, so an experiment re-trains that model alone; returns the
    experiment names. A preset's own seed is queued too (unless `own` is false: a recipe seeded
    over several sessions), and its experiments see params.yaml with the preset copied into
    `variants:`; the file's bytes are restored afterwards."""
    from fmnist.core.config import load_params
    from fmnist.core.io import write_bytes
    from fmnist.tools.presets import add_preset

    params = load_params(params_path)
    queued = []
    for name in names:
        # A preset already copied into variants (`fmnist preset`) is seeded as the variant.
        section, seed_of_its_own = params.section(name), params.variant(name).seed
        extra = [seed for seed in dict.fromkeys(seeds) if seed != seed_of_its_own]
        if section != "presets":
            stage = "evaluate_student" if section == "students" else "evaluate"
            queued += [_queue(run, name, seed, f"{section}.{name}.seed", f"{stage}@{name}") for seed in extra]
            continue
        original = params_path.read_bytes()
        add_preset(params_path, name)
        try:
            chosen = [seed_of_its_own, *extra] if own else extra
            queued += [_queue(run, name, seed, f"variants.{name}.seed", f"evaluate@{name}") for seed in chosen]
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


def committed_file(rev: str, path: str) -> dict | None:
    """A JSON or YAML file (by its suffix) as commit (or experiment) `rev` holds it; None where it
    has none. The train stage's metrics are plain outputs, not experiment-table columns, so they
    are read here, and so is each run's dvc.lock."""
    shown = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=False)
    return _parse(shown.stdout, path.endswith((".lock", ".yaml"))) if shown.returncode == 0 else None


@functools.lru_cache(maxsize=32)
def _parse(text: str, is_yaml: bool) -> dict:
    """Parsed once per distinct text: most commits share one dvc.lock (callers never modify it)."""
    import yaml

    if not is_yaml:
        return json.loads(text)
    # libyaml's safe loader: a pipeline's dvc.lock takes ten times longer in pure Python.
    return yaml.load(text, Loader=yaml.CSafeLoader) if yaml.__with_libyaml__ else yaml.safe_load(text)


def run_inputs(lock: dict | None, stages: Sequence[str], name: str) -> str | None:
    """What decided a run's figures, as its dvc.lock records them: the deps of `stages` (but the
    files one of them wrote, such as the trained model evaluate reads) and their params, with
    `name`'s seed left out. Two runs with equal inputs differ in their seed alone, whichever commit
    they were run on; None where the lock lacks one of the stages."""
    entries = [((lock or {}).get("stages") or {}).get(stage) for stage in stages]
    if not all(entries):
        return None
    written = {out["path"] for entry in entries for out in entry.get("outs", [])}
    deps = sorted({(dep["path"], _hash(dep)) for entry in entries for dep in entry.get("deps", [])})
    if any(digest is None for path, digest in deps if path not in written):
        return None  # an input DVC recorded no hash for cannot be shown equal
    params = [
        {group: _without_seed(values, group, name) for group, values in groups.items()}
        for entry in entries
        for groups in (entry.get("params") or {}).values()
    ]
    return json.dumps([[dep for dep in deps if dep[0] not in written], params], sort_keys=True, default=str)


def _hash(dep: dict) -> str | None:
    """A dep's content hash as dvc.lock records it: md5 for local files and folders, else the
    remote's etag or checksum."""
    return dep.get("md5") or dep.get("etag") or dep.get("checksum")


def _without_seed(values: Any, group: str, name: str) -> Any:
    if group.rsplit(".", 1)[-1] == name and isinstance(values, dict):
        return {key: value for key, value in values.items() if key != "seed"}
    return values


def _as_preset(params: dict[str, Any], name: str) -> dict[str, Any]:
    """An experiment's flat params with its `variants.<name>.*` copy read as `presets.<name>.*`."""
    copied, preset = f"variants.{name}.", f"presets.{name}."
    kept = {key: value for key, value in params.items() if not key.startswith((copied, preset))}
    return kept | {preset + key[len(copied) :]: value for key, value in params.items() if key.startswith(copied)}


def seed_runs(
    shown: list[dict],
    variant: str,
    read: Callable[[str, str], dict | None] | None = None,
    section: str = "variants",
) -> tuple[str, list[dict[str, Any]]]:
    """The newest commit of the largest set of `variant`'s runs that differ in their seed alone, and
    one record per seed: the committed seed first, then by seed. A run is a commit's own or an
    experiment of it that changed only `<section>.<variant>.seed` (a preset's: its copy into
    variants); runs of different commits join when their dvc.lock inputs are equal (`run_inputs`)
    and they trained in the same precision, so seeds run in later sessions, after unrelated
    commits, still count. Test accuracy comes from
    the experiment table, the training record and the lock from `read`."""
    key, read = f"{section}.{variant}.seed", read or committed_file
    from fmnist.tools.pipeline import stage_path

    suffix, preset = ("_student" if section == "students" else ""), section == "presets"
    stages = [f"train{suffix}@{variant}", f"evaluate{suffix}@{variant}"]
    # `dvc exp show --json` keys metrics by the paths dvc.yaml gives them.
    train = stage_path("train" + suffix, "metrics", variant).as_posix()
    evaluation = stage_path("evaluate" + suffix, "metrics", variant).as_posix()
    groups: dict[str, tuple[str, Any, dict[Any, dict[str, Any]]]] = {}
    baselines = [(b, experiments) for b, experiments in _baselines(shown) if key in b["params"]]
    if not baselines:
        raise FmnistError(f"seeds: no commit in `dvc exp show` has params key {key!r}")
    for baseline, experiments in baselines:  # newest commit first
        for row in [baseline, *experiments]:
            params = _as_preset(row["params"], variant) if preset and row is not baseline else row["params"]
            keys = {*params, *baseline["params"]}
            changed = {k for k in keys if params.get(k) != baseline["params"].get(k)}
            if changed - {key} or evaluation not in row["metrics"]:
                continue
            training = read(row["rev"], train)
            if training is None:
                continue
            # Without the stages in its lock (older layouts), a run joins its own commit's alone.
            inputs = run_inputs(read(row["rev"], "dvc.lock"), stages, variant) or f"commit {baseline['rev']}"
            # `precision: auto` trains in bf16 on some CPUs and in float32 on others: not one recipe.
            inputs += f" precision {training.get('precision', 'not recorded')}"
            commit, committed_seed, runs = groups.setdefault(inputs, (baseline["rev"], baseline["params"][key], {}))
            runs.setdefault(
                params[key],
                {
                    "seed": params[key],
                    "experiment": row["name"] if row is not baseline else None,
                    "commit": baseline["rev"],
                    "test_accuracy": row["metrics"][evaluation]["accuracy"],
                    "best_val_accuracy": training["best_val_accuracy"],
                    "train_seconds": training["train_seconds"],
                    "precision": training.get("precision", "not recorded"),
                    "cpu": training.get("cpu", "not recorded"),
                    "cpu_features": training.get("cpu_features", []),
                },
            )
    if not groups:
        return baselines[0][0]["rev"], []
    # The most seeds; among equals, the newest commit's (dicts keep the order they were found in).
    commit, committed_seed, runs = max(groups.values(), key=lambda group: len(group[2]))
    # The committed seed first (a preset's: its experiment of that seed), then by seed.
    return commit, sorted(runs.values(), key=lambda run: (run["seed"] != committed_seed, run["seed"]))


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
    sections: Mapping[str, str] | None = None,
) -> dict:
    """metrics/seeds.json's content: `previous` with each of `variants` measured afresh, and the
    mean test accuracy each is held to (`targets`; else the table falls back to its CI floor).
    `sections` names the params section of each name that is not a variant (`Params.section`).

    A variant with fewer than `minimum` seeds is an error naming the seeds found."""
    result = {"variants": dict((previous or {}).get("variants", {}))}
    for variant in variants:
        commit, runs = seed_runs(shown, variant, section=(sections or {}).get(variant, "variants"))
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
