"""The `fmnist` console command: small tools around the pipeline's outputs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from fmnist.errors import FmnistError, exit_on_error
from fmnist.io import read_json, write_text

RESULTS_START, RESULTS_END = "<!-- results:start -->", "<!-- results:end -->"
BENCH_START, BENCH_END = "<!-- bench:start -->", "<!-- bench:end -->"


def results_table(summary: dict) -> str:
    """Markdown leaderboard from metrics/summary.json, best validation accuracy first."""
    machine = summary.get("machine", {})
    lines = [
        "| variant | test accuracy | target | macro F1 | parameters | train time |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in summary["variants"].items():
        target = f"{row['floor']:.2%}" if row.get("floor") else "–"
        mark = " ✅" if row.get("floor") and row["test_accuracy"] >= row["floor"] else ""
        lines.append(
            f"| `{name}` | {row['test_accuracy']:.2%}{mark} | {target} | {row['macro_f1']:.4f} "
            f"| {row['params']:,} | {row['train_seconds'] / 60:.1f} min |"
        )
    ensemble = summary["ensemble"]
    lines.append(
        f"| ensemble of {', '.join(f'`{m}`' for m in ensemble['members'])} | {ensemble['test_accuracy']:.2%} | – "
        f"| {ensemble['macro_f1']:.4f} | {ensemble['params']:,} | {ensemble['train_seconds'] / 60:.1f} min |"
    )
    if machine:
        lines.append("")
        lines.append(
            f"Measured on {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
            f"{machine.get('gpus', 0)} GPUs, TensorFlow {machine.get('tensorflow', '?')}; "
            f"best model by validation accuracy: `{summary['best_variant']}`."
        )
    return "\n".join(lines)


def bench_table(bench: dict, summary: dict) -> str:
    """Markdown performance table from metrics/bench.json and metrics/summary.json."""
    lines = [
        "| variant | precision | test accuracy | train time | images/s | train GFLOP/image | MFU |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in bench["variants"].items():
        trained = summary["variants"].get(name, {})
        accuracy = f"{trained['test_accuracy']:.2%}" if trained else "–"
        minutes = f"{trained['train_seconds'] / 60:.1f} min" if trained else "–"
        lines.append(
            f"| `{name}` | {row.get('precision', 'float32')} | {accuracy} | {minutes} "
            f"| {row['images_per_second']:,.0f} | {row['train_gflops_per_image']:.3f} | {row['mfu']:.0%} |"
        )
    published = bench.get("published_recipe", {})
    lines += ["", f"- fp32 matmul peak measured in the same run: {bench['matmul_peak_gflops']:.0f} GFLOP/s."]
    if published.get("speedup"):
        lines.append(
            f"- The enhanced CNN trained the published way (batch 64, Adam, no oneDNN flag, per-image Python "
            f"augmentation): {published['images_per_second']:.0f} images/s; this pipeline's `cnn_enhanced`: "
            f"**{published['speedup']:.2f}× faster**."
        )
    for name, row in bench.get("determinism", {}).items():
        lines.append(
            f"- Op determinism on `{name}`: {row['deterministic_images_per_second']:,.0f} vs "
            f"{row['nondeterministic_images_per_second']:,.0f} images/s without (cost {row['cost_percent']:.1f} %)."
        )
    if bench.get("noop_repro_seconds") is not None:
        lines.append(f"- No-op `dvc repro` (nothing changed): {bench['noop_repro_seconds']:.1f} s.")
    if bench.get("ingest_seconds") is not None:
        lines.append(f"- `ingest` stage on both CSVs (validation, arrays, EDA plots): {bench['ingest_seconds']:.1f} s.")
    return "\n".join(lines)


def _replace_block(text: str, start: str, end: str, body: str) -> str:
    block = f"{start}\n{body}\n{end}"
    return re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)


def readme_blocks(text: str, summary: dict, bench: dict | None = None) -> str:
    """README text with the results (and, given bench, the performance) block regenerated."""
    if RESULTS_START not in text or RESULTS_END not in text:
        raise FmnistError(f"README: no {RESULTS_START} … {RESULTS_END} block to fill")
    new = _replace_block(text, RESULTS_START, RESULTS_END, results_table(summary))
    if bench is not None and BENCH_START in new and BENCH_END in new:
        new = _replace_block(new, BENCH_START, BENCH_END, bench_table(bench, summary))
    return new


def update_readme(readme: Path, summary: dict, bench: dict | None = None) -> bool:
    """Replace the results (and, given bench, the performance) block; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    try:
        new = readme_blocks(text, summary, bench)
    except FmnistError as error:
        raise FmnistError(str(error).replace("README", str(readme), 1)) from None
    if new != text:
        write_text(readme, new)
    return new != text


