#!/usr/bin/env python3
"""Writes under concurrency in the local index: acknowledged items/s with 1 and 8 UpsertStream writers, and
Search latency while a snapshot is being written vs idle, against the real server on loopback.

One run, on a fresh data directory (bench/writes/README.md has the numbers and how to read them):

1. fill: a raw-vector collection (--dims 384, int8 storage, cosine) is filled to --items items by 8 writer
   processes, each streaming UpsertRequests of --batch items (random unit vectors, 2 metadata fields) over one
   UpsertStream; snapshots are off (interval and log size out of reach), so the write path alone is measured.
2. writes: 1 writer, then 8 writers, each time --measure-items upserts in all (replacing existing ids) in
   requests of --batch items, then --small-items in requests of --small-batch items (where the fsync per
   request weighs most): items/s = items acknowledged / (last ack - first send).
3. restart with --snapshot-interval --snapshot-every (the server writes its final snapshot on SIGTERM and loads
   it back): --searches top-10 searches by vector, back to back, with nothing else running ("idle"); then for
   --seconds one searcher paced at --search-rate searches/s and one writer paced at --paced-rate items/s while
   the server snapshots every --snapshot-every s. (Both paced below what the server sustains without
   snapshots, so that a latency measures a request's own wait, not a backlog.)
   A watcher polls for index.snapshot.tmp (the file a snapshot is written to, in every version of the index)
   every millisecond to know when a snapshot is being written. Reported: Search p50/p99 idle, during a
   snapshot and between snapshots; the paced writer's ack latency p50/p99/max during and between snapshots.

Writers are separate processes (spawned, each with its own channel) that send requests serialized once: an
Item without its id is serialized by protobuf for a pool of vectors, and each request prepends ids by hand, so
the client costs little next to the server on this 2-core machine.

Usage (`make bench-writes` builds the server and runs it):
  python3 bench/writes/bench.py --server .build/release/rosetta-server --models-dir models [--items 1000000]
"""
import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, BENCH)
import markdown  # noqa: E402
from rosetta.types import _varint as varint  # noqa: E402

COLLECTION = "bench"
UPSERT_STREAM = "/rosetta.v1.Index/UpsertStream"
POOL = 1024


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--server", default=".build/release/rosetta-server")
    p.add_argument("--models-dir", default="models")
    p.add_argument("--items", type=int, default=1_000_000, help="collection size after the fill")
    p.add_argument("--dims", type=int, default=384)
    p.add_argument("--batch", type=int, default=256, help="items per UpsertRequest (the server's default --max-batch-items)")
    p.add_argument("--measure-items", type=int, default=200_000, help="upserts per writer-count measurement")
    p.add_argument("--writers", default="1,8")
    p.add_argument("--small-batch", type=int, default=8, help="items per request of the small-request measurement")
    p.add_argument("--small-items", type=int, default=40_000, help="upserts per small-request measurement")
    p.add_argument("--searches", type=int, default=200, help="idle searches")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the snapshot phase")
    p.add_argument("--snapshot-every", type=float, default=2.0, help="--snapshot-interval in the snapshot phase")
    p.add_argument("--paced-rate", type=float, default=1000.0, help="items/s of the writer in the snapshot phase")
    p.add_argument("--search-rate", type=float, default=4.0, help="searches/s in the snapshot phase")
    p.add_argument("--data-dir", default="", help="where the index lives (default: a temporary directory)")
    p.add_argument("--label", default="", help="a name for this run in the output (e.g. before/after)")
    p.add_argument("--markdown", default="", help="append a section with the tables to this file")
    return p.parse_args()


# ------------------------------------------------------------------------------------------- requests

