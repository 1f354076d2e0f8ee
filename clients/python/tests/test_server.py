"""The RPC surface of the real server: info, health, reflection, unknown methods, deadlines, streams."""
import asyncio
import json
import time
import uuid

import grpc
import pytest

import rosetta
from rosetta.v1 import common_pb2, embeddings_pb2, index_pb2


def _raw_unary(channel, method):
    return channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)


def test_server_prints_bound_address(server):
    assert server.printed_address is not None, f"no bound address in the server's output:\n{server.log_tail()}"
    assert server.printed_address.endswith(f":{server.port}")


def test_info(info):
    assert info.version, "Info.version is empty"
    assert info.HasField("limits"), "Info.limits missing"
    lim = info.limits
    assert lim.max_message_bytes > 0
    assert lim.max_batch_items > 0
    assert lim.max_text_chars > 0
    for m in info.models:
        assert m.id and m.dimensions > 0, m
        assert m.modalities, m
        # Loaded from the models folder: the load was timed (resident growth may be 0 for memory-mapped weights).
        assert 0 < m.load_seconds < 600, m
        assert not m.HasField("logit_scale") and not m.HasField("logit_bias"), m  # no joint text-image model here
    defaults = [m for m in info.models if m.is_default]
    for modality in info.modalities:
        assert any(modality in m.modalities for m in info.models), f"modality {modality} without a model"
    assert len({m.id for m in info.models}) == len(info.models), "duplicate model ids"
    assert len(defaults) <= max(1, len(info.modalities)), defaults


@pytest.mark.parametrize("service", ["", "rosetta.v1.Embeddings"])
def test_health_serving(client, service):
    deadline = time.monotonic() + 60
    status = client.health(service)
    while status != "SERVING" and time.monotonic() < deadline:  # NOT_SERVING while models load
        time.sleep(0.5)
        status = client.health(service)
    assert status == "SERVING"


def test_health_with_grpc_health_package(server, client):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    stub = health_pb2_grpc.HealthStub(client.channel)
    resp = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as ei:
        stub.Check(health_pb2.HealthCheckRequest(service="rosetta.v1.Nope"), timeout=10)
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_services_and_methods(client):
    from google.protobuf.descriptor_pool import DescriptorPool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    db = ProtoReflectionDescriptorDatabase(client.channel)
    services = set(db.get_services())
    assert {"rosetta.v1.Embeddings", "rosetta.v1.Index"} <= services, services
    pool = DescriptorPool(db)
    emb = pool.FindServiceByName("rosetta.v1.Embeddings")
    assert {m.name for m in emb.methods} == {"Embed", "EmbedStream", "Info"}
    idx = pool.FindServiceByName("rosetta.v1.Index")
    assert {m.name for m in idx.methods} == {"CreateCollection", "DeleteCollection", "ListCollections", "Upsert",
                                             "UpsertStream", "Delete", "Get", "Search"}
    stream = emb.methods_by_name["EmbedStream"]
    assert stream.client_streaming and stream.server_streaming
    assert stream.input_type.full_name == "rosetta.v1.EmbedRequest"
    # The served descriptors carry the same messages as the committed protos.
    served = pool.FindMessageTypeByName("rosetta.v1.EmbedRequest")
    assert [f.name for f in served.fields] == [f.name for f in embeddings_pb2.EmbedRequest.DESCRIPTOR.fields]


@pytest.mark.parametrize("method", ["/rosetta.v1.Nope/X", "/rosetta.v1.Embeddings/Nope"])
def test_unknown_method_is_unimplemented(client, method):
    with pytest.raises(grpc.RpcError) as ei:
        _raw_unary(client.channel, method)(b"", timeout=10)
    assert ei.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_index_method_answers_or_is_unimplemented(client):
    """Index may not be built yet: a call then is UNIMPLEMENTED, never a hang or another error."""
    try:
        client.list_collections(timeout=10)
    except rosetta.RosettaError as e:
        assert e.code == grpc.StatusCode.UNIMPLEMENTED, e


def test_malformed_request_is_invalid_argument(client):
    """Bytes that are not an EmbedRequest: refused before any model work (no model needed)."""
    with pytest.raises(grpc.RpcError) as ei:
        _raw_unary(client.channel, "/rosetta.v1.Embeddings/Embed")(b"\x0a\xff\xff\xff", timeout=10)
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT, ei.value
    assert ei.value.details()


