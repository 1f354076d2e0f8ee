#!/usr/bin/env python3
"""Exact and quantised vector search: Rosetta's Index (Swift, OpenBLAS SGEMV/SGEMM) vs FAISS IndexFlatIP, one run.

For each (n, d): n random unit vectors (Gaussian, normalised) and --queries random unit queries, the same
files for both. Rosetta runs through bench/search/swift (rosetta-bench-search: the Index module's LocalIndex,
as the server uses it, without RPC); FAISS runs IndexFlatIP (faiss-cpu from PyPI) with the same thread count.
Each measurement runs for --seconds after a warm-up; QPS = queries answered per second (batch 32 = 32 queries
per call). Reported: QPS for batch 1 and 32 and Rosetta/FAISS ratios; exact-result agreement with FAISS;
recall@k of int8 and binary(+int8 re-rank) storage against exact float32; bytes per vector.

pgvector (pgvector_bench.py): on the same vectors, for n = --pgvector-size (100k; bounded in time) at the first
--dims, and on the real set: PostgreSQL + pgvector HNSW recall@k against the exact top-k and QPS at batch 1 for
several ef_search values, next to Rosetta's exact float32 QPS (the PostgreSQL index backend's search).

Random vectors are the worst case for binary codes (no structure). With --server, a real set is added:
--real-count sentences generated from templates and embedded by rosetta-server (all-MiniLM-L6-v2, 384-d),
where the binary recall that matters is measured, for several re-rank depths.

Usage (`make bench-search` does all of it):
  bench/search/setup-venv
  swift build -c release --product rosetta-bench-search --product rosetta-server
  bench/search/.venv/bin/python bench/search/bench.py --swift-bin .build/release/rosetta-bench-search \
      --server .build/release/rosetta-server --models-dir models
"""
import argparse
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

from pgvector_bench import pgvector_bench, print_pgvector


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--swift-bin", default=".build/release/rosetta-bench-search")
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--dims", default="384,512")
    p.add_argument("--queries", type=int, default=320)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--server", default="", help="rosetta-server binary: adds the real-embedding recall set")
    p.add_argument("--models-dir", default="models")
    p.add_argument("--real-count", type=int, default=20000)
    p.add_argument("--skip-synthetic", action="store_true")
    p.add_argument("--pgvector-size", type=int, default=100_000,
                   help="n of the synthetic set that pgvector HNSW also runs on (at the first --dims); 0: none")
    p.add_argument("--skip-pgvector", action="store_true")
    p.add_argument("--markdown", default="", help="append a section with the tables to this file")
    return p.parse_args()


