"""Memory benchmark of `fmnist predict`: peak RSS on a folder of mixed images and on pathological
ones, against the footprint of predicting one 28×28 image (the model and TensorFlow themselves).

    python -m fmnist.tools.predict_memory [--model models/best/model.keras] [--images 1000]

`make bench` runs it and writes the figures into metrics/bench.json under `predict_memory`.
Each measurement is a fresh `fmnist predict` process; its peak RSS comes from wait4(2).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

TARGET_EXTRA_MB = 300  # "a few hundred MB above the model's own footprint"
# Pathological shapes: a few hundred bytes of PNG each, once tens of GiB of float32 padding.
PATHOLOGICAL = {"line_100000x1": (100_000, 1), "column_1x100000": (1, 100_000), "strip_40000x8": (40_000, 8)}


def write_mixed_images(folder: Path, count: int, seed: int = 0) -> None:
    """`count` PNG/JPEG/BMP/WebP files from 28×28 to 1600×1200, some grey, some RGB(A)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    formats = [("png", "L"), ("jpg", "RGB"), ("bmp", "RGB"), ("webp", "RGBA"), ("png", "RGBA")]
    for index in range(count):
        side = int(rng.choice([28, 64, 200, 640, 1600]))
        width, height = side, max(1, int(side * rng.uniform(0.5, 1.5)))
        extension, mode = formats[index % len(formats)]
        pixels = rng.integers(0, 256, (min(height, 64), min(width, 64), len(mode)), dtype=np.uint8)
        small = Image.fromarray(pixels.squeeze(-1) if mode == "L" else pixels, mode=mode)
        small.resize((width, height)).save(folder / f"{index:04d}.{extension}")


def peak_rss_mb(command: list[str]) -> float:
    """Peak resident memory of one child process, in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}: {stderr.strip()[-300:]}")
    return usage.ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1 << 10)


def measure(model: Path, images: int, workdir: Path, shapes: dict[str, tuple[int, int]] = PATHOLOGICAL) -> dict:
    from PIL import Image

    predict = [
        sys.executable,
        "-m",
        "fmnist.tools.cli",
        "predict",
        "--model",
        str(model),
        "--format",
        "csv",
        "--no-progress",
    ]
    one = workdir / "one" / "shirt.png"
    one.parent.mkdir(parents=True)
    Image.new("L", (28, 28), 0).save(one)
    baseline = peak_rss_mb([*predict, str(one)])
    write_mixed_images(workdir / "mixed", images)
    mixed = peak_rss_mb([*predict, str(workdir / "mixed")])
    pathological = {}
    for name, size in shapes.items():
        path = workdir / "bad" / f"{name}.png"
        path.parent.mkdir(exist_ok=True)
        picture = Image.new("L", size, 0)
        picture.paste(255, (0, 0, max(1, size[0] // 2), max(1, size[1] // 2)))
        picture.save(path)
        pathological[name] = round(peak_rss_mb([*predict, str(path)]), 1)
    worst = max([mixed, *pathological.values()]) - baseline
    return {
        "one_image_mb": round(baseline, 1),
        "mixed_folder_mb": round(mixed, 1),
        "mixed_folder_images": images,
        "pathological_mb": pathological,
        "worst_extra_mb": round(worst, 1),
        "target_extra_mb": TARGET_EXTRA_MB,
        "within_target": worst <= TARGET_EXTRA_MB,
    }


def run(model: Path, images: int, shapes: dict[str, tuple[int, int]] = PATHOLOGICAL) -> dict:
    with tempfile.TemporaryDirectory(prefix="fmnist-predict-memory-") as workdir:
        return measure(model, images, Path(workdir), shapes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="default: the compare stage's best model (dvc.yaml)")
    parser.add_argument("--images", type=int, default=1000, help="mixed images in the folder")
    args = parser.parse_args(argv)
    if args.model is None:
        from fmnist.tools.pipeline import stage_path

        args.model = stage_path("compare", "best_dir") / "model.keras"
    print(json.dumps(run(args.model, args.images), indent=1))


if __name__ == "__main__":
    main()
