from pathlib import Path

import pytest

from fmnist.core.stage_args import parse_stage_args


def test_paths_become_required_dashed_options(monkeypatch):
    monkeypatch.setattr("sys.argv", ["stage", "--variant", "mlp_a", "--data-dir", "data/processed"])
    args = parse_stage_args("doc", variant=True, data_dir="inputs")
    assert args.params == "params.yaml"
    assert args.variant == "mlp_a"
    assert args.data_dir == Path("data/processed")


def test_a_missing_path_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["stage", "--params", "p.yaml"])
    with pytest.raises(SystemExit) as exit_info:
        parse_stage_args("doc", model_dir="")
    assert exit_info.value.code == 2
    assert "--model-dir" in capsys.readouterr().err
