from pathlib import Path

import pytest

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
