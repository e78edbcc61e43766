"""The `champion_long` preset (params.yaml `presets.champion_long`) trained on a GPU with Keras 3 on
the JAX backend, one run per seed: validation accuracy per epoch, seconds per epoch, images per
second, and at the end validation and test accuracy (plain, mirror TTA, and mirror + 1-pixel shift
TTA as `evaluate:` does) of the final EMA weights and of the best-validation epoch's weights.

Measures whether the GPU-length recipe reaches its `ci.floors.champion_long` test accuracy, and how
long an epoch takes, on a machine that has JAX but no TensorFlow. The network is the project's own
(`fmnist.train.models.build_model`); what the TensorFlow-only parts of the pipeline do is mirrored
here in NumPy / Keras-generic code:

- the validation split: `fmnist.data.splits.stratified_split(train labels, data.val_fraction,
  data.seed)`, as stages/preprocess.py makes it; the test set is only reported, never used to choose;
- the schedule: `one_cycle` of fmnist/train/schedules.py (30 % warm-up from peak/25 to the peak,
  then cosine down to peak/1e4, per step, steps per epoch = train images // batch size);
- the optimizer: AdamW(weight_decay, use_ema, ema_momentum) as in fmnist/train/loop.py, with
  `keras.callbacks.SwapEMAWeights(swap_on_epoch=True)`: validation runs on the EMA weights and
  `model.fit` leaves the EMA weights in the model at its end;
- augmentation (fmnist/train/augment.py, drawn here from NumPy's Generator on the host, per image):
  a sub-pixel translation by up to `shift` x 28 pixels either way (bilinear, black fill), a
  horizontal flip with probability 1/2, then random erasing with probability `erasing` of one
  rectangle (2-25 % of the area, aspect 0.3-3.3, filled with uniform noise). The next epoch's
  images are augmented in a background thread while the current epoch trains.

Run from the repository root, with KERAS_BACKEND=jax (set by default here):

    KERAS_BACKEND=jax python3 docs/measurements/gpu_long_recipe.py --data .gpu_data --out OUT \
        [--seeds 42 1 2] [--epochs 60] [--budget-s 480] [--precision mixed_float16]

`--data` holds the four IDX .gz archives (train-images-idx3-ubyte.gz etc.; their SHA-256 is checked).
Writes OUT/seed_<seed>.json after every epoch (`"status": "running"`) and when the seed is done
(`"status": "done"`), and OUT/summary.json at the end. A new seed is not started when the time
spent so far plus the last seed's time would pass --budget-s; --deadline-s stops a seed's
training mid-run (recorded as `"truncated": true`). Smoke test on a CPU:
`--seeds 42 --epochs 2 --limit 2000 --eval-limit 500 --precision float32`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before fmnist: its quiet-TensorFlow hook stays off
os.environ.setdefault("KERAS_BACKEND", "jax")

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from fmnist import NUM_CLASSES  # noqa: E402
from fmnist.core.config import AugmentConfig, VariantConfig, load_params  # noqa: E402
from fmnist.data.formats import read_idx_pair  # noqa: E402
from fmnist.data.sources import IDX_FILES, IDX_SHA256  # noqa: E402
from fmnist.data.splits import scale, stratified_split  # noqa: E402
from fmnist.evaluate.metrics import predict_probabilities  # noqa: E402
from fmnist.train.models import build_model  # noqa: E402

if "tensorflow" in sys.modules:
    raise SystemExit("gpu_long_recipe: importing fmnist/keras pulled in tensorflow; this run must not need it")
if keras.backend.backend() != "jax":
    raise SystemExit(f"gpu_long_recipe: Keras backend is {keras.backend.backend()!r}; run with KERAS_BACKEND=jax")

import jax  # noqa: E402

PRESET = "champion_long"
STARTED = time.perf_counter()


def say(message: str) -> None:
    """One line on stdout, flushed, with the seconds since the script started."""
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", flush=True)


# ---------------------------------------------------------------- data


def load_data(folder: Path, val_fraction: float, split_seed: int) -> dict[str, np.ndarray]:
    """The pipeline's train/val/test arrays: IDX archives, stratified split, scaled to [0, 1]."""
    arrays: dict[str, np.ndarray] = {}
    for split, (images_name, labels_name) in IDX_FILES.items():
        images, labels = read_idx_pair(folder / images_name, folder / labels_name, sha256=IDX_SHA256)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images, labels.astype(np.int64)
    train_idx, val_idx = stratified_split(arrays["y_train"], val_fraction, split_seed)
    return {
        "x_train": scale(arrays["x_train"][train_idx]),
        "y_train": arrays["y_train"][train_idx],
        "x_val": scale(arrays["x_train"][val_idx]),
        "y_val": arrays["y_train"][val_idx],
        "x_test": scale(arrays["x_test"]),
        "y_test": arrays["y_test"],
    }


