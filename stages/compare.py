"""DVC stage `compare`: leaderboard, validation-chosen ensemble, and the best model."""

import shutil
from pathlib import Path

from fmnist import plots
from fmnist.config import load_params
from fmnist.errors import exit_on_error
from fmnist.evaluation import ensemble_probabilities, evaluate_probabilities, greedy_ensemble
from fmnist.io import atomic_dir, load_npz, read_json, write_json
from fmnist.livelog import read_series
from fmnist.stage_args import parse_stage_args
from fmnist.system import machine_info


def leaderboard_rows(names, eval_dir: Path, train_dir: Path) -> list[dict]:
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
            }
        )
    return sorted(rows, key=lambda row: -row["val_accuracy"])


def read_curves(live_dir: Path) -> dict[str, list[float]]:
    """Per-epoch validation accuracy and loss from a train stage's DVCLive TSV files."""
    curves = {}
    for key, name in (("val_accuracy", "accuracy"), ("val_loss", "loss")):
        values = read_series(live_dir, "eval", name)
        if values:
            curves[key] = [values[step] for step in sorted(values)]
    return curves


@exit_on_error
def main() -> None:
    args = parse_stage_args(
        __doc__,
        data_dir="val.npz and test.npz",
        eval_dir="evaluate stages' metrics JSON",
        train_dir="train stages' metrics JSON",
        predictions_dir="per-variant val/test probabilities",
        models_dir="one folder per trained variant",
        summary="writes the summary JSON",
        plots_dir="writes leaderboard, per-class and curve plots",
        best_dir="writes the best model or ensemble",
        live_dir="DVCLive folders of the train stages",
    )
    params = load_params(args.params)
    names = list(params.variants)
    rows = leaderboard_rows(names, args.eval_dir, args.train_dir)
    for row in rows:
        row["floor"] = params.ci.floors.get(row["name"], 0.0)

    y_val = load_npz(args.data_dir / "val.npz", ("y",))["y"]
    y_test = load_npz(args.data_dir / "test.npz", ("y",))["y"]
    predictions = {name: load_npz(args.predictions_dir / f"{name}.npz", ("val", "test")) for name in names}
    members = greedy_ensemble({n: p["val"] for n, p in predictions.items()}, y_val, params.compare.ensemble_size)
    ensemble_test = evaluate_probabilities(
        ensemble_probabilities({n: p["test"] for n, p in predictions.items()}, members), y_test
    )
    ensemble_val = evaluate_probabilities(
        ensemble_probabilities({n: p["val"] for n, p in predictions.items()}, members), y_val
    )

    by_name = {row["name"]: row for row in rows}
    best = rows[0]  # chosen on validation accuracy, never on test
    with atomic_dir(args.best_dir) as tmp:
        shutil.copyfile(args.models_dir / best["name"] / "model.keras", tmp / "model.keras")
        write_json(
            tmp / "info.json",
            {"variant": best["name"], "val_accuracy": best["val_accuracy"], "test_accuracy": best["test_accuracy"]},
        )
    summary = {
        "machine": machine_info(),
        "best_variant": best["name"],
        "best_test_accuracy": best["test_accuracy"],
        "variants": {row["name"]: {k: v for k, v in row.items() if k != "name"} for row in rows},
        "ensemble": {
            "members": members,
            "test_accuracy": ensemble_test["accuracy"],
            "macro_f1": ensemble_test["macro_f1"],
            "val_accuracy": ensemble_val["accuracy"],
            "params": sum(by_name[m]["params"] for m in set(members)),
            "train_seconds": round(sum(by_name[m]["train_seconds"] for m in set(members)), 2),
        },
    }
    write_json(args.summary, summary)
    plots.leaderboard([*rows, {"name": "ensemble", **summary["ensemble"]}], args.plots_dir / "leaderboard.png")
    per_class = {name: read_json(args.eval_dir / f"{name}.json")["per_class"] for name in names}
    recalls = {name: {label: row["recall"] for label, row in classes.items()} for name, classes in per_class.items()}
    plots.per_class_accuracy(recalls, args.plots_dir / "per_class.png")
    plots.training_curves({n: read_curves(args.live_dir / n) for n in names}, args.plots_dir / "curves.png")
    print(
        f"compare: best {best['name']} (val {best['val_accuracy']:.4f}, test {best['test_accuracy']:.4f}); "
        f"ensemble {members} test {ensemble_test['accuracy']:.4f}"
    )


if __name__ == "__main__":
    main()
