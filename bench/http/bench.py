#!/usr/bin/env python3
"""HTTP/JSON vs gRPC vs infinity: sentences/s and request latency p50/p99 of embedding requests, closed loop, on
loopback (bench/http/README.md).

Servers, all up, measured one after the other on the same cores in interleaved rounds: rosetta-server (over gRPC
Embed and over HTTP POST /v1/embeddings, the same process), a second rosetta-server with --precision bfloat16 over
HTTP (where the CPU has AVX512-BF16; --no-bfloat16 skips it) and infinity (`infinity_emb v2`, PyTorch engine,
float32, the same model folder).
Clients: N concurrent closed-loop clients in this process (asyncio; HTTP/1.1 keep-alive over raw streams, one
connection per client; gRPC through grpc.aio, one channel per client), each with one request in flight. Every
response is checked (HTTP 200 and the right number of vectors; gRPC every item OK).

Usage: bench.py --server .build/release/rosetta-server --models-dir models [--infinity bench/http/.venv/bin/infinity_emb]
                [--seconds 4] [--rounds 2] [--no-bfloat16] [--markdown FILE]
"""
import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import markdown  # noqa: E402

MODEL = "all-minilm-l6-v2"
# (label, words per text, texts per request, clients): the cells.
CONFIGS = [("12 words, 1 per request", 12, 1, 1), ("12 words, 1 per request", 12, 1, 16),
           ("12 words, batches of 32", 12, 32, 4), ("100 words, batches of 32", 100, 32, 2)]
WORDS = ("the a dog cat river mountain city light music market storm garden quiet bright small ancient train "
         "window ocean forest morning evening paper stone silver rain snow road bridge voice story child field "
         "running falling open closed slowly quickly under over near far warm cold green blue red old new").split()


def texts(words, count, seed):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(words)) for _ in range(count)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class HTTPClient:
    """One keep-alive HTTP/1.1 connection: POST a JSON body, read the whole response."""

    def __init__(self, port):
        self.port = port

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, path, body):
        self.writer.write(f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                          f"content-length: {len(body)}\r\n\r\n".encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self):
        self.writer.close()


async def run_http(port, path, model, batches, clients, seconds, warmup):
    bodies = [json.dumps({"model": model, "input": b, "encoding_format": "base64"}).encode() for b in batches]

    async def call(client, i):
        status, body = await client.post(path, bodies[i % len(bodies)])
        if status != 200 or len(json.loads(body)["data"]) != len(batches[i % len(batches)]):
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")

    async def make():
        client = HTTPClient(port)
        await client.open()
        return client

    return await closed_loop(make, call, lambda c: c.close(), clients, seconds, warmup)


async def run_grpc(address, batches, clients, seconds, warmup):
    import grpc
    from rosetta.types import embed_request
    from rosetta.v1 import embeddings_pb2, embeddings_pb2_grpc

    requests = [embed_request(b, model=MODEL).SerializeToString() for b in batches]

    async def make():
        channel = grpc.aio.insecure_channel(address)
        return channel, channel.unary_unary("/rosetta.v1.Embeddings/Embed", request_serializer=lambda b: b,
                                            response_deserializer=embeddings_pb2.EmbedResponse.FromString)

    async def call(client, i):
        response = await client[1](requests[i % len(requests)], timeout=60)
        if len(response.results) != len(batches[i % len(batches)]) or any(r.status.code for r in response.results):
            raise RuntimeError(f"gRPC: a failed item: {response.results[0].status}")

    return await closed_loop(make, call, lambda c: asyncio.ensure_future(c[0].close()), clients, seconds, warmup)


async def closed_loop(make, call, close, clients, seconds, warmup):
    """Latencies (s) of the requests that ended in the measured window, [warmup, warmup + seconds]."""
    connections = [await make() for _ in range(clients)]
    start = time.perf_counter()
    measure_from, measure_to = start + warmup, start + warmup + seconds
    latencies = []

    async def loop(client, offset):
        i = offset
        while True:
            began = time.perf_counter()
            if began >= measure_to:
                return
            await call(client, i)
            ended = time.perf_counter()
            if measure_from <= ended <= measure_to:
                latencies.append(ended - began)
            i += clients

    await asyncio.gather(*(loop(c, k) for k, c in enumerate(connections)))
    for c in connections:
        close(c)
    return sorted(latencies)


def summarise(latencies, per_request, seconds):
    if not latencies:
        return {"sentences/s": 0.0, "p50 ms": float("nan"), "p99 ms": float("nan")}
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    return {"sentences/s": len(latencies) * per_request / seconds, "p50 ms": pick(0.50), "p99 ms": pick(0.99)}


def measure_cell(runner, config, seconds):
    label, words, per_request, clients = config
    batches = [texts(words, per_request, seed=k) for k in range(64)]
    # Batches of 100-word texts take seconds each: a longer window, so that each client completes several.
    window = seconds * (3 if words * per_request > 1000 else 1)
    return summarise(asyncio.run(runner(batches, clients, window)), per_request, window)


