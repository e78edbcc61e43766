"""fmnist.tools.seeds on `dvc exp show --json`-shaped input (the real output is covered by the queued
sweep in test_experiments.py)."""

import shutil
import statistics
import subprocess

import pytest
import yaml

from fmnist.core.errors import FmnistError
from fmnist.report.tables import readme_blocks, seeds_table
from fmnist.tools import seeds
from fmnist.tools.seeds import queue, seed_runs, study
from tests.helpers import ROOT

# What each revision's commit holds at metrics/train/champ.json (a plain output, read by git) and,
# where a test gives one, at dvc.lock.
TRAINING: dict[tuple[str, str], dict] = {}


def read_training(rev, path):
    return TRAINING.get((rev, path))


@pytest.fixture(autouse=True)
def committed(monkeypatch):
    TRAINING.clear()  # each test writes the commits it reads
    monkeypatch.setattr(seeds, "committed_file", read_training)


def revision(name, seed, accuracy, lr=0.01, rev=None):
    rev = rev or f"{name}-sha"
    params = {"variants": {"champ": {"seed": seed, "learning_rate": lr}, "other": {"seed": 42}}}
    TRAINING[(rev, "metrics/train/champ.json")] = {
        "best_val_accuracy": accuracy + 0.005,
        "train_seconds": 600.0,
        "cpu": "AMD EPYC",
    }
    return record(rev, name, params, "champ", accuracy)


def record(rev, name, params, variant, accuracy):
    """One revision as `dvc exp show --json` lists it."""
    metrics = {f"metrics/eval/{variant}.json": {"data": {"accuracy": accuracy}}}
    data = {"rev": rev, "params": {"params.yaml": {"data": params}}, "metrics": metrics}
    return {"rev": rev, "name": name, "data": data}


def shown(*experiments):
    baseline = revision(None, 42, 0.9402, rev="c0ffee1234")
    baseline["experiments"] = [{"revs": [e]} for e in experiments]
    workspace = revision(None, 42, 0.5, rev="workspace")
    return [workspace, baseline]


def test_seed_runs_take_baseline_first_and_only_seed_only_changes():
    running = revision("seed-3", 3, 0.0)
    error = {"error": {"type": "FileNotFoundError", "msg": "No such file or directory"}}
    running["data"]["metrics"] = {path: error for path in running["data"]["metrics"]}
    untrained = revision("seed-4", 4, 0.9)
    del TRAINING[("seed-4-sha", "metrics/train/champ.json")]
    commit, runs = seed_runs(
        shown(
            revision("seed-2", 2, 0.9410),
            revision("seed-1", 1, 0.9390),
            revision("lr-sweep", 42, 0.9500, lr=0.02),  # another sweep: not a seed
            revision("both", 3, 0.9600, lr=0.02),  # seed and something else changed: not a seed
            revision("seed-1-again", 1, 0.1),  # a seed counted once
            running,  # no metrics yet: skipped
            untrained,  # its commit holds no training record: skipped
        ),
        "champ",
        read_training,
    )
    assert commit == "c0ffee1234"
    assert [r["seed"] for r in runs] == [42, 1, 2]
    assert [r["experiment"] for r in runs] == [None, "seed-1", "seed-2"]
    assert runs[0]["precision"] == "not recorded" and runs[0]["cpu"] == "AMD EPYC"


def test_study_means_and_sample_sd():
    result = study(shown(revision("seed-1", 1, 0.9390), revision("seed-2", 2, 0.9410)), ["champ"])
    entry = result["variants"]["champ"]
    assert entry["seeds"] == 3
    assert entry["test_accuracy_mean"] == pytest.approx(statistics.fmean([0.9402, 0.9390, 0.9410]), abs=1e-6)
    assert entry["test_accuracy_sd"] == pytest.approx(statistics.stdev([0.9402, 0.9390, 0.9410]), abs=1e-6)
    assert entry["best_val_accuracy_mean"] == pytest.approx(entry["test_accuracy_mean"] + 0.005, abs=1e-6)


def test_study_keeps_other_variants_and_rejects_too_few_seeds():
    previous = {"variants": {"kept": {"commit": "x"}}}
    result = study(shown(revision("seed-1", 1, 0.9390)), ["champ"], minimum=2, previous=previous)
    assert set(result["variants"]) == {"kept", "champ"}
    with pytest.raises(FmnistError, match=r"champ: 2 seed\(s\) found \(42, 1\) at commit c0ffee1, expected at least 3"):
        study(shown(revision("seed-1", 1, 0.9390)), ["champ"])
    with pytest.raises(FmnistError, match=r"no commit .* 'variants\.nope\.seed'"):
        study(shown(), ["nope"])


