import numpy as np
import pytest

from fmnist.core.config import RuntimeConfig
from fmnist.core.variants import AugmentConfig, VariantConfig
from fmnist.train.loop import class_weight_vector, train_dataset, train_variant
from fmnist.train.schedules import VariantSchedule


def rates(kind: str, total: int = 100, **kwargs) -> np.ndarray:
    schedule = VariantSchedule(kind, 0.01, total_steps=total, **kwargs)
    return np.array([float(schedule(step)) for step in range(total)])


def test_one_cycle_rises_to_peak_then_anneals():
    lr = rates("one_cycle")
    peak_step = int(lr.argmax())
    assert 25 <= peak_step <= 35
    assert lr.max() == pytest.approx(0.01, rel=1e-3)
    assert lr[0] == pytest.approx(0.01 / 25, rel=1e-3)
    assert lr[-1] < 0.01 / 100
    assert np.all(np.diff(lr[peak_step:]) <= 1e-12)


def test_one_cycle_is_the_formula_it_replaced_within_float32_rounding():
    """Keras's CosineDecay draws the hand-written one-cycle curve it replaced: a linear ramp over
    30 % of the steps from peak/25, then cosine to peak/1e4 (float32 rounding apart: 2.4e-7 relative,
    measured against the old code; near the end float32 cosine keeps 1e-6 of the peak)."""
    total, peak = 1000, 0.01
    step = np.arange(total, dtype=np.float64)
    up = round(0.3 * total)
    rising = peak / 25 + (peak - peak / 25) * step / up
    progress = np.clip((step - up) / (total - up), 0, 1)
    falling = peak / 1e4 + (peak - peak / 1e4) * 0.5 * (1 + np.cos(np.pi * progress))
    expected = np.where(step < up, rising, falling)
    assert np.allclose(rates("one_cycle", total=total), expected, rtol=1e-6, atol=peak * 1e-6)


def test_cosine_with_warmup_and_step_and_constant():
    cosine = rates("cosine", warmup_steps=10)
    assert cosine[0] < cosine[9] and cosine[10] == pytest.approx(0.01, rel=1e-3)
    assert cosine[-1] < 0.001
    step = rates("step", step_every=30, step_factor=0.5)
    assert step[29] == pytest.approx(0.01) and step[30] == pytest.approx(0.005) and step[90] == pytest.approx(0.00125)
    assert np.allclose(rates("constant"), 0.01)


def test_schedule_round_trips_through_config():
    schedule = VariantSchedule("cosine", 0.1, 50, warmup_steps=5)
    clone = VariantSchedule(**schedule.get_config())
    assert float(clone(20)) == pytest.approx(float(schedule(20)))


def test_class_weights():
    labels = np.array([0] * 30 + [1] * 10)
    weights = class_weight_vector(labels, enabled=True)
    assert weights[1] == pytest.approx(3 * weights[0])
    assert weights[2] == 0.0
    assert np.all(class_weight_vector(labels, enabled=False) == 1.0)


def test_train_dataset_mixes_labels_with_mixup(fixture_train):
    images, labels = fixture_train
    variant = VariantConfig(name="t", architecture="mlp_a", batch_size=100, augment=AugmentConfig(mixup=0.4, crop=2))
    dataset, _ = train_dataset(images.astype(np.float32) / 255, labels, variant)
    _, targets, _ = next(iter(dataset))
    targets = targets.numpy()
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-6)
    assert (np.count_nonzero(targets, axis=1) == 2).mean() > 0.8  # two classes per image (unless a pair agrees)


def test_train_dataset_batches_are_shuffled_and_complete(fixture_train):
    images, labels = fixture_train
    variant = VariantConfig(name="t", architecture="mlp_a", batch_size=100, augment=AugmentConfig(horizontal_flip=True))
    dataset, steps = train_dataset(images.astype(np.float32) / 255, labels, variant)
    assert steps == 5
    batches = list(dataset.take(steps))
    x, y, w = batches[0]
    assert x.shape == (100, 28, 28, 1) and y.shape == (100, 10) and w.shape == (100,)
    seen = np.concatenate([b[1].numpy().argmax(1) for b in batches])
    assert np.bincount(seen).tolist() == [50] * 10  # one epoch = every image once
    assert not np.array_equal(seen, labels)
    # The autotuner's thread delayed fit's return by up to half a minute (see train_dataset).
    assert dataset.options().autotune.enabled is False


