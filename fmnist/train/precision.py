"""`precision: auto`: bf16 only on CPUs that run it natively and only where a probe shows it
faster; float32 everywhere else, so a CPU without bf16 never pays for emulating it.

Decisions are per run and per machine, and recorded in metrics/train/<variant>.json.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from fmnist.core.system import cpu_flags

BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo names of native bf16 matrix instructions
# oneDNN's ONEDNN_MAX_CPU_ISA caps below AVX512_CORE_BF16 switch those instructions off
# (AVX2 caps emulate an AVX2-only CPU on a newer one).
ISA_CAPS_WITHOUT_BF16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI")
BF16_SPEEDUP_REQUIRED = 0.9  # bf16 must take at most 90 % of float32's step time: noise cannot flip it


def native_bf16(flags: set[str] | None = None, environ: Mapping[str, str] = os.environ) -> bool:
    """True when the CPU has AMX or AVX512-BF16 and oneDNN is allowed to use it."""
    flags = cpu_flags() if flags is None else flags
    cap = (environ.get("ONEDNN_MAX_CPU_ISA") or environ.get("DNNL_MAX_CPU_ISA") or "").upper()
    return bool(flags & set(BF16_FLAGS)) and cap not in ISA_CAPS_WITHOUT_BF16


Probe = Callable[[object, tuple[str, ...]], dict[str, float]]


def choose_precision(variant, gpus: int, probe: Probe) -> tuple[str, dict]:
    """The precision a variant trains in, and the evidence: ({precision}, {probe timings}).

    Explicit precisions are kept as they are. `auto` gives mixed_float16 on GPUs (their tensor
    cores), mixed_bfloat16 on a CPU with native bf16 where the probe finds it at least 10 % faster,
    and float32 otherwise. `probe` times the variant's steps per precision
    (training.probe_step_ms)."""
    if variant.precision != "auto":
        return variant.precision, {}
    if gpus:
        return "mixed_float16", {}
    if not native_bf16():
        return "float32", {}
    timings = probe(variant, ("float32", "mixed_bfloat16"))
    faster = timings["mixed_bfloat16"] <= BF16_SPEEDUP_REQUIRED * timings["float32"]
    return ("mixed_bfloat16" if faster else "float32"), timings
