"""One variant for one epoch on the first 1,280 training images (batch 64), printing the md5 of its trained
weights: run it in two trees (old and new code) to compare them cheaply (option_equivalence_amd_zen3.txt).
Usage, from a tree with data/processed: python det_subset.py cnn_enhanced"""

import sys, hashlib, numpy as np
from fmnist.core.config import load_params
from fmnist.core.io import load_npz
from fmnist.train.loop import train_variant
params = load_params("params.yaml")
v = params.variant(sys.argv[1])
import dataclasses
v = dataclasses.replace(v, epochs=1, batch_size=64)
tr = load_npz("data/processed/train.npz", ("x", "y")); va = load_npz("data/processed/val.npz", ("x", "y"))
n = 1280
data = {"x_train": tr["x"][:n], "y_train": tr["y"][:n], "x_val": va["x"][:500], "y_val": va["y"][:500]}
r = train_variant(v, data, params.runtime, verbose=0)
h = hashlib.md5(b"".join(w.tobytes() for w in r.model.get_weights())).hexdigest()
print(sys.argv[1], h, r.metrics["best_val_accuracy"])
