import numpy as np

from fmnist.bench import matmul_peak, time_to_accuracy, training_throughput
from fmnist.config import VariantConfig


def test_time_to_accuracy_reads_dvclive_logs(tmp_path):
    metrics = tmp_path / "plots" / "metrics"
    (metrics / "train").mkdir(parents=True)
    (metrics / "eval").mkdir(parents=True)
    (metrics / "train" / "elapsed_seconds.tsv").write_text("step\telapsed_seconds\n0\t10.5\n1\t21.0\n")
    (metrics / "eval" / "accuracy.tsv").write_text("step\taccuracy\n0\t0.8\n1\t0.9\n")
    assert time_to_accuracy(tmp_path) == [(10.5, 0.8), (21.0, 0.9)]
    assert time_to_accuracy(tmp_path / "missing") == []


def test_peak_and_throughput_are_positive(fixture_train):
    assert matmul_peak(size=256, repeats=2) > 0.1
    images, labels = fixture_train
    variant = VariantConfig(name="t", architecture="cnn_basic", batch_size=32)
    rate = training_throughput(variant, images.astype(np.float32)[..., None] / 255, labels, steps=3)
    assert rate > 1


def test_pipeline_overheads_skip_noop_repro_outside_a_clean_repo(tmp_path, monkeypatch):
    from fmnist.bench import pipeline_overheads

    monkeypatch.chdir(tmp_path)  # not a DVC repo: `dvc status` fails, so no repro is timed
    assert pipeline_overheads(tmp_path / "raw") == {"noop_repro_seconds": None, "ingest_seconds": None}


def test_plot_labels_test_accuracy(tmp_path):
    from fmnist.bench import plot_time_to_accuracy

    result = {"variants": {"champion": {"time_to_accuracy": [[60.0, 0.9], [120.0, 0.93]], "test_accuracy": 0.94}}}
    plot_time_to_accuracy(result, tmp_path / "tta.png", 0.9274)
    assert (tmp_path / "tta.png").stat().st_size > 1000
