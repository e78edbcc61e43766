"""Machine facts recorded with every result, on Linux, macOS and where neither is found."""

import os
import subprocess

import pytest

from fmnist.core import system
from fmnist.core.system import cpu_features, cpu_flags, cpu_model, machine_info


def test_machine_info_names_cpu_features_cores_and_versions():
    info = machine_info()
    assert info["cpu"] == cpu_model() and info["cpu"]
    assert info["cpu_features"] == cpu_features() and "matmul_peak_gflops" not in info
    assert info["cores"] == os.cpu_count() and info["gpus"] == 0
    assert info["tensorflow"].count(".") >= 2 and info["onednn"] == os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")


def test_machine_info_can_measure_the_matmul_peak(monkeypatch):
    monkeypatch.setattr("fmnist.core.system.matmul_peak", lambda repeats: 123.456)
    assert machine_info(with_matmul_peak=True)["matmul_peak_gflops"] == 123.5


def test_linux_reads_model_and_flags_from_cpuinfo(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512f avx512_bf16\n\n")
    monkeypatch.setattr(system, "CPUINFO", cpuinfo)
    assert cpu_model() == "AMD EPYC 9R14"
    assert cpu_flags() == {"fpu", "avx2", "avx512f", "avx512_bf16"}
    assert cpu_features() == ["avx512_bf16", "avx512f", "avx2"]


def fake_sysctl(values: dict):
    def run(command, **kwargs):
        assert command[:2] == ["sysctl", "-n"]
        value = values.get(command[2])
        return subprocess.CompletedProcess(command, 0 if value else 1, stdout=f"{value or ''}\n", stderr="")

    return run


@pytest.mark.parametrize(
    ("values", "model", "features"),
    [
        ({"machdep.cpu.brand_string": "Apple M2"}, "Apple M2", ["none"]),
        (
            {
                "machdep.cpu.brand_string": "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz",
                "machdep.cpu.features": "FPU SSE4.2 AVX1.0",
                "machdep.cpu.leaf7_features": "BMI1 AVX2 SMEP",
            },
            "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz",
            ["avx2"],
        ),
    ],
)
def test_macos_asks_sysctl_without_proc_cpuinfo(tmp_path, monkeypatch, values, model, features):
    monkeypatch.setattr(system, "CPUINFO", tmp_path / "absent")
    monkeypatch.setattr(system.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(system.subprocess, "run", fake_sysctl(values))
    assert cpu_model() == model and cpu_features() == features


def test_elsewhere_the_model_comes_from_platform(tmp_path, monkeypatch):
    monkeypatch.setattr(system, "CPUINFO", tmp_path / "absent")
    monkeypatch.setattr(system.platform, "system", lambda: "Windows")
    monkeypatch.setattr(system.platform, "processor", lambda: "AMD64 Family 25 Model 17, AuthenticAMD")
    assert cpu_model() == "AMD64 Family 25 Model 17, AuthenticAMD"
    assert cpu_flags() == set() and cpu_features() == ["none"]
    monkeypatch.setattr(system.platform, "processor", lambda: "")
    monkeypatch.setattr(system.platform, "machine", lambda: "ARM64")
    assert cpu_model() == "ARM64"


def test_a_missing_sysctl_is_no_error(tmp_path, monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("sysctl")

    monkeypatch.setattr(system, "CPUINFO", tmp_path / "absent")
    monkeypatch.setattr(system.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(system.subprocess, "run", missing)
    monkeypatch.setattr(system.platform, "processor", lambda: "arm")
    assert cpu_model() == "arm" and cpu_flags() == set()
