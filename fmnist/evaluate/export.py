"""Export a trained Keras model as a TensorFlow SavedModel and TFLite (float32, int8) and
measure each on the test set: accuracy, file size, single-image latency, batch throughput."""

from __future__ import annotations

import statistics
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from fmnist.core.io import write_bytes

Predict = Callable[[np.ndarray], np.ndarray]


def as_float32(model):
    """A float32 copy of a mixed-precision model (same weights: they are stored in float32).

    TFLite has no bfloat16 convolution kernels, and a float32 graph is what deployment
    targets expect; float32 models are returned unchanged.
    """
    import keras

    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model

    def to_float32(layer):
        config = layer.get_config()
        config["dtype"] = "float32"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=to_float32)
    copy.set_weights(model.get_weights())
    return copy


def export_saved_model(model, directory: Path) -> None:
    """A SavedModel with a `serve` endpoint (float32 [N, 28, 28, 1] -> {"output_0": probabilities}),
    also as `serving_default`, whose bytes depend on the model only.

    Not `model.export()`: Keras lists the variables in the order of a traced function's variable
    set, which follows object ids and changes from run to run, so the same model gave a different
    saved_model.pb and checkpoint each time (and a new DVC hash). Tracking `model.weights` in the
    model's own order (not the dropout seed states, which are drawn anew at each load and unused
    in inference), and deriving the fingerprint's random uuid from its content hashes, makes the
    export byte-identical for identical weights.
    """
    module = tf.Module()
    module.model_variables = [variable.value for variable in model.weights]

    # The input keeps the model's own name ("image"), as Keras's export names it, for clients
    # that feed it by name (TF Serving).
    input_name = model.inputs[0].name if getattr(model, "inputs", None) else "image"

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name=input_name)])
    def serve(images):
        return {"output_0": model(images, training=False)}

    module.serve = serve
    endpoint = serve.get_concrete_function()
    tf.saved_model.save(module, str(directory), signatures={"serve": endpoint, "serving_default": endpoint})
    _fix_fingerprint_uuid(directory / "fingerprint.pb")


def _fix_fingerprint_uuid(path: Path) -> None:
    from tensorflow.core.protobuf import fingerprint_pb2

    fingerprint = fingerprint_pb2.FingerprintDef.FromString(path.read_bytes())
    fingerprint.uuid = ""
    content = fingerprint.SerializeToString(deterministic=True)
    fingerprint.uuid = str(uuid.uuid5(uuid.NAMESPACE_OID, content.hex()).int)
    write_bytes(path, fingerprint.SerializeToString(deterministic=True))


def convert_tflite(saved_model: Path, representative: np.ndarray | None = None) -> bytes:
    """TFLite flatbuffer; with `representative` images, full int8 post-training quantization
    (weights and activations; float32 input/output so callers need no scale handling)."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if representative is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[None]] for image in representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.float32
        converter.inference_output_type = tf.float32
    return converter.convert()


def tflite_predictor(model_bytes: bytes) -> Predict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice (LiteRT)
        interpreter = tf.lite.Interpreter(model_content=model_bytes, num_threads=2)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    shape = [None]

    def predict(images: np.ndarray) -> np.ndarray:
        if shape[0] != images.shape:
            interpreter.resize_tensor_input(input_index, images.shape)
            interpreter.allocate_tensors()
            shape[0] = images.shape
        interpreter.set_tensor(input_index, images)
        interpreter.invoke()
        return interpreter.get_tensor(output_index).copy()

    return predict


def saved_model_predictor(directory: Path) -> Predict:
    serve = tf.saved_model.load(str(directory)).signatures["serve"]

    def predict(images: np.ndarray) -> np.ndarray:
        return next(iter(serve(tf.constant(images)).values())).numpy()

    return predict


def keras_predictor(model) -> Predict:
    return lambda images: model(images, training=False).numpy()


def measure(predict: Predict, x: np.ndarray, y: np.ndarray, batch_size: int, latency_runs: int) -> dict:
    """Accuracy on (x, y); median single-image latency; images/s over the whole set in batches."""
    predict(x[:1])  # warm-up: builds / allocates
    latencies = []
    for i in range(latency_runs):
        image = x[i % len(x)][None]
        started = time.perf_counter()
        predict(image)
        latencies.append(time.perf_counter() - started)
    predictions, started = [], time.perf_counter()
    for start in range(0, len(x), batch_size):
        predictions.append(predict(x[start : start + batch_size]).argmax(axis=1))
    seconds = time.perf_counter() - started
    labels = np.concatenate(predictions)
    return {
        "accuracy": round(float((labels == y).mean()), 6),
        "latency_ms": round(statistics.median(latencies) * 1000, 3),
        "images_per_second": round(len(x) / seconds, 1),
        "predictions": labels,
    }


def size_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def export_and_measure(
    model, model_file: Path, out: Path, test: dict[str, np.ndarray], calibration: np.ndarray, cfg
) -> dict[str, dict]:
    """Write the SavedModel and both TFLite files into `out`, and measure each format (and the
    Keras model in `model_file`) on the test set with `cfg` (the `export` params)."""
    x, y = test["x"], test["y"]
    results = {"keras": measure(keras_predictor(model), x, y, cfg.batch_size, cfg.latency_runs)}
    results["keras"]["size_bytes"] = size_bytes(model_file)
    export_saved_model(model, out / "saved_model")
    results["saved_model"] = measure(saved_model_predictor(out / "saved_model"), x, y, cfg.batch_size, cfg.latency_runs)
    results["saved_model"]["size_bytes"] = size_bytes(out / "saved_model")
    for name, representative in (("tflite_float32", None), ("tflite_int8", calibration)):
        flatbuffer = convert_tflite(out / "saved_model", representative)
        write_bytes(out / f"model_{name.split('_')[1]}.tflite", flatbuffer)
        results[name] = measure(tflite_predictor(flatbuffer), x, y, cfg.batch_size, cfg.latency_runs)
        results[name]["size_bytes"] = len(flatbuffer)
    return results


def summarise(results: dict[str, dict], max_int8_drop: float, variant: str) -> dict:
    """metrics/export.json: each format's figures (without its predictions), int8's accuracy drop
    and agreement against float32, and whether the drop is within `export.max_int8_drop`."""
    agreement = float((results["tflite_int8"]["predictions"] == results["tflite_float32"]["predictions"]).mean())
    metrics: dict = {name: {k: v for k, v in row.items() if k != "predictions"} for name, row in results.items()}
    drop = (metrics["tflite_float32"]["accuracy"] - metrics["tflite_int8"]["accuracy"]) * 100
    metrics["int8_accuracy_drop_points"] = round(drop, 3)
    metrics["int8_agreement_with_float32"] = round(agreement, 6)
    metrics["int8_within_limit"] = bool(drop <= max_int8_drop)
    metrics["variant"] = variant
    return metrics
