import numpy as np
import pytest
import yaml

from fmnist.tools.timing import run_overhead, stage_wall_seconds, time_to_accuracy
from tests.helpers import FIXTURE, ROOT, tiny_params


def test_time_to_accuracy_reads_dvclive_logs(tmp_path):
    metrics = tmp_path / "plots" / "metrics"
    (metrics / "train").mkdir(parents=True)
    (metrics / "eval").mkdir(parents=True)
    (metrics / "train" / "elapsed_seconds.tsv").write_text("step\telapsed_seconds\n0\t10.5\n1\t21.0\n")
    (metrics / "eval" / "accuracy.tsv").write_text("step\taccuracy\n0\t0.8\n1\t0.9\n")
    assert time_to_accuracy(tmp_path) == [(10.5, 0.8), (21.0, 0.9)]
    assert time_to_accuracy(tmp_path / "missing") == []


def test_pipeline_overheads_skip_noop_repro_outside_a_clean_repo(tmp_path, monkeypatch):
    from fmnist.tools.bench import pipeline_overheads

    monkeypatch.chdir(tmp_path)  # not a DVC repo: `dvc status` fails, so no repro is timed
    assert pipeline_overheads(tmp_path / "raw") == {"noop_repro_seconds": None, "ingest_seconds": None}


def test_plot_labels_test_accuracy(tmp_path):
    from fmnist.tools.bench import plot_time_to_accuracy

    result = {"variants": {"champion": {"time_to_accuracy": [[60.0, 0.9], [120.0, 0.93]], "test_accuracy": 0.94}}}
    plot_time_to_accuracy(result, tmp_path / "tta.png", 0.9274)
    assert (tmp_path / "tta.png").stat().st_size > 1000


LOG = """\
23:59:40 Running stage 'fetch':
23:59:44 fetch: wrote data/raw/...
23:59:45 Running stage 'ingest':
23:59:58 Updating lock file 'dvc.lock'
23:59:58 Running stage 'train@a':
00:01:10 Updating lock file 'dvc.lock'
00:01:10 Stage 'train@b' didn't change, skipping
exit 0 end 2026-11-24T00:01:11Z wall_seconds 81
"""


def test_stage_walls_and_overhead_come_from_a_timestamped_repro_log(tmp_path):
    # A stage ends at the next stage (fetch) or lock-file update; across midnight; skipped stages cost 0.
    assert stage_wall_seconds(LOG) == {"fetch": 5, "ingest": 13, "train@a": 72}
    (tmp_path / "a.json").write_text('{"train_seconds": 60.5}')
    overhead = run_overhead(LOG, tmp_path)
    assert overhead == {"stages": 3, "stage_seconds": 90, "fit_seconds": 60.5, "overhead_seconds": 29.5}
    assert run_overhead("23:00:00 nothing ran\n", tmp_path) is None


@pytest.fixture(scope="module")
def bench_on_fixture(tmp_path_factory, fixture_train):
    """The whole benchmark on the 500-image fixture: 2 steps, 1 round, 1 pair, 1 epoch, after a
    'pipeline run' of the racer whose metrics and DVCLive logs the bench reads."""
    from fmnist.core.config import load_params
    from fmnist.core.io import save_npz, write_json
    from fmnist.tools.bench import Settings, run
    from fmnist.train.loop import train_variant

    root = tmp_path_factory.mktemp("bench")
    images, labels = fixture_train
    x = images.astype(np.float32)[..., None] / 255
    save_npz(root / "data" / "train.npz", x=x[:400], y=labels[:400])
    save_npz(root / "data" / "val.npz", x=x[400:], y=labels[400:])
    params = tiny_params(yaml.safe_load((ROOT / "params.yaml").read_text()), str(FIXTURE))
    # champion (the residual network, bf16) is left out: it tripled the set-up on AVX2-only CPUs,
    # where bf16 is emulated, and the bench treats every variant alike.
    keep = ("mlp_a", "cnn_basic", "cnn_enhanced", "champion_fast")
    params["variants"] = {name: params["variants"][name] for name in keep}
    params["variants"]["cnn_enhanced"]["batch_size"] = 16  # the heaviest model: keep its epoch short
    params["ci"]["floors"] = {}  # floors may only name kept variants
    params["bench"]["determinism"] = ["cnn_basic"]
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    racer = load_params(root / "params.yaml").variants["champion_fast"]
    data = {"x_train": x[:400], "y_train": labels[:400], "x_val": x[400:], "y_val": labels[400:]}
    pipeline_run = train_variant(
        racer, data, load_params(root / "params.yaml").runtime, live_dir=root / "live" / "champion_fast", verbose=0
    )
    write_json(root / "train" / "champion_fast.json", pipeline_run.metrics)
    (root / "repro.log").write_text(LOG.replace("train@a", "train@champion_fast"))
    settings = Settings(
        params=root / "params.yaml", data_dir=root / "data", live_root=root / "live", train_dir=root / "train",
        eval_dir=root / "eval", steps=2, rounds=1, pairs=1, run_log=root / "repro.log", peak_size=256,
    )  # fmt: skip
    return run(settings), pipeline_run.metrics


