"""`fmnist tune`: an Optuna study whose trials are DVC experiments.

Optuna decides (sampler, pruner, storage); DVC runs and records. Each trial is
`dvc exp run --temp -n <study>-<trial> -S variants.<v>.<key>=<value> …`, so `dvc exp show` lists
it with its params and metrics, `dvc exp apply` restores it and `dvc exp push` shares it. The
objective is the variant's best validation accuracy (metrics/train/<v>.json), never a test
figure. The train stage reports each epoch to the trial and stops when the pruner says so
(fmnist.train.trial); such a trial's metrics carry `pruned_at_epoch` and the study marks it pruned.

Many machines: start `fmnist tune` on each with the same `--storage` (an RDB URL such as
postgresql+psycopg://…) and `--study-name`. Optuna's storage hands each worker its own trials;
nothing here schedules anything.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from fmnist.core.errors import FmnistError
from fmnist.core.io import write_json
from fmnist.core.tuning import Distribution, TuneConfig
from fmnist.report.study import plot_study, summary

SPACE_ATTR = "fmnist_space"  # the study's search space, kept in the study to refuse a different one


@dataclass(frozen=True)
class Options:
    """`fmnist tune`'s command line over params.yaml's `tune:` section."""

    study_name: str
    storage: str
    variant: str
    trials: int
    timeout: float | None  # seconds; Optuna's word
    sampler: str
    epochs: int  # the variant's, for Hyperband's brackets
    out: Path  # metrics/tune/<study>.json
    plots: Path  # plots/tune/<study>/


def optuna_distribution(distribution: Distribution):
    import optuna

    if distribution.kind == "categorical":
        return optuna.distributions.CategoricalDistribution(list(distribution.choices))
    if distribution.kind == "int":
        step = int(distribution.step or 1)
        return optuna.distributions.IntDistribution(
            int(distribution.low), int(distribution.high), log=distribution.log, step=step
        )
    return optuna.distributions.FloatDistribution(
        distribution.low, distribution.high, log=distribution.log, step=distribution.step
    )


def make_sampler(name: str, space: dict[str, Distribution], seed: int):
    import numpy as np
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    grid = {}
    for key, distribution in space.items():
        if distribution.kind == "categorical":
            grid[key] = list(distribution.choices)
        else:
            values = np.arange(distribution.low, distribution.high + distribution.step / 2, distribution.step)
            grid[key] = [int(v) if distribution.kind == "int" else round(float(v), 12) for v in values]
    return optuna.samplers.GridSampler(grid, seed=seed)


def space_signature(variant: str, space: dict[str, Distribution]) -> str:
    return json.dumps(
        {"variant": variant, "space": {key: asdict(d) for key, d in sorted(space.items())}}, sort_keys=True
    )


def open_study(options: Options, tune: TuneConfig):
    """Create the study, or join it when it exists with the same variant and space."""
    import optuna

    from fmnist.train.trial import make_pruner

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = dict(tune.space)
    # Workers sharing a study draw different random start-up trials: the seed differs per process.
    seed = zlib.crc32(f"{tune.seed}-{socket.gethostname()}-{os.getpid()}".encode())
    for attempt in range(3):
        try:
            study = optuna.create_study(
                study_name=options.study_name,
                storage=options.storage,
                direction="maximize",
                sampler=make_sampler(options.sampler, space, seed),
                pruner=make_pruner(tune.pruner, options.epochs),
                load_if_exists=True,
            )
            break
        except Exception as error:  # SQLAlchemy/driver errors: unreachable host, bad URL, missing driver
            # Two workers starting on an empty RDB race to create its tables (optuna/optuna#1092):
            # the loser retries once the winner's tables exist.
            if attempt < 2 and type(error).__name__ in ("IntegrityError", "ProgrammingError"):
                time.sleep(1 + attempt)
                continue
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise FmnistError(f"--storage {redact(options.storage)}: cannot open the study: {first}") from None
    signature = space_signature(options.variant, space)
    existing = study.user_attrs.get(SPACE_ATTR)
    if existing is None:
        study.set_user_attr(SPACE_ATTR, signature)
    elif existing != signature:
        raise FmnistError(
            f"--study-name {options.study_name}: the study exists with another variant or space "
            f"({existing}); choose a new --study-name"
        )
    return study


def redact(url: str) -> str:
    """A storage URL without its password, for messages."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def absolute_storage(url: str, cwd: Path) -> str:
    """An SQLite URL with its path made absolute: trials run in DVC's temporary copies of the
    repository (`dvc exp run --temp`), where a relative path would name another, empty file."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix) :].startswith("/"):
        return prefix + str((cwd / url[len(prefix) :]).resolve())
    return url


def failure_line(output: str, returncode: int) -> str:
    """The line that says why a trial's `dvc exp run` failed: the stage's own one-line error
    (fmnist's `error: …`) when there is one, else DVC's last line."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    own = [line for line in lines if line.startswith("error: ")]
    return (own or lines or [f"dvc exp run exited {returncode}"])[-1]


def overrides(variant: str, params: dict) -> list[str]:
    """`-S` arguments that set one trial's params (floats in full precision). `++` is Hydra's
    add-or-override, which DVC's -S speaks: a key the variant leaves at its default is added."""
    args = []
    for key, value in params.items():
        text = json.dumps(value) if not isinstance(value, str) else value
        args += ["-S", f"++variants.{variant}.{key}={text}"]
    return args


def head_commit(cwd: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True).stdout.strip()


def experiment_metrics(name: str, path: str, cwd: Path, head: str) -> dict | None:
    """A file of experiment `name` of baseline commit `head`, as its git ref holds it (None when
    the run made no experiment). DVC keeps experiments at refs/exps/<sha[:2]>/<sha[2:]>/<name>;
    the baseline is the commit the trial started from, even if HEAD moved while it trained."""
    ref = f"refs/exps/{head[:2]}/{head[2:]}/{name}"
    shown = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=cwd, capture_output=True, text=True)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def experiment_name(study_name: str, number: int, started, cwd: Path, head: str) -> str:
    """`<study>-<trial>`; where baseline `head` already has an experiment of that name (a study
    recreated after its storage was deleted counts from 0 again), the trial's start time is
    added, so `dvc exp run -n` never meets an old experiment."""
    name = f"{study_name}-{number}"
    taken = subprocess.run(
        ["git", "show-ref", "--verify", "--quiet", f"refs/exps/{head[:2]}/{head[2:]}/{name}"], cwd=cwd
    )
    return name if taken.returncode != 0 else f"{name}-{started:%Y%m%d%H%M%S}"