def test_seeds_table_marks_target_and_flags_a_retrained_variant():
    seeds = study(shown(revision("seed-1", 1, 0.9390), revision("seed-2", 2, 0.9410)), ["champ"])
    summary = {"variants": {"champ": {"test_accuracy": 0.9402, "floor": 0.94}}}
    table = seeds_table(seeds, summary)
    assert "| `champ` | 42, 1, 2 | 94.02%, 93.90%, 94.10% | 94.01% ± 0.10% ✅ | 94.00% |" in table
    assert "measured `champ` on AMD EPYC at commit c0ffee1." in table and "Stale" not in table
    summary["variants"]["champ"] = {"test_accuracy": 0.95, "floor": 0.95}
    table = seeds_table(seeds, summary)
    assert "✅" not in table
    # The study's own target (a mean to reach) outranks the CI floor of single runs.
    targeted = study(
        shown(revision("seed-1", 1, 0.9390), revision("seed-2", 2, 0.9410)), ["champ"], targets={"champ": 0.9}
    )
    assert "| 90.00% |" in seeds_table(targeted, summary) and "✅" in seeds_table(targeted, summary)
    assert "**Stale:** `champ` was retrained since these seeds" in table
    assert "(mixed CPUs)" not in table
    seeds["variants"]["champ"]["runs"][1]["cpu"] = "Intel(R) Xeon(R) Processor"
    assert "10.0 min (mixed CPUs) |" in seeds_table(seeds, summary)


def test_readme_seeds_block_is_generated():
    seeds = study(shown(revision("seed-1", 1, 0.9390), revision("seed-2", 2, 0.9410)), ["champ"])
    summary = {"variants": {"champ": {"test_accuracy": 0.9402, "floor": 0.94}}}
    text = "intro\n<!-- seeds:start -->\nold\n<!-- seeds:end -->\n"
    filled = readme_blocks(text, summary, seeds=seeds)
    assert "old" not in filled and "94.01% ± 0.10%" in filled
    assert readme_blocks(text, summary) == text  # no seed study: the block is left alone


def test_the_commit_that_has_the_seeds_wins_over_a_newer_one():
    older = shown(revision("seed-1", 1, 0.9390), revision("seed-2", 2, 0.9410))[1]
    newer = revision(None, 42, 0.9402, rev="beef5678")  # committed after the sweep, no experiments
    commit, runs = seed_runs([newer, older], "champ")
    assert commit == "c0ffee1234" and len(runs) == 3


def test_a_run_names_its_cpu_with_the_deciding_features():
    from fmnist.report.tables import cpu_label

    intel = {"cpu": "Intel(R) Xeon(R) Processor", "cpu_features": ["amx_bf16", "avx512_bf16", "avx512f", "avx2"]}
    assert cpu_label(intel) == "Intel(R) Xeon(R) Processor (amx_bf16, avx512_bf16, avx512f, avx2)"
    assert cpu_label({"cpu": "AMD EPYC", "cpu_features": []}) == "AMD EPYC"


def test_a_students_seeds_are_read_from_its_own_section():
    def student_revision(name, seed, accuracy, rev):
        TRAINING[(rev, "metrics/train/kd.json")] = {"best_val_accuracy": accuracy, "train_seconds": 60.0}
        params = {"students": {"kd": {"seed": seed, "teacher": "champ", "distill": 0.7}}}
        return record(rev, name, params, "kd", accuracy)

    baseline = student_revision(None, 42, 0.93, "feed5678")
    baseline["experiments"] = [{"revs": [student_revision(f"seed-{s}", s, 0.92 + s / 1000, f"s{s}")]} for s in (1, 2)]
    result = study([baseline], ["kd"], sections={"kd": "students"})
    assert [run["seed"] for run in result["variants"]["kd"]["runs"]] == [42, 1, 2]
    with pytest.raises(FmnistError, match=r"'variants\.kd\.seed'"):  # not a variant: its seed lives elsewhere
        study([baseline], ["kd"])