def one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels]


# ---------------------------------------------------------------- augmentation (NumPy, per image)


def shift_bilinear(images: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """Move each image by (dx, dy) ~ U(-fraction, fraction) x size, bilinear, black outside.

    Output pixel (y, x) reads input (y - dy, x - dx), as ImageProjectiveTransformV3 with the
    project's pure-shift transform, bilinear and fill_value 0, does."""
    count, height, width = images.shape
    dx = rng.uniform(-fraction, fraction, count) * width
    dy = rng.uniform(-fraction, fraction, count) * height
    pad = math.ceil(fraction * max(height, width)) + 2
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    floor_x, floor_y = np.floor(-dx), np.floor(-dy)
    weight_x = (-dx - floor_x).astype(np.float32)[:, None, None]
    weight_y = (-dy - floor_y).astype(np.float32)[:, None, None]
    # Blend each padded pixel with its right and lower neighbours (the sub-pixel part), then crop
    # at the whole-pixel offset: one gather per image instead of four.
    blended = (1 - weight_x) * padded[:, :, :-1] + weight_x * padded[:, :, 1:]
    blended = (1 - weight_y) * blended[:, :-1] + weight_y * blended[:, 1:]
    rows = (np.arange(height)[None, :] + floor_y.astype(np.int64)[:, None] + pad)[:, :, None]  # (n, h, 1)
    cols = (np.arange(width)[None, :] + floor_x.astype(np.int64)[:, None] + pad)[:, None, :]  # (n, 1, w)
    return blended[np.arange(count)[:, None, None], rows, cols]


def shift_integer(images: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """Pad-and-crop: move each image by whole pixels in [-round(fraction x 28), +round(...)], black fill."""
    count, height, width = images.shape
    pixels = round(fraction * width)
    offsets = rng.integers(-pixels, pixels + 1, (2, count))
    padded = np.pad(images, ((0, 0), (pixels, pixels), (pixels, pixels)))
    rows = (np.arange(height)[None, :] - offsets[1][:, None] + pixels)[:, :, None]
    cols = (np.arange(width)[None, :] - offsets[0][:, None] + pixels)[:, None, :]
    return padded[np.arange(count)[:, None, None], rows, cols]


def random_erase(images: np.ndarray, rng: np.random.Generator, probability: float, fill: str) -> np.ndarray:
    """With `probability`, erase one rectangle per image (2-25 % of the area, aspect 0.3-3.3), as
    fmnist/train/augment.py random_erase does (fill `noise`), or with black (fill `zero`)."""
    count, height, width = images.shape
    area = rng.uniform(0.02, 0.25, count)
    ratio = np.exp(rng.uniform(math.log(0.3), math.log(3.3), count))
    box_h = np.minimum(np.sqrt(area * ratio) * height, height)
    box_w = np.minimum(np.sqrt(area / ratio) * width, width)
    top = rng.uniform(0.0, 1.0, count) * (height - box_h)
    left = rng.uniform(0.0, 1.0, count) * (width - box_w)
    apply = rng.uniform(0.0, 1.0, count) < probability
    rows = np.arange(height, dtype=np.float64)[None, :, None]
    cols = np.arange(width, dtype=np.float64)[None, None, :]
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + box_h)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + box_w)[:, None, None])
        & apply[:, None, None]
    )
    filler = rng.random(images.shape, dtype=np.float32) if fill == "noise" else np.zeros_like(images)
    return np.where(inside, filler, images)


