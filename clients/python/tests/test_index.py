"""Index service through the helpers, once per index backend (conftest INDEX_BACKENDS: the local index and
PostgreSQL + pgvector). Skipped while the server answers UNIMPLEMENTED for Index (test_server.py checks that
this is the only acceptable failure)."""
import threading
import time
import uuid

import grpc
import pytest

import rosetta
from rosetta import filters as F


@pytest.fixture(scope="module")
def index_client(index_backend_server):
    client = index_backend_server.client()
    try:
        client.list_collections(timeout=10)
    except rosetta.RosettaError as e:
        if e.code == grpc.StatusCode.UNIMPLEMENTED:
            pytest.skip("the server does not implement rosetta.v1.Index yet (UNIMPLEMENTED)")
        raise
    yield client
    client.close()


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


# ----------------------------------------------------------------------------------------------------------------
# Index through the real server: semantics, filters, deletes, spaces, concurrency, persistence and durability.

CAPTIONS = {
    "dog": "A dog runs across the park chasing a ball.",
    "pasta": "A bowl of spaghetti with tomato sauce and basil.",
    "bike": "A cyclist rides a bicycle down a mountain trail.",
    "beach": "Waves crash on a sandy beach at sunset.",
    "piano": "A woman plays the piano in a concert hall.",
    "snow": "Snow covers the pine trees in the mountains.",
    "market": "Traders watch the stock market charts on their screens.",
    "cat": "A cat sleeps curled up on a sofa.",
}

QUERIES = {
    "a puppy playing fetch outside": "dog",
    "italian food for dinner": "pasta",
    "mountain biking": "bike",
    "the ocean in the evening": "beach",
    "classical music performance": "piano",
    "a winter forest": "snow",
    "finance and shares": "market",
    "a kitten napping on the couch": "cat",
}


@pytest.mark.model
def test_semantic_search_puts_the_right_caption_first(index_client, text_model):
    c = index_client
    name = _name()
    c.create_collection(name, model=text_model.id)
    try:
        resp = c.upsert(name, [{"id": k, "text": v, "metadata": {"len": len(v), "topic": "animal" if k in ("dog", "cat") else "other"}}
                               for k, v in CAPTIONS.items()])
        assert [r.status.code for r in resp.results] == [0] * len(CAPTIONS)
        assert resp.usage.tokens > 0
        for query, expected in QUERIES.items():
            hits = c.search(name, text=query, top_k=3)
            assert hits[0].id == expected, f"{query!r}: {[(h.id, round(h.score, 3)) for h in hits]}"
            assert hits[0].score > hits[1].score
        # Filters act before top-k: among animals only, a bowl of food query still returns animals.
        hits = c.search(name, text="italian food for dinner", top_k=5, filter={"topic": "animal"})
        assert sorted(h.id for h in hits) == ["cat", "dog"]
        hits = c.search(name, text="a puppy", top_k=8, filter=F.not_(F.in_("topic", ["animal"])))
        assert "dog" not in [h.id for h in hits] and len(hits) == 6
        hits = c.search(name, text="a puppy", top_k=8, filter=F.all_(F.range_("len", gte=40), F.eq("topic", "other")))
        assert all(len(CAPTIONS[h.id]) >= 40 for h in hits) and hits
        # Modality filter: everything here is text.
        assert c.search(name, text="a puppy", modalities=["image"]) == []
        assert len(c.search(name, text="a puppy", modalities=["text"], top_k=8)) == 8
    finally:
        c.delete_collection(name)


