"""The compare stage's logic: leaderboard rows, the validation-chosen ensemble, the run summary.

Everything that chooses (the best model, the ensemble's members) looks at validation data only;
the test split is scored after the choice, for reporting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from fmnist.evaluation import ensemble_probabilities, evaluate_probabilities, greedy_ensemble
from fmnist.io import read_json


def leaderboard_rows(names: Sequence[str], eval_dir: Path, train_dir: Path, floors: Mapping[str, float]) -> list[dict]:
    """One row per variant from its evaluate and train metrics, best validation accuracy first."""
    rows = []
    for name in names:
        evaluation, training = read_json(eval_dir / f"{name}.json"), read_json(train_dir / f"{name}.json")
        rows.append(
            {
                "name": name,
                "test_accuracy": evaluation["accuracy"],
                "macro_f1": evaluation["macro_f1"],
                "val_accuracy": evaluation["val_accuracy"],
                "params": training["params"],
                "train_seconds": training["train_seconds"],
                "precision": training.get("precision", "not recorded"),  # what ran: `auto` decides per machine
            }
        )
    rows = sorted(rows, key=lambda row: -row["val_accuracy"])
    for row in rows:
        row["floor"] = floors.get(row["name"], 0.0)
    return rows


def ensemble(
    predictions: Mapping[str, Mapping[str, np.ndarray]], y_val: np.ndarray, y_test: np.ndarray, size: int
) -> tuple[list[str], dict, dict]:
    """Members chosen greedily on validation probabilities; then (members, test, val) metrics."""
    members = greedy_ensemble({n: p["val"] for n, p in predictions.items()}, y_val, size)
    test = evaluate_probabilities(
        ensemble_probabilities({n: p["test"] for n, p in predictions.items()}, members), y_test
    )
    val = evaluate_probabilities(ensemble_probabilities({n: p["val"] for n, p in predictions.items()}, members), y_val)
    return members, test, val


def summary(rows: list[dict], members: list[str], test: dict, val: dict, machine: dict) -> dict:
    """metrics/summary.json: the machine, the best variant (by validation), every row, the ensemble."""
    by_name = {row["name"]: row for row in rows}
    best = rows[0]  # chosen on validation accuracy, never on test
    return {
        "machine": machine,
        "best_variant": best["name"],
        "best_test_accuracy": best["test_accuracy"],
        "variants": {row["name"]: {k: v for k, v in row.items() if k != "name"} for row in rows},
        "ensemble": {
            "members": members,
            "test_accuracy": test["accuracy"],
            "macro_f1": test["macro_f1"],
            "val_accuracy": val["accuracy"],
            "params": sum(by_name[m]["params"] for m in set(members)),
            "train_seconds": round(sum(by_name[m]["train_seconds"] for m in set(members)), 2),
        },
    }
