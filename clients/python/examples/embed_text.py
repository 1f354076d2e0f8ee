"""Embed a few sentences and print their similarities.

    python examples/embed_text.py [--address 127.0.0.1:50051] [--tls-root-cert server.crt]
"""
import argparse

import rosetta


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", default="127.0.0.1:50051")
    ap.add_argument("--tls-root-cert", default=None, help="PEM file to trust (TLS); plaintext when omitted")
    ap.add_argument("--dimensions", type=int, default=None, help="Matryoshka truncation")
    args = ap.parse_args()

    sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell today."]
    with rosetta.Client(args.address, tls_root_cert=args.tls_root_cert, timeout=30) as client:
        info = client.info()
        print(f"server {info.version}: " + ", ".join(f"{m.id} ({m.dimensions}-d)" for m in info.models))
        vectors = client.embed_text(sentences, dimensions=args.dimensions)
        for i, a in enumerate(sentences):
            for j in range(i + 1, len(sentences)):
                print(f"{rosetta.cosine(vectors[i], vectors[j]):.3f}  {a!r} ~ {sentences[j]!r}")

        # Compact codes: int8 (v ~= q * scale) and sign bits (Hamming distance ~ angle).
        res = client.embed(sentences, encoding="binary")
        codes = [e.binary for e in res.embeddings]
        print("hamming(0,1) =", rosetta.hamming(codes[0], codes[1]), " hamming(0,2) =", rosetta.hamming(codes[0], codes[2]))


if __name__ == "__main__":
    main()
