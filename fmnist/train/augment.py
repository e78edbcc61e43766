"""Per-sample, vectorised augmentation for tf.data batches.

One random affine transform per image (rotation, shear, zoom, shift), an integer random crop, an
optional horizontal flip and random erasing, then mixup or CutMix across the batch, all drawn with
stateless RNG from a per-batch seed, so a run is reproducible and no Python code runs per image.
(Keras 3's RandomCrop/RandomTranslation on a batch would move every image alike, and
keras.layers.MixUp/CutMix draw from a stateful generator.)
"""

from __future__ import annotations

import math
import os

import numpy as np
import tensorflow as tf

from fmnist import CLASS_NAMES
from fmnist.core.variants import AugmentConfig


def _uniform(seed: tf.Tensor, size: tf.Tensor, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform([size], seed=seed, minval=low, maxval=high)


def affine_transforms(seed: tf.Tensor, batch: tf.Tensor, height: int, width: int, cfg: AugmentConfig) -> tf.Tensor:
    """[batch, 8] projective transforms mapping output pixels to input pixels, about the centre."""
    seeds = tf.random.experimental.stateless_split(seed, num=5)
    angle = _uniform(seeds[0], batch, -cfg.rotation, cfg.rotation) * (math.pi / 180)
    shear = _uniform(seeds[1], batch, -cfg.shear, cfg.shear) * (math.pi / 180)
    scale = 1.0 / _uniform(seeds[2], batch, 1 - cfg.zoom, 1 + cfg.zoom)
    shift_x = _uniform(seeds[3], batch, -cfg.shift, cfg.shift) * width
    shift_y = _uniform(seeds[4], batch, -cfg.shift, cfg.shift) * height
    cos, sin, tan = tf.cos(angle), tf.sin(angle), tf.tan(shear)
    # M = scale * R(angle) @ [[1, tan(shear)], [0, 1]]
    a0, a1 = scale * cos, scale * (cos * tan - sin)
    b0, b1 = scale * sin, scale * (sin * tan + cos)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    a2 = cx - a0 * cx - a1 * cy - shift_x
    b2 = cy - b0 * cx - b1 * cy - shift_y
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def random_erase(images: tf.Tensor, seed: tf.Tensor, probability: float, fill: str = "noise") -> tf.Tensor:
    """Erase one rectangle (2-25 % of the area, aspect 0.3-3.3) per image with `probability`,
    filled with uniform noise or with zeros (Fashion-MNIST's black background)."""
    batch, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    seeds = tf.random.experimental.stateless_split(seed, num=6)
    area = _uniform(seeds[0], batch, 0.02, 0.25)
    log_ratio = _uniform(seeds[1], batch, math.log(0.3), math.log(3.3))
    ratio = tf.exp(log_ratio)
    box_h = tf.minimum(tf.sqrt(area * ratio) * height, height)
    box_w = tf.minimum(tf.sqrt(area / ratio) * width, width)
    top = _uniform(seeds[2], batch, 0.0, 1.0) * (height - box_h)
    left = _uniform(seeds[3], batch, 0.0, 1.0) * (width - box_w)
    apply = _uniform(seeds[4], batch, 0.0, 1.0) < probability
    rows = tf.range(height, dtype=tf.float32)[None, :, None]
    cols = tf.range(width, dtype=tf.float32)[None, None, :]
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + box_h)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + box_w)[:, None, None])
        & apply[:, None, None]
    )
    if fill == "zero":
        return tf.where(inside[..., None], tf.zeros_like(images), images)
    noise = tf.random.stateless_uniform(tf.shape(images), seed=seeds[5])
    return tf.where(inside[..., None], noise, images)


def random_crop(images: tf.Tensor, seed: tf.Tensor, pixels: int) -> tf.Tensor:
    """Pad by `pixels` (black) and crop back to size at a random whole-pixel offset per image: the
    recipe behind every published Fashion-MNIST result above 95.5 %. A translation by integers with
    nearest-pixel sampling is exactly that crop, without materialising the padded batch."""
    batch = tf.shape(images)[0]
    offsets = tf.random.stateless_uniform([batch, 2], seed=seed, minval=-pixels, maxval=pixels + 1, dtype=tf.int32)
    dx, dy = tf.unstack(tf.cast(offsets, tf.float32), axis=1)
    ones, zeros = tf.ones_like(dx), tf.zeros_like(dx)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.stack([ones, zeros, dx, zeros, ones, dy, zeros, zeros], axis=1),
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="NEAREST",
        fill_mode="CONSTANT",
    )


def _beta(seed: tf.Tensor, alpha: float) -> tf.Tensor:
    """One draw of Beta(alpha, alpha), from two stateless gamma draws."""
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    first = tf.random.stateless_gamma([], seed=seeds[0], alpha=alpha)
    second = tf.random.stateless_gamma([], seed=seeds[1], alpha=alpha)
    total = first + second
    # For small alpha both float32 draws can underflow to 0: an even mix, never 0 / 0.
    return tf.where(total > 0, first / tf.maximum(total, 1e-30), 0.5)