def tiny_data(fixture_train):
    images, labels = fixture_train
    x = images.astype(np.float32)[..., None] / 255
    return {"x_train": x[:400], "y_train": labels[:400], "x_val": x[400:], "y_val": labels[400:]}


def test_train_variant_learns_and_is_reproducible(fixture_train, tmp_path):
    variant = VariantConfig(
        name="mlp_a", architecture="mlp_a", epochs=3, batch_size=32, schedule="one_cycle", learning_rate=0.003
    )
    data = tiny_data(fixture_train)
    first = train_variant(variant, data, RuntimeConfig(), live_dir=tmp_path / "live", verbose=0)
    second = train_variant(variant, data, RuntimeConfig(), verbose=0)
    metrics = first.metrics
    assert metrics["epochs_run"] == 3 and 1 <= metrics["best_epoch"] <= 3
    assert metrics["best_val_accuracy"] > 0.3  # 10 classes: chance is 0.1
    assert metrics["params"] == 101770
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert metrics["best_val_accuracy"] == second.metrics["best_val_accuracy"]
    curves = tmp_path / "live" / "plots" / "metrics"
    for name in ("train/accuracy", "eval/accuracy", "train/loss", "eval/loss", "train/learning_rate"):
        assert len((curves / f"{name}.tsv").read_text().splitlines()) == 4  # header + 3 epochs
    rows = (curves / "train/elapsed_seconds.tsv").read_text().splitlines()[1:]
    elapsed = [float(row.split("\t")[-1]) for row in rows]
    assert len(elapsed) == 3 and 0 < elapsed[0] < elapsed[1] < elapsed[2]


def test_ema_keeps_averaged_weights_of_best_epoch(fixture_train):
    """With ema_momentum the kept model holds the moving average, not the last raw weights."""
    data = tiny_data(fixture_train)
    base = {"name": "t", "architecture": "mlp_a", "epochs": 2, "batch_size": 32, "learning_rate": 0.003}
    plain = train_variant(VariantConfig(**base), data, RuntimeConfig(), verbose=0)
    averaged = train_variant(VariantConfig(**base, ema_momentum=0.9), data, RuntimeConfig(), verbose=0)
    assert averaged.metrics["best_val_accuracy"] > 0.3
    differs = [not np.allclose(a, b) for a, b in zip(plain.model.get_weights(), averaged.model.get_weights())]
    assert any(differs)
    # The reported validation accuracy is that of the weights the model holds.
    x, y = data["x_val"], data["y_val"]
    accuracy = float((averaged.model.predict(x, verbose=0).argmax(1) == y).mean())
    assert accuracy == pytest.approx(averaged.metrics["best_val_accuracy"], abs=1e-6)


def test_retrain_on_all_fits_train_and_validation_images_and_keeps_the_last_epoch(fixture_train):
    data = tiny_data(fixture_train)
    base = {"name": "t", "architecture": "mlp_a", "epochs": 3, "batch_size": 50, "learning_rate": 0.3}
    split = train_variant(VariantConfig(**base), data, RuntimeConfig(), verbose=0)
    everything = train_variant(VariantConfig(**base, retrain_on_all=True), data, RuntimeConfig(), verbose=0)
    assert "validation_held_out" not in split.metrics and split.metrics["images_per_second"] > 0
    assert everything.metrics["validation_held_out"] is False and everything.metrics["train_images"] == 500
    assert everything.metrics["best_epoch"] == everything.metrics["epochs_run"] == 3  # the last, always
    # The kept model is the last epoch's: its validation accuracy is the one reported for epoch 3.
    x, y = data["x_val"], data["y_val"]
    accuracy = float((everything.model.predict(x, verbose=0).argmax(1) == y).mean())
    assert accuracy == pytest.approx(everything.metrics["best_val_accuracy"], abs=1e-6)


