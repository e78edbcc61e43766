import subprocess
import sys

import numpy as np

from fmnist.evaluate import export
from fmnist.train.models import build_model


def test_saved_model_and_tflite_exports_agree(small_cnn, fixture_train, tmp_path):
    images, labels = fixture_train
    x = images.astype(np.float32)[..., None] / 255
    export.export_saved_model(small_cnn, tmp_path / "saved")
    keras_run = export.measure(export.keras_predictor(small_cnn), x, labels, batch_size=64, latency_runs=5)
    saved = export.measure(export.saved_model_predictor(tmp_path / "saved"), x, labels, 64, 5)
    assert saved["accuracy"] == keras_run["accuracy"] > 0.3
    float32 = export.convert_tflite(tmp_path / "saved")
    int8 = export.convert_tflite(tmp_path / "saved", representative=x[:50])
    assert len(int8) < len(float32) / 2  # int8 weights: about a quarter of the float32 size
    tflite = export.measure(export.tflite_predictor(float32), x, labels, 64, 5)
    quantized = export.measure(export.tflite_predictor(int8), x, labels, 64, 5)
    assert np.mean(tflite["predictions"] == keras_run["predictions"]) > 0.99
    assert np.mean(quantized["predictions"] == tflite["predictions"]) > 0.9
    for row in (keras_run, saved, tflite, quantized):
        assert row["latency_ms"] > 0 and row["images_per_second"] > 0


def test_export_bytes_depend_on_the_model_only(small_cnn, tmp_path):
    """Exporting one model in two processes (as two `dvc repro` runs do) gives identical files, so
    a retrain to the same weights leaves models/export's DVC hash as it was. Keras's own export
    orders variables by object id and writes a random fingerprint uuid."""
    small_cnn.save(tmp_path / "model.keras")
    script = (
        "import sys, keras; from pathlib import Path; from fmnist.evaluate import export; "
        "root = Path(sys.argv[1]); export.export_saved_model(keras.models.load_model(sys.argv[2]), root / 'saved'); "
        "(root / 'model.tflite').write_bytes(export.convert_tflite(root / 'saved'))"
    )
    for name in ("first", "second"):
        subprocess.run([sys.executable, "-c", script, tmp_path / name, tmp_path / "model.keras"], check=True)

    def contents(root):
        return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}

    first = contents(tmp_path / "first")
    assert {"saved/saved_model.pb", "saved/fingerprint.pb", "saved/variables/variables.index"} <= set(first)
    assert contents(tmp_path / "second") == first


def test_mixed_precision_models_export_as_float32(fixture_train, tmp_path):
    """TFLite has no bfloat16 convolutions: the bf16 champion is exported as a float32 copy."""
    import keras

    images, labels = fixture_train
    x_all = images.astype(np.float32)[..., None] / 255
    x = x_all[:64]
    keras.utils.set_random_seed(3)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        # cnn_basic has no batch norm, whose moving averages would need far more steps to settle.
        mixed = build_model("cnn_basic", {"filters": [8, 16], "dense_units": 32})
        mixed.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
        mixed.fit(x_all, labels, epochs=4, batch_size=32, verbose=0)  # trained: confident, not ~0.1 everywhere
    finally:
        keras.mixed_precision.set_global_policy("float32")
    plain = export.as_float32(mixed)
    assert {layer.dtype_policy.name for layer in plain.layers} == {"float32"}
    assert export.as_float32(plain) is plain
    expected, converted = mixed.predict(x, verbose=0), plain.predict(x, verbose=0)
    assert expected.max(axis=1).mean() > 0.4  # the check below would catch wrong or missing weights
    np.testing.assert_allclose(converted, expected, atol=0.03)  # bf16 rounding only
    assert np.mean(converted.argmax(1) == expected.argmax(1)) >= 0.95
    export.export_saved_model(plain, tmp_path / "saved")
    flatbuffer = export.convert_tflite(tmp_path / "saved")
    tflite = export.measure(export.tflite_predictor(flatbuffer), x, np.zeros(len(x), int), 32, 2)
    assert np.mean(tflite["predictions"] == plain.predict(x, verbose=0).argmax(1)) > 0.95
