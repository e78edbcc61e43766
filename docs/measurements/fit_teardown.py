"""Timeline of one training run: when fit is called, each epoch ends, the callbacks' on_train_end
run, and fit returns (wall seconds since start, then process CPU seconds). After on_train_end a
thread samples the main thread's stack, to show where a pause sits.

    python docs/measurements/fit_teardown.py VARIANT EPOCHS           # the code as committed
    NO_AUTOTUNE=1 python docs/measurements/fit_teardown.py VARIANT EPOCHS   # tf.data autotuner off
    AUTOTUNE=1 python docs/measurements/fit_teardown.py VARIANT EPOCHS      # tf.data autotuner on

fit_teardown_amd_zen4.txt was run at commit a38f725, whose training pipeline had the autotuner
on. Since a6ca945 it is off in the code: AUTOTUNE=1 turns it back on (autotune_ab.sh).
"""
import sys, time, json
from pathlib import Path
import keras
from fmnist.core.config import load_params
from fmnist.core.io import load_npz
from fmnist.train.loop import train_variant
import dataclasses

T0 = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, round(time.perf_counter() - T0, 2), round(time.process_time(), 2)))

class First(keras.callbacks.Callback):
    def on_train_begin(self, logs=None): mark("train_begin(first cb)")
    def on_epoch_begin(self, e, logs=None): mark(f"epoch_begin {e}")
    def on_train_end(self, logs=None): mark("train_end(first cb)")
class Last(keras.callbacks.Callback):
    def on_epoch_end(self, e, logs=None): mark(f"epoch_end(last cb) {e}")
    def on_train_end(self, logs=None):
        mark("train_end(last cb)")
        import threading, traceback
        main = threading.main_thread().ident
        def sample():
            seen = {}
            for _ in range(60):
                time.sleep(0.25)
                f = sys._current_frames().get(main)
                if f is None: return
                key = "".join(traceback.format_stack(f)[-6:])
                if key not in seen:
                    seen[key] = 1; print(f"--- t={time.perf_counter()-T0:.2f}\n{key}", flush=True)
        threading.Thread(target=sample, daemon=True).start()

orig = keras.Model.fit
def fit(self, *a, callbacks=None, **k):
    mark("fit called")
    r = orig(self, *a, callbacks=[First(), *callbacks, Last()], **k)
    mark("fit returned")
    return r
keras.Model.fit = fit

name, epochs = sys.argv[1], int(sys.argv[2])
import os
if os.environ.get("NO_AUTOTUNE") or os.environ.get("AUTOTUNE"):
    import tensorflow as tf, fmnist.train.loop as ft
    orig_td = ft.train_dataset
    def td(*a, **k):
        ds, steps = orig_td(*a, **k)
        o = tf.data.Options(); o.autotune.enabled = bool(os.environ.get("AUTOTUNE"))
        return ds.with_options(o), steps
    ft.train_dataset = td
params = load_params(Path("params.yaml"))
v = dataclasses.replace(params.variants[name], epochs=epochs)
tr = load_npz(Path("data/processed/train.npz"), ("x", "y")); va = load_npz(Path("data/processed/val.npz"), ("x", "y"))
data = {"x_train": tr["x"], "y_train": tr["y"], "x_val": va["x"], "y_val": va["y"]}
res = train_variant(v, data, params.runtime, live_dir=Path(f"/tmp/dt/live_{name}"), verbose=0)
mark("train_variant returned")
print(json.dumps(res.metrics))
for m in marks: print(*m)
