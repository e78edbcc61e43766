"""Helpers for the end-to-end tests: a throw-away git + DVC copy of the repo on the fixture."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "mini"
COPY = [
    "dvc.yaml",
    "params.yaml",
    "stages",
    "fmnist",
    "pyproject.toml",
    ".dvc/config",
    ".dvc/plots_template.html",
    ".dvc/plots",
    ".dvcignore",
    ".gitignore",
]


def run(
    cmd: list[str], cwd: Path, check: bool = True, timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {}), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def tiny_params(params: dict, folder: str, epochs: int = 1) -> dict:
    """The repo's params, pointed at the fixture, with every variant and preset shortened to `epochs`."""
    params["data"]["source"] = "folder"
    params["data"]["folder"] = folder
    for variant in [*params["variants"].values(), *(params.get("presets") or {}).values()]:
        variant["epochs"] = epochs
        variant["batch_size"] = min(variant.get("batch_size", 128), 64)
        variant.pop("warmup_epochs", None)
        variant.pop("early_stopping_patience", None)
        if variant.get("precision") == "auto":
            # Pinned so the end-to-end runs cover bf16 (with augmentation) on every CPU and no
            # probe can flip a forced re-run; `auto` itself is tested in test_precision/test_training.
            variant["precision"] = "mixed_bfloat16"
    return params


def make_repo(target: Path, epochs: int = 1, variants: list[str] | None = None) -> Path:
    """Copy the pipeline into `target` as a fresh git repo whose data source is the fixture."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    params = yaml.safe_load((target / "params.yaml").read_text())
    params = tiny_params(params, str(FIXTURE), epochs)
    if variants is not None:
        params["variants"] = {name: params["variants"][name] for name in variants}
        # A floor must name an existing variant or preset (a stale one fails loudly).
        known = {*variants, *params.get("presets", {})}
        params["ci"]["floors"] = {name: floor for name, floor in params["ci"]["floors"].items() if name in known}
        # bench: and tune: name variants of the run, so they follow the subset too.
        first = variants[0]
        params["bench"] = {"racer": first, "published_twin": first, "determinism": [first]}
        if params.get("tune", {}).get("variant") not in variants:
            params["tune"] = {**params["tune"], "variant": first}
    (target / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], target)
    run(["git", "config", "user.email", "test@example.com"], target)
    run(["git", "config", "user.name", "fmnist tests"], target)
    run(["git", "add", "-A"], target)
    run(["git", "commit", "-qm", "pipeline on the fixture"], target)
    return target


def idx_bytes(array, magic: int) -> bytes:
    """Serialise a uint8 array in IDX format (big-endian dimensions after the magic number)."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype("uint8").tobytes()
