"""Optimizers, learning-rate schedules, the tf.data input pipeline and the fit loop."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from fmnist import IMAGE_SIZE, NUM_CLASSES
from fmnist.core.config import RuntimeConfig
from fmnist.core.system import cpu_features, cpu_model
from fmnist.core.variants import VariantConfig
from fmnist.train.augment import augment_batch, mix_batch
from fmnist.train.models import build_model, load_model
from fmnist.train.precision import choose_precision
from fmnist.train.schedules import VariantSchedule
from fmnist.train.trial import trial_callback


def make_optimizer(v: VariantConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    schedule = VariantSchedule(
        v.schedule,
        v.learning_rate,
        total_steps=v.epochs * steps_per_epoch,
        warmup_steps=round(v.warmup_epochs * steps_per_epoch),
        step_every=v.step_epochs * steps_per_epoch,
        step_factor=v.step_factor,
    )
    # Weight EMA (Polyak averaging) smooths the last noisy steps of a short schedule.
    ema = {"use_ema": v.ema_momentum > 0, "ema_momentum": v.ema_momentum or 0.99}
    if v.optimizer == "adam":
        return keras.optimizers.Adam(schedule, **ema)
    if v.optimizer == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=v.weight_decay, **ema)
    if v.optimizer == "sgd":
        decay = v.weight_decay or None
        return keras.optimizers.SGD(schedule, momentum=v.momentum, nesterov=True, weight_decay=decay, **ema)
    return keras.optimizers.RMSprop(schedule, momentum=v.momentum, weight_decay=v.weight_decay or None, **ema)


def class_weight_vector(labels: np.ndarray, enabled: bool) -> np.ndarray:
    """Inverse-frequency weights normalised to mean 1 (all ones when disabled)."""
    if not enabled:
        return np.ones(NUM_CLASSES, dtype=np.float32)
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (NUM_CLASSES * np.maximum(counts, 1)), 0.0)
    return weights.astype(np.float32)


def train_dataset(x: np.ndarray, y: np.ndarray, v: VariantConfig, replicas: int = 1) -> tuple[tf.data.Dataset, int]:
    """Endless shuffled, augmented batches: (images, one-hot labels, sample weights).

    With several replicas a batch holds `v.batch_size` images per replica; the strategy splits it.
    """
    batch_size = min(v.batch_size * replicas, len(x))
    steps_per_epoch = max(len(x) // batch_size, 1)
    images = tf.constant(x[..., None] if x.ndim == 3 else x, dtype=tf.float32)
    labels = tf.constant(y.astype(np.int32))
    weights = tf.constant(class_weight_vector(y, v.class_weights))
    # Shuffle indices, not images: one gather per batch instead of per-element copies.
    indices = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=v.seed, reshuffle_each_iteration=True)
    batches = indices.repeat().batch(batch_size, drop_remainder=True)

    def load(step, index):
        seed = tf.stack([v.seed, step])
        batch_images = augment_batch(tf.gather(images, index), seed, v.augment)
        batch_labels = tf.gather(labels, index)
        mixed_images, targets = mix_batch(batch_images, tf.one_hot(batch_labels, NUM_CLASSES), seed, v.augment)
        return mixed_images, targets, tf.gather(weights, batch_labels)

    dataset = tf.data.Dataset.zip(tf.data.Dataset.counter(), batches)
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    # tf.data's autotuner stays off. Its background thread sleeps up to 60 s between wake-ups, and
    # when `fit` ended the iterator's teardown waited for the next one: fit returned 31.6 s after
    # the last callback, idle (6 champion_fast epochs, AMD EPYC, 2 cores). Off, it returns at once
    # with identical accuracy; interleaved pairs showed no per-epoch cost either way
    # (docs/performance.md). AUTOTUNE then stands for tf.data's fixed defaults.
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options), steps_per_epoch


def eval_dataset(x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> tf.data.Dataset:
    x = x[..., None] if x.ndim == 3 else x
    return tf.data.Dataset.from_tensor_slices((x.astype(np.float32), tf.one_hot(y, NUM_CLASSES))).batch(batch_size)


class BestEpoch(keras.callbacks.Callback):
    """Keep the weights of the best validation-accuracy epoch; optionally stop early.

    Also adds `learning_rate` and `elapsed_seconds` (wall time since training started) to the
    epoch logs, so DVCLive records them (it runs after this callback) and the benchmark can
    draw time-to-accuracy curves.
    """

    def __init__(self, patience: int = 0, keep_last: bool = False):
        super().__init__()
        self.patience, self.best, self.best_epoch, self.best_weights, self.wait = patience, -1.0, -1, None, 0
        self.keep_last = keep_last  # no held-out data (retrain_on_all): the last epoch is the model
        self.epochs_run, self.started = 0, time.perf_counter()

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        logs["elapsed_seconds"] = round(time.perf_counter() - self.started, 2)
        self.epochs_run = epoch + 1
        accuracy = float(logs.get("val_accuracy", -1.0))
        if self.keep_last:
            self.best, self.best_epoch = accuracy, epoch
        elif accuracy > self.best:
            self.best, self.best_epoch, self.wait = accuracy, epoch, 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.patience and self.wait >= self.patience:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


@dataclass(frozen=True)
class TrainResult:
    model: keras.Model
    metrics: dict


def set_op_determinism(enabled: bool) -> None:
    """Turn TensorFlow op determinism on or off (the public API has only the 'on' switch)."""
    from tensorflow.python.framework import config as framework_config

    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:
        framework_config.disable_op_determinism()


def configure_runtime(runtime: RuntimeConfig, seed: int, precision: str = "float32") -> None:
    keras.utils.set_random_seed(seed)
    set_op_determinism(runtime.deterministic)
    # Layers read the global policy when built; float32 restores it after a mixed-precision run.
    keras.mixed_precision.set_global_policy(precision)


def build_and_compile(v: VariantConfig, steps_per_epoch: int, teacher: keras.Model | None = None) -> keras.Model:
    """The variant's model, compiled with its optimizer, schedule and loss: the one compile path
    that `dvc repro` and the benchmark both time. A student (`teacher` given) starts from the
    teacher's weights with `init_from: teacher`, and with `distill` > 0 the model returned is a
    Keras Distiller around it (the trained student is its `.student`)."""
    model = build_model(v.architecture, v.model, name=v.name)
    if teacher is not None:
        from fmnist.train import distill

        if v.init_from == "teacher":
            distill.init_from_teacher(model, teacher)
        if v.distill > 0:
            model = distill.distiller(v, model, teacher)
    model.compile(
        optimizer=make_optimizer(v, steps_per_epoch),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=v.label_smoothing),
        metrics=["accuracy"],
        jit_compile=False,  # XLA is slower than oneDNN on CPU
    )
    return model


def probe_step_ms(
    variant: VariantConfig, precisions: tuple[str, ...], rounds: int = 3, steps: int = 3
) -> dict[str, float]:
    """Median milliseconds per training step of the variant's own model in each precision.

    Rounds interleave the precisions, so a slow spell of the machine hits both alike. The probe
    uses its own random batch and clears the Keras session, so the training run that follows
    draws exactly the random numbers it would draw without it."""
    generator = np.random.default_rng(0)
    x = generator.random((variant.batch_size, IMAGE_SIZE, IMAGE_SIZE, 1), dtype=np.float32)
    y = np.eye(NUM_CLASSES, dtype=np.float32)[generator.integers(0, NUM_CLASSES, variant.batch_size)]
    models = {}
    for precision in precisions:
        keras.mixed_precision.set_global_policy(precision)
        models[precision] = build_and_compile(variant, steps_per_epoch=100)
        models[precision].train_on_batch(x, y)  # trace and warm up outside the timing
    times: dict[str, list[float]] = {precision: [] for precision in precisions}
    for _ in range(rounds):
        for precision in precisions:
            for _ in range(steps):
                started = time.perf_counter()
                models[precision].train_on_batch(x, y)
                times[precision].append(time.perf_counter() - started)
    keras.mixed_precision.set_global_policy("float32")
    keras.backend.clear_session()
    return {precision: round(1000 * float(np.median(t)), 1) for precision, t in times.items()}


def resolve_precision(v: VariantConfig) -> tuple[str, dict]:
    """The precision this machine runs the variant in, and the probe's timings if `auto` probed."""
    return choose_precision(v, len(tf.config.list_physical_devices("GPU")), probe_step_ms)