@pytest.mark.model
def test_matryoshka_and_quantised_collections(index_client, text_model):
    c = index_client
    names = []
    try:
        for dims, storage in [(128, "float32"), (0, "int8"), (0, "binary")]:
            name = _name()
            names.append(name)
            col = c.create_collection(name, model=text_model.id, dimensions=dims or None, storage=storage)
            assert col.dimensions == (dims or text_model.dimensions)
            c.upsert(name, [{"id": k, "text": v} for k, v in CAPTIONS.items()])
            for query, expected in QUERIES.items():
                assert c.search(name, text=query, top_k=1)[0].id == expected, (dims, storage, query)
            items, _ = c.get(name, ["dog"], include_vectors=True)
            assert len(items[0].vector) == col.dimensions
            assert sum(x * x for x in items[0].vector) == pytest.approx(1.0, abs=0.02)
        with pytest.raises(rosetta.RosettaError) as ei:
            c.create_collection(_name(), model=text_model.id, dimensions=text_model.dimensions + 1)
        assert ei.value.code == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        for name in names:
            c.delete_collection(name)


@pytest.mark.model
def test_space_mismatch_is_refused(index_client, text_model):
    c = index_client
    model_col, raw_col = _name(), _name()
    col = c.create_collection(model_col, model=text_model.id)
    raw = c.create_collection(raw_col, dimensions=text_model.dimensions)
    try:
        assert col.space and raw.space and col.space != raw.space
        [v] = c.embed_text(["A dog runs across the park."], model=text_model.id)
        # A model vector tagged with its space goes into the model's collection...
        c.upsert(model_col, [rosetta.Item(id="dog", vector=v, vector_space=col.space)])
        # ...but not into a raw-vector collection: per-item FAILED_PRECONDITION naming both spaces.
        with pytest.raises(rosetta.RosettaError) as ei:
            c.upsert(raw_col, [rosetta.Item(id="dog", vector=v, vector_space=col.space)])
        assert ei.value.code == grpc.StatusCode.FAILED_PRECONDITION
        assert col.space in ei.value.message and raw.space in ei.value.message
        # Raw text into a raw-vector collection: it has no model to embed with.
        with pytest.raises(rosetta.RosettaError) as ei:
            c.upsert(raw_col, [{"id": "t", "text": "hello"}])
        assert ei.value.code == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(rosetta.RosettaError) as ei:
            c.search(raw_col, text="hello")
        assert ei.value.code == grpc.StatusCode.FAILED_PRECONDITION
        # A query vector from the raw space against the model's collection.
        with pytest.raises(rosetta.RosettaError) as ei:
            c.search(model_col, vector=v, vector_space=raw.space)
        assert ei.value.code == grpc.StatusCode.FAILED_PRECONDITION
        assert col.space in ei.value.message and raw.space in ei.value.message
        # Wrong dimension: INVALID_ARGUMENT.
        with pytest.raises(rosetta.RosettaError) as ei:
            c.search(model_col, vector=v[:10])
        assert ei.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert c.search(model_col, vector=v, vector_space=col.space)[0].id == "dog"
    finally:
        c.delete_collection(model_col)
        c.delete_collection(raw_col)


def test_limits_and_validation(index_client, info):
    c = index_client
    name = _name()
    c.create_collection(name, dimensions=2)
    try:
        with pytest.raises(rosetta.RosettaError) as ei:
            c.search(name, vector=[1, 0], top_k=info.limits.max_top_k + 1)
        assert ei.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED and "top_k" in ei.value.message
        with pytest.raises(rosetta.RosettaError) as ei:
            c.upsert(name, [rosetta.Item(id=str(i), vector=[1, 0]) for i in range(info.limits.max_batch_items + 1)])
        assert ei.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        big = "x" * (info.limits.max_metadata_bytes + 1)
        resp = c.upsert(name, [rosetta.Item(id="big", vector=[1, 0], metadata={"k": big}),
                               rosetta.Item(id="ok", vector=[0, 1])], check=False)
        assert [r.status.code for r in resp.results] == [grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], 0]
        for bad in ["", "has space", "-dash-first", "x" * 200]:
            with pytest.raises(rosetta.RosettaError) as ei:
                c.create_collection(bad, dimensions=2)
            assert ei.value.code == grpc.StatusCode.INVALID_ARGUMENT, bad
        with pytest.raises(rosetta.RosettaError) as ei:
            c.create_collection(_name())
        assert ei.value.code == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(rosetta.RosettaError) as ei:
            c.create_collection(_name(), model="no-such-model")
        assert ei.value.code == grpc.StatusCode.NOT_FOUND
    finally:
        c.delete_collection(name)


