"""Every input limit of issue #10, configured low on a server of its own and checked through the real server:
Info reports each value, a request at the limit passes, one past it gets RESOURCE_EXHAUSTED or INVALID_ARGUMENT
with a message naming the value and the limit, and a stream of violations leaves other clients' calls unharmed."""
import struct
import threading
import time
import zlib

import grpc
import pytest

import rosetta

from conftest import ServerProcess, startup_timeout

LIMITS = {
    "max-message-bytes": 300_000, "max-batch-items": 4, "max-text-chars": 3000, "max-image-pixels": 10_000,
    "max-audio-seconds": 2, "max-audio-sample-rate": 16_000, "max-top-k": 5, "max-metadata-bytes": 64,
    "max-metadata-keys": 3, "max-id-bytes": 16, "max-collections": 2,
}


@pytest.fixture(scope="module")
def tight():
    args = [a for key, value in LIMITS.items() for a in (f"--{key}", str(value))]
    s = ServerProcess("limits", args).start(startup_timeout())
    yield s
    s.stop()
    s.remove_data()


@pytest.fixture(scope="module")
def c(tight):
    with tight.client() as client:
        yield client


def png(width, height):
    """A valid grey PNG (its pixels compress to almost nothing, so only the header is big)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def wav(seconds, rate):
    data = b"\0\0" * int(rate * seconds)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", len(data)) + data)


def refused(call, code):
    with pytest.raises(rosetta.RosettaError) as ei:
        call()
    assert ei.value.code == code, ei.value
    return ei.value.message


def test_info_reports_every_limit(c):
    limits = c.info().limits
    reported = {
        "max-message-bytes": limits.max_message_bytes, "max-batch-items": limits.max_batch_items,
        "max-text-chars": limits.max_text_chars, "max-image-pixels": limits.max_image_pixels,
        "max-audio-seconds": limits.max_audio_seconds, "max-audio-sample-rate": limits.max_audio_sample_rate,
        "max-top-k": limits.max_top_k, "max-metadata-bytes": limits.max_metadata_bytes,
        "max-metadata-keys": limits.max_metadata_keys, "max-id-bytes": limits.max_id_bytes,
        "max-collections": limits.max_collections,
    }
    assert reported == LIMITS
    # Tokens: each model's own maximum.
    assert all(m.max_tokens > 0 for m in c.info().models if "text" in str(m.modalities) or m.max_tokens)


def test_message_size(c):
    message = refused(lambda: c.embed([rosetta.Image(b"\0" * 400_000, mime_type="image/png")]),
                      grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert "300000" in message or "larger than max" in message, message


def test_items_per_request(c, text_model):
    assert all(e.ok for e in c.embed(["a", "b", "c", "d"]).embeddings)
    message = refused(lambda: c.embed(["a", "b", "c", "d", "e"]), grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert "the number of inputs is 5, over the server's limit of 4" in message


def test_text_characters(c, text_model):
    res = c.embed(["é" * 3001, "ok"], truncate="end")
    assert res.embeddings[0].code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "text length in characters is 3001, over the server's limit of 3000" in res.embeddings[0].message
    assert res.embeddings[1].ok


def test_text_tokens(c, text_model):
    text = "word " * 590  # 2950 characters: under the character limit, over the model's token limit
    res = c.embed([text], truncate="none")
    assert res.embeddings[0].code == grpc.StatusCode.INVALID_ARGUMENT
    assert f"over the limit of {text_model.max_tokens}" in res.embeddings[0].message
    cut = c.embed([text], truncate="end").embeddings[0]
    assert cut.ok and cut.truncated and cut.tokens == text_model.max_tokens


def test_image_pixels_from_the_header(c, text_model):
    res = c.embed([rosetta.Image(png(100, 100)), rosetta.Image(png(100, 101))])
    assert res.embeddings[0].ok, res.embeddings[0].message
    assert res.embeddings[1].code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "10100" in res.embeddings[1].message and "10000" in res.embeddings[1].message


def test_audio_duration_and_sample_rate(c, text_model):
    res = c.embed([rosetta.Audio(wav(3, 16_000)), rosetta.Audio(wav(0.5, 44_100)), rosetta.Audio(wav(1, 16_000))])
    long, fast, fine = res.embeddings
    assert long.code == grpc.StatusCode.RESOURCE_EXHAUSTED and "over the limit" in long.message, long.message
    assert fast.code == grpc.StatusCode.INVALID_ARGUMENT and "44100" in fast.message and "16000" in fast.message
    # 1 s of silence: within every limit (it has no words, so speech gives no vector, but not for a limit).
    assert fine.code not in (grpc.StatusCode.RESOURCE_EXHAUSTED,) and "limit" not in fine.message


def test_top_k_and_ids_per_get(c):
    c.create_collection("limits-k", dimensions=2)
    try:
        c.upsert("limits-k", [{"id": str(i), "vector": [1.0, float(i)]} for i in range(4)])
        assert len(c.search("limits-k", vector=[1.0, 0.0], top_k=5)) == 4
        message = refused(lambda: c.search("limits-k", vector=[1.0, 0.0], top_k=6), grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert "top_k is 6, over the server's limit of 5" in message
        refused(lambda: c.get("limits-k", [str(i) for i in range(6)]), grpc.StatusCode.RESOURCE_EXHAUSTED)
    finally:
        c.delete_collection("limits-k")


def test_metadata_keys_bytes_and_id_length(c):
    c.create_collection("limits-m", dimensions=2)
    try:
        items = [
            {"id": "x" * 16, "vector": [1.0, 0.0], "metadata": {"a": 1, "b": 2, "c": 3}},  # at every limit
            {"id": "four-keys", "vector": [1.0, 0.0], "metadata": {"a": 1, "b": 2, "c": 3, "d": 4}},
            {"id": "big", "vector": [1.0, 0.0], "metadata": {"k": "v" * 64}},
            {"id": "x" * 17, "vector": [1.0, 0.0]},
        ]
        resp = c.upsert("limits-m", items, check=False)
        codes = [grpc.StatusCode.OK if r.status.code == 0 else rosetta.status_code_from_number(r.status.code)
                 for r in resp.results]
        assert codes == [grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.RESOURCE_EXHAUSTED,
                         grpc.StatusCode.INVALID_ARGUMENT], resp
        messages = [r.status.message for r in resp.results]
        assert "number of metadata keys is 4, over the server's limit of 3" in messages[1]
        assert "metadata size in bytes is 65, over the server's limit of 64" in messages[2]
        assert "id of 17 bytes, over the server's limit of 16" in messages[3]
        found, missing = c.get("limits-m", ["x" * 16, "four-keys"])
        assert [i.id for i in found] == ["x" * 16] and missing == ["four-keys"]
    finally:
        c.delete_collection("limits-m")


def test_collection_count(c):
    existing = len(c.list_collections())
    names = [f"limits-n{i}" for i in range(LIMITS["max-collections"] - existing)]
    try:
        for name in names:
            c.create_collection(name, dimensions=2)
        message = refused(lambda: c.create_collection("limits-over", dimensions=2), grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert "2" in message
    finally:
        for name in names:
            c.delete_collection(name)


def test_violations_leave_other_requests_unaffected(tight, text_model):
    """Four clients send nothing but over-limit requests while one client embeds normally: every normal call
    succeeds with the same vectors as on a quiet server, and every violation gets its limit status."""
    with tight.client() as quiet:
        expected = quiet.embed(["a calm request", "another one"]).vectors
    stop = threading.Event()
    wrong, violations = [], [0]
    attacks = [
        (lambda cl: cl.embed(["x"] * 5), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (lambda cl: cl.embed([rosetta.Image(b"\0" * 400_000, mime_type="image/png")]), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (lambda cl: cl.embed([rosetta.Image(png(400, 400))]).raise_for_status(), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (lambda cl: cl.embed([rosetta.Audio(wav(30, 16_000))]).raise_for_status(), grpc.StatusCode.RESOURCE_EXHAUSTED),
    ]

    def attack(call, code):
        with tight.client() as cl:
            while not stop.is_set():
                try:
                    call(cl)
                    wrong.append("an over-limit request succeeded")
                except rosetta.RosettaError as e:
                    if e.code != code:
                        wrong.append(f"{e.code}: {e.message}")
                violations[0] += 1

    threads = [threading.Thread(target=attack, args=a) for a in attacks]
    for t in threads:
        t.start()
    try:
        with tight.client() as cl:
            deadline = time.monotonic() + 4
            calls = 0
            while time.monotonic() < deadline:
                got = cl.embed(["a calm request", "another one"]).vectors
                for g, e in zip(got, expected):
                    assert g == pytest.approx(e, abs=1e-6)
                calls += 1
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not wrong, wrong[:5]
    assert calls > 0 and violations[0] > 20, (calls, violations)
    with tight.client() as cl:
        assert cl.health("") == "SERVING"
    assert tight.proc.poll() is None
