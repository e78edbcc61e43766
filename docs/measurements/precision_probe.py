"""bf16 against float32 per training step, for the variants `precision: auto` decides on, on
this CPU; then float32 again with oneDNN capped at AVX2 (what an AVX2-only CPU such as a
hosted CI runner runs). Each configuration runs in its own process, since oneDNN reads its ISA
cap once. The probe is the one `precision: auto` uses (fmnist.training.probe_step_ms), with
more rounds. Run from the repository root with the venv active:

    python docs/measurements/precision_probe.py > docs/measurements/precision_<cpu>.txt
"""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

VARIANTS = ("cnn_basic", "cnn_advanced", "cnn_enhanced", "champion")
WORKER = """
import json, sys
from fmnist.config import load_params
from fmnist.training import probe_step_ms
params = load_params("params.yaml")
print(json.dumps({name: probe_step_ms(params.variants[name], tuple(sys.argv[1].split(",")), rounds=5, steps=4)
                  for name in sys.argv[2].split(",")}))
"""


def probe(precisions: str, environ: dict) -> dict:
    command = [sys.executable, "-c", WORKER, precisions, ",".join(VARIANTS)]
    done = subprocess.run(command, env={**os.environ, **environ}, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from fmnist.precision import native_bf16
    from fmnist.system import cpu_flags, cpu_model

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


if __name__ == "__main__":
    main()
