import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import fmnist  # noqa: F401  sets the TensorFlow environment before anything imports it
from fmnist.data.formats import read_csv

FIXTURE = Path(__file__).parent / "fixtures" / "mini"


# The workflow tests share one origin (the `workflow_origin` fixture) and run in the order a
# project lives them: the retrain workflow's push trains main first, so sweeps and studies start
# from pushed outputs. Collection order is this order (file names sort so).
WORKFLOW_MODULES = (
    "tests/e2e/test_retrain_workflow.py",
    "tests/e2e/test_sweep_workflow.py",
    "tests/e2e/test_tune_workflow.py",
)


def pytest_collection_modifyitems(config, items):
    """A test that takes the shared origin must be in WORKFLOW_MODULES, or xdist could run it on
    another worker, against an origin that the retrain workflow has not trained."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if "workflow_origin" in item.fixturenames and path not in WORKFLOW_MODULES:
            raise pytest.UsageError(f"{path}: uses workflow_origin; add it to WORKFLOW_MODULES in tests/conftest.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs `-n auto --dist loadscope`: each module's tests stay on one worker, in
    order, so module fixtures are built once, and the workflow modules count as one scope.
    (xdist's loadgroup marks do not reach pytest 9.2's node ids: xdist 3.8 renames `_nodeid`.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "workflow_origin" if path in WORKFLOW_MODULES else path

    return ModuleScheduling(config, log)


@pytest.fixture(scope="session")
def fixture_train() -> tuple[np.ndarray, np.ndarray]:
    """500 real Fashion-MNIST training images (50 per class) and their labels."""
    return read_csv(FIXTURE / "fashion-mnist_train.csv.gz")


@pytest.fixture(scope="session")
def fixture_csv_text() -> str:
    return gzip.decompress((FIXTURE / "fashion-mnist_train.csv.gz").read_bytes()).decode()


@pytest.fixture(scope="session")
def small_cnn(fixture_train):
    """cnn_basic fitted briefly on the fixture: enough for exports to agree on real images."""
    import keras

    from fmnist.train.models import build_model

    images, labels = fixture_train
    keras.utils.set_random_seed(1)
    model = build_model("cnn_basic", {"filters": [8, 16], "dense_units": 32})
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(images.astype(np.float32)[..., None] / 255, labels, epochs=3, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """A real S3-compatible server (moto's standalone server) on 127.0.0.1 for the whole session."""
    from tests.harness import s3 as s3_server

    server = s3_server.start(tmp_path_factory.mktemp("s3") / "moto.log")
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A real PostgreSQL server on 127.0.0.1 (Debian's package, `make postgres`) for the session."""
    from tests.harness import postgres as postgres_server

    if postgres_server.binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed: `make test` installs it (make postgres)")
        pytest.skip("PostgreSQL is not installed (make postgres, or apt-get install postgresql)")
    server = postgres_server.start(tmp_path_factory.mktemp("postgres"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def workflow_origin(tmp_path_factory) -> Path:
    """One bare origin shared by the workflow tests, which run in the order a project lives them:
    the retrain workflow's push trains main first, so sweeps start from pushed outputs."""
    from tests.harness.workflow_repo import make_origin

    if not list((Path(__file__).parents[1] / ".venv").glob(".installed-*")):
        pytest.skip("needs the project's .venv from `make setup` (the harness restores it as a cache hit)")
    return make_origin(tmp_path_factory.mktemp("workflows"))
