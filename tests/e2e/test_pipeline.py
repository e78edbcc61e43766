"""End to end: `dvc repro` on the committed fixture in a throw-away git repo (marked slow)."""

import gzip
import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import FIXTURE, make_repo, run

pytestmark = pytest.mark.slow
VARIANTS = ["mlp_a", "champion"]
# A student of mlp_a that both starts from its weights and distils from it: one cheap stage covers
# both, and every change to mlp_a below must re-train it.
STUDENT = {"architecture": "mlp_a", "teacher": "mlp_a", "init_from": "teacher", "distill": 0.5, "epochs": 1}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    # An MLP and the bf16 residual champion with augmentation: every kind of stage
    # output (Grad-CAM or not, flip TTA, mixed precision) without training all nine variants.
    path = make_repo(tmp_path_factory.mktemp("pipeline") / "repo", epochs=1, variants=VARIANTS)
    params = yaml.safe_load((path / "params.yaml").read_text())
    params["students"] = {"mlp_a_kd": {**STUDENT, "batch_size": 64}}
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro"], path, timeout=1200)
    run(["git", "add", "-A"], path)
    run(["git", "commit", "-qm", "first run"], path)
    return path


def variants(repo: Path) -> list[str]:
    """Every trained model: the variants and the students."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    return [*params["variants"], *params.get("students", {})]


def test_a_student_depends_on_its_teachers_model(repo):
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    teacher = next(out for out in lock["train@mlp_a"]["outs"] if out["path"] == "models/variants/mlp_a")
    student_deps = {dep["path"]: dep for dep in lock["train_student@mlp_a_kd"]["deps"]}
    assert student_deps["models/variants/mlp_a"]["md5"] == teacher["md5"]
    assert "--teacher-dir models/variants/mlp_a" in lock["train_student@mlp_a_kd"]["cmd"]
    assert lock["evaluate_student@mlp_a_kd"]["params"]["params.yaml"]["students.mlp_a_kd"]["teacher"] == "mlp_a"


def test_every_declared_output_exists(repo):
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    outs = [out["path"] for stage in lock["stages"].values() for out in stage.get("outs", [])]
    assert len(outs) > 30
    for path in outs:
        assert (repo / path).exists(), path
    for name in variants(repo):
        assert (repo / "models" / "variants" / name / "model.keras").is_file()
        for picture in ("confusion.png", "predictions.png", "misclassified.png", "confusion.csv"):
            assert (repo / "plots" / "eval" / name / picture).is_file()
        assert (repo / "plots" / "augment" / f"{name}.png").is_file()
        assert (repo / "plots" / "train" / name / "plots" / "metrics" / "eval" / "accuracy.tsv").is_file()
    assert (repo / "models" / "best" / "model.keras").is_file()
    for name in ("champion",):
        assert (repo / "plots" / "eval" / name / "gradcam.png").is_file()
    assert not (repo / "plots" / "eval" / "mlp_a" / "gradcam.png").exists()  # no feature maps in an MLP
    for picture in ("leaderboard.png", "per_class.png", "curves.png"):
        assert (repo / "plots" / "compare" / picture).is_file()
    export = json.loads((repo / "metrics" / "export.json").read_text())
    for name in ("keras", "saved_model", "tflite_float32", "tflite_int8"):
        assert 0 <= export[name]["accuracy"] <= 1 and export[name]["size_bytes"] > 0, name
    assert export["saved_model"]["accuracy"] == export["keras"]["accuracy"]
    for name in ("saved_model/saved_model.pb", "model_float32.tflite", "model_int8.tflite"):
        assert (repo / "models" / "export" / name).is_file()
    assert run(["dvc", "status"], repo).stdout.strip().endswith("up to date.")


def test_metrics_are_fractions(repo):
    for name in variants(repo):
        evaluation = json.loads((repo / "metrics" / "eval" / f"{name}.json").read_text())
        for key in ("accuracy", "macro_f1", "val_accuracy"):
            assert 0.0 <= evaluation[key] <= 1.0, (name, key)
        assert evaluation["loss"] > 0 and evaluation["epochs_run"] == 1 and evaluation["train_minutes"] >= 0
        scores = json.loads((repo / "metrics" / "scores" / f"{name}.json").read_text())
        for key in ("macro_precision", "macro_recall"):
            assert 0.0 <= scores[key] <= 1.0, (name, key)
        assert len(scores["per_class"]) == 10
        training = json.loads((repo / "metrics" / "train" / f"{name}.json").read_text())
        assert training["epochs_run"] == 1 and training["params"] > 0
        assert evaluation["train_minutes"] == round(training["train_seconds"] / 60, 2)
    summary = json.loads((repo / "metrics" / "summary.json").read_text())
    assert set(summary["variants"]) == set(variants(repo))
    best = json.loads((repo / "metrics" / "best.json").read_text())
    assert best["variant"] == summary["best_variant"] and best["test_accuracy"] == summary["best_test_accuracy"]
    assert summary["ensemble"]["members"] and 0 <= summary["ensemble"]["test_accuracy"] <= 1
    data = json.loads((repo / "metrics" / "data.json").read_text())
    assert data["train"]["rows"] == 500 and data["test"]["rows"] == 200


def test_metrics_show_and_plots_render(repo):
    shown = json.loads(run(["dvc", "metrics", "show", "--json"], repo).stdout)
    assert "metrics/eval/champion.json" in json.dumps(shown)
    rendered = json.loads(run(["dvc", "plots", "show", "--json"], repo).stdout)
    # plots/bench comes from `make bench` and plots/report from `fmnist pareto` (`make plots`),
    # which the fixture pipeline does not run.
    outside = ("plots/bench", "plots/report")
    errors = [e for e in rendered.get("errors", []) if not e.get("source", "").startswith(outside)]
    assert not errors, errors
    empty = [path for path, entries in rendered["data"].items() if not entries]
    assert all(path.startswith(outside) for path in empty), empty
    kinds = {path: entries[0]["type"] for path, entries in rendered["data"].items() if entries}
    for name in variants(repo):
        assert kinds[f"plots/eval/{name}/confusion.csv"] == "vega"
        assert kinds[f"plots/eval/{name}/confusion.png"] == "image"
        assert kinds[f"plots/train/{name}/plots/metrics/eval/accuracy.tsv"] == "vega"
    assert kinds["plots/compare/leaderboard.png"] == "image"
    run(["dvc", "plots", "show", "-o", "dvc_plots"], repo)
    html = (repo / "dvc_plots" / "index.html").read_text()
    assert "confusion_csv" in html and "leaderboard.png" in html


@pytest.mark.parametrize("name", ["mlp_a", "champion"])  # float32; mixed_bfloat16 with augmentation
def test_forced_rerun_gives_identical_metrics_and_predictions(repo, name):
    """Re-training a variant from scratch on the same machine reproduces its model and evaluation
    bit for bit, so dvc.lock records the same model hash (no commit, no new remote copy)."""
    outputs = [repo / "metrics" / "scores" / f"{name}.json", repo / "data" / "predictions" / f"{name}.npz"]
    outputs.append(repo / "models" / "variants" / name / "model.keras")
    before = [path.read_bytes() for path in outputs]
    headline = repo / "metrics" / "eval" / f"{name}.json"

    def untimed() -> dict:  # the headline's training minutes are a timing, the rest the model's
        return {k: v for k, v in json.loads(headline.read_text()).items() if k != "train_minutes"}

    headline_before = untimed()

    def model_hash() -> list:
        outs = yaml.safe_load((repo / "dvc.lock").read_text())["stages"][f"train@{name}"]["outs"]
        return [out for out in outs if out["path"].startswith("models/")]  # the metrics hold timings

    lock_before = model_hash()
    run(["dvc", "repro", "--force", "--single-item", f"train@{name}", f"evaluate@{name}"], repo)
    assert [path.read_bytes() for path in outputs] == before
    assert untimed() == headline_before
    assert model_hash() == lock_before

    # Downstream, only the timings moved: compare re-runs on them, writes models/best with the
    # same bytes, and export (whose inputs are models/best and the data) stays up to date.
    def best_model() -> list:
        outs = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["compare"]["outs"]
        return [out for out in outs if out["path"] == "models/best"]

    best = best_model()
    output = run(["dvc", "repro"], repo).stdout
    assert "Running stage 'export'" not in output, output
    assert best_model() == best


def test_param_change_reruns_only_that_variant_and_diff_reports_it(repo):
    # The baseline: the workspace as earlier tests left it (a forced rerun moves training minutes).
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "before the change", "--allow-empty"], repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["variants"]["mlp_a"]["learning_rate"] = 0.02
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    output = run(["dvc", "repro"], repo).stdout
    ran = sorted(line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage"))
    # export re-runs only if mlp_a became the best model (models/best changed).
    # The student of mlp_a re-trains too: its teacher's model is its dep.
    assert [stage for stage in ran if stage != "export"] == [
        "compare", "curves", "evaluate@mlp_a", "evaluate_student@mlp_a_kd", "train@mlp_a", "train_student@mlp_a_kd"
    ]  # fmt: skip
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "mlp_a: higher learning rate"], repo)
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD~1", "HEAD", "--json"], repo).stdout)
    assert "metrics/eval/mlp_a.json" in diff
    assert "metrics/eval/champion.json" not in diff
    params_diff = run(["dvc", "params", "diff", "HEAD~1", "HEAD"], repo).stdout
    assert "variants.mlp_a.learning_rate" in params_diff and "0.02" in params_diff
    plots = json.loads(run(["dvc", "plots", "diff", "HEAD~1", "HEAD", "--json"], repo).stdout)
    curve = plots["data"]["plots/train/mlp_a/plots/metrics/eval/accuracy.tsv"][0]
    assert set(curve["revisions"]) == {"HEAD~1", "HEAD"}
    assert "up to date" in run(["dvc", "status"], repo).stdout


COMPARISON = ("Validation accuracy by epoch", "Validation loss by epoch", "Validation accuracy by training time")


def test_comparison_charts_hold_one_line_per_variant(repo):
    """The page's first charts compare every variant (from `variants:`, no dvc.yaml edit per variant)."""
    shown = json.loads(run(["dvc", "plots", "show", "--json"], repo).stdout)["data"]
    assert list(shown)[: len(COMPARISON)] == list(COMPARISON)  # the comparison comes first
    for title in COMPARISON:
        values = shown[title][0]["content"]["data"]["values"]
        assert {row["variant"] for row in values} == set(variants(repo)), title
    diff = json.loads(run(["dvc", "plots", "diff", "HEAD", "--json"], repo).stdout)["data"]
    assert set(diff[COMPARISON[0]][0]["revisions"]) == {"HEAD", "workspace"}


