"""Small helpers shared by the harness modules."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def git(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def as_list(value: Any) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_pairs(path: Path) -> dict[str, str]:
    """KEY=value lines and KEY<<DELIMITER blocks, as GITHUB_ENV and GITHUB_OUTPUT take them."""
    pairs, lines = {}, path.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            pairs[key] = "\n".join(lines[index + 1 : end])
            index = end
        elif "=" in line:
            key, value = line.split("=", 1)
            pairs[key] = value
        index += 1
    return pairs
