"""Bulk embedding over the bidirectional EmbedStream with the asyncio client.

    python examples/async_stream.py [--address 127.0.0.1:50051] < lines.txt
"""
import argparse
import asyncio
import sys

import rosetta


async def main(address: str, batch: int) -> None:
    lines = [line.strip() for line in sys.stdin if line.strip()]
    requests = [rosetta.embed_request(lines[i:i + batch], request_id=str(i)) for i in range(0, len(lines), batch)]
    async with rosetta.AsyncClient(address, timeout=300) as client:
        async for result in client.embed_stream(requests):
            start = int(result.request_id)
            for k, e in enumerate(result.embeddings):
                status = "ok" if e.ok else f"{e.code.name}: {e.message}"
                print(f"{start + k}\t{status}\t{e.float32[:4]}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", default="127.0.0.1:50051")
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    asyncio.run(main(args.address, args.batch))