def mix_batch(images: tf.Tensor, labels: tf.Tensor, seed: tf.Tensor, cfg: AugmentConfig) -> tuple[tf.Tensor, tf.Tensor]:
    """Mixup (Zhang et al. 2018) or CutMix (Yun et al. 2019) of a batch with itself reversed, on
    float images and one-hot (or smoothed) labels. With both set, each batch takes one of the two."""
    if not cfg.mixing:
        return images, labels
    seeds = tf.random.experimental.stateless_split(
        tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), 2), num=4
    )
    partner_images, partner_labels = tf.reverse(images, axis=[0]), tf.reverse(labels, axis=[0])

    def mixup():
        share = _beta(seeds[0], cfg.mixup)
        return share * images + (1 - share) * partner_images, share * labels + (1 - share) * partner_labels

    def cutmix():
        height, width = images.shape[1], images.shape[2]
        cut = tf.sqrt(1 - _beta(seeds[1], cfg.cutmix))  # side fraction of the pasted box
        box_h, box_w = tf.cast(cut * height, tf.int32), tf.cast(cut * width, tf.int32)
        centre = tf.random.stateless_uniform([2], seed=seeds[2], minval=0, maxval=1)
        top = tf.clip_by_value(tf.cast(centre[0] * height, tf.int32) - box_h // 2, 0, height - box_h)
        left = tf.clip_by_value(tf.cast(centre[1] * width, tf.int32) - box_w // 2, 0, width - box_w)
        rows, cols = tf.range(height)[:, None], tf.range(width)[None, :]
        inside = (rows >= top) & (rows < top + box_h) & (cols >= left) & (cols < left + box_w)
        share = 1 - tf.cast(box_h * box_w, tf.float32) / (height * width)  # labels follow the area
        mixed = tf.where(inside[None, :, :, None], partner_images, images)
        return mixed, share * labels + (1 - share) * partner_labels

    if not cfg.cutmix:
        return mixup()
    if not cfg.mixup:
        return cutmix()
    pick_mixup = tf.random.stateless_uniform([], seed=seeds[3]) < 0.5
    return tf.cond(pick_mixup, mixup, cutmix)


def augment_batch(images: tf.Tensor, seed: tf.Tensor, cfg: AugmentConfig) -> tf.Tensor:
    """Augment a float batch [B, H, W, C] in [0, 1]; every image gets its own random draw."""
    if not cfg.enabled:
        return images
    height, width = images.shape[1], images.shape[2]
    batch = tf.shape(images)[0]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=3)
    if cfg.crop:  # its own seed stream, so adding a crop leaves the other draws as they were
        images = random_crop(images, tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), 1), cfg.crop)
    if cfg.rotation or cfg.shear or cfg.zoom or cfg.shift:
        images = tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=affine_transforms(seeds[0], batch, height, width, cfg),
            output_shape=[height, width],
            fill_value=0.0,  # Fashion-MNIST background is black
            interpolation="BILINEAR",
            fill_mode="CONSTANT",
        )
    if cfg.horizontal_flip:
        flip = _uniform(seeds[1], batch, 0.0, 1.0) < 0.5
        images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)
    if cfg.erasing:
        images = random_erase(images, seeds[2], cfg.erasing, cfg.erasing_fill)
    return images


PREVIEW_COPIES = 5  # augmented draws shown beside each original


def preview_grid(images: np.ndarray, labels: np.ndarray, variant) -> tuple[np.ndarray, list[str]]:
    """The first image of each class, each followed by PREVIEW_COPIES augmented draws, and the titles."""
    picks = [int(np.flatnonzero(labels == label)[0]) for label in np.unique(labels)]
    originals = images[picks]
    repeated = np.repeat(originals, PREVIEW_COPIES, axis=0)
    augmented = augment_batch(tf.constant(repeated), tf.constant([variant.seed, 0]), variant.augment).numpy()
    rows, titles = [], []
    for i, index in enumerate(picks):
        rows += [originals[i : i + 1], augmented[i * PREVIEW_COPIES : (i + 1) * PREVIEW_COPIES]]
        titles += [CLASS_NAMES[labels[index]]] + ["augmented"] * PREVIEW_COPIES
    return np.concatenate(rows), titles


def write_preview(images: np.ndarray, labels: np.ndarray, variant, path: str | os.PathLike) -> None:
    """PNG of real images through the variant's augmentation (plots/augment/<variant>.png)."""
    from fmnist.core import plots

    grid, titles = preview_grid(images, labels, variant)
    status = "on" if variant.augment.enabled else "off"
    plots.image_grid(grid, titles, path, columns=PREVIEW_COPIES + 1, suptitle=f"{variant.name}: augmentation {status}")
