#!/usr/bin/env python3
"""Embed load with dynamic batching on and off (issue #9): starts rosetta-server once per mode (merging on: the
defaults; off: --batch-max-requests 1), then for each number of concurrent clients sends Embed requests of one
16-token sentence each, back to back, for --seconds, and prints sentences/s, latency p50/p99, the server's mean
queue and compute time per request (from the responses' usage), and the ratio merging-on / merging-off measured
in the same run.

Each client is its own gRPC channel (its own HTTP/2 connection), all driven by one asyncio loop (grpcio aio) in
this process. The client's own cost is printed too (CPU microseconds per call of this process): client and server
share the machine's cores, so at high rates the client takes CPU the server could have used.

Run (from the repository root, after `make build` and with the test venv, `make .venv-test/.installed`):

    .venv-test/bin/python bench/batching/embed_load.py [--clients 1,8,64] [--seconds 5] [--delay-us 2000]

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are passed through as they are in the environment (the Makefile's values:
Haswell, 1048576) and printed.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

from rosetta.v1 import common_pb2, embeddings_pb2, embeddings_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
# Words that are one WordPiece each in the uncased BERT vocabulary: 14 of them + [CLS] + [SEP] = 16 tokens.
WORDS = ("the cat sat on a mat and dog ran in park with big red ball house tree car road sun day night city man "
         "woman child book table water music green small old new blue boat river").split()


def sentences(count: int, seed: int = 9) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(count)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary: str, models: str, extra: list[str]):
        self.address = f"127.0.0.1:{free_port()}"
        self.log = tempfile.NamedTemporaryFile(prefix="rosetta-load-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([binary, "--address", self.address, "--models-dir", models, "--in-memory",
                                      "--log-level", "warning", *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO)

    async def wait_serving(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"rosetta-server exited with {self.proc.returncode}; log: {self.log.name}")
            try:
                async with grpc.aio.insecure_channel(self.address) as channel:
                    stub = embeddings_pb2_grpc.EmbeddingsStub(channel)
                    info = await stub.Info(embeddings_pb2.InfoRequest(), timeout=2)
                    if info.models:
                        return
            except grpc.RpcError:
                pass
            await asyncio.sleep(0.2)
        sys.exit(f"rosetta-server not serving after {timeout}s; log: {self.log.name}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


async def load(address: str, clients: int, seconds: float, texts: list[str]) -> dict:
    channels = [grpc.aio.insecure_channel(address) for _ in range(clients)]
    stubs = [embeddings_pb2_grpc.EmbeddingsStub(c) for c in channels]
    requests = [embeddings_pb2.EmbedRequest(inputs=[common_pb2.Input(text=t)]) for t in texts]
    # Warm-up: connect every channel and let the server settle.
    await asyncio.gather(*(s.Embed(requests[i % len(requests)], timeout=60) for i, s in enumerate(stubs)))

    latencies: list[float] = []
    queue_ns = compute_ns = tokens = 0
    stop_at = time.perf_counter() + seconds

    async def client(index: int) -> None:
        nonlocal queue_ns, compute_ns, tokens
        stub, n = stubs[index], index
        while time.perf_counter() < stop_at:
            request = requests[n % len(requests)]
            n += clients
            sent = time.perf_counter()
            response = await stub.Embed(request, timeout=60)
            latencies.append(time.perf_counter() - sent)
            queue_ns += response.usage.queue_time_ns
            compute_ns += response.usage.compute_time_ns
            tokens += response.usage.tokens

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    for c in channels:
        await c.close()
    latencies.sort()
    calls = len(latencies)
    return {"rate": calls / wall, "p50": percentile(latencies, 50) * 1e3, "p99": percentile(latencies, 99) * 1e3,
            "queue": queue_ns / calls / 1e6, "compute": compute_ns / calls / 1e6, "tokens": tokens / calls,
            "client_us": cpu / calls * 1e6, "calls": calls}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-bin", default=str(REPO / ".build/release/rosetta-server"))
    parser.add_argument("--models-dir", default=str(REPO / "models"))
    parser.add_argument("--clients", default="1,8,64")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--delay-us", type=int, default=2000, help="--batch-delay-us of the merging-on server")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    texts = sentences(512)
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')} cores={os.cpu_count()} "
          f"seconds={args.seconds}")

    modes = {"on": ["--batch-delay-us", str(args.delay_us)], "off": ["--batch-max-requests", "1"]}
    results: dict[tuple[str, int], dict] = {}
    # Interleaved by concurrency (on, off, on, off, ...) so slow drifts of the shared machine hit both modes.
    servers = {mode: Server(args.server_bin, args.models_dir, extra) for mode, extra in modes.items()}
    try:
        for server in servers.values():
            await server.wait_serving()
        for clients in counts:
            for mode, server in servers.items():
                results[(mode, clients)] = await load(server.address, clients, args.seconds, texts)
    finally:
        for server in servers.values():
            server.stop()

    print(f"{'clients':>7} {'merging':>7} {'sent/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'queue ms':>8} "
          f"{'compute ms':>10} {'tok/sent':>8} {'client us/call':>14}")
    for clients in counts:
        for mode in modes:
            r = results[(mode, clients)]
            print(f"{clients:>7} {mode:>7} {r['rate']:>8.0f} {r['p50']:>7.2f} {r['p99']:>7.2f} {r['queue']:>8.2f} "
                  f"{r['compute']:>10.2f} {r['tokens']:>8.1f} {r['client_us']:>14.0f}")
        on, off = results[("on", clients)], results[("off", clients)]
        print(f"{clients:>7} {'on/off':>7} {on['rate'] / off['rate']:>7.2f}x {on['p50'] / off['p50']:>6.2f}x "
              f"{on['p99'] / off['p99']:>6.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
