#!/usr/bin/env bash
# A real sweep across two "machines" on this one: a 4-point learning-rate grid of mlp_a on the
# full Fashion-MNIST data, run as two separate clones that share only a bare git origin and a
# local-folder DVC remote, then pulled and ranked from a third clone (docs/scaling.md).
#
# Run from the repository root with the venv active and data/processed present (dvc repro):
#   bash docs/measurements/sweep_two_clones.sh > docs/measurements/sweep_two_clones.txt 2>&1
# The project keeps only mlp_a in the scratch copy, so a point trains one small model.
set -euo pipefail
repo=$(pwd)
work=$(mktemp -d)
grid="variants.mlp_a.learning_rate=0.0005,0.001,0.002,0.004"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"

# The project, reduced to mlp_a, behind a bare origin and a DVC remote; the baseline is trained once.
mkdir "$work/seed"
git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 cp --parents -t "$work/seed")
cd "$work/seed"
python - <<'EOF'
import yaml
params = yaml.safe_load(open("params.yaml"))
params["variants"] = {"mlp_a": params["variants"]["mlp_a"]}
params["ci"]["floors"] = {"mlp_a": params["ci"]["floors"]["mlp_a"]}
yaml.safe_dump(params, open("params.yaml", "w"), sort_keys=False)
EOF
rm -f dvc.lock && rm -rf metrics/train metrics/eval plots/train plots/eval plots/augment
git init -q -b main && git add -A && git -c user.name=s -c user.email=s@x commit -qm "mlp_a only"
dvc remote add -d storage "$work/dvc-remote" >/dev/null
git config user.name seed && git config user.email seed@example.com
dvc repro --quiet && git add -A && git commit -qm "baseline" && dvc push --quiet
git clone -q --bare . "$work/origin.git"

points=$(fmnist sweep plan --grid "$grid" --prefix lr)
echo "plan: $points"
for machine in a b; do
  git clone -q "$work/origin.git" "$work/$machine"
  (
    cd "$work/$machine"
    git config user.name "machine $machine" && git config user.email "$machine@example.com"
    dvc pull --quiet
    first=$([ "$machine" = a ] && echo 0 || echo 2)
    for index in $first $((first + 1)); do
      name=$(python -c "import json,sys; print(json.loads(sys.argv[1])['include'][$index]['name'])" "$points")
      set_args=$(python -c "import json,sys; print(json.loads(sys.argv[1])['include'][$index]['set'])" "$points")
      start=$(date +%s)
      dvc exp run --quiet -n "$name" -S "$set_args"
      dvc exp push --quiet origin "$name"
      echo "machine $machine: $name ($set_args) ran and pushed in $(( $(date +%s) - start )) s"
    done
  )
done

git clone -q "$work/origin.git" "$work/laptop"
cd "$work/laptop"
fmnist sweep collect --remote origin --metric metrics/eval/mlp_a.json:val_accuracy --out "$work/leaderboard.md"
best=$(sed -n 's/^| 1 | `\([^`]*\)`.*/\1/p' "$work/leaderboard.md")
dvc exp apply --quiet "$best" && dvc pull --quiet
echo "applied $best; dvc repro: $(dvc repro | tail -n 1)"
rm -rf "$work"
