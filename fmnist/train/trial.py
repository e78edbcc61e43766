"""The link from a train stage to a trial of an Optuna study (`fmnist tune`).

`fmnist tune` runs each trial as a DVC experiment with FMNIST_TUNE_TRIAL set to JSON
`{"storage": URL, "study": NAME, "trial_id": ID, "variant": NAME, "pruner": NAME}`. The train stage of that variant
then reports each epoch's validation accuracy to the trial and ends training when the study's
pruner says so; the metrics record `pruned_at_epoch`. Without the variable nothing changes and
Optuna is not imported. The variable is not a DVC dependency on purpose: a pruned trial's outputs
are what its params trained up to that epoch, and a later `dvc exp run` of the same params
(without the variable) trains in full.
"""

from __future__ import annotations

import json
import os

import keras

from fmnist.core.errors import FmnistError

ENV = "FMNIST_TUNE_TRIAL"


PRUNERS = ("median", "hyperband", "none")


def make_pruner(name: str, epochs: int):
    """Optuna's pruner `name`, in epochs. The median pruner waits for 3 finished trials and judges
    from epoch 3 on (one-cycle runs start slow); Hyperband's brackets span 2 to `epochs` epochs."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=2, max_resource=max(epochs, 3))
    if name == "none":
        return optuna.pruners.NopPruner()
    raise FmnistError(f"pruner: unknown {name!r}; expected one of {list(PRUNERS)}")


class ReportToTrial(keras.callbacks.Callback):
    """Report `val_accuracy` per epoch (Optuna's intermediate values) and stop when pruned."""

    def __init__(self, trial) -> None:
        super().__init__()
        self.trial, self.pruned_at_epoch = trial, 0

    def on_epoch_end(self, epoch, logs=None):
        self.trial.report(float((logs or {}).get("val_accuracy", 0.0)), epoch + 1)
        if self.trial.should_prune():
            self.pruned_at_epoch = epoch + 1
            self.model.stop_training = True


def trial_callback(variant: str, epochs: int) -> ReportToTrial | None:
    """The callback for the trial named in FMNIST_TUNE_TRIAL, if it tunes `variant`."""
    raw = os.environ.get(ENV)
    if not raw:
        return None
    try:
        info = json.loads(raw)
        storage, study_name, trial_id, tuned = info["storage"], info["study"], int(info["trial_id"]), info["variant"]
        pruner = info.get("pruner", "median")
    except (ValueError, KeyError, TypeError):
        raise FmnistError(f"{ENV}: expected JSON with storage, study, trial_id and variant, got {raw!r}") from None
    if tuned != variant:
        return None
    import optuna

    study = optuna.load_study(study_name=study_name, storage=storage, pruner=make_pruner(pruner, epochs))
    return ReportToTrial(optuna.trial.Trial(study, trial_id))