def start_rosetta(args, logs, precision):
    """rosetta-server at `precision`: float32 measured over gRPC and HTTP, bfloat16 over HTTP only."""
    grpc_port, http_port = free_port(), free_port()
    log = open(os.path.join(logs, f"rosetta-{precision}.log"), "wb")
    proc = subprocess.Popen([args.server, "--address", f"127.0.0.1:{grpc_port}", "--http-address",
                             f"127.0.0.1:{http_port}", "--models-dir", args.models_dir, "--in-memory",
                             "--precision", precision], stdout=log, stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{http_port}/readyz", proc)
    http = lambda b, c, s: run_http(http_port, "/v1/embeddings", MODEL, b, c, s, args.warmup)
    if precision != "float32":
        return proc, {f"Rosetta HTTP {precision}": http}
    return proc, {"Rosetta gRPC": lambda b, c, s: run_grpc(f"127.0.0.1:{grpc_port}", b, c, s, args.warmup),
                  "Rosetta HTTP": http}


def has_avx512_bf16():
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512_bf16" in f.read()
    except OSError:
        return False


def start_infinity(args, logs):
    port = free_port()
    model = os.path.abspath(os.path.join(args.models_dir, MODEL))
    env = {**os.environ, "INFINITY_ANONYMOUS_USAGE_STATS": "0", "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1"}
    log = open(os.path.join(logs, "infinity.log"), "wb")
    proc = subprocess.Popen([args.infinity, "v2", "--model-id", model, "--served-model-name", MODEL, "--engine", "torch",
                             "--device", "cpu", "--port", str(port), "--url-prefix", "/v1", "--batch-size", "32",
                             "--no-bettertransformer"], stdout=log, stderr=subprocess.STDOUT, env=env)
    wait_http(f"http://127.0.0.1:{port}/health", proc)
    return proc, {"infinity HTTP": lambda b, c, s: run_http(port, "/v1/embeddings", MODEL, b, c, s, args.warmup)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", required=True)
    p.add_argument("--models-dir", required=True)
    p.add_argument("--infinity", default=os.path.join(HERE, ".venv", "bin", "infinity_emb"))
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--markdown", default="")
    p.add_argument("--bfloat16", action=argparse.BooleanOptionalAction, default=True,
                   help="also measure a server with --precision bfloat16 over HTTP (skipped where the CPU lacks "
                        "AVX512-BF16: the server would run float32)")
    args = p.parse_args()
    logs = tempfile.mkdtemp(prefix="bench-http-")
    procs, runners = [], {}
    try:
        for precision in ["float32"] + (["bfloat16"] if args.bfloat16 and has_avx512_bf16() else []):
            proc, more = start_rosetta(args, logs, precision)
            procs.append(proc)
            runners.update(more)
        if os.path.exists(args.infinity):
            proc, more = start_infinity(args, logs)
            procs.append(proc)
            runners.update(more)
        else:
            print(f"infinity not found at {args.infinity} (bench/http/setup-venv installs it): skipped", flush=True)
        # Interleaved: each cell on every server back to back, in rounds; the best round per server and cell.
        # Both servers stay up (an idle server costs nothing measurable), so a drift in the machine's load
        # reaches all of them alike.
        results = {name: {} for name in runners}
        for round in range(args.rounds):
            for config in CONFIGS:
                for name, runner in runners.items():
                    r = measure_cell(runner, config, args.seconds)
                    key = (config[0], config[3])
                    best = results[name].get(key)
                    if best is None or r["sentences/s"] > best["sentences/s"]:
                        results[name][key] = r
                    print(f"  round {round + 1}, {config[0]}, {config[3]} clients, {name}: {r['sentences/s']:.0f} "
                          f"sentences/s, p50 {r['p50 ms']:.1f} ms, p99 {r['p99 ms']:.1f} ms", flush=True)
    finally:
        for proc in procs:
            stop(proc)
    report(args, results, logs)


def report(args, results, logs):
    servers = list(results)
    headers = ["texts", "clients"] + [f"{s} {m}" for s in servers for m in ("sentences/s", "p50 ms", "p99 ms")]
    rows, targets = [], []
    for label, _, _, clients in CONFIGS:
        row = [label, clients]
        for s in servers:
            r = results[s][(label, clients)]
            row += [f"{r['sentences/s']:.0f}", f"{r['p50 ms']:.1f}", f"{r['p99 ms']:.1f}"]
        rows.append(row)
        if "infinity HTTP" in results:
            theirs = results["infinity HTTP"][(label, clients)]["sentences/s"]
            for s in (s for s in servers if s.startswith("Rosetta HTTP")):
                ours = results[s][(label, clients)]["sentences/s"]
                ratio = ours / theirs if theirs else float("inf")
                targets.append(markdown.target(f"{s[len('Rosetta '):]} >= 2x infinity ({label}, {clients} clients)",
                                               ratio >= 2, f"{ours:.0f} vs {theirs:.0f} sentences/s, {ratio:.1f}x"))
    table = markdown.table(headers, rows)
    print()
    print(table)
    print("\n".join(targets))
    print(f"\nserver logs: {logs}")
    load = os.getloadavg()[0]
    intro = (f"Closed-loop clients on loopback, {args.seconds:.0f} s measured (x3 for 100-word batches) after "
             f"{args.warmup:.0f} s of warm-up per cell, best of {args.rounds} interleaved rounds; base64 vectors over "
             f"HTTP; both servers up, measured one after the other on the same cores (load average at the end: {load:.1f}).")
    markdown.append(args.markdown, "HTTP/JSON vs gRPC vs infinity (bench/http)", "\n\n".join([intro, table, "\n".join(targets)]))


if __name__ == "__main__":
    main()
