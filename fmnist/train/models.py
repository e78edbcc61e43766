"""Model builders, one Functional `build_<architecture>()` each, and the registry.

A new architecture is one decorated function here plus one `variants:` entry in params.yaml.
Builder keyword arguments are the `model:` mapping of that entry; unknown ones fail loudly.
"""

from __future__ import annotations

import inspect
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
from keras import layers

from fmnist import IMAGE_SIZE, NUM_CLASSES
from fmnist.core.errors import ConfigError, ModelFileError, did_you_mean

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
Builder = Callable[..., keras.Model]
REGISTRY: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    def decorate(builder: Builder) -> Builder:
        REGISTRY[name] = builder
        return builder

    return decorate


def build_model(architecture: str, options: Mapping[str, Any] | None = None, name: str | None = None) -> keras.Model:
    """Build a registered architecture with builder keyword arguments from params."""
    if architecture not in REGISTRY:
        hint = did_you_mean(architecture, REGISTRY)
        raise ConfigError(f"unknown architecture {architecture!r}{hint}; known: {sorted(REGISTRY)}")
    builder = REGISTRY[architecture]
    accepted = inspect.signature(builder).parameters
    for key in options or {}:
        if key not in accepted:
            hint = did_you_mean(key, accepted)
            raise ConfigError(
                f"model.{key}: not an argument of build_{architecture}{hint}; expected one of {list(accepted)}"
            )
    model = builder(**dict(options or {}))
    if name:
        model.name = name
    return model


def _classifier_head(x, dropout_rate: float = 0.0):
    if dropout_rate:
        x = layers.Dropout(dropout_rate)(x)
    # float32 softmax keeps mixed-precision runs numerically safe.
    return layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="probabilities")(x)


def _mlp(name: str, hidden_units: Sequence[int], dropout_rates: Sequence[float]) -> keras.Model:
    if len(dropout_rates) != len(hidden_units):
        raise ConfigError(
            f"model: {len(hidden_units)} hidden layers need {len(hidden_units)} dropout rates, got {len(dropout_rates)}"
        )
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Flatten()(inputs)
    for units, rate in zip(hidden_units, dropout_rates, strict=True):
        x = layers.Dense(units, activation="relu")(x)
        if rate:
            x = layers.Dropout(rate)(x)
    return keras.Model(inputs, _classifier_head(x), name=name)


@register("mlp_a")
def build_mlp_a(hidden_units: Sequence[int] = (128,), dropout_rates: Sequence[float] = (0.0,)) -> keras.Model:
    """The TensorFlow tutorial classifier: Flatten -> Dense 128 relu -> Dense 10."""
    return _mlp("mlp_a", hidden_units, dropout_rates)


@register("mlp_b")
def build_mlp_b(hidden_units: Sequence[int] = (512, 256), dropout_rates: Sequence[float] = (0.2, 0.2)) -> keras.Model:
    """Dense 512 -> Dropout 0.2 -> Dense 256 -> Dropout 0.2 -> Dense 10."""
    return _mlp("mlp_b", hidden_units, dropout_rates)


@register("ann")
def build_ann(hidden_units: Sequence[int] = (128, 64), dropout_rates: Sequence[float] = (0.3, 0.0)) -> keras.Model:
    """Dense 128 -> Dropout 0.3 -> Dense 64 -> Dense 10."""
    return _mlp("ann", hidden_units, dropout_rates)


@register("cnn_basic")
def build_cnn_basic(
    filters: Sequence[int] = (32, 64), dense_units: int = 128, dropout_rate: float = 0.3
) -> keras.Model:
    """Conv32-Pool-Conv64-Pool-Dense128 with dropout, no batch norm."""
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = inputs
    for count in filters:
        x = layers.Conv2D(count, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout_rate)(x)
    x = layers.Dense(dense_units, activation="relu")(x)
    return keras.Model(inputs, _classifier_head(x, dropout_rate), name="cnn_basic")


def _conv_bn_relu(x, filters: int, kernel_size: int = 3, strides: int = 1):
    # No bias: batch norm's shift makes it redundant.
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def _vgg_blocks(x, filters: Sequence[int], convs_per_block: int, dropout_rate: float):
    for count in filters:
        for _ in range(convs_per_block):
            x = _conv_bn_relu(x, count)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


