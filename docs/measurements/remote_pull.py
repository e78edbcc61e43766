"""A fresh clone pulling the full run's outputs from an S3-compatible remote, against retraining.

    python docs/measurements/remote_pull.py > docs/measurements/remote_pull_<cpu>.txt

Needs the full run's outputs in this checkout's DVC cache (after `make repro`). Starts moto's
standalone S3 server on 127.0.0.1 (the one the tests use), pushes the cache to it, clones this
repository into a scratch folder, points the clone at the same bucket, times `dvc pull`, and
checks that `dvc status` is clean. The retraining time to compare with is the committed full
run's wall time (docs/measurements/full_run_*.log). A loopback server measures DVC's own cost
(hashing, transfer, checkout), not a network's bandwidth.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: the repository root holds the `tests` package

from tests.harness import s3 as s3_server  # noqa: E402  the test suite's S3 server


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=s3_server.environment())
    return time.perf_counter() - started


def size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def main() -> None:
    dvc = str(Path(sys.executable).with_name("dvc"))
    with tempfile.TemporaryDirectory(prefix="fmnist-remote-pull-") as scratch:
        work = Path(scratch)
        server = s3_server.start(work / "moto.log")
        try:
            server.configure(ROOT, name="measure", local=True)
            push = timed([dvc, "push", "-r", "measure"], ROOT)
            clone = work / "clone"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            server.configure(clone, name="measure", local=True)
            pull = timed([dvc, "pull", "-r", "measure"], clone)
            status = subprocess.run([dvc, "status"], cwd=clone, capture_output=True, text=True, check=True).stdout
            print(f"objects in the bucket: {server.objects()}")
            print(f"pulled cache: {size_mb(clone / '.dvc' / 'cache'):.1f} MB")
            print(f"dvc push (this checkout -> S3): {push:.1f} s")
            print(f"dvc pull (fresh clone <- S3): {pull:.1f} s")
            print(f"dvc status after the pull: {status.strip()}")
        finally:
            subprocess.run([dvc, "remote", "remove", "--local", "measure"], cwd=ROOT, capture_output=True)
            server.process.terminate()
            server.process.wait(timeout=10)


if __name__ == "__main__":
    main()