def test_plots_page_renders_offline_in_headless_chromium(repo):
    """Every plot of `make plots` renders offline: images load, Vega draws, no console errors,
    and the page asks for nothing but local files."""
    import re
    import time

    from tests.browser import (
        chromium,
        image_states,
        requested_urls,
        require_chromium,
        severe_console_errors,
        vendor_vega,
    )

    require_chromium(vega=True)
    run(["dvc", "plots", "show", "-o", "page"], repo)
    vendor_vega(repo / "page")
    page = (repo / "page" / "index.html").read_text()
    vega_ids = re.findall(r"vegaEmbed\('#([^']+)'", page)
    count_drawn = "return arguments[0].filter(i => document.getElementById(i).querySelector('canvas,svg')).length"
    with chromium() as browser:
        browser.get((repo / "page" / "index.html").as_uri())
        for _ in range(100):  # Vega renders asynchronously
            if browser.execute_script(count_drawn, vega_ids) == len(vega_ids):
                break
            time.sleep(0.2)
        drawn = browser.execute_script(count_drawn, vega_ids)
        images, errors, urls = image_states(browser), severe_console_errors(browser), requested_urls(browser)
    assert len(vega_ids) >= 15 and drawn == len(vega_ids), (len(vega_ids), drawn)
    broken = [name for name, ok in images if not ok]
    assert len(images) >= 5 + 3 * len(VARIANTS) and not broken, broken  # data, compare, per-variant eval
    assert not errors, errors
    assert urls and all(url.startswith(("file://", "data:")) for url in urls), urls


