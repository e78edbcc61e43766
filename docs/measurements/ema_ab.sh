#!/usr/bin/env bash
# champion_fast with and without weight EMA, one experiment each, same VM, one after the other.
# Keys champion_fast does not set take DVC's + form (-S +key=value); plain -S stops with "Could not override".
cd "$(dirname "$0")/../.."; export PATH="$PWD/.venv/bin:$PATH" TF_ENABLE_ONEDNN_OPTS=1
echo "# $(date -u) commit $(git rev-parse --short HEAD); $(python -c 'import fmnist,json;from fmnist.core.system import machine_info;print(json.dumps(machine_info(with_matmul_peak=True)))')"
for arm in "ema-base:" "ema-0.99:+variants.champion_fast.ema_momentum=0.99" "ema-0.999:+variants.champion_fast.ema_momentum=0.999"; do
  name=cf-${arm%%:*}; set=${arm#*:}
  echo "## dvc exp run --temp -n $name ${set:+-S $set} evaluate@champion_fast"
  date -u
  dvc exp run --temp -n "$name" ${set:+-S "$set"} evaluate@champion_fast 2>&1 | grep -E "^(train|evaluate|ERROR)|error" | tail -5
  ref=$(git for-each-ref --format="%(refname)" refs/exps | grep "/$name$"); [ -n "$ref" ] || { echo "no experiment $name"; continue; }
  for f in metrics/train/champion_fast.json metrics/eval/champion_fast.json; do echo "$f: $(git show "$ref:$f" | python -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in ("best_val_accuracy","best_epoch","train_seconds","accuracy","val_accuracy","macro_f1") if k in d})')"; done
done
date -u
