"""`pip install` finds wheels on every common platform for every Python the project declares.

tensorflow-cpu 2.21 has wheels for Linux x86_64 and Windows x86_64 only; pyproject.toml's markers
pick tensorflow elsewhere (macOS arm64, Linux aarch64). uv resolves pyproject.toml for each target
(pip's --platform does not evaluate markers for the target), with requirements.lock as constraints,
as `make setup` installs it. Needs PyPI; uv's cache (UV_CACHE_DIR or its default) keeps reruns short.
"""

import os
import re
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import ROOT

PYTHONS = ("3.11", "3.12", "3.13")  # requires-python = ">=3.11,<3.14"
TENSORFLOW = {  # uv target -> the TensorFlow distribution it should get
    "x86_64-unknown-linux-gnu": "tensorflow-cpu",
    "aarch64-unknown-linux-gnu": "tensorflow",
    "aarch64-apple-darwin": "tensorflow",
    "x86_64-pc-windows-msvc": "tensorflow-cpu",
}
# Wheel-only resolution except for these pure-Python, sdist-only packages (pip builds them anywhere).
SDIST_ONLY = ("antlr4-python3-runtime",)  # moto[server] -> 4.9.3, never published as a wheel
INDEX = os.environ.get("UV_DEFAULT_INDEX") or os.environ.get("UV_INDEX_URL") or "https://pypi.org/simple/"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    """name -> version of each `name==version[; marker]` line."""
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[normalized(name.split("[")[0])] = version.split(";")[0].strip()
    return found


@pytest.fixture(scope="module")
def uv_bin():
    uv = pytest.importorskip("uv", reason="uv is not installed (pip install -c requirements.lock -e '.[dev]')")
    try:
        urllib.request.urlopen(INDEX + "tensorflow/", timeout=10).close()
    except OSError as error:
        pytest.skip(f"package index {INDEX} unreachable ({error}); the resolution needs it")
    return uv.find_uv_bin()


def resolve(uv_bin: str, target: str, python: str) -> subprocess.CompletedProcess:
    only_binary = ["--only-binary", ":all:", *(arg for pkg in SDIST_ONLY for arg in ("--no-binary", pkg))]
    cmd = [uv_bin, "pip", "compile", "--quiet", "--no-header", "--no-annotate", *only_binary]
    cmd += ["--python-platform", target, "--python-version", python, "--extra", "dev"]
    cmd += ["-c", "requirements.lock", "pyproject.toml"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_every_platform_and_python_resolves_to_wheels(uv_bin):
    pairs = [(target, python) for target in TENSORFLOW for python in PYTHONS]
    with ThreadPoolExecutor(max_workers=4) as pool:  # network-bound; uv locks its shared cache
        results = dict(zip(pairs, pool.map(lambda pair: resolve(uv_bin, *pair), pairs), strict=True))
    failed = {pair: result.stderr.strip()[-800:] for pair, result in results.items() if result.returncode}
    assert not failed, failed
    locked = pins((ROOT / "requirements.lock").read_text())
    for (target, python), result in results.items():
        resolved = pins(result.stdout)
        wanted = TENSORFLOW[target]
        other = "tensorflow" if wanted == "tensorflow-cpu" else "tensorflow-cpu"
        assert resolved.get(wanted) == "2.21.0", (target, python, wanted)
        assert other not in resolved, (target, python, other)
        differs = {
            name: (version, locked[name]) for name, version in resolved.items() if locked.get(name, version) != version
        }
        assert not differs, (target, python, differs)  # requirements.lock's pins hold as constraints everywhere