def test_offline_html_report_renders_every_image(repo):
    from tests.browser import chromium, image_states, requested_urls, require_chromium

    require_chromium()
    run(["python", "-m", "fmnist.tools.cli", "report", "--base", "HEAD", "--html", "report.html"], repo)
    with chromium() as browser:
        browser.get((repo / "report.html").as_uri())
        images, urls = image_states(browser), requested_urls(browser)
    names = [name for name, _ in images]
    assert not [name for name, ok in images if not ok], images
    for name in variants(repo):
        assert f"{name}: confusion matrix" in names and f"{name}: most confident errors" in names
    assert "champion: Grad-CAM" in names and "validation curves of every variant" in names
    assert all(url.startswith(("file://", "data:")) for url in urls), urls


def stale_stages(repo: Path) -> set[str]:
    return set(json.loads(run(["dvc", "status", "--json"], repo).stdout))


def test_editing_a_module_marks_exactly_the_stages_that_import_it(repo):
    """After editing a module a stage imports, `dvc status` lists exactly the stages that use it.
    One module per distinct set of users is edited (the static test in tests/unit/tools/test_deps.py
    checks that every module of a set is declared alike), so each kind of dep is seen by DVC."""
    from fmnist.tools.deps import EXEMPT, closure

    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    entries = {name: lock[name]["cmd"].split()[2] for name in lock}  # "python -m stages.x ..."
    users: dict[str, set[str]] = {}
    for name, entry in entries.items():
        for module in closure(repo, entry) - set(EXEMPT):
            users.setdefault(module, set()).add(name)
    assert len(users) >= 15
    one_per_set = {frozenset(stages): module for module, stages in sorted(users.items())}
    assert len(one_per_set) >= 6
    assert stale_stages(repo) == set()
    for expected, module in sorted(one_per_set.items(), key=lambda item: item[1]):
        path = repo / module
        original = path.read_bytes()
        path.write_bytes(original + b"# edited\n")
        try:
            assert stale_stages(repo) == expected, module
        finally:
            path.write_bytes(original)
    assert stale_stages(repo) == set()


