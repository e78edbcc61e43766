import pytest

from fmnist.core.variants import VariantConfig
from fmnist.train.precision import choose_precision, native_bf16


@pytest.mark.parametrize(
    ("flags", "environ", "expected"),
    [
        ({"avx2", "amx_bf16", "avx512_bf16"}, {}, True),  # Intel Xeon with AMX
        ({"avx2", "avx512f", "avx512_bf16"}, {}, True),  # AMD EPYC Zen 4
        ({"avx2", "avx512f"}, {}, False),  # AVX-512 without bf16
        ({"avx2", "fma"}, {}, False),  # AVX2 only
        ({"avx512_bf16"}, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, False),  # oneDNN capped below bf16
        ({"avx512_bf16"}, {"DNNL_MAX_CPU_ISA": "avx512_core"}, False),
        ({"amx_bf16"}, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}, True),
        (set(), {}, False),  # no /proc/cpuinfo
    ],
)
def test_native_bf16_needs_the_instructions_and_a_onednn_that_may_use_them(flags, environ, expected):
    assert native_bf16(flags, environ) is expected


def never_probe(variant, precisions):
    raise AssertionError("probed although the answer was known")


@pytest.mark.parametrize("explicit", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_explicit_precisions_are_kept(explicit):
    assert choose_precision(VariantConfig(name="v", architecture="mlp_a", precision=explicit), 0, never_probe) == (
        explicit,
        {},
    )


def test_auto_is_mixed_float16_on_gpus_and_float32_without_native_bf16(monkeypatch):
    auto = VariantConfig(name="v", architecture="mlp_a", precision="auto")
    assert choose_precision(auto, 2, never_probe) == ("mixed_float16", {})
    monkeypatch.setattr("fmnist.train.precision.cpu_flags", lambda: {"avx2", "avx512f"})
    assert choose_precision(auto, 0, never_probe) == ("float32", {})


@pytest.mark.parametrize(
    ("bf16_ms", "expected"),
    [(60.0, "mixed_bfloat16"), (90.0, "mixed_bfloat16"), (92.0, "float32"), (130.0, "float32")],
)
def test_auto_takes_bf16_only_when_the_probe_finds_it_at_least_10_percent_faster(monkeypatch, bf16_ms, expected):
    monkeypatch.setattr("fmnist.train.precision.cpu_flags", lambda: {"avx512_bf16"})
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    timings = {"float32": 100.0, "mixed_bfloat16": bf16_ms}
    chosen = choose_precision(
        VariantConfig(name="v", architecture="mlp_a", precision="auto"), 0, lambda variant, precisions: timings
    )
    assert chosen == (expected, timings)
