"""Do fit's pauses end on the tf.data autotuner's wake-ups? Its optimisation thread first sleeps
10 ms, doubling each time up to 60 s, so it wakes 10 * (2**k - 1) ms after the input iterator
starts (20.47 s, 40.95 s, 81.91 s, then every 60 s: 141.91 s, 201.91 s, ...). With the autotuner
on, tearing the iterator down at the end of `fit` could wait for the next wake-up.

    python docs/measurements/autotune_ticks.py [COMMIT]   # default d97c655, the AMD full run

Prints each variant's train_seconds at COMMIT beside the nearest wake-up; output in
autotune_ticks_amd_zen4.txt.
"""

import json
import subprocess
import sys

commit = sys.argv[1] if len(sys.argv) > 1 else "d97c655"
ticks = [10 * (2**k - 1) / 1000 for k in range(1, 14)]
while ticks[-1] < 4000:
    ticks.append(ticks[-1] + 60)
print(f"# train_seconds at {commit} against the autotuner's wake-ups (s)")
for variant in ("mlp_a", "mlp_b", "ann", "cnn_basic", "cnn_advanced", "cnn_optimum", "champion_fast", "cnn_enhanced", "champion"):
    metrics = json.loads(subprocess.check_output(["git", "show", f"{commit}:metrics/train/{variant}.json"]))
    seconds = metrics["train_seconds"]
    tick = min(t for t in ticks if t >= seconds - 3)
    print(f"{variant:14s} train_seconds {seconds:8.2f}  wake-up {tick:8.2f}  train_seconds - wake-up {seconds - tick:6.2f}")
