"""SIGKILL while the local index writes a snapshot, under the real server. A snapshot no longer holds writes
back: the log is rotated at the snapshot's point and the snapshot is written from a frozen copy while writes
go on (Sources/Index/LocalIndex.swift, snapshot()). So writes are acknowledged while index.snapshot.tmp is
being written, and a kill at that moment must lose none of them: the restart loads the previous snapshot and
replays the closed log segment and the new log."""
import random
import threading
import time

import pytest

import rosetta
from conftest import ServerProcess, startup_timeout
from rosetta.types import upsert_request

DIMENSIONS = 384
PRELOAD = 40_000
ATTEMPTS = 5


def _pool(n=64, seed=3):
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(DIMENSIONS)] for _ in range(n)]


def _preload(c, pool):
    """PRELOAD items, so that writing a snapshot takes long enough to kill the server in the middle of it."""
    requests = (upsert_request("snap", [rosetta.Item(id=f"p{i}", vector=pool[i % len(pool)])
                                        for i in range(start, min(start + 256, PRELOAD))])
                for start in range(0, PRELOAD, 256))
    for response in c.upsert_stream(requests):
        assert all(r.status.code == 0 for r in response.results)


class Writer(threading.Thread):
    """Upserts 10 items at a time until stopped or the server goes away; keeps the ids acknowledged, and the
    acknowledgement times."""

    def __init__(self, server, pool, prefix):
        super().__init__(daemon=True)
        self.client = server.client(timeout=30)
        self.pool, self.prefix = pool, prefix
        self.acked, self.ack_times = [], []
        self.stop = threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            ids = [f"{self.prefix}-{n + i}" for i in range(10)]
            try:
                self.client.upsert("snap", [rosetta.Item(id=x, vector=self.pool[(n + i) % len(self.pool)])
                                            for i, x in enumerate(ids)])
            except rosetta.RosettaError:
                return
            self.acked += ids
            self.ack_times.append(time.monotonic())
            n += 10


def _kill_mid_snapshot(server, writer):
    """Waits for a snapshot (index.snapshot.tmp present) during which the writer gets 3 writes acknowledged,
    then SIGKILLs the server; returns whether the temporary file was still there after the kill (the kill
    landed inside the snapshot, not just after its rename)."""
    tmp = server.data_dir / "index.snapshot.tmp"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not tmp.exists():
            time.sleep(0.001)
            continue
        seen = time.monotonic()
        while tmp.exists() and sum(t > seen for t in writer.ack_times) < 3:
            time.sleep(0.001)
        if sum(t > seen for t in writer.ack_times) >= 3 and tmp.exists():
            server.kill()
            return tmp.exists()
    pytest.fail("no snapshot during which 3 writes were acknowledged in 120 s: snapshots hold writes back")


def test_sigkill_during_a_snapshot_loses_no_acknowledged_write(tmp_path):
    pool = _pool()
    server = ServerProcess("snapshot-kill", ["--snapshot-interval", "0.1"], data_dir=tmp_path / "data")
    server.start(startup_timeout())
    with server.client(timeout=120) as c:
        c.create_collection("snap", dimensions=DIMENSIONS, metric="dot")
        _preload(c, pool)
    acked = [f"p{i}" for i in range(PRELOAD)]
    try:
        for attempt in range(ATTEMPTS):
            writer = Writer(server, pool, f"a{attempt}")
            writer.start()
            inside = _kill_mid_snapshot(server, writer)
            writer.stop.set()
            writer.join(60)
            acked += writer.acked
            server = server.restart()
            with server.client(timeout=120) as c:
                [info] = c.list_collections()
                missing = [x for start in range(0, len(acked), 1000)
                           for x in c.get("snap", acked[start:start + 1000])[1]]
                assert missing == [], f"{len(missing)} acknowledged items lost, e.g. {missing[:5]}"
                assert info.count >= len(acked)
                # A written item comes back with its vector (dot metric keeps it as given).
                [item], _ = c.get("snap", [writer.acked[-1]], include_vectors=True)
                assert item.vector == pytest.approx(pool[(len(writer.acked) - 1) % len(pool)], rel=1e-6)
            if inside:
                return
        pytest.fail(f"in {ATTEMPTS} attempts no kill landed before the snapshot's rename")
    finally:
        server.stop()
