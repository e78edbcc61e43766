import numpy as np
import pytest
import tensorflow as tf

from fmnist.core.config import AugmentConfig
from fmnist.train.augment import augment_batch

FULL = AugmentConfig(rotation=15, shift=0.1, zoom=0.1, shear=10, horizontal_flip=True, erasing=0.5)


@pytest.fixture(scope="module")
def batch(fixture_train):
    images = fixture_train[0][:64].astype(np.float32) / 255.0
    return tf.constant(images[..., None])


def test_keeps_shape_dtype_and_range(batch):
    out = augment_batch(batch, tf.constant([1, 2]), FULL).numpy()
    assert out.shape == batch.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_each_sample_gets_its_own_transform(batch):
    same = tf.repeat(batch[:1], 16, axis=0)
    out = augment_batch(same, tf.constant([3, 4]), AugmentConfig(rotation=15, shift=0.1)).numpy()
    distinct = {out[i].tobytes() for i in range(16)}
    assert len(distinct) == 16


def test_seeded_and_reproducible(batch):
    a = augment_batch(batch, tf.constant([5, 6]), FULL).numpy()
    b = augment_batch(batch, tf.constant([5, 6]), FULL).numpy()
    c = augment_batch(batch, tf.constant([5, 7]), FULL).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_disabled_is_identity(batch):
    out = augment_batch(batch, tf.constant([1, 1]), AugmentConfig())
    np.testing.assert_array_equal(out.numpy(), batch.numpy())


def test_flip_only_mirrors_some_images(batch):
    out = augment_batch(batch, tf.constant([9, 9]), AugmentConfig(horizontal_flip=True)).numpy()
    images = batch.numpy()
    flipped = [np.array_equal(out[i], images[i, :, ::-1]) for i in range(len(out))]
    kept = [np.array_equal(out[i], images[i]) for i in range(len(out))]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 10 < sum(flipped) < 54


def test_small_shift_moves_content_without_losing_it(batch):
    out = augment_batch(batch, tf.constant([2, 2]), AugmentConfig(shift=0.05)).numpy()
    # Shifts of at most 1.4 px keep nearly all the ink on the canvas.
    ratio = out.sum(axis=(1, 2, 3)) / batch.numpy().sum(axis=(1, 2, 3))
    assert np.all(ratio > 0.9) and np.all(ratio < 1.1)
    assert not np.array_equal(out, batch.numpy())
