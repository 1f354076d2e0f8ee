"""Soak test: a bounded load on the REAL rosetta-server over loopback, which stops by itself.

CLIENTS concurrent clients (asyncio, one channel each) mix Embed (texts; some images) with Search (by
vector and by text) and Upsert (vectors; some texts embedded by the server) for SOAK_SECONDS. Upserts
overwrite ids from a fixed pool, so after warm-up the index holds a constant number of items and the
server's memory should be flat. The server's RSS is sampled every SAMPLE_SECONDS.

Fails (exit 1) when any call ends with a status other than OK or RESOURCE_EXHAUSTED (deliberate overload),
or when RSS keeps growing after warm-up: the least-squares slope of RSS over the last 80% of the run,
times that span, must stay within ROSETTA_SOAK_RSS_TOLERANCE_MB (default 64 MB) or 10% of the
post-warm-up RSS, whichever is larger.

Writes <out>/rss.csv (seconds, rss_mb, calls_done) and <out>/summary.txt, and prints the summary:
calls, errors by code, p50/p99/max latency per method, and the RSS curve.

Usage (make soak does this): python soak.py [--seconds N] [--clients N] [--out DIR]
Environment: the same as the pytest suite (ROSETTA_SERVER_BIN, ROSETTA_MODELS_DIR, ...).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import sys
import time
from pathlib import Path

import grpc

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import rosetta  # noqa: E402
from conftest import REPO_ROOT, TEXT_MODEL_ID, ServerProcess, startup_timeout  # noqa: E402

DIMENSIONS = 64
ID_POOL = 2_000
IMAGES = sorted((REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos").glob("*.jpg"))
WORDS = ("a dog runs on the beach at sunset while children build castles of sand near the water and gulls "
         "circle above the old pier where fishermen wait patiently for the evening tide").split()
# (method, weight): what each client does, drawn at random per call.
MIX = [("Embed/text", 35), ("Embed/image", 5), ("Search/vector", 25), ("Search/text", 10),
       ("Upsert/vector", 20), ("Upsert/text", 5)]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 40)))


def vector(rng: random.Random):
    return [rng.gauss(0, 1) for _ in range(DIMENSIONS)]


class Stats:
    def __init__(self):
        self.latencies = collections.defaultdict(list)
        self.codes = collections.Counter()
        self.errors = collections.Counter()  # (method, code name) -> count, codes other than OK
        self.first_errors = []

    @property
    def calls(self) -> int:
        return sum(self.codes.values())


async def one_call(client, method: str, rng: random.Random, images):
    if method == "Embed/text":
        await client.embed_text([sentence(rng) for _ in range(rng.randint(1, 4))])
    elif method == "Embed/image":
        await client.embed_image(rng.choice(images))
    elif method == "Search/vector":
        await client.search("soak-vectors", vector=vector(rng), top_k=10)
    elif method == "Search/text":
        await client.search("soak-text", text=sentence(rng), top_k=5)
    elif method == "Upsert/vector":
        items = [rosetta.Item(id=f"v{rng.randrange(ID_POOL)}", vector=vector(rng), metadata={"n": rng.randrange(100)})
                 for _ in range(rng.randint(1, 16))]
        await client.upsert("soak-vectors", items)
    elif method == "Upsert/text":
        items = [rosetta.Item(id=f"t{rng.randrange(ID_POOL // 4)}", text=sentence(rng)) for _ in range(rng.randint(1, 4))]
        await client.upsert("soak-text", items)
    else:
        raise ValueError(method)


async def worker(number: int, server: ServerProcess, deadline: float, stats: Stats, images):
    rng = random.Random(number)
    methods, weights = zip(*MIX)
    async with server.client_async(timeout=120.0) as client:
        while time.monotonic() < deadline:
            method = rng.choices(methods, weights)[0]
            started = time.perf_counter()
            try:
                await one_call(client, method, rng, images)
                code = grpc.StatusCode.OK
            except rosetta.RosettaError as e:
                code = e.code
                if code != grpc.StatusCode.RESOURCE_EXHAUSTED and len(stats.first_errors) < 10:
                    stats.first_errors.append(f"{method}: {code.name}: {e.message}")
            stats.latencies[method].append(time.perf_counter() - started)
            stats.codes[code.name] += 1
            if code != grpc.StatusCode.OK:
                stats.errors[(method, code.name)] += 1


async def sampler(pid: int, started: float, deadline: float, interval: float, stats: Stats, samples):
    while True:
        samples.append((time.monotonic() - started, rss_mb(pid), stats.calls))
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def slope(points):
    """Least-squares slope of y over x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


