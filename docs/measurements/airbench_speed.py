"""Training images/s of the `airbench` preset against `champion` and `champion_fast`, in one
process on one machine, interleaved (A B C A B C ...), each in the precision `precision: auto`
picks here. A ratio measured this way carries to another CPU kind better than minutes do.

    python docs/measurements/airbench_speed.py [--steps 60] [--rounds 2]
"""

import argparse
import json
import statistics

from fmnist.core.config import load_params
from fmnist.core.io import load_npz
from fmnist.core.system import machine_info
from fmnist.tools.flops import forward_flops
from fmnist.tools.timing import training_throughput
from fmnist.train.models import build_model

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=60)
parser.add_argument("--rounds", type=int, default=2)
args = parser.parse_args()
params = load_params()
data = load_npz("data/processed/train.npz", ("x", "y"))
names = ("champion", "airbench", "champion_fast")
print("#", json.dumps(machine_info(with_matmul_peak=True)))
rates: dict[str, list[float]] = {name: [] for name in names}
for round_ in range(args.rounds):
    for name in names:
        variant = params.variant(name)
        rate, precision = training_throughput(variant, data["x"], data["y"], args.steps)
        rates[name].append(rate)
        print(f"round {round_}: {name}: {rate:.1f} images/s ({precision})", flush=True)
for name in names:
    variant = params.variant(name)
    mflop = forward_flops(build_model(variant.architecture, variant.model)) / 1e6
    median = statistics.median(rates[name])
    epoch_s = len(data["x"]) / median  # the training split, 54,000 images
    print(
        f"{name}: median {median:.1f} images/s, {mflop:.1f} MFLOP forward, {variant.epochs} epochs -> "
        f"{variant.epochs * epoch_s / 60:.1f} min of steps on this machine"
    )
champion, airbench = (statistics.median(rates[n]) for n in ("champion", "airbench"))
epochs = params.variant("champion").epochs, params.variant("airbench").epochs
print(f"airbench / champion: {airbench / champion:.2f}x the images/s; a whole run takes "
      f"{(epochs[1] / airbench) / (epochs[0] / champion):.2f}x champion's time")  # fmt: skip
