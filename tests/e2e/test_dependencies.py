"""Every repo module a stage imports is one of that stage's DVC deps, and no other module is.

The import closure is computed from the code (every `import` anywhere in a module, including
the lazy ones inside functions), so a new import cannot slip past `dvc repro`: editing a module
re-runs exactly the stages whose code reaches it.
"""

import ast
import re
from pathlib import Path

import yaml

from tests.helpers import ROOT

# Modules that cannot change a stage's outputs, with the reason. Nothing else may be left out.
EXEMPT = {
    "fmnist/errors.py": "error classes and the one-line error printer: they shape messages and exit codes, not outputs",
    "fmnist/stage_args.py": "argument parsing: the paths it parses come from the stage's cmd, which DVC tracks",
}
LOCAL_PACKAGES = ("fmnist", "stages")


def module_file(dotted: str) -> Path | None:
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_files(path: Path) -> set[Path]:
    """Repo files that importing `path` runs: its imports and their packages' __init__ files."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = ".".join([*package[: len(package) - node.level + 1], *([module] if module else [])])
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}  # `from fmnist import plots`
    files = set()
    for name in names:
        if name.split(".")[0] not in LOCAL_PACKAGES:
            continue
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            found = module_file(".".join(parts[:end]))
            if found:
                files.add(found)
    return files


def closure(entry: str) -> set[str]:
    """Repo-relative files run by `python -m entry`, including the entry's own package __init__."""
    start = module_file(entry)
    assert start is not None, entry
    todo = [start, *imported_files(start)]
    parts = entry.split(".")
    todo += [f for end in range(1, len(parts)) if (f := module_file(".".join(parts[:end])))]
    seen: set[Path] = set()
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += imported_files(current) - seen
    return {f.relative_to(ROOT).as_posix() for f in seen}


def stage_code() -> dict[str, tuple[set[str], set[str]]]:
    """stage name -> (imported repo files, declared .py deps)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    result = {}
    for name, stage in stages.items():
        body = stage.get("do", stage)
        entry = re.search(r"python3? -m ([\w.]+)", body["cmd"])
        assert entry, f"{name}: cmd does not run a python module"
        declared = {str(dep) for dep in body.get("deps", []) if str(dep).endswith(".py")}
        result[name] = (closure(entry.group(1)), declared)
    return result


def test_every_imported_module_is_a_declared_dependency():
    undeclared = {
        name: sorted(imported - declared - set(EXEMPT)) for name, (imported, declared) in stage_code().items()
    }
    assert not any(undeclared.values()), {name: files for name, files in undeclared.items() if files}


def test_no_stage_declares_a_module_it_does_not_import():
    extra = {name: sorted(declared - imported) for name, (imported, declared) in stage_code().items()}
    assert not any(extra.values()), {name: files for name, files in extra.items() if files}


def test_exempt_modules_hold_no_pipeline_logic():
    """The exemptions stay honest: no exempt module imports the package's computing modules
    (the package's __init__ and the start-up log filter it installs run before any module)."""
    for path in EXEMPT:
        allowed = {*EXEMPT, "fmnist/__init__.py", "fmnist/quiet.py"}
        assert closure(path.removesuffix(".py").replace("/", ".")) <= allowed, path


def test_closure_follows_lazy_and_package_imports():
    """The closure sees imports inside functions and `from fmnist import plots` forms."""
    assert "fmnist/training.py" in closure("stages.train")  # imported inside main()
    assert "fmnist/plots.py" in closure("stages.ingest")  # `from fmnist import ..., plots`
    assert {"fmnist/__init__.py", "stages/__init__.py"} <= closure("stages.fetch")


def test_package_has_no_import_cycle():
    """Module imports (lazy ones included) form a DAG, so no module needs another's half-run body.
    Edges into the package __init__ are left out: Python runs it before any submodule anyway."""
    package_init = ROOT / "fmnist" / "__init__.py"
    graph = {
        path: {dep for dep in imported_files(path) if dep != package_init and dep != path}
        for path in (ROOT / "fmnist").glob("*.py")
    }
    state: dict[Path, str] = {}

    def visit(path: Path, trail: list[Path]) -> None:
        state[path] = "open"
        for dep in sorted(graph.get(dep_key := path, set())):
            assert state.get(dep) != "open", " -> ".join(p.name for p in [*trail, dep_key, dep])
            if dep not in state:
                visit(dep, [*trail, dep_key])
        state[path] = "done"

    for path in sorted(graph):
        if path not in state:
            visit(path, [])
