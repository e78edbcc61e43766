"""Facts about the machine a run happened on, recorded beside the numbers it produced.

The CPU's model name does not tell the kinds apart ("Intel(R) Xeon(R) Processor" names a VM with
AMX and one without), so every timing also records the deciding features: AMX, AVX512-BF16, AVX2.
Linux reads /proc/cpuinfo; macOS asks sysctl; elsewhere the model comes from `platform`.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

# The features that decide training speed here, fastest first (x86 flag names as Linux spells them).
DECIDING_FEATURES = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")
CPUINFO = Path("/proc/cpuinfo")


def _cpuinfo_field(name: str) -> str | None:
    try:
        for line in CPUINFO.read_text().splitlines():
            if line.split(":", 1)[0].strip() == name:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _sysctl(name: str) -> str | None:
    """A macOS sysctl value, or None where there is no sysctl or no such key."""
    try:
        result = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def cpu_model() -> str:
    model = _cpuinfo_field("model name")
    if model is None and platform.system() == "Darwin":
        model = _sysctl("machdep.cpu.brand_string")
    return model or platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> set[str]:
    """The CPU's feature flags in Linux's spelling (avx2, avx512_bf16, amx_bf16, ...); empty where
    the system does not say (Windows, or an ARM CPU without them)."""
    flags = _cpuinfo_field("flags")
    if flags is not None:
        return set(flags.split())
    if platform.system() == "Darwin":  # Intel Macs: "AVX2 ... AVX512F"; Apple silicon has none of these
        words = " ".join(filter(None, (_sysctl("machdep.cpu.features"), _sysctl("machdep.cpu.leaf7_features"))))
        return {word.lower().replace(".", "_") for word in words.split()}
    return set()


def cpu_features(flags: set[str] | None = None) -> list[str]:
    """The deciding features this CPU has, fastest first; `["none"]` when it has none of them."""
    flags = cpu_flags() if flags is None else flags
    return [name for name in DECIDING_FEATURES if name in flags] or ["none"]


def matmul_peak(size: int = 2048, repeats: int = 20) -> float:
    """Sustained fp32 GFLOP/s of a large matmul: the machine's practical peak."""
    import tensorflow as tf

    a = tf.random.stateless_normal([size, size], seed=[1, 2])
    b = tf.random.stateless_normal([size, size], seed=[3, 4])
    matmul = tf.function(tf.matmul)
    matmul(a, b).numpy()

    def burst():
        for _ in range(repeats):
            c = matmul(a, b)
        c.numpy()

    def seconds() -> float:
        started = time.perf_counter()
        burst()
        return time.perf_counter() - started

    return max(2 * size**3 * repeats / seconds() / 1e9 for _ in range(3))


def machine_info(with_matmul_peak: bool = False) -> dict:
    """Where a result was measured; with `with_matmul_peak`, also the fp32 matmul GFLOP/s (~1 s)."""
    import tensorflow as tf

    info = {
        "cpu": cpu_model(),
        "cpu_features": cpu_features(),
        "cores": os.cpu_count(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
    }
    if with_matmul_peak:
        info["matmul_peak_gflops"] = round(matmul_peak(repeats=5), 1)
    return info
