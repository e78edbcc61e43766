"""Command-line arguments shared by the DVC stage scripts.

Every path a stage reads or writes comes from dvc.yaml, so each one is a required option;
`--params` and (for per-variant stages) `--variant` come first.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_stage_args(doc: str | None, variant: bool = False, **paths: str) -> argparse.Namespace:
    """Parse `--params [--variant] --<path> …`; `data_dir="help"` becomes a required `--data-dir`."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    if variant:
        parser.add_argument("--variant", required=True, help="an entry of variants: (or presets:)")
    for name, help_text in paths.items():
        parser.add_argument("--" + name.replace("_", "-"), type=Path, required=True, help=help_text or None)
    return parser.parse_args()
