#!/usr/bin/env bash
# champion_fast's recipe as a student of an ensemble, through the real pipeline: a scratch clone of
# the current commit with `ensembles:` and `students:` added to params.yaml, sharing this
# checkout's DVC cache (data stages come from it). `dvc repro` trains the three members, runs
# ensemble@trio, then the student. Compare with distill_ab_amd_zen3.txt (the same student recipe
# taught by the champion alone, and without a teacher). One VM, one job at a time.
# Usage: bash docs/measurements/ensemble_teacher_ab.sh [MEMBER MEMBER MEMBER]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd); export PATH="$root/.venv/bin:$PATH" TF_ENABLE_ONEDNN_OPTS=1
work=${WORK:-/tmp/ensemble_ab}
if [ $# -eq 3 ]; then members=("$@"); else members=(cnn_basic cnn_advanced champion_fast); fi
echo "# $(date -u +%FT%TZ) commit $(git -C "$root" rev-parse --short HEAD); members ${members[*]}; $(cd "$root" && python -c 'import json;from fmnist.core.system import machine_info;print(json.dumps(machine_info(with_matmul_peak=True)))')"
rm -rf "$work" && git clone -q "$root" "$work" && cd "$work"
dvc cache dir --local "$root/.dvc/cache"
python - "${members[@]}" <<'PY'
import sys, yaml
params = yaml.safe_load(open("params.yaml"))
params["ensembles"] = {"trio": {"members": sys.argv[1:]}}
recipe = {k: v for k, v in params["variants"]["champion_fast"].items() if k != "architecture"}
params["students"] = {"champion_fast_trio": {"architecture": "cnn_basic", **recipe, "teacher": "trio", "distill": 0.7}}
yaml.safe_dump(params, open("params.yaml", "w"), sort_keys=False)
PY
date -u; dvc repro evaluate_student@champion_fast_trio 2>&1 | grep -E "^(train|evaluate|ensemble)|ERROR|Error" || true; date -u
for v in "${members[@]}" champion_fast_trio; do
  python - "$v" <<'PY'
import json, sys
v = sys.argv[1]
t = json.load(open(f"metrics/train/{v}.json"))
e = json.load(open(f"metrics/eval/{v}.json")) if v.endswith("_trio") else {}
print(v, {k: t[k] for k in ("best_val_accuracy", "best_epoch", "epochs_run", "train_seconds", "precision")},
      {k: e[k] for k in ("accuracy", "val_accuracy", "macro_f1") if k in e})
PY
done
python - <<'PY'
# The teacher itself on validation: the averaged model, as the student's stage loads it.
import numpy as np
from fmnist.core.io import load_npz
from fmnist.train.models import load_model
val = load_npz("data/processed/val.npz", ("x", "y"))
probabilities = load_model("models/variants/trio").predict(val["x"], batch_size=1000, verbose=0)
print("trio (ensemble teacher) val accuracy", round(float(np.mean(probabilities.argmax(1) == val["y"])), 6))
PY
