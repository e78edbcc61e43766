import copy
from pathlib import Path

import pytest
import yaml

from fmnist.core.config import parse_params
from fmnist.core.errors import FmnistError
from fmnist.tools import tune

ROOT = Path(__file__).resolve().parents[3]
RAW = yaml.safe_load((ROOT / "params.yaml").read_text())


def options(tmp_path, **changes) -> tune.Options:
    defaults = dict(
        study_name="s",
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        variant="champion_fast",
        trials=1,
        timeout=None,
        sampler="tpe",
        epochs=5,
        out=tmp_path / "s.json",
        plots=tmp_path / "plots",
    )
    return tune.Options(**{**defaults, **changes})


def test_trial_values_become_dvc_overrides_of_the_variant():
    args = tune.overrides("mlp_a", {"learning_rate": 0.0031622776601683794, "augment.crop": 2, "optimizer": "sgd"})
    assert args == [
        "-S", "++variants.mlp_a.learning_rate=0.0031622776601683794",
        "-S", "++variants.mlp_a.augment.crop=2",
        "-S", "++variants.mlp_a.optimizer=sgd",
    ]  # fmt: skip


def test_storage_urls_lose_their_password_in_messages():
    assert tune.redact("postgresql+psycopg://fm:secret@db:5432/optuna") == "postgresql+psycopg://fm:***@db:5432/optuna"
    assert tune.redact("sqlite:///tune.db") == "sqlite:///tune.db"


def test_sqlite_paths_become_absolute_for_dvcs_temporary_copies(tmp_path):
    assert tune.absolute_storage("sqlite:///tune.db", tmp_path) == f"sqlite:///{tmp_path / 'tune.db'}"
    assert tune.absolute_storage("sqlite:////srv/t.db", tmp_path) == "sqlite:////srv/t.db"
    assert tune.absolute_storage("postgresql+psycopg://h/db", tmp_path) == "postgresql+psycopg://h/db"


def test_a_failed_trial_names_the_stages_own_error():
    own = "error: params.yaml: variants.v.batch_size: must be > 0, got 0"
    output = f"Running stage 'train@v':\n{own}\nERROR: failed to reproduce 'train@v'"
    assert tune.failure_line(output, 1) == own
    assert tune.failure_line("", 255) == "dvc exp run exited 255"


def test_the_grid_sampler_walks_choices_and_steps():
    raw = copy.deepcopy(RAW)
    raw["tune"]["sampler"] = "grid"
    raw["tune"]["space"] = {"epochs": {"low": 5, "high": 15, "step": 5}, "batch_size": {"choices": [64, 128]}}
    space = dict(parse_params(raw).tune.space)
    sampler = tune.make_sampler("grid", space, seed=0)
    assert sampler._search_space == {"batch_size": [64, 128], "epochs": [5, 10, 15]}


def test_a_study_with_another_space_is_refused(tmp_path):
    config = parse_params(RAW).tune
    study = tune.open_study(options(tmp_path), config)
    assert tune.SPACE_ATTR in study.user_attrs
    tune.open_study(options(tmp_path), config)  # the same space joins
    raw = copy.deepcopy(RAW)
    raw["tune"]["space"] = {"learning_rate": {"low": 0.0001, "high": 0.1, "log": True}}
    with pytest.raises(FmnistError, match="--study-name s: the study exists with another variant or space"):
        tune.open_study(options(tmp_path), parse_params(raw).tune)


def test_an_unreachable_storage_is_one_line(tmp_path):
    bad = options(tmp_path, storage="postgresql+psycopg://fm:secret@127.0.0.1:1/optuna")
    with pytest.raises(FmnistError) as error:
        tune.open_study(bad, parse_params(RAW).tune)
    message = str(error.value)
    assert message.startswith("--storage postgresql+psycopg://fm:***@127.0.0.1:1/optuna: cannot open the study")
    assert "secret" not in message and "\n" not in message


def test_the_command_refuses_what_it_cannot_tune(tmp_path, monkeypatch):
    from fmnist.tools.cli import main

    monkeypatch.chdir(ROOT)
    raw = copy.deepcopy(RAW)
    del raw["tune"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(SystemExit):
        main(["tune", "--params", str(tmp_path / "params.yaml")])
    with pytest.raises(SystemExit):
        main(["tune", "--variant", "champion_long"])  # a preset: `fmnist preset` first
    with pytest.raises(SystemExit):
        main(["tune", "--trials", "0"])


def test_a_recreated_study_never_reuses_an_experiment_name(tmp_path):
    import datetime
    import subprocess

    from fmnist.tools.tune import experiment_name

    for command in (["git", "init", "-q"], ["git", "commit", "-q", "--allow-empty", "-m", "base"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", *command[1:]], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    started = datetime.datetime(2026, 12, 3, 15, 4, 5)
    assert experiment_name("s", 0, started, tmp_path, head) == "s-0"
    subprocess.run(["git", "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/s-0", head], cwd=tmp_path, check=True)
    assert experiment_name("s", 0, started, tmp_path, head) == "s-0-20261203150405"
    assert experiment_name("s", 1, started, tmp_path, head) == "s-1"
