"""The `fmnist` console command: small tools around the pipeline's outputs, one function per subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path

from fmnist.core.errors import ConfigError, FmnistError, exit_on_error
from fmnist.core.io import read_json, write_json, write_text
from fmnist.report.tables import readme_blocks, results_table, update_readme
from fmnist.tools import tune


def resolve_model(spec: str) -> Path:
    """'best' -> the compare stage's best model, a variant name -> its train stage's model
    folder (paths from dvc.yaml), else a path."""
    from fmnist.tools.pipeline import stage_path

    path = Path(spec)
    if path.exists():
        return path
    if spec == "best":
        return stage_path("compare", "best_dir")
    if spec.replace("_", "").isalnum():
        return stage_path("train", "model_dir", spec)
    raise FmnistError(f"--model {spec}: no such file or folder")


def _tta(model_path: Path, params_path: Path) -> tuple[bool, int]:
    """The evaluate stage's test-time augmentation for the model's variant: mirror images when it
    trained with flips, shifted images when it trained with shifts and `evaluate.tta_shift` > 0."""
    from fmnist.core.config import load_params

    folder = model_path if model_path.is_dir() else model_path.parent
    info = folder / "info.json"
    name = read_json(info).get("variant", folder.name) if info.is_file() else folder.name
    if not params_path.is_file():
        return False, 0
    params = load_params(params_path)
    try:
        return params.flip_tta(name), params.shift_tta(name)
    except ConfigError:  # a model of no variant in these params: no TTA
        return False, 0


def run_predict(args) -> None:
    import sys

    from tqdm import tqdm

    from fmnist.tools.predict import find_images, format_predictions, predict_files

    if args.batch_size < 1:
        raise FmnistError(f"--batch-size: must be >= 1, got {args.batch_size}")
    files = list(find_images(args.paths))
    if not files:
        raise FmnistError(f"no image files in {' '.join(args.paths)} (expected .png, .jpg, .bmp, .gif or .webp)")
    model_path = resolve_model(args.model)
    from fmnist.train.models import load_model

    model = load_model(model_path)
    show_progress = not args.no_progress and sys.stderr.isatty() and len(files) > args.batch_size
    tta_flip, tta_shift = _tta(model_path, args.params)
    with tqdm(total=len(files), unit="image", file=sys.stderr, disable=not show_progress) as bar:
        predictions = predict_files(
            model, files, tta_flip, args.batch_size, lambda done, _total: bar.update(done - bar.n), tta_shift
        )
    failed = [p for p in predictions if p.error]
    if len(failed) < len(predictions):
        print(format_predictions(predictions, args.format))
    for p in failed:
        print(f"error: {p.error}", file=sys.stderr)
    if failed:
        raise SystemExit(1)


def run_results(args) -> None:
    summary = read_json(args.summary)
    bench = read_json(args.bench) if args.bench.is_file() else None
    seeds = read_json(args.seeds) if args.seeds.is_file() else None
    if args.check:
        for path in args.check:
            text = path.read_text(encoding="utf-8")
            if readme_blocks(text, summary, bench, source=str(path), seeds=seeds) != text:
                raise FmnistError(
                    f"{path}: generated tables differ from the metrics; run fmnist results --update-readme"
                )
            print(f"{path}: generated tables match the metrics")
    elif args.update_readme:
        for path in args.update_readme:
            changed = update_readme(path, summary, bench, seeds)
            print(f"{path}: {'updated' if changed else 'already up to date'}")
    else:
        print(results_table(summary))


def _gate_problems(args) -> tuple[dict, dict | None, list[str]]:
    from fmnist.core.config import load_params
    from fmnist.report.gate import gate, summary_at
    from fmnist.tools.pipeline import stage_path

    current, base = read_json(args.summary), summary_at(args.base, stage_path("compare", "summary").as_posix())
    export_metrics = read_json(args.export) if args.export.is_file() else None
    return current, base, gate(current, base, load_params(args.params).ci.max_accuracy_drop, export_metrics)


def run_gate(args) -> None:
    current, _, problems = _gate_problems(args)
    for problem in problems:
        print(f"gate: {problem}")
    if problems:
        raise SystemExit(1)
    print(f"gate: passed (best {current['best_test_accuracy']:.2%}, base {args.base})")


def run_report(args) -> None:
    from fmnist.report.pages import build_report, html_report, params_diff

    current, base, problems = _gate_problems(args)
    report = build_report(current, base, args.base, params_diff(args.base), problems)
    if args.out:
        write_text(args.out, report)
    if args.html:
        write_text(args.html, html_report(current, base, args.base, problems, args.plots))
    print(report, end="")


def run_preset(args) -> None:
    from fmnist.tools.presets import add_preset

    print(f"{args.params}: added variants.{args.name}:\n{add_preset(args.params, args.name)}", end="")


def run_sweep(args) -> None:
    import json

    from fmnist.tools import sweep

    if args.sweep_command == "plan":
        print(json.dumps(sweep.plan(args.grid, args.prefix)))
        return
    if args.sweep_command == "push":
        sweep.push(args.remote, args.name)
        return
    ranked, failed = sweep.collect(args.remote, args.names, args.metric)
    table = sweep.leaderboard_markdown(ranked, args.metric, failed)
    if args.out:
        write_text(
            args.out, f"## Sweep leaderboard\n\nRanked on `{args.metric}` (validation, never test).\n\n{table}\n"
        )
    if args.plot:
        from fmnist.core import plots

        plots.sweep_leaderboard(
            [r["name"] for r in ranked], [r["metrics"][args.metric] for r in ranked], args.metric, args.plot
        )
    print(table)


def run_seeds(args) -> None:
    from fmnist.tools.seeds import study
    from fmnist.tools.sweep import show

    previous = read_json(args.out) if args.out.is_file() else None
    targets = {}
    for item in args.target:
        name, _, value = item.partition("=")
        try:
            targets[name] = float(value)
        except ValueError:
            raise FmnistError(f"--target {item}: expected VARIANT=ACCURACY, e.g. champion=0.94") from None
    from fmnist.core.config import load_params

    params = load_params()  # a student's seeds are `students.<name>.seed`; a preset's, of its copy
    known = {*params.variants, *params.students, *params.presets}  # a name gone from params: studied as a variant
    sections = {name: params.section(name) if name in known else "variants" for name in args.variants}
    result = study(show("--all-commits"), args.variants, args.minimum, previous, targets, sections)
    write_json(args.out, result, sort_keys=False)
    for name in args.variants:
        entry = result["variants"][name]
        print(
            f"seeds: {name}: {entry['test_accuracy_mean']:.2%} ± {entry['test_accuracy_sd']:.2%} test accuracy "
            f"over seeds {', '.join(str(r['seed']) for r in entry['runs'])} (commit {entry['commit'][:7]})"
        )


def run_queue_seeds(args) -> None:
    from fmnist.tools.seeds import queue

    queued = queue(args.params, args.variants, args.seeds, own=not args.skip_own)
    print(f"seeds: queued {len(queued)} experiment(s): {', '.join(queued) or 'none'}; run them with `dvc queue start`")


def run_deps(args) -> None:
    from fmnist.tools.deps import sync

    text, changed = sync(args.dvc_yaml)
    if not changed:
        print(f"deps: {args.dvc_yaml}'s code deps match the imports")
        return
    if args.check:
        raise FmnistError(f"{args.dvc_yaml}: code deps out of date in {', '.join(changed)}: run `fmnist deps`")
    write_text(args.dvc_yaml, text)
    print(f"deps: {args.dvc_yaml}: code deps regenerated for {', '.join(changed)}")


def run_pareto(args) -> None:
    from fmnist.report import pareto

    summary = read_json(args.summary)
    seeds = read_json(args.seeds) if args.seeds.is_file() else None
    found = pareto.points(summary, seeds)
    if not found:
        raise FmnistError(f"{args.summary}: no variant with a training time to plot")
    pareto.draw(found, args.out)
    names = ", ".join(f"{p.variant}{'' if p.seed is None else f' (seed {p.seed})'}" for p in pareto.front(found))
    print(f"pareto: {len(found)} runs -> {args.out}; front: {names}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="fmnist", description="Tools around the fmnist DVC pipeline.")
    commands = top.add_subparsers(dest="command", required=True)
    results = commands.add_parser("results", help="print the results table from metrics/summary.json")
    results.add_argument("--summary", type=Path, default=None, help="default: the compare stage's --summary")
    results.add_argument(
        "--update-readme", type=Path, nargs="+", metavar="FILE", help="rewrite the generated table blocks in FILEs"
    )
    results.add_argument("--check", type=Path, nargs="+", metavar="FILE", help="exit 1 if a FILE's blocks are stale")
    results.add_argument("--bench", type=Path, default=Path("metrics/bench.json"), help="for the performance table")
    results.add_argument("--seeds", type=Path, default=Path("metrics/seeds.json"), help="for the seed study table")
    results.set_defaults(run=run_results)
    seeds = commands.add_parser("seeds", help="mean ± sd over seeds from `dvc exp show` (after make seeds)")
    seeds.add_argument("variants", nargs="+", help="variants whose seed experiments to collect")
    seeds.add_argument("--out", type=Path, default=Path("metrics/seeds.json"), help="updated in place")
    seeds.add_argument("--minimum", type=int, default=3, help="fewest seeds accepted per variant")
    seeds.add_argument(
        "--target", action="append", default=[], metavar="VARIANT=ACCURACY", help="mean test accuracy to reach"
    )
    seeds.set_defaults(run=run_seeds)
    queue_seeds = commands.add_parser(
        "queue-seeds", help="queue one `dvc exp run` per seed of each variant, student or preset (make seeds)"
    )
    queue_seeds.add_argument("variants", nargs="+", help="variants, students or presets to seed")
    queue_seeds.add_argument("--seeds", type=int, nargs="+", required=True, help="seeds besides the committed one")
    queue_seeds.add_argument("--params", type=Path, default=Path("params.yaml"))
    queue_seeds.add_argument(
        "--skip-own", action="store_true", help="not a preset's own seed (it ran in an earlier session)"
    )
    queue_seeds.set_defaults(run=run_queue_seeds)
    predict = commands.add_parser("predict", help="classify image files (PNG, JPEG, BMP, GIF, WebP) or folders")
    predict.add_argument("paths", nargs="+", help="image files and/or folders (searched recursively)")
    predict.add_argument("--model", default="best", help="'best', a variant name, or a model folder/.keras file")
    predict.add_argument("--format", choices=("table", "json", "csv"), default="table")
    predict.add_argument("--batch-size", type=int, default=256)
    predict.add_argument("--params", type=Path, default=Path("params.yaml"), help="for the variant's TTA setting")
    predict.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    predict.set_defaults(run=run_predict)
    preset = commands.add_parser("preset", help="copy a params.yaml preset into variants, so dvc repro trains it")
    preset.add_argument("name", help="a key of presets: in params.yaml, e.g. champion_long")
    preset.add_argument("--params", type=Path, default=Path("params.yaml"))
    preset.set_defaults(run=run_preset)
    sweep = commands.add_parser("sweep", help="plan a grid into points, or pull and rank experiments")
    sweep_commands = sweep.add_subparsers(dest="sweep_command", required=True)
    plan = sweep_commands.add_parser("plan", help="print a GitHub Actions matrix (JSON), one entry per point")
    plan.add_argument("--grid", required=True, help="DVC -S overrides, space separated: 'key=a,b other=1,2'")
    plan.add_argument("--prefix", default="sweep", help="experiment names are <prefix>-1, <prefix>-2, …")
    push = sweep_commands.add_parser("push", help="dvc exp push, failing when the remote's experiment diverged")
    push.add_argument("name", help="the experiment's name (dvc exp run -n NAME)")
    push.add_argument("--remote", default="origin", help="git remote (default: origin)")
    collect = sweep_commands.add_parser("collect", help="pull pushed experiments and rank the finished ones")
    collect.add_argument(
        "--metric", required=True, help="path:key to rank on, e.g. metrics/eval/mlp_a.json:val_accuracy"
    )
    collect.add_argument("--remote", help="git remote to `dvc exp pull` from first (e.g. origin)")
    collect.add_argument("--names", nargs="*", default=[], help="only these experiments (default: all)")
    collect.add_argument("--out", type=Path, help="write the leaderboard as Markdown")
    collect.add_argument("--plot", type=Path, help="write the leaderboard as a PNG bar chart")
    sweep.set_defaults(run=run_sweep)
    pareto = commands.add_parser("pareto", help="chart test accuracy against training minutes, every run and seed")
    pareto.add_argument("--summary", type=Path, default=None, help="default: the compare stage's --summary")
    pareto.add_argument("--seeds", type=Path, default=Path("metrics/seeds.json"))
    pareto.add_argument("--out", type=Path, default=Path("plots/report/pareto.png"))
    pareto.set_defaults(run=run_pareto)
    tune.add_command(commands)
    deps = commands.add_parser("deps", help="regenerate dvc.yaml's code deps from the stages' imports")
    deps.add_argument("--dvc-yaml", type=Path, default=Path("dvc.yaml"))
    deps.add_argument("--check", action="store_true", help="fail instead of writing when they are out of date")
    deps.set_defaults(run=run_deps)
    for name, text, run in (
        ("gate", "fail when accuracy regressed against a base revision", run_gate),
        (
            "report",
            "run report: leaderboard, metric and param changes, gate (Markdown; --html: offline page)",
            run_report,
        ),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--base", default="HEAD", help="git revision to compare with (default HEAD)")
        command.add_argument("--summary", type=Path, default=None, help="default: the compare stage's --summary")
        command.add_argument("--params", type=Path, default=Path("params.yaml"))
        command.add_argument("--export", type=Path, help="int8 check if present; default: the export stage's --metrics")
        command.set_defaults(run=run)
        if name == "report":
            command.add_argument("--out", type=Path, help="also write the Markdown report to this file")
            command.add_argument("--html", type=Path, help="write a self-contained HTML report to this file")
            command.add_argument("--plots", type=Path, default=Path("plots"), help="the pipeline's plots folder")
    return top


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    from fmnist.tools.pipeline import stage_path

    args = parser().parse_args(argv)
    # Paths dvc.yaml owns are read from it only when not given, so the tools work anywhere given paths.
    if getattr(args, "summary", False) is None:
        args.summary = stage_path("compare", "summary")
    if getattr(args, "export", False) is None:
        args.export = stage_path("export", "metrics")
    args.run(args)


if __name__ == "__main__":
    main()
