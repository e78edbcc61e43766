"""Grad-CAM (Selvaraju et al., 2017): where a convolutional model looks for its decision."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from fmnist import CLASS_NAMES
from fmnist.core import plots


def last_feature_layer(model: keras.Model):
    """The last layer with a spatial (H×W×C, H > 1) output, or None for models without convolutions."""
    if not any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers):
        return None
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None) is not None and layer.output.shape
        if shape and len(shape) == 4 and shape[1] > 1 and not isinstance(layer, keras.layers.Dropout):
            return layer
    return None


def gradcam(model: keras.Model, images: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Heat maps in [0, 1], one H×W map per image, for the given class of each image."""
    layer = last_feature_layer(model)
    if layer is None:
        raise ValueError(f"{model.name}: no convolutional feature map for Grad-CAM")
    probe = keras.Model(model.inputs, [layer.output, model.outputs[0]])
    x = tf.constant(images.astype(np.float32))
    with tf.GradientTape() as tape:
        features, probabilities = probe(x, training=False)
        score = tf.gather(probabilities, classes.astype(np.int32), axis=1, batch_dims=1)
    gradients = tape.gradient(score, features)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # one weight per channel
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1, keepdims=True))
    cam = tf.image.resize(cam, images.shape[1:3], method="bilinear")[..., 0].numpy()
    peak = cam.reshape(len(cam), -1).max(axis=1)[:, None, None]
    return np.where(peak > 0, cam / np.maximum(peak, 1e-12), 0.0)


def pick_examples(y_true: np.ndarray, probabilities: np.ndarray, errors: int = 6) -> np.ndarray:
    """A fixed set: the first correct test image of every class, then the most confident errors."""
    predicted = probabilities.argmax(axis=1)
    correct = [np.flatnonzero((y_true == c) & (predicted == c))[:1] for c in range(len(CLASS_NAMES))]
    wrong = np.flatnonzero(predicted != y_true)
    wrong = wrong[np.argsort(-probabilities[wrong].max(axis=1), kind="stable")][:errors]
    return np.concatenate([*correct, wrong]).astype(int)


def gradcam_figure(model, x, y, probabilities, path: Path, name: str) -> None:
    """Grad-CAM of the predicted class on a fixed set of test images (convolutional models only)."""
    if last_feature_layer(model) is None:
        return
    chosen = pick_examples(y, probabilities)
    predicted = probabilities[chosen].argmax(axis=1)
    maps = gradcam(model, x[chosen], predicted)
    pairs = zip(chosen, predicted, strict=True)
    titles = [f"{CLASS_NAMES[y[i]]}\n→ {CLASS_NAMES[p]} {probabilities[i, p]:.0%}" for i, p in pairs]
    title = f"{name}: Grad-CAM of the predicted class (row 1: a correct image per class; row 2: most confident errors)"
    plots.gradcam_grid(x[chosen], maps, titles, path, title, columns=10)
