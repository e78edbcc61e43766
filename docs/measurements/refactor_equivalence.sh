#!/usr/bin/env bash
# Old (HEAD) vs new (working tree) stage code on identical inputs: evaluate, compare, export.
set -euo pipefail
export PATH=/work/main/.venv/bin:$PATH
rm -rf /tmp/vold /tmp/vnew && mkdir -p /tmp/vold /tmp/vnew
(cd /work/main && git archive HEAD | tar -x -C /tmp/vold)
(cd /work/main && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t /tmp/vnew)
for tree in /tmp/vold /tmp/vnew; do
  mkdir -p $tree/data $tree/models/variants
  cp -r /work/main/data/processed $tree/data/
  cp -r /tmp/verify/models/variants/mlp_a /tmp/verify/models/variants/ann $tree/models/variants/
  cp -r /tmp/verify/plots/train $tree/plots/ 2>/dev/null || true
  python3 - "$tree" <<'PY'
import sys, yaml
p = sys.argv[1] + "/params.yaml"
params = yaml.safe_load(open(p))
params["variants"] = {k: params["variants"][k] for k in ("mlp_a", "ann", "cnn_basic")}
params["ci"]["floors"] = {k: params["ci"]["floors"][k] for k in ("mlp_a", "ann", "cnn_basic")}
yaml.safe_dump(params, open(p, "w"), sort_keys=False)
PY
done
cd /tmp/vold
python -m stages.train --variant cnn_basic --data-dir data/processed --model-dir models/variants/cnn_basic \
  --metrics metrics/train/cnn_basic.json --live-dir plots/train/cnn_basic --preview plots/augment/cnn_basic.png | tail -1
cp -r models/variants/cnn_basic /tmp/vnew/models/variants/
cp metrics/train/cnn_basic.json /tmp/vnew/metrics/train/
for f in mlp_a ann; do cp /tmp/verify/metrics/train/$f.json /tmp/vold/metrics/train/; cp /tmp/verify/metrics/train/$f.json /tmp/vnew/metrics/train/; done
rm -rf /tmp/vnew/plots/train/cnn_basic && cp -r plots/train/cnn_basic /tmp/vnew/plots/train/
for tree in /tmp/vold /tmp/vnew; do
  cd $tree
  for v in mlp_a ann cnn_basic; do
    python -m stages.evaluate --variant $v --data-dir data/processed --model-dir models/variants/$v \
      --metrics metrics/eval/$v.json --plots-dir plots/eval/$v --predictions data/predictions/$v.npz | tail -1
  done
  python -m stages.compare --data-dir data/processed --eval-dir metrics/eval --train-dir metrics/train \
    --predictions-dir data/predictions --models-dir models/variants --summary metrics/summary.json \
    --plots-dir plots/compare --best-dir models/best --live-dir plots/train | tail -1
  python -m stages.export --model-dir models/best --data-dir data/processed --out-dir models/export \
    --metrics metrics/export.json | tail -1
done
echo "== differences (old vs new)"
for v in mlp_a ann cnn_basic; do
  for f in metrics/eval/$v.json data/predictions/$v.npz plots/eval/$v/confusion.csv plots/eval/$v/confusion.png \
           plots/eval/$v/predictions.png plots/eval/$v/misclassified.png plots/eval/$v/classification_report.txt \
           plots/eval/$v/gradcam.png; do
    if [ -e /tmp/vold/$f ] || [ -e /tmp/vnew/$f ]; then cmp -s /tmp/vold/$f /tmp/vnew/$f && echo "same $f" || echo "DIFF $f"; fi
  done
done
for f in metrics/summary.json plots/compare/leaderboard.png plots/compare/per_class.png plots/compare/curves.png models/best/info.json; do
  cmp -s /tmp/vold/$f /tmp/vnew/$f && echo "same $f" || echo "DIFF $f"
done
python3 - <<'PY'
import json
a, b = (json.load(open(f"/tmp/{t}/metrics/export.json")) for t in ("vold", "vnew"))
timing = {"latency_ms", "images_per_second"}
strip = lambda m: {k: ({kk: vv for kk, vv in v.items() if kk not in timing} if isinstance(v, dict) else v) for k, v in m.items()}
print("export.json equal apart from timings:", strip(a) == strip(b))
PY
