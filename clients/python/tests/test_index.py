"""Index service through the helpers. Skipped while the server answers UNIMPLEMENTED for Index
(test_server.py checks that this is the only acceptable failure)."""
import uuid

import grpc
import pytest

import rosetta
from rosetta import filters as F


@pytest.fixture(scope="module")
def index_client(client):
    try:
        client.list_collections(timeout=10)
    except rosetta.RosettaError as e:
        if e.code == grpc.StatusCode.UNIMPLEMENTED:
            pytest.skip("the server does not implement rosetta.v1.Index yet (UNIMPLEMENTED)")
        raise
    return client


def _name():
    return f"pytest-{uuid.uuid4().hex[:10]}"


def test_vector_collection_roundtrip(index_client):
    c = index_client
    name = _name()
    col = c.create_collection(name, dimensions=4)
    try:
        assert col.name == name and col.dimensions == 4
        assert name in [x.name for x in c.list_collections()]
        with pytest.raises(rosetta.RosettaError) as ei:
            c.create_collection(name, dimensions=4)
        assert ei.value.code == grpc.StatusCode.ALREADY_EXISTS
        c.upsert(name, [
            rosetta.Item(id="a", vector=[1, 0, 0, 0], metadata={"lang": "en", "year": 2001}),
            {"id": "b", "vector": [0, 1, 0, 0], "metadata": {"lang": "fr", "year": 1999}},
            rosetta.Item(id="c", vector=[0.9, 0.1, 0, 0], metadata={"lang": "fr", "year": 2020}),
        ])
        hits = c.search(name, vector=[1, 0, 0, 0], top_k=2)
        assert [h.id for h in hits] == ["a", "c"]
        assert hits[0].score == pytest.approx(1.0, abs=1e-5) and hits[0].metadata["lang"] == "en"
        assert [h.id for h in c.search(name, vector=[1, 0, 0, 0], filter={"lang": "fr"})][0] == "c"
        assert [h.id for h in c.search(name, vector=[1, 0, 0, 0], filter=F.range_("year", lt=2000))] == ["b"]
        assert [h.id for h in c.search(name, vector=[1, 0, 0, 0], min_score=0.5)] == ["a", "c"]
        items, missing = c.get(name, ["a", "zzz"], include_vectors=True)
        assert [i.id for i in items] == ["a"] and missing == ["zzz"]
        assert items[0].vector == pytest.approx([1, 0, 0, 0])
        with pytest.raises(rosetta.RosettaError) as ei:
            c.upsert(name, [rosetta.Item(id="bad", vector=[1, 2, 3])])
        assert ei.value.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
        assert c.delete(name, ["a"]) == 1
        assert c.delete(name, filter={"lang": "fr"}) == 2
        assert c.search(name, vector=[1, 0, 0, 0]) == []
    finally:
        c.delete_collection(name)
    with pytest.raises(rosetta.RosettaError) as ei:
        c.search(name, vector=[1, 0, 0, 0])
    assert ei.value.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.model
def test_text_collection_search(index_client, text_model):
    c = index_client
    name = _name()
    c.create_collection(name, model=text_model.id)
    try:
        c.upsert(name, [{"id": "food", "text": "A man is eating food."},
                        {"id": "fox", "text": "The quick brown fox jumps over the lazy dog."},
                        {"id": "market", "text": "The stock market fell sharply today."}])
        hits = c.search(name, text="someone having a meal", top_k=3)
        assert hits[0].id == "food"
        assert hits[0].modality == "text"
        # A vector from the model itself searches the same space.
        [q] = c.embed_text(["an animal jumping"], model=text_model.id)
        assert c.search(name, vector=q, top_k=1)[0].id == "fox"
    finally:
        c.delete_collection(name)