def field(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def item_pool(dims, seed):
    """POOL serialized Items without an id: a random unit vector and metadata {source, n}."""
    from rosetta.v1 import common_pb2, index_pb2
    rng = random.Random(seed)
    pool = []
    for i in range(POOL):
        v = [rng.gauss(0, 1) for _ in range(dims)]
        norm = sum(x * x for x in v) ** 0.5
        item = index_pb2.Item(vector=common_pb2.Vector(values=[x / norm for x in v]))
        item.metadata["source"].string_value = f"bench-{seed}"
        item.metadata["n"].number_value = i
        pool.append(item.SerializeToString())
    return pool


def upsert_request(ids, pool, offset):
    body = field(1, COLLECTION.encode())
    for j, item_id in enumerate(ids):
        body += field(2, field(1, item_id.encode()) + pool[(offset + j) % POOL])
    return body


def item_id(n):
    return f"item-{n:09d}"


# ------------------------------------------------------------------------------------------- processes

def writer(address, dims, batch, ids, seed, rate, ready, out):
    """Streams upserts of `ids` over one UpsertStream once every writer is ready; puts (items, first send,
    last ack, [(send, ack, items)])."""
    import grpc
    from rosetta.v1 import index_pb2
    pool = item_pool(dims, seed)
    requests = [upsert_request(ids[i:i + batch], pool, i) for i in range(0, len(ids), batch)]
    sends = []
    channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 << 20)])
    stream = channel.stream_stream(UPSERT_STREAM, request_serializer=None,
                                   response_deserializer=index_pb2.UpsertResponse.FromString)
    grpc.channel_ready_future(channel).result(timeout=60)
    ready.wait()

    def generate():
        start = time.monotonic()
        for i, request in enumerate(requests):
            if rate:
                due = start + i * batch / rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            sends.append(time.monotonic())
            yield request

    acks = []
    items = 0
    for response in stream(generate()):
        acks.append(time.monotonic())
        for r in response.results:
            if r.status.code != 0:
                raise SystemExit(f"item {r.id} refused: {r.status.message}")
        items += len(response.results)
    channel.close()
    sizes = [min(batch, len(ids) - i) for i in range(0, len(ids), batch)]
    out.put((items, sends[0], acks[-1], list(zip(sends, acks, sizes))))


