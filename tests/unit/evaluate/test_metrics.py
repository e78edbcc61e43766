import numpy as np
import pytest

from fmnist import CLASS_NAMES
from fmnist.core import plots
from fmnist.evaluate.metrics import (
    classification_metrics,
    confusion_matrix,
    cross_entropy,
    evaluate_model,
    evaluate_probabilities,
    evaluation_figures,
    greedy_ensemble,
    predict_probabilities,
    shifted,
    split_headline,
)


def test_confusion_matrix_counts_actual_by_predicted():
    matrix = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), num_classes=3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def labels_of(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) label arrays whose confusion matrix is `matrix`."""
    actual, predicted = np.nonzero(matrix)
    counts = matrix[actual, predicted]
    return np.repeat(actual, counts), np.repeat(predicted, counts)


def test_metrics_on_a_known_confusion_matrix():
    matrix = np.zeros((10, 10), dtype=int)
    matrix[0, 0], matrix[0, 1] = 8, 2  # class 0: 8 right, 2 called class 1
    matrix[1, 1] = 10
    for label in range(2, 10):
        matrix[label, label] = 10
    assert (confusion_matrix(*labels_of(matrix)) == matrix).all()
    result = classification_metrics(*labels_of(matrix))
    assert result["accuracy"] == pytest.approx(98 / 100)
    assert result["per_class"][CLASS_NAMES[0]]["recall"] == pytest.approx(0.8)
    assert result["per_class"][CLASS_NAMES[0]]["precision"] == pytest.approx(1.0)
    assert result["per_class"][CLASS_NAMES[1]]["precision"] == pytest.approx(10 / 12)
    f1_0 = 2 * 0.8 / 1.8
    f1_1 = 2 * (10 / 12) / (10 / 12 + 1)
    assert result["macro_f1"] == pytest.approx((f1_0 + f1_1 + 8) / 10)
    assert result["per_class"][CLASS_NAMES[0]]["support"] == 10


def test_metrics_when_a_class_is_never_predicted():
    matrix = np.zeros((10, 10), dtype=int)
    matrix[:, 0] = 5  # everything predicted as class 0
    assert (confusion_matrix(*labels_of(matrix)) == matrix).all()
    result = classification_metrics(*labels_of(matrix))
    assert result["accuracy"] == pytest.approx(0.1)
    assert result["per_class"][CLASS_NAMES[3]]["precision"] == 0.0
    assert result["per_class"][CLASS_NAMES[0]]["recall"] == 1.0


def test_evaluate_probabilities_and_loss():
    probabilities = np.full((4, 10), 0.05)
    probabilities[np.arange(4), [0, 1, 2, 4]] = 0.55
    labels = np.array([0, 1, 2, 3])
    result = evaluate_probabilities(probabilities, labels)
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["loss"] == pytest.approx(cross_entropy(probabilities, labels))
    assert result["loss"] == pytest.approx(-(3 * np.log(0.55) + np.log(0.05)) / 4, rel=1e-5)


def test_loss_clips_a_confident_miss_instead_of_going_infinite():
    probabilities = np.eye(10, dtype=np.float32)[[1]]  # all mass on the wrong class
    assert 15 < cross_entropy(probabilities, np.array([0])) < 17  # -log(float32 eps), not inf


def test_greedy_ensemble_uses_validation_only():
    labels = np.array([0, 1, 2, 3])
    good = np.eye(10)[[0, 1, 2, 9]] * 0.6 + 0.04
    complementary = np.eye(10)[[9, 9, 9, 3]] * 0.5 + 0.05
    bad = np.eye(10)[[5, 5, 5, 5]]
    members = greedy_ensemble({"good": good, "comp": complementary, "bad": bad}, labels, max_members=3)
    assert members[0] == "good"
    assert "bad" not in members
    assert greedy_ensemble({"good": good}, labels, max_members=1) == ["good"]


class _Mirror:
    """A stand-in model whose prediction depends on which way the image faces."""

    def predict(self, images, batch_size, verbose):
        left = images[:, :, :14].sum(axis=(1, 2, 3))
        right = images[:, :, 14:].sum(axis=(1, 2, 3))
        probabilities = np.zeros((len(images), 10))
        probabilities[:, 0] = left > right
        probabilities[:, 1] = left <= right
        return probabilities


def test_predict_probabilities_with_flip_tta_averages_the_mirror():
    from fmnist.evaluate.metrics import predict_probabilities

    images = np.zeros((2, 28, 28, 1), np.float32)
    images[0, :, :5] = 1.0  # ink on the left
    plain = predict_probabilities(_Mirror(), images, 8)
    assert plain[0, 0] == 1.0 and plain[1, 1] == 1.0
    averaged = predict_probabilities(_Mirror(), images, 8, tta_flip=True)
    assert averaged[0, 0] == 0.5 and averaged[0, 1] == 0.5
    assert averaged.dtype == np.float32


def test_shifted_moves_images_diagonally_with_a_black_border():
    images = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4) + 1
    down = shifted(images, 1)
    assert np.array_equal(down[:, 1:, 1:], images[:, :-1, :-1])
    assert not down[:, 0, :].any() and not down[:, :, 0].any()
    up = shifted(images, -2)
    assert np.array_equal(up[:, :-2, :-2], images[:, 2:, 2:])
    assert not up[:, -2:, :].any() and not up[:, :, -2:].any()
    assert np.array_equal(shifted(images, 0), images)


class _InkAtTopLeft:
    """predict(): class 0 when the top-left pixel has ink, else class 1."""

    def predict(self, images, batch_size, verbose):
        return np.eye(10, dtype=np.float32)[np.where(images[:, 0, 0] > 0, 0, 1)]


def test_predict_probabilities_with_shift_tta_weighs_the_moved_views_a_quarter():
    images = np.zeros((1, 28, 28), np.float32)
    images[0, 0, 0] = 1.0  # ink only at the corner: moving down-right loses it, up-left keeps none
    probabilities = predict_probabilities(_InkAtTopLeft(), images, 8, tta_shift=1)
    assert probabilities[0, 0] == 0.5 and probabilities[0, 1] == 0.5  # 1/2 plain, 1/4 + 1/4 moved
    images[0, :2, :2] = 1.0  # the up-left view now sees ink at the corner too
    probabilities = predict_probabilities(_InkAtTopLeft(), images, 8, tta_shift=1)
    assert probabilities[0, 0] == 0.75 and probabilities[0, 1] == 0.25


class MirrorSensitiveModel:
    """predict(): class 0 for images brighter on the left, class 1 otherwise, as probabilities."""

    def predict(self, images, batch_size, verbose):
        left = images[:, :, :14].mean(axis=(1, 2)) > images[:, :, 14:].mean(axis=(1, 2))
        return np.eye(10, dtype=np.float32)[np.where(left, 0, 1)]


def test_evaluate_model_scores_test_and_validation_with_optional_flip():
    images = np.zeros((4, 28, 28), np.float32)
    images[:2, :, :14] = 1.0  # left-bright: predicted 0
    images[2:, :, 14:] = 1.0  # right-bright: predicted 1
    split = {"x": images, "y": np.array([0, 0, 1, 0])}
    metrics, val_probabilities, test_probabilities = evaluate_model(MirrorSensitiveModel(), split, split, 2, False)
    assert metrics["accuracy"] == 0.75 and metrics["val_accuracy"] == 0.75 and metrics["tta_flip"] is False
    assert val_probabilities.shape == test_probabilities.shape == (4, 10)
    flipped, _, probabilities = evaluate_model(MirrorSensitiveModel(), split, split, 2, True)
    assert flipped["tta_flip"] is True and flipped["tta_shift"] == 0
    assert np.allclose(probabilities[:, :2], 0.5)  # each image and its mirror disagree


def test_evaluation_figures_title_the_confusion_with_test_accuracy(monkeypatch, tmp_path):
    y = np.array([0, 1, 2, 3])
    probabilities = np.eye(10)[[0, 1, 2, 0]]  # three of four right
    titles = []
    monkeypatch.setattr(plots, "confusion", lambda matrix, path, title: titles.append(title))
    evaluation_figures(np.zeros((4, 28, 28)), y, probabilities, np.eye(10), tmp_path, "v", 4)
    assert titles == ["v: test accuracy 75.00%"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["misclassified.png", "predictions.png"]


def test_the_headline_is_a_few_columns_and_the_details_keep_the_rest():
    scores = {"accuracy": 0.9, "val_accuracy": 0.91, "macro_f1": 0.89, "loss": 0.3, "macro_recall": 0.9}
    scores["per_class"] = {"Coat": {"f1": 0.8}}
    training = {"train_seconds": 125.0, "epochs_run": 4, "cpu": "AMD EPYC", "images_per_second": 1e4}
    headline, details = split_headline(scores, training)
    assert headline == {
        "accuracy": 0.9, "val_accuracy": 0.91, "macro_f1": 0.89, "loss": 0.3, "train_minutes": 2.08, "epochs_run": 4
    }  # fmt: skip
    assert details == {"macro_recall": 0.9, "per_class": {"Coat": {"f1": 0.8}}}
    # A tune trial its pruner stopped says so in the experiment table.
    pruned, _ = split_headline(scores, {**training, "pruned_at_epoch": 3})
    assert pruned["pruned_at_epoch"] == 3
