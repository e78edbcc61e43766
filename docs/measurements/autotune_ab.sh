#!/bin/bash
# The tf.data autotuner's cost in one session: the same training run with it on and off, in
# interleaved pairs (order alternating), on an otherwise idle machine. From the repository root:
#   bash docs/measurements/autotune_ab.sh VARIANT EPOCHS PAIRS > docs/measurements/autotune_ab_<cpu>.txt
set -euo pipefail
variant=${1:-cnn_basic}; epochs=${2:-4}; pairs=${3:-2}
lscpu | grep -E "Model name"; echo "commit $(git rev-parse --short HEAD) $(date -u +%FT%TZ) $variant $epochs epochs"
run() {  # $1 = on|off; prints the last epoch's end, fit's return, and the process CPU seconds there
  local env=(NO_AUTOTUNE=1); [ "$1" = on ] && env=(AUTOTUNE=1)
  env "${env[@]}" python docs/measurements/fit_teardown.py "$variant" "$epochs" 2>/dev/null \
    | grep -E '^(epoch_end\(last cb\) '"$((epochs - 1))"'|fit called|fit returned|\{)' | sed "s/^/autotune $1: /"
}
for pair in $(seq "$pairs"); do
  if [ $((pair % 2)) = 1 ]; then run on; run off; else run off; run on; fi
done
