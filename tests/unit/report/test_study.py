import optuna

from fmnist.report.study import plot_study, summary


def test_summary_counts_states_and_names_the_best_experiment(tmp_path):
    study = optuna.create_study(direction="maximize")
    distribution = {"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)}
    for number, (value, state) in enumerate([(0.9, "COMPLETE"), (0.93, "COMPLETE"), (0.5, "PRUNED"), (None, "FAIL")]):
        study.add_trial(
            optuna.trial.create_trial(
                params={"learning_rate": 10 ** -(number + 1)},
                distributions=distribution,
                value=value if state == "COMPLETE" else None,
                intermediate_values={1: 0.5} if state == "PRUNED" else {},
                state=getattr(optuna.trial.TrialState, state),
            )
        )
        study.set_user_attr(f"experiment_{number}", f"s-{number}")
    result = summary(study, "s", "mlp_a")
    assert (result["COMPLETE"], result["PRUNED"], result["FAIL"]) == (2, 1, 1)
    assert result["best"]["experiment"] == "s-1" and result["best"]["value"] == 0.93
    assert [trial["state"] for trial in result["trials"]] == ["COMPLETE", "COMPLETE", "PRUNED", "FAIL"]
    drawn = plot_study(study, tmp_path / "plots")
    assert sorted(path.name for path in drawn) == ["history.png", "importances.png", "parallel_coordinates.png"]
    assert all(path.stat().st_size > 1000 for path in drawn)
