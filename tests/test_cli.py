import json
from pathlib import Path

import pytest

from fmnist.cli import RESULTS_END, RESULTS_START, main, results_table, update_readme
from fmnist.errors import FmnistError

ROOT = Path(__file__).resolve().parents[1]

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
    assert lines[2] == "| `b` | 93.00% ✅ | 92.00% | 0.9290 | 1,000 | 2.0 min |"
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
