"""A full disk under the real server: the write-ahead log's writes fail with a real OS error (EFBIG, from a
file-size limit put on the running server with prlimit(2), as `ulimit -f` would; the server ignores
SIGXFSZ; and, where the tests run as root, ENOSPC from a small tmpfs filled up). The failing write must not
be acknowledged (RESOURCE_EXHAUSTED, not UNAVAILABLE: it is not a transient condition to retry blindly,
saying that the disk is full and nothing was applied), must leave no trace in memory or on disk, reads must
go on, writes must work again once there is room, and nothing acknowledged may be lost across a SIGKILL."""
import errno
import os
import random
import resource
import subprocess
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


def _assert_out_of_space(error, reason):
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED, error
    assert "the disk is full" in error.message and "the write was not applied, nothing of it was stored" in error.message
    assert reason in error.message, error.message


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
        _assert_out_of_space(failure.value, "File too large")
    with pytest.raises(rosetta.RosettaError) as failure:
        c.create_collection("more", dimensions=DIMENSIONS)
    _assert_out_of_space(failure.value, "File too large")
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


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs of its own (root only: mount(8)), unmounted at the end."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path):
    """Writes `path` until the file system has no whole page left (ENOSPC)."""
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 16, 1 << 12):
            while True:
                try:
                    f.write(b"\0" * size)
                except OSError as e:
                    assert e.errno == errno.ENOSPC
                    break


def test_no_space_left_on_device_is_resource_exhausted_and_recovers(small_disk):
    """ENOSPC from a real full file system: RESOURCE_EXHAUSTED saying the disk is full and nothing was applied;
    the same write succeeds once room is made, and nothing acknowledged is lost across a SIGKILL."""
    s = ServerProcess("no-space", [], data_dir=small_disk / "data").start(startup_timeout())
    try:
        c = s.client()
        c.create_collection("disk", dimensions=DIMENSIONS, metric="dot")
        acknowledged = _items("a-", 10, seed=1)
        c.upsert("disk", acknowledged)
        size = (s.data_dir / "index.wal").stat().st_size
        _fill(small_disk / "filler")
        refused = _items("refused-", 200, seed=2)  # a record of several pages: it needs a page the disk lacks
        with pytest.raises(rosetta.RosettaError) as failure:
            c.upsert("disk", refused)
        _assert_out_of_space(failure.value, "No space left on device")
        assert (s.data_dir / "index.wal").stat().st_size == size
        items, missing = c.get("disk", [i.id for i in acknowledged + refused])
        assert [i.id for i in items] == [i.id for i in acknowledged] and len(missing) == len(refused)

        (small_disk / "filler").unlink()
        c.upsert("disk", refused)
        acknowledged += refused
        c.close()
        s.kill()
        s = s.restart()
        c = s.client()
        items, missing = c.get("disk", [i.id for i in acknowledged], include_vectors=True)
        assert missing == []
        _assert_vectors(items, acknowledged)
        c.close()
    finally:
        s.stop()