def unit(rng, n, d):
    x = rng.standard_normal((n, d), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def rate(seconds, body):
    body()
    start = time.perf_counter()
    calls = 0
    while True:
        body()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def run_swift(args, base, queries, storages="float32,int8,binary", rerank=10, batches="1,32", ids=True,
              min_candidates=100):
    with tempfile.TemporaryDirectory() as tmp:
        bpath, qpath, ipath = (os.path.join(tmp, f) for f in ("base.f32", "queries.f32", "ids.i32"))
        base.astype("<f4").tofile(bpath)
        queries.astype("<f4").tofile(qpath)
        cmd = [args.swift_bin, "--vectors", bpath, "--queries", qpath, "--dimensions", str(base.shape[1]),
               "--k", str(args.k), "--batches", batches, "--seconds", str(args.seconds),
               "--threads", str(args.threads), "--storages", storages, "--rerank", str(rerank),
               "--min-candidates", str(min_candidates)]
        if ids:
            cmd += ["--ids-out", ipath]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        report = json.loads(out.stdout)
        if ids:
            report["exact_ids"] = np.fromfile(ipath, dtype="<i4").reshape(len(queries), args.k)
        return report


def faiss_bench(args, base, queries):
    """FAISS at its best thread count for each batch size: on a busy 2-core machine its OpenMP threads can
    lose to one thread (spinning workers), so both 1 and --threads are measured and the faster is kept."""
    import faiss
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    _, ids = index.search(queries, args.k)
    out = {"exact_ids": ids}
    for batch in (1, 32):
        groups = [queries[i:i + batch] for i in range(0, len(queries) - batch + 1, batch)]
        best = (0.0, 0)
        for threads in sorted({1, args.threads}):
            faiss.omp_set_num_threads(threads)
            it = itertools.cycle(groups)
            best = max(best, (rate(args.seconds, lambda: index.search(next(it), args.k)) * batch, threads))
        out[f"qps_batch_{batch}"], out[f"threads_batch_{batch}"] = best
    out["bytes_per_vector"] = 4 * base.shape[1]
    return out


def agreement(a, b):
    return float(np.mean([len(set(x) & set(y)) / len(y) for x, y in zip(a, b)]))


def synthetic_bench(args):
    rng = np.random.default_rng(7)
    rows = []
    for d in (int(x) for x in args.dims.split(",")):
        for n in (int(x) for x in args.sizes.split(",")):
            base = unit(rng, n, d)
            # Fewer queries at 1M: recall is measured over all of them, one exact scan (~1.5 GB) each.
            queries = unit(rng, args.queries if n <= 200_000 else max(64, args.queries // 5), d)
            print(f"\n== n={n:,} d={d}: {n * d * 4 / 2**20:,.0f} MiB of float32 ==", flush=True)
            swift = run_swift(args, base, queries)
            fa = faiss_bench(args, base, queries)
            print(f"exact top-{args.k} agreement with FAISS: {agreement(swift['exact_ids'], fa['exact_ids']):.4f}")
            print(f"{'':22}{'QPS b=1':>10}{'x FAISS':>9}{'QPS b=32':>11}{'x FAISS':>9}{'recall@k':>10}{'B/vector':>10}")
            print(f"{'FAISS IndexFlatIP':22}{fa['qps_batch_1']:>10.1f}{'(t=%d)' % fa['threads_batch_1']:>9}"
                  f"{fa['qps_batch_32']:>11.1f}{'(t=%d)' % fa['threads_batch_32']:>9}"
                  f"{1.0:>10.3f}{fa['bytes_per_vector']:>10}")
            for r in swift["results"]:
                print(f"{'Rosetta ' + r['storage']:22}{r['qps_batch_1']:>10.1f}{r['qps_batch_1'] / fa['qps_batch_1']:>9.2f}"
                      f"{r['qps_batch_32']:>11.1f}{r['qps_batch_32'] / fa['qps_batch_32']:>9.2f}"
                      f"{r.get('recall_at_k', 1.0):>10.3f}{r['bytes_per_vector']:>10}")
            f32 = next(r for r in swift["results"] if r["storage"] == "float32")
            binary = next((r for r in swift["results"] if r["storage"] == "binary"), None)
            if binary:
                print(f"binary+rerank vs float32 exact: {binary['qps_batch_1'] / f32['qps_batch_1']:.2f}x at batch 1")
            row = {"n": n, "d": d, "rosetta": swift["results"],
                   "faiss": {k: v for k, v in fa.items() if k != "exact_ids"}}
            if not args.skip_pgvector and n == args.pgvector_size and d == int(args.dims.split(",")[0]):
                pg = pgvector_bench(base, queries, swift["exact_ids"], args.k, lambda body: rate(args.seconds, body))
                print_pgvector(pg, f32["qps_batch_1"], args.k)
                row["pgvector"] = pg
            rows.append(row)
            del base
    return rows


# --------------------------------------------------------------------------- real embeddings (all-MiniLM-L6-v2)

SUBJECTS = ["a dog", "a cat", "a child", "an old man", "a woman", "two friends", "a chef", "a cyclist", "a horse",
            "a musician", "a student", "a pilot", "a farmer", "a robot", "a bird", "a team of players"]
VERBS = ["is running", "is sleeping", "is eating", "is reading", "is painting", "is singing", "is waiting",
         "is dancing", "is swimming", "is laughing", "is repairing a bike", "is cooking dinner", "is playing chess"]
PLACES = ["in the park", "on the beach", "in a small kitchen", "at the train station", "in the mountains",
          "under the rain", "in a crowded market", "on a boat", "in the library", "at night in the city",
          "in a snowy forest", "on a rooftop", "in the desert", "next to a river"]
DETAILS = ["", "while the sun sets", "with a red umbrella", "and looks happy", "in the early morning",
           "during a storm", "with a cup of coffee", "surrounded by tourists", "wearing a blue jacket"]


def sentences(count, seed=3):
    rng = random.Random(seed)
    combos = list(itertools.product(SUBJECTS, VERBS, PLACES, DETAILS))
    rng.shuffle(combos)
    return [" ".join(x for x in c if x) + "." for c in combos[:count]]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embed_with_server(args, texts):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python", "src"))
    import rosetta
    address = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen([args.server, "--address", address, "--models-dir", args.models_dir, "--in-memory"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = rosetta.Client(address, timeout=600)
        deadline = time.time() + 120
        while True:
            try:
                if client.health("") == "SERVING":
                    break
            except rosetta.RosettaError:
                pass
            if time.time() > deadline:
                raise RuntimeError("rosetta-server did not start")
            time.sleep(0.3)
        vectors = []
        for i in range(0, len(texts), 128):
            vectors += client.embed_text(texts[i:i + 128])
        return np.asarray(vectors, dtype=np.float32)
    finally:
        proc.terminate()
        proc.wait(10)


def real_bench(args):
    texts = sentences(args.real_count + 200)
    print(f"\n== real set: {len(texts):,} template sentences embedded by rosetta-server (all-MiniLM-L6-v2) ==",
          flush=True)
    cache = os.path.join(os.path.dirname(os.path.abspath(__file__)), f".real-{len(texts)}.npy")
    start = time.perf_counter()
    if os.path.exists(cache):
        vectors = np.load(cache)
    else:
        vectors = embed_with_server(args, texts)
        np.save(cache, vectors)
    print(f"embedded in {time.perf_counter() - start:.1f} s; {len(vectors) - 200:,} stored, 200 held-out queries")
    base, queries = vectors[:-200], vectors[-200:]
    out = []
    print(f"{'storage':16}{'candidates':>12}{'recall@k':>10}{'QPS b=1':>10}{'B/vector':>10}")
    # Binary: re-rank exactly k * factor Hamming candidates (the server default is max(10k, 100)).
    runs = [("float32", 10), ("int8", 10)] + [("binary", f) for f in (1, 2, 5, 10, 30)]
    for storage, factor in runs:
        storages = storage if storage == "float32" else f"float32,{storage}"
        r = run_swift(args, base, queries, storages=storages, rerank=factor, batches="1", ids=False,
                      min_candidates=1)
        result = r["results"][-1]
        candidates = str(args.k * factor) if storage == "binary" else ""
        print(f"{storage:16}{candidates:>12}{result.get('recall_at_k', 1.0):>10.3f}"
              f"{result['qps_batch_1']:>10.1f}{result['bytes_per_vector']:>10}", flush=True)
        out.append({"storage": storage, "candidates": candidates, **result})
    if not args.skip_pgvector:
        exact = np.argsort(-(queries @ base.T), axis=1)[:, :args.k]
        pg = pgvector_bench(base, queries, exact, args.k, lambda body: rate(args.seconds, body))
        print_pgvector(pg, out[0]["qps_batch_1"], args.k)
        out.append({"storage": "pgvector-hnsw", **pg})
    return out


def main():
    args = parse_args()
    report = {"threads": args.threads, "k": args.k}
    if not args.skip_synthetic:
        report["synthetic"] = synthetic_bench(args)
    if args.server:
        report["real"] = real_bench(args)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "last-run.json"), "w") as f:
        json.dump(report, f, indent=1)
    if args.markdown:
        write_markdown(args.markdown, report)


def write_markdown(path, report):
    """Appends the synthetic table (QPS and ratios to FAISS IndexFlatIP) and the target lines to `path`."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import markdown
    rows, targets = [], []
    for row in report.get("synthetic", []):
        fa = row["faiss"]
        for r in row["rosetta"]:
            rows.append([f"{row['n']:,} x {row['d']}", r["storage"], f"{r['qps_batch_1']:.1f}", f"{fa['qps_batch_1']:.1f}",
                         f"{r['qps_batch_1'] / fa['qps_batch_1']:.2f}", f"{r['qps_batch_32']:.1f}",
                         f"{fa['qps_batch_32']:.1f}", f"{r['qps_batch_32'] / fa['qps_batch_32']:.2f}",
                         f"{r.get('recall_at_k', 1.0):.3f}"])
            if r["storage"] == "float32":
                for b in (1, 32):
                    ratio = r[f"qps_batch_{b}"] / fa[f"qps_batch_{b}"]
                    targets.append(markdown.target(
                        f"exact search QPS >= FAISS flat ({row['n']:,} x {row['d']}, batch {b})", ratio >= 1.0,
                        f"{r[f'qps_batch_{b}']:.1f} vs {fa[f'qps_batch_{b}']:.1f} QPS = {ratio:.2f}x"))
    headers = ["n x d", "Rosetta storage", "QPS b=1", "FAISS b=1", "ratio", "QPS b=32", "FAISS b=32", "ratio",
               "recall@k"]
    real = [[r["storage"], r.get("candidates", ""), f"{r.get('recall_at_k', 1.0):.3f}", f"{r.get('qps_batch_1', 0):.1f}"]
            for r in report.get("real", []) if r["storage"] != "pgvector-hnsw"]
    body = (f"Top-{report['k']} by inner product on random unit vectors, {report['threads']} threads; Rosetta = "
            f"LocalIndex without RPC, FAISS = IndexFlatIP (faster of 1 and {report['threads']} OpenMP threads); "
            f"load average: {os.getloadavg()[0]:.1f}.\n\n" + markdown.table(headers, rows))
    if real:
        body += ("\n\nReal set (all-MiniLM-L6-v2 sentence embeddings), recall@k against exact float32:\n\n"
                 + markdown.table(["storage", "re-ranked candidates", "recall@k", "QPS b=1"], real))
    markdown.append(path, "Vector search: Rosetta vs FAISS flat (bench/search)", body + "\n\n" + "\n".join(targets))


if __name__ == "__main__":
    main()
