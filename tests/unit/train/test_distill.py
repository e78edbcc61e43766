"""Students: fine-tuning from a teacher's weights and knowledge distillation."""

import numpy as np
import pytest

from fmnist.core.config import RuntimeConfig
from fmnist.core.io import save_keras_model
from fmnist.core.variants import StudentConfig, VariantConfig
from fmnist.train.distill import ProbabilityDistillation
from fmnist.train.loop import train_variant
from tests.unit.train.test_loop import tiny_data

BASE = {"architecture": "mlp_a", "epochs": 2, "batch_size": 32, "learning_rate": 0.003}


@pytest.fixture(scope="module")
def teacher(fixture_train, tmp_path_factory):
    """A trained mlp_a on disk, as the teacher's stage leaves it. In bf16, as `precision: auto`
    trains the champion on AMX CPUs: a float32 student must still learn from it."""
    teacher = VariantConfig(name="teacher", **BASE, precision="mixed_bfloat16")
    result = train_variant(teacher, tiny_data(fixture_train), RuntimeConfig(), verbose=0)
    path = tmp_path_factory.mktemp("teacher") / "model.keras"
    save_keras_model(result.model, path)
    return path, result


def test_probability_distillation_is_zero_for_equal_predictions_and_grows_apart():
    import keras

    loss = ProbabilityDistillation(temperature=4.0, loss=keras.losses.KLDivergence())
    same = np.array([[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]], dtype=np.float32)  # a 0 must not give NaN
    other = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]], dtype=np.float32)
    assert float(loss.compute_loss(same, same)) == pytest.approx(0.0, abs=1e-6)
    apart = float(loss.compute_loss(same, other))
    assert np.isfinite(apart) and apart > 0.1
    # Softening: at temperature 1 the same predictions are further apart before the T² factor.
    sharp = float(ProbabilityDistillation(temperature=1.0, loss=keras.losses.KLDivergence()).compute_loss(same, other))
    assert sharp > apart / 16


def test_fine_tuning_starts_from_the_teacher(fixture_train, teacher):
    path, trained = teacher
    data = tiny_data(fixture_train)
    # Zero epochs of change: a near-zero learning rate keeps the teacher's weights and accuracy.
    settings = {**BASE, "learning_rate": 1e-12, "epochs": 1}
    student = StudentConfig(name="ft", **settings, teacher="t", init_from="teacher")
    result = train_variant(student, data, RuntimeConfig(), verbose=0, teacher_path=path)
    for mine, theirs in zip(result.model.get_weights(), trained.model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
    scratch = train_variant(VariantConfig(name="s", **{**BASE, "epochs": 1}), data, RuntimeConfig(), verbose=0)
    assert result.metrics["best_val_accuracy"] > scratch.metrics["best_val_accuracy"]


def test_distilled_student_learns_is_reproducible_and_saves_alone(fixture_train, teacher, tmp_path):
    path, _ = teacher
    data = tiny_data(fixture_train)
    student = StudentConfig(name="kd", **BASE, teacher="t", distill=0.7, temperature=3.0)
    runs = [train_variant(student, data, RuntimeConfig(), verbose=0, teacher_path=path) for _ in range(2)]
    first = runs[0]
    assert first.metrics["best_val_accuracy"] > 0.3 and first.metrics["params"] == 101770
    assert first.model.name == "kd"  # the student, not the distiller around it
    save_keras_model(first.model, tmp_path / "model.keras")  # no teacher inside the saved model
    for a, b in zip(first.model.get_weights(), runs[1].model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The distillation term pulls the student towards the teacher: it differs from labels alone.
    alone = train_variant(StudentConfig(name="kd", **BASE, teacher="t", distill=0.0, init_from="scratch"), data,
                          RuntimeConfig(), verbose=0, teacher_path=path)  # fmt: skip
    assert any(not np.allclose(a, b) for a, b in zip(first.model.get_weights(), alone.model.get_weights()))
