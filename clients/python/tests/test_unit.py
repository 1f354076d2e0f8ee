"""Offline tests of the client package: no server needed."""
import asyncio
import os
import subprocess
import sys

import grpc
import pytest

import rosetta
from rosetta import filters as F
from rosetta.types import decode_health_response, encode_health_request, embed_result
from rosetta.v1 import common_pb2, embeddings_pb2, embeddings_pb2_grpc, index_pb2, index_pb2_grpc

from conftest import REPO_ROOT


def test_stubs_import_with_package_paths():
    assert embeddings_pb2.DESCRIPTOR.name == "rosetta/v1/embeddings.proto"
    assert "rosetta/v1/common.proto" in [d.name for d in embeddings_pb2.DESCRIPTOR.dependencies]
    assert hasattr(embeddings_pb2_grpc, "EmbeddingsStub") and hasattr(index_pb2_grpc, "IndexStub")
    svc = embeddings_pb2.DESCRIPTOR.services_by_name["Embeddings"]
    assert [m.name for m in svc.methods] == ["Embed", "EmbedStream", "Info"]


def test_generated_stubs_match_protos():
    script = REPO_ROOT / "scripts" / "generate-protos-python"
    r = subprocess.run(["bash", str(script), "--check"], env={**os.environ, "PYTHON": sys.executable},
                       capture_output=True, text=True)
    assert r.returncode == 0, f"stubs are stale; run scripts/generate-protos-python\n{r.stdout}{r.stderr}"


def test_embed_request_builder():
    req = rosetta.embed_request(["hi", rosetta.Image(b"\x89PNG", "image/png"), rosetta.Audio(b"RIFF")],
                                model="m", dimensions=128, encoding="int8", truncate="none", pooling="mean",
                                request_id="r1")
    assert [i.WhichOneof("kind") for i in req.inputs] == ["text", "image", "audio"]
    assert req.encoding == common_pb2.ENCODING_INT8 and req.truncate == common_pb2.TRUNCATE_NONE
    assert req.pooling == common_pb2.POOLING_MEAN and req.dimensions == 128 and req.request_id == "r1"
    assert req.HasField("normalize") and req.normalize
    assert not rosetta.embed_request(["x"], normalize=None).HasField("normalize")
    with pytest.raises(ValueError):
        rosetta.embed_request(["x"], encoding="int4")
    with pytest.raises(TypeError):
        rosetta.embed_request("not a list")


def test_int8_and_binary_codecs():
    v = [0.5, -0.25, 0.0, 1.0, -1.0, 0.125, 0.3, -0.7, 0.01]
    assert rosetta.unpack_bits(rosetta.pack_bits(v), len(v)) == [1, 0, 0, 1, 0, 1, 1, 0, 1]
    assert rosetta.pack_bits(v) == bytes([0b10010110, 0b10000000])
    assert rosetta.dequantize_int8(bytes([127, 0x81, 0]), 0.5) == [63.5, -63.5, 0.0]
    assert rosetta.int8_values(bytes([255, 128])) == [-1, -128]
    assert rosetta.hamming(b"\xff", b"\x0f") == 4
    with pytest.raises(ValueError):
        rosetta.unpack_bits(b"\x00", 9)


def test_embed_result_conversion_and_item_errors():
    resp = embeddings_pb2.EmbedResponse(model="m", space="s", request_id="r", results=[
        embeddings_pb2.EmbedResult(index=1, status=common_pb2.ItemStatus(code=3, message="empty")),
        embeddings_pb2.EmbedResult(index=0, embedding=embeddings_pb2.Embedding(float32=[0.6, 0.8], dimensions=2),
                                   modality=common_pb2.MODALITY_TEXT, tokens=3),
    ])
    r = embed_result(resp)
    assert [e.index for e in r.embeddings] == [0, 1]
    assert r.embeddings[0].ok and r.embeddings[0].modality == "text"
    assert r.embeddings[0].vector == pytest.approx([0.6, 0.8])
    assert r.embeddings[1].code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(rosetta.RosettaError) as ei:
        r.vectors
    assert ei.value.code == grpc.StatusCode.INVALID_ARGUMENT and ei.value.index == 1 and ei.value.code_number == 3