@pytest.mark.parametrize("body,reason", [
    (b"\x0a\x05ab", "the bytes end inside a field (a truncated message); send the whole serialized message"),
    (b"\x07", "the bytes are not protobuf wire format (an invalid field tag, wire type or length); "
              "send a message serialized by a protobuf library"),
    (b"\x12\x02\xff\xfe", "a string field holds bytes that are not valid UTF-8; send text as UTF-8 "
                          "(images and audio go in their bytes fields)"),
])
def test_malformed_request_says_why_in_words(client, body, reason):
    """Not SwiftProtobuf's enum case names ("malformedProtobuf"): what was wrong and what to send instead."""
    with pytest.raises(grpc.RpcError) as ei:
        _raw_unary(client.channel, "/rosetta.v1.Embeddings/Embed")(body, timeout=10)
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT, ei.value
    assert ei.value.details() == f"request is not a valid rosetta.v1.EmbedRequest: {reason}"


@pytest.mark.model
def test_errors_carry_grpc_code(client, text_model):
    with pytest.raises(rosetta.RosettaError) as ei:
        client.embed([], timeout=10)
    assert ei.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert ei.value.message and ei.value.message != "internal error"


@pytest.mark.model
def test_deadline_exceeded_on_big_embed(client, info, text_model):
    """Needs the model so that the batch takes real time (test_deadline_exceeded_on_stream does not)."""
    n = min(info.limits.max_batch_items or 64, 256)
    texts = [f"sentence number {i} about deadlines and cancellation, " * 8 for i in range(n)]
    codes = []
    for timeout in (0.005, 0.001, 0.0002):  # a server with no model answers fast: shrink until it expires
        try:
            client.embed(texts, timeout=timeout)
            codes.append(grpc.StatusCode.OK)
        except rosetta.RosettaError as e:
            codes.append(e.code)
            if e.code == grpc.StatusCode.DEADLINE_EXCEEDED:
                break
    assert codes[-1] == grpc.StatusCode.DEADLINE_EXCEEDED, codes
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED}, codes
    assert client.health("", timeout=10) == "SERVING"


@pytest.mark.model
def test_deadline_exceeded_on_stream(client, info, text_model):
    n = min(info.limits.max_batch_items or 32, 32)

    def requests():
        for r in range(200):
            yield rosetta.embed_request([f"stream {r} item {i} " * 10 for i in range(n)], request_id=str(r))

    with pytest.raises(rosetta.RosettaError) as ei:
        for _ in client.embed_stream(requests(), timeout=0.05):
            pass
    assert ei.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    # The server is still fine after the cancelled work.
    assert client.health("", timeout=10) == "SERVING"
    assert client.info(timeout=10).version


@pytest.mark.model
def test_bidi_stream_in_order_with_request_ids(client, text_model):
    """Each request on EmbedStream is answered by one response, in order, request_id echoed."""
    ids = [f"req-{i}" for i in range(6)]
    reqs = [rosetta.embed_request([f"text {i}", f"another text {i}"][: 1 + i % 2], request_id=rid)
            for i, rid in enumerate(ids)]
    results = list(client.embed_stream(iter(reqs), timeout=120))
    assert [r.request_id for r in results] == ids
    for req, res in zip(reqs, results):
        assert len(res.embeddings) == len(req.inputs)
        assert [e.index for e in res.embeddings] == list(range(len(req.inputs)))
        assert all(e.ok for e in res.embeddings)


@pytest.mark.model
def test_bidi_stream_interleaved(client, text_model):
    """Send one request, read its answer, then send the next: the server answers without waiting for the
    end of the client's stream."""
    import queue
    q = queue.Queue()

    def gen():
        while True:
            item = q.get()
            if item is None:
                return
            yield item

    stream = client.embeddings.EmbedStream(gen(), timeout=120)
    try:
        for i in range(3):
            q.put(rosetta.embed_request([f"ping {i}"], request_id=f"p{i}"))
            resp = next(stream)
            assert resp.request_id == f"p{i}"
    finally:
        q.put(None)
    assert list(stream) == []


