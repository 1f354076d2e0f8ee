"""Media that once cost the server memory or got a wrong answer (issue 24, item 1), through the real server:

- an image of extreme aspect ratio (1,000,000x1, under the pixel limit) costs what an image of as many pixels
  in a normal shape costs: the server's peak resident set (VmHWM, reset through /proc/<pid>/clear_refs) grows
  by at most 64 MiB more for three such images than for three 1000x1000 ones (one 1,000,000x1 PNG took it
  from 233 MiB to 9 GiB before).
Needs the models (models/fetch); fails without them unless ROSETTA_SKIP_MODEL_TESTS=1.
"""
import struct
import zlib

import grpc
import pytest

import rosetta
from conftest import _model_tests_skipped
from rosetta.v1 import common_pb2

pytestmark = pytest.mark.model

# How much more the peak may grow for the extreme shapes than for the same pixels in a square (bytes).
EXTRA_PEAK_BOUND = 64 << 20


def png(width, height):
    """An RGB gradient PNG of width x height, compressed (a million pixels take a few KB)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    row = bytes((x * 7 + c * 50) & 0xFF for x in range(width) for c in range(3))
    shifts = [bytes((i + s) & 0xFF for i in range(256)) for s in range(256)]
    raw = b"".join(b"\x00" + row.translate(shifts[y & 0xFF]) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def memory(pid):
    """(VmRSS, VmHWM) of a process, in bytes."""
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def peak_growth(server, call):
    """Bytes the server's resident set grew by at its peak while `call` ran (VmHWM reset first)."""
    with open(f"/proc/{server.proc.pid}/clear_refs", "w") as f:
        f.write("5")
    start, _ = memory(server.proc.pid)
    call()
    return memory(server.proc.pid)[1] - start


@pytest.fixture(scope="module")
def image_models(info):
    models = [m for m in info.models if common_pb2.MODALITY_IMAGE in m.modalities]
    if not models:
        msg = "no model takes images: run models/fetch to install efficientnet-lite0"
        if _model_tests_skipped():
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return models


@pytest.mark.parametrize("pooling", [None, "MEAN"])  # MEAN: ConSE also classifies the four corner regions
def test_extreme_aspect_ratios_cost_what_their_pixels_cost(server, client, image_models, pooling):
    square = [rosetta.Image(png(1000, 1000))] * 3
    extreme = [rosetta.Image(png(1_000_000, 1)), rosetta.Image(png(1, 1_000_000)), rosetta.Image(png(100_000, 1))]
    for model in image_models:
        options = {"model": model.id} if pooling is None else {"model": model.id, "pooling": pooling}
        client.embed(square, **options).raise_for_status()  # warm-up: the forward's scratch exists
        baseline = peak_growth(server, lambda: client.embed(square, timeout=120, **options).raise_for_status())
        result = []
        grown = peak_growth(server, lambda: result.append(client.embed(extreme, timeout=120, **options)))
        print(f"\n[images] {model.id} pooling={pooling}: peak RSS growth {grown >> 20} MiB for 1e6x1, 1x1e6, 1e5x1 "
              f"vs {baseline >> 20} MiB for three 1000x1000 images")
        assert [e.code for e in result[0].embeddings] == [grpc.StatusCode.OK] * 3, \
            [e.message for e in result[0].embeddings]
        assert grown < baseline + EXTRA_PEAK_BOUND, f"{grown >> 20} MiB vs {baseline >> 20} MiB for square images"
