"""Record in dvc.lock the current code and params of every stage, keeping each output's hash:
DVC's own stage.save_deps(allow_missing=True), so deps on disk are re-hashed and missing ones
(models trained on another machine) keep the lock's entry; outputs are not touched.

Only for a change that cannot alter any committed output, shown first by a measurement
(option_equivalence.sh: old and new code train and evaluate byte-identical models). A change
that can alter outputs needs `dvc repro` instead. Run from the repository root.
"""

from dvc.repo import Repo

repo = Repo(".")
with repo.lock:
    for stage in repo.index.stages:
        if not stage.cmd:
            continue
        stage.save_deps(allow_missing=True)
        stage.md5 = stage.compute_md5()
        stage.dump(update_pipeline=False)