def test_async_client(server):
    async def go():
        async with server.client_async() as c:
            await c.wait_ready(10)
            assert await c.health() == "SERVING"
            assert (await c.info()).version
            nope = c.channel.unary_unary("/rosetta.v1.Nope/X", request_serializer=lambda b: b,
                                         response_deserializer=lambda b: b)
            with pytest.raises(rosetta.RosettaError) as ei:
                await c._call(nope, b"", 10)
            assert ei.value.code == grpc.StatusCode.UNIMPLEMENTED

    asyncio.run(go())


@pytest.mark.model
def test_async_embed_and_stream(server, text_model):
    async def go():
        async with server.client_async() as c:
            with pytest.raises(rosetta.RosettaError) as ei:
                await c.embed([])
            assert ei.value.code == grpc.StatusCode.INVALID_ARGUMENT
            [v] = await c.embed_text(["a cat"])
            assert len(v) == text_model.dimensions
            out = [r async for r in c.embed_stream(
                [rosetta.embed_request(["a cat"], request_id="x"), rosetta.embed_request(["b"], request_id="y")])]
            assert [r.request_id for r in out] == ["x", "y"]
            assert rosetta.cosine(out[0].vectors[0], v) >= 0.99999

    asyncio.run(go())


def test_async_upsert_stream_and_vector_space_search(server):
    name = f"async-stream-{uuid.uuid4().hex[:8]}"
    vectors = {f"v{i}": [1.0 if j == i else 0.0 for j in range(4)] for i in range(4)}

    async def requests():
        for i, (item_id, vector) in enumerate(vectors.items()):
            yield rosetta.types.upsert_request(name, [rosetta.Item(id=item_id, vector=vector)], request_id=f"r{i}")

    async def go():
        async with server.client_async() as c:
            collection = await c.create_collection(name, dimensions=4)
            try:
                acknowledged = [r.request_id async for r in c.upsert_stream(requests())]
                assert acknowledged == ["r0", "r1", "r2", "r3"]
                [hit] = await c.search(name, vector=vectors["v2"], vector_space=collection.space, top_k=1)
                assert hit.id == "v2"
                with pytest.raises(rosetta.RosettaError) as ei:
                    await c.search(name, vector=vectors["v2"], vector_space="another-space")
                assert ei.value.code == grpc.StatusCode.FAILED_PRECONDITION
                assert collection.space in ei.value.message and "another-space" in ei.value.message
            finally:
                await c.delete_collection(name)

    asyncio.run(go())


@pytest.mark.model
def test_too_many_inputs_is_resource_exhausted(client, info, text_model):
    n = info.limits.max_batch_items
    assert n > 0
    if n > 100_000:
        pytest.skip(f"max_batch_items {n} is too large to exceed cheaply")
    with pytest.raises(rosetta.RosettaError) as ei:
        client.embed(["x"] * (n + 1), timeout=60)
    assert ei.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED, ei.value
    assert str(n) in ei.value.message


@pytest.mark.model
def test_text_over_max_chars_fails_alone(client, info, text_model):
    limit = info.limits.max_text_chars
    assert limit > 0
    if limit + 4096 > info.limits.max_message_bytes:
        pytest.skip("max_text_chars is not below the message limit")
    res = client.embed(["y" * (limit + 1), "z"], truncate="end", timeout=60)
    assert res.embeddings[0].code == grpc.StatusCode.RESOURCE_EXHAUSTED, res.embeddings[0]
    assert res.embeddings[1].ok, res.embeddings[1]


def test_generic_reflection_example(server):
    """clients/python/examples/reflect.py: discovery and a call with nothing but reflection (no Rosetta stubs)."""
    import subprocess
    import sys
    from conftest import REPO_ROOT

    script = str(REPO_ROOT / "clients" / "python" / "examples" / "reflect.py")
    listed = subprocess.run([sys.executable, script, server.address, "list"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "  Search(rosetta.v1.SearchRequest) returns (rosetta.v1.SearchResponse)" in listed.stdout
    assert "  EmbedStream(stream rosetta.v1.EmbedRequest) returns (stream rosetta.v1.EmbedResponse)" in listed.stdout
    called = subprocess.run([sys.executable, script, server.address, "call", "rosetta.v1.Embeddings/Info", "{}"],
                            capture_output=True, text=True, timeout=60)
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["version"]
    missing = subprocess.run([sys.executable, script, server.address, "call", "rosetta.v1.Index/Search",
                              '{"collection": "nope", "input": {"text": "x"}}'], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and missing.stderr.startswith("NOT_FOUND")