def test_new_data_in_the_data_folder_reruns_fetch_and_what_follows(repo, tmp_path):
    """Replacing a CSV in data.folder changes `fetch`; `dvc repro` re-reads it and ingest follows."""
    folder = tmp_path / "my-data"
    shutil.copytree(FIXTURE, folder)
    params_before = (repo / "params.yaml").read_text()
    raw = repo / "data" / "raw" / "fashion-mnist_test.csv"
    raw_before = raw.read_bytes()
    try:
        params = yaml.safe_load(params_before)
        params["data"]["folder"] = str(folder)
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        run(["dvc", "repro", "--single-item", "fetch"], repo)
        assert raw.read_bytes() == raw_before  # same files elsewhere: same raw data, nothing downstream
        assert stale_stages(repo) == set()
        text = gzip.decompress((folder / "fashion-mnist_test.csv.gz").read_bytes()).decode()
        (folder / "fashion-mnist_test.csv.gz").write_bytes(gzip.compress(text.rsplit("\n", 2)[0].encode() + b"\n"))
        assert stale_stages(repo) == {"fetch"}
        output = run(["dvc", "repro", "--single-item", "fetch"], repo).stdout
        assert "Running stage 'fetch'" in output
        assert raw.read_bytes().count(b"\n") == raw_before.count(b"\n") - 1
        assert "ingest" in stale_stages(repo)
        (folder / "extra.txt").write_text("a new file\n")
        assert "fetch" in stale_stages(repo)
    finally:
        (repo / "params.yaml").write_text(params_before)
        run(["dvc", "repro", "--single-item", "fetch"], repo)
    assert raw.read_bytes() == raw_before and stale_stages(repo) == set()
