"""bf16 against float32 per training step, for the variants `precision: auto` decides on, on
this CPU; then float32 again with oneDNN capped at AVX2 (what an AVX2-only CPU such as a
hosted CI runner runs). Each configuration runs in its own process, since oneDNN reads its ISA
cap once. The probe is the one `precision: auto` uses (fmnist.train.loop.probe_step_ms), with
more rounds. Run from the repository root with the venv active:

    python docs/measurements/precision_probe.py [full_run.log] > docs/measurements/precision_<cpu>.txt

Given the time-stamped log of a full run on this machine (docs/measurements/full_run.sh), it
also estimates that run at the AVX2 cap: each variant's committed train_seconds scaled by its
step-time ratio (AVX2-capped float32 against the precision the run used), plus the run's
measured non-training overhead unscaled. An estimate, not a measured run.
"""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

VARIANTS = (
    "mlp_a", "mlp_b", "ann", "cnn_basic", "cnn_advanced", "cnn_optimum", "cnn_enhanced", "champion", "champion_fast",
)  # fmt: skip
WORKER = """
import json, sys
from fmnist.core.config import load_params
from fmnist.train.loop import probe_step_ms
params = load_params("params.yaml")
print(json.dumps({name: probe_step_ms(params.variants[name], tuple(sys.argv[1].split(",")), rounds=5, steps=4)
                  for name in sys.argv[2].split(",")}))
"""


def probe(precisions: str, environ: dict) -> dict:
    command = [sys.executable, "-c", WORKER, precisions, ",".join(VARIANTS)]
    done = subprocess.run(command, env={**os.environ, **environ}, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from fmnist.train.precision import native_bf16
    from fmnist.core.system import cpu_flags, cpu_model

    flags = sorted(cpu_flags() & {"avx2", "avx512f", "avx512_bf16", "amx_bf16"})
    print(f"# {datetime.now(UTC):%Y-%m-%dT%H:%MZ}, {cpu_model()}, {os.cpu_count()} cores, flags {flags}")
    print("# median ms per training step (batch as in params.yaml), 5 interleaved rounds of 4 steps")
    native = probe("float32,mixed_bfloat16", {}) if native_bf16() else probe("float32", {})
    capped = probe("float32", {"ONEDNN_MAX_CPU_ISA": "AVX2"})
    print("| variant | float32 | mixed_bfloat16 | bf16 / float32 | float32 at AVX2 cap | AVX2 cap / float32 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in VARIANTS:
        fp32, bf16, avx2 = native[name]["float32"], native[name].get("mixed_bfloat16"), capped[name]["float32"]
        ratio = f"{bf16 / fp32:.2f}" if bf16 else "–"
        print(f"| {name} | {fp32} | {bf16 or '–'} | {ratio} | {avx2} | {avx2 / fp32:.2f} |")
    if len(sys.argv) > 1:
        estimate(sys.argv[1], native, capped)


def estimate(log_path: str, native: dict, capped: dict) -> None:
    from pathlib import Path

    from fmnist.core.io import read_json
    from fmnist.tools.timing import run_overhead

    overhead = run_overhead(Path(log_path).read_text(), Path("metrics/train"))
    total = overhead["overhead_seconds"]
    print(f"\n# estimate of the run in {log_path} at the AVX2 cap (train_seconds x step ratio)")
    for name in VARIANTS:
        metrics = read_json(Path("metrics/train") / f"{name}.json")
        ran = native[name][metrics.get("precision", "float32")]
        scaled = metrics["train_seconds"] * capped[name]["float32"] / ran
        total += scaled
        print(f"{name}: {metrics['train_seconds']:.0f} s in {metrics.get('precision')} -> {scaled:.0f} s")
    print(f"non-training overhead as measured: {overhead['overhead_seconds']:.0f} s")
    print(f"measured run: {overhead['stage_seconds'] / 60:.0f} min; estimated at the AVX2 cap: {total / 60:.0f} min")


if __name__ == "__main__":
    main()