def augment(
    images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, shift_mode: str, erase_fill: str
) -> np.ndarray:
    """Augment float images (n, 28, 28) in [0, 1]: shift, flip, erase, in the project's order."""
    out = images
    if cfg.shift:
        out = (shift_bilinear if shift_mode == "bilinear" else shift_integer)(out, rng, cfg.shift)
    if cfg.horizontal_flip:
        flip = rng.uniform(0.0, 1.0, len(out)) < 0.5
        out = np.where(flip[:, None, None], out[:, :, ::-1], out)
    if cfg.erasing:
        out = random_erase(out, rng, cfg.erasing, erase_fill)
    return np.ascontiguousarray(out, dtype=np.float32)


def check_supported(cfg: AugmentConfig) -> None:
    unsupported = {
        k: getattr(cfg, k) for k in ("rotation", "crop", "zoom", "shear", "mixup", "cutmix") if getattr(cfg, k)
    }
    if unsupported:
        raise SystemExit(f"gpu_long_recipe: augment options not mirrored here: {unsupported}")


def epoch_batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    steps: int,
    cfg: AugmentConfig,
    seed: int,
    options: argparse.Namespace,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless (images, one-hot labels) batches: each epoch a fresh shuffle (dropping the remainder,
    as the pipeline's tf.data does) and a fresh augmentation, prepared one epoch ahead in a thread,
    in chunks over `options.aug_threads` threads. Epoch e is shuffled by Generator([seed, e]) and
    chunk c augmented by Generator([seed, e, c]), so the images do not depend on thread timing."""
    images, targets = x[..., 0], one_hot(y)
    chunk = 2048

    def prepare(epoch: int) -> tuple[np.ndarray, np.ndarray]:
        order = np.random.default_rng([seed, epoch]).permutation(len(images))[: steps * batch_size]

        def part(index: int) -> np.ndarray:
            rng = np.random.default_rng([seed, epoch, index])
            picked = images[order[index * chunk : (index + 1) * chunk]]
            return augment(picked, rng, cfg, options.shift_mode, options.erase_fill)

        parts = list(workers.map(part, range(math.ceil(len(order) / chunk))))
        return np.concatenate(parts)[..., None], targets[order]

    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="epoch") as ahead,
        ThreadPoolExecutor(max_workers=options.aug_threads, thread_name_prefix="augment") as workers,
    ):
        upcoming = ahead.submit(prepare, 0)
        epoch = 0
        while True:
            xs, ys = upcoming.result()
            epoch += 1
            upcoming = ahead.submit(prepare, epoch)
            for step in range(steps):
                yield xs[step * batch_size : (step + 1) * batch_size], ys[step * batch_size : (step + 1) * batch_size]


# ---------------------------------------------------------------- training


def one_cycle(peak: float, total_steps: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """fmnist/train/schedules.py VariantSchedule('one_cycle'), without its TensorFlow cast."""
    up = max(round(0.3 * total_steps), 1)
    return keras.optimizers.schedules.CosineDecay(
        peak / 25.0, decay_steps=max(total_steps - up, 1), alpha=1e-4, warmup_target=peak, warmup_steps=up
    )


def make_optimizer(v: VariantConfig, total_steps: int) -> keras.optimizers.Optimizer:
    """fmnist/train/loop.py make_optimizer for `adamw` (the only optimizer this preset uses)."""
    if v.optimizer != "adamw" or v.schedule != "one_cycle":
        raise SystemExit(f"gpu_long_recipe: mirrors adamw + one_cycle only, got {v.optimizer} + {v.schedule}")
    ema = {"use_ema": v.ema_momentum > 0, "ema_momentum": v.ema_momentum or 0.99}
    return keras.optimizers.AdamW(one_cycle(v.learning_rate, total_steps), weight_decay=v.weight_decay, **ema)


class EpochLog(keras.callbacks.Callback):
    """Per epoch: seconds (training part and whole epoch with validation), learning rate, train and
    validation metrics; keeps the best validation epoch's weights (the pipeline's BestEpoch; with
    SwapEMAWeights before it, these are EMA weights); writes the seed's JSON; obeys a deadline."""

    def __init__(
        self,
        record: dict,
        write: Callable[[], None],
        deadline: float | None,
        images_per_epoch: int,
        swap: keras.callbacks.SwapEMAWeights | None,
    ) -> None:
        super().__init__()
        self.swap = swap
        self.record, self.write, self.deadline, self.images_per_epoch = record, write, deadline, images_per_epoch
        self.best, self.best_epoch, self.best_weights = -1.0, -1, None
        self.epoch_started = self.train_ended = 0.0

    def on_epoch_begin(self, epoch: int, logs: Mapping | None = None) -> None:
        self.epoch_started, self.train_ended = time.perf_counter(), 0.0

    def on_test_begin(self, logs: Mapping | None = None) -> None:
        if not self.train_ended:  # fit's validation; wait for the last train step before timing it
            jax.block_until_ready([v.value for v in self.model.trainable_variables])
            self.train_ended = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        now, logs = time.perf_counter(), dict(logs or {})
        train_seconds = (self.train_ended or now) - self.epoch_started
        val = float(logs.get("val_accuracy", float("nan")))
        row = {
            "epoch": epoch + 1,
            "val_accuracy": round(val, 6),
            "val_loss": round(float(logs.get("val_loss", float("nan"))), 6),
            "train_accuracy": round(float(logs.get("accuracy", float("nan"))), 6),
            "train_loss": round(float(logs.get("loss", float("nan"))), 6),
            "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
            "train_seconds": round(train_seconds, 3),
            "seconds": round(now - self.epoch_started, 3),
            "images_per_second": round(self.images_per_epoch / train_seconds, 1),
        }
        self.record["epochs"].append(row)
        if val > self.best:
            self.best, self.best_epoch, self.best_weights = val, epoch, self.model.get_weights()
        say(
            f"seed {self.record['seed']} epoch {epoch + 1}/{self.params['epochs']}: val {val:.4f} "
            f"train acc {row['train_accuracy']:.4f} loss {row['train_loss']:.4f} lr {row['learning_rate']:.2e} "
            f"{row['train_seconds']:.2f}s train + {row['seconds'] - row['train_seconds']:.2f}s val "
            f"({row['images_per_second']:.0f} img/s)"
        )
        self.write()
        if self.deadline is not None and time.perf_counter() - STARTED > self.deadline:
            say(f"deadline {self.deadline:.0f}s passed: stopping seed {self.record['seed']} after epoch {epoch + 1}")
            self.record["truncated"] = True
            self.model.stop_training = True
            if self.swap is not None:
                # SwapEMAWeights readies fit's final EMA copy only after the planned last epoch;
                # without this, fit would end an early stop with the raw weights in the model.
                self.swap._finalize_ema_values()


