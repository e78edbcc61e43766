"""Read the per-epoch series DVCLive writes (plots/metrics/<train|eval>/<name>.tsv)."""

from __future__ import annotations

import csv
from pathlib import Path


def read_series(live_dir: Path, split: str, name: str) -> dict[int, float]:
    """{epoch: value} of one logged metric; empty when the train stage has not logged it."""
    path = Path(live_dir) / "plots" / "metrics" / split / f"{name}.tsv"
    if not path.is_file():
        return {}
    with path.open() as handle:
        return {int(row["step"]): float(row[name]) for row in csv.DictReader(handle, delimiter="\t")}
