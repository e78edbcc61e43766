"""DVC stage `ingest`: validate the CSVs, store arrays, and describe the data (EDA)."""

from fmnist.core import plots
from fmnist.core.config import load_params
from fmnist.core.errors import exit_on_error
from fmnist.core.io import save_npz, write_json
from fmnist.core.stage_args import finish, parse_stage_args
from fmnist.data.formats import read_csv
from fmnist.data.splits import describe


@exit_on_error
def main() -> None:
    args = parse_stage_args(
        __doc__,
        train_csv="Zalando-format train CSV (label, 784 pixels)",
        test_csv="Zalando-format test CSV",
        out_dir="writes train.npz and test.npz",
        metrics="EDA metrics JSON",
        plots_dir="writes class-balance and sample plots",
    )
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
    finish()
