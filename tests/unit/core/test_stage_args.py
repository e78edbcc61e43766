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


def test_finish_exits_zero_with_the_output_flushed():
    """A stage ends with os._exit: what it printed (buffered, to a pipe) must still arrive."""
    import subprocess
    import sys

    code = "import sys; from fmnist.core.stage_args import finish; print('written'); sys.stderr.write('note'); finish()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "written\n", "note")
