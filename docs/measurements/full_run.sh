#!/bin/bash
# The full default pipeline in a fresh worktree of HEAD (no outputs, no cache), every output line
# time-stamped in the format `make repro` writes (fmnist.timing.stage_wall_seconds reads it).
#   bash docs/measurements/full_run.sh /path/to/scratch > docs/measurements/full_run_<cpu>.log 2>&1
set -uo pipefail
work=${1:?scratch folder for the worktree}
git worktree add -q "$work" HEAD
cd "$work"
lscpu | grep -E "Model name|^CPU\(s\)"
grep -o -w -E "avx2|avx512f|avx512_bf16|amx_bf16" /proc/cpuinfo | sort -u | tr '\n' ' '; echo
echo "start $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-unset}"
start=$(date +%s)
dvc repro 2>&1 | while IFS= read -r line; do printf '%s %s\n' "$(date -u +%T)" "$line"; done
echo "exit ${PIPESTATUS[0]} end $(date -u +%FT%TZ) wall_seconds $(( $(date +%s) - start ))"
