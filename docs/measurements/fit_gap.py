"""Where the time goes between the last epoch's end and `model.fit` returning (issue: dead time).

Run: python docs/measurements/fit_gap.py VARIANT [EPOCHS]  (needs data/processed from dvc repro)
Times every callback hook of the last epoch and of on_train_end, and what follows them.
"""

import sys
import tempfile
import time
from pathlib import Path

import fmnist  # noqa: F401  sets the TensorFlow environment first
import keras

from fmnist.core.config import load_params
from fmnist.core.io import load_npz
from fmnist.train.loop import train_variant

name = sys.argv[1]
params = load_params("params.yaml")
variant = params.variant(name)
if len(sys.argv) > 2:
    import dataclasses

    variant = dataclasses.replace(variant, epochs=int(sys.argv[2]))
marks: list[tuple[str, float]] = []
start = time.perf_counter()


def timed(cls, method):
    original = getattr(cls, method)

    def wrapper(self, *args, **kwargs):
        marks.append((f"{cls.__name__}.{method} begins", time.perf_counter() - start))
        result = original(self, *args, **kwargs)
        marks.append((f"{cls.__name__}.{method} ends", time.perf_counter() - start))
        return result

    setattr(cls, method, wrapper)


for method in ("on_epoch_end", "on_train_end"):
    timed(keras.callbacks.CallbackList, method)
from dvclive.keras import DVCLiveCallback  # noqa: E402

for method in ("on_epoch_end", "on_train_end"):
    timed(DVCLiveCallback, method)

train = load_npz("data/processed/train.npz", ("x", "y"))
val = load_npz("data/processed/val.npz", ("x", "y"))
data = {"x_train": train["x"], "y_train": train["y"], "x_val": val["x"], "y_val": val["y"]}
result = train_variant(variant, data, params.runtime, live_dir=Path(tempfile.mkdtemp()), verbose=0)
returned = time.perf_counter() - start
last_epoch = max(i for i, (label, _) in enumerate(marks) if label == "CallbackList.on_epoch_end begins")
for label, seconds in marks[last_epoch:]:
    print(f"{seconds:9.2f} s  {label}")
print(f"{returned:9.2f} s  train_variant returned (train_seconds {result.metrics['train_seconds']})")
