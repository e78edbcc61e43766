#!/usr/bin/env bash
# Toward #23's "≥ 94.0 % in ≤ 10 min": champion_fast's plain CNN (cnn_basic) at champion recipe 6's
# length and beyond, one `dvc exp run --temp` experiment per arm, one after the other on one VM.
# Usage: bash docs/measurements/fast94_ab.sh 'NAME=OVERRIDE;OVERRIDE' ...
# An override is DVC's -S syntax relative to variants.champion_fast (a leading + adds a key the
# variant does not set). Prints each arm's training and evaluation figures (test included: the
# arms are chosen among on validation, the test figure is reported, not used).
cd "$(dirname "$0")/../.."; export PATH="$PWD/.venv/bin:$PATH" TF_ENABLE_ONEDNN_OPTS=1
echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD); $(python -c 'import json;from fmnist.core.system import machine_info;print(json.dumps(machine_info(with_matmul_peak=True)))')"
for arm in "$@"; do
  name=cf-${arm%%=*}; sets=(); IFS=';' read -ra overrides <<< "${arm#*=}"
  for o in "${overrides[@]}"; do
    [ -n "$o" ] || continue
    if [[ $o == +* ]]; then sets+=(-S "+variants.champion_fast.${o#+}"); else sets+=(-S "variants.champion_fast.$o"); fi
  done
  echo "## $name: dvc exp run --temp -n $name ${sets[*]} evaluate@champion_fast"
  echo "start $(date -u +%FT%TZ)"
  dvc exp run --temp -n "$name" "${sets[@]}" evaluate@champion_fast 2>&1 | grep -E "^(ERROR)|rror" | tail -5
  echo "end $(date -u +%FT%TZ)"
  ref=$(git for-each-ref --format="%(refname)" refs/exps | grep "/$name$" | tail -1); [ -n "$ref" ] || { echo "no experiment $name"; continue; }
  for f in metrics/train/champion_fast.json metrics/eval/champion_fast.json; do
    echo "$f: $(git show "$ref:$f" | python -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in ("best_val_accuracy","best_epoch","epochs_run","train_seconds","precision","accuracy","accuracy_no_tta","val_accuracy","val_accuracy_no_tta","macro_f1") if k in d})')"
  done
done
echo "# done $(date -u +%FT%TZ)"
