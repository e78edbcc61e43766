import itertools

import pytest

from fmnist.report.pareto import Point, axis_range, front, points
from fmnist.tools.cli import main
from tests.helpers import ROOT

SUMMARY = {
    "variants": {
        "fast": {"test_accuracy": 0.90, "train_seconds": 60.0},
        "slow_worse": {"test_accuracy": 0.89, "train_seconds": 600.0},
        "slow_better": {"test_accuracy": 0.94, "train_seconds": 900.0},
    }
}
SEEDS = {
    "variants": {
        "slow_better": {
            "runs": [
                {"seed": 42, "test_accuracy": 0.94, "train_seconds": 900.0},
                {"seed": 1, "test_accuracy": 0.95, "train_seconds": 960.0},
            ]
        }
    }
}


def test_points_take_every_run_and_seed_once():
    found = points(SUMMARY, SEEDS)
    assert len(found) == 4  # the seeds' first run is the committed one, counted once
    assert Point("slow_better", 1, 16.0, 0.95) in found
    stale = {"variants": {"fast": {"runs": [{"seed": 42, "test_accuracy": 0.91, "train_seconds": 30.0}]}}}
    assert Point("fast", 42, 0.5, 0.91) in points(SUMMARY, stale)  # measured beside an older run


def test_each_point_names_the_cpu_it_trained_on():
    machine = {"cpu": "Intel(R) Xeon(R) Processor", "cpu_features": ["amx_bf16", "avx2"]}
    slow = {"seed": 1, "test_accuracy": 0.95, "train_seconds": 960.0, "cpu": "AMD EPYC", "cpu_features": ["avx2"]}
    seeds = {"variants": {"slow_better": {"runs": [SEEDS["variants"]["slow_better"]["runs"][0], slow]}}}
    found = points({**SUMMARY, "machine": machine}, seeds)
    assert {p.cpu for p in found if p.seed is None} == {"Intel(R) Xeon(R) Processor (amx_bf16, avx2)"}
    assert Point("slow_better", 1, 16.0, 0.95, "AMD EPYC (avx2)") in found


def test_front_keeps_only_runs_nothing_beats_on_both_axes():
    best = front(points(SUMMARY, SEEDS))
    assert [p.variant for p in best] == ["fast", "slow_better", "slow_better"]
    assert all(a.minutes <= b.minutes and a.accuracy < b.accuracy for a, b in itertools.pairwise(best))


def test_axes_zoom_to_the_data():
    low, high = axis_range([0.89, 0.95])
    assert 0.88 < low < 0.89 and 0.95 < high < 0.96


def test_committed_chart_is_the_one_the_committed_metrics_draw(tmp_path, capsys):
    out = tmp_path / "pareto.png"
    metrics = ROOT / "metrics"
    main(
        [
            "pareto",
            "--summary",
            str(metrics / "summary.json"),
            "--seeds",
            str(metrics / "seeds.json"),
            "--out",
            str(out),
        ]
    )
    assert "front:" in capsys.readouterr().out
    assert out.read_bytes() == (ROOT / "plots/report/pareto.png").read_bytes(), "run `make plots` and commit"


def test_no_timed_variant_is_an_error(tmp_path):
    (tmp_path / "summary.json").write_text('{"variants": {}}')
    with pytest.raises(SystemExit):
        main(["pareto", "--summary", str(tmp_path / "summary.json"), "--seeds", str(tmp_path / "none.json")])
