"""The Index on PostgreSQL + pgvector beyond what test_index.py checks on both backends: two stateless servers on
one database, the database going away and coming back, and a server started with no database to reach."""
import random
import time
import uuid

import grpc
import pytest

import rosetta
from rosetta import filters as F
from conftest import ServerProcess, startup_timeout

pytestmark = pytest.mark.skipif(
    "postgres" not in __import__("conftest").INDEX_BACKENDS, reason="ROSETTA_INDEX_BACKENDS excludes postgres")


def _vectors(n, d, seed):
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(d)] for _ in range(n)]


def test_two_servers_share_one_database(postgres):
    """Upserts through one server are found through the other at once (no cache, no sync step), and so are
    deletes, collection creation and deletion, and the space of a collection."""
    url = postgres.create_database(f"replicas_{uuid.uuid4().hex[:8]}")
    a = ServerProcess("replica-a", ["--index", url]).start(startup_timeout())
    b = ServerProcess("replica-b", ["--index", url]).start(startup_timeout())
    ca, cb = a.client(), b.client()
    try:
        ca.create_collection("shared", dimensions=16)
        assert [c.name for c in cb.list_collections()] == ["shared"]
        vs = _vectors(300, 16, seed=1)
        for start in range(0, 300, 100):
            ca.upsert("shared", [rosetta.Item(id=f"i{i}", vector=vs[i], metadata={"i": i, "half": i % 2})
                                 for i in range(start, start + 100)])
        [col] = cb.list_collections()
        assert col.count == 300
        for i in (0, 17, 299):
            assert cb.search("shared", vector=vs[i], top_k=1)[0].id == f"i{i}"
        hits = cb.search("shared", vector=vs[5], top_k=10, filter=F.all_(F.eq("half", 1), F.range_("i", lt=100)))
        assert hits and all(int(h.metadata["i"]) % 2 == 1 and h.metadata["i"] < 100 for h in hits)
        items, missing = cb.get("shared", ["i3", "nope"], include_vectors=True)
        assert [i.id for i in items] == ["i3"] and missing == ["nope"]
        # Writes through B are seen by A.
        assert cb.delete("shared", ["i0", "i1"]) == 2
        assert ca.get("shared", ["i0", "i2"])[1] == ["i0"]
        cb.upsert("shared", [rosetta.Item(id="i2", vector=vs[2], metadata={"moved": "b"})])
        assert ca.get("shared", ["i2"])[0][0].metadata == {"moved": "b"}
        # Concurrent writers on both servers: every item lands once, the count stays exact.
        from concurrent.futures import ThreadPoolExecutor

        def write(client, prefix):
            for k in range(5):
                client.upsert("shared", [rosetta.Item(id=f"{prefix}{k}-{j}", vector=vs[j]) for j in range(40)])

        with ThreadPoolExecutor(4) as pool:
            for f in [pool.submit(write, ca, "a"), pool.submit(write, cb, "b"), pool.submit(write, ca, "c"),
                      pool.submit(write, cb, "d")]:
                f.result()
        assert [c.count for c in ca.list_collections()] == [298 + 4 * 5 * 40]
        # A collection deleted through A is gone for B; created again through B with another space, A checks it.
        ca.delete_collection("shared")
        with pytest.raises(rosetta.RosettaError) as ei:
            cb.search("shared", vector=vs[0])
        assert ei.value.code == grpc.StatusCode.NOT_FOUND
        cb.create_collection("shared", dimensions=8)
        with pytest.raises(rosetta.RosettaError) as ei:
            ca.upsert("shared", [rosetta.Item(id="x", vector=vs[0])])
        assert ei.value.code == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        ca.close()
        cb.close()
        a.stop()
        b.stop()


