"""The compare stage's choices look at validation data only."""

import json

import numpy as np
import pytest

from fmnist.core.errors import FmnistError
from fmnist.evaluate import compare


def probabilities(rng, labels, skill):
    """Softmax-like rows that put extra mass on the true label with probability `skill`."""
    rows = rng.dirichlet(np.ones(10), size=len(labels))
    hit = rng.random(len(labels)) < skill
    rows[hit, labels[hit]] += 1.0
    return rows / rows.sum(axis=1, keepdims=True)


def test_ensemble_is_chosen_on_validation_and_test_labels_cannot_move_it():
    rng = np.random.default_rng(0)
    y_val, y_test = rng.integers(0, 10, 400), rng.integers(0, 10, 400)
    predictions = {
        name: {"val": probabilities(rng, y_val, skill), "test": probabilities(rng, y_test, skill)}
        for name, skill in (("a", 0.9), ("b", 0.7), ("c", 0.5), ("d", 0.2))
    }
    members, test, val = compare.ensemble(predictions, y_val, y_test, 3)
    scrambled = rng.permutation(y_test)
    members_scrambled, test_scrambled, val_scrambled = compare.ensemble(predictions, y_val, scrambled, 3)
    assert members == members_scrambled and val == val_scrambled  # same choice, same validation score
    assert test["accuracy"] != test_scrambled["accuracy"]  # only the reported test score moved
    assert members[0] == "a"
    # Validation labels do drive the choice: make "d" the best on validation and it is picked first.
    swapped = {**predictions, "d": {"val": probabilities(rng, y_val, 0.99), "test": predictions["d"]["test"]}}
    assert compare.ensemble(swapped, y_val, y_test, 3)[0][0] == "d"


def test_leaderboard_ranks_on_validation_not_test(tmp_path):
    for name, val, test in (("high_test", 0.80, 0.95), ("high_val", 0.90, 0.85)):
        (tmp_path / f"{name}.json").write_text(
            json.dumps({"accuracy": test, "macro_f1": test, "val_accuracy": val, "params": 1, "train_seconds": 2.0})
        )
    rows = compare.leaderboard_rows(["high_test", "high_val"], tmp_path, tmp_path, {"high_val": 0.8})
    assert [row["name"] for row in rows] == ["high_val", "high_test"]
    assert rows[0]["floor"] == 0.8 and rows[1]["floor"] == 0.0
    summary = compare.summary(rows, ["high_val"], {"accuracy": 0.85, "macro_f1": 0.85}, {"accuracy": 0.9}, {})
    assert summary["best_variant"] == "high_val" and summary["ensemble"]["params"] == 1
    assert compare.best_metrics(summary) == {
        "variant": "high_val",
        "test_accuracy": 0.85,
        "val_accuracy": 0.90,
        "ensemble_test_accuracy": 0.85,
        "ensemble_val_accuracy": 0.9,
    }


def test_a_model_retrained_on_all_images_is_reported_but_never_chosen(tmp_path):
    """Its validation accuracy is in-sample (it trained on those images): listed, not selectable."""
    eval_dir, train_dir = tmp_path / "eval", tmp_path / "train"
    eval_dir.mkdir(), train_dir.mkdir()
    for name, val, held_out in (("split", 0.90, None), ("all", 0.99, False)):
        (eval_dir / f"{name}.json").write_text(json.dumps({"accuracy": 0.9, "macro_f1": 0.9, "val_accuracy": val}))
        training = {
            "params": 1,
            "train_seconds": 2.0,
            **({"validation_held_out": held_out} if held_out is False else {}),
        }
        (train_dir / f"{name}.json").write_text(json.dumps(training))
    rows = compare.leaderboard_rows(["split", "all"], eval_dir, train_dir, {})
    assert [row["name"] for row in rows] == ["all", "split"] and rows[0]["retrained_on_all"] is True
    assert "retrained_on_all" not in rows[1]  # split-trained rows keep their old shape
    assert [row["name"] for row in compare.selectable(rows)] == ["split"]
    summary = compare.summary(rows, ["split"], {"accuracy": 0.9, "macro_f1": 0.9}, {"accuracy": 0.9}, {})
    assert summary["best_variant"] == "split" and summary["variants"]["all"]["retrained_on_all"] is True
    with pytest.raises(FmnistError, match="every variant trained on the validation images"):
        compare.selectable(rows[:1])


def test_best_model_and_comparison_figures_are_written(tmp_path):
    (tmp_path / "models" / "b").mkdir(parents=True)
    (tmp_path / "models" / "b" / "model.keras").write_bytes(b"weights")
    summary = {"best_variant": "b", "variants": {"b": {"val_accuracy": 0.9, "test_accuracy": 0.8}}}
    summary["ensemble"] = {"test_accuracy": 0.85, "val_accuracy": 0.91}
    compare.write_best(tmp_path / "models", compare.best_metrics(summary), tmp_path / "best")
    assert (tmp_path / "best" / "model.keras").read_bytes() == b"weights"
    assert json.loads((tmp_path / "best" / "info.json").read_text()) == {
        "variant": "b",
        "val_accuracy": 0.9,
        "test_accuracy": 0.8,
    }

    per_class = {"per_class": {"Coat": {"recall": 0.5}, "Bag": {"recall": 1.0}}}
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(json.dumps(per_class))
    rows = [
        {"name": "b", "test_accuracy": 0.8, "val_accuracy": 0.9, "train_seconds": 60},
        {"name": "a", "test_accuracy": 0.7, "val_accuracy": 0.8, "train_seconds": 30},
    ]
    summary = {"ensemble": {"test_accuracy": 0.85, "val_accuracy": 0.91, "train_seconds": 90}}
    compare.comparison_figures(["a", "b"], rows, summary, tmp_path, tmp_path / "no-live-logs", tmp_path / "plots")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["curves.png", "leaderboard.png", "per_class.png"]
