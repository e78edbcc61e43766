"""Read the per-epoch series DVCLive writes (plots/metrics/<train|eval>/<name>.tsv)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

CURVE_COLUMNS = ("variant", "epoch", "val_accuracy", "val_loss", "train_minutes")


def read_series(live_dir: Path, split: str, name: str) -> dict[int, float]:
    """{epoch: value} of one logged metric; empty when the train stage has not logged it."""
    path = Path(live_dir) / "plots" / "metrics" / split / f"{name}.tsv"
    if not path.is_file():
        return {}
    with path.open() as handle:
        return {int(row["step"]): float(row[name]) for row in csv.DictReader(handle, delimiter="\t")}


def curve_rows(live_root: Path, variants: Iterable[str]) -> list[dict[str, object]]:
    """One row per variant and epoch: validation accuracy and loss, and training minutes so far.

    Long format (a `variant` column), so one chart draws every variant as its own line and a
    new variant joins the charts without any change to dvc.yaml.
    """
    rows = []
    for name in variants:
        live = Path(live_root) / name
        accuracy, loss = read_series(live, "eval", "accuracy"), read_series(live, "eval", "loss")
        elapsed = read_series(live, "train", "elapsed_seconds")
        for epoch in sorted(accuracy):
            rows.append(
                {
                    "variant": name,
                    "epoch": epoch + 1,
                    "val_accuracy": round(accuracy[epoch], 6),
                    "val_loss": round(loss.get(epoch, float("nan")), 6),
                    "train_minutes": round(elapsed[epoch] / 60, 4) if epoch in elapsed else "",
                }
            )
    return rows


def curves_by_variant(rows: Iterable[dict[str, object]]) -> dict[str, dict[str, list[float]]]:
    """curve_rows regrouped: {variant: {"val_accuracy": [...], "val_loss": [...]}} in epoch order."""
    curves: dict[str, dict[str, list[float]]] = {}
    for row in sorted(rows, key=lambda row: (str(row["variant"]), int(row["epoch"]))):
        series = curves.setdefault(str(row["variant"]), {"val_accuracy": [], "val_loss": []})
        series["val_accuracy"].append(float(row["val_accuracy"]))
        if row["val_loss"] == row["val_loss"]:  # NaN where a loss was not logged
            series["val_loss"].append(float(row["val_loss"]))
    return curves
