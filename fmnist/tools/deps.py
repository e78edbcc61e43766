"""dvc.yaml's code deps, generated from the imports: `fmnist deps` rewrites them, `--check` fails
when they are out of date (the test suite runs it).

A stage's code deps are every repo module that `python -m <its entry>` can run: its imports,
including the lazy ones inside functions, and the `__init__` of every package on the way. So a
new import cannot slip past `dvc repro`: editing a module re-runs exactly the stages it reaches.
The round trip through ruamel.yaml (the library DVC itself edits dvc.yaml with) keeps comments,
folded commands and every non-code dep where it was.
"""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

from fmnist.core.errors import FmnistError

# Modules a stage imports but that cannot change its outputs could be left out here; none is, so
# every edit a stage can see re-runs it (errors and argument parsing included).
EXEMPT: dict[str, str] = {}
LOCAL_PACKAGES = ("fmnist", "stages")
ENTRY = re.compile(r"python3? -m ([\w.]+)")


def module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_files(root: Path, path: Path) -> set[Path]:
    """Repo files that importing `path` runs: its imports and their packages' __init__ files."""
    package = path.relative_to(root).with_suffix("").parts[:-1]  # an __init__'s is its own package
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = ".".join([*package[: len(package) - node.level + 1], *([module] if module else [])])
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}  # `from fmnist.core import plots`
    files = set()
    for name in names:
        if name.split(".")[0] not in LOCAL_PACKAGES:
            continue
        dotted = name.split(".")
        for end in range(1, len(dotted) + 1):
            if found := module_file(root, ".".join(dotted[:end])):
                files.add(found)
    return files


def closure(root: Path, entry: str) -> set[str]:
    """Repo-relative files run by `python -m entry`, including its packages' __init__ files."""
    start = module_file(root, entry)
    if start is None:
        raise FmnistError(f"dvc.yaml: no module {entry!r} under {root}")
    dotted = entry.split(".")
    todo = [start, *imported_files(root, start)]
    todo += [found for end in range(1, len(dotted)) if (found := module_file(root, ".".join(dotted[:end])))]
    seen: set[Path] = set()
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += imported_files(root, current) - seen
    return {found.relative_to(root).as_posix() for found in seen}


def code_deps(root: Path, cmd: str) -> list[str]:
    """The sorted code deps of a stage whose command is `cmd`."""
    entry = ENTRY.search(cmd)
    if not entry:
        raise FmnistError(f"dvc.yaml: {cmd.split()[0]!r}: a stage command must run `python -m <module>`")
    return sorted(closure(root, entry.group(1)) - set(EXEMPT))


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.width, yaml.preserve_quotes = 4096, True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def sync(dvc_yaml: Path) -> tuple[str, list[str]]:
    """(dvc.yaml with generated code deps, names of the stages whose code deps changed). In each
    stage the code deps come first, sorted; data, params and outputs are kept as written."""
    yaml = _yaml()
    document = yaml.load(dvc_yaml.read_text(encoding="utf-8"))
    changed = []
    for name, stage in document["stages"].items():
        body = stage.get("do", stage)
        deps = body.setdefault("deps", [])
        current = [str(dep) for dep in deps if isinstance(dep, str) and dep.endswith(".py")]
        wanted = code_deps(dvc_yaml.parent, str(body["cmd"]))
        if current != wanted:
            changed.append(name)
            others = [dep for dep in deps if not (isinstance(dep, str) and dep.endswith(".py"))]
            deps[:] = [*wanted, *others]
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue(), changed