def test_metrics(model: keras.Model, data: dict[str, np.ndarray], batch_size: int, shift_tta: int) -> dict:
    """Validation and test accuracy: plain, mirror TTA, and mirror + shift TTA (fmnist evaluate's)."""
    result = {}
    for split in ("val", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        plain = model.predict(x, batch_size=batch_size, verbose=0)
        mirrored = model.predict(np.ascontiguousarray(x[:, :, ::-1]), batch_size=batch_size, verbose=0)
        result[f"{split}_accuracy"] = float((plain.argmax(1) == y).mean())
        result[f"{split}_accuracy_tta_flip"] = float((((plain + mirrored) / 2).argmax(1) == y).mean())
        if shift_tta:
            both = predict_probabilities(model, x, batch_size, tta_flip=True, tta_shift=shift_tta)
            result[f"{split}_accuracy_tta_flip_shift{shift_tta}"] = float((both.argmax(1) == y).mean())
    return {key: round(value, 6) for key, value in result.items()}


def run_seed(
    seed: int,
    v: VariantConfig,
    data: dict[str, np.ndarray],
    args: argparse.Namespace,
    context: dict,
    deadline: float | None,
) -> dict:
    started = time.perf_counter()
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(args.precision)
    keras.utils.set_random_seed(seed)
    batch_size = min(v.batch_size, len(data["x_train"]))
    steps = max(len(data["x_train"]) // batch_size, 1)
    total_steps = v.epochs * steps
    model = build_model(v.architecture, v.model, name=PRESET)
    model.compile(
        optimizer=make_optimizer(v, total_steps),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=v.label_smoothing),
        metrics=["accuracy"],
        steps_per_execution=args.steps_per_execution,
    )
    record: dict[str, Any] = {
        **context,
        "seed": seed,
        "status": "running",
        "truncated": False,
        "params": int(model.count_params()),
        "batch_size": batch_size,
        "steps_per_epoch": steps,
        "total_steps": total_steps,
        "warmup_steps": max(round(0.3 * total_steps), 1),
        "epochs_planned": v.epochs,
        "epochs": [],
    }
    path = args.out / f"seed_{seed}.json"
    lock = threading.Lock()

    def write() -> None:
        with lock:
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(record, indent=1) + "\n")
            tmp.replace(path)

    # As fmnist/train/loop.py: validate on the EMA weights, and have them in the model at each epoch's end.
    swap = keras.callbacks.SwapEMAWeights(swap_on_epoch=True) if v.ema_momentum else None
    log = EpochLog(record, write, deadline, steps * batch_size, swap)
    callbacks: list[keras.callbacks.Callback] = [log] if swap is None else [swap, log]
    batches = epoch_batches(data["x_train"], data["y_train"], batch_size, steps, v.augment, seed, args)
    fit_started = time.perf_counter()
    model.fit(
        batches,
        steps_per_epoch=steps,
        epochs=v.epochs,
        validation_data=(data["x_val"], one_hot(data["y_val"])),
        validation_batch_size=args.eval_batch_size,
        callbacks=callbacks,
        shuffle=False,  # the generator shuffles each epoch itself
        verbose=0,
    )
    fit_seconds = time.perf_counter() - fit_started
    batches.close()
    epochs = record["epochs"]
    train_seconds = sum(row["train_seconds"] for row in epochs)
    steady = [row["train_seconds"] for row in epochs[1:]]
    record.update(
        {
            "epochs_run": len(epochs),
            "fit_seconds": round(fit_seconds, 2),
            "train_seconds": round(train_seconds, 2),
            "validation_seconds": round(sum(row["seconds"] - row["train_seconds"] for row in epochs), 2),
            "first_epoch_train_seconds": epochs[0]["train_seconds"] if epochs else None,
            "median_epoch_train_seconds_after_first": round(float(np.median(steady)), 3) if steady else None,
            "images_per_second": round(len(epochs) * steps * batch_size / train_seconds, 1) if epochs else None,
            "images_per_second_after_first": round(len(steady) * steps * batch_size / sum(steady), 1)
            if steady
            else None,
            "best_val_epoch": log.best_epoch + 1,
            "best_val_accuracy_in_fit": round(log.best, 6),
        }
    )
    # After fit the model holds the EMA weights (SwapEMAWeights + optimizer.finalize_variable_values).
    record["final"] = test_metrics(model, data, args.eval_batch_size, context["shift_tta"])
    if log.best_weights is not None and log.best_epoch != len(epochs) - 1:
        model.set_weights(log.best_weights)
        record["best_val_epoch_weights"] = test_metrics(model, data, args.eval_batch_size, context["shift_tta"])
    else:
        record["best_val_epoch_weights"] = record["final"]
    record["status"] = "done"
    record["seed_seconds"] = round(time.perf_counter() - started, 2)
    write()
    final = record["final"]
    shift_key = f"test_accuracy_tta_flip_shift{context['shift_tta']}"
    say(
        f"seed {seed} done: final val {final['val_accuracy']:.4f} test {final['test_accuracy']:.4f} "
        f"test flip-TTA {final['test_accuracy_tta_flip']:.4f}"
        + (f" flip+shift-TTA {final[shift_key]:.4f}" if shift_key in final else "")
        + f"; best val epoch {record['best_val_epoch']} ({record['best_val_accuracy_in_fit']:.4f}, test "
        f"{record['best_val_epoch_weights']['test_accuracy']:.4f}); {record['epochs_run']} epochs, "
        f"train {record['train_seconds']:.1f}s, {record['images_per_second']} img/s, seed {record['seed_seconds']:.1f}s"
    )
    return record


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="folder with the four IDX .gz archives")
    parser.add_argument("--out", type=Path, required=True, help="folder for seed_<seed>.json and summary.json")
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    parser.add_argument("--budget-s", type=float, default=480.0, help="start no seed that would end after this")
    parser.add_argument(
        "--deadline-s", type=float, default=None, help="stop training mid-seed after this (since start)"
    )
    parser.add_argument("--precision", default="mixed_float16", choices=["mixed_float16", "float32", "mixed_bfloat16"])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images (smoke tests)")
    parser.add_argument("--eval-limit", type=int, default=None, help="use only N validation and N test images")
    parser.add_argument("--eval-batch-size", type=int, default=None, help="default: params evaluate.batch_size")
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--aug-threads", type=int, default=4, help="threads augmenting the next epoch")
    parser.add_argument(
        "--shift-mode", choices=["bilinear", "integer"], default="bilinear", help="bilinear: as the project"
    )
    parser.add_argument("--erase-fill", choices=["noise", "zero"], default="noise", help="noise: as the project")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    params = load_params(args.params)
    v = params.variant(PRESET)
    if args.epochs:
        v = dataclasses.replace(v, epochs=args.epochs)
    check_supported(v.augment)
    args.eval_batch_size = args.eval_batch_size or params.evaluate.batch_size
    raw = yaml.safe_load(args.params.read_text())["presets"][PRESET]
    data = load_data(args.data, params.data.val_fraction, params.data.seed)
    if args.limit:
        data["x_train"], data["y_train"] = data["x_train"][: args.limit], data["y_train"][: args.limit]
    if args.eval_limit:
        for split in ("val", "test"):
            data[f"x_{split}"], data[f"y_{split}"] = (
                data[f"x_{split}"][: args.eval_limit],
                data[f"y_{split}"][: args.eval_limit],
            )
    device = jax.devices()[0]
    context = {
        "preset": PRESET,
        "recipe": raw,
        "epochs_override": args.epochs,
        "precision": args.precision,
        "shift_mode": args.shift_mode,
        "erase_fill": args.erase_fill,
        "steps_per_execution": args.steps_per_execution,
        "aug_threads": args.aug_threads,
        "eval_batch_size": args.eval_batch_size,
        "shift_tta": params.shift_tta(PRESET),
        "split": {"val_fraction": params.data.val_fraction, "seed": params.data.seed},
        "rows": {split: len(data[f"y_{split}"]) for split in ("train", "val", "test")},
        "limit": args.limit,
        "eval_limit": args.eval_limit,
        "device": str(device),
        "device_kind": getattr(device, "device_kind", None),
        "device_count": jax.device_count(),
        "platform": device.platform,
        "versions": {
            "jax": jax.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "argv": sys.argv,
    }
    say(
        f"{PRESET} on {context['device_kind'] or context['device']} ({device.platform}), {args.precision}, "
        f"jax {jax.__version__}, keras {keras.__version__}; rows {context['rows']}; {v.epochs} epochs, "
        f"batch {v.batch_size}, lr {v.learning_rate}, wd {v.weight_decay}, ema {v.ema_momentum}; seeds {args.seeds}"
    )
    records, last_seconds = [], 0.0
    for seed in args.seeds:
        elapsed = time.perf_counter() - STARTED
        if records and elapsed + last_seconds > args.budget_s:
            say(
                f"budget: {elapsed:.0f}s spent + {last_seconds:.0f}s for another seed > {args.budget_s:.0f}s; "
                f"not starting seeds {args.seeds[len(records) :]}"
            )
            break
        seed_started = time.perf_counter()
        records.append(run_seed(seed, v, data, args, context, args.deadline_s))
        last_seconds = time.perf_counter() - seed_started
    shift_key = f"test_accuracy_tta_flip_shift{context['shift_tta']}"
    keys = ("val_accuracy", "test_accuracy", "test_accuracy_tta_flip", shift_key)
    final_keys = set(records[0]["final"]) if records else set()
    summary = {
        "seeds": [r["seed"] for r in records],
        "seeds_skipped": args.seeds[len(records) :],
        "truncated": [r["seed"] for r in records if r["truncated"]],
        "total_seconds": round(time.perf_counter() - STARTED, 1),
        "per_seed": {r["seed"]: {k: r["final"].get(k) for k in keys} for r in records},
        "mean": {k: round(float(np.mean([r["final"][k] for r in records])), 6) for k in keys if k in final_keys},
        **{k: context[k] for k in ("precision", "device_kind", "versions")},
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    say(f"summary: {json.dumps(summary['mean'])} over seeds {summary['seeds']}; total {summary['total_seconds']}s")


if __name__ == "__main__":
    main()
