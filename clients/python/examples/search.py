"""Store a few texts in a collection and search them (Index service).

    python examples/search.py [--address 127.0.0.1:50051] "someone having lunch"
"""
import argparse

import rosetta
from rosetta import filters as F


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("query", nargs="?", default="someone having lunch")
    ap.add_argument("--address", default="127.0.0.1:50051")
    ap.add_argument("--collection", default="example-notes")
    args = ap.parse_args()

    with rosetta.Client(args.address, timeout=30) as client:
        if args.collection not in [c.name for c in client.list_collections()]:
            client.create_collection(args.collection, model="all-minilm-l6-v2")
        client.upsert(args.collection, [
            rosetta.Item(id="n1", text="A man is eating food.", metadata={"lang": "en", "year": 2021}),
            rosetta.Item(id="n2", text="The quick brown fox jumps over the lazy dog.", metadata={"lang": "en", "year": 2019}),
            rosetta.Item(id="n3", text="Le marché boursier a chuté aujourd'hui.", metadata={"lang": "fr", "year": 2024}),
        ])
        for hit in client.search(args.collection, text=args.query, top_k=3):
            print(f"{hit.score:.3f}  {hit.id}  {hit.metadata}")
        print("only 2020 and later, English:")
        for hit in client.search(args.collection, text=args.query, filter=F.all_({"lang": "en"}, F.range_("year", gte=2020))):
            print(f"{hit.score:.3f}  {hit.id}")


if __name__ == "__main__":
    main()
