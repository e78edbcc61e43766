"""The validation split and the dataset description (rows, class counts, pixel statistics,
exact duplicates) that the ingest stage writes to metrics/data.json."""

from __future__ import annotations

import numpy as np

from fmnist import CLASS_NAMES, NUM_CLASSES


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 images (n, 28, 28) -> float32 in [0, 1] with a channel axis (n, 28, 28, 1)."""
    return (images.astype(np.float32) / 255.0)[..., None]


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split: (train indices, validation indices), each sorted."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    train_idx, val_idx = train_test_split(indices, test_size=val_fraction, random_state=seed, stratify=labels)
    return np.sort(train_idx), np.sort(val_idx)


def duplicate_counts(train: np.ndarray, test: np.ndarray) -> dict[str, int]:
    """Exact duplicate images inside train, and test images that also appear in train."""

    def keys(images: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(images.reshape(len(images), -1))
        return flat.view(np.dtype((np.void, flat.shape[1]))).ravel()

    train_keys, test_keys = keys(train), keys(test)
    unique_train = np.unique(train_keys)
    return {
        "within_train": int(len(train_keys) - len(unique_train)),
        "test_in_train": int(np.isin(test_keys, unique_train).sum()),
    }


def describe(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    """Rows, per-class counts and pixel statistics per split, plus exact duplicates."""
    summary: dict = {}
    for split, (images, labels) in splits.items():
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        summary[split] = {
            "rows": len(labels),
            "class_counts": {name: int(c) for name, c in zip(CLASS_NAMES, counts, strict=True)},
            "pixel_mean": round(float(images.mean()), 4),
            "pixel_std": round(float(images.std()), 4),
        }
    summary["duplicates"] = duplicate_counts(splits["train"][0], splits["test"][0])
    return summary
