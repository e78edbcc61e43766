"""Grad-CAM maps and the evaluate stage's Grad-CAM figure."""

import numpy as np
import pytest
from PIL import Image

from fmnist.evaluate.gradcam import gradcam, gradcam_figure, last_feature_layer, pick_examples
from fmnist.train.models import build_model


def test_gradcam_maps(small_cnn, fixture_train):
    images, labels = fixture_train
    x = images[:20].astype(np.float32)[..., None] / 255
    probabilities = small_cnn.predict(x, verbose=0)
    chosen = pick_examples(labels[:20], probabilities, errors=3)
    assert len(chosen) <= 13 and len(set(chosen.tolist())) == len(chosen)
    maps = gradcam(small_cnn, x[chosen], probabilities[chosen].argmax(1))
    assert maps.shape == (len(chosen), 28, 28) and maps.min() >= 0 and maps.max() <= 1
    assert (maps.reshape(len(maps), -1).max(1) > 0).any()
    assert last_feature_layer(build_model("mlp_a")) is None
    with pytest.raises(ValueError, match="no convolutional feature map"):
        gradcam(build_model("mlp_a"), x[:1], np.array([0]))


def test_gradcam_figure_for_cnns_only(small_cnn, fixture_train, tmp_path):
    images, labels = fixture_train
    x = images[:60].astype(np.float32)[..., None] / 255
    probabilities = small_cnn.predict(x, verbose=0)
    gradcam_figure(small_cnn, x, labels[:60], probabilities, tmp_path / "cnn.png", "cnn")
    with Image.open(tmp_path / "cnn.png") as image:
        assert image.format == "PNG" and image.width > 500
    mlp = build_model("mlp_a")
    gradcam_figure(mlp, x, labels[:60], mlp.predict(x, verbose=0), tmp_path / "mlp.png", "mlp")
    assert not (tmp_path / "mlp.png").exists()
