"""Each variant's training at two commits of full default runs on the same kind of CPU (before and
after the tf.data autotuner was turned off): train_seconds and best validation accuracy.

Not a speed comparison: the two runs ran on different VMs of that kind, days apart, and the
precision probes in their logs show the newer VM about 2x faster on the same training steps
(champion float32 223.0 vs 123.7 ms/step). What it does show is that the validation
accuracies are identical. The autotuner's own cost is measured in one run, interleaved, by
autotune_ab.sh.

    python docs/measurements/autotune_effect.py OLD NEW   # e.g. d97c655 (autotuner on) and the new run

Output in autotune_effect_amd_zen4.txt.
"""

import json
import subprocess
import sys

old, new = sys.argv[1], sys.argv[2]
VARIANTS = ("mlp_a", "mlp_b", "ann", "cnn_basic", "cnn_advanced", "cnn_optimum", "champion_fast", "cnn_enhanced", "champion")


def train(commit, variant):
    return json.loads(subprocess.check_output(["git", "show", f"{commit}:metrics/train/{variant}.json"]))


print(f"| variant | precision | train s at {old} | train s at {new} | ratio | best val at {old} | best val at {new} |")
print("|---|---|---:|---:|---:|---:|---:|")
total_old = total_new = 0.0
for variant in VARIANTS:
    a, b = train(old, variant), train(new, variant)
    total_old += a["train_seconds"]
    total_new += b["train_seconds"]
    print(
        f"| {variant} | {b.get('precision')} | {a['train_seconds']:.1f} | {b['train_seconds']:.1f} "
        f"| {a['train_seconds'] / b['train_seconds']:.2f}x | {a['best_val_accuracy']:.4f} | {b['best_val_accuracy']:.4f} |"
    )
print(f"| all | | {total_old:.0f} | {total_new:.0f} | {total_old / total_new:.2f}x | | |")
print(f"# cpu: {train(old, 'mlp_a').get('cpu')} / {train(new, 'mlp_a').get('cpu')}")
