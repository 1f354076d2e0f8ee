#!/usr/bin/env python3
"""gRPC Embed latency and throughput: rosetta-server vs a bare grpc++ echo server, in one run.

Both servers run side by side on loopback; loadgen (C++, grpc++ callback client, each caller its own connection
and one call in flight) drives each with 1, 8 and 64 closed-loop clients sending one 16-token sentence per request
(bench/rpc/sentences.txt: 64 fixed sentences of 14 word-pieces + [CLS]/[SEP]), and 1 client at batch 32. The
configurations run `--rounds` times, servers interleaved; each server's round with the lowest p50 is kept.

Rosetta's answers carry usage.queue_time_ns (waiting for the inference queue / a batch) and compute_time_ns (the
forward pass); per request, RPC overhead = end-to-end latency - queue - compute: the transport, grpc++, the Swift
RPC layer, protobuf decode/encode and the service's own work around the model. The echo server (echo_server.cc)
does no model work, so its whole latency is overhead; the target of issue #9 is Rosetta's overhead p50 <= 1.2x
the echo server's latency p50. The echo server at 64 clients also shows the load generator's own ceiling (both
share the machine's cores with the server under test).

With a server that has dynamic batching (--batch-max-requests), Rosetta runs twice: batching on (defaults) and
off (--batch-max-requests 1).

Usage (`make bench-rpc` builds and runs it):
  bench/rpc/build
  python3 bench/rpc/bench.py --server .build/release/rosetta-server --models-dir models [--seconds 4] [--rounds 2]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import markdown  # noqa: E402

TOOLS = os.path.join(os.path.dirname(HERE), ".build-cpp")
TARGET_RATIO = 1.2


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--server", default=".build/release/rosetta-server")
    p.add_argument("--models-dir", default="models")
    p.add_argument("--seconds", type=float, default=4.0, help="measured seconds per run (after 1 s of warm-up)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--configs", default="1x1,8x1,64x1,1x32", help="clients x batch, comma-separated")
    p.add_argument("--markdown", default="", help="append a section with the table to this file")
    return p.parse_args()


def start(cmd, marker, log):
    """Starts a server whose stdout announces '<marker> host:port'; returns (process, address)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
    for line in proc.stdout:
        if line.startswith(marker):
            return proc, line.split()[-1]
    raise SystemExit(f"{cmd[0]} exited before listening; see {log}")


def loadgen(address, clients, batch, seconds):
    cmd = [os.path.join(TOOLS, "loadgen"), "--target", address, "--sentences", os.path.join(HERE, "sentences.txt"),
           "--clients", str(clients), "--batch", str(batch), "--seconds", str(seconds), "--warmup", "1"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout)
    if result["errors"] or result["requests"] == 0:
        raise SystemExit(f"loadgen against {address}: {result['errors']} errors: {out.stderr.strip()}")
    return result


def has_batching(server):
    return "--batch-max-requests" in subprocess.run([server, "--help"], capture_output=True, text=True).stdout


def main():
    args = parse_args()
    configs = [tuple(int(x) for x in c.split("x")) for c in args.configs.split(",")]
    logs = os.path.join(os.path.dirname(HERE), ".build-cpp", "logs")
    os.makedirs(logs, exist_ok=True)
    base = [args.server, "--address", "127.0.0.1:0", "--models-dir", args.models_dir, "--in-memory",
            "--log-level", "warning"]
    variants = {"Rosetta": base}
    if has_batching(args.server):
        variants = {"Rosetta (batching on)": base, "Rosetta (batching off)": base + ["--batch-max-requests", "1"]}
    procs = []
    try:
        echo, echo_address = start([os.path.join(TOOLS, "echo-server")], "echo-server listening on",
                                   os.path.join(logs, "echo-server.log"))
        procs.append(echo)
        addresses = {"echo": echo_address}
        for name, cmd in variants.items():
            proc, address = start(cmd, "rosetta-server listening on", os.path.join(logs, f"{name}.log".replace(" ", "_")))
            procs.append(proc)
            addresses[name] = address
        load = os.getloadavg()[0]
        best = {}
        for clients, batch in configs:
            for _ in range(args.rounds):
                for name, address in addresses.items():
                    r = loadgen(address, clients, batch, args.seconds)
                    key = (name, clients, batch)
                    if key not in best or r["latency_p50_us"] < best[key]["latency_p50_us"]:
                        best[key] = r
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
    report(args, configs, list(variants), best, load)


def report(args, configs, variants, best, load):
    env = " ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
    intro = (f"Embed over loopback, one 16-token sentence per request (batch 32: 32 of them); loadgen = grpc++ "
             f"callback client, one connection per client; {args.seconds:g} s measured after 1 s warm-up, best of "
             f"{args.rounds} interleaved rounds; latencies in µs; load average before: {load:.1f}; {env}.\n"
             f"overhead = latency - usage.queue_time_ns - usage.compute_time_ns (per request); ratios are Rosetta / "
             f"bare grpc++ echo server.")
    headers = ["server", "clients", "batch", "p50", "p99", "RPS", "queue p50", "compute p50", "overhead p50",
               "overhead p99", "p50 / echo", "overhead p50 / echo", "client CPU µs/req"]
    rows, targets = [], []
    for clients, batch in configs:
        echo = best[("echo", clients, batch)]
        rows.append(["grpc++ echo", clients, batch, f"{echo['latency_p50_us']:.0f}", f"{echo['latency_p99_us']:.0f}",
                     f"{echo['rps']:.0f}", "–", "–", f"{echo['overhead_p50_us']:.0f}", f"{echo['overhead_p99_us']:.0f}",
                     "1.00", "1.00", f"{echo['client_cpu_us_per_request']:.0f}"])
        for name in variants:
            r = best[(name, clients, batch)]
            raw = r["latency_p50_us"] / echo["latency_p50_us"]
            over = r["overhead_p50_us"] / echo["latency_p50_us"]
            rows.append([name, clients, batch, f"{r['latency_p50_us']:.0f}", f"{r['latency_p99_us']:.0f}",
                         f"{r['rps']:.0f}", f"{r['queue_p50_us']:.0f}", f"{r['compute_p50_us']:.0f}",
                         f"{r['overhead_p50_us']:.0f}", f"{r['overhead_p99_us']:.0f}", f"{raw:.2f}", f"{over:.2f}",
                         f"{r['client_cpu_us_per_request']:.0f}"])
            targets.append(markdown.target(
                f"Embed RPC overhead p50 <= {TARGET_RATIO}x bare grpc++ ({name}, {clients} client(s), batch {batch})",
                over <= TARGET_RATIO,
                f"{r['overhead_p50_us']:.0f} µs vs {echo['latency_p50_us']:.0f} µs = {over:.2f}x"))
    ceiling = max((best[("echo", c, b)] for c, b in configs if b == 1), key=lambda r: r["rps"])
    note = (f"Load generator ceiling: {ceiling['rps']:.0f} requests/s against the echo server at {ceiling['clients']} "
            f"clients ({ceiling['client_cpu_us_per_request']:.0f} µs of client CPU per request, on the same cores as "
            f"the server).")
    print(intro)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    for row in [headers] + rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths)))
    print(note)
    print("\n".join(targets))
    markdown.append(args.markdown, "gRPC Embed: Rosetta vs bare grpc++ (bench/rpc)",
                    "\n\n".join([intro, markdown.table(headers, rows), note, "\n".join(targets)]))


if __name__ == "__main__":
    sys.exit(main())
