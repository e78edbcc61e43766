"""DVC stage `ingest`: validate the CSVs, store arrays, and describe the data (EDA)."""

import argparse
from pathlib import Path

import numpy as np

from fmnist import CLASS_NAMES, NUM_CLASSES, plots
from fmnist.config import load_params
from fmnist.data import duplicate_counts, read_csv
from fmnist.errors import exit_on_error
from fmnist.io import save_npz, write_json


def describe(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    """Rows, per-class counts and pixel statistics per split, plus exact duplicates."""
    summary: dict = {}
    for split, (images, labels) in splits.items():
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        summary[split] = {
            "rows": len(labels),
            "class_counts": {name: int(c) for name, c in zip(CLASS_NAMES, counts, strict=True)},
            "pixel_mean": round(float(images.mean()), 4),
            "pixel_std": round(float(images.std()), 4),
        }
    summary["duplicates"] = duplicate_counts(splits["train"][0], splits["test"][0])
    return summary


@exit_on_error
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train-csv", type=Path, required=True)
    parser.add_argument("--test-csv", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True, help="writes train.npz and test.npz")
    parser.add_argument("--metrics", type=Path, required=True, help="EDA metrics JSON")
    parser.add_argument("--plots-dir", type=Path, required=True)
    args = parser.parse_args()
    load_params(args.params)  # fail on a bad params.yaml before the slow part
    splits = {"train": read_csv(args.train_csv), "test": read_csv(args.test_csv)}
    summary = describe(splits)
    for split, (images, labels) in splits.items():
        save_npz(args.out_dir / f"{split}.npz", x=images, y=labels)
    write_json(args.metrics, summary)
    counts = {split: list(s["class_counts"].values()) for split, s in summary.items() if split != "duplicates"}
    plots.class_distribution(counts, args.plots_dir / "class_distribution.png")
    plots.samples_per_class(*splits["train"], args.plots_dir / "samples.png")
    print(f"ingest: train {summary['train']['rows']} rows, test {summary['test']['rows']} rows")


if __name__ == "__main__":
    main()