def accuracy_chart(current: dict, base: dict | None) -> list[str]:
    """A Mermaid bar chart of test accuracy per variant (the base as a line): GitHub draws it
    itself in job summaries and comments, where a repository-relative image path would not load."""
    names = list(current["variants"])
    now = [round(current["variants"][n]["test_accuracy"] * 100, 2) for n in names]
    before = (
        [round(base["variants"][n]["test_accuracy"] * 100, 2) for n in names if n in base["variants"]] if base else []
    )
    low = max(0, int(min(now + before)) - 2)
    lines = ["```mermaid", "xychart-beta", '    title "Test accuracy (%): bars this run, line the base"']
    lines += [f"    x-axis [{', '.join(names)}]", f'    y-axis "test accuracy (%)" {low} --> 100', f"    bar {now}"]
    if len(before) == len(names):
        lines.append(f"    line {before}")
    return [*lines, "```"]


def build_report(current: dict, base: dict | None, base_rev: str, params_diff: str, problems: list[str]) -> str:
    from fmnist.gate import metric_changes

    lines = ["## fmnist run report", "", "### Leaderboard", "", results_table(current), ""]
    lines += [f"### Changes against `{base_rev}`", ""]
    lines += metric_changes(current, base) if base else [f"No metrics/summary.json at `{base_rev}`."]
    lines += ["", *accuracy_chart(current, base), ""]
    lines += ["### Parameters changed", "", params_diff.strip() or "No parameter changes.", ""]
    lines += ["### Regression gate", ""]
    lines += [f"- ❌ {problem}" for problem in problems] or ["- ✅ passed"]
    lines += ["", "Leaderboard, confusion matrices and curves: the run's `fmnist-report` artifact (plots/)."]
    return "\n".join(lines) + "\n"


