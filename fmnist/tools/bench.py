"""Speed benchmark: matmul peak, training images/s and MFU per convolutional variant,
determinism cost on whole epochs, fit's dead time, the full run's start-up overhead, and the
published enhanced-CNN recipe timed in the same run for speed-up and time-to-accuracy ratios.

    python -m fmnist.tools.bench [--steps 150] [--rounds 2] [--pairs 2] [--run-log LOG] [--out metrics/bench.json]

Run it after `dvc repro`: time-to-accuracy curves and dead time come from the train stages'
DVCLive logs and metrics, test accuracies from metrics/eval. Throughput on a shared VM is noisy:
every variant is timed `rounds` times, interleaved with the others, and the best round counts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fmnist.core.errors import exit_on_error
from fmnist.core.io import load_npz, read_json, write_json
from fmnist.core.system import matmul_peak
from fmnist.tools import timing

PUBLISHED_EPOCHS = 30  # epochs the published enhanced-CNN recipe trains for its 92.74 %
DEAD_TIME_LIMIT = 2.0  # seconds fit may run past its last epoch
# Which variants race, reproduce the published recipe and price determinism: params.yaml `bench:`.


@dataclass(frozen=True)
class Settings:
    params: Path = Path("params.yaml")
    data_dir: Path = Path("data/processed")  # main() passes dvc.yaml's paths unless given
    live_root: Path = Path("plots/train")
    train_dir: Path = Path("metrics/train")
    eval_dir: Path = Path("metrics/eval")
    steps: int = 150
    rounds: int = 2
    pairs: int = 2
    run_log: Path | None = None
    peak_size: int = 2048  # matmul size for the peak


def is_convolutional(variant) -> bool:
    import keras

    from fmnist.train.models import build_model

    return any(
        isinstance(layer, keras.layers.Conv2D) for layer in build_model(variant.architecture, variant.model).layers
    )


def throughput(conv: dict, x, y, settings: Settings) -> tuple[float, dict]:
    """Matmul peak and per-variant rows: images/s (best of interleaved rounds), FLOPs, MFU."""
    from fmnist.tools.flops import training_flops
    from fmnist.train.models import build_model

    peaks, speeds, precisions = [matmul_peak(settings.peak_size)], {name: [] for name in conv}, {}
    for _ in range(settings.rounds):
        for name, variant in conv.items():
            rate, precisions[name] = timing.training_throughput(variant, x, y, settings.steps)
            speeds[name].append(rate)
        peaks.append(matmul_peak(settings.peak_size))
    peak, rows = max(peaks), {}
    for name, variant in conv.items():
        flops = training_flops(build_model(variant.architecture, variant.model))
        evaluation = settings.eval_dir / f"{name}.json"
        rows[name] = {
            "batch_size": variant.batch_size,
            "precision": precisions[name],
            "images_per_second": round(max(speeds[name]), 1),
            "images_per_second_rounds": [round(speed, 1) for speed in speeds[name]],
            "train_gflops_per_image": round(flops / 1e9, 4),
            "mfu": round(flops * max(speeds[name]) / (peak * 1e9), 4),
            "time_to_accuracy": [
                [round(s, 1), round(a, 4)] for s, a in timing.time_to_accuracy(settings.live_root / name)
            ],
            "test_accuracy": read_json(evaluation)["accuracy"] if evaluation.exists() else None,
        }
    return peak, rows


def race(params, data: dict, settings: Settings, published_images_per_second: float) -> dict | None:
    """Train the racer in full, as its train stage does, against the published recipe's time:
    its measured time per epoch x the epochs it trains."""
    from fmnist.train.loop import train_variant

    racer = params.bench.racer
    if racer not in params.variants:
        return None
    with tempfile.TemporaryDirectory() as live:
        result = train_variant(params.variants[racer], data, params.runtime, live_dir=Path(live), verbose=0)
        dead = timing.fit_dead_seconds_of(result.metrics, Path(live))
    published_seconds = PUBLISHED_EPOCHS * len(data["x_train"]) / published_images_per_second
    pipeline = settings.train_dir / f"{racer}.json"
    return {
        "variant": racer,
        "train_seconds": result.metrics["train_seconds"],
        "best_val_accuracy": result.metrics["best_val_accuracy"],
        "fit_dead_seconds": dead,
        # Same seed and precision give the pipeline's own run bit for bit (float32 determinism).
        "matches_pipeline_run": pipeline.exists()
        and read_json(pipeline)["best_val_accuracy"] == result.metrics["best_val_accuracy"],
        "published_epochs": PUBLISHED_EPOCHS,
        "published_seconds": round(published_seconds, 1),
        "time_to_accuracy_ratio": round(published_seconds / result.metrics["train_seconds"], 1),
    }


def dead_times(names, settings: Settings) -> dict:
    found = {
        name: timing.fit_dead_seconds(settings.train_dir / f"{name}.json", settings.live_root / name) for name in names
    }
    known = [seconds for seconds in found.values() if seconds is not None]
    return {
        "per_variant": found,
        "max_seconds": max(known, default=None),
        "within_limit": bool(known) and max(known) <= DEAD_TIME_LIMIT,
    }


def run(settings: Settings) -> dict:
    from fmnist.core.config import load_params
    from fmnist.core.system import machine_info

    params = load_params(settings.params)
    train, val = (
        load_npz(settings.data_dir / "train.npz", ("x", "y")),
        load_npz(settings.data_dir / "val.npz", ("x", "y")),
    )
    conv = {name: v for name, v in params.variants.items() if is_convolutional(v)}
    peak, rows = throughput(conv, train["x"], train["y"], settings)
    result: dict = {
        "machine": machine_info(),
        "matmul_peak_gflops": round(peak, 1),
        "steps": settings.steps,
        "rounds": settings.rounds,
        "variants": rows,
    }
    result["determinism"] = {
        name: timing.determinism_cost(params.variants[name], train["x"], train["y"], settings.pairs)
        for name in params.bench.determinism
        if name in params.variants
    }
    twin = params.bench.published_twin  # the variant compared with the published recipe
    published = max(
        timing.published_recipe_throughput(settings.steps, settings.data_dir) for _ in range(settings.rounds)
    )
    ours = rows.get(twin, {}).get("images_per_second")
    result["published_recipe"] = {
        "variant": twin,
        "images_per_second": round(published, 1),
        "speedup": round(ours / published, 2) if ours else None,
    }
    data = {"x_train": train["x"], "y_train": train["y"], "x_val": val["x"], "y_val": val["y"]}
    result["race"] = race(params, data, settings, published)
    result["fit_dead_time"] = dead_times(list(params.variants), settings)
    if settings.run_log is not None:
        result["run_overhead"] = timing.run_overhead(settings.run_log.read_text(), settings.train_dir)
    return result


def pipeline_overheads(raw_dir: Path) -> dict:
    """Seconds for a no-op `dvc repro` (None unless `dvc status` is clean) and for ingest."""
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


def plot_time_to_accuracy(result: dict, path: Path, target: float | None) -> None:
    from fmnist.core import plots

    curves = {}
    for name, row in result["variants"].items():
        test = f", test {row['test_accuracy']:.2%}" if row.get("test_accuracy") is not None else ""
        curves[f"{name}{test}"] = row["time_to_accuracy"]
    plots.time_to_accuracy(curves, path, target)


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=Settings.params)
    # Defaults for the pipeline's own paths come from dvc.yaml (fmnist.tools.pipeline).
    parser.add_argument("--data-dir", type=Path, help="default: the train stage's --data-dir")
    parser.add_argument("--live-root", type=Path, help="default: the folder of the train stages' --live-dir")
    parser.add_argument("--train-dir", type=Path, help="train stages' metrics (default from dvc.yaml)")
    parser.add_argument("--eval-dir", type=Path, help="evaluate stages' test metrics (default from dvc.yaml)")
    parser.add_argument("--steps", type=int, default=Settings.steps, help="timed training steps per variant and round")
    parser.add_argument(
        "--rounds", type=int, default=Settings.rounds, help="interleaved timing rounds; the best counts"
    )
    parser.add_argument("--pairs", type=int, default=Settings.pairs, help="whole-epoch pairs for the determinism cost")
    parser.add_argument("--run-log", type=Path, help="time-stamped `dvc repro` log (docs/measurements/full_run.sh)")
    parser.add_argument("--raw-dir", type=Path, help="CSVs for the ingest timing (default: the fetch stage's folder)")
    parser.add_argument("--predict-images", type=int, default=1000, help="images for predict's memory; 0 skips")
    parser.add_argument("--model", type=Path, help="for predict's memory (default: the compare stage's best model)")
    parser.add_argument("--out", type=Path, default=Path("metrics/bench.json"))
    parser.add_argument("--plot", type=Path, default=Path("plots/bench/time_to_accuracy.png"))
    args = parser.parse_args(argv)
    from fmnist.tools.pipeline import per_variant_folder, stage_path

    args.data_dir = args.data_dir or stage_path("train", "data_dir")
    args.live_root = args.live_root or per_variant_folder("train", "live_dir")
    args.train_dir = args.train_dir or per_variant_folder("train", "metrics")
    args.eval_dir = args.eval_dir or per_variant_folder("evaluate", "metrics")
    args.raw_dir = args.raw_dir or stage_path("fetch", "train").parent
    args.model = args.model or stage_path("compare", "best_dir") / "model.keras"
    if min(args.steps, args.rounds, args.pairs) < 1:
        raise SystemExit("error: --steps, --rounds and --pairs must be >= 1")
    settings = Settings(
        args.params, args.data_dir, args.live_root, args.train_dir, args.eval_dir,
        args.steps, args.rounds, args.pairs, args.run_log,
    )  # fmt: skip
    result = run(settings)
    result.update(pipeline_overheads(args.raw_dir))
    if args.predict_images > 0:
        from fmnist.tools import predict_memory

        result["predict_memory"] = predict_memory.run(args.model, args.predict_images)
    write_json(args.out, result)
    from fmnist.core.config import load_params

    # The published recipe's accuracy is the target its twin reproduces.
    params = load_params(args.params)
    plot_time_to_accuracy(result, args.plot, params.ci.floors.get(params.bench.published_twin))
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))


if __name__ == "__main__":
    main()
