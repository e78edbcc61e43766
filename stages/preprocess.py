"""DVC stage `preprocess`: stratified validation split of train, scaling to [0, 1]."""

from fmnist.core.config import load_params
from fmnist.core.errors import exit_on_error
from fmnist.core.io import load_npz, save_npz
from fmnist.core.stage_args import finish, parse_stage_args
from fmnist.data.splits import scale, stratified_split


@exit_on_error
def main() -> None:
    args = parse_stage_args(__doc__, in_dir="ingested train.npz and test.npz", out_dir="writes train/val/test.npz")
    data = load_params(args.params).data
    train = load_npz(args.in_dir / "train.npz", ("x", "y"))
    test = load_npz(args.in_dir / "test.npz", ("x", "y"))
    train_idx, val_idx = stratified_split(train["y"], data.val_fraction, data.seed)
    outputs = {
        "train": (train["x"][train_idx], train["y"][train_idx]),
        "val": (train["x"][val_idx], train["y"][val_idx]),
        "test": (test["x"], test["y"]),
    }
    for split, (images, labels) in outputs.items():
        save_npz(args.out_dir / f"{split}.npz", x=scale(images), y=labels)
    print("preprocess: " + ", ".join(f"{s} {len(y)}" for s, (_, y) in outputs.items()))


if __name__ == "__main__":
    main()
    finish()
