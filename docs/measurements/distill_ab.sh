#!/usr/bin/env bash
# champion_fast's recipe as a student of the champion, through the real pipeline: a scratch clone
# of the current commit with students added to params.yaml, sharing this checkout's DVC cache
# (data stages come from it). `dvc repro` trains the teacher (train@champion) once, then each
# student; the run cache would restore the teacher for a second clone. One VM, one after the other.
# Usage: bash docs/measurements/distill_ab.sh [ARM ...]   (arms: name=distill; default kd70=0.7)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd); export PATH="$root/.venv/bin:$PATH" TF_ENABLE_ONEDNN_OPTS=1
work=${WORK:-/tmp/distill_ab}; arms=("${@:-kd70=0.7}")
echo "# $(date -u +%FT%TZ) commit $(git -C "$root" rev-parse --short HEAD); $(cd "$root" && python -c 'import json;from fmnist.core.system import machine_info;print(json.dumps(machine_info(with_matmul_peak=True)))')"
rm -rf "$work" && git clone -q "$root" "$work" && cd "$work"
dvc cache dir --local "$root/.dvc/cache"
python - "${arms[@]}" <<'PY'
import sys, yaml
params = yaml.safe_load(open("params.yaml"))
for arm in sys.argv[1:]:
    name, weight = arm.split("=")
    recipe = {k: v for k, v in params["variants"]["champion_fast"].items() if k != "architecture"}
    params["students"][f"champion_fast_{name}"] = {
        "architecture": "cnn_basic", **recipe, "teacher": "champion", "distill": float(weight)
    }
yaml.safe_dump(params, open("params.yaml", "w"), sort_keys=False)
PY
targets=(); for arm in "${arms[@]}"; do targets+=("evaluate_student@champion_fast_${arm%%=*}"); done
date -u; dvc repro evaluate@champion "${targets[@]}" 2>&1 | grep -E "^(train|evaluate)|ERROR|Error" || true; date -u
for v in champion "${targets[@]#evaluate_student@}"; do
  python - "$v" <<'PY'
import json, sys
v = sys.argv[1]
t, e = json.load(open(f"metrics/train/{v}.json")), json.load(open(f"metrics/eval/{v}.json"))
print(v, {k: t[k] for k in ("best_val_accuracy", "best_epoch", "epochs_run", "train_seconds", "precision")},
      {k: e[k] for k in ("accuracy", "val_accuracy", "macro_f1")})
PY
done
