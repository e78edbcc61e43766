"""Figures are written atomically as real PNGs of a sensible size."""

import numpy as np
from PIL import Image

from fmnist.core import plots


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
        assert not {"Software", "Creation Time", "date:create"} & set(image.info)  # no run-dependent chunks
    first = (tmp_path / "confusion.png").read_bytes()
    plots.confusion(matrix, tmp_path / "confusion.png", title="t")
    assert (tmp_path / "confusion.png").read_bytes() == first  # same figure, same bytes (and DVC hash)


def drawn_figure(monkeypatch, draw):
    """Run a plotting function and return its figure instead of writing it."""
    saved = []
    monkeypatch.setattr(plots, "save", lambda figure, path: saved.append(figure))
    draw()
    return saved[0]


def test_time_to_accuracy_zooms_where_variants_finish_and_marks_the_target(monkeypatch):
    curves = {
        "fast": [[30.0, 0.25], [60.0, 0.9], [90.0, 0.93]],  # first epoch far below the zoom
        "slow": [[100.0, 0.5], [200.0, 0.91], [300.0, 0.945]],
    }
    figure = drawn_figure(monkeypatch, lambda: plots.time_to_accuracy(curves, "unused.png", 0.9274))
    axis = figure.axes[0]
    assert axis.get_ylim() == (88.0, 95.0)
    target = [line for line in axis.lines if "published" in line.get_label()]
    assert len(target) == 1 and list(target[0].get_ydata()) == [92.74, 92.74]
    # A variant finishing below the zoom widens it rather than vanishing.
    curves["weak"] = [[10.0, 0.6], [20.0, 0.8], [30.0, 0.85]]
    figure = drawn_figure(monkeypatch, lambda: plots.time_to_accuracy(curves, "unused.png"))
    assert figure.axes[0].get_ylim()[0] == 84.0


def test_per_class_legend_sits_beside_the_bars(monkeypatch, tmp_path):
    recalls = {f"v{i}": {name: 0.9 for name in plots.CLASS_NAMES} for i in range(9)}
    figure = drawn_figure(monkeypatch, lambda: plots.per_class_accuracy(recalls, tmp_path / "x.png"))
    figure.canvas.draw()
    axis, legend = figure.axes[0], figure.axes[0].get_legend()
    renderer = figure.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= axis.get_window_extent(renderer).x1
