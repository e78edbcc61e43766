"""Every trial of an `fmnist tune` study with its experiment's figures, test accuracy included.

The study's summary (metrics/tune/<study>.json) holds each trial's state, params and objective
(best validation accuracy); the test accuracy and training time are in the trial's DVC
experiment, read here with `git show <experiment ref>:metrics/{train,eval}/<variant>.json`.
Run from the repository root, in the clone that ran the trials (experiments are local refs
until `dvc exp push`):

    python docs/measurements/tune_study_table.py champion_fast-tune > docs/measurements/tune_study_<cpu>.txt
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def experiment_refs() -> dict[str, str]:
    listed = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/exps/"], capture_output=True, text=True, check=True
    )
    return {ref.rsplit("/", 1)[-1]: ref for ref in listed.stdout.split()}


def read(ref: str, path: str) -> dict | None:
    shown = subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True, text=True)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def main(study_name: str) -> None:
    study = json.loads(Path(f"metrics/tune/{study_name}.json").read_text())
    variant = study.get("variant") or study_name.removesuffix("-tune")
    refs = experiment_refs()
    # The search space's keys, in the order the trials name them: the table follows `tune.space`.
    keys = list(dict.fromkeys(key for trial in study["trials"] for key in trial["params"]))
    print(f"# {study_name}: {study['COMPLETE']} complete, {study['PRUNED']} pruned, {study['FAIL']} failed")
    print("# trial state", *keys, "best_val epochs train_s test_accuracy")
    for trial in study["trials"]:
        ref = refs.get(trial["experiment"] or "")
        train = read(ref, f"metrics/train/{variant}.json") if ref else None
        evaluation = read(ref, f"metrics/eval/{variant}.json") if ref else None
        values = [trial["params"].get(key, "-") for key in keys]
        print(
            trial["trial"],
            trial["state"],
            *(f"{value:.5g}" if isinstance(value, float) else value for value in values),
            trial["value"],
            train["epochs_run"] if train else "-",
            train["train_seconds"] if train else "-",
            evaluation["accuracy"] if evaluation else "-",
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "champion_fast-tune")
