"""A real S3-compatible server on 127.0.0.1 for the remote-storage tests: moto's standalone server.

It is a separate process speaking the S3 HTTP API (what DVC's own S3 plugin tests use), installed
with the dev extra (`moto[server]`), so `make test` needs nothing from outside PyPI. DVC reaches it
through `endpointurl` and the usual AWS environment variables, as it would reach MinIO or AWS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "fmnist-test",
    "AWS_SECRET_ACCESS_KEY": "fmnist-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class S3Server:
    endpoint: str
    bucket: str
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/dvc"

    def configure(self, repo: Path, name: str = "storage", local: bool = False) -> None:
        """`dvc remote add -d` this bucket in `repo` (in .dvc/config, or .dvc/config.local)."""
        scope = ["--local"] if local else []
        for command in (
            ["remote", "add", *scope, "--force", "-d", name, self.url],
            ["remote", "modify", *scope, name, "endpointurl", self.endpoint],
        ):
            subprocess.run([_dvc(), *command], cwd=repo, check=True, capture_output=True, env=environment())

    def objects(self) -> int:
        """How many objects the bucket holds (the files DVC pushed)."""
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint, **_boto_credentials())
        return sum(
            page.get("KeyCount", 0) for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        )


def environment() -> dict[str, str]:
    """This process's environment with the server's credentials, for DVC subprocesses."""
    return {**os.environ, **CREDENTIALS}


def start(log: Path, bucket: str = "fmnist-dvc") -> S3Server:
    """Start the server on a free loopback port, wait until it answers, create `bucket`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Path(sys.executable).with_name("moto_server")
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto_server did not start on {endpoint}: {log.read_text()[-500:]}") from None
            time.sleep(0.2)
    import boto3

    boto3.client("s3", endpoint_url=endpoint, **_boto_credentials()).create_bucket(Bucket=bucket)
    return S3Server(endpoint, bucket, process)


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": CREDENTIALS["AWS_DEFAULT_REGION"],
    }


def _dvc() -> str:
    return str(Path(sys.executable).with_name("dvc"))