def run_trial(study, options: Options, tune: TuneConfig, metrics_path: str, cwd: Path) -> dict:
    """Ask the study for a trial, run it as a DVC experiment and tell the study how it went."""
    import optuna

    distributions = {key: optuna_distribution(d) for key, d in tune.space.items()}
    trial = study.ask(distributions)
    head = head_commit(cwd)
    name = experiment_name(options.study_name, trial.number, trial.datetime_start, cwd, head)
    env = {
        **os.environ,
        "FMNIST_TUNE_TRIAL": json.dumps(
            {
                "storage": options.storage,
                "study": options.study_name,
                "trial_id": trial._trial_id,  # Optuna's id of the trial within the storage
                "variant": options.variant,
                "pruner": tune.pruner,
            }
        ),
    }
    # Up to the variant's evaluation: its validation and test figures for the experiment table.
    # compare and export follow with `dvc exp apply NAME && dvc repro` for the trial kept.
    target = f"evaluate@{options.variant}"
    command = ["dvc", "exp", "run", "--temp", "-n", name, *overrides(options.variant, trial.params), target]
    started = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    except BaseException:  # interrupted: the study must not keep the trial RUNNING forever
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    row = {"trial": trial.number, "experiment": name, "params": trial.params}
    row["seconds"] = round(time.perf_counter() - started, 1)
    metrics = experiment_metrics(name, metrics_path, cwd, head) if result.returncode == 0 else None
    if metrics is None:
        error = failure_line(result.stdout + "\n" + result.stderr, result.returncode)
        if result.returncode == 0:  # DVC ran it, yet the experiment holds no metrics file
            error = f"experiment {name} of {head[:7]} has no {metrics_path}"
        row.update(state="FAIL", error=error)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    elif metrics.get("pruned_at_epoch"):
        row.update(state="PRUNED", value=metrics["best_val_accuracy"], pruned_at_epoch=metrics["pruned_at_epoch"])
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    else:
        row.update(state="COMPLETE", value=metrics["best_val_accuracy"])
        study.tell(trial, metrics["best_val_accuracy"])
    study.set_user_attr(f"experiment_{trial.number}", name)
    return row


