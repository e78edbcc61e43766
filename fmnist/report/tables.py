"""The README's generated tables: results from metrics/summary.json, performance from metrics/bench.json,
the seed study from metrics/seeds.json and the options from the config dataclasses."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from fmnist.core import config, tuning, variants
from fmnist.core.errors import FmnistError
from fmnist.core.io import write_text
from fmnist.core.schema import allowed

RESULTS_START, RESULTS_END = "<!-- results:start -->", "<!-- results:end -->"
BENCH_START, BENCH_END = "<!-- bench:start -->", "<!-- bench:end -->"
OPTIONS_START, OPTIONS_END = "<!-- options:start -->", "<!-- options:end -->"
SEEDS_START, SEEDS_END = "<!-- seeds:start -->", "<!-- seeds:end -->"
BLOCKS = (
    (RESULTS_START, RESULTS_END),
    (BENCH_START, BENCH_END),
    (OPTIONS_START, OPTIONS_END),
    (SEEDS_START, SEEDS_END),
)
OPTION_SECTIONS = (
    ("data", config.DataConfig),
    ("variants.<name>", variants.VariantConfig),
    ("variants.<name>.augment", variants.AugmentConfig),
    ("students.<name>", variants.StudentConfig),  # its own keys; the rest are a variant's
    ("ensembles.<name>", variants.EnsembleConfig),
    ("runtime", config.RuntimeConfig),
    ("evaluate", config.EvaluateConfig),
    ("compare", config.CompareConfig),
    ("export", config.ExportConfig),
    ("ci", config.CIConfig),
    ("bench", config.BenchConfig),
    ("tune", tuning.TuneConfig),
)


def markdown_table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    """Markdown lines; `align` has one letter per column: l(eft) or r(ight)."""
    rule = "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"
    return ["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(row) + " |" for row in rows)]


RESULTS_HEADER = ["variant", "test accuracy", "target", "macro F1", "parameters", "train time", "precision"]


def results_rows(summary: dict) -> list[list[str]]:
    """The leaderboard's cells, best validation accuracy first, then the ensemble; the README,
    the CI report and the HTML page all show these."""
    rows = []
    for name, row in summary["variants"].items():
        target = f"{row['floor']:.2%}" if row.get("floor") else "–"
        mark = " ✅" if row.get("floor") and row["test_accuracy"] >= row["floor"] else ""
        rows.append([
            name, f"{row['test_accuracy']:.2%}{mark}", target, f"{row['macro_f1']:.4f}", f"{row['params']:,}",
            f"{row['train_seconds'] / 60:.1f} min", row.get("precision", "not recorded"),
        ])  # fmt: skip
    ensemble = summary["ensemble"]
    rows.append([
        f"ensemble of {', '.join(ensemble['members'])}", f"{ensemble['test_accuracy']:.2%}", "–",
        f"{ensemble['macro_f1']:.4f}", f"{ensemble['params']:,}", f"{ensemble['train_seconds'] / 60:.1f} min", "–",
    ])  # fmt: skip
    return rows


def cpu_description(machine: dict) -> str:
    """The CPU's name with its deciding features and fp32 matmul peak, where they were recorded."""
    details = [", ".join(machine["cpu_features"])] if machine.get("cpu_features") else []
    if machine.get("matmul_peak_gflops"):
        details.append(f"fp32 matmul peak {machine['matmul_peak_gflops']:.0f} GFLOP/s")
    return f"{machine.get('cpu', '?')}" + (f" ({'; '.join(details)})" if details else "")


def machine_line(summary: dict) -> str:
    machine = summary.get("machine", {})
    return (
        f"Measured on {cpu_description(machine)}, {machine.get('cores', '?')} cores, "
        f"{machine.get('gpus', 0)} GPUs, TensorFlow {machine.get('tensorflow', '?')}; "
        f"best model by validation accuracy: `{summary['best_variant']}`."
    )


