"""The Prometheus endpoint (--metrics-address) of the real server: after known calls, every counter and histogram
moved by exactly the right amount; index sizes and model load time are exported; only GET /metrics is served."""
import re
import urllib.error
import urllib.request

import grpc
import pytest

import rosetta

from conftest import ServerProcess, free_port, startup_timeout

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@pytest.fixture(scope="module")
def metrics_server():
    port = free_port()
    s = ServerProcess("metrics", ["--metrics-address", f"127.0.0.1:{port}"]).start(startup_timeout())
    s.metrics_url = f"http://127.0.0.1:{port}"
    yield s
    s.stop()
    s.remove_data()


def scrape(server):
    with urllib.request.urlopen(server.metrics_url + "/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(_LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


EMBED = "/rosetta.v1.Embeddings/Embed"
INFO = "/rosetta.v1.Embeddings/Info"
UPSERT = "/rosetta.v1.Index/Upsert"


def test_counters_and_histograms_move_by_the_calls_made(metrics_server, text_model):
    before = scrape(metrics_server)
    with metrics_server.client() as c:
        for _ in range(3):
            c.info()
        c.embed_text(["a", "b", "c"])
        c.embed_text(["d", "e", "f", "g", "h"])
        with pytest.raises(rosetta.RosettaError):
            c.embed_text(["x"], model="no-such-model")
        c.create_collection("metrics-c", dimensions=2)
        c.upsert("metrics-c", [{"id": str(i), "vector": [1.0, float(i)]} for i in range(4)])
        call = c.channel.unary_unary("/rosetta.v1.Nope/X", request_serializer=lambda b: b,
                                     response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError):
            call(b"", timeout=10)
    after = scrape(metrics_server)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("rosetta_requests_total", method=INFO, code="OK", transport="grpc") == 3
    assert moved("rosetta_requests_total", method=EMBED, code="OK", transport="grpc") == 2
    assert moved("rosetta_requests_total", method=EMBED, code="NOT_FOUND", transport="grpc") == 1
    assert moved("rosetta_requests_total", method=UPSERT, code="OK", transport="grpc") == 1
    assert moved("rosetta_requests_total", method="unknown", code="UNIMPLEMENTED", transport="grpc") == 1
    assert moved("rosetta_errors_total", code="NOT_FOUND", transport="grpc") == 1
    assert moved("rosetta_errors_total", code="UNIMPLEMENTED", transport="grpc") == 1
    assert moved("rosetta_errors_total", code="OK", transport="grpc") == 0
    # Latency histograms per method: one observation per call, in the +Inf bucket and the count.
    assert moved("rosetta_request_duration_seconds_count", method=INFO, transport="grpc") == 3
    assert moved("rosetta_request_duration_seconds_bucket", method=INFO, le="+Inf", transport="grpc") == 3
    assert moved("rosetta_request_duration_seconds_count", method=EMBED, transport="grpc") == 3
    assert moved("rosetta_request_duration_seconds_sum", method=EMBED, transport="grpc") > 0
    # Batch sizes: items per Embed (3, 5 and the failed 1) and per Upsert (4).
    assert moved("rosetta_batch_items_count", method="Embed") == 3
    assert moved("rosetta_batch_items_sum", method="Embed") == 9
    assert moved("rosetta_batch_items_bucket", method="Embed", le="4.0") == 2
    assert moved("rosetta_batch_items_count", method="Upsert") == 1
    assert moved("rosetta_batch_items_sum", method="Upsert") == 4
    # Index sizes and gauges.
    assert value(after, "rosetta_index_items", collection="metrics-c") == 4
    assert value(after, "rosetta_index_collections") >= 1
    assert value(after, "rosetta_inference_queue_depth") == 0
    assert value(after, "rosetta_model_load_seconds") > 0


def test_deleted_collection_leaves_the_index_metrics(metrics_server):
    with metrics_server.client() as c:
        c.create_collection("metrics-gone", dimensions=2)
        c.upsert("metrics-gone", [{"id": "a", "vector": [1.0, 0.0]}])
        assert value(scrape(metrics_server), "rosetta_index_items", collection="metrics-gone") == 1
        c.delete_collection("metrics-gone")
    assert ("rosetta_index_items", frozenset({("collection", "metrics-gone")})) not in scrape(metrics_server)


@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/metric"), ("POST", "/metrics")])
def test_only_get_metrics_is_served(metrics_server, method, path):
    request = urllib.request.Request(metrics_server.metrics_url + path, method=method, data=b"" if method == "POST" else None)
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(request, timeout=10)
    assert ei.value.code == 404


def test_metrics_are_off_by_default(server):
    assert "metrics on" not in server.log_text()


def test_bad_metrics_address_stops_the_start():
    import subprocess
    from conftest import server_bin
    proc = subprocess.run([str(server_bin()), "--in-memory", "--metrics-address", "nope"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0 and "'nope' is not host:port" in proc.stderr, proc.stderr
