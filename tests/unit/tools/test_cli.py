import json
from pathlib import Path

import pytest

from fmnist.core.errors import FmnistError
from fmnist.report.tables import (
    BENCH_END,
    BENCH_START,
    RESULTS_END,
    RESULTS_START,
    bench_table,
    results_table,
    update_readme,
)
from fmnist.tools.cli import main

ROOT = Path(__file__).resolve().parents[3]

SUMMARY = {
    "machine": {"cpu": "Test CPU", "cores": 2, "gpus": 0, "tensorflow": "2.21.0"},
    "best_variant": "b",
    "best_test_accuracy": 0.93,
    "variants": {
        "b": {
            "test_accuracy": 0.93,
            "macro_f1": 0.929,
            "val_accuracy": 0.94,
            "params": 1000,
            "train_seconds": 120.0,
            "floor": 0.92,
            "precision": "mixed_bfloat16",
        },
        "a": {
            "test_accuracy": 0.85,
            "macro_f1": 0.849,
            "val_accuracy": 0.86,
            "params": 50,
            "train_seconds": 6.0,
            "floor": 0.88,
        },
    },
    "ensemble": {
        "members": ["b", "a"],
        "test_accuracy": 0.935,
        "macro_f1": 0.934,
        "params": 1050,
        "train_seconds": 126.0,
    },
}


def test_results_table_rows_and_marks():
    table = results_table(SUMMARY)
    lines = table.splitlines()
    assert lines[2] == "| `b` | 93.00% ✅ | 92.00% | 0.9290 | 1,000 | 2.0 min | mixed_bfloat16 |"
    assert lines[3].endswith("| not recorded |")  # summaries written before precision was recorded
    assert lines[3].startswith("| `a` | 85.00% | 88.00% |")  # below its target: no mark
    assert "ensemble of `b`, `a` | 93.50%" in lines[4]
    assert "Test CPU, 2 cores" in table


def test_update_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{RESULTS_START}\nold\n{RESULTS_END}\noutro\n")
    assert update_readme(readme, SUMMARY) is True
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    assert update_readme(readme, SUMMARY) is False
    readme.write_text("no markers")
    with pytest.raises(FmnistError, match="no <!-- results:start -->"):
        update_readme(readme, SUMMARY)


def test_cli_prints_table(tmp_path, capsys):
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    main(["results", "--summary", str(tmp_path / "summary.json")])
    assert "| `b` | 93.00%" in capsys.readouterr().out


def test_committed_readme_matches_committed_summary():
    """The README table is generated, never typed: it must match metrics/summary.json."""
    summary = ROOT / "metrics" / "summary.json"
    if not summary.exists():
        pytest.skip("no full run committed yet")
    readme = (ROOT / "README.md").read_text()
    assert results_table(json.loads(summary.read_text())) in readme


BENCH = {
    "matmul_peak_gflops": 300.0,
    "variants": {
        "b": {"precision": "float32", "images_per_second": 800.0, "train_gflops_per_image": 0.223, "mfu": 0.59},
    },
    "published_recipe": {"images_per_second": 200.0, "speedup": 3.4},
    "determinism": {
        "b": {
            "pairs": 2,
            "epoch_seconds_on": [20.0, 21.0],
            "epoch_seconds_off": [20.2, 20.4],
            "cpu_share_min": 0.97,
            "cost_percent": 1.2,
        }
    },
    "race": {
        "variant": "b",
        "train_seconds": 240.0,
        "best_val_accuracy": 0.935,
        "published_epochs": 30,
        "published_seconds": 12000.0,
        "time_to_accuracy_ratio": 50.0,
    },
    "fit_dead_time": {"per_variant": {"b": 0.31, "a": None}, "max_seconds": 0.31, "within_limit": True},
    "run_overhead": {"stages": 24, "stage_seconds": 3600, "fit_seconds": 3480.0, "overhead_seconds": 120.0},
    "noop_repro_seconds": 2.1,
    "ingest_seconds": 6.5,
}


def test_bench_table_and_readme_block(tmp_path):
    table = bench_table(BENCH, SUMMARY)
    assert "| `b` | float32 | 93.00% | 2.0 min | 800 | 0.223 | 59% |" in table
    assert "**3.40× faster**" in table and "2.1 s" in table and "6.5 s" in table
    assert "20.0 / 21.0 s with it, 20.2 / 20.4 s without; cost of the medians +1.2 %" in table
    assert "in 4.0 min (best validation 93.50%, 93.00% test" in table and "200 min" in table
    assert "**50× sooner**" in table
    assert "at most 0.31 s (within 2 s)" in table and "2.0 min over 24 stages (60.0 min in all)" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"{RESULTS_START}\n{RESULTS_END}\nx\n{BENCH_START}\nold\n{BENCH_END}\n")
    assert update_readme(readme, SUMMARY, BENCH) is True
    assert table in readme.read_text() and "old" not in readme.read_text()


def test_committed_readme_matches_committed_bench():
    bench, summary = ROOT / "metrics" / "bench.json", ROOT / "metrics" / "summary.json"
    if not bench.exists():
        pytest.skip("no benchmark committed yet")
    table = bench_table(json.loads(bench.read_text()), json.loads(summary.read_text()))
    assert table in (ROOT / "docs" / "performance.md").read_text()


def test_results_check_fails_on_a_stale_table(tmp_path, capsys):
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    readme = tmp_path / "README.md"
    readme.write_text(f"{RESULTS_START}\nold numbers\n{RESULTS_END}\n")
    with pytest.raises(SystemExit) as stale:
        main(["results", "--summary", str(tmp_path / "summary.json"), "--check", str(readme)])
    assert stale.value.code != 0 and "generated tables differ" in capsys.readouterr().err
    main(["results", "--summary", str(tmp_path / "summary.json"), "--update-readme", str(readme)])
    main(["results", "--summary", str(tmp_path / "summary.json"), "--check", str(readme)])
    assert "match the metrics" in capsys.readouterr().out
