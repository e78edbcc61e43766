"""Ensembles as teachers: the averaged model, saved and loaded as the stages do, and a student
distilling from it."""

import numpy as np
import pytest

from fmnist.core.config import RuntimeConfig
from fmnist.core.errors import ModelFileError
from fmnist.core.io import save_keras_model
from fmnist.core.variants import StudentConfig
from fmnist.train.ensemble import average_model
from fmnist.train.loop import train_variant
from fmnist.train.models import build_model, load_model
from tests.unit.train.test_loop import tiny_data


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Three members as their train stages leave them, two of one architecture (one model name)."""
    import keras

    keras.utils.set_random_seed(7)
    folder = tmp_path_factory.mktemp("members")
    paths = []
    for index, architecture in enumerate(["mlp_a", "cnn_basic", "cnn_basic"]):
        paths.append(folder / f"m{index}" / "model.keras")
        paths[-1].parent.mkdir()
        save_keras_model(build_model(architecture), paths[-1])
    return paths


def test_the_ensemble_predicts_the_members_mean_and_round_trips(members, fixture_train, tmp_path):
    images = fixture_train[0][:64].astype(np.float32)[..., None] / 255
    expected = np.mean([load_model(path).predict(images, verbose=0) for path in members], axis=0)
    ensemble = average_model([load_model(path) for path in members], "trio")
    assert ensemble.name == "trio" and ensemble.output_shape == (None, 10)
    np.testing.assert_allclose(ensemble.predict(images, verbose=0), expected, atol=1e-6)
    save_keras_model(ensemble, tmp_path / "model.keras")
    np.testing.assert_allclose(load_model(tmp_path).predict(images, verbose=0), expected, atol=1e-6)


def test_members_with_other_inputs_are_refused(members):
    import keras

    inputs = keras.Input((14, 14, 1))
    other = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    with pytest.raises(ModelFileError, match=r"ensemble odd: the members take different inputs"):
        average_model([load_model(members[0]), other], "odd")


def test_a_student_distils_from_an_ensemble(members, fixture_train, tmp_path):
    ensemble = average_model([load_model(path) for path in members], "trio")
    save_keras_model(ensemble, tmp_path / "model.keras")
    settings = {"architecture": "mlp_a", "epochs": 1, "batch_size": 32, "learning_rate": 0.003}
    student = StudentConfig(name="kd", **settings, teacher="trio", distill=0.5)
    result = train_variant(student, tiny_data(fixture_train), RuntimeConfig(), verbose=0, teacher_path=tmp_path)
    assert result.model.name == "kd" and result.metrics["params"] == 101770  # the student alone
    assert 0 < result.metrics["best_val_accuracy"] <= 1
