import gzip
import shutil

import numpy as np
import pytest

from fmnist.core.errors import DataError, SourceError
from fmnist.data.formats import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_csv
from fmnist.data.sources import IDX_FILES, download, fetch, fetch_from_folder, folder_kind
from tests.helpers import FIXTURE, idx_bytes


def write_idx_folder(folder, images, labels):
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        images_name, labels_name = IDX_FILES[split]
        (folder / images_name).write_bytes(gzip.compress(idx_bytes(images, IDX_IMAGES_MAGIC)))
        (folder / labels_name).write_bytes(gzip.compress(idx_bytes(labels, IDX_LABELS_MAGIC)))


def outputs(tmp_path):
    return {"train": tmp_path / "raw" / "train.csv", "test": tmp_path / "raw" / "test.csv"}


def test_fetch_from_csv_folder(tmp_path, fixture_train):
    out = outputs(tmp_path)
    assert folder_kind(FIXTURE) == "csv"
    description = fetch("folder", FIXTURE, out)
    assert "csv files" in description
    images, _ = read_csv(out["train"])
    np.testing.assert_array_equal(images, fixture_train[0])


def test_fetch_from_idx_folder_converts_to_csv(tmp_path, fixture_train):
    images, labels = fixture_train
    folder = tmp_path / "idx"
    write_idx_folder(folder, images[:20], labels[:20])
    out = outputs(tmp_path)
    assert "idx files" in fetch_from_folder(folder, out, verify=False)
    again, again_labels = read_csv(out["test"])
    np.testing.assert_array_equal(again, images[:20])
    np.testing.assert_array_equal(again_labels, labels[:20])
    # With verification on, these synthetic archives fail the official checksums.
    with pytest.raises(DataError, match="SHA-256"):
        fetch_from_folder(folder, out, verify=True)


def test_bad_csv_in_source_folder_is_named_and_nothing_written(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(FIXTURE, folder)
    (folder / "fashion-mnist_test.csv.gz").write_bytes(gzip.compress(b"label,pixel1\n1,2\n"))
    out = outputs(tmp_path)
    with pytest.raises(DataError, match=r"fashion-mnist_test\.csv\.gz: row 1: header"):
        fetch_from_folder(folder, out)
    assert not out["test"].exists()


def test_source_must_be_auto_folder_or_url(tmp_path):
    with pytest.raises(SourceError, match=r"data.source: '/x' is not 'auto', 'folder' or an https:// base URL"):
        fetch("/x", tmp_path, outputs(tmp_path))
    with pytest.raises(SourceError, match=r"expected fashion-mnist_train\.csv"):
        fetch("folder", tmp_path, outputs(tmp_path))
    (tmp_path / "a-file").write_text("")
    with pytest.raises(SourceError, match=r"data.folder: '.*a-file' is not a folder"):
        fetch("auto", tmp_path / "a-file", outputs(tmp_path))


def test_auto_prefers_the_folder_then_the_checksum_pinned_system_copy(tmp_path, monkeypatch, fixture_train):
    """The user's folder wins when complete; the system copy must match the official checksums."""
    import fmnist.data.sources as sources

    system = tmp_path / "system"
    write_idx_folder(system, fixture_train[0][:20], fixture_train[1][:20])
    monkeypatch.setattr(sources, "SYSTEM_DIR", system)
    out = outputs(tmp_path)
    assert "csv files in" in fetch("auto", FIXTURE, out)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="SHA-256"):  # not the official bytes: refused, not used
        fetch("auto", empty, out)
    assert "idx files" in fetch("folder", system, out)  # the user's own IDX data is taken as it is


def test_download_refuses_plain_http(tmp_path):
    with pytest.raises(SourceError, match="only https://"):
        download("http://example.com/x.gz", tmp_path / "x.gz", None)
    assert not (tmp_path / "x.gz").exists()


def test_auto_without_any_source_lists_three_ways(tmp_path, monkeypatch):
    import fmnist.data.sources as sources

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sources, "SYSTEM_DIR", tmp_path / "no-system-copy")
    monkeypatch.setattr(sources, "DOWNLOAD_URL", "https://127.0.0.1:9/")  # refused at once, no network
    with pytest.raises(SourceError) as error:
        fetch("auto", tmp_path / "data" / "external", outputs(tmp_path), download_dir=tmp_path / "dl")
    message = str(error.value)
    assert "(1)" in message and "(2) apt-get install dataset-fashion-mnist" in message and "(3)" in message
    assert not (tmp_path / "dl" / "train-images-idx3-ubyte.gz").exists()


def test_source_paths_cannot_pull_in_other_files(tmp_path):
    """A traversing data.folder or a symlink to a non-data file reads only the fixed names,
    validates them, and fails with one line naming the file; nothing is written."""
    out = outputs(tmp_path)
    with pytest.raises(SourceError, match=r"expected fashion-mnist_train\.csv"):
        fetch("folder", tmp_path / ".." / "..", out)
    folder = tmp_path / "src"
    shutil.copytree(FIXTURE, folder)
    (folder / "fashion-mnist_train.csv.gz").unlink()
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2\n")
    (folder / "fashion-mnist_train.csv").symlink_to(secret)
    with pytest.raises(DataError) as error:
        fetch("folder", folder, out)
    assert "fashion-mnist_train.csv: row 1: header is 'password=hunter2'" in str(error.value)
    assert not out["train"].exists() and not out["test"].exists()
    with pytest.raises(SourceError, match="only https:// downloads"):
        fetch("file:///etc/", folder, out)


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    """A local HTTPS server (self-signed certificate for 127.0.0.1) with a file, a redirect to
    plain http, a redirect to https, and a body that drips a byte every 50 ms."""
    import http.server
    import ssl
    import subprocess
    import threading
    import time

    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    body = gzip.compress(b"fashion" * 100)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            port = self.server.server_address[1]
            if self.path == "/to-http":
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{port}/file.gz")
                self.end_headers()
            elif self.path == "/to-https":
                self.send_response(302)
                self.send_header("Location", f"https://127.0.0.1:{port}/file.gz")
                self.end_headers()
            elif self.path.startswith("/drip"):
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    for _ in range(1000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    pass  # the client gave up: what the deadline test wants
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = ssl.create_default_context(cafile=str(cert))
    yield f"https://127.0.0.1:{server.server_address[1]}", client, body
    server.shutdown()


def test_download_follows_https_redirects_only(https_server, tmp_path):
    url, context, body = https_server
    download(f"{url}/to-https", tmp_path / "ok.gz", None, context=context)
    assert (tmp_path / "ok.gz").read_bytes() == body
    with pytest.raises(SourceError, match=r"/to-http: redirected to http://127\.0\.0\.1:\d+/file\.gz; only https://"):
        download(f"{url}/to-http", tmp_path / "downgraded.gz", None, context=context)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.gz"]


def test_download_has_an_overall_deadline(https_server, tmp_path):
    """Each read returns within the timeout, but the whole body would take 50 s: cut off at 1 s."""
    url, context, _ = https_server
    with pytest.raises(SourceError, match=r"/drip: not finished after the 1 s deadline"):
        download(f"{url}/drip", tmp_path / "slow.gz", None, timeout=5, deadline=1, context=context)
    assert list(tmp_path.iterdir()) == []


def test_download_keeps_the_size_cap(https_server, tmp_path):
    url, context, body = https_server
    with pytest.raises(SourceError, match=rf"larger than the {len(body) - 1} byte cap"):
        download(f"{url}/file.gz", tmp_path / "big.gz", None, max_bytes=len(body) - 1, context=context)
    assert list(tmp_path.iterdir()) == []
