"""Regression gate and run report for CI: pure functions over metrics/summary.json contents."""

from __future__ import annotations

import subprocess

from fmnist.core.errors import FmnistError


def summary_at(revision: str, path: str) -> dict | None:
    """The summary file `path` (repository-relative) as committed at `revision`; None when absent."""
    import json

    result = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        if "does not exist" in result.stderr or "exists on disk, but not in" in result.stderr:
            return None
        raise FmnistError(f"git show {revision}:{path}: {result.stderr.strip() or 'failed'}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise FmnistError(f"{revision}:{path}: not valid JSON ({error.msg})") from None


def gate(current: dict, base: dict | None, max_drop_points: float, export: dict | None = None) -> list[str]:
    """Reasons to fail the build (empty list = pass).

    Fails when the best test accuracy dropped more than `max_drop_points` percentage points
    versus the base revision, when any variant is below its `floor`, or when the exported int8
    model lost more accuracy than `export.max_int8_drop` allows (metrics/export.json).
    """
    problems = []
    if export is not None and not export.get("int8_within_limit", True):
        problems.append(
            f"int8 TFLite model loses {export['int8_accuracy_drop_points']:.2f} points against float32, "
            "more than export.max_int8_drop"
        )
    if base is not None:
        drop = (base["best_test_accuracy"] - current["best_test_accuracy"]) * 100
        if drop > max_drop_points:
            problems.append(
                f"best test accuracy fell {drop:.2f} points ({base['best_test_accuracy']:.2%} -> "
                f"{current['best_test_accuracy']:.2%}), more than the allowed {max_drop_points:.2f}"
            )
    for name, row in current["variants"].items():
        if row.get("floor") and row["test_accuracy"] < row["floor"]:
            problems.append(f"{name}: test accuracy {row['test_accuracy']:.2%} is below its floor {row['floor']:.2%}")
    return problems


CHANGES_HEADER = ["variant", "test accuracy", "Δ", "macro F1", "train time"]


def change_rows(current: dict, base: dict | None) -> list[list[str]]:
    """Per variant: test accuracy, its change against the base, macro F1 and train time."""
    rows = []
    for name, row in current["variants"].items():
        old = (base or {}).get("variants", {}).get(name)
        delta = f"{(row['test_accuracy'] - old['test_accuracy']) * 100:+.2f} pt" if old else "new"
        rows.append([name, f"{row['test_accuracy']:.2%}", delta, f"{row['macro_f1']:.4f}",
                     f"{row['train_seconds'] / 60:.1f} min"])  # fmt: skip
    return rows


def metric_changes(current: dict, base: dict | None) -> list[str]:
    """Markdown rows: per-variant test accuracy, macro F1 and train time, base -> current."""
    from fmnist.report.tables import markdown_table

    rows = [[f"`{row[0]}`", *row[1:]] for row in change_rows(current, base)]
    return markdown_table(CHANGES_HEADER, rows, "lrrrr")
