from pathlib import Path

import pytest
import yaml

from fmnist.core.errors import FmnistError
from fmnist.tools.pipeline import per_variant_folder, stage_path
from tests.helpers import ROOT

DVC_YAML = ROOT / "dvc.yaml"


def test_paths_come_from_the_stage_commands():
    assert stage_path("compare", "summary", dvc_yaml=DVC_YAML) == Path("metrics/summary.json")
    assert stage_path("train", "model_dir", "champion", dvc_yaml=DVC_YAML) == Path("models/variants/champion")
    assert per_variant_folder("evaluate", "metrics", dvc_yaml=DVC_YAML) == Path("metrics/eval")


def test_a_moved_path_moves_for_the_tools(tmp_path):
    moved = tmp_path / "dvc.yaml"
    moved.write_text(DVC_YAML.read_text().replace("--summary metrics/summary.json", "--summary results/all.json"))
    assert stage_path("compare", "summary", dvc_yaml=moved) == Path("results/all.json")


def test_unknown_stage_flag_or_missing_variant_is_one_clear_error(tmp_path):
    with pytest.raises(FmnistError, match="no stage 'nope'"):
        stage_path("nope", "summary", dvc_yaml=DVC_YAML)
    with pytest.raises(FmnistError, match="passes no --nope"):
        stage_path("compare", "nope", dvc_yaml=DVC_YAML)
    with pytest.raises(FmnistError, match="needs a variant"):
        stage_path("train", "model_dir", dvc_yaml=DVC_YAML)
    with pytest.raises(FmnistError, match="not found"):
        stage_path("compare", "summary", dvc_yaml=tmp_path / "dvc.yaml")


@pytest.mark.parametrize(
    ("variant_stage", "student_stage"), [("train", "train_student"), ("evaluate", "evaluate_student")]
)
def test_student_stages_stay_in_step_with_the_variant_stages(variant_stage, student_stage):
    """DVC's foreach cannot hold an optional per-item dep, so students have stages of their own:
    apart from the teacher and the params section they must be the variant stages, line for line."""
    stages = yaml.safe_load(DVC_YAML.read_text())["stages"]
    variant, student = stages[variant_stage], stages[student_stage]
    assert (variant["foreach"], student["foreach"]) == ("${variants}", "${students}")
    teacher = "models/variants/${item.teacher}"
    student_do = dict(student["do"])
    student_do["cmd"] = student_do["cmd"].replace(f" --teacher-dir {teacher}", "")
    student_do["deps"] = [dep for dep in student_do["deps"] if dep != teacher]
    # A student's whole section: it may leave `augment:` out, and its teacher keys change training too.
    student_do["params"] = [p.replace("students.${key}", "variants.${key}") for p in student_do["params"]]
    variant_do = dict(variant["do"])
    variant_do["params"] = [p.replace("variants.${key}.augment", "variants.${key}") for p in variant_do["params"]]
    assert student_do == variant_do
    assert (teacher in student["do"]["deps"]) == (variant_stage == "train")
