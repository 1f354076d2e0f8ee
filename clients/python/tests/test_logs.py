"""--log-format json through the real server: every line on standard error is one JSON object with timestamp,
level, message; every call is logged with its request id (the client's x-request-id, else a generated one),
method, status code and duration."""
import json
import re

import grpc
import pytest

import rosetta
from rosetta.v1 import embeddings_pb2

from conftest import ServerProcess, startup_timeout


@pytest.fixture(scope="module")
def json_server():
    s = ServerProcess("json-logs", ["--log-format", "json", "--log-level", "debug"]).start(startup_timeout())
    yield s
    s.stop()
    s.remove_data()


def _records(server):
    records = []
    for line in server.log_text().splitlines():
        if line.startswith("rosetta-server listening on "):  # the one plain line, on stdout, for scripts
            continue
        records.append(json.loads(line))  # any other line that is not one JSON object fails here
    return records


def _requests(server, method):
    return [r for r in _records(server) if r["message"] == "request" and r["method"] == method]


def test_every_line_is_a_json_object(json_server):
    records = _records(json_server)
    assert any(r["message"] == "serving" for r in records)
    for r in records:
        assert {"timestamp", "level", "label", "message"} <= r.keys(), r
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["timestamp"]), r["timestamp"]
        assert r["level"] in ("trace", "debug", "info", "notice", "warning", "error", "critical")


def test_requests_carry_the_client_request_id(json_server):
    with json_server.client() as c:
        c.embeddings.Info(embeddings_pb2.InfoRequest(), metadata=(("x-request-id", "req-abc-123"),), timeout=10)
    [r] = [r for r in _requests(json_server, "/rosetta.v1.Embeddings/Info") if r["request_id"] == "req-abc-123"]
    assert r["code"] == "OK" and r["level"] == "debug"
    assert float(r["duration_ms"]) >= 0
    assert r["peer"].startswith("ipv4:127.0.0.1:")


def test_requests_without_an_id_get_a_generated_one(json_server):
    with json_server.client() as c:
        before = len(_requests(json_server, "/rosetta.v1.Index/ListCollections"))
        c.list_collections()
        c.list_collections()
    ids = [r["request_id"] for r in _requests(json_server, "/rosetta.v1.Index/ListCollections")[before:]]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids), ids


def test_failed_requests_are_logged_with_code_and_message(json_server):
    with json_server.client() as c:
        request = rosetta.embed_request(["hello"], model="no-such-model")
        with pytest.raises(grpc.RpcError) as ei:
            c.embeddings.Embed(request, metadata=(("x-request-id", "failing-1"),), timeout=10)
        assert ei.value.code() == grpc.StatusCode.NOT_FOUND
    [r] = [r for r in _requests(json_server, "/rosetta.v1.Embeddings/Embed") if r["request_id"] == "failing-1"]
    assert r["code"] == "NOT_FOUND" and r["level"] == "info"
    assert "no-such-model" in r["error"]


def test_bad_log_format_stops_the_start(tmp_path):
    import subprocess
    from conftest import server_bin
    proc = subprocess.run([str(server_bin()), "--in-memory", "--log-format", "xml"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0 and "--log-format 'xml'" in proc.stderr
