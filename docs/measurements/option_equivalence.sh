#!/usr/bin/env bash
# Do new training options that are off by default leave the committed variants' outputs alone?
# `option_equivalence.sh REF_OR_WORKTREE NAME` trains shortened copies of the committed variants
# (every code path they use: MLP, plain and BN CNNs, the residual net, affine + flip augmentation,
# label smoothing, one-cycle/constant/cosine, Adam/AdamW, early stopping) with one tree's code on
# the same data and VM, then evaluates them; run it for the old commit and the new work tree and
# compare with `option_equivalence.sh --compare OLD NEW`: models must be byte-identical.
set -euo pipefail
export PATH=/work/main/.venv/bin:$PATH TF_ENABLE_ONEDNN_OPTS=1
# VARIANTS (environment) picks a subset, e.g. without cnn_enhanced, which does not reproduce on AVX2-only CPUs.
export VARIANTS=${VARIANTS:-"mlp_a cnn_advanced cnn_optimum cnn_enhanced champion champion_fast"}
if [ "$1" = "--compare" ]; then
  for v in $VARIANTS; do
    for f in models/variants/$v/model.keras data/predictions/$v.npz metrics/scores/$v.json; do
      cmp -s /tmp/eq/$2/$f /tmp/eq/$3/$f && echo "same $f" || echo "DIFF $f"
    done
    python3 - "$2" "$3" "$v" <<'PY'
import json, sys
old, new, v = sys.argv[1:]
timing = {"train_seconds", "train_minutes", "images_per_second", "machine"}
strip = lambda d: {k: strip(x) if isinstance(x, dict) else x for k, x in d.items() if k not in timing}
for kind in ("train", "eval"):
    a, b = (strip(json.load(open(f"/tmp/eq/{t}/metrics/{kind}/{v}.json"))) for t in (old, new))
    print(("same" if a == b else "DIFF"), f"metrics/{kind}/{v}.json apart from timings")
PY
  done
  for f in models/best/model.keras models/best/info.json metrics/best.json; do
    cmp -s /tmp/eq/$2/$f /tmp/eq/$3/$f && echo "same $f" || echo "DIFF $f"
  done
  python3 - "$2" "$3" <<'PY'
import csv, json, sys
timing = {"train_seconds", "machine"}
strip = lambda d: {k: strip(x) if isinstance(x, dict) else x for k, x in d.items() if k not in timing}
a, b = (strip(json.load(open(f"/tmp/eq/{t}/metrics/summary.json"))) for t in sys.argv[1:])
print(("same" if a == b else "DIFF"), "metrics/summary.json apart from timings and the machine")
for name in a["variants"]:
    print(("same" if a["variants"][name] == b["variants"][name] else "DIFF"), f"metrics/summary.json row {name}")
print(("same" if a["ensemble"] == b["ensemble"] else "DIFF"), "metrics/summary.json ensemble (apart from its seconds)")
rows = [list(csv.DictReader(open(f"/tmp/eq/{t}/plots/compare/curves.tsv"), delimiter="\t")) for t in sys.argv[1:]]
untimed = [[{k: v for k, v in row.items() if "minutes" not in k} for row in r] for r in rows]
print(("same" if untimed[0] == untimed[1] else "DIFF"), "plots/compare/curves.tsv apart from its minutes column")
PY
  exit 0
fi
src=$1 name=$2 tree=/tmp/eq/$2
rm -rf "$tree" && mkdir -p "$tree"
if [ -d "$src" ]; then (cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tree")
else (cd /work/main && git archive "$src" | tar -x -C "$tree"); fi
mkdir -p "$tree/data" && cp -r /work/main/data/processed "$tree/data/"
cd "$tree"
python3 - <<'PY'
import os, yaml
params = yaml.safe_load(open("params.yaml"))
short = {"mlp_a": 2, "cnn_advanced": 1, "cnn_optimum": 1, "cnn_enhanced": 1, "champion": 2, "champion_fast": 2}
short = {k: n for k, n in short.items() if k in os.environ["VARIANTS"].split()}
params["variants"] = {k: {**params["variants"][k], "epochs": n} for k, n in short.items()}
params["ci"]["floors"] = {k: params["ci"]["floors"][k] for k in short}
params["bench"]["determinism"] = ["champion"]
for key in ("racer", "published_twin"):  # the bench must name variants of the run
    params["bench"][key] = params["bench"][key] if params["bench"][key] in short else next(iter(short))
yaml.safe_dump(params, open("params.yaml", "w"), sort_keys=False)
PY
echo "# $(date -u +%FT%TZ) $name ($src): $(python -c 'import json;from fmnist.core.system import machine_info;print(json.dumps(machine_info(with_matmul_peak=True)))')"
for v in $VARIANTS; do
  python -m stages.train --variant $v --data-dir data/processed --model-dir models/variants/$v \
    --metrics metrics/train/$v.json --live-dir plots/train/$v --preview plots/augment/$v.png 2>&1 | tail -1
  python -m stages.evaluate --variant $v --data-dir data/processed --model-dir models/variants/$v \
    --train-metrics metrics/train/$v.json --metrics metrics/eval/$v.json --scores metrics/scores/$v.json \
    --plots-dir plots/eval/$v --predictions data/predictions/$v.npz 2>&1 | tail -1
done
compare() {
  python -m stages.compare --data-dir data/processed --eval-dir metrics/eval --scores-dir metrics/scores \
    --train-dir metrics/train --predictions-dir data/predictions --models-dir models/variants \
    --summary metrics/summary.json --headline metrics/best.json --plots-dir plots/compare \
    --best-dir models/best --live-dir plots/train 2>&1 | tail -1
  python -m stages.curves --live-dir plots/train --out plots/compare/curves.tsv 2>&1 | tail -1
}
compare
