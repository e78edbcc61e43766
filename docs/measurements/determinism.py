import json, sys
import os, pathlib
ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
import fmnist
from fmnist.tools.bench import training_throughput
from fmnist.core.config import load_params
from fmnist.core.io import load_npz
p = load_params("params.yaml")
tr = load_npz("data/processed/train.npz", ("x", "y"))
out = {}
for name, steps in (("cnn_basic", 200), ("champion", 100)):
    v = p.variant(name)
    on, off = [], []
    for _ in range(3):
        on.append(training_throughput(v, tr["x"], tr["y"], steps, True))
        off.append(training_throughput(v, tr["x"], tr["y"], steps, False))
    out[name] = {"on": [round(x) for x in on], "off": [round(x) for x in off]}
    print(name, out[name], flush=True)
json.dump(out, open(ROOT / "docs/measurements/determinism.json", "w"))
