#!/bin/bash
# Checks the AVX2-cap estimate's method on one variant: its whole default training run with
# oneDNN at full ISA and capped at AVX2, back to back in one session, against the per-step
# ratio precision_probe.py measured. From the repository root:
#   bash docs/measurements/avx2_check.sh cnn_advanced > docs/measurements/avx2_check_<cpu>.txt
set -euo pipefail
variant=${1:-cnn_advanced}
lscpu | grep -E "Model name"; echo "commit $(git rev-parse --short HEAD) $(date -u +%FT%TZ) $variant"
epochs=$(python -c "from fmnist.config import load_params; print(load_params('params.yaml').variant('$variant').epochs)")
for cap in native AVX2; do
  env=(); [ "$cap" = AVX2 ] && env=(ONEDNN_MAX_CPU_ISA=AVX2)
  env "${env[@]}" python docs/measurements/fit_teardown.py "$variant" "$epochs" 2>/dev/null | grep '^{' | sed "s/^/$cap: /"
done
