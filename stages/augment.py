"""DVC stage `augment@<variant>`: preview real training images through the variant's augmentation."""

import numpy as np

from fmnist import CLASS_NAMES, plots
from fmnist.config import load_params
from fmnist.errors import exit_on_error
from fmnist.io import load_npz
from fmnist.stage_args import parse_stage_args


def preview(images: np.ndarray, variant, copies: int = 5) -> np.ndarray:
    """Rows of [original, `copies` augmented draws] for each image."""
    import tensorflow as tf

    from fmnist.augment import augment_batch

    repeated = np.repeat(images, copies, axis=0)
    augmented = augment_batch(tf.constant(repeated), tf.constant([variant.seed, 0]), variant.augment).numpy()
    rows = [np.concatenate([images[i : i + 1], augmented[i * copies : (i + 1) * copies]]) for i in range(len(images))]
    return np.concatenate(rows)


@exit_on_error
def main() -> None:
    args = parse_stage_args(__doc__, variant=True, train="processed train .npz", out="output PNG")
    variant = load_params(args.params).variant(args.variant)
    train = load_npz(args.train, ("x", "y"))
    # The first image of each class, so the preview always shows all ten.
    picks = [int(np.flatnonzero(train["y"] == label)[0]) for label in np.unique(train["y"])]
    grid = preview(train["x"][picks], variant)
    titles = []
    for index in picks:
        titles += [CLASS_NAMES[train["y"][index]]] + ["augmented"] * 5
    status = "on" if variant.augment.enabled else "off"
    plots.image_grid(grid, titles, args.out, columns=6, suptitle=f"{variant.name}: augmentation {status}")
    print(f"augment: wrote {args.out}")


if __name__ == "__main__":
    main()
