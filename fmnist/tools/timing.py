"""The benchmark's measurements: matmul peak, training steps and whole epochs, the published
recipe, and what the pipeline's own logs say about dead time and start-up overhead.

Every timing records process CPU time beside wall time: the CPU share (CPU seconds / wall
seconds / cores) exposes a timing in which the process waited instead of working. Such waits
once gave "exactly 20.5 s, whatever the model": with tf.data's autotuner on, tearing down an
input iterator could wait for the autotuner's thread, which wakes 10 * (2**k - 1) ms after the
iterator starts (20.47 s, 40.95 s, 81.91 s, then every 60 s). The training pipeline now runs
with the autotuner off (fmnist.train.loop.train_dataset; docs/measurements/fit_teardown.py), and
whole epochs in interleaved pairs keep any remaining stall from deciding a comparison.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.core.io import load_npz, read_json
from fmnist.train.livelog import read_series


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float

    @property
    def cpu_share(self) -> float:
        """Fraction of the machine's cores the process kept busy; far below 1 means it waited."""
        return self.cpu / max(self.wall, 1e-9) / (os.cpu_count() or 1)


def timed(function, *args, **kwargs) -> Timed:
    wall, cpu = time.perf_counter(), time.process_time()
    function(*args, **kwargs)
    return Timed(time.perf_counter() - wall, time.process_time() - cpu)


def fitted_model(variant, x: np.ndarray, y: np.ndarray, deterministic: bool):
    """The variant compiled as the train stage compiles it, in the precision this machine
    chooses, warmed up for 5 steps; returns (model, dataset, steps per epoch, precision)."""
    from fmnist.core.config import RuntimeConfig
    from fmnist.train.loop import build_and_compile, configure_runtime, resolve_precision, train_dataset

    precision, _ = resolve_precision(variant)
    configure_runtime(RuntimeConfig(deterministic=deterministic), variant.seed, precision)
    dataset, steps_per_epoch = train_dataset(x, y, variant)
    model = build_and_compile(variant, steps_per_epoch)
    model.fit(dataset, steps_per_epoch=5, epochs=1, verbose=0, shuffle=False)
    return model, dataset, steps_per_epoch, precision