def tune(options: Options, tune_config: TuneConfig, metrics_path: str, cwd: Path = Path(".")) -> dict:
    """Run up to `options.trials` trials (or until `options.timeout`), then write the summary."""
    study = open_study(options, tune_config)
    deadline = time.monotonic() + options.timeout if options.timeout else None
    for _ in range(options.trials):
        if deadline is not None and time.monotonic() >= deadline:
            break
        row = run_trial(study, options, tune_config, metrics_path, cwd)
        value = f"{row['value']:.4f}" if row.get("value") is not None else "-"
        extra = f" (pruned at epoch {row['pruned_at_epoch']})" if row["state"] == "PRUNED" else ""
        extra += f": {row['error']}" if row["state"] == "FAIL" else ""
        print(
            f"tune: trial {row['trial']} {row['state']} val_accuracy={value} {row['params']} "
            f"[{row['experiment']}, {row['seconds']:.0f} s]{extra}",
            flush=True,
        )
    result = summary(study, options.study_name, options.variant)
    write_json(options.out, result)
    plot_study(study, options.plots)
    return result


def add_command(commands) -> None:
    """`fmnist tune`'s arguments (Optuna's own words: trials, timeout, sampler, storage, study name)."""
    command = commands.add_parser("tune", help="Optuna study whose trials are DVC experiments (params.yaml tune:)")
    command.add_argument("--variant", help="variant to tune (default: tune.variant)")
    command.add_argument("--trials", type=int, help="trials this worker runs (default: tune.trials)")
    command.add_argument("--timeout", type=float, help="seconds after which no new trial starts")
    command.add_argument("--sampler", choices=("tpe", "random", "grid"), help="default: tune.sampler (tpe)")
    command.add_argument(
        "--storage", help="Optuna storage URL; default sqlite:///tune.db (git-ignored). Many machines: an RDB URL"
    )
    command.add_argument("--study-name", help="default: <variant>-tune; workers sharing a study pass the same")
    command.add_argument(
        "--summary-only",
        action="store_true",
        help="run no trial: write the study's summary and charts as its storage holds them (all workers')",
    )
    command.add_argument("--params", type=Path, default=Path("params.yaml"))
    command.set_defaults(run=run_command)


def run_command(args) -> None:
    from fmnist.core.config import load_params
    from fmnist.tools.pipeline import stage_path

    params = load_params(args.params)
    if params.tune is None:
        raise FmnistError(f"{args.params}: no tune: section (a search space per variant key; docs/experiments.md)")
    variant = args.variant or params.tune.variant
    if variant not in params.variants:
        where = "a preset: `fmnist preset NAME` adds it to variants first" if variant in params.presets else "unknown"
        raise FmnistError(f"--variant {variant}: not a variant of the pipeline ({where})")
    if variant != params.tune.variant:
        raise FmnistError(
            f"--variant {variant}: tune.space is checked against tune.variant ({params.tune.variant}); "
            "set tune.variant to tune another"
        )
    for flag, value in (("--trials", args.trials), ("--timeout", args.timeout)):
        if value is not None and value <= 0:
            raise FmnistError(f"{flag}: must be > 0, got {value}")
    sampler = args.sampler or params.tune.sampler
    if sampler == "grid":
        for key, distribution in params.tune.space.items():
            if distribution.kind != "categorical" and distribution.step is None:
                raise FmnistError(f"--sampler grid: tune.space.{key} needs choices or a step")
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], capture_output=True, text=True)
    if shallow.stdout.strip() == "true" and not args.summary_only:
        raise FmnistError(
            "tune: this git clone is shallow, where `dvc exp run --temp` keeps no experiment: "
            "fetch the full history (git fetch --unshallow; actions/checkout: fetch-depth: 0)"
        )
    study_name = args.study_name or f"{variant}-tune"
    minutes = params.tune.timeout_minutes
    options = Options(
        study_name=study_name,
        storage=absolute_storage(
            args.storage or os.environ.get("FMNIST_TUNE_STORAGE") or "sqlite:///tune.db", Path.cwd()
        ),
        variant=variant,
        trials=0 if args.summary_only else args.trials or params.tune.trials,
        timeout=args.timeout or (minutes * 60 if minutes else None),
        sampler=sampler,
        epochs=params.variants[variant].epochs,
        out=Path("metrics/tune") / f"{study_name}.json",
        plots=Path("plots/tune") / study_name,
    )
    metrics_path = str(stage_path("train", "metrics", variant))
    result = tune(options, params.tune, metrics_path)
    best = result["best"]
    found = (
        f"best trial {best['trial']} ({best['experiment']}): {best['value']:.4f} {best['params']}"
        if best
        else "no trial finished"
    )
    print(
        f"tune: {result['study']}: {result['COMPLETE']} complete, {result['PRUNED']} pruned, {result['FAIL']} failed; "
        f"{found}; `dvc exp apply {best['experiment'] if best else 'NAME'}` restores it -> {options.out}"
    )
    if not best:
        raise FmnistError(f"tune: {study_name}: no trial finished (see the failed trials above)")
