"""DVC stage `evaluate@<variant>`: test-set metrics, confusion matrix and pictures."""

import csv
import io
from pathlib import Path

import numpy as np

from fmnist import CLASS_NAMES, plots
from fmnist.config import load_params
from fmnist.errors import exit_on_error
from fmnist.evaluation import confusion_matrix, evaluate_probabilities, predict_probabilities
from fmnist.io import load_npz, save_npz, write_json, write_text
from fmnist.stage_args import parse_stage_args


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


def prediction_pictures(x, y, probabilities, out_dir: Path, name: str, count: int) -> None:
    predicted, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1)
    # A fixed, evenly spread sample of the test set.
    picks = np.linspace(0, len(y) - 1, num=min(count, len(y))).astype(int)
    titles = [f"{CLASS_NAMES[predicted[i]]} {confidence[i]:.0%}\n(true {CLASS_NAMES[y[i]]})" for i in picks]
    colors = ["green" if predicted[i] == y[i] else "red" for i in picks]
    plots.image_grid(
        x[picks],
        titles,
        out_dir / "predictions.png",
        columns=5,
        colors=colors,
        suptitle=f"{name}: predicted (confidence), true label",
    )
    wrong = np.flatnonzero(predicted != y)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    titles = [f"{CLASS_NAMES[predicted[i]]} {confidence[i]:.0%}\n(true {CLASS_NAMES[y[i]]})" for i in wrong]
    images = x[wrong] if len(wrong) else np.zeros((1, *x.shape[1:]), x.dtype)
    plots.image_grid(
        images,
        titles or ["no errors"],
        out_dir / "misclassified.png",
        columns=5,
        suptitle=f"{name}: most confident errors",
    )


def gradcam_picture(model, x, y, probabilities, path: Path, name: str) -> None:
    """Grad-CAM of the predicted class on a fixed set of test images (convolutional models only)."""
    from fmnist.gradcam import gradcam, last_feature_layer, pick_examples

    if last_feature_layer(model) is None:
        return
    chosen = pick_examples(y, probabilities)
    predicted = probabilities[chosen].argmax(axis=1)
    maps = gradcam(model, x[chosen], predicted)
    pairs = zip(chosen, predicted, strict=True)
    titles = [f"{CLASS_NAMES[y[i]]}\n→ {CLASS_NAMES[p]} {probabilities[i, p]:.0%}" for i, p in pairs]
    title = f"{name}: Grad-CAM of the predicted class (row 1: a correct image per class; row 2: most confident errors)"
    plots.gradcam_grid(x[chosen], maps, titles, path, title, columns=10)


@exit_on_error
def main() -> None:
    args = parse_stage_args(
        __doc__,
        variant=True,
        data_dir="folder with val.npz and test.npz",
        model_dir="folder with model.keras",
        metrics="writes test metrics JSON",
        plots_dir="writes confusion, predictions, Grad-CAM plots",
        predictions="val/test probabilities .npz",
    )
    params = load_params(args.params)
    variant = params.variant(args.variant)

    from fmnist.models import load_model

    model = load_model(args.model_dir)
    val = load_npz(args.data_dir / "val.npz", ("x", "y"))
    test = load_npz(args.data_dir / "test.npz", ("x", "y"))
    batch = params.evaluate.batch_size
    flip = params.flip_tta(args.variant)
    val_probabilities = predict_probabilities(model, val["x"], batch, flip)
    test_probabilities = predict_probabilities(model, test["x"], batch, flip)
    metrics = evaluate_probabilities(test_probabilities, test["y"])
    metrics["val_accuracy"] = round(float((val_probabilities.argmax(1) == val["y"]).mean()), 6)
    metrics["tta_flip"] = bool(flip)

    predicted = test_probabilities.argmax(axis=1)
    write_text(args.plots_dir / "confusion.csv", confusion_csv(test["y"], predicted))
    plots.confusion(
        confusion_matrix(test["y"], predicted),
        args.plots_dir / "confusion.png",
        f"{variant.name}: test accuracy {metrics['accuracy']:.2%}",
    )
    prediction_pictures(test["x"], test["y"], test_probabilities, args.plots_dir, variant.name, params.evaluate.samples)
    gradcam_picture(model, test["x"], test["y"], test_probabilities, args.plots_dir / "gradcam.png", variant.name)
    write_text(args.plots_dir / "classification_report.txt", classification_report(metrics))
    save_npz(args.predictions, val=val_probabilities, test=test_probabilities)
    write_json(args.metrics, metrics)
    print(f"evaluate@{variant.name}: test accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}")


if __name__ == "__main__":
    main()