def test_health_wire_format():
    assert encode_health_request("") == b""
    assert encode_health_request("rosetta.v1.Embeddings") == b"\x0a\x15rosetta.v1.Embeddings"
    assert decode_health_response(b"\x08\x01") == "SERVING"
    assert decode_health_response(b"\x08\x02") == "NOT_SERVING"
    assert decode_health_response(b"") == "UNKNOWN"


def test_filters_and_items(tmp_path):
    f = F.all_({"lang": "en"}, F.range_("year", gte=2000), F.not_(F.in_("tag", ["a", 1])))
    assert f.WhichOneof("kind") == "all" and len(f.all.filters) == 3
    assert f.all.filters[1].condition.range.HasField("gte") and not f.all.filters[1].condition.range.HasField("lt")
    assert getattr(f.all.filters[2], "not").condition.key == "tag"
    item = rosetta.Item(id="a", text="hello", metadata={"n": 2, "s": "x"}).to_proto()
    assert item.input.text == "hello" and item.metadata["n"].number_value == 2.0
    assert rosetta.Item(id="v", vector=[1, 2]).to_proto().vector.values == [1.0, 2.0]
    with pytest.raises(ValueError):
        rosetta.Item(id="x").to_proto()
    from rosetta.types import get_request, search_request, delete_request
    req = search_request("c", text="q", top_k=3, min_score=0.5, modalities=["image"], filter={"k": "v"})
    assert req.input.text == "q" and req.HasField("min_score") and req.modalities == [common_pb2.MODALITY_IMAGE]
    # Images and audio clips as objects, raw bytes or paths; a vector with the space it comes from.
    assert search_request("c", image=rosetta.Image(b"\x89PNG", "image/png")).input.image.mime_type == "image/png"
    assert search_request("c", audio=b"RIFF").input.audio.data == b"RIFF"
    (tmp_path / "q.png").write_bytes(b"\x89PNG")
    assert search_request("c", image=tmp_path / "q.png").input.image.mime_type == "image/png"
    req = search_request("c", vector=[1, 0], vector_space="s1")
    assert list(req.vector.values) == [1.0, 0.0] and req.vector_space == "s1"
    with pytest.raises(ValueError):
        search_request("c", text="q", vector=[1.0])
    req = get_request("c", iter(["a", "b"]), include_vectors=True)
    assert req.collection == "c" and req.ids == ["a", "b"] and req.include_vectors
    with pytest.raises(ValueError):
        delete_request("c")
    assert isinstance(index_pb2.DeleteRequest(), type(delete_request("c", ["a"])))


def test_delete_refuses_a_filter_that_constrains_nothing():
    """delete(coll, filter={}) once deleted every item: a filter that matches everything by its structure is
    refused before sending (by the helper Client and AsyncClient share), in the server's words."""
    from rosetta.types import delete_request

    class Unreachable:
        def Delete(self, *args, **kwargs):
            raise AssertionError("nothing may be sent")

    cond = F.eq("lang", "en")
    for f in [{}, F.all_(), F.all_({}, F.all_(F.all_())), F.any_(cond, {}), F.not_(F.any_()),
              F.not_(F.all_(cond, F.any_())), F.not_(F.not_({}))]:
        with pytest.raises(ValueError, match="to delete everything, delete the collection"):
            delete_request("c", filter=f)
        assert F.matches_everything(f), f
    client = rosetta.Client("127.0.0.1:1")
    client.index = Unreachable()
    try:
        with pytest.raises(ValueError, match="constrains nothing"):
            client.delete("c", filter={})
    finally:
        client.close()

    async def async_delete():
        async_client = rosetta.AsyncClient("127.0.0.1:1")
        async_client.index = Unreachable()
        try:
            await async_client.delete("c", filter=F.all_())
        finally:
            await async_client.close()

    with pytest.raises(ValueError, match="constrains nothing"):
        asyncio.run(async_delete())
    # Structure that matches nothing, or conditions (even ones that cover every case), go to the server.
    for f in [F.any_(), F.all_({}, cond), {"lang": "en"}, F.any_(cond, F.not_(cond)), index_pb2.Filter()]:
        assert not F.matches_everything(f), f
        delete_request("c", filter=f)

