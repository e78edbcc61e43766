"""A real PostgreSQL server on 127.0.0.1 for the shared-study test of `fmnist tune`.

Debian's postgresql package provides the binaries (`make postgres`, part of `make test`, installs
it where apt is usable, as it does Chromium). The server runs from a throw-away data folder on a
free port with trust authentication on loopback only, as the `postgres` system user when the
tests run as root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PostgresServer:
    url: str  # SQLAlchemy URL for Optuna: postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
    data: Path
    bin_dir: Path
    user: str | None

    def stop(self) -> None:
        _run(self, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "stop", "-m", "fast"], check=False)


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: Debian's versioned folder, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run(server: PostgresServer, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    if server.user is not None:
        cmd = ["runuser", "-u", server.user, "--", *cmd]
    # From the data's folder: initdb returns to the working directory, which postgres may not enter.
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120, cwd=server.data.parent)


def start(folder: Path) -> PostgresServer:
    bin_dir = binaries()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL not installed (make postgres, or apt-get install postgresql)")
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        pwd.getpwnam(user)  # KeyError when the package did not create the account
    folder.mkdir(parents=True, exist_ok=True)
    if user is not None:
        # The postgres user writes its data and socket here; pytest's folders above are 0700.
        os.chmod(folder, 0o777)
        top = Path(tempfile.gettempdir())
        for parent in folder.parents:
            if parent == top or top not in parent.parents:
                break
            os.chmod(parent, parent.stat().st_mode | 0o011)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = PostgresServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", folder / "data", bin_dir, user)
    _run(server, [str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(
        server,
        [str(bin_dir / "pg_ctl"), "-D", str(server.data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
    )
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return server
        if time.monotonic() > deadline:
            log = (folder / "log").read_text() if (folder / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start on port {port}: {log[-500:]}")
        time.sleep(0.2)
