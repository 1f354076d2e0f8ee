"""A full disk under the real server: the write-ahead log's writes fail with a real OS error (EFBIG, from a
file-size limit put on the running server with prlimit(2), as `ulimit -f` would; the server ignores
SIGXFSZ). The failing write must not be acknowledged (UNAVAILABLE, saying what failed), must leave no trace
in memory or on disk, reads must go on, writes must work again once there is room, and nothing acknowledged
may be lost across a SIGKILL."""
import random
import resource
import sys

import grpc
import pytest

import rosetta
from conftest import ServerProcess, startup_timeout

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prlimit(2) is Linux-only")

DIMENSIONS = 16


def _items(prefix, n, seed):
    rng = random.Random(seed)
    return [rosetta.Item(id=f"{prefix}{i}", vector=[rng.uniform(-1, 1) for _ in range(DIMENSIONS)], metadata={"i": i})
            for i in range(n)]


@pytest.fixture
def local_server(tmp_path):
    """A server of its own on a local data directory: its write-ahead log is what this test fills up (the
    PostgreSQL backend has none). The test may replace it (restart); `holder[0]` is stopped at the end."""
    holder = [ServerProcess("full-disk", [], data_dir=tmp_path / "data").start(startup_timeout())]
    yield holder
    holder[0].stop()


def _assert_vectors(stored, sent):
    for got, item in zip(stored, sent, strict=True):
        assert got.vector == pytest.approx(item.vector, rel=1e-6), item.id


def _set_file_size_limit(pid, soft):
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))


def test_full_disk_refuses_the_write_keeps_reads_and_recovers(local_server):
    s = local_server[0]
    c = s.client()
    c.create_collection("disk", dimensions=DIMENSIONS, metric="dot")  # dot: vectors kept exactly as sent
    acknowledged = []
    for r in range(4):
        batch = _items(f"a{r}-", 10, seed=r)
        c.upsert("disk", batch)
        acknowledged += batch
    wal = s.data_dir / "index.wal"
    size = wal.stat().st_size

    # "Disk full": no file of the server may grow more than a few bytes past the log's size now.
    _set_file_size_limit(s.proc.pid, size + 64)
    refused = _items("refused-", 10, seed=99)
    for attempt in range(3):
        with pytest.raises(rosetta.RosettaError) as failure:
            c.upsert("disk", refused)
        assert failure.value.code == grpc.StatusCode.UNAVAILABLE
        assert "the write was not applied" in failure.value.message and "File too large" in failure.value.message
    with pytest.raises(rosetta.RosettaError) as failure:
        c.create_collection("more", dimensions=DIMENSIONS)
    assert failure.value.code == grpc.StatusCode.UNAVAILABLE
    # The partial record was cut off again: the log is exactly as long as the acknowledged writes.
    assert wal.stat().st_size == size

    # Reads go on, and show nothing of the refused writes.
    items, missing = c.get("disk", [i.id for i in acknowledged + refused], include_vectors=True)
    assert [i.id for i in items] == [i.id for i in acknowledged]
    assert missing == [i.id for i in refused]
    _assert_vectors(items, acknowledged)
    hits = c.search("disk", vector=acknowledged[7].vector, top_k=3)
    assert len(hits) == 3
    [col] = c.list_collections()
    assert col.name == "disk" and col.count == len(acknowledged)
    assert s.proc.poll() is None, "the server must not die of SIGXFSZ"

    # Room again: the same write now succeeds, without a restart.
    _set_file_size_limit(s.proc.pid, resource.RLIM_INFINITY)
    c.upsert("disk", refused)
    acknowledged += refused
    c.close()

    # Nothing acknowledged is lost, and the refused-then-accepted items are there exactly once.
    s.kill()
    s = local_server[0] = s.restart()
    c = s.client()
    items, missing = c.get("disk", [i.id for i in acknowledged], include_vectors=True)
    assert missing == [] and [i.id for i in items] == [i.id for i in acknowledged]
    _assert_vectors(items, acknowledged)
    [col] = c.list_collections()
    assert col.count == len(acknowledged)
    assert "cut a torn" not in s.log_text()
    c.close()