def training_throughput(
    variant, x: np.ndarray, y: np.ndarray, steps: int, deterministic: bool = True
) -> tuple[float, str]:
    """Images/s of `steps` real training steps (input pipeline and augmentation included), and
    the precision they ran in."""
    import keras

    model, dataset, _, precision = fitted_model(variant, x, y, deterministic)
    took = timed(model.fit, dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    keras.mixed_precision.set_global_policy("float32")
    return steps * min(variant.batch_size, len(x)) / took.wall, precision


def epoch_timing(variant, x: np.ndarray, y: np.ndarray, deterministic: bool) -> Timed:
    """One whole training epoch, timed after the warm-up."""
    import keras

    model, dataset, steps_per_epoch, _ = fitted_model(variant, x, y, deterministic)
    took = timed(model.fit, dataset, steps_per_epoch=steps_per_epoch, epochs=1, verbose=0, shuffle=False)
    keras.mixed_precision.set_global_policy("float32")
    return took


def determinism_cost(variant, x: np.ndarray, y: np.ndarray, pairs: int) -> dict:
    """Whole epochs with op determinism on and off, in `pairs` interleaved pairs whose order
    alternates; the cost compares the medians."""
    on: list[Timed] = []
    off: list[Timed] = []
    for pair in range(pairs):
        for deterministic in (True, False) if pair % 2 == 0 else (False, True):
            (on if deterministic else off).append(epoch_timing(variant, x, y, deterministic))
    seconds_on, seconds_off = [round(t.wall, 3) for t in on], [round(t.wall, 3) for t in off]
    return {
        "pairs": pairs,
        "epoch_seconds_on": seconds_on,
        "epoch_seconds_off": seconds_off,
        "cpu_share_min": round(min(t.cpu_share for t in on + off), 3),
        # From the recorded figures, so the cost can be checked against them.
        "cost_percent": round(100 * (float(np.median(seconds_on)) / float(np.median(seconds_off)) - 1), 1),
    }


# The published enhanced-CNN recipe's network, a builder of fmnist.train.models (a fact of the
# recipe, not a variant: params.yaml's bench.published_twin names the variant compared with it).
PUBLISHED_ARCHITECTURE = "cnn_enhanced"


def published_recipe_throughput(steps: int, data_dir: Path) -> float:
    """The enhanced CNN trained the published way, in a subprocess without the oneDNN flag:
    batch 64, Adam 5e-4, per-image augmentation in Python (as Keras 2's ImageDataGenerator did)."""
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}
    code = f"from fmnist.tools.timing import _published_worker; print(_published_worker({steps}, {str(data_dir)!r}))"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def _published_worker(steps: int, data_dir: str) -> float:
    import keras
    import tensorflow as tf
    from scipy import ndimage

    from fmnist.train.models import build_model

    rng = np.random.default_rng(0)
    data = load_npz(Path(data_dir) / "train.npz", ("x", "y"))
    x, y = data["x"], data["y"]

    def augment_one(image: np.ndarray) -> np.ndarray:
        angle = np.deg2rad(rng.uniform(-15, 15))
        shear = np.deg2rad(rng.uniform(-10, 10))
        zoom = rng.uniform(0.9, 1.1)
        matrix = np.array([[np.cos(angle), -np.sin(angle + shear)], [np.sin(angle), np.cos(angle + shear)]]) / zoom
        center = np.array([13.5, 13.5])
        offset = center - matrix @ center + rng.uniform(-2.8, 2.8, size=2)
        out = ndimage.affine_transform(image[..., 0], matrix, offset=offset, order=1, mode="constant")
        return (out[:, ::-1] if rng.random() < 0.5 else out)[..., None]

    def batches():
        while True:
            index = rng.integers(0, len(x), size=64)
            yield np.stack([augment_one(x[i]) for i in index]), keras.utils.to_categorical(y[index], 10)

    dataset = tf.data.Dataset.from_generator(
        batches, output_signature=(tf.TensorSpec([64, 28, 28, 1], tf.float32), tf.TensorSpec([64, 10], tf.float32))
    )
    model = build_model(PUBLISHED_ARCHITECTURE)
    model.compile(optimizer=keras.optimizers.Adam(5e-4), loss="categorical_crossentropy", jit_compile=False)
    model.fit(dataset, steps_per_epoch=5, epochs=1, verbose=0)
    took = timed(model.fit, dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return steps * 64 / took.wall


def time_to_accuracy(live_dir: Path) -> list[tuple[float, float]]:
    """(elapsed seconds, validation accuracy) per epoch from a train stage's DVCLive folder."""
    seconds = read_series(live_dir, "train", "elapsed_seconds")
    accuracy = read_series(live_dir, "eval", "accuracy")
    return [(seconds[step], accuracy[step]) for step in sorted(accuracy) if step in seconds]


def fit_dead_seconds(train_metrics: Path, live_dir: Path) -> float | None:
    """How long `fit` ran after its last epoch ended: train_seconds - the last elapsed_seconds."""
    if not train_metrics.exists():
        return None
    return fit_dead_seconds_of(read_json(train_metrics), live_dir)


def fit_dead_seconds_of(metrics: dict, live_dir: Path) -> float | None:
    elapsed = read_series(live_dir, "train", "elapsed_seconds")
    return round(metrics["train_seconds"] - elapsed[max(elapsed)], 2) if elapsed else None


STAGE_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d) Running stage '([^']+)'")
END_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d) (Updating lock file|exit \d+)")
SKIP_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d) Stage '([^']+)' didn't change")


def stage_wall_seconds(log: str) -> dict[str, int]:
    """Stage -> wall seconds from a `dvc repro` log whose lines start with HH:MM:SS (as
    docs/measurements/full_run.sh writes it). A stage ends at the next lock-file update, at the
    start of the next stage or at a skipped stage's line, whichever comes first: DVC does not
    print a lock-file update after every stage."""
    walls: dict[str, int] = {}
    current, started = None, 0
    for line in log.splitlines():
        match = STAGE_LINE.match(line) or END_LINE.match(line) or SKIP_LINE.match(line)
        if not match:
            continue
        if current:
            walls[current] = (clock_seconds(match) - started) % 86400  # a run may pass midnight
            current = None
        if match.re is STAGE_LINE:
            current, started = match.group(4), clock_seconds(match)
    return walls


def clock_seconds(match: re.Match) -> int:
    """Seconds since midnight of a match whose groups 1-3 are HH, MM and SS."""
    hours, minutes, seconds = (int(match.group(i)) for i in (1, 2, 3))
    return hours * 3600 + minutes * 60 + seconds


def run_overhead(log: str, train_dir: Path) -> dict | None:
    """The run's non-training overhead: the sum of stage wall times minus the `fit` times
    (None for a log in which no stage ran)."""
    walls = stage_wall_seconds(log)
    if not walls:
        return None
    fit = 0.0
    for stage in walls:
        if stage.startswith("train@") and (train_dir / f"{stage.split('@', 1)[1]}.json").exists():
            fit += read_json(train_dir / f"{stage.split('@', 1)[1]}.json")["train_seconds"]
    total = sum(walls.values())
    return {
        "stages": len(walls),
        "stage_seconds": total,
        "fit_seconds": round(fit, 2),
        "overhead_seconds": round(total - fit, 2),
    }
