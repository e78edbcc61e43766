"""Copy a preset from params.yaml's `presets:` into `variants:`, keeping the file's comments.

Presets are recipes too long for the default CPU run (e.g. `champion_long` for GPUs). Once
copied, the normal `train@<name>` / `evaluate@<name>` stages train and compare it.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from fmnist.core.config import load_params
from fmnist.core.errors import ConfigError
from fmnist.core.io import write_text


def _variants_end(lines: list[str]) -> int:
    """Index of the line after the last entry of the top-level `variants:` block."""
    start = next((i for i, line in enumerate(lines) if re.match(r"variants:\s*(#.*)?$", line)), None)
    if start is None:
        raise ConfigError("params: no top-level 'variants:' block to add the preset to")
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if lines[i] and not lines[i][0].isspace() and not lines[i].startswith("#"):
            end = i
            break
    # Leave comments and blank lines that introduce the next section where they are.
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return end


def add_preset(params_path: Path, name: str) -> str:
    """Insert presets.<name> as variants.<name>; returns the inserted YAML text."""
    params = load_params(params_path)  # validates the whole file first
    if name not in params.presets:
        known = sorted(params.presets) or "none"
        raise ConfigError(f"{params_path}: presets.{name}: no such preset; known: {known}")
    if name in params.variants:
        raise ConfigError(f"{params_path}: variants.{name}: already a variant")
    raw = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    entry = yaml.safe_dump({name: raw["presets"][name]}, sort_keys=False, default_flow_style=None)
    indented = "".join(f"  {line}\n" for line in entry.splitlines())
    lines = params_path.read_text(encoding="utf-8").splitlines(keepends=True)
    end = _variants_end([line.rstrip("\n") for line in lines])
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    new = "".join(lines[:end]) + indented + "".join(lines[end:])
    _check_text(new, params_path)
    write_text(params_path, new)
    return indented


def _check_text(text: str, params_path: Path) -> None:
    """Refuse to write a params file that would no longer validate."""
    from fmnist.core.config import parse_params

    try:
        parse_params(yaml.safe_load(text))
    except (ConfigError, yaml.YAMLError) as error:
        raise ConfigError(f"{params_path}: adding the preset would break the file: {error}") from None
