#!/usr/bin/env bash
# `make test` in a fresh clone, as CI runs it (bash .ci/run also runs `make lint` first).
# Run from the repository root:  bash docs/measurements/test_timing.sh > docs/measurements/test_timing.txt 2>&1
set -uo pipefail
work=$(mktemp -d)
git clone -q . "$work/clone"
cd "$work/clone"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, commit $(git rev-parse --short HEAD)"
start=$(date +%s)
CI=true make test 2>&1 | grep -E "passed|failed|error" | tail -n 3
echo "make test (set-up included, download and npm caches warm): $(( $(date +%s) - start )) s"
echo "machine: $(.venv/bin/python -c 'import json; from fmnist.core.system import machine_info; print(json.dumps(machine_info(with_matmul_peak=True)))')"
rm -rf "$work"