def results_table(summary: dict) -> str:
    """Markdown leaderboard from metrics/summary.json, best validation accuracy first."""
    rows = results_rows(summary)
    for row in rows[:-1]:
        row[0] = f"`{row[0]}`"
    members = summary["ensemble"]["members"]
    rows[-1][0] = f"ensemble of {', '.join(f'`{m}`' for m in members)}"
    lines = markdown_table(RESULTS_HEADER, rows, "lrrrrrl")
    if summary.get("machine"):
        lines += ["", machine_line(summary)]
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
    machine = bench.get("machine", {})
    lines += [
        "",
        f"- Measured on {cpu_description({**machine, 'matmul_peak_gflops': None})}, "
        f"{machine.get('cores', '?')} cores, TensorFlow "
        f"{machine.get('tensorflow', '?')}; fp32 matmul peak in the same run: "
        f"{bench['matmul_peak_gflops']:.0f} GFLOP/s.",
    ]
    if published.get("speedup"):
        lines.append(
            f"- The enhanced CNN trained the published way (batch 64, Adam, no oneDNN flag, per-image Python "
            f"augmentation): {published['images_per_second']:.0f} images/s; this pipeline's "
            f"`{published.get('variant', 'cnn_enhanced')}`: "
            f"**{published['speedup']:.2f}× faster**."
        )
    for name, row in bench.get("determinism", {}).items():
        if "epoch_seconds_on" in row:
            lines.append(
                f"- Op determinism on `{name}`, whole epochs in {row['pairs']} interleaved pairs: "
                f"{_seconds_list(row['epoch_seconds_on'])} s with it, {_seconds_list(row['epoch_seconds_off'])} s "
                f"without; cost of the medians {row['cost_percent']:+.1f} % (lowest CPU share "
                f"{row['cpu_share_min']:.2f}: {_share_verdict(row['cpu_share_min'])})."
            )
        else:  # benchmarks from before whole-epoch pairs
            lines.append(
                f"- Op determinism on `{name}`: {row['deterministic_images_per_second']:,.0f} vs "
                f"{row['nondeterministic_images_per_second']:,.0f} images/s without (cost {row['cost_percent']:.1f} %)."
            )
    race = bench.get("race")
    if race:
        test = summary["variants"].get(race["variant"], {}).get("test_accuracy")
        lines.append(
            f"- Time to accuracy: `{race['variant']}` trained in full in this run in "
            f"{race['train_seconds'] / 60:.1f} min "
            f"(best validation {race['best_val_accuracy']:.2%}"
            + (f", {test:.2%} test in the pipeline's run" if test else "")
            + f"); the published recipe at its measured speed needs {race['published_seconds'] / 60:.0f} min for its "
            f"{race['published_epochs']} epochs: **{race['time_to_accuracy_ratio']:.0f}× sooner**."
        )
    dead = bench.get("fit_dead_time")
    if dead and dead.get("max_seconds") is not None:
        lines.append(
            f"- `model.fit`'s dead time after its last epoch (train_seconds − the last epoch's end), every variant of "
            f"the last run: at most {dead['max_seconds']:.2f} s ({'within' if dead['within_limit'] else 'over'} 2 s)."
        )
    overhead = bench.get("run_overhead")
    if overhead:
        lines.append(
            f"- The run's non-training overhead (stage wall times − `fit` times, from the time-stamped repro log): "
            f"{overhead['overhead_seconds'] / 60:.1f} min over {overhead['stages']} stages "
            f"({overhead['stage_seconds'] / 60:.1f} min in all)."
        )
    if bench.get("noop_repro_seconds") is not None:
        lines.append(f"- No-op `dvc repro` (nothing changed): {bench['noop_repro_seconds']:.1f} s.")
    if bench.get("ingest_seconds") is not None:
        lines.append(f"- `ingest` stage on both CSVs (validation, arrays, EDA plots): {bench['ingest_seconds']:.1f} s.")
    return "\n".join(lines)


def _share_verdict(share: float) -> str:
    """What the lowest CPU share of a set of timings says about them."""
    return "no timing waited on the machine" if share >= 0.8 else "some timings waited, so read the pairs with care"


def _seconds_list(values: list[float]) -> str:
    return " / ".join(f"{value:.1f}" for value in values)


def _default(option: dataclasses.Field) -> str:
    if option.default is not dataclasses.MISSING:
        value = option.default
        if value in ("", ()):  # a value the loader requires (a student's teacher, an ensemble's members)
            return "required"
        return f"`{str(value).lower()}`" if isinstance(value, bool) else f"`{value}`"
    if option.default_factory is not dataclasses.MISSING:
        return "`{}`"
    return "required" if option.name != "architecture" else "the variant's key"


def options_table() -> str:
    """Every params.yaml key with its default and description, from the config dataclasses'
    field metadata: the one place options are described."""
    lines = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for prefix, section in OPTION_SECTIONS:
        parent = section.__mro__[1]
        inherited = {field.name for field in dataclasses.fields(parent)} if dataclasses.is_dataclass(parent) else set()
        for option in dataclasses.fields(section):
            if option.name == "name" or option.name in inherited:  # the variant's key; a parent's keys
                continue
            row = f"| `{prefix}.{option.name}` | {_default(option)} | {allowed(option)} | {option.metadata['doc']} |"
            lines.append(row)
    return "\n".join(lines)


