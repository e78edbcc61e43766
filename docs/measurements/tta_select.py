"""Validation accuracy of one variant's seed runs under each test-time augmentation, so that
`evaluate.tta_shift` is chosen on the validation split, never the test set. Each run's model is
read from the DVC cache through the dvc.lock of the revision that trained it: the committed run
(HEAD) and the seed experiments `make seeds` queued (refs/exps/.../seed-<variant>-<seed>).
Run from the repository root with the venv active, after `make seeds`:

    python docs/measurements/tta_select.py champion > docs/measurements/tta_select_<cpu>.txt
"""

import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from fmnist.evaluate.metrics import predict_probabilities
from fmnist.core.io import load_npz
from fmnist.train.models import load_model
from fmnist.core.system import cpu_model

SHIFTS = (0, 1, 2)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def seed_revisions(variant: str) -> list[str]:
    """HEAD and its seed experiments (DVC files them under refs/exps/<baseline sha>/<name>)."""
    head = git("rev-parse", "HEAD").strip()
    refs = git("for-each-ref", "--format=%(refname)", f"refs/exps/{head[:2]}/{head[2:]}").split()
    return ["HEAD", *sorted(ref for ref in refs if ref.rsplit("/", 1)[-1].startswith(f"seed-{variant}-"))]


def model_from_cache(revision: str, variant: str, into: Path) -> int:
    """Build the variant's model folder as trained at `revision` from the DVC cache; its seed."""
    lock = yaml.safe_load(git("show", f"{revision}:dvc.lock"))
    out = next(o for o in lock["stages"][f"train@{variant}"]["outs"] if o["path"] == f"models/variants/{variant}")
    manifest = Path(".dvc/cache/files/md5") / out["md5"][:2] / out["md5"][2:]
    for entry in json.loads(manifest.read_text()):
        target = into / entry["relpath"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(".dvc/cache/files/md5") / entry["md5"][:2] / entry["md5"][2:], target)
    return yaml.safe_load(git("show", f"{revision}:params.yaml"))["variants"][variant]["seed"]


def main(variant: str) -> None:
    val = load_npz(Path("data/processed/val.npz"), ("x", "y"))
    print(f"# {variant}: validation accuracy (%) by evaluate.tta_shift, flip TTA on; "
          f"{cpu_model()}, {platform.python_version()}, commit {git('rev-parse', '--short', 'HEAD').strip()}")
    print("| revision | seed | " + " | ".join(f"shift {s}" for s in SHIFTS) + " |")
    print("|---|---:|" + "---:|" * len(SHIFTS))
    table = []
    for revision in seed_revisions(variant):
        with tempfile.TemporaryDirectory() as folder:
            seed = model_from_cache(revision, variant, Path(folder))
            model = load_model(Path(folder))
            row = [float((predict_probabilities(model, val["x"], 1024, True, s).argmax(1) == val["y"]).mean())
                   for s in SHIFTS]
        table.append(row)
        print(f"| {revision.rsplit('/', 1)[-1]} | {seed} | " + " | ".join(f"{100 * a:.2f}" for a in row) + " |")
    means = np.mean(table, axis=0)
    print(f"| mean of {len(table)} | | " + " | ".join(f"{100 * a:.3f}" for a in means) + " |")
    print(f"highest validation mean: tta_shift {SHIFTS[int(np.argmax(means))]}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "champion")
