#!/usr/bin/env bash
# Time the README's first taste: `dvc repro evaluate@mlp_a` in a fresh clone (venv ready, data
# from the Debian package). Run from the repository root with the venv active:
#   bash docs/measurements/first_taste.sh > docs/measurements/first_taste.txt 2>&1
set -euo pipefail
work=$(mktemp -d)
git clone -q . "$work/clone"
cd "$work/clone"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, commit $(git rev-parse --short HEAD)"
start=$(date +%s)
dvc repro evaluate@mlp_a | grep -E "^Running stage|^evaluate|^train" || true
echo "dvc repro evaluate@mlp_a: $(( $(date +%s) - start )) s"
start=$(date +%s%N)
dvc repro evaluate@mlp_a > /dev/null
echo "again, nothing changed: $(( ($(date +%s%N) - start) / 1000000 )) ms"
python -c "import json; m = json.load(open('metrics/eval/mlp_a.json')); print('mlp_a test accuracy', m['accuracy'])"
rm -rf "$work"
