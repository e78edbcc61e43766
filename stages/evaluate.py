"""DVC stage `evaluate@<variant>`: headline and per-class test metrics, confusion matrix and pictures."""

from fmnist.core.config import load_params
from fmnist.core.errors import exit_on_error
from fmnist.core.io import load_npz, read_json, save_npz, write_json, write_text
from fmnist.core.stage_args import finish, parse_stage_args
from fmnist.evaluate.metrics import (
    classification_report,
    confusion_csv,
    confusion_matrix,
    evaluate_model,
    evaluation_figures,
    split_headline,
)


@exit_on_error
def main() -> None:
    args = parse_stage_args(
        __doc__,
        variant=True,
        data_dir="folder with val.npz and test.npz",
        model_dir="folder with model.keras",
        train_metrics="the train stage's metrics JSON (minutes and epochs for the headline)",
        metrics="writes the headline metrics JSON (the experiment table's columns)",
        scores="writes per-class scores, macro precision and recall, the TTA that ran (JSON)",
        plots_dir="writes confusion, predictions, Grad-CAM plots",
        predictions="val/test probabilities .npz",
    )
    params = load_params(args.params)
    variant = params.variant(args.variant)

    from fmnist.evaluate.gradcam import gradcam_figure
    from fmnist.train.models import load_model

    model = load_model(args.model_dir)
    val, test = load_npz(args.data_dir / "val.npz", ("x", "y")), load_npz(args.data_dir / "test.npz", ("x", "y"))
    metrics, val_probabilities, test_probabilities = evaluate_model(
        model, val, test, params.evaluate.batch_size, params.flip_tta(args.variant), params.shift_tta(args.variant)
    )
    out, predicted = args.plots_dir, test_probabilities.argmax(axis=1)
    write_text(out / "confusion.csv", confusion_csv(test["y"], predicted))
    matrix, samples = confusion_matrix(test["y"], predicted), params.evaluate.samples
    evaluation_figures(test["x"], test["y"], test_probabilities, matrix, out, variant.name, samples)
    gradcam_figure(model, test["x"], test["y"], test_probabilities, out / "gradcam.png", variant.name)
    write_text(out / "classification_report.txt", classification_report(metrics))
    save_npz(args.predictions, val=val_probabilities, test=test_probabilities)
    headline, details = split_headline(metrics, read_json(args.train_metrics))
    write_json(args.scores, details)
    write_json(args.metrics, headline)
    print(f"evaluate@{variant.name}: test accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}")


if __name__ == "__main__":
    main()
    finish()
