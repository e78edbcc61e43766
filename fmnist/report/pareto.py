"""Test accuracy against training minutes for every variant and every seed, with the Pareto
front (no other run is both faster and more accurate) and published figures marked.

Points come from committed files only: metrics/summary.json (the committed run of each variant)
and metrics/seeds.json (the extra seeds), so the chart cannot drift from the tables.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from fmnist.report.tables import cpu_label

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
    cpu: str = ""  # the CPU it trained on, with its deciding features: minutes compare within one


MARKERS = "os^DvP*X"


def _cpu(record: dict) -> str:
    return cpu_label(record) if record.get("cpu") not in (None, "", "not recorded") else ""


def points(summary: dict, seeds: dict | None) -> list[Point]:
    """One point per variant's committed run (on the machine summary.json names), and one per
    extra seed in metrics/seeds.json (its first run is the committed one, already counted when the
    accuracies agree), each with its CPU."""
    machine = _cpu(summary.get("machine") or {})
    found = [
        Point(name, None, entry["train_seconds"] / 60, entry["test_accuracy"], machine)
        for name, entry in summary["variants"].items()
        if entry.get("train_seconds") is not None
    ]
    for name, entry in (seeds or {}).get("variants", {}).items():
        committed = summary["variants"].get(name, {}).get("test_accuracy")
        runs = entry["runs"]
        if runs and runs[0]["test_accuracy"] == committed:  # the committed run, already a point
            runs = runs[1:]
        found += [Point(name, run["seed"], run["train_seconds"] / 60, run["test_accuracy"], _cpu(run)) for run in runs]
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
    # Colour is the variant, the marker the CPU: minutes compare only between runs of one CPU kind.
    cpus = list(dict.fromkeys(p.cpu for p in found))
    for index, name in enumerate(dict.fromkeys(p.variant for p in found)):
        for cpu in cpus:
            mine = [p for p in found if p.variant == name and p.cpu == cpu]
            if mine:
                marker = MARKERS[cpus.index(cpu) % len(MARKERS)]
                axis.scatter(
                    [p.minutes for p in mine], [p.accuracy for p in mine], color=f"C{index % 10}", marker=marker, s=28
                )
        axis.scatter([], [], color=f"C{index % 10}", marker="o", s=28, label=name)  # the legend's entry
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
    axis.set_xlabel("training minutes (log scale; compare minutes between runs of one marker, one CPU kind)")
    axis.set_ylabel("test accuracy")
    axis.yaxis.set_major_formatter(lambda value, _: f"{value:.1%}")
    axis.set_title("Accuracy against training time: every variant and seed, the front in black")
    variants = axis.legend(fontsize=7, ncol=2, loc="lower right")
    if len(cpus) > 1 or (cpus and cpus[0]):
        kinds = [
            axis.scatter(
                [], [], color="grey", marker=MARKERS[index % len(MARKERS)], s=28, label=cpu or "CPU not recorded"
            )
            for index, cpu in enumerate(cpus)
        ]
        where = {"loc": "lower right", "bbox_to_anchor": (1.0, 0.3)}  # above the variants, clear of the front
        axis.legend(handles=kinds, fontsize=7, title="trained on", title_fontsize=7, **where)
        axis.add_artist(variants)
    axis.grid(alpha=0.3)
    save(figure, path)
