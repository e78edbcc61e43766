"""Matplotlib figures (Agg backend, written atomically as PNG)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from fmnist import CLASS_NAMES
from fmnist.core.io import atomic_path


def save(figure, path: str | os.PathLike) -> None:
    # Fixed metadata keeps the PNG bytes stable when the picture is unchanged.
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def class_distribution(counts: Mapping[str, Sequence[int]], path: str | os.PathLike) -> None:
    figure, axis = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(counts)
    positions = np.arange(len(CLASS_NAMES))
    for offset, (split, values) in enumerate(counts.items()):
        axis.bar(positions + offset * width, values, width, label=split)
    axis.set_xticks(positions + width * (len(counts) - 1) / 2, CLASS_NAMES, rotation=30, ha="right")
    axis.set_ylabel("images")
    axis.set_title("Images per class")
    axis.legend()
    save(figure, path)


def image_grid(
    images: np.ndarray,
    titles: Sequence[str],
    path: str | os.PathLike,
    columns: int = 10,
    suptitle: str = "",
    colors: Sequence[str] | None = None,
) -> None:
    rows = max(int(np.ceil(len(images) / columns)), 1)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.5))
    for index, axis in enumerate(np.atleast_1d(axes).ravel()):
        axis.axis("off")
        if index < len(images):
            axis.imshow(np.squeeze(images[index]), cmap="gray", vmin=0, vmax=images.max() or 1)
            axis.set_title(titles[index], fontsize=7, color=(colors[index] if colors else "black"))
    if suptitle:
        figure.suptitle(suptitle)
    save(figure, path)


def samples_per_class(images: np.ndarray, labels: np.ndarray, path: str | os.PathLike, per_class: int = 8) -> None:
    """One column per class: the first `per_class` images of each, titled with the class name."""
    picks, titles = [], []
    for row in range(per_class):
        for label, name in enumerate(CLASS_NAMES):
            members = np.flatnonzero(labels == label)
            if row < len(members):
                picks.append(images[members[row]])
                titles.append(name)
            else:
                picks.append(np.zeros_like(images[0]))
                titles.append("")
    image_grid(np.stack(picks), titles, path, columns=len(CLASS_NAMES))


def confusion(matrix: np.ndarray, path: str | os.PathLike, title: str) -> None:
    figure, axis = plt.subplots(figsize=(8, 7))
    axis.imshow(matrix, cmap="Blues")
    for (row, col), value in np.ndenumerate(matrix):
        color = "white" if value > matrix.max() / 2 else "black"
        axis.text(col, row, str(value), ha="center", va="center", fontsize=7, color=color)
    ticks = np.arange(len(CLASS_NAMES))
    axis.set_xticks(ticks, CLASS_NAMES, rotation=45, ha="right")
    axis.set_yticks(ticks, CLASS_NAMES)
    axis.set_xlabel("predicted")
    axis.set_ylabel("actual")
    axis.set_title(title)
    save(figure, path)


def leaderboard(rows: Sequence[Mapping], path: str | os.PathLike) -> None:
    """Test accuracy against training minutes, one labelled point per variant."""
    figure, axis = plt.subplots(figsize=(8, 5))
    for row in rows:
        minutes = row["train_seconds"] / 60
        axis.scatter(minutes, row["test_accuracy"] * 100, s=30)
        axis.annotate(
            row["name"], (minutes, row["test_accuracy"] * 100), fontsize=8, xytext=(4, 4), textcoords="offset points"
        )
    axis.set_xlabel("training wall time (minutes)")
    axis.set_ylabel("test accuracy (%)")
    axis.set_title("Fashion-MNIST: accuracy vs training time")
    axis.grid(alpha=0.3)
    save(figure, path)


def per_class_accuracy(recalls: Mapping[str, Mapping[str, float]], path: str | os.PathLike) -> None:
    """Grouped bars: per-class test accuracy (recall), one bar per variant in each class group."""
    figure, axis = plt.subplots(figsize=(13, 5))
    names = list(recalls)
    width = 0.8 / max(len(names), 1)
    positions = np.arange(len(CLASS_NAMES))
    colors = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    for i, name in enumerate(names):
        values = [recalls[name].get(label, 0.0) * 100 for label in CLASS_NAMES]
        axis.bar(positions + (i - (len(names) - 1) / 2) * width, values, width, label=name, color=colors(i))
    axis.set_xticks(positions, CLASS_NAMES, rotation=20)
    low = min((min(r.values()) for r in recalls.values() if r), default=0.0) * 100
    axis.set_ylim(max(0.0, low - 5), 100)
    axis.set_ylabel("test accuracy of the class (%)")
    axis.set_title("Per-class accuracy by variant")
    axis.grid(axis="y", alpha=0.3)
    # Beside the axes, not on them: any corner of the plot would cover some class's bars.
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="variant")
    save(figure, path)


def training_curves(curves: Mapping[str, Mapping[str, Sequence[float]]], path: str | os.PathLike) -> None:
    """Validation accuracy and loss per epoch of every variant, on one figure."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for name, series in curves.items():
        epochs = np.arange(1, len(series.get("val_accuracy", [])) + 1)
        if len(epochs):
            left.plot(epochs, np.array(series["val_accuracy"]) * 100, marker=".", label=name)
        if series.get("val_loss"):
            right.plot(np.arange(1, len(series["val_loss"]) + 1), series["val_loss"], marker=".", label=name)
    left.set_ylabel("validation accuracy (%)")
    right.set_ylabel("validation loss (log scale; label smoothing raises its floor)")
    right.set_yscale("log")
    for axis in (left, right):
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    if left.lines:
        # Zoom on where the variants finish; first-epoch dips below the axis are cut off.
        final = min(line.get_ydata()[-1] for line in left.lines)
        left.set_ylim(min(80.0, final - 2), 100)
        left.legend(fontsize=8)
    figure.suptitle("Training curves of all variants")
    save(figure, path)


