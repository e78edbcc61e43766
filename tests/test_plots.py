"""Figures are written atomically as real PNGs of a sensible size."""

import numpy as np
from PIL import Image

from fmnist import plots


def test_sweep_leaderboard_draws_one_bar_per_experiment(tmp_path):
    path = tmp_path / "leaderboard.png"
    plots.sweep_leaderboard(["lr-2", "lr-1", "lr-3"], [0.91, 0.90, 0.89], "val_accuracy", path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 400 and image.height > 150
    assert not list(tmp_path.glob(".*"))  # no temporary left behind


def test_confusion_png(tmp_path):
    matrix = np.eye(10, dtype=int) * 9 + 1
    plots.confusion(matrix, tmp_path / "confusion.png", title="t")
    with Image.open(tmp_path / "confusion.png") as image:
        assert image.format == "PNG"