async def setup(server: ServerProcess):
    async with server.client_async() as client:
        await client.create_collection("soak-vectors", dimensions=DIMENSIONS)
        await client.create_collection("soak-text", model=TEXT_MODEL_ID)
        rng = random.Random(-1)
        for start in range(0, ID_POOL, 100):
            await client.upsert("soak-vectors", [rosetta.Item(id=f"v{i}", vector=vector(rng)) for i in range(start, start + 100)])
        await client.upsert("soak-text", [rosetta.Item(id=f"t{i}", text=sentence(rng)) for i in range(32)])


async def run(seconds: float, clients: int, interval: float, server: ServerProcess, stats: Stats, samples):
    await setup(server)
    images = [rosetta.Image.from_path(p) for p in IMAGES]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(sampler(server.proc.pid, started, deadline, interval, stats, samples),
                         *(worker(i, server, deadline, stats, images) for i in range(clients)))
    return time.monotonic() - started


def report(seconds, clients, elapsed, stats: Stats, samples, tolerance_mb, out: Path):
    lines = [f"soak: {clients} clients for {elapsed:.0f} s (asked {seconds:.0f} s), {stats.calls} calls "
             f"({stats.calls / elapsed:.1f}/s); load average {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} CPUs"]
    lines.append("codes: " + ", ".join(f"{c} {n}" for c, n in stats.codes.most_common()))
    lines.append(f"{'method':<15} {'calls':>7} {'errors':>7} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for method, _ in MIX:
        values = stats.latencies.get(method, [])
        if not values:
            continue
        failed = sum(n for (m, _), n in stats.errors.items() if m == method)
        lines.append(f"{method:<15} {len(values):>7} {failed:>7} {percentile(values, 50) * 1e3:>9.1f} "
                     f"{percentile(values, 99) * 1e3:>9.1f} {max(values) * 1e3:>9.1f}")
    warm = [(t, r) for t, r, _ in samples if t >= 0.2 * elapsed]
    failures = []
    if len(warm) >= 3:
        growth = slope(warm) * (warm[-1][0] - warm[0][0])
        allowed = max(tolerance_mb, 0.10 * warm[0][1])
        lines.append(f"RSS: start {samples[0][1]:.0f} MB, after warm-up {warm[0][1]:.0f} MB, end {samples[-1][1]:.0f} MB, "
                     f"max {max(r for _, r, _ in samples):.0f} MB; trend after warm-up {growth:+.1f} MB over "
                     f"{warm[-1][0] - warm[0][0]:.0f} s (allowed {allowed:.0f} MB)")
        if growth > allowed:
            failures.append(f"RSS grows after warm-up: {growth:+.1f} MB (allowed {allowed:.0f} MB)")
    else:
        failures.append("too few RSS samples after warm-up to judge memory")
    step = max(1, len(samples) // 12)
    lines.append("RSS curve (s: MB): " + ", ".join(f"{t:.0f}: {r:.0f}" for t, r, _ in samples[::step]))
    overload = stats.codes.get("RESOURCE_EXHAUSTED", 0)
    unexpected = sum(n for (m, c), n in stats.errors.items() if c != "RESOURCE_EXHAUSTED")
    lines.append(f"deliberate overload (RESOURCE_EXHAUSTED): {overload}; other errors: {unexpected}")
    if unexpected:
        failures.append(f"{unexpected} calls failed with a status other than RESOURCE_EXHAUSTED")
        lines += ["  " + e for e in stats.first_errors]
    lines.append("PASS" if not failures else "FAIL: " + "; ".join(failures))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "rss.csv", "w") as f:
        f.write("seconds,rss_mb,calls_done\n")
        f.writelines(f"{t:.1f},{r:.1f},{n}\n" for t, r, n in samples)
    (out / "summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"(written: {out / 'rss.csv'}, {out / 'summary.txt'})")
    return not failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("SOAK_CLIENTS", "64")))
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".build" / "soak")
    args = parser.parse_args()
    tolerance = float(os.environ.get("ROSETTA_SOAK_RSS_TOLERANCE_MB", "64"))
    if not IMAGES:
        print("soak: no images under Tests/Fixtures/images/photos", file=sys.stderr)
        return 2
    server = ServerProcess("soak", []).start(startup_timeout())
    stats, samples = Stats(), []
    try:
        elapsed = asyncio.run(run(args.seconds, args.clients, args.sample_seconds, server, stats, samples))
        alive = server.proc.poll() is None
    finally:
        server.stop()
        server.remove_data()
    ok = report(args.seconds, args.clients, elapsed, stats, samples, tolerance, args.out)
    if not alive:
        print(f"FAIL: the server exited during the soak:\n{server.log_tail()}")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