def _params_diff(base_rev: str) -> str:
    """`dvc params diff` as a Markdown table, or '' when no parameter changed."""
    import subprocess

    result = subprocess.run(["dvc", "params", "diff", base_rev, "--md"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return f"(dvc params diff failed: {result.stderr.strip()[:200]})"
    rows = [line for line in result.stdout.splitlines() if line.startswith("|")]
    return result.stdout if len(rows) > 2 else ""  # a header and its rule alone: nothing changed


def resolve_model(spec: str) -> Path:
    """'best' -> models/best, a variant name -> models/variants/<name>, else a path."""
    path = Path(spec)
    if path.exists():
        return path
    if spec == "best":
        return Path("models/best")
    if spec.replace("_", "").isalnum():
        return Path("models/variants") / spec
    raise FmnistError(f"--model {spec}: no such file or folder")


def _flip_tta(model_path: Path, params_path: Path) -> bool:
    """Average with mirror images when the variant trained with flips (as the evaluate stage does)."""
    from fmnist.config import load_params

    folder = model_path if model_path.is_dir() else model_path.parent
    info = folder / "info.json"
    name = read_json(info).get("variant", folder.name) if info.is_file() else folder.name
    if not params_path.is_file():
        return False
    params = load_params(params_path)
    return name in {**params.variants, **params.presets} and params.flip_tta(name)


def run_predict(args) -> None:
    import sys

    from fmnist.predict import find_images, format_predictions, predict_files, text_progress

    if args.batch_size < 1:
        raise FmnistError(f"--batch-size: must be >= 1, got {args.batch_size}")
    files = list(find_images(args.paths))
    if not files:
        raise FmnistError(f"no image files in {' '.join(args.paths)} (expected .png, .jpg, .bmp, .gif or .webp)")
    model_path = resolve_model(args.model)
    from fmnist.models import load_model

    model = load_model(model_path)
    show_progress = not args.no_progress and sys.stderr.isatty() and len(files) > args.batch_size
    predictions = predict_files(
        model, files, _flip_tta(model_path, args.params), args.batch_size, text_progress if show_progress else None
    )
    failed = [p for p in predictions if p.error]
    if len(failed) < len(predictions):
        print(format_predictions(predictions, args.format))
    for p in failed:
        print(f"error: {p.error}", file=sys.stderr)
    if failed:
        raise SystemExit(1)


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist", description="Tools around the fmnist DVC pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)
    results = commands.add_parser("results", help="print the results table from metrics/summary.json")
    results.add_argument("--summary", type=Path, default=Path("metrics/summary.json"))
    results.add_argument("--update-readme", type=Path, metavar="README", help="rewrite the table blocks in README")
    results.add_argument("--check", type=Path, metavar="README", help="exit 1 if README's table blocks are stale")
    results.add_argument("--bench", type=Path, default=Path("metrics/bench.json"), help="for the performance table")
    predict = commands.add_parser("predict", help="classify image files (PNG, JPEG, BMP, GIF, WebP) or folders")
    predict.add_argument("paths", nargs="+", help="image files and/or folders (searched recursively)")
    predict.add_argument("--model", default="best", help="'best', a variant name, or a model folder/.keras file")
    predict.add_argument("--format", choices=("table", "json", "csv"), default="table")
    predict.add_argument("--batch-size", type=int, default=256)
    predict.add_argument("--params", type=Path, default=Path("params.yaml"), help="for the variant's TTA setting")
    predict.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    preset = commands.add_parser("preset", help="copy a params.yaml preset into variants, so dvc repro trains it")
    preset.add_argument("name", help="a key of presets: in params.yaml, e.g. champion_long")
    preset.add_argument("--params", type=Path, default=Path("params.yaml"))
    for name, text in (
        ("gate", "fail when accuracy regressed against a base revision"),
        ("report", "markdown report: leaderboard, metric and param changes, gate"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--base", default="HEAD", help="git revision to compare with (default HEAD)")
        command.add_argument("--summary", type=Path, default=Path("metrics/summary.json"))
        command.add_argument("--params", type=Path, default=Path("params.yaml"))
        command.add_argument("--export", type=Path, default=Path("metrics/export.json"), help="int8 check if present")
        if name == "report":
            command.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.command in ("gate", "report"):
        from fmnist.config import load_params
        from fmnist.gate import gate, summary_at

        current, base = read_json(args.summary), summary_at(args.base)
        export_metrics = read_json(args.export) if args.export.is_file() else None
        problems = gate(current, base, load_params(args.params).ci.max_accuracy_drop, export_metrics)
        if args.command == "report":
            report = build_report(current, base, args.base, _params_diff(args.base), problems)
            if args.out:
                write_text(args.out, report)
            print(report, end="")
            return
        for problem in problems:
            print(f"gate: {problem}")
        if problems:
            raise SystemExit(1)
        print(f"gate: passed (best {current['best_test_accuracy']:.2%}, base {args.base})")
        return
    if args.command == "predict":
        run_predict(args)
        return
    if args.command == "preset":
        from fmnist.presets import add_preset

        print(f"{args.params}: added variants.{args.name}:\n{add_preset(args.params, args.name)}", end="")
        return
    if args.command == "results":
        summary = read_json(args.summary)
        bench = read_json(args.bench) if args.bench.is_file() else None
        if args.check:
            if readme_blocks(args.check.read_text(encoding="utf-8"), summary, bench) != args.check.read_text(
                encoding="utf-8"
            ):
                raise FmnistError(
                    f"{args.check}: results blocks differ from {args.summary}; run fmnist results --update-readme"
                )
            print(f"{args.check}: results blocks match {args.summary}")
        elif args.update_readme:
            changed = update_readme(args.update_readme, summary, bench)
            print(f"{args.update_readme}: {'updated' if changed else 'already up to date'}")
        else:
            print(results_table(summary))


if __name__ == "__main__":
    main()
