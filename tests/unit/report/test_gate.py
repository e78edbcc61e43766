import copy
import json
import shutil
import subprocess

import pytest

from fmnist.report.gate import gate, metric_changes, summary_at
from fmnist.report.pages import build_report
from fmnist.tools.cli import main
from tests.helpers import ROOT
from tests.unit.tools.test_cli import SUMMARY


def worse(points: float) -> dict:
    summary = copy.deepcopy(SUMMARY)
    summary["best_test_accuracy"] -= points / 100
    summary["variants"]["b"]["test_accuracy"] -= points / 100
    return summary


def test_gate_passes_small_drops_and_fails_large_ones():
    base = copy.deepcopy(SUMMARY)
    base["variants"]["a"]["floor"] = 0.0
    current = copy.deepcopy(base)
    assert gate(current, base, 0.3) == []
    small = worse(0.2)
    small["variants"]["a"]["floor"] = 0.0
    assert gate(small, base, 0.3) == []
    large = worse(0.5)
    large["variants"]["a"]["floor"] = 0.0
    (problem,) = gate(large, base, 0.3)
    assert "fell 0.50 points" in problem and "93.00% -> 92.50%" in problem


def test_gate_checks_floors_and_handles_a_missing_base():
    problems = gate(SUMMARY, None, 0.3)
    assert problems == ["a: test accuracy 85.00% is below its floor 88.00%"]


def test_gate_checks_the_int8_export():
    ok = {"int8_within_limit": True, "int8_accuracy_drop_points": 0.1}
    bad = {"int8_within_limit": False, "int8_accuracy_drop_points": 0.8}
    base = copy.deepcopy(SUMMARY)
    base["variants"]["a"]["floor"] = 0.0
    assert gate(base, base, 0.3, ok) == []
    (problem,) = gate(base, base, 0.3, bad)
    assert "int8 TFLite model loses 0.80 points" in problem


def test_metric_changes_rows():
    rows = metric_changes(worse(1.0), SUMMARY)
    assert rows[2] == "| `b` | 92.00% | -1.00 pt | 0.9290 | 2.0 min |"
    assert metric_changes(SUMMARY, None)[2].endswith("| new | 0.9290 | 2.0 min |")


def test_report_sections():
    report = build_report(worse(1.0), SUMMARY, "main", "| Path | Param |", ["b dropped"])
    for heading in (
        "### Leaderboard",
        "### Changes against `main`",
        "### Parameters changed",
        "### Regression gate",
    ):
        assert heading in report
    assert "- ❌ b dropped" in report
    # Pictures render where the report is posted: a Mermaid chart GitHub draws, no relative paths.
    assert "```mermaid\nxychart-beta" in report and "bar [92.0, 85.0]" in report and "line [93.0, 85.0]" in report
    assert "](plots/" not in report and "<img" not in report
    assert "No parameter changes." in build_report(SUMMARY, SUMMARY, "main", "", [])


@pytest.fixture
def git_repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in (
        ["git", "init", "-q"],
        ["git", "config", "user.email", "t@example.com"],
        ["git", "config", "user.name", "t"],
    ):
        subprocess.run(command, check=True)
    (tmp_path / "metrics").mkdir()
    passing = copy.deepcopy(SUMMARY)
    passing["variants"]["a"]["floor"] = 0.0
    (tmp_path / "metrics" / "summary.json").write_text(json.dumps(passing))
    (tmp_path / "params.yaml").write_text("data: {}\nci: {max_accuracy_drop: 0.3}\nvariants: {a: {}}\n")
    shutil.copy(ROOT / "dvc.yaml", tmp_path)  # the gate's default paths come from it
    subprocess.run(["git", "add", "-A"], check=True)
    subprocess.run(["git", "commit", "-qm", "base"], check=True)
    return tmp_path


def test_gate_command_against_git_base(git_repo, capsys):
    assert summary_at("HEAD", "metrics/summary.json")["best_variant"] == "b"
    main(["gate", "--base", "HEAD"])
    assert "gate: passed" in capsys.readouterr().out
    regressed = worse(0.5)
    regressed["variants"]["a"]["floor"] = 0.0
    (git_repo / "metrics" / "summary.json").write_text(json.dumps(regressed))
    with pytest.raises(SystemExit) as exit_info:
        main(["gate", "--base", "HEAD"])
    assert exit_info.value.code == 1
    assert "fell 0.50 points" in capsys.readouterr().out
