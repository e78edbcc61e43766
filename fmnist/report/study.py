"""What an Optuna study of `fmnist tune` found: a JSON summary of every trial (all workers) and
Optuna's own charts. Trials name their DVC experiment (`experiment_<n>` user attributes)."""

from __future__ import annotations

import warnings
from pathlib import Path


def summary(study, study_name: str, variant: str) -> dict:
    """metrics/tune/<study>.json: every trial of the study (all workers), and the best."""
    trials = []
    for trial in study.trials:
        trials.append(
            {
                "trial": trial.number,
                "state": trial.state.name,
                "value": trial.value,
                "params": trial.params,
                "experiment": study.user_attrs.get(f"experiment_{trial.number}"),
                "epochs_reported": len(trial.intermediate_values),
            }
        )
    complete = [t for t in trials if t["state"] == "COMPLETE"]
    best = max(complete, key=lambda t: t["value"], default=None)
    counts = {state: sum(t["state"] == state for t in trials) for state in ("COMPLETE", "PRUNED", "FAIL")}
    return {
        "study": study_name,
        "variant": variant,
        "objective": "best_val_accuracy",
        **counts,
        "best": best,
        "trials": trials,
    }


def plot_study(study, folder: Path) -> list[Path]:
    """Optuna's own charts: optimisation history, parameter importances, parallel coordinates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as charts

    from fmnist.core.plots import save

    folder.mkdir(parents=True, exist_ok=True)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    drawn = []
    for name, draw, needs in (
        ("history.png", charts.plot_optimization_history, 1),
        ("importances.png", charts.plot_param_importances, 2),
        ("parallel_coordinates.png", charts.plot_parallel_coordinate, 1),
    ):
        if len(complete) < needs:
            continue
        with warnings.catch_warnings():  # Optuna marks its matplotlib charts experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            axis = draw(study)
        figure = axis.figure if hasattr(axis, "figure") else plt.gcf()
        figure.set_size_inches(9, 5)
        save(figure, folder / name)
        drawn.append(folder / name)
    return drawn
