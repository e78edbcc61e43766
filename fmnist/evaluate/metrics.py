"""Classification metrics (scikit-learn's), test-time augmentation and the validation-chosen ensemble."""

from __future__ import annotations

import csv
import io

import numpy as np

from fmnist import CLASS_NAMES, NUM_CLASSES


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts[actual, predicted], every class a row and a column even when it never occurs."""
    from sklearn.metrics import confusion_matrix as counts

    return counts(y_true, y_pred, labels=np.arange(num_classes))


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, macro and per-class precision/recall/F1 (0 where a class is never predicted)."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    labels = np.arange(NUM_CLASSES)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0.0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(CLASS_NAMES, precision, recall, f1, support, strict=True)
        },
    }


def cross_entropy(probabilities: np.ndarray, y_true: np.ndarray) -> float:
    """Mean log loss of the true class (scikit-learn's, which also renormalises each row)."""
    from sklearn.metrics import log_loss

    return float(log_loss(y_true, probabilities, labels=np.arange(probabilities.shape[1])))


def evaluate_probabilities(probabilities: np.ndarray, y_true: np.ndarray) -> dict:
    """All test metrics for one set of predicted class probabilities, rounded for diffs."""
    result = classification_metrics(y_true, probabilities.argmax(axis=1))
    result["loss"] = cross_entropy(probabilities, y_true)
    return _rounded(result)


def _rounded(value):
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return round(value, 6) if isinstance(value, float) else value


def shifted(images: np.ndarray, pixels: int) -> np.ndarray:
    """Images moved `pixels` down and right (negative: up and left); the uncovered border is
    black, the Fashion-MNIST background, as in the training shifts."""
    out, step = np.zeros_like(images), abs(pixels)
    if pixels > 0:
        out[:, step:, step:] = images[:, :-step, :-step]
    elif pixels < 0:
        out[:, :-step, :-step] = images[:, step:, step:]
    else:
        out[...] = images
    return out


def predict_probabilities(
    model, images: np.ndarray, batch_size: int, tta_flip: bool = False, tta_shift: int = 0
) -> np.ndarray:
    """Class probabilities. With `tta_flip`, the mean over each image and its mirror image. With
    `tta_shift` pixels, that view weighs 1/2 and the same views moved `tta_shift` pixels
    down-right and up-left 1/4 each (the translation TTA of Keller Jordan's airbench)."""

    def views(batch: np.ndarray) -> np.ndarray:
        probabilities = model.predict(batch, batch_size=batch_size, verbose=0)
        if tta_flip:
            mirrored = np.ascontiguousarray(batch[:, :, ::-1])
            probabilities = (probabilities + model.predict(mirrored, batch_size=batch_size, verbose=0)) / 2
        return probabilities

    probabilities = views(images)
    if tta_shift:
        moved = views(shifted(images, tta_shift)) + views(shifted(images, -tta_shift))
        probabilities = probabilities / 2 + moved / 4
    return probabilities.astype(np.float32)


def evaluate_model(
    model, val: dict[str, np.ndarray], test: dict[str, np.ndarray], batch_size: int, tta_flip: bool, tta_shift: int = 0
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Test metrics (with validation accuracy and which TTA ran), and the validation and test
    probabilities the ensemble is later chosen from."""
    val_probabilities = predict_probabilities(model, val["x"], batch_size, tta_flip, tta_shift)
    test_probabilities = predict_probabilities(model, test["x"], batch_size, tta_flip, tta_shift)
    metrics = evaluate_probabilities(test_probabilities, test["y"])
    metrics["val_accuracy"] = round(float((val_probabilities.argmax(1) == val["y"]).mean()), 6)
    metrics["tta_flip"] = bool(tta_flip)
    metrics["tta_shift"] = int(tta_shift)
    return metrics, val_probabilities, test_probabilities


# The experiment table's columns per variant (`dvc exp show`, `dvc metrics diff`); the rest of an
# evaluation (per-class figures, macro precision and recall, the TTA that ran) is a plain output.
HEADLINE = ("accuracy", "val_accuracy", "macro_f1", "loss")


def split_headline(scores: dict, training: dict) -> tuple[dict, dict]:
    """(headline, details) of one variant's evaluation. The headline adds from its training
    metrics the minutes and epochs it trained and, for a tune trial a pruner stopped, the epoch."""
    headline = {key: scores[key] for key in HEADLINE}
    headline["train_minutes"] = round(training["train_seconds"] / 60, 2)
    headline["epochs_run"] = training["epochs_run"]
    if training.get("pruned_at_epoch"):
        headline["pruned_at_epoch"] = training["pruned_at_epoch"]
    return headline, {key: value for key, value in scores.items() if key not in HEADLINE}


def evaluation_figures(x, y, probabilities, matrix: np.ndarray, out_dir, name: str, count: int) -> None:
    """One variant's test-set figures: confusion.png (from `matrix`), predictions.png and
    misclassified.png."""
    from fmnist.core import plots

    title = f"{name}: test accuracy {float((probabilities.argmax(axis=1) == y).mean()):.2%}"
    plots.confusion(matrix, out_dir / "confusion.png", title)
    plots.prediction_grids(x, y, probabilities, out_dir, name, count)


def greedy_ensemble(val_probabilities: dict[str, np.ndarray], y_val: np.ndarray, max_members: int) -> list[str]:
    """Caruana-style forward selection on validation accuracy (members may repeat = weights).

    Only validation predictions are looked at, so the test set stays untouched.
    """
    names = sorted(val_probabilities)
    chosen: list[str] = []
    total = np.zeros_like(next(iter(val_probabilities.values())), dtype=np.float64)
    best_accuracy = -1.0
    for _ in range(max_members):
        scores = {name: float(((total + val_probabilities[name]).argmax(axis=1) == y_val).mean()) for name in names}
        name = max(names, key=lambda n: (scores[n], -names.index(n)))
        if scores[name] <= best_accuracy:
            break
        best_accuracy = scores[name]
        chosen.append(name)
        total += val_probabilities[name]
    return chosen


def ensemble_probabilities(probabilities: dict[str, np.ndarray], members: list[str]) -> np.ndarray:
    return np.mean([probabilities[name] for name in members], axis=0)


def confusion_csv(y_true: np.ndarray, y_pred: np.ndarray) -> str:
    """One row per test image (actual, predicted) with class names, for DVC's confusion plot."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["actual", "predicted"])
    writer.writerows((CLASS_NAMES[a], CLASS_NAMES[p]) for a, p in zip(y_true, y_pred, strict=True))
    return buffer.getvalue()


def classification_report(metrics: dict) -> str:
    lines = [f"{'class':<12} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
    for name, m in metrics["per_class"].items():
        lines.append(f"{name:<12} {m['precision']:>9.4f} {m['recall']:>9.4f} {m['f1']:>9.4f} {m['support']:>8}")
    lines.append(
        f"{'macro avg':<12} {metrics['macro_precision']:>9.4f} {metrics['macro_recall']:>9.4f} "
        f"{metrics['macro_f1']:>9.4f}"
    )
    lines.append(f"accuracy {metrics['accuracy']:.4f}   loss {metrics['loss']:.4f}")
    return "\n".join(lines) + "\n"
