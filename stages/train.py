"""DVC stage `train@<variant>`: fit one variant, keep its best validation epoch, preview its augmentation."""

import shutil

from fmnist.core.config import load_params
from fmnist.core.errors import ConfigError, exit_on_error
from fmnist.core.io import atomic_dir, load_npz, save_keras_model, write_json
from fmnist.core.stage_args import finish, parse_stage_args


@exit_on_error
def main() -> None:
    args = parse_stage_args(
        __doc__,
        variant=True,
        data_dir="folder with train.npz and val.npz",
        model_dir="writes model.keras",
        metrics="training summary JSON",
        live_dir="DVCLive per-epoch curves",
        preview="augmentation preview PNG",
        optional={"teacher_dir": "a student's teacher: the folder with its model.keras"},
    )
    params = load_params(args.params)
    variant = params.variant(args.variant)
    if (args.variant in params.students) != (args.teacher_dir is not None):
        raise ConfigError(
            f"{args.params}: {args.variant}: --teacher-dir is for students only, and every student needs one"
        )

    from fmnist.train.augment import write_preview  # imports TensorFlow: only after validation
    from fmnist.train.loop import train_variant

    train = load_npz(args.data_dir / "train.npz", ("x", "y"))
    val = load_npz(args.data_dir / "val.npz", ("x", "y"))
    data = {"x_train": train["x"], "y_train": train["y"], "x_val": val["x"], "y_val": val["y"]}
    with atomic_dir(args.live_dir) as live_tmp, atomic_dir(args.model_dir) as model_tmp:
        result = train_variant(variant, data, params.runtime, live_dir=live_tmp, teacher_path=args.teacher_dir)
        save_keras_model(result.model, model_tmp / "model.keras")
        # The summary DVCLive keeps beside the curves repeats metrics/train/<variant>.json.
        (live_tmp / "metrics.json").unlink(missing_ok=True)
        shutil.rmtree(live_tmp / "static", ignore_errors=True)
    write_json(args.metrics, result.metrics)
    write_preview(val["x"], val["y"], variant, args.preview)  # after training: it draws no training randomness
    print(f"train@{variant.name}: " + ", ".join(f"{k}={v}" for k, v in result.metrics.items()))


if __name__ == "__main__":
    main()
    finish()