def test_delete_refuses_a_filter_that_constrains_nothing(index_client):
    """Delete with all{} once deleted every item (and the client's delete(coll, filter={}) too): the server refuses
    a filter that matches every item by its structure as it refuses a Delete with neither ids nor filter, and the
    client refuses it before sending."""
    from rosetta.v1 import index_pb2

    c = index_client
    name = _name()
    c.create_collection(name, dimensions=2)
    try:
        c.upsert(name, [rosetta.Item(id=str(i), vector=[1, i], metadata={"n": i}) for i in range(5)])
        with pytest.raises(rosetta.RosettaError) as neither:
            c._call(c.index.Delete, index_pb2.DeleteRequest(collection=name), None)
        assert neither.value.code == grpc.StatusCode.INVALID_ARGUMENT
        for f in [F.all_(), F.all_(F.all_(), F.all_(F.all_())), F.any_(F.range_("n", gte=3), F.all_()),
                  F.not_(F.any_())]:
            # Past the client's own check, straight to the server.
            with pytest.raises(rosetta.RosettaError) as refused:
                c._call(c.index.Delete, index_pb2.DeleteRequest(collection=name, filter=f), None)
            assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT, f
            assert "constrains nothing" in refused.value.message
            assert "to delete everything, delete the collection" in refused.value.message
        with pytest.raises(ValueError, match="to delete everything, delete the collection"):
            c.delete(name, filter={})
        assert c.list_collections() and [x.count for x in c.list_collections() if x.name == name] == [5]
        assert c.delete(name, filter=F.any_()) == 0
        assert c.delete(name, filter=F.all_({}, F.range_("n", gte=3))) == 2
    finally:
        c.delete_collection(name)


def test_extreme_vectors_are_stored_at_unit_length(index_client):
    """A cosine collection once stored [1e20]*4 as [0, 0, 0, 0] with OK, and a query [1e30, 0, 0, 0] scored every
    hit 0; [1e-45, 0, 0, 0] was refused as all zeros. Scaled first, each is stored as its direction."""
    c = index_client
    for storage in ("float32", "int8"):
        name = _name()
        c.create_collection(name, dimensions=4, storage=storage)
        try:
            c.upsert(name, [rosetta.Item(id="huge", vector=[1e20] * 4), rosetta.Item(id="axis", vector=[1e30, 0, 0, 0]),
                            rosetta.Item(id="tiny", vector=[0, 0, 1e-45, 0])])
            items, _ = c.get(name, ["huge", "axis", "tiny"], include_vectors=True)
            tolerance = 1e-6 if storage == "float32" else 1e-2
            assert [i.vector for i in items] == [pytest.approx(v, abs=tolerance) for v in
                                                 ([0.5] * 4, [1, 0, 0, 0], [0, 0, 1, 0])]
            hits = {h.id: h.score for h in c.search(name, vector=[1e30, 0, 0, 0], top_k=3)}
            assert hits == {"axis": pytest.approx(1, abs=tolerance), "huge": pytest.approx(0.5, abs=tolerance),
                            "tiny": pytest.approx(0, abs=tolerance)}
            with pytest.raises(rosetta.RosettaError) as zeros:
                c.upsert(name, [rosetta.Item(id="zero", vector=[0, 0, 0, 0])])
            assert zeros.value.code == grpc.StatusCode.INVALID_ARGUMENT and "all zeros" in zeros.value.message
        finally:
            c.delete_collection(name)


