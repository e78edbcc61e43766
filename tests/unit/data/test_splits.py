import numpy as np
import pytest

from fmnist.data.splits import describe, duplicate_counts, scale, stratified_split


def test_scale_maps_uint8_to_unit_floats_with_a_channel():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    scaled = scale(images)
    assert scaled.shape == (1, 2, 2, 1) and scaled.dtype == np.float32
    assert np.allclose(scaled[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]])


def test_stratified_split_is_seeded_and_stratified(fixture_train):
    _, labels = fixture_train
    train_a, val_a = stratified_split(labels, 0.2, seed=1)
    train_b, val_b = stratified_split(labels, 0.2, seed=1)
    _, val_c = stratified_split(labels, 0.2, seed=2)
    np.testing.assert_array_equal(val_a, val_b)
    np.testing.assert_array_equal(train_a, train_b)
    assert not np.array_equal(val_a, val_c)
    assert len(val_a) == 100 and not set(train_a) & set(val_a)
    assert np.bincount(labels[val_a]).tolist() == [10] * 10


def test_duplicate_counts():
    a = np.zeros((4, 28, 28), np.uint8)
    a[1, 0, 0] = 1
    a[3, 0, 0] = 1  # rows 0/2 and 1/3 are duplicates
    test = np.stack([a[0], np.full((28, 28), 7, np.uint8)])
    assert duplicate_counts(a, test) == {"within_train": 2, "test_in_train": 1}


def test_describe_counts_classes_pixels_and_duplicates():
    images = np.zeros((3, 28, 28), np.uint8)
    images[2] = 255
    summary = describe({"train": (images, np.array([0, 0, 9])), "test": (images[:1], np.array([4]))})
    assert summary["train"]["rows"] == 3 and summary["train"]["class_counts"]["T-shirt/top"] == 2
    assert summary["train"]["class_counts"]["Ankle boot"] == 1 and summary["test"]["class_counts"]["Coat"] == 1
    assert summary["train"]["pixel_mean"] == pytest.approx(85.0) and summary["test"]["pixel_std"] == 0.0
    assert summary["duplicates"] == {"within_train": 1, "test_in_train": 1}