def distribution_strategy(name: str) -> tf.distribute.Strategy | None:
    """None for one device; a MirroredStrategy over the GPUs (or logical CPUs) for `mirrored`,
    and for `auto` when more than one GPU is visible."""
    gpus = tf.config.list_logical_devices("GPU")
    if name == "single" or (name == "auto" and len(gpus) < 2):
        return None
    devices = gpus or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


def train_variant(
    v: VariantConfig,
    data: dict[str, np.ndarray],
    runtime: RuntimeConfig,
    live_dir: Path | None = None,
    verbose: int = 2,
    teacher_path: Path | None = None,
) -> TrainResult:
    """Train one variant on data['x_train'], selecting the best epoch on data['x_val']; a student
    learns from the trained model at `teacher_path`."""
    precision, probe_ms = resolve_precision(v)  # before the seed is set, see probe_step_ms
    configure_runtime(runtime, v.seed, precision)
    strategy = distribution_strategy(runtime.strategy)
    replicas = strategy.num_replicas_in_sync if strategy else 1
    x_train, y_train = data["x_train"], data["y_train"]
    if v.retrain_on_all:  # the validation images join training; validation is then in-sample
        x_train, y_train = np.concatenate([x_train, data["x_val"]]), np.concatenate([y_train, data["y_val"]])
    train, steps_per_epoch = train_dataset(x_train, y_train, v, replicas)
    val = eval_dataset(data["x_val"], data["y_val"])
    # Variables (model, optimizer, metrics) are created under the strategy, mirrored per replica.
    with strategy.scope() if strategy else contextlib.nullcontext():
        teacher = load_model(teacher_path) if teacher_path is not None else None
        model = build_and_compile(v, steps_per_epoch, teacher)
    best = BestEpoch(v.early_stopping_patience, keep_last=v.retrain_on_all)
    callbacks: list[keras.callbacks.Callback] = [best]
    if v.ema_momentum:
        # Validate on the averaged weights, and leave them in the model at epoch end so
        # BestEpoch keeps the averaged weights of the best epoch.
        callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    reporter = trial_callback(v.name, v.epochs)  # only under `fmnist tune`
    if reporter is not None:
        callbacks.append(reporter)
    if live_dir is not None:
        from dvclive import Live
        from dvclive.keras import DVCLiveCallback

        callbacks.append(DVCLiveCallback(live=Live(str(live_dir), save_dvc_exp=False, dvcyaml=None)))
    started = time.perf_counter()
    model.fit(
        train,
        validation_data=val,
        epochs=v.epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself; Keras cannot shuffle an endless dataset
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    model = getattr(model, "student", model)  # a distiller's trained student; the teacher stays out
    images_seen = best.epochs_run * steps_per_epoch * min(v.batch_size * replicas, len(x_train))
    metrics = {
        "epochs_run": best.epochs_run,
        "best_epoch": best.best_epoch + 1,
        "best_val_accuracy": round(best.best, 6),
        "train_seconds": round(seconds, 2),
        "params": int(model.count_params()),
        "images_per_second": round(images_seen / seconds, 1),
        "precision": precision,
        "cpu": cpu_model(),
        "cpu_features": cpu_features(),
    }
    if reporter is not None and reporter.pruned_at_epoch:
        metrics["pruned_at_epoch"] = reporter.pruned_at_epoch
    if probe_ms:  # precision: auto timed a few steps in each precision to choose
        metrics["precision_probe_ms"] = probe_ms
    if v.retrain_on_all:  # recorded only then, so split-trained metrics stay as they were
        metrics["validation_held_out"] = False
        metrics["train_images"] = len(x_train)
    if strategy:  # recorded only when distributed, so single-device metrics stay as they were
        metrics["replicas"] = replicas
    return TrainResult(model=model, metrics=metrics)