@register("cnn_advanced")
def build_cnn_advanced(
    filters: Sequence[int] = (32, 64),
    convs_per_block: int = 2,
    dense_units: int = 128,
    conv_dropout_rate: float = 0.25,
    dropout_rate: float = 0.5,
) -> keras.Model:
    """Two VGG-style blocks (Conv-BN-ReLU ×2, pool, dropout), then Dense-BN-Dropout."""
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = _vgg_blocks(inputs, filters, convs_per_block, conv_dropout_rate)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return keras.Model(inputs, _classifier_head(x, dropout_rate), name="cnn_advanced")


@register("cnn_enhanced")
def build_cnn_enhanced(
    filters: Sequence[int] = (64, 128),
    dense_units: int = 256,
    conv_dropout_rate: float = 0.25,
    dropout_rate: float = 0.5,
) -> keras.Model:
    """Conv64-Conv64-Pool-Drop-Conv128-Conv128-Pool-Drop-Dense256-Drop-Dense10, BN after each conv."""
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = _vgg_blocks(inputs, filters, 2, conv_dropout_rate)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation="relu")(x)
    return keras.Model(inputs, _classifier_head(x, dropout_rate), name="cnn_enhanced")


def _residual_block(x, filters: int, strides: int):
    shortcut = x
    y = _conv_bn_relu(x, filters, strides=strides)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.Activation("relu")(layers.Add()([y, shortcut]))


@register("resnet")
def build_resnet(
    stem_filters: int = 32,
    widths: Sequence[int] = (32, 64, 128),
    blocks: Sequence[int] = (1, 1, 1),
    dropout_rate: float = 0.0,
) -> keras.Model:
    """A small ResNet for 28×28: stem, one stage per width (stride 2 after the first), GAP.

    Narrow where the feature maps are large (28×28), wider where they are small, so FLOPs
    stay spread evenly over the stages.
    """
    if len(widths) != len(blocks):
        raise ConfigError(f"model: widths {list(widths)} and blocks {list(blocks)} must have the same length")
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = _conv_bn_relu(inputs, stem_filters)
    for stage, (width, count) in enumerate(zip(widths, blocks, strict=True)):
        for block in range(count):
            x = _residual_block(x, width, strides=2 if stage > 0 and block == 0 else 1)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, _classifier_head(x, dropout_rate), name="resnet")


@register("airbench")
def build_airbench(
    widths: Sequence[int] = (32, 128, 128), stem_filters: int = 8, batch_norm_momentum: float = 0.6
) -> keras.Model:
    """KellerJordan/cifar10-airbench's network for 28×28×1: a 2×2 stem, then per width a block
    conv-pool-BN-GELU-conv-BN-GELU, global max pooling. Its batch norms learn a shift but no scale
    and forget fast (momentum 0.6); its default widths are half of airbench94's (64, 256, 256).

    Not ported: the frozen patch-whitening stem (a grayscale 2×2 patch has 4 dimensions, not 12)
    and the dirac initialisation; the 1/9 logit scale becomes the shared softmax head.
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Conv2D(stem_filters, 2, padding="valid")(inputs)  # 28 -> 27: the pools go 13, 6, 3
    x = layers.Activation("gelu")(x)
    for width in widths:
        for pool in (True, False):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            if pool:  # pooling before the norm: the norm and GELU then run on a quarter of the pixels
                x = layers.MaxPooling2D()(x)
            x = layers.BatchNormalization(momentum=batch_norm_momentum, scale=False)(x)
            x = layers.Activation("gelu")(x)
    x = layers.GlobalMaxPooling2D()(x)
    return keras.Model(inputs, _classifier_head(x), name="airbench")


def load_model(path: str | Path) -> keras.Model:
    """Load a .keras archive safely (no Lambda/pickle code); bad files give ModelFileError."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.keras"
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found (train it first: dvc repro)")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a Keras .keras archive (truncated or another format)")
    try:
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many types for damaged archives
        raise ModelFileError(f"{path}: cannot load Keras model ({type(error).__name__}: {str(error)[:200]})") from None