def test_early_stopping_keeps_best_epoch(fixture_train):
    variant = VariantConfig(
        name="t",
        architecture="mlp_a",
        epochs=30,
        batch_size=32,
        learning_rate=0.5,
        optimizer="sgd",
        early_stopping_patience=2,
    )
    data = tiny_data(fixture_train)
    result = train_variant(variant, data, RuntimeConfig(), verbose=0)
    assert result.metrics["epochs_run"] < 30
    # Stopped because the last `patience` epochs were worse: the best one came before them ...
    assert result.metrics["best_epoch"] <= result.metrics["epochs_run"] - 2
    # ... and the weights the model holds are that epoch's: they score its validation accuracy.
    accuracy = float((result.model.predict(data["x_val"], verbose=0).argmax(1) == data["y_val"]).mean())
    assert accuracy == pytest.approx(result.metrics["best_val_accuracy"], abs=1e-6)


def test_augmented_conv_training_is_bit_reproducible(fixture_train):
    """Same params and seed -> identical weights and predictions (op determinism + stateless aug)."""
    augment = AugmentConfig(rotation=10, shift=0.1, zoom=0.1, shear=5, horizontal_flip=True, erasing=0.5)
    variant = VariantConfig(
        name="t",
        architecture="cnn_basic",
        model={"filters": (8, 16), "dense_units": 32},
        epochs=2,
        batch_size=50,
        augment=augment,
    )
    data = tiny_data(fixture_train)
    runs = [train_variant(variant, data, RuntimeConfig(deterministic=True), verbose=0) for _ in range(2)]
    for a, b in zip(runs[0].model.get_weights(), runs[1].model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    predictions = [run.model.predict(data["x_val"], verbose=0) for run in runs]
    np.testing.assert_array_equal(predictions[0], predictions[1])


def test_mixed_bfloat16_variant_trains_and_the_next_run_is_float32(fixture_train):
    data = tiny_data(fixture_train)
    base = {"name": "t", "architecture": "cnn_basic", "model": {"filters": (8, 16)}, "epochs": 1, "batch_size": 50}
    mixed = train_variant(VariantConfig(**base, precision="mixed_bfloat16"), data, RuntimeConfig(), verbose=0)
    conv = next(layer for layer in mixed.model.layers if "conv" in layer.name)
    assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"
    assert mixed.model.layers[-1].compute_dtype == "float32"  # softmax head stays float32
    assert 0 < mixed.metrics["best_val_accuracy"] <= 1
    plain = train_variant(VariantConfig(**base), data, RuntimeConfig(), verbose=0)
    assert all(layer.compute_dtype == "float32" for layer in plain.model.layers)
    assert mixed.metrics["precision"] == "mixed_bfloat16" and plain.metrics["precision"] == "float32"
    assert mixed.metrics["cpu"] and "precision_probe_ms" not in mixed.metrics


def test_precision_auto_probe_leaves_the_run_it_precedes_unchanged(fixture_train, monkeypatch):
    """`auto` times real steps in both precisions first; the run that follows must draw the same
    random numbers as a plain float32 run, or auto would change results on bf16 CPUs."""
    import fmnist.train.loop
    import fmnist.train.precision

    real_probe = fmnist.train.loop.probe_step_ms
    monkeypatch.setattr(fmnist.train.precision, "cpu_flags", lambda: {"avx512_bf16"})
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    probed = {}

    def probe_that_prefers_float32(variant, precisions):
        probed.update(real_probe(variant, precisions, rounds=1, steps=1))
        return {"float32": 1.0, "mixed_bfloat16": 2.0}

    monkeypatch.setattr(fmnist.train.loop, "probe_step_ms", probe_that_prefers_float32)
    data = tiny_data(fixture_train)
    base = {"name": "t", "architecture": "cnn_basic", "model": {"filters": (8, 16)}, "epochs": 1, "batch_size": 50}
    augment = AugmentConfig(shift=0.1, horizontal_flip=True)
    auto = train_variant(VariantConfig(**base, precision="auto", augment=augment), data, RuntimeConfig(), verbose=0)
    plain = train_variant(VariantConfig(**base, augment=augment), data, RuntimeConfig(), verbose=0)
    assert set(probed) == {"float32", "mixed_bfloat16"} and all(ms > 0 for ms in probed.values())
    assert auto.metrics["precision"] == "float32"
    assert auto.metrics["precision_probe_ms"] == {"float32": 1.0, "mixed_bfloat16": 2.0}
    for a, b in zip(auto.model.get_weights(), plain.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
