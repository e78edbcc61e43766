import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import fmnist  # noqa: F401  sets the TensorFlow environment before anything imports it
from fmnist.data.formats import read_csv

FIXTURE = Path(__file__).parent / "fixtures" / "mini"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (`make test` runs `-n auto --dist loadgroup`): a module's tests stay on
    one worker, so its module fixtures are built once, and the workflow tests, which share one
    origin in the order a project lives them, run on one worker in collection order."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = "workflow_origin" if "workflow_origin" in item.fixturenames else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))


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