def time_to_accuracy(
    curves: Mapping[str, Sequence[Sequence[float]]],
    path: str | os.PathLike,
    target: float | None = None,
    zoom: tuple[float, float] = (88.0, 95.0),
) -> None:
    """Validation accuracy against training minutes, one line per label; `curves` maps a label
    to (seconds, accuracy) pairs. The y axis zooms on `zoom` (%), where variants differ, and a
    dashed line marks `target` (the published recipe's accuracy)."""
    figure, axis = plt.subplots(figsize=(8, 5))
    for label, points in curves.items():
        if points:
            seconds, accuracy = zip(*points, strict=True)
            axis.plot(np.array(seconds) / 60, np.array(accuracy) * 100, marker="o", label=label)
    if target is not None:
        axis.axhline(target * 100, color="black", linestyle="--", linewidth=1, label=f"published recipe {target:.2%}")
    axis.set_xlabel("training wall time (minutes)")
    axis.set_ylabel("validation accuracy (%)")
    axis.set_title("Time to accuracy")
    axis.grid(alpha=0.3)
    finals = [line.get_ydata()[-1] for line in axis.lines if len(line.get_xdata()) > 2]
    if finals:  # earlier epochs below the zoom are cut off; a variant finishing below it widens it
        axis.set_ylim(min(zoom[0], min(finals) - 1), max(zoom[1], max(finals) + 0.5))
        axis.legend(fontsize=8, loc="lower right")
    else:
        axis.text(0.5, 0.5, "no per-epoch timings logged", ha="center", transform=axis.transAxes)
    save(figure, path)


def gradcam_grid(images, maps, titles: Sequence[str], path: str | os.PathLike, title: str, columns: int = 8) -> None:
    """Each image in grey with its Grad-CAM map overlaid; titles say actual -> predicted."""
    rows = max(1, -(-len(images) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.7, rows * 2.0))
    for axis in np.atleast_1d(axes).ravel():
        axis.axis("off")
    for axis, image, heat, text in zip(np.atleast_1d(axes).ravel(), images, maps, titles, strict=False):
        axis.imshow(np.squeeze(image), cmap="gray")
        axis.imshow(heat, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        axis.set_title(text, fontsize=6.5)
    figure.suptitle(title)
    save(figure, path)


def sweep_leaderboard(names: Sequence[str], values: Sequence[float], metric: str, path: str | os.PathLike) -> None:
    """Horizontal bars of one metric per experiment, best at the top (a sweep's leaderboard)."""
    figure, axis = plt.subplots(figsize=(8, 0.8 + 0.45 * len(names)))
    positions = np.arange(len(names))[::-1]
    axis.barh(positions, values, color="#4c72b0")
    axis.set_yticks(positions, labels=list(names))
    low, high = min(values), max(values)
    margin = max((high - low) * 0.5, 0.002)
    axis.set_xlim(max(0.0, low - margin), high + margin / 2)
    for position, value in zip(positions, values, strict=True):
        axis.annotate(f"{value:.4f}", (value, position), xytext=(3, 0), textcoords="offset points", va="center")
    axis.set_xlabel(metric)
    axis.set_title("Sweep leaderboard (best first)")
    axis.grid(axis="x", alpha=0.3)
    save(figure, path)


def prediction_grids(x, y, probabilities, out_dir: Path, name: str, count: int) -> None:
    """predictions.png (an even sample of the test set) and misclassified.png (most confident errors)."""
    predicted, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1)
    # A fixed, evenly spread sample of the test set.
    picks = np.linspace(0, len(y) - 1, num=min(count, len(y))).astype(int)
    titles = [f"{CLASS_NAMES[predicted[i]]} {confidence[i]:.0%}\n(true {CLASS_NAMES[y[i]]})" for i in picks]
    colors = ["green" if predicted[i] == y[i] else "red" for i in picks]
    image_grid(
        x[picks],
        titles,
        out_dir / "predictions.png",
        columns=5,
        colors=colors,
        suptitle=f"{name}: predicted (confidence), true label",
    )
    wrong = np.flatnonzero(predicted != y)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    titles = [f"{CLASS_NAMES[predicted[i]]} {confidence[i]:.0%}\n(true {CLASS_NAMES[y[i]]})" for i in wrong]
    images = x[wrong] if len(wrong) else np.zeros((1, *x.shape[1:]), x.dtype)
    image_grid(
        images,
        titles or ["no errors"],
        out_dir / "misclassified.png",
        columns=5,
        suptitle=f"{name}: most confident errors",
    )
