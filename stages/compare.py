"""DVC stage `compare`: leaderboard, validation-chosen ensemble, and the best model."""

from fmnist.core.config import load_params
from fmnist.core.errors import exit_on_error
from fmnist.core.io import load_npz, write_json
from fmnist.core.stage_args import finish, parse_stage_args
from fmnist.core.system import machine_info
from fmnist.evaluate import compare


@exit_on_error
def main() -> None:
    args = parse_stage_args(
        __doc__,
        data_dir="val.npz and test.npz",
        eval_dir="evaluate stages' headline metrics JSON",
        scores_dir="evaluate stages' per-class scores JSON",
        train_dir="train stages' metrics JSON",
        predictions_dir="per-variant val/test probabilities",
        models_dir="one folder per trained variant",
        summary="writes the summary JSON (machine, every variant, the ensemble)",
        headline="writes the headline metrics JSON (best variant and ensemble)",
        plots_dir="writes leaderboard, per-class and curve plots",
        best_dir="writes the best model or ensemble",
        live_dir="DVCLive folders of the train stages",
    )
    params = load_params(args.params)
    names = params.trained
    rows = compare.leaderboard_rows(names, args.eval_dir, args.train_dir, params.ci.floors)
    y_val = load_npz(args.data_dir / "val.npz", ("y",))["y"]
    y_test = load_npz(args.data_dir / "test.npz", ("y",))["y"]
    candidates = compare.selectable(rows)  # not the variants retrained on the validation images
    predictions = {n["name"]: load_npz(args.predictions_dir / f"{n['name']}.npz", ("val", "test")) for n in candidates}
    members, test, val = compare.ensemble(predictions, y_val, y_test, params.compare.ensemble_size)
    summary = compare.summary(rows, members, test, val, machine_info(with_matmul_peak=True))
    best = compare.best_metrics(summary)  # the variant summary chose, on validation
    compare.write_best(args.models_dir, best, args.best_dir)
    write_json(args.summary, summary, sort_keys=False)  # variants best validation accuracy first
    write_json(args.headline, best, sort_keys=False)
    compare.comparison_figures(names, rows, summary, args.scores_dir, args.live_dir, args.plots_dir)
    print(f"compare: best {best['variant']} (val {best['val_accuracy']:.4f}, test {best['test_accuracy']:.4f}); "
          f"ensemble {members} test {test['accuracy']:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
    finish()
