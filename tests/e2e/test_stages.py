"""Stage scripts as DVC runs them: clear one-line errors, non-zero exit, earlier outputs kept."""

import gzip
import shutil
import sys
from pathlib import Path

from tests.helpers import FIXTURE, make_repo, run


def stage(repo: Path, name: str, *args: str, check: bool = False):
    return run([sys.executable, "-m", f"stages.{name}", *args], repo, check=check)


def test_fetch_and_ingest_on_fixture_then_bad_csv_keeps_outputs(tmp_path):
    repo = make_repo(tmp_path / "repo", variants=["mlp_a"])
    raw = ["--train", "data/raw/train.csv", "--test", "data/raw/test.csv"]
    stage(repo, "fetch", *raw, check=True)
    ingest = [
        "--train-csv",
        "data/raw/train.csv",
        "--test-csv",
        "data/raw/test.csv",
        "--out-dir",
        "data/interim",
        "--metrics",
        "metrics/data.json",
        "--plots-dir",
        "plots/data",
    ]
    stage(repo, "ingest", *ingest, check=True)
    before = (repo / "metrics" / "data.json").read_bytes()
    npz_before = (repo / "data" / "interim" / "train.npz").read_bytes()

    lines = (repo / "data" / "raw" / "test.csv").read_text().splitlines()
    cells = lines[7].split(",")
    cells[100] = "abc"
    lines[7] = ",".join(cells)
    (repo / "data" / "raw" / "test.csv").write_text("\n".join(lines) + "\n")
    result = stage(repo, "ingest", *ingest)
    assert result.returncode == 2
    expected = "error: data/raw/test.csv: row 8, column pixel100: 'abc', expected an integer pixel 0-255"
    assert result.stderr.strip() == expected
    assert (repo / "metrics" / "data.json").read_bytes() == before
    assert (repo / "data" / "interim" / "train.npz").read_bytes() == npz_before


def test_fetch_reports_bad_source_in_one_line(tmp_path):
    repo = make_repo(tmp_path / "repo", variants=["mlp_a"])
    bad = tmp_path / "bad-source"
    shutil.copytree(FIXTURE, bad)
    (bad / "fashion-mnist_train.csv.gz").write_bytes(gzip.compress(b"label,pixel1\n"))
    params = (repo / "params.yaml").read_text().replace(str(FIXTURE), str(bad))
    (repo / "params.yaml").write_text(params)
    result = stage(repo, "fetch", "--train", "a.csv", "--test", "b.csv")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "fashion-mnist_train.csv.gz: row 1: header" in result.stderr


def test_unknown_variant_and_bad_params_fail_before_work(tmp_path):
    repo = make_repo(tmp_path / "repo", variants=["mlp_a"])
    result = stage(
        repo,
        "train",
        "--variant",
        "mlp_c",
        "--data-dir",
        "x",
        "--model-dir",
        "m",
        "--metrics",
        "t.json",
        "--live-dir",
        "l",
        "--preview",
        "p.png",
    )
    assert result.returncode == 2
    assert "unknown variant 'mlp_c' (did you mean 'mlp_a'?)" in result.stderr
    paths = ["--data-dir", "x", "--model-dir", "m", "--metrics", "t.json", "--live-dir", "l", "--preview", "p.png"]
    result = stage(repo, "train", "--variant", "mlp_a", *paths, "--teacher-dir", "models/variants/ann")
    assert result.returncode == 2 and not (repo / "m").exists()
    assert result.stderr.strip() == (
        "error: params.yaml: mlp_a: --teacher-dir is for students only, and every student needs one"
    )
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text().replace("epochs: 1", "epochs: -1"))
    result = stage(repo, "fetch", "--train", "a.csv", "--test", "b.csv")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: params.yaml: variants.mlp_a.epochs: must be > 0, got -1"


def test_an_ensemble_is_a_stage_between_its_members_and_its_students(tmp_path):
    """dvc.yaml wires `ensembles:` in: each member's model is a dep of the ensemble's stage, whose
    model is the student's teacher dep; the stage averages the members and refuses a mismatch."""
    import yaml

    from fmnist.core.io import save_keras_model
    from fmnist.train.models import build_model

    members = ["mlp_a", "ann", "cnn_basic"]
    repo = make_repo(tmp_path / "repo", variants=members)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["ensembles"] = {"trio": {"members": members}}
    params["students"] = {"kd": {"architecture": "mlp_a", "teacher": "trio", "distill": 0.5}}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dag = run(["dvc", "dag", "--dot"], repo).stdout
    for member in members:
        assert f'"train@{member}" -> "ensemble@trio"' in dag, dag
    assert '"ensemble@trio" -> "train_student@kd"' in dag, dag

    for member in members:
        (repo / "models" / "variants" / member).mkdir(parents=True)
        save_keras_model(build_model(member), repo / "models" / "variants" / member / "model.keras")
    dirs = [arg for member in members for arg in ("--member-dir", f"models/variants/{member}")]
    stage(repo, "ensemble", "--ensemble", "trio", *dirs, "--model-dir", "models/variants/trio", check=True)
    written = repo / "models" / "variants" / "trio" / "model.keras"
    before = written.read_bytes()
    swapped = [*dirs[2:4], *dirs[0:2], *dirs[4:]]
    result = stage(repo, "ensemble", "--ensemble", "trio", *swapped, "--model-dir", "models/variants/trio")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "ensembles.trio.members is ['mlp_a', 'ann', 'cnn_basic'], but the stage was given" in result.stderr
    # A damaged member fails after TensorFlow loaded, in one line; the earlier ensemble stays.
    (repo / "models" / "variants" / "ann" / "model.keras").write_bytes(b"not a keras archive")
    result = stage(repo, "ensemble", "--ensemble", "trio", *dirs, "--model-dir", "models/variants/trio")
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "models/variants/ann/model.keras: not a Keras .keras archive" in result.stderr
    assert written.read_bytes() == before
