import numpy as np
import pytest

from fmnist import export
from fmnist.gradcam import gradcam, last_feature_layer, pick_examples
from fmnist.models import build_model


@pytest.fixture(scope="module")
def small_model(fixture_train):
    """cnn_basic fitted briefly on the fixture: enough for exports to agree on real images."""
    import keras

    images, labels = fixture_train
    keras.utils.set_random_seed(1)
    model = build_model("cnn_basic", {"filters": [8, 16], "dense_units": 32})
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(images.astype(np.float32)[..., None] / 255, labels, epochs=3, batch_size=32, verbose=0)
    return model


def test_saved_model_and_tflite_exports_agree(small_model, fixture_train, tmp_path):
    images, labels = fixture_train
    x = images.astype(np.float32)[..., None] / 255
    export.export_saved_model(small_model, tmp_path / "saved")
    keras_run = export.measure(export.keras_predictor(small_model), x, labels, batch_size=64, latency_runs=5)
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


def test_gradcam_maps(small_model, fixture_train):
    images, labels = fixture_train
    x = images[:20].astype(np.float32)[..., None] / 255
    probabilities = small_model.predict(x, verbose=0)
    chosen = pick_examples(labels[:20], probabilities, errors=3)
    assert len(chosen) <= 13 and len(set(chosen.tolist())) == len(chosen)
    maps = gradcam(small_model, x[chosen], probabilities[chosen].argmax(1))
    assert maps.shape == (len(chosen), 28, 28) and maps.min() >= 0 and maps.max() <= 1
    assert (maps.reshape(len(maps), -1).max(1) > 0).any()
    assert last_feature_layer(build_model("mlp_a")) is None
    with pytest.raises(ValueError, match="no convolutional feature map"):
        gradcam(build_model("mlp_a"), x[:1], np.array([0]))


def test_mixed_precision_models_export_as_float32(fixture_train, tmp_path):
    """TFLite has no bfloat16 convolutions: the bf16 champion is exported as a float32 copy."""
    import keras

    images, _ = fixture_train
    x = images[:64].astype(np.float32)[..., None] / 255
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        mixed = build_model("resnet", {"stem_filters": 8, "widths": [8, 16], "blocks": [1, 1]})
    finally:
        keras.mixed_precision.set_global_policy("float32")
    plain = export.as_float32(mixed)
    assert {layer.dtype_policy.name for layer in plain.layers} == {"float32"}
    assert export.as_float32(plain) is plain
    np.testing.assert_allclose(plain.predict(x, verbose=0), mixed.predict(x, verbose=0), atol=0.05)
    export.export_saved_model(plain, tmp_path / "saved")
    flatbuffer = export.convert_tflite(tmp_path / "saved")
    tflite = export.measure(export.tflite_predictor(flatbuffer), x, np.zeros(len(x), int), 32, 2)
    assert np.mean(tflite["predictions"] == plain.predict(x, verbose=0).argmax(1)) > 0.95
