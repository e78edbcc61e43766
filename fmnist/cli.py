"""The `fmnist` console command: small tools around the pipeline's outputs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from fmnist.errors import FmnistError, exit_on_error
from fmnist.io import read_json, write_text

RESULTS_START, RESULTS_END = "<!-- results:start -->", "<!-- results:end -->"


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


def update_readme(readme: Path, summary: dict) -> bool:
    """Replace the block between the results markers; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    if RESULTS_START not in text or RESULTS_END not in text:
        raise FmnistError(f"{readme}: no {RESULTS_START} … {RESULTS_END} block to fill")
    block = f"{RESULTS_START}\n{results_table(summary)}\n{RESULTS_END}"
    new = re.sub(re.escape(RESULTS_START) + ".*?" + re.escape(RESULTS_END), lambda _: block, text, flags=re.S)
    if new != text:
        write_text(readme, new)
    return new != text


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fmnist", description="Tools around the fmnist DVC pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)
    results = commands.add_parser("results", help="print the results table from metrics/summary.json")
    results.add_argument("--summary", type=Path, default=Path("metrics/summary.json"))
    results.add_argument("--update-readme", type=Path, metavar="README", help="rewrite the table block in README")
    args = parser.parse_args(argv)
    if args.command == "results":
        summary = read_json(args.summary)
        if args.update_readme:
            changed = update_readme(args.update_readme, summary)
            print(f"{args.update_readme}: {'updated' if changed else 'already up to date'}")
        else:
            print(results_table(summary))


if __name__ == "__main__":
    main()
