"""A write-ahead log damaged in the middle, under the real server. One flipped bit in the middle of a log of 11
acknowledged writes once made the server start, drop the 6 later records (60 acknowledged items), truncate
index.wal on disk and log only a warning. Now it must refuse to start, saying which file, at which byte and how
many valid records follow, and leave the log as it was; with --wal-recovery truncate it keeps a copy of the log
and starts without the records after the damage. A torn last record is still cut off without a word from the
operator."""
import struct
import subprocess

import pytest

import rosetta
from conftest import ServerProcess, startup_timeout

DIMENSIONS = 4
BATCHES = 11


def _write_log(data_dir):
    """11 upserts of 10 items each, one log record per upsert (after the collection's); then SIGKILL, so no
    final snapshot empties the log. Returns the log's bytes."""
    s = ServerProcess("damaged-log", [], data_dir=data_dir).start(startup_timeout())
    try:
        with s.client() as c:
            c.create_collection("wal", dimensions=DIMENSIONS, metric="dot")
            for b in range(BATCHES):
                c.upsert("wal", [rosetta.Item(id=f"b{b}-{i}", vector=[b, i, 1, 0]) for i in range(10)])
    finally:
        s.kill()
    return (data_dir / "index.wal").read_bytes()


def _record_offsets(log):
    """Where each record starts (after the 8-byte header: u32 length, u32 crc32, payload)."""
    offsets, offset = [], 8
    while offset + 8 <= len(log):
        (length,) = struct.unpack_from("<I", log, offset)
        offsets.append(offset)
        offset += 8 + length
    assert offset == len(log)
    return offsets


def _flip_bit(log, offset):
    damaged = bytearray(log)
    damaged[offset] ^= 0x08
    return bytes(damaged)


def _refusal(s):
    """Runs the server, which must exit with an error before it opens its port (the index is opened first);
    returns its stderr."""
    proc = subprocess.Popen(s.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the server did not refuse to start (still running after 60 s)")
    assert proc.returncode != 0, stderr
    return stderr


def _ids(batches):
    return [f"b{b}-{i}" for b in batches for i in range(10)]


def test_damaged_log_refuses_to_start_and_recovers_only_when_asked(tmp_path):
    data = tmp_path / "data"
    log = _write_log(data)
    offsets = _record_offsets(log)
    assert len(offsets) == 1 + BATCHES  # the collection, then one record per upsert
    damaged_record = 6  # the upsert of batch 5; batches 6-10 follow it
    damaged = _flip_bit(log, offsets[damaged_record] + 40)
    (data / "index.wal").write_bytes(damaged)

    stderr = _refusal(ServerProcess("damaged-log", [], data_dir=data))
    assert str(data / "index.wal") in stderr, stderr
    assert f"damaged at byte {offsets[damaged_record]}" in stderr, stderr
    assert "5 valid records" in stderr and "--wal-recovery truncate" in stderr, stderr
    # The evidence stays: the log exactly as it was, no copy, nothing cut.
    assert (data / "index.wal").read_bytes() == damaged
    assert not list(data.glob("index.wal.corrupt-*"))

    s = ServerProcess("damaged-log", ["--wal-recovery", "truncate"], data_dir=data).start(startup_timeout())
    try:
        [copy] = list(data.glob("index.wal.corrupt-*"))
        assert copy.read_bytes() == damaged
        assert (data / "index.wal").read_bytes() == log[:offsets[damaged_record]]
        text = s.log_text()
        assert "--wal-recovery truncate" in text and "dropped-records" in text and str(copy) in text, text
        with s.client() as c:
            items, missing = c.get("wal", _ids(range(BATCHES)))
            assert [i.id for i in items] == _ids(range(5)) and missing == _ids(range(5, BATCHES))
            c.upsert("wal", [rosetta.Item(id="after", vector=[1, 2, 3, 4])])
    finally:
        s.stop()
    # Recovered, the log is whole again: a plain restart takes it and keeps the new write.
    s = ServerProcess("damaged-log", [], data_dir=data).start(startup_timeout())
    try:
        with s.client() as c:
            [col] = c.list_collections()
            assert col.count == 51
    finally:
        s.stop()


def test_torn_last_record_is_cut_without_the_recovery_flag(tmp_path):
    data = tmp_path / "data"
    log = _write_log(data)
    offsets = _record_offsets(log)
    (data / "index.wal").write_bytes(_flip_bit(log, offsets[-1] + 40))
    s = ServerProcess("damaged-log", [], data_dir=data).start(startup_timeout())
    try:
        assert "cut a torn" in s.log_text()
        assert not list(data.glob("index.wal.corrupt-*"))
        with s.client() as c:
            items, missing = c.get("wal", _ids(range(BATCHES)))
            assert [i.id for i in items] == _ids(range(BATCHES - 1)) and missing == _ids([BATCHES - 1])
    finally:
        s.stop()


def test_wal_recovery_flag_takes_only_known_values(tmp_path):
    stderr = _refusal(ServerProcess("damaged-log", ["--wal-recovery", "ignore"], data_dir=tmp_path / "data"))
    assert "--wal-recovery 'ignore' is not one of refuse, truncate" in stderr