def test_database_down_is_unavailable_and_recovers(postgres):
    """With the database stopped, calls fail UNAVAILABLE (after the URL's timeout) with a message naming the
    database; once it is started again, the same server answers, with every acknowledged write intact."""
    url = postgres.create_database(f"outage_{uuid.uuid4().hex[:8]}") + "&timeout=2"
    s = ServerProcess("outage", ["--index", url]).start(startup_timeout())
    c = s.client()
    try:
        c.create_collection("c", dimensions=4)
        c.upsert("c", [rosetta.Item(id="a", vector=[1, 0, 0, 0]), rosetta.Item(id="b", vector=[0, 1, 0, 0])])
        postgres.stop()
        try:
            for call in (lambda: c.search("c", vector=[1, 0, 0, 0]),
                         lambda: c.upsert("c", [rosetta.Item(id="z", vector=[0, 0, 1, 0])]),
                         lambda: c.list_collections()):
                started = time.monotonic()
                with pytest.raises(rosetta.RosettaError) as ei:
                    call()
                assert ei.value.code == grpc.StatusCode.UNAVAILABLE, ei.value
                assert "PostgreSQL" in ei.value.message and "unavailable" in ei.value.message
                assert time.monotonic() - started < 15
            assert s.proc.poll() is None, "the server must keep running without its database"
        finally:
            postgres.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                hits = c.search("c", vector=[1, 0, 0, 0], top_k=5)
                break
            except rosetta.RosettaError as e:
                assert e.code == grpc.StatusCode.UNAVAILABLE and time.monotonic() < deadline, e
                time.sleep(0.5)
        assert [h.id for h in hits] == ["a", "b"]  # the failed upsert of "z" left nothing
        c.upsert("c", [rosetta.Item(id="z", vector=[0, 0, 1, 0])])
        assert [col.count for col in c.list_collections()] == [3]
    finally:
        c.close()
        s.stop()


def test_unreachable_database_stops_the_server_at_start(tmp_path):
    """No database at the URL: the server exits at start with a message naming it (no half-started server)."""
    from pgvector_server import free_port

    port = free_port()
    s = ServerProcess("no-database", ["--index", f"postgres://rosetta@127.0.0.1:{port}/none?sslmode=disable&timeout=1"])
    s._log = open(s.log_path, "wb")
    import subprocess

    s.proc = subprocess.Popen(s.args, stdout=s._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert s.proc.wait(60) != 0
    s._log.close()
    log = s.log_text()
    assert f"127.0.0.1:{port}/none" in log and "unavailable" in log, log


def test_bad_index_url_is_refused(tmp_path):
    import subprocess

    from conftest import server_bin

    result = subprocess.run([str(server_bin()), "--index", "postgres://u@h/db?hnsw_m=1"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "hnsw_m must be" in result.stderr


def test_disk_full_is_resource_exhausted_and_writes_nothing(postgres):
    """PostgreSQL's disk_full (SQLSTATE 53100: "could not extend file ...: No space left on device") answers
    RESOURCE_EXHAUSTED, which is not retried blindly, with PostgreSQL's message; nothing of the refused request is
    stored, and the same server writes again once there is room. A full disk cannot be made here without mount
    privileges, so a trigger on the collection's table raises the very error PostgreSQL raises then."""
    database = f"diskfull_{uuid.uuid4().hex[:8]}"
    s = ServerProcess("disk-full", ["--index", postgres.create_database(database)]).start(startup_timeout())
    c = s.client()
    try:
        c.create_collection("c", dimensions=4)
        c.upsert("c", [rosetta.Item(id="a", vector=[1, 0, 0, 0])])
        tables = postgres.psql("SELECT tablename FROM pg_tables WHERE tablename LIKE 'rosetta_items_%'", database).split()
        assert len(tables) == 1
        postgres.psql(
            "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'could not extend file \"base/16384/16400\": No space left on device' USING ERRCODE = 'disk_full', "
            "HINT = 'Check free disk space.'; END $$;"
            f"CREATE TRIGGER full_disk BEFORE INSERT OR UPDATE ON {tables[0]} FOR EACH ROW EXECUTE FUNCTION disk_full()",
            database)
        with pytest.raises(rosetta.RosettaError) as ei:
            c.upsert("c", [rosetta.Item(id=f"n{i}", vector=[0, 1, 0, i]) for i in range(3)] +
                     [rosetta.Item(id="a", vector=[0, 0, 1, 0])])
        assert ei.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED, ei.value
        assert "PostgreSQL" in ei.value.message and "No space left on device" in ei.value.message, ei.value.message
        postgres.psql(f"DROP TRIGGER full_disk ON {tables[0]}", database)
        items, missing = c.get("c", ["a", "n0"], include_vectors=True)
        assert [i.id for i in items] == ["a"] and items[0].vector == pytest.approx([1, 0, 0, 0]) and missing == ["n0"]
        c.upsert("c", [rosetta.Item(id="n0", vector=[0, 1, 0, 0])])
        assert [col.count for col in c.list_collections()] == [2]
    finally:
        c.close()
        s.stop()
