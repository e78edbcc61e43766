import json

import numpy as np
import pytest

from fmnist.core.config import RuntimeConfig
from fmnist.core.errors import FmnistError
from fmnist.core.variants import VariantConfig
from fmnist.train import trial as trial_module
from fmnist.train.loop import train_variant


def test_without_the_variable_training_knows_no_study(monkeypatch):
    monkeypatch.delenv(trial_module.ENV, raising=False)
    assert trial_module.trial_callback("mlp_a", 5) is None


def test_a_malformed_variable_is_one_clear_error(monkeypatch):
    monkeypatch.setenv(trial_module.ENV, "{not json")
    with pytest.raises(FmnistError, match="FMNIST_TUNE_TRIAL: expected JSON with storage"):
        trial_module.trial_callback("mlp_a", 5)


def test_a_trial_reports_each_epoch_and_a_weak_one_is_pruned(fixture_train, tmp_path, monkeypatch):
    optuna = pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    strong = {step: 0.999 for step in range(1, 6)}
    for _ in range(3):  # finished trials far above anything the fixture reaches
        study.add_trial(optuna.trial.create_trial(value=0.999, intermediate_values=strong))
    trial = study.ask()
    info = {"storage": storage, "study": "s", "trial_id": trial._trial_id, "variant": "t", "pruner": "median"}
    monkeypatch.setenv(trial_module.ENV, json.dumps(info))
    images, labels = fixture_train
    x = images.astype(np.float32) / 255
    data = {"x_train": x[:400], "y_train": labels[:400], "x_val": x[400:], "y_val": labels[400:]}
    variant = VariantConfig(name="t", architecture="mlp_a", epochs=5, batch_size=100)
    result = train_variant(variant, data, RuntimeConfig(), verbose=0)
    assert result.metrics["pruned_at_epoch"] == 3  # the median pruner judges from epoch 3 on
    reported = study.trials[-1].intermediate_values
    assert sorted(reported) == [1, 2, 3] and all(0 < value < 1 for value in reported.values())
