"""Bearer-token auth (--token-file) through the real server: every Rosetta call needs a listed token, checked
before the request is read; health and reflection stay open; tokens never reach the log or an error message;
SIGHUP reloads the file."""
import signal
import subprocess
import time

import grpc
import pytest

import rosetta
from rosetta.v1 import embeddings_pb2

from conftest import ServerProcess, server_bin, startup_timeout

GOOD = "tok-3f9a1c7e5b2d4a6f8e0c1b3d5f7a9e2c"
SECOND = "second-token-0123456789"
WRONG = "tok-3f9a1c7e5b2d4a6f8e0c1b3d5f7a9e2X"  # differs only in the last byte


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("auth") / "tokens"
    path.write_text(f"# Rosetta tokens\n\n  {GOOD}  \n# retired: old-token\n{SECOND}\n")
    s = ServerProcess("auth", ["--token-file", str(path)]).start(startup_timeout())
    s.token_path = path
    yield s
    s.stop()
    s.remove_data()


def _unauthenticated(call):
    with pytest.raises(rosetta.RosettaError) as ei:
        call()
    assert ei.value.code == grpc.StatusCode.UNAUTHENTICATED, ei.value
    return ei.value.message


def test_no_token_is_unauthenticated(auth_server):
    with auth_server.client() as c:
        message = _unauthenticated(c.info)
        assert "authorization: Bearer <token>" in message
        _unauthenticated(lambda: c.embed_text(["hello"]))
        _unauthenticated(c.list_collections)


def test_wrong_token_is_unauthenticated_and_not_echoed(auth_server):
    for token in (WRONG, GOOD[:-1], GOOD + "x", "x"):
        with auth_server.client(token=token) as c:
            message = _unauthenticated(c.info)
            assert token not in message and "not valid" in message


def test_other_scheme_is_unauthenticated(auth_server):
    with auth_server.client() as c:
        with pytest.raises(grpc.RpcError) as ei:
            c.embeddings.Info(embeddings_pb2.InfoRequest(), metadata=(("authorization", f"Basic {GOOD}"),), timeout=10)
        assert ei.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "Bearer" in ei.value.details()


def test_right_tokens_work(auth_server, tmp_path):
    for token in (GOOD, SECOND):
        with auth_server.client(token=token) as c:
            assert c.info().version
            assert len(c.embed_text(["a cat"])) == 1
            c.create_collection(f"auth-{token[:6]}", dimensions=3)
            c.upsert(f"auth-{token[:6]}", [{"id": "a", "vector": [1.0, 0.0, 0.0]}])
            assert [h.id for h in c.search(f"auth-{token[:6]}", vector=[1.0, 0.0, 0.0], top_k=1)] == ["a"]


def test_streaming_calls_need_a_token(auth_server):
    requests = [rosetta.embed_request(["one"]), rosetta.embed_request(["two"])]
    with auth_server.client() as c:
        _unauthenticated(lambda: list(c.embed_stream(iter(requests))))
    with auth_server.client(token=WRONG) as c:
        _unauthenticated(lambda: list(c.embed_stream(iter(requests))))
    with auth_server.client(token=GOOD) as c:
        assert len(list(c.embed_stream(iter(requests)))) == 2


def test_health_and_reflection_stay_open(auth_server):
    with auth_server.client() as c:
        assert c.health("") == "SERVING"
        assert c.health("rosetta.v1.Embeddings") == "SERVING"
        from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
        services = set(ProtoReflectionDescriptorDatabase(c.channel).get_services())
        assert {"rosetta.v1.Embeddings", "rosetta.v1.Index"} <= services


def test_unknown_method_without_token_reveals_nothing(auth_server):
    with auth_server.client() as c:
        call = c.channel.unary_unary("/rosetta.v1.Nope/X", request_serializer=lambda b: b,
                                     response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as ei:
            call(b"", timeout=10)
        assert ei.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_tokens_never_logged(auth_server):
    with auth_server.client(token=WRONG) as c:
        _unauthenticated(c.info)
    with auth_server.client(token=GOOD) as c:
        c.info()
    log = auth_server.log_text()
    for token in (GOOD, SECOND, WRONG):
        assert token not in log


def _hang_up(server, path, content, logged):
    """Writes `content` to the token file, sends SIGHUP and waits for `logged` in the server's log."""
    path.write_text(content)
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while logged not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert logged in server.log_text(), server.log_tail()


def test_sighup_reloads_the_token_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text("before-reload-token\n")
    s = ServerProcess("auth-reload", ["--token-file", str(path)]).start(startup_timeout())
    try:
        with s.client(token="before-reload-token") as c:
            c.info()
        _hang_up(s, path, "after-reload-token\n", "token file reloaded")
        with s.client(token="after-reload-token") as c:
            c.info()
        with s.client(token="before-reload-token") as c:
            _unauthenticated(c.info)
        # A file that became empty is refused and the tokens in force stay.
        _hang_up(s, path, "# nothing\n", "not reloaded")
        with s.client(token="after-reload-token") as c:
            c.info()
    finally:
        s.stop()
        s.remove_data()


@pytest.mark.parametrize("content", [None, "# only a comment\n\n"])
def test_bad_token_file_stops_the_start(tmp_path, content):
    path = tmp_path / "tokens"
    if content is not None:
        path.write_text(content)
    proc = subprocess.run([str(server_bin()), "--address", "127.0.0.1:0", "--in-memory", "--token-file", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "--token-file" in proc.stderr and str(path) in proc.stderr, proc.stderr
