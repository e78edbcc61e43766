import numpy as np
import pytest
import tensorflow as tf

from fmnist.core.variants import AugmentConfig
from fmnist.train.augment import augment_batch, mix_batch

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


def test_erasing_fills_one_box_with_noise_or_zeros_in_the_same_places(batch):
    images = batch.numpy() + 0.5  # no black pixels: every zero below is an erased one
    noise = augment_batch(tf.constant(images), tf.constant([2, 3]), AugmentConfig(erasing=1.0)).numpy()
    zero = augment_batch(tf.constant(images), tf.constant([2, 3]), AugmentConfig(erasing=1.0, erasing_fill="zero"))
    erased = zero.numpy() == 0
    assert erased.reshape(len(images), -1).any(axis=1).all()  # probability 1: every image has a box
    np.testing.assert_array_equal(zero.numpy()[~erased], images[~erased])
    np.testing.assert_array_equal(erased, noise != images)  # the same boxes, other fill
    assert noise[erased].std() > 0.2  # uniform noise: sd 0.29


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


def _padded_crops(image: np.ndarray, pixels: int) -> list[np.ndarray]:
    """Every crop of `image` padded by `pixels` with black: what a random crop may return."""
    height, width = image.shape[:2]
    padded = np.pad(image, ((pixels, pixels), (pixels, pixels), (0, 0)))
    return [padded[y : y + height, x : x + width] for y in range(2 * pixels + 1) for x in range(2 * pixels + 1)]


def test_crop_moves_each_image_by_whole_pixels_within_the_padding(batch):
    out = augment_batch(batch, tf.constant([4, 1]), AugmentConfig(crop=2)).numpy()
    images = batch.numpy()
    offsets = []
    for original, cropped in zip(images, out, strict=True):
        matches = [i for i, crop in enumerate(_padded_crops(original, 2)) if np.array_equal(crop, cropped)]
        assert matches, "not a whole-pixel crop of the padded image"
        offsets.append(matches[0])
    assert len(set(offsets)) > 8  # per image, not one offset for the batch


def test_mixup_mixes_images_and_labels_with_one_share(batch):
    labels = tf.one_hot(tf.range(64) % 10, 10)
    images, targets = mix_batch(batch, labels, tf.constant([1, 3]), AugmentConfig(mixup=0.4))
    partner = batch.numpy()[::-1]
    share = float(targets.numpy()[0, 0])  # class 0 of the first image, partner class 3 (63 % 10)
    assert 0 < share < 1
    np.testing.assert_allclose(images.numpy(), share * batch.numpy() + (1 - share) * partner, atol=1e-6)
    np.testing.assert_allclose(targets.numpy().sum(axis=1), 1.0, atol=1e-6)


def test_cutmix_pastes_one_box_and_weights_labels_by_its_area(batch):
    labels = tf.one_hot(tf.range(64) % 10, 10)
    images, targets = mix_batch(batch, labels, tf.constant([2, 5]), AugmentConfig(cutmix=1.0))
    images, original, partner = images.numpy(), batch.numpy(), batch.numpy()[::-1]
    pasted = (images != original) & (images == partner)
    assert pasted.any()
    box = np.any(images[..., 0] != original[..., 0], axis=0)  # pixels changed in some image
    rows, cols = np.nonzero(box)
    area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1) / (28 * 28)
    share = float(targets.numpy()[0, 0])
    assert share == pytest.approx(1 - area, abs=0.05)  # the box may reach beyond the changed pixels


def test_mixing_is_off_by_default_and_seeded(batch):
    labels = tf.one_hot(tf.range(64) % 10, 10)
    same_images, same_labels = mix_batch(batch, labels, tf.constant([1, 1]), AugmentConfig(shift=0.1))
    assert same_images is batch and same_labels is labels
    both = AugmentConfig(mixup=0.4, cutmix=1.0)
    first = mix_batch(batch, labels, tf.constant([7, 7]), both)
    again = mix_batch(batch, labels, tf.constant([7, 7]), both)
    np.testing.assert_array_equal(first[0].numpy(), again[0].numpy())


def test_tiny_mixing_alphas_never_divide_zero_by_zero(batch):
    """Beta(alpha, alpha) from two gamma draws: for alpha near 0 both underflow to 0 in float32."""
    labels = tf.one_hot(tf.range(64) % 10, 10)
    for step in range(20):
        images, targets = mix_batch(batch, labels, tf.constant([3, step]), AugmentConfig(mixup=0.001, cutmix=0.001))
        assert np.isfinite(images.numpy()).all() and np.isfinite(targets.numpy()).all()
