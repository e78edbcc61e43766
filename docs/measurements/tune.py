"""Tuning harness: train one variant from params.yaml with overrides; report val/test and time.

Retired: `fmnist tune` (an Optuna study of params.yaml's tune: space, each trial a DVC
experiment) replaces it. Kept as the trace of tune_results.jsonl, the tuning log's earlier rows.

usage: python tune.py VARIANT key=value ... [--steps N]  (--steps: throughput only)
"""
import json, sys, time, yaml
import os, pathlib
ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
import numpy as np
from fmnist.core.config import parse_params
from fmnist.core.io import load_npz

import os
for a in sys.argv[1:]:
    if a.startswith("@"):
        k, val = a[1:].split("=", 1)
        os.environ[k] = val
args = [a for a in sys.argv[1:] if not a.startswith("--") and not a.startswith("@")]
steps = int(next((a.split("=")[1] for a in sys.argv[1:] if a.startswith("--steps=")), 0))
name, overrides = args[0], args[1:]
raw = yaml.safe_load(open(ROOT / "params.yaml"))
for item in overrides:
    key, value = item.split("=", 1)
    node = raw["variants"][name]
    parts = key.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = yaml.safe_load(value)
params = parse_params(raw)
v = params.variant(name)
from fmnist.train.loop import train_variant, train_dataset, configure_runtime, make_optimizer
from fmnist.evaluate.metrics import predict_probabilities
from fmnist.train.models import build_model
import keras
d = str(ROOT / "data/processed") + "/"
tr, va, te = (load_npz(d + f"{s}.npz", ("x", "y")) for s in ("train", "val", "test"))
import os
if os.environ.get("PRECISION"):
    import keras as _k
    _k.mixed_precision.set_global_policy(os.environ["PRECISION"])
if os.environ.get("INTER"):
    import tensorflow as tf
    tf.config.threading.set_inter_op_parallelism_threads(int(os.environ["INTER"]))
if steps:
    configure_runtime(params.runtime, v.seed, v.precision)
    model = build_model(v.architecture, v.model, name=v.name)
    ds, spe = train_dataset(tr["x"], tr["y"], v)
    model.compile(optimizer=make_optimizer(v, spe), loss="categorical_crossentropy", jit_compile=False,
                  steps_per_execution=int(os.environ.get("SPE", "1")))
    it = iter(ds)
    model.fit(ds, steps_per_epoch=20, epochs=1, verbose=0)
    t = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    s = time.perf_counter() - t
    from fmnist.core.system import cpu_model
    import keras as _k
    # precision: the policy that ran (PRECISION env or the variant's own), recorded since 2026-11-23
    print(json.dumps({"variant": name, "overrides": overrides, "env": {k: os.environ.get(k) for k in ("SPE", "INTER")},
                      "precision": _k.mixed_precision.global_policy().name, "cpu": cpu_model(),
                      "img_s": round(steps * v.batch_size / s, 1)}))
    sys.exit()
data = {"x_train": tr["x"], "y_train": tr["y"], "x_val": va["x"], "y_val": va["y"]}
r = train_variant(v, data, params.runtime, verbose=2)
tta = v.augment.horizontal_flip
p = predict_probabilities(r.model, te["x"], 1024, tta_flip=tta)
pv = predict_probabilities(r.model, va["x"], 1024, tta_flip=tta)
out = {"variant": name, "overrides": overrides, **r.metrics,
       "val_tta": round(float((pv.argmax(1) == va["y"]).mean()), 4),
       "test": round(float((p.argmax(1) == te["y"]).mean()), 4)}
print(json.dumps(out))
open(ROOT / "docs/measurements/tune_results.jsonl", "a").write(json.dumps(out) + "\n")
