"""Media that once cost the server memory or got a wrong answer (issue 24, items 1, 6, 7 and 10), through the real
server:

- an image of extreme aspect ratio (1,000,000x1, under the pixel limit) costs what an image of as many pixels
  in a normal shape costs: the server's peak resident set (VmHWM, reset through /proc/<pid>/clear_refs) grows
  by at most 64 MiB more for three such images than for three 1000x1000 ones (one 1,000,000x1 PNG took it
  from 233 MiB to 9 GiB before);
- complete MP3s of every layout decode (Tests/Fixtures/audio/mp3, made by models/audio_clips.py --mp3);
- float WAVs of NaN or infinity are INVALID_ARGUMENT naming non-finite samples, for both audio models;
- a WAV whose header says 0 Hz is refused in words, not with libsndfile's "SF_INFO struct incomplete".
Needs the models (models/fetch); fails without them unless ROSETTA_SKIP_MODEL_TESTS=1.
"""
import math
import struct
import zlib

import grpc
import pytest

import rosetta
from conftest import REPO_ROOT, _model_tests_skipped
from rosetta.v1 import common_pb2

pytestmark = pytest.mark.model

MP3 = REPO_ROOT / "Tests" / "Fixtures" / "audio" / "mp3"
GOLDEN_FLAC = REPO_ROOT / "Tests" / "Fixtures" / "audio" / "golden" / "dog-en-us.flac"
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


def wav(samples, rate, float32=True):
    """A mono WAV in memory: 32-bit IEEE float samples as given (NaN, infinity), or 16-bit PCM."""
    fmt, bits = (3, 32) if float32 else (1, 16)
    data = struct.pack(f"<{len(samples)}{'f' if float32 else 'h'}",
                       *(samples if float32 else [int(max(-1, min(1, s)) * 32767) for s in samples]))
    block = bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" +
            b"fmt " + struct.pack("<IHHIIHH", 16, fmt, 1, rate, rate * block, block, bits) +
            b"data" + struct.pack("<I", len(data)) + data)


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


@pytest.fixture(scope="module")
def audio_models(info):
    models = [m for m in info.models if common_pb2.MODALITY_AUDIO in m.modalities]
    ids = {m.id for m in models}
    if "aisfx" not in ids or len(models) < 2:
        msg = f"the server needs whisper-tiny-en and aisfx for audio (has {sorted(ids)}): run models/fetch"
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


def test_complete_mp3s_decode(client, audio_models):
    """Every layout of MP3 LAME writes (CBR, Info and Xing headers, ID3v1/v2 tags, padded frames) embeds. At 32-48
    kbps Whisper tiny.en hears the espeak-ng clip ("a dog is barking in the yard") less well than in the FLAC, so
    the speech model's check is the last word; aiSFX's vector stays near the FLAC's."""
    files = sorted(MP3.glob("*.mp3"))
    assert len(files) == 6
    for model in audio_models:
        original = client.embed([rosetta.Audio.from_path(GOLDEN_FLAC)], model=model.id)
        original.raise_for_status()
        result = client.embed([rosetta.Audio.from_path(p) for p in files], model=model.id)
        raws = sorted(result.raw.results, key=lambda r: r.index)
        for path, e, raw in zip(files, result.embeddings, raws):
            assert e.ok, f"{model.id} {path.name}: {e.message}"
            cosine = sum(x * y for x, y in zip(e.vector, original.embeddings[0].vector))
            print(f"\n[mp3] {model.id} {path.name}: cosine {cosine:.3f} to the FLAC's vector; transcript {raw.transcript!r}")
            if model.id == "aisfx":
                assert cosine > 0.9, f"{path.name}: cosine {cosine:.3f} to the FLAC's vector"
            else:
                assert "yard" in raw.transcript.lower(), f"{path.name}: transcript {raw.transcript!r}"


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_audio_is_refused(client, audio_models, value):
    samples = [0.25 * math.sin(i / 10) for i in range(16_000)]
    samples[4_000] = value
    for model in audio_models:
        e = client.embed([rosetta.Audio(wav(samples, 16_000))], model=model.id).embeddings[0]
        assert e.code == grpc.StatusCode.INVALID_ARGUMENT, (model.id, e.code, e.message)
        assert e.message.startswith("audio holds non-finite samples (NaN or infinity), the first at 0.250 s"), \
            (model.id, e.message)


def test_sample_rate_zero_is_said_in_words(client, audio_models):
    for model in audio_models:
        e = client.embed([rosetta.Audio(wav([0.1] * 100, 0, float32=False))], model=model.id).embeddings[0]
        assert e.code == grpc.StatusCode.INVALID_ARGUMENT, (model.id, e.code, e.message)
        assert e.message == ("audio header declares a sample rate of 0 Hz, which no audio has (a broken header): "
                             "write the file again with its real sample rate, within 4000...192000 Hz"), e.message
