"""DVC stage `compare`: leaderboard, validation-chosen ensemble, and the best model."""

import shutil

from fmnist import compare, livelog, plots
from fmnist.config import load_params
from fmnist.errors import exit_on_error
from fmnist.io import atomic_dir, load_npz, read_json, write_json
from fmnist.stage_args import parse_stage_args
from fmnist.system import machine_info


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
    rows = compare.leaderboard_rows(names, args.eval_dir, args.train_dir, params.ci.floors)
    y_val = load_npz(args.data_dir / "val.npz", ("y",))["y"]
    y_test = load_npz(args.data_dir / "test.npz", ("y",))["y"]
    predictions = {name: load_npz(args.predictions_dir / f"{name}.npz", ("val", "test")) for name in names}
    members, test, val = compare.ensemble(predictions, y_val, y_test, params.compare.ensemble_size)
    summary = compare.summary(rows, members, test, val, machine_info())
    best = rows[0]
    with atomic_dir(args.best_dir) as tmp:
        shutil.copyfile(args.models_dir / best["name"] / "model.keras", tmp / "model.keras")
        info = {"variant": best["name"], "val_accuracy": best["val_accuracy"], "test_accuracy": best["test_accuracy"]}
        write_json(tmp / "info.json", info)
    write_json(args.summary, summary, sort_keys=False)  # variants best validation accuracy first
    plots.leaderboard([*rows, {"name": "ensemble", **summary["ensemble"]}], args.plots_dir / "leaderboard.png")
    recalls = {
        n: {c: r["recall"] for c, r in read_json(args.eval_dir / f"{n}.json")["per_class"].items()} for n in names
    }
    plots.per_class_accuracy(recalls, args.plots_dir / "per_class.png")
    curves = livelog.curves_by_variant(livelog.curve_rows(args.live_dir, names))
    plots.training_curves({name: curves.get(name, {}) for name in names}, args.plots_dir / "curves.png")
    print(f"compare: best {best['name']} (val {best['val_accuracy']:.4f}, test {best['test_accuracy']:.4f}); "
          f"ensemble {members} test {test['accuracy']:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
