"""The compare stage's logic: leaderboard rows, the validation-chosen ensemble, the run summary.

Everything that chooses (the best model, the ensemble's members) looks at validation data only;
the test split is scored after the choice, for reporting.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from fmnist.core.errors import FmnistError
from fmnist.core.io import atomic_dir, read_json, write_json
from fmnist.evaluate.metrics import ensemble_probabilities, evaluate_probabilities, greedy_ensemble


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
        if training.get("validation_held_out") is False:  # retrain_on_all: its validation is in-sample
            rows[-1]["retrained_on_all"] = True
    rows = sorted(rows, key=lambda row: -row["val_accuracy"])
    for row in rows:
        row["floor"] = floors.get(row["name"], 0.0)
    return rows


def selectable(rows: list[dict]) -> list[dict]:
    """Rows whose validation accuracy is held out: only these may be chosen as best or ensembled
    (a model retrained on all 60,000 images has seen the validation images)."""
    chosen = [row for row in rows if not row.get("retrained_on_all")]
    if not chosen:
        raise FmnistError("compare: every variant trained on the validation images; nothing can be chosen on it")
    return chosen


def ensemble(
    predictions: Mapping[str, Mapping[str, np.ndarray]], y_val: np.ndarray, y_test: np.ndarray, size: int
) -> tuple[list[str], dict, dict]:
    """Members chosen greedily on validation probabilities; then (members, test, val) metrics.
    `predictions` holds the selectable variants only."""
    members = greedy_ensemble({n: p["val"] for n, p in predictions.items()}, y_val, size)
    test = evaluate_probabilities(
        ensemble_probabilities({n: p["test"] for n, p in predictions.items()}, members), y_test
    )
    val = evaluate_probabilities(ensemble_probabilities({n: p["val"] for n, p in predictions.items()}, members), y_val)
    return members, test, val


def summary(rows: list[dict], members: list[str], test: dict, val: dict, machine: dict) -> dict:
    """metrics/summary.json: the machine, the best variant (by validation), every row, the ensemble."""
    by_name = {row["name"]: row for row in rows}
    best = selectable(rows)[0]  # chosen on held-out validation accuracy, never on test
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


def best_metrics(summary: dict) -> dict:
    """metrics/best.json, the pipeline's headline in the experiment table: the variant chosen on
    validation and the ensemble, test and validation accuracy each (the rest of summary.json,
    the machine and every variant's row, is a plain output)."""
    best, ensemble = summary["variants"][summary["best_variant"]], summary["ensemble"]
    return {
        "variant": summary["best_variant"],
        "test_accuracy": best["test_accuracy"],
        "val_accuracy": best["val_accuracy"],
        "ensemble_test_accuracy": ensemble["test_accuracy"],
        "ensemble_val_accuracy": ensemble["val_accuracy"],
    }


def write_best(models_dir: Path, headline: dict, best_dir: Path) -> None:
    """models/best: the model of the variant `summary` chose (`headline` is `best_metrics(summary)`)
    and an info.json naming it (atomically)."""
    with atomic_dir(best_dir) as tmp:
        shutil.copyfile(models_dir / headline["variant"] / "model.keras", tmp / "model.keras")
        info = {key: headline[key] for key in ("variant", "val_accuracy", "test_accuracy")}
        write_json(tmp / "info.json", info)


def comparison_figures(
    names: Sequence[str], rows: list[dict], summary: dict, scores_dir: Path, live_dir: Path, plots_dir: Path
) -> None:
    """leaderboard.png (rows best first, then the ensemble); per_class.png (from each variant's
    `scores_dir/<variant>.json`) and curves.png of the variants in `names` order
    (params.yaml's)."""
    from fmnist.core import plots
    from fmnist.train import livelog

    plots.leaderboard([*rows, {"name": "ensemble", **summary["ensemble"]}], plots_dir / "leaderboard.png")
    recalls = {n: {c: r["recall"] for c, r in read_json(scores_dir / f"{n}.json")["per_class"].items()} for n in names}
    plots.per_class_accuracy(recalls, plots_dir / "per_class.png")
    curves = livelog.curves_by_variant(livelog.curve_rows(live_dir, names))
    plots.training_curves({name: curves.get(name, {}) for name in names}, plots_dir / "curves.png")
