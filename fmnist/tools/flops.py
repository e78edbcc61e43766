"""Analytic FLOP counts (multiply-adds × 2) for Conv2D and Dense layers, per image."""

from __future__ import annotations

import keras


def forward_flops(model: keras.Model) -> int:
    """Forward-pass FLOPs per image of the convolution and dense layers (what MFU counts)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, channels_out = layer.output.shape
            kernel_h, kernel_w = layer.kernel_size
            channels_in = layer.input.shape[-1]
            total += 2 * height * width * kernel_h * kernel_w * channels_in * channels_out
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return int(total)


def training_flops(model: keras.Model) -> int:
    """Forward + backward ≈ 3 × forward (gradients for inputs and for weights)."""
    return 3 * forward_flops(model)
