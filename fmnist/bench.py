"""Speed benchmark: matmul peak, training images/s and MFU per conv variant, time-to-accuracy,
and the published enhanced-CNN recipe timed in the same run for a speed-up ratio.

    python -m fmnist.bench [--steps 150] [--rounds 2] [--out metrics/bench.json]

Time-to-accuracy curves come from the training stage's own DVCLive logs (validation accuracy
and elapsed seconds per epoch) and metrics/eval/<variant>.json (test accuracy), so the
benchmark does not retrain the champion. Throughput on a shared VM is noisy: every variant is
timed `rounds` times, interleaved with the others, and the best round counts (as for the peak).
It also times a no-op `dvc repro` (only when the pipeline is up to date) and the ingest stage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fmnist.errors import exit_on_error
from fmnist.io import load_npz, read_json, write_json
from fmnist.livelog import read_series

CONV_ARCHITECTURES = ("cnn_basic", "cnn_advanced", "cnn_enhanced", "resnet")


def matmul_peak(size: int = 2048, repeats: int = 20) -> float:
    """Sustained fp32 GFLOP/s of a large matmul: the machine's practical peak."""
    import tensorflow as tf

    a = tf.random.stateless_normal([size, size], seed=[1, 2])
    b = tf.random.stateless_normal([size, size], seed=[3, 4])
    matmul = tf.function(tf.matmul)
    matmul(a, b).numpy()
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            c = matmul(a, b)
        c.numpy()
        best = max(best, 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9)
    return best


def training_throughput(variant, x: np.ndarray, y: np.ndarray, steps: int, deterministic: bool = True) -> float:
    """Images/s of the real training step (input pipeline and augmentation included), with
    TensorFlow op determinism on or off (the train stage follows `runtime.deterministic`)."""
    import keras

    from fmnist.config import RuntimeConfig
    from fmnist.training import build_and_compile, configure_runtime, resolve_precision, train_dataset

    precision, _ = resolve_precision(variant)
    configure_runtime(RuntimeConfig(deterministic=deterministic), variant.seed, precision)
    dataset, steps_per_epoch = train_dataset(x, y, variant)
    model = build_and_compile(variant, steps_per_epoch)  # the train stage's own compile
    model.fit(dataset, steps_per_epoch=5, epochs=1, verbose=0, shuffle=False)  # build and warm up
    started = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    rate = steps * min(variant.batch_size, len(x)) / (time.perf_counter() - started)
    keras.mixed_precision.set_global_policy("float32")
    return rate


def time_to_accuracy(live_dir: Path) -> list[tuple[float, float]]:
    """(elapsed seconds, validation accuracy) per epoch from a train stage's DVCLive folder."""
    seconds = read_series(live_dir, "train", "elapsed_seconds")
    accuracy = read_series(live_dir, "eval", "accuracy")
    return [(seconds[step], accuracy[step]) for step in sorted(accuracy) if step in seconds]


def published_recipe_throughput(steps: int) -> float:
    """The enhanced CNN trained the published way, in a subprocess without the oneDNN flag:
    batch 64, Adam 5e-4, per-image augmentation in Python (as Keras 2's ImageDataGenerator did)."""
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}
    code = f"from fmnist.bench import _published_worker; print(_published_worker({steps}))"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def _published_worker(steps: int) -> float:
    import keras
    import tensorflow as tf
    from scipy import ndimage

    from fmnist.models import build_model

    rng = np.random.default_rng(0)
    data = load_npz("data/processed/train.npz", ("x", "y"))
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
    model = build_model("cnn_enhanced")
    model.compile(optimizer=keras.optimizers.Adam(5e-4), loss="categorical_crossentropy", jit_compile=False)
    model.fit(dataset, steps_per_epoch=5, epochs=1, verbose=0)
    started = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return steps * 64 / (time.perf_counter() - started)


def pipeline_overheads(raw_dir: Path) -> dict:
    """Seconds for a no-op `dvc repro` (None unless `dvc status` is clean) and for ingest."""
    import tempfile

    timings: dict = {"noop_repro_seconds": None, "ingest_seconds": None}
    dvc = [sys.executable, "-m", "dvc"]
    status = subprocess.run([*dvc, "status", "--json"], capture_output=True, text=True, check=False)
    if status.returncode == 0 and json.loads(status.stdout or "{}") == {}:
        started = time.perf_counter()
        subprocess.run([*dvc, "repro"], capture_output=True, check=True)
        timings["noop_repro_seconds"] = round(time.perf_counter() - started, 2)
    train_csv, test_csv = raw_dir / "fashion-mnist_train.csv", raw_dir / "fashion-mnist_test.csv"
    if train_csv.exists() and test_csv.exists():
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch)
            command = [sys.executable, "-m", "stages.ingest", "--train-csv", str(train_csv), "--test-csv"]
            command += [str(test_csv), "--out-dir", str(out), "--metrics", str(out / "data.json")]
            started = time.perf_counter()
            subprocess.run([*command, "--plots-dir", str(out / "plots")], capture_output=True, check=True)
            timings["ingest_seconds"] = round(time.perf_counter() - started, 2)
    return timings