def test_a_presets_seeds_are_experiments_of_its_copy_into_variants():
    preset = {"seed": 42, "epochs": 12}

    def preset_revision(name, seed, accuracy, rev, **changed):
        TRAINING[(rev, "metrics/train/pre.json")] = {"best_val_accuracy": accuracy, "train_seconds": 700.0}
        params = {
            "presets": {"pre": preset},
            "variants": {"champ": {"seed": 42}, "pre": {**preset, "seed": seed, **changed}},
        }
        return record(rev, name, params, "pre", accuracy)

    baseline = record("cafe1234", None, {"presets": {"pre": preset}, "variants": {"champ": {"seed": 42}}}, "x", 0.9)
    del baseline["data"]["metrics"]  # the committed run does not train a preset
    baseline["experiments"] = [
        {"revs": [preset_revision(f"seed-pre-{seed}", seed, accuracy, f"p{seed}")]}
        for seed, accuracy in ((2, 0.943), (42, 0.945), (1, 0.941))  # as the queue finished
    ] + [{"revs": [preset_revision("longer", 3, 0.99, "p3", epochs=30)]}]  # not the preset: not a seed
    result = study([baseline], ["pre"], sections={"pre": "presets"})["variants"]["pre"]
    assert [run["seed"] for run in result["runs"]] == [42, 1, 2]
    assert result["runs"][0]["experiment"] == "seed-pre-42" and result["test_accuracy_mean"] == pytest.approx(0.943)


def dvc_lock(seed, code="c0de", model=None):
    """A dvc.lock with champ's train and evaluate stages, as a run of `seed` with `code` writes it."""
    model_dir = {"path": "models/variants/champ", "md5": model or f"model-of-{seed}.dir"}
    train = {
        "deps": [{"path": "fmnist/train/loop.py", "md5": code}, {"path": "data/processed/train.npz", "md5": "d"}],
        "params": {"params.yaml": {"runtime": {"threads": 2}, "variants.champ": {"seed": seed, "learning_rate": 0.01}}},
        "outs": [model_dir, {"path": "metrics/train/champ.json", "md5": f"m{seed}"}],
    }
    evaluate = {
        "deps": [model_dir, {"path": "data/processed/test.npz", "md5": "t"}, {"path": "metrics/train/champ.json"}],
        "params": {"params.yaml": {"evaluate": {"tta_flip": True}}},
        "outs": [{"path": "metrics/eval/champ.json", "md5": f"e{seed}"}],
    }
    return {"schema": "2.0", "stages": {"train@champ": train, "evaluate@champ": evaluate}}


def locked(row, seed, code="c0de"):
    TRAINING[(row["rev"], "dvc.lock")] = dvc_lock(seed, code)
    return row


def test_run_inputs_leave_out_the_seed_and_the_files_the_stages_wrote():
    stages = ["train@champ", "evaluate@champ"]
    assert seeds.run_inputs(dvc_lock(1), stages, "champ") == seeds.run_inputs(dvc_lock(2), stages, "champ")
    assert seeds.run_inputs(dvc_lock(1), stages, "champ") != seeds.run_inputs(
        dvc_lock(1, code="changed"), stages, "champ"
    )
    other = dvc_lock(1)
    other["stages"]["train@champ"]["params"]["params.yaml"]["variants.champ"]["learning_rate"] = 0.02
    assert seeds.run_inputs(other, stages, "champ") != seeds.run_inputs(dvc_lock(1), stages, "champ")
    assert seeds.run_inputs(dvc_lock(1), ["train@other", "evaluate@champ"], "champ") is None
    assert seeds.run_inputs(None, stages, "champ") is None
    unhashed = dvc_lock(1)
    del unhashed["stages"]["train@champ"]["deps"][0]["md5"]  # no hash: cannot be shown equal to anything
    assert seeds.run_inputs(unhashed, stages, "champ") is None


def test_seeds_of_two_commits_join_when_their_runs_had_the_same_inputs():
    """A seed run in a later session, after unrelated commits, counts with the earlier ones."""

    def commit(rev, *experiments, code="c0de"):
        baseline = locked(revision(None, 42, 0.9402, rev=rev), 42, code)
        baseline["experiments"] = [
            {"revs": [locked(e, e["data"]["params"]["params.yaml"]["data"]["variants"]["champ"]["seed"], code)]}
            for e in experiments
        ]
        return baseline

    older = commit("older111", revision("seed-1", 1, 0.9390, rev="x1"))
    newer = commit("newer222", revision("seed-2", 2, 0.9410, rev="x2"))
    found, runs = seed_runs([newer, older], "champ")
    assert found == "newer222" and [(r["seed"], r["commit"]) for r in runs] == [
        (42, "newer222"),
        (1, "older111"),
        (2, "newer222"),
    ]
    # The training code changed between them: two studies of two seeds, the newest wins the tie.
    changed = commit("newer222", revision("seed-2", 2, 0.9410, rev="x2"), code="changed")
    found, runs = seed_runs([changed, older], "champ")
    assert found == "newer222" and [r["seed"] for r in runs] == [42, 2]
    # The same inputs trained in bf16 on another CPU (`precision: auto`): not the same recipe.
    newer = commit("newer222", revision("seed-2", 2, 0.9410, rev="x2"))
    TRAINING[("x2", "metrics/train/champ.json")]["precision"] = "mixed_bfloat16"
    found, runs = seed_runs([newer, older], "champ")
    assert [r["seed"] for r in runs] == [42, 1]


