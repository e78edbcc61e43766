"""Run reports: Markdown for CI (job summary, pull request comment) and one offline HTML page.

Both are pure functions of metrics/summary.json contents (current and base) plus, for the HTML
page, the PNG figures the pipeline writes, which are embedded so the page needs no network.
"""

from __future__ import annotations

import base64
import html
import subprocess
from pathlib import Path

from fmnist.report.gate import CHANGES_HEADER, change_rows, metric_changes
from fmnist.report.tables import RESULTS_HEADER, results_rows, results_table


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
    """The Markdown report: leaderboard, changes with a chart, parameter changes, gate."""
    lines = ["## fmnist run report", "", "### Leaderboard", "", results_table(current), ""]
    lines += [f"### Changes against `{base_rev}`", ""]
    lines += metric_changes(current, base) if base else [f"No metrics/summary.json at `{base_rev}`."]
    lines += ["", *accuracy_chart(current, base), ""]
    lines += ["### Parameters changed", "", params_diff.strip() or "No parameter changes.", ""]
    lines += ["### Regression gate", ""]
    lines += [f"- ❌ {problem}" for problem in problems] or ["- ✅ passed"]
    lines += [
        "",
        "Leaderboard, confusion matrices and curves: the run's `fmnist-report` artifact (report.html, plots/).",
    ]
    return "\n".join(lines) + "\n"


def params_diff(base_rev: str) -> str:
    """`dvc params diff` as a Markdown table, or '' when no parameter changed."""
    result = subprocess.run(["dvc", "params", "diff", base_rev, "--md"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return f"(dvc params diff failed: {result.stderr.strip()[:200]})"
    rows = [line for line in result.stdout.splitlines() if line.startswith("|")]
    return result.stdout if len(rows) > 2 else ""  # a header and its rule alone: nothing changed


def _image(path: Path, alt: str) -> str:
    if not path.is_file():
        return f"<p class=missing>{html.escape(alt)}: not produced ({html.escape(str(path))})</p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = html.escape(alt)
    return (
        f'<figure><img alt="{caption}" src="data:image/png;base64,{data}"><figcaption>{caption}</figcaption></figure>'
    )


def _table(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(current: dict, base: dict | None, base_rev: str, problems: list[str], plots: Path) -> str:
    """One self-contained page: leaderboard, changes against the base, comparison charts,
    per-class accuracy, and per variant the confusion matrix, Grad-CAM and most confident errors."""
    names = list(current["variants"])
    gate = "".join(f"<li>❌ {html.escape(p)}</li>" for p in problems) or "<li>✅ passed</li>"
    sections = [
        f"<h1>fmnist run report</h1><p>Best model by validation accuracy: <b>{html.escape(current['best_variant'])}</b>"
        f" ({current['best_test_accuracy']:.2%} test accuracy).</p>",
        "<h2>Leaderboard</h2>" + _table(results_rows(current), RESULTS_HEADER),
        f"<h2>Changes against {html.escape(base_rev)}</h2>"
        + (_table(change_rows(current, base), CHANGES_HEADER) if base else "<p>No base results.</p>"),
        f"<h2>Regression gate</h2><ul>{gate}</ul>",
        "<h2>Comparison</h2>"
        + _image(plots / "report" / "pareto.png", "test accuracy against training minutes, every run and seed")
        + _image(plots / "compare" / "leaderboard.png", "test accuracy by variant")
        + _image(plots / "compare" / "curves.png", "validation curves of every variant")
        + _image(plots / "compare" / "per_class.png", "per-class accuracy"),
    ]
    for name in names:
        folder = plots / "eval" / name
        figures = [
            _image(folder / "confusion.png", f"{name}: confusion matrix"),
            _image(folder / "misclassified.png", f"{name}: most confident errors"),
        ]
        if (folder / "gradcam.png").is_file():  # convolutional variants only
            figures.append(_image(folder / "gradcam.png", f"{name}: Grad-CAM"))
        sections.append(f"<h2>{html.escape(name)}</h2><div class=row>{''.join(figures)}</div>")
    style = (
        "body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}img{max-width:100%}figure{margin:1em 0}"
        ".row{display:flex;flex-wrap:wrap;gap:1em}.row figure{flex:1 1 360px}.missing{color:#a00}"
    )
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>fmnist run report</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n"
    )