def _test_accuracy(metrics_path: Path) -> float | None:
    return read_json(metrics_path)["accuracy"] if metrics_path.exists() else None


def run(
    params_path: Path,
    data_dir: Path,
    live_root: Path,
    steps: int,
    rounds: int = 2,
    eval_dir: Path = Path("metrics/eval"),
) -> dict:
    from fmnist.config import load_params
    from fmnist.flops import training_flops
    from fmnist.models import build_model
    from fmnist.system import machine_info

    params = load_params(params_path)
    train = load_npz(data_dir / "train.npz", ("x", "y"))
    conv = {name: v for name, v in params.variants.items() if v.architecture in CONV_ARCHITECTURES}
    deterministic = params.runtime.deterministic
    peaks, speeds = [matmul_peak()], {name: [] for name in conv}
    # Determinism cost: the same variants timed with op determinism on and off, interleaved.
    cost_names = [name for name in ("cnn_basic", "champion") if name in conv]
    loose: dict[str, list[float]] = {name: [] for name in cost_names}
    for _ in range(rounds):
        for name, variant in conv.items():
            speeds[name].append(training_throughput(variant, train["x"], train["y"], steps, deterministic))
            if name in loose:
                loose[name].append(training_throughput(variant, train["x"], train["y"], steps, not deterministic))
        peaks.append(matmul_peak())
    peak = max(peaks)
    result: dict = {
        "machine": machine_info(),
        "matmul_peak_gflops": round(peak, 1),
        "steps": steps,
        "rounds": rounds,
        "variants": {},
    }
    for name, variant in conv.items():
        images_per_second = max(speeds[name])
        flops = training_flops(build_model(variant.architecture, variant.model))
        result["variants"][name] = {
            "batch_size": variant.batch_size,
            "precision": variant.precision,
            "images_per_second": round(images_per_second, 1),
            "images_per_second_rounds": [round(speed, 1) for speed in speeds[name]],
            "train_gflops_per_image": round(flops / 1e9, 4),
            "mfu": round(flops * images_per_second / (peak * 1e9), 4),
            "time_to_accuracy": [[round(s, 1), round(a, 4)] for s, a in time_to_accuracy(live_root / name)],
            "test_accuracy": _test_accuracy(eval_dir / f"{name}.json"),
        }
    result["determinism"] = {
        name: {
            "runtime_deterministic": deterministic,
            "deterministic_images_per_second": round(max(speeds[name] if deterministic else loose[name]), 1),
            "nondeterministic_images_per_second": round(max(loose[name] if deterministic else speeds[name]), 1),
        }
        for name in cost_names
    }
    for row in result["determinism"].values():
        slower = 1 - row["deterministic_images_per_second"] / row["nondeterministic_images_per_second"]
        row["cost_percent"] = round(100 * slower, 1)
    published = max(published_recipe_throughput(steps) for _ in range(rounds))
    ours = result["variants"].get("cnn_enhanced", {}).get("images_per_second")
    result["published_recipe"] = {
        "images_per_second": round(published, 1),
        "speedup": round(ours / published, 2) if ours else None,
    }
    return result


def plot_time_to_accuracy(result: dict, path: Path, target: float | None) -> None:
    from fmnist import plots

    curves = {}
    for name, row in result["variants"].items():
        test = f", test {row['test_accuracy']:.2%}" if row.get("test_accuracy") is not None else ""
        curves[f"{name}{test}"] = row["time_to_accuracy"]
    plots.time_to_accuracy(curves, path, target)


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--data-dir", type=Path, default=Path("data/processed"))
    parser.add_argument("--live-root", type=Path, default=Path("plots/train"))
    parser.add_argument("--eval-dir", type=Path, default=Path("metrics/eval"), help="evaluate stage's test metrics")
    parser.add_argument("--steps", type=int, default=150, help="timed training steps per variant and round")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved timing rounds; the best counts")
    parser.add_argument("--raw-dir", type=Path, default=Path("data/raw"), help="CSVs for the ingest timing")
    parser.add_argument("--out", type=Path, default=Path("metrics/bench.json"))
    parser.add_argument("--plot", type=Path, default=Path("plots/bench/time_to_accuracy.png"))
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        raise SystemExit("error: --steps and --rounds must be >= 1")
    result = run(args.params, args.data_dir, args.live_root, args.steps, args.rounds, args.eval_dir)
    result.update(pipeline_overheads(args.raw_dir))
    write_json(args.out, result)
    from fmnist.config import load_params

    # The published recipe's accuracy is the target cnn_enhanced reproduces.
    plot_time_to_accuracy(result, args.plot, load_params(args.params).ci.floors.get("cnn_enhanced"))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))


if __name__ == "__main__":
    main()