def test_concurrent_upserts_and_searches(index_client):
    """8 writers upsert disjoint ids (and re-upsert some) while 4 readers search; afterwards every id is there
    exactly once and no search ever saw a duplicate id."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    c = index_client
    name = _name()
    c.create_collection(name, dimensions=16)
    writers, batches, per_batch = 8, 15, 20
    stop = threading.Event()
    problems = []

    def write(w):
        rng = random.Random(w)
        for b in range(batches):
            items = [rosetta.Item(id=f"w{w}-{b}-{i}", vector=[rng.gauss(0, 1) for _ in range(16)], metadata={"w": w})
                     for i in range(per_batch)]
            c.upsert(name, items)
            if b % 3 == 0:  # replace a few already written: same id, new vector
                c.upsert(name, [rosetta.Item(id=f"w{w}-0-{i}", vector=[rng.gauss(0, 1) for _ in range(16)], metadata={"w": w})
                                for i in range(5)])

    def read(r):
        rng = random.Random(100 + r)
        n = 0
        while not stop.is_set() or n < 5:
            hits = c.search(name, vector=[rng.gauss(0, 1) for _ in range(16)], top_k=50)
            ids = [h.id for h in hits]
            if len(ids) != len(set(ids)):
                problems.append(ids)
            n += 1
        return n

    with ThreadPoolExecutor(max_workers=writers + 4) as pool:
        readers = [pool.submit(read, r) for r in range(4)]
        for f in [pool.submit(write, w) for w in range(writers)]:
            f.result()
        stop.set()
        searches = sum(f.result() for f in readers)
    try:
        assert not problems
        assert searches >= 20
        expected = {f"w{w}-{b}-{i}" for w in range(writers) for b in range(batches) for i in range(per_batch)}
        [col] = [x for x in c.list_collections() if x.name == name]
        assert col.count == len(expected)
        ids = sorted(expected)
        found = []
        for k in range(0, len(ids), 500):
            items, missing = c.get(name, ids[k:k + 500])
            assert missing == []
            found += [i.id for i in items]
        assert sorted(found) == ids
    finally:
        c.delete_collection(name)


def _vectors(n, d=8, seed=0):
    import random
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(d)] for _ in range(n)]


def test_restart_persistence(index_server):
    """Writes survive a graceful restart (final snapshot) and a SIGKILL (log replay), deletes included."""
    s = index_server[0]
    c = s.client()
    c.create_collection("keep", dimensions=8, metric="dot")
    c.create_collection("quant", dimensions=8, storage="int8")
    c.create_collection("gone", dimensions=8)
    vs = _vectors(50)
    c.upsert("keep", [rosetta.Item(id=f"k{i}", vector=v, metadata={"i": i, "s": f"v{i}"}) for i, v in enumerate(vs)])
    c.upsert("quant", [rosetta.Item(id=f"q{i}", vector=v) for i, v in enumerate(vs)])
    assert c.delete("keep", ["k0", "k1"]) == 2
    assert c.delete("keep", filter=F.range_("i", gte=45)) == 5
    c.delete_collection("gone")
    before = c.search("keep", vector=vs[10], top_k=5)
    c.close()

    s.stop()  # graceful: drains and writes a snapshot
    s = index_server[0] = s.restart()
    c = s.client()
    assert sorted(x.name for x in c.list_collections()) == ["keep", "quant"]
    assert [h.id for h in c.search("keep", vector=vs[10], top_k=5)] == [h.id for h in before]
    items, missing = c.get("keep", ["k0", "k2", "k46"], include_vectors=True)
    assert [i.id for i in items] == ["k2"] and missing == ["k0", "k46"]
    assert items[0].metadata == {"i": 2.0, "s": "v2"} and items[0].vector == pytest.approx(vs[2], rel=1e-6)
    # More writes, then SIGKILL: they come back from the log.
    c.upsert("keep", [rosetta.Item(id="after", vector=vs[3], metadata={"i": 999})])
    assert c.delete("quant", ["q5"]) == 1
    c.close()
    s.kill()
    s = index_server[0] = s.restart()
    c = s.client()
    [keep] = [x for x in c.list_collections() if x.name == "keep"]
    assert keep.count == 50 - 2 - 5 + 1
    assert c.get("keep", ["after"])[0][0].metadata == {"i": 999.0}
    assert c.get("quant", ["q5", "q6"])[1] == ["q5"]
    assert "index opened" in s.log_text() or "index database ready" in s.log_text()
    c.close()


def test_in_memory_keeps_nothing(tmp_path):
    from conftest import ServerProcess, startup_timeout

    data = tmp_path / "data"
    s = ServerProcess("in-memory", ["--in-memory"], data_dir=data).start(startup_timeout())
    try:
        c = s.client()
        c.create_collection("m", dimensions=2)
        c.upsert("m", [rosetta.Item(id="a", vector=[1, 0])])
        c.close()
    finally:
        s.stop()
    assert not data.exists() or not any(data.iterdir())
    s = s.restart()
    try:
        c = s.client()
        assert c.list_collections() == []
        c.close()
    finally:
        s.stop()


def test_sigkill_mid_stream_loses_nothing_acknowledged(index_server):
    """Streams upserts (UpsertStream), SIGKILLs the server while requests are in flight, restarts it, and checks
    that every acknowledged item is present and intact, and that each request is all-or-nothing (an
    unacknowledged request is either wholly applied -- it reached the log before the kill -- or absent)."""
    from rosetta.types import upsert_request

    s = index_server[0]
    c = s.client()
    c.create_collection("bulk", dimensions=32, metric="dot")  # dot: vectors kept exactly as sent
    per_request = 25
    acknowledged = []  # request numbers whose response arrived
    sent = []
    killed = threading.Event()

    def requests():
        for r in range(100_000):
            if killed.is_set():
                return
            items = [rosetta.Item(id=f"r{r}-{i}", vector=[float((r * 31 + i * 7 + j) % 17) - 8 for j in range(32)],
                                  metadata={"r": r, "i": i}) for i in range(per_request)]
            sent.append(r)
            yield upsert_request("bulk", items, request_id=str(r))

    stream_over = threading.Event()

    def killer():
        # Kill once a good number of requests are acknowledged, while more are on the wire (or give up when the
        # stream failed first: the assertions below then say why).
        while len(acknowledged) < 40 and not stream_over.is_set():
            time.sleep(0.005)
        s.kill()
        killed.set()

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        with pytest.raises(rosetta.RosettaError):
            for resp in c.upsert_stream(requests(), timeout=120):
                assert all(r.status.code == 0 for r in resp.results), resp.results
                acknowledged.append(int(resp.request_id))
    finally:
        stream_over.set()
        t.join()
    c.close()
    assert len(acknowledged) >= 40 and acknowledged == sorted(acknowledged)
    assert len(sent) > len(acknowledged), "the kill should land while requests are unacknowledged"

    s = index_server[0] = s.restart()
    c = s.client()
    present_requests = []
    for r in sent:
        ids = [f"r{r}-{i}" for i in range(per_request)]
        items, missing = c.get("bulk", ids, include_vectors=True)
        assert len(items) in (0, per_request), f"request {r} half-applied: {len(items)} of {per_request} items"
        if items:
            present_requests.append(r)
            for item in items:
                i = int(item.metadata["i"])
                assert item.metadata["r"] == r
                assert item.vector == [float((r * 31 + i * 7 + j) % 17) - 8 for j in range(32)]
    assert set(acknowledged) <= set(present_requests), "an acknowledged request is missing after the restart"
    # What is present is a prefix of what was sent (the log is applied in order).
    assert present_requests == sent[:len(present_requests)]
    [col] = c.list_collections()
    assert col.count == per_request * len(present_requests)
    c.close()
