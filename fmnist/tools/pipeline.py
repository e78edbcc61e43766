"""Paths the pipeline writes, read from dvc.yaml (which owns them), so the tools around the
pipeline never repeat one: a path changed in dvc.yaml moves for `fmnist`, the bench and seeds.

Each stage's command passes its paths as `--flag value`; `stage_path("compare", "summary")` is
the value after `--summary` in the compare stage's cmd. `${key}` (the variant of a foreach stage)
is filled in when `variant` is given.
"""

from __future__ import annotations

import functools
import shlex
from pathlib import Path

from fmnist.core.errors import FmnistError

DVC_YAML = Path("dvc.yaml")


@functools.cache
def _commands(dvc_yaml: Path) -> dict[str, str]:
    import yaml

    if not dvc_yaml.is_file():
        raise FmnistError(f"{dvc_yaml}: not found (run from the repository root, or pass the paths)")
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")).get("stages", {})
    return {name: str(stage.get("do", stage)["cmd"]) for name, stage in stages.items()}


def stage_path(stage: str, flag: str, variant: str | None = None, dvc_yaml: Path = DVC_YAML) -> Path:
    """The value of `--<flag>` (underscores for dashes) in `stage`'s command."""
    commands = _commands(dvc_yaml)
    if stage not in commands:
        raise FmnistError(f"{dvc_yaml}: no stage {stage!r}")
    words = shlex.split(commands[stage])
    option = "--" + flag.replace("_", "-")
    if option not in words[:-1]:
        raise FmnistError(f"{dvc_yaml}: stage {stage!r} passes no {option}")
    value = words[words.index(option) + 1]
    if "${key}" in value:
        if variant is None:
            raise FmnistError(f"{dvc_yaml}: {stage} {option} {value}: needs a variant")
        value = value.replace("${key}", variant)
    return Path(value)


def per_variant_folder(stage: str, flag: str, dvc_yaml: Path = DVC_YAML) -> Path:
    """The folder holding every variant's `--flag` output (e.g. metrics/train for
    metrics/train/${key}.json)."""
    return stage_path(stage, flag, "_", dvc_yaml).parent