def test_bench_selects_convolutional_variants_and_its_mfu_follows_from_its_own_figures(bench_on_fixture):
    result, _ = bench_on_fixture
    assert set(result["variants"]) == {"cnn_basic", "cnn_enhanced", "champion_fast"}  # not mlp_a
    for row in result["variants"].values():
        expected = row["train_gflops_per_image"] * row["images_per_second"] / result["matmul_peak_gflops"]
        assert row["mfu"] == pytest.approx(expected, rel=0.01)
        assert row["images_per_second"] == max(row["images_per_second_rounds"]) > 0
    published = result["published_recipe"]
    # The speed-up is stored to two decimals: on a slow fixture run (0.16) that is more than 1 %.
    assert published["speedup"] == pytest.approx(
        result["variants"]["cnn_enhanced"]["images_per_second"] / published["images_per_second"], rel=0.01, abs=0.0051
    )


def test_bench_determinism_cost_is_the_ratio_of_its_epoch_medians(bench_on_fixture):
    result, _ = bench_on_fixture
    assert set(result["determinism"]) == {"cnn_basic"}
    for row in result["determinism"].values():
        on, off = np.median(row["epoch_seconds_on"]), np.median(row["epoch_seconds_off"])
        assert row["cost_percent"] == pytest.approx(100 * (on / off - 1), abs=0.1)
        assert len(row["epoch_seconds_on"]) == len(row["epoch_seconds_off"]) == 1
        assert 0 < row["cpu_share_min"] <= 1.05


def test_bench_race_reproduces_the_pipeline_run_and_its_ratio_adds_up(bench_on_fixture):
    result, pipeline = bench_on_fixture
    race = result["race"]
    assert race["matches_pipeline_run"] and race["best_val_accuracy"] == pipeline["best_val_accuracy"]
    published_seconds = 30 * 400 / result["published_recipe"]["images_per_second"]
    assert race["published_seconds"] == pytest.approx(published_seconds, rel=0.01)
    assert race["time_to_accuracy_ratio"] == pytest.approx(published_seconds / race["train_seconds"], rel=0.01)
    assert race["fit_dead_seconds"] is not None and race["fit_dead_seconds"] < race["train_seconds"]


def test_bench_reads_dead_time_and_run_overhead_from_the_pipeline_logs(bench_on_fixture):
    result, pipeline = bench_on_fixture
    dead = result["fit_dead_time"]
    assert set(dead["per_variant"]) == {"mlp_a", "cnn_basic", "cnn_enhanced", "champion_fast"}
    assert dead["per_variant"]["mlp_a"] is None  # never trained here
    assert dead["max_seconds"] == dead["per_variant"]["champion_fast"]
    assert dead["within_limit"] == (dead["max_seconds"] <= 2.0)
    overhead = result["run_overhead"]
    assert overhead["fit_seconds"] == pipeline["train_seconds"]
    assert overhead["overhead_seconds"] == pytest.approx(90 - pipeline["train_seconds"], abs=0.1)
