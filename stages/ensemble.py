"""DVC stage `ensemble@<name>`: average the members' trained models into one, a teacher for students."""

import argparse
from pathlib import Path

from fmnist.core.config import load_params
from fmnist.core.errors import ConfigError, exit_on_error
from fmnist.core.io import atomic_dir, save_keras_model
from fmnist.core.stage_args import finish


@exit_on_error
def main() -> None:
    # The members' folders are one repeated option, which the other stages' parse_stage_args lacks.
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    parser.add_argument("--ensemble", required=True, help="an entry of ensembles:")
    parser.add_argument(
        "--member-dir", type=Path, action="append", required=True, help="a member's folder, once each, in params order"
    )
    parser.add_argument("--model-dir", type=Path, required=True, help="writes model.keras")
    args = parser.parse_args()
    params = load_params(args.params)
    if args.ensemble not in params.ensembles:
        raise ConfigError(f"{args.params}: unknown ensemble {args.ensemble!r}; known: {sorted(params.ensembles)}")
    members = params.ensembles[args.ensemble].members
    if [path.name for path in args.member_dir] != list(members):
        raise ConfigError(
            f"{args.params}: ensembles.{args.ensemble}.members is {list(members)}, but the stage was given "
            f"{[str(path) for path in args.member_dir]} (dvc.yaml passes one --member-dir per member)"
        )

    from fmnist.train.ensemble import average_model  # imports TensorFlow: only after validation
    from fmnist.train.models import load_model

    model = average_model([load_model(path) for path in args.member_dir], args.ensemble)
    with atomic_dir(args.model_dir) as model_tmp:
        save_keras_model(model, model_tmp / "model.keras")
    print(f"ensemble@{args.ensemble}: the mean of {', '.join(members)} ({model.count_params():,} parameters)")


if __name__ == "__main__":
    main()
    finish()
