"""Test accuracy against training minutes for every variant and every seed, with the Pareto
front (no other run is both faster and more accurate) and published figures marked.

Points come from committed files only: metrics/summary.json (the committed run of each variant)
and metrics/seeds.json (the extra seeds), so the chart cannot drift from the tables.
"""

from __future__ import annotations

import os
from typing import NamedTuple

# Published Fashion-MNIST accuracies to beat, with no comparable training time (GPU, other
# budgets): Zalando's benchmark table (github.com/zalandoresearch/fashion-mnist#benchmark) and
# the long CPU-free runs the accuracy issue cites.
PUBLISHED = (
    ("ResNet18, Zalando benchmark (GPU)", 0.949),
    ("MobileNet, Zalando benchmark (GPU)", 0.950),
    ("ResNet-20 + random erasing, 300 epochs", 0.956),
)


class Point(NamedTuple):
    variant: str
    seed: int | None
    minutes: float
    accuracy: float


def points(summary: dict, seeds: dict | None) -> list[Point]:
    """One point per variant's committed run, and one per extra seed in metrics/seeds.json (its
    first run is the committed one, already counted when the accuracies agree)."""
    found = [
        Point(name, None, entry["train_seconds"] / 60, entry["test_accuracy"])
        for name, entry in summary["variants"].items()
        if entry.get("train_seconds") is not None
    ]
    for name, entry in (seeds or {}).get("variants", {}).items():
        committed = summary["variants"].get(name, {}).get("test_accuracy")
        runs = entry["runs"]
        if runs and runs[0]["test_accuracy"] != committed:  # seeds measured beside an older run
            found.append(Point(name, runs[0]["seed"], runs[0]["train_seconds"] / 60, runs[0]["test_accuracy"]))
        found += [Point(name, run["seed"], run["train_seconds"] / 60, run["test_accuracy"]) for run in runs[1:]]
    return found


def front(found: list[Point]) -> list[Point]:
    """The runs no other run beats on both axes, fastest first."""
    best, result = -1.0, []
    for point in sorted(found, key=lambda p: (p.minutes, -p.accuracy)):
        if point.accuracy > best:
            result.append(point)
            best = point.accuracy
    return result


def axis_range(values: list[float], margin: float = 0.1) -> tuple[float, float]:
    """Zoomed to the data: the spread plus a margin, not 0..1."""
    low, high = min(values), max(values)
    pad = max((high - low) * margin, 0.002)
    return low - pad, high + pad


def draw(found: list[Point], path: str | os.PathLike) -> None:
    """Scatter per variant (log-scaled minutes), the front as a step line, published figures as
    dashed lines."""
    from fmnist.core.plots import plt, save

    figure, axis = plt.subplots(figsize=(9, 5.5))
    for index, name in enumerate(dict.fromkeys(p.variant for p in found)):
        mine = [p for p in found if p.variant == name]
        axis.scatter([p.minutes for p in mine], [p.accuracy for p in mine], label=name, color=f"C{index % 10}", s=28)
    best = front(found)
    axis.step([p.minutes for p in best], [p.accuracy for p in best], where="post", color="black", lw=1, alpha=0.6)
    for index, (label, accuracy) in enumerate(sorted(PUBLISHED, key=lambda item: item[1])):
        axis.axhline(accuracy, ls="--", lw=0.8, color="grey")
        axis.annotate(  # alternate above and below the line, so close figures stay legible
            f"{label}: {accuracy:.1%}",
            (0.01, accuracy),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            va="top" if index % 2 == 0 else "bottom",
        )
    strong = [p.accuracy for p in found if p.accuracy >= 0.85] or [p.accuracy for p in found]
    axis.set_ylim(*axis_range([*strong, *(a for _, a in PUBLISHED)]))
    axis.set_xscale("log")
    axis.xaxis.set_major_formatter(lambda value, _: f"{value:g}")
    axis.set_xlabel("training minutes (log scale; each run's CPU is in metrics/train and metrics/seeds.json)")
    axis.set_ylabel("test accuracy")
    axis.yaxis.set_major_formatter(lambda value, _: f"{value:.1%}")
    axis.set_title("Accuracy against training time: every variant and seed, the front in black")
    axis.legend(fontsize=7, ncol=2, loc="lower right")
    axis.grid(alpha=0.3)
    save(figure, path)