def run_writers(address, args, id_ranges, rate=0.0, batch=None):
    """One spawned process per id range, started together; returns (items, seconds, per-request samples)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    ready = context.Barrier(len(id_ranges))
    processes = [context.Process(target=writer, args=(address, args.dims, batch or args.batch, ids, seed, rate, ready, out))
                 for seed, ids in enumerate(id_ranges)]
    for p in processes:
        p.start()
    results = [out.get() for _ in processes]
    for p in processes:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a writer failed (exit code {p.exitcode})")
    items = sum(r[0] for r in results)
    seconds = max(r[2] for r in results) - min(r[1] for r in results)
    return items, seconds, [s for r in results for s in r[3]]


def log_records(data_dir):
    """Records in <data dir>/index.wal (each one write and one fsync): walks the u32 length of each."""
    count = 0
    with open(os.path.join(data_dir, "index.wal"), "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        offset = 8
        while offset + 8 <= size:
            f.seek(offset)
            (length,) = struct.unpack("<I", f.read(4))
            offset += 8 + length
            count += 1
    return count


def split(ids, parts):
    return [ids[i::parts] for i in range(parts)]


# ------------------------------------------------------------------------------------------- server

class Server:
    def __init__(self, args, data_dir, snapshot_interval, snapshot_log_bytes):
        self.process = subprocess.Popen(
            [args.server, "--address", "127.0.0.1:0", "--models-dir", args.models_dir, "--data-dir", data_dir,
             "--snapshot-interval", str(snapshot_interval), "--snapshot-log-bytes", str(snapshot_log_bytes)],
            stdout=subprocess.PIPE, stderr=open(os.path.join(data_dir, "..", "server.log"), "a"), text=True)
        self.address = None
        for line in self.process.stdout:
            if line.startswith("rosetta-server listening on "):
                self.address = line.split()[-1]
                break
        if self.address is None:
            raise SystemExit(f"the server did not start (see {data_dir}/../server.log)")
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()
        import grpc
        from rosetta.v1 import index_pb2_grpc
        self.channel = grpc.insecure_channel(self.address)
        self.index = index_pb2_grpc.IndexStub(self.channel)
        self.wait_serving()

    def wait_serving(self):
        from rosetta.v1 import index_pb2
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                self.index.ListCollections(index_pb2.ListCollectionsRequest(), timeout=5)
                return
            except Exception:
                time.sleep(0.2)
        raise SystemExit("the server did not answer ListCollections in 600 s")

    def stop(self):
        self.channel.close()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=1800)


def search_request(dims, rng):
    from rosetta.v1 import common_pb2, index_pb2
    v = [rng.gauss(0, 1) for _ in range(dims)]
    return index_pb2.SearchRequest(collection=COLLECTION, vector=common_pb2.Vector(values=v), top_k=10)


def search_latencies(server, args, count=None, until=None, rate=0.0):
    """Sequential top-10 searches, back to back or `rate` a second: [(start, seconds)]."""
    rng = random.Random(7)
    queries = [search_request(args.dims, rng) for _ in range(64)]
    samples = []
    i = 0
    begin = time.monotonic()
    while (count is None or i < count) and (until is None or time.monotonic() < until):
        if rate:
            pause = begin + i / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        started = time.monotonic()
        server.index.Search(queries[i % len(queries)], timeout=120)
        samples.append((started, time.monotonic() - started))
        i += 1
    return samples


class SnapshotWatcher:
    """Polls for <data dir>/index.snapshot.tmp every millisecond: the windows in which a snapshot is written."""

    def __init__(self, data_dir):
        self.path = os.path.join(data_dir, "index.snapshot.tmp")
        self.windows = []
        self.running = True
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def watch(self):
        start = None
        while self.running:
            exists = os.path.exists(self.path)
            now = time.monotonic()
            if exists and start is None:
                start = now
            elif not exists and start is not None:
                self.windows.append((start, now))
                start = None
            time.sleep(0.001)
        if start is not None:
            self.windows.append((start, time.monotonic()))

    def stop(self):
        self.running = False
        self.thread.join()
        return self.windows


def overlaps(start, end, windows):
    return any(start < w_end and end > w_start for w_start, w_end in windows)


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds):
    return f"{seconds * 1000:.1f}"


# ------------------------------------------------------------------------------------------- main

def main():
    args = parse_args()
    args.server = os.path.abspath(args.server)
    args.models_dir = os.path.abspath(args.models_dir)
    root = args.data_dir or tempfile.mkdtemp(prefix="rosetta-bench-writes-")
    data_dir = os.path.join(root, "data")
    shutil.rmtree(data_dir, ignore_errors=True)
    os.makedirs(data_dir)
    label = f" ({args.label})" if args.label else ""
    print(f"bench-writes{label}: {args.items:,} items × {args.dims}-d int8, batches of {args.batch}, data in {data_dir}",
          flush=True)
    results = {}

    # 1-2: no snapshots, so that the writes measure the log alone.
    server = Server(args, data_dir, snapshot_interval=1e9, snapshot_log_bytes=1 << 62)
    from rosetta.v1 import index_pb2
    server.index.CreateCollection(index_pb2.CreateCollectionRequest(
        name=COLLECTION, dimensions=args.dims, metric=index_pb2.METRIC_COSINE, storage=index_pb2.STORAGE_INT8))
    ids = [item_id(n) for n in range(args.items)]
    records = log_records(data_dir)
    items, seconds, samples = run_writers(server.address, args, split(ids, 8))
    results[f"fill, 8 writers, {args.batch}-item requests"] = (items, seconds, len(samples), log_records(data_dir) - records)
    print(f"fill: {items:,} items by 8 writers in {seconds:.1f} s = {items / seconds:,.0f} items/s", flush=True)
    rng = random.Random(1)
    for batch, total in [(args.batch, args.measure_items), (args.small_batch, args.small_items)]:
        for count in [int(w) for w in args.writers.split(",")]:
            chosen = [ids[rng.randrange(len(ids))] for _ in range(total)]
            records = log_records(data_dir)
            items, seconds, samples = run_writers(server.address, args, split(chosen, count), batch=batch)
            results[f"{count} writer(s), {batch}-item requests"] = (items, seconds, len(samples),
                                                                    log_records(data_dir) - records)
            print(f"{count} writer(s), {batch}-item requests: {items:,} upserts in {seconds:.1f} s = "
                  f"{items / seconds:,.0f} items/s", flush=True)
    started = time.monotonic()
    server.stop()
    print(f"stopped (final snapshot of {args.items:,} items) in {time.monotonic() - started:.1f} s", flush=True)

    # 3: idle searches, then searches and a paced writer while the server snapshots every --snapshot-every s.
    started = time.monotonic()
    server = Server(args, data_dir, snapshot_interval=args.snapshot_every, snapshot_log_bytes=1 << 62)
    print(f"restarted (snapshot loaded) in {time.monotonic() - started:.1f} s", flush=True)
    search_latencies(server, args, count=10)
    idle = [s for _, s in search_latencies(server, args, count=args.searches)]
    watcher = SnapshotWatcher(data_dir)
    paced_ids = [ids[rng.randrange(len(ids))] for _ in range(int(args.paced_rate * args.seconds))]
    paced = {}
    thread = threading.Thread(target=lambda: paced.update(
        result=run_writers(server.address, args, [paced_ids], rate=args.paced_rate)))
    thread.start()
    searches = search_latencies(server, args, until=time.monotonic() + args.seconds, rate=args.search_rate)
    thread.join()
    windows = watcher.stop()
    server.stop()
    with open(os.path.join(root, "samples.json"), "w") as f:
        json.dump({"windows": windows, "searches": searches, "acks": paced["result"][2]}, f)
    shutil.rmtree(data_dir, ignore_errors=True)

    during = [s for t, s in searches if overlaps(t, t + s, windows)]
    between = [s for t, s in searches if not overlaps(t, t + s, windows)]
    acks = paced["result"][2]
    ack_during = [a - t for t, a, _ in acks if overlaps(t, a, windows)]
    ack_between = [a - t for t, a, _ in acks if not overlaps(t, a, windows)]
    snapshot_seconds = [e - s for s, e in windows]
    print(f"snapshots: {len(windows)} written in {args.seconds:.0f} s, "
          f"median {statistics.median(snapshot_seconds) if windows else float('nan'):.2f} s each", flush=True)

    headers = ["", "n", "p50 ms", "p99 ms", "max ms"]
    rows = [
        ["Search, idle", len(idle), ms(percentile(idle, 50)), ms(percentile(idle, 99)), ms(max(idle))],
        ["Search, during a snapshot", len(during), ms(percentile(during, 50)), ms(percentile(during, 99)),
         ms(max(during, default=float("nan")))],
        ["Search, between snapshots", len(between), ms(percentile(between, 50)), ms(percentile(between, 99)),
         ms(max(between, default=float("nan")))],
        [f"Upsert ack ({args.batch} items, paced), during a snapshot", len(ack_during), ms(percentile(ack_during, 50)),
         ms(percentile(ack_during, 99)), ms(max(ack_during, default=float("nan")))],
        [f"Upsert ack ({args.batch} items, paced), between snapshots", len(ack_between), ms(percentile(ack_between, 50)),
         ms(percentile(ack_between, 99)), ms(max(ack_between, default=float("nan")))],
    ]
    write_rows = [[name, f"{items:,}", f"{seconds:.1f}", f"{items / seconds:,.0f}", f"{requests:,}", f"{records:,}"]
                  for name, (items, seconds, requests, records) in results.items()]
    tables = (markdown.table(["phase", "items", "s", "acknowledged items/s", "requests", "log records (fsyncs)"],
                             write_rows) + "\n\n"
              + f"Snapshots: {len(windows)} in {args.seconds:.0f} s, median "
              + f"{statistics.median(snapshot_seconds) if windows else float('nan'):.2f} s to write each.\n\n"
              + markdown.table(headers, rows))
    print(tables, flush=True)
    markdown.append(args.markdown, f"Index writes under concurrency{label}", tables)


if __name__ == "__main__":
    main()
