"""DVCLive series reading and the long-format comparison table."""

from fmnist.train.livelog import CURVE_COLUMNS, curve_rows, read_series


def write_series(live, split, name, values):
    path = live / "plots" / "metrics" / split / f"{name}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"step\t{name}\n" + "".join(f"{i}\t{v}\n" for i, v in enumerate(values)))


def test_read_series_and_missing_series(tmp_path):
    write_series(tmp_path / "a", "eval", "accuracy", [0.5, 0.75])
    assert read_series(tmp_path / "a", "eval", "accuracy") == {0: 0.5, 1: 0.75}
    assert read_series(tmp_path / "a", "train", "elapsed_seconds") == {}


def test_curve_rows_one_row_per_variant_and_epoch(tmp_path):
    for name, accuracy in (("a", [0.5, 0.75]), ("b", [0.6])):
        write_series(tmp_path / name, "eval", "accuracy", accuracy)
        write_series(tmp_path / name, "eval", "loss", [1.0] * len(accuracy))
        write_series(tmp_path / name, "train", "elapsed_seconds", [30.0 * (i + 1) for i in range(len(accuracy))])
    rows = curve_rows(tmp_path, ["a", "b", "never_trained"])
    assert [(r["variant"], r["epoch"]) for r in rows] == [("a", 1), ("a", 2), ("b", 1)]
    assert rows[1] == {"variant": "a", "epoch": 2, "val_accuracy": 0.75, "val_loss": 1.0, "train_minutes": 1.0}
    assert set(rows[0]) == set(CURVE_COLUMNS)
