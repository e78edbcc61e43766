"""DVC stage `export`: SavedModel and TFLite (float32, int8) of the best model, each measured
on the full test set (accuracy, size, single-image latency, batch throughput)."""

import shutil

from fmnist.core.config import load_params
from fmnist.core.errors import exit_on_error
from fmnist.core.io import atomic_dir, load_npz, read_json, write_json
from fmnist.core.stage_args import finish, parse_stage_args


@exit_on_error
def main() -> None:
    args = parse_stage_args(
        __doc__,
        model_dir="folder with model.keras (and info.json)",
        data_dir="train.npz (calibration) and test.npz",
        out_dir="writes saved_model/, model_*.tflite",
        metrics="writes export metrics JSON",
    )
    cfg = load_params(args.params).export

    from fmnist.evaluate import export
    from fmnist.train.models import load_model

    model = export.as_float32(load_model(args.model_dir))  # mixed-precision variants export as float32
    test = load_npz(args.data_dir / "test.npz", ("x", "y"))
    calibration = load_npz(args.data_dir / "train.npz", ("x",))["x"][: cfg.representative_samples]
    with atomic_dir(args.out_dir) as out:
        results = export.export_and_measure(model, args.model_dir / "model.keras", out, test, calibration, cfg)
        if (args.model_dir / "info.json").is_file():
            shutil.copy2(args.model_dir / "info.json", out / "info.json")
    info = args.model_dir / "info.json"
    variant = read_json(info).get("variant") if info.is_file() else args.model_dir.name
    metrics = export.summarise(results, cfg.max_int8_drop, variant)
    write_json(args.metrics, metrics)
    drop = metrics["int8_accuracy_drop_points"]
    print(f"export: {variant}, int8 loses {drop:.2f} points against float32 (limit {cfg.max_int8_drop})")


if __name__ == "__main__":
    main()
    finish()
