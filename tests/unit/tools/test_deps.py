"""dvc.yaml's code deps are generated from the imports, and the package's imports point down.

The import closure is computed from the code (every `import` anywhere in a module, including
the lazy ones inside functions), so a new import cannot slip past `dvc repro`.
"""

import ast
import shutil
from pathlib import Path

import pytest
import yaml

from fmnist.core.errors import FmnistError
from fmnist.tools.cli import main
from fmnist.tools.deps import EXEMPT, closure, imported_files, sync
from tests.helpers import ROOT

# Each sub-package and what it may import (besides itself and the package's __init__).
LAYERS = {
    "core": set(),
    "data": {"core"},
    "train": {"core"},
    "evaluate": {"core", "train"},
    "report": {"core", "evaluate"},
    "tools": {"core", "data", "train", "evaluate", "report"},
}


def test_dvc_yaml_code_deps_are_the_generated_ones(capsys):
    """`fmnist deps --check` passes on the committed dvc.yaml: no hand-kept list has drifted."""
    main(["deps", "--check", "--dvc-yaml", str(ROOT / "dvc.yaml")])
    assert "match the imports" in capsys.readouterr().out


def test_deps_rewrites_stale_lists_and_keeps_the_rest(tmp_path, capsys):
    """A dropped code dep and a stale one are fixed; comments, data deps and params stay as written."""
    for name in ("fmnist", "stages"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    original = (ROOT / "dvc.yaml").read_text()
    stale = original.replace("      - fmnist/data/sources.py\n", "      - fmnist/old_module.py\n", 1)
    assert stale != original
    dvc_yaml = tmp_path / "dvc.yaml"
    dvc_yaml.write_text(stale)
    with pytest.raises(SystemExit):
        main(["deps", "--check", "--dvc-yaml", str(dvc_yaml)])
    assert "code deps out of date in fetch" in capsys.readouterr().err
    assert dvc_yaml.read_text() == stale  # --check writes nothing
    main(["deps", "--dvc-yaml", str(dvc_yaml)])
    assert dvc_yaml.read_text() == original  # comments and every other dep kept byte for byte


def test_a_stage_that_does_not_run_a_module_is_refused(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages:\n  odd:\n    cmd: bash run.sh\n    deps: [run.sh]\n")
    with pytest.raises(FmnistError, match="must run `python -m <module>`"):
        sync(tmp_path / "dvc.yaml")


def test_every_stage_declares_its_whole_closure():
    """Checked independently of the rewrite: each stage's .py deps equal its closure less EXEMPT."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        body = stage.get("do", stage)
        declared = {dep for dep in body["deps"] if dep.endswith(".py")}
        entry = body["cmd"].split("-m ")[1].split()[0]
        assert declared == closure(ROOT, entry) - set(EXEMPT), name


def test_exempt_modules_hold_no_pipeline_logic():
    """The exemptions stay honest: no exempt module imports the package's computing modules."""
    allowed = {*EXEMPT, "fmnist/__init__.py", "fmnist/core/__init__.py", "fmnist/core/quiet.py"}
    for path in EXEMPT:
        assert closure(ROOT, path.removesuffix(".py").replace("/", ".")) <= allowed, path


def test_closure_follows_lazy_and_package_imports():
    """The closure sees imports inside functions and `from fmnist.core import plots` forms."""
    assert "fmnist/train/loop.py" in closure(ROOT, "stages.train")  # imported inside main()
    assert "fmnist/core/plots.py" in closure(ROOT, "stages.ingest")  # `from fmnist.core import plots`
    assert {"fmnist/__init__.py", "fmnist/core/__init__.py", "stages/__init__.py"} <= closure(ROOT, "stages.fetch")


def package_modules() -> list[Path]:
    return sorted((ROOT / "fmnist").rglob("*.py"))


def layer(path: Path) -> str | None:
    parts = path.relative_to(ROOT / "fmnist").parts
    return parts[0] if len(parts) > 1 else None


def test_every_module_sits_in_a_layer():
    """`ls fmnist` shows the architecture: only the package __init__ lives at the top."""
    loose = [p.name for p in package_modules() if layer(p) is None and p.name != "__init__.py"]
    assert not loose
    assert {layer(p) for p in package_modules()} - {None} == set(LAYERS)


def test_imports_point_down():
    """A layer imports only the layers below it (lazy imports included), so the package is acyclic
    by construction and a lower layer never needs a higher one's code."""
    wrong = []
    for path in package_modules():
        own = layer(path)
        for dep in imported_files(ROOT, path):
            target = layer(dep) if dep.is_relative_to(ROOT / "fmnist") else "stages"
            if own is None:
                if target is not None and target != "core":
                    wrong.append(f"{path.relative_to(ROOT)} -> {dep.relative_to(ROOT)}")
            elif target not in {own, None, *LAYERS[own]}:
                wrong.append(f"{path.relative_to(ROOT)} -> {dep.relative_to(ROOT)}")
    assert not wrong, wrong


def test_package_has_no_import_cycle():
    """Inside a layer, module imports form a DAG too. Edges into __init__ files are left out:
    Python runs them before any submodule anyway."""
    graph = {
        path: {dep for dep in imported_files(ROOT, path) if dep.name != "__init__.py" and dep != path}
        for path in package_modules()
    }
    state: dict[Path, str] = {}

    def visit(path: Path, trail: list[Path]) -> None:
        state[path] = "open"
        for dep in sorted(graph.get(path, set())):
            assert state.get(dep) != "open", " -> ".join(p.name for p in [*trail, path, dep])
            if dep not in state:
                visit(dep, [*trail, path])
        state[path] = "done"

    for path in sorted(graph):
        if path not in state:
            visit(path, [])


def test_stages_stay_thin():
    """Stage scripts do I/O around package calls: short, and no function of their own but main()."""
    for path in sorted((ROOT / "stages").glob("*.py")):
        tree = ast.parse(path.read_text())
        functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
        assert set(functions) <= {"main"}, (path.name, functions)
        assert len(path.read_text().splitlines()) <= 60, path.name


def test_readme_layout_names_every_module():
    """The README's layout section matches the folders: each layer's line names its modules."""
    import re

    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Project layout") :].split("```")[1]
    segments = dict(re.findall(r"^  (\w+)/ +(.*(?:\n {24}.*)*)", layout, re.M))
    assert set(segments) == set(LAYERS)
    for name, text in segments.items():
        modules = {p.stem for p in (ROOT / "fmnist" / name).glob("*.py")} - {"__init__"}
        missing = {m for m in modules if not re.search(rf"\b{m}\b", text)}
        assert not missing, (name, missing)