def test_a_presets_seeds_join_across_commits_by_their_copys_inputs():
    def preset_run(rev, seed, code="c0de"):
        TRAINING[(rev, "metrics/train/pre.json")] = {"best_val_accuracy": 0.95, "train_seconds": 3800.0}
        lock = yaml.safe_load(yaml.safe_dump(dvc_lock(seed, code)).replace("champ", "pre"))
        TRAINING[(rev, "dvc.lock")] = lock
        params = {"presets": {"pre": {"seed": 42}}, "variants": {"pre": {"seed": seed}}}
        return record(rev, f"seed-pre-{seed}", params, "pre", 0.95 + seed / 1000)

    def baseline(rev, *runs):
        row = record(rev, None, {"presets": {"pre": {"seed": 42}}, "variants": {}}, "x", 0.9)
        del row["data"]["metrics"]
        row["experiments"] = [{"revs": [run]} for run in runs]
        return row

    shown = [baseline("later", preset_run("p2", 2), preset_run("p42", 42)), baseline("earlier", preset_run("p1", 1))]
    found, runs = seed_runs(shown, "pre", section="presets")
    assert found == "later" and [(r["seed"], r["commit"]) for r in runs] == [
        (42, "later"),
        (1, "earlier"),
        (2, "later"),
    ]


class Recorder:
    """Stands in for `subprocess.run` of `dvc exp run --queue`: records each command and the
    params.yaml each queued experiment would carry."""

    def __init__(self, params_path, fail_on=None):
        self.params_path, self.fail_on, self.calls = params_path, fail_on, []

    def __call__(self, command, **kwargs):
        self.calls.append((command, yaml.safe_load(self.params_path.read_text())))
        failed = self.fail_on is not None and self.fail_on in command[-1]
        return subprocess.CompletedProcess(command, 1 if failed else 0, "", "ERROR: exp already exists" * failed)


def test_queue_targets_each_models_evaluate_stage_and_copies_a_preset_for_its_seeds(tmp_path):
    params_path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", params_path)
    params_path.chmod(0o640)
    original = params_path.read_bytes()
    runner = Recorder(params_path)
    names = queue(params_path, ["champion_fast", "airbench"], [1, 42, 2, 1], run=runner)
    assert names == ["seed-champion_fast-1", "seed-champion_fast-2", *(f"seed-airbench-{s}" for s in (42, 1, 2))]
    commands = [command for command, _ in runner.calls]
    assert commands[0] == [
        *("dvc", "exp", "run", "--queue", "-n", "seed-champion_fast-1"),
        *("-S", "variants.champion_fast.seed=1", "evaluate@champion_fast"),
    ]
    assert commands[2][-3:] == ["-S", "variants.airbench.seed=42", "evaluate@airbench"]
    seen = [params for _, params in runner.calls]
    assert "airbench" not in seen[0]["variants"]  # a variant's seeds: the file as it is
    assert all(params["variants"]["airbench"] == params["presets"]["airbench"] for params in seen[2:])
    assert params_path.read_bytes() == original and params_path.stat().st_mode & 0o777 == 0o640

    # A long recipe seeded over sessions: the preset's own seed ran already.
    later = Recorder(params_path)
    assert queue(params_path, ["airbench"], [2], run=later, own=False) == ["seed-airbench-2"]
    assert params_path.read_bytes() == original

    with pytest.raises(FmnistError, match=r"seed-airbench-42 .* failed: ERROR: exp already exists"):
        queue(params_path, ["airbench"], [1], run=Recorder(params_path, fail_on="airbench"))
    assert params_path.read_bytes() == original  # restored after a failure too
    with pytest.raises(FmnistError, match="unknown variant 'airbenc'"):
        queue(params_path, ["airbenc"], [1], run=runner)