def _replace_block(text: str, start: str, end: str, body: str) -> str:
    block = f"{start}\n{body}\n{end}"
    return re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)


def readme_blocks(
    text: str, summary: dict, bench: dict | None = None, source: str = "README", seeds: dict | None = None
) -> str:
    """Text with every generated block it holds regenerated: results (from the summary), options
    (from the config dataclasses) and, given bench or seeds, performance and the seed study.
    A file must hold at least one."""
    has = {start: start in text and end in text for start, end in BLOCKS}
    if not any(has.values()):
        raise FmnistError(f"{source}: no {', '.join(start for start, _ in BLOCKS)} block to fill")
    new = _replace_block(text, RESULTS_START, RESULTS_END, results_table(summary)) if has[RESULTS_START] else text
    if has[OPTIONS_START]:
        new = _replace_block(new, OPTIONS_START, OPTIONS_END, options_table())
    if bench is not None and has[BENCH_START]:
        new = _replace_block(new, BENCH_START, BENCH_END, bench_table(bench, summary))
    if seeds is not None and has[SEEDS_START]:
        new = _replace_block(new, SEEDS_START, SEEDS_END, seeds_table(seeds, summary))
    return new


def update_readme(readme: Path, summary: dict, bench: dict | None = None, seeds: dict | None = None) -> bool:
    """Regenerate the blocks a Markdown file holds; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    new = readme_blocks(text, summary, bench, source=str(readme), seeds=seeds)
    if new != text:
        write_text(readme, new)
    return new != text


def cpu_label(run: dict) -> str:
    """The model name and its deciding features (the name alone does not tell AMX from no AMX)."""
    features = run.get("cpu_features") or []
    return f"{run['cpu']} ({', '.join(features)})" if features else run["cpu"]


def _mixed(entry: dict) -> bool:
    """Seeds trained on more than one CPU kind: their mean time compares with nothing."""
    return len({cpu_label(run) for run in entry["runs"]}) > 1


def seeds_table(seeds: dict, summary: dict) -> str:
    """Markdown: each variant's seeds, mean ± sd against its target (the study's, else the CI
    floor), and a note where the committed run is no longer the one the seeds were measured beside."""
    lines = [
        "| variant | seeds | test accuracy per seed | mean ± sd | target (mean) | best val. (mean) "
        "| train time (mean) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    notes = []
    for name, entry in seeds["variants"].items():
        floor = entry.get("target", summary["variants"].get(name, {}).get("floor"))
        mark = " ✅" if floor and entry["test_accuracy_mean"] >= floor else ""
        seeds_used = ", ".join(str(run["seed"]) for run in entry["runs"])
        accuracies = ", ".join(f"{run['test_accuracy']:.2%}" for run in entry["runs"])
        lines.append(
            f"| `{name}` | {seeds_used} | {accuracies} "
            f"| {entry['test_accuracy_mean']:.2%} ± {entry['test_accuracy_sd']:.2%}{mark} "
            f"| {f'{floor:.2%}' if floor else '–'} | {entry['best_val_accuracy_mean']:.2%} "
            f"| {entry['train_seconds_mean'] / 60:.1f} min{' (mixed CPUs)' if _mixed(entry) else ''} |"
        )
        committed = summary["variants"].get(name, {}).get("test_accuracy")
        if committed is not None and committed != entry["runs"][0]["test_accuracy"]:
            notes.append(
                f"`{name}` was retrained since these seeds (committed run {committed:.2%}, seeds' baseline "
                f"{entry['runs'][0]['test_accuracy']:.2%}): run `make seeds SEED_VARIANTS={name}` again."
            )
    measured = []
    for name, entry in seeds["variants"].items():  # each variant's CPUs and commits: times compare within one CPU
        cpus = ", ".join(dict.fromkeys(cpu_label(run) for run in entry["runs"]))
        commits = ", ".join(dict.fromkeys(run.get("commit", entry["commit"])[:7] for run in entry["runs"]))
        measured.append(f"`{name}` on {cpus} at commit {commits}")
    lines += ["", f"Sample standard deviation; measured {'; '.join(measured)}."]
    return "\n".join(lines + [f"**Stale:** {note}" for note in notes])
