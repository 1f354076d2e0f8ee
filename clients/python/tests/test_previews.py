"""Previews (issue 27): a collection created with keep_previews keeps, for each item upserted as a raw input, a
JPEG thumbnail of an image (at most 256 px on its long side), an audio item's transcript and duration, and the
start of a text; Get and Search return them when asked (include_previews), and they survive a restart like
metadata. Run against the real server, on the local index and on PostgreSQL."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

import rosetta
from conftest import REPO_ROOT, TEXT_MODEL_ID

PHOTOS = REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos"
SPEECH = REPO_ROOT / "Tests" / "Fixtures" / "audio" / "speech"
MAX_PREVIEW_BYTES = 49152


def jpeg_size(data: bytes):
    """(width, height) from a JPEG's first SOFn segment."""
    assert data[:3] == b"\xff\xd8\xff", "not a JPEG"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no SOF segment")


def test_previews_are_kept_returned_and_durable(index_server, text_model):
    server = index_server[0]
    long_text = "The quick brown fox jumps over the lazy dog. " * 20
    with server.client() as c:
        created = c.create_collection("kept", model=TEXT_MODEL_ID, keep_previews=True)
        assert created.keep_previews
        c.create_collection("plain", model=TEXT_MODEL_ID)
        items = [
            {"id": "clock", "image": rosetta.Image.from_path(PHOTOS / "clock.jpg")},
            {"id": "dog", "audio": rosetta.Audio.from_path(SPEECH / "dog-en-us.ogg")},
            {"id": "fox", "text": long_text},
            {"id": "raw", "vector": [1.0] + [0.0] * 383},
        ]
        c.upsert("kept", items)
        c.upsert("plain", items[:1])

        found, missing = c.get("kept", ["clock", "dog", "fox", "raw"], include_previews=True)
        assert missing == []
        by_id = {item.id: item.preview for item in found}
        clock = by_id["clock"]
        assert max(clock.thumbnail_width, clock.thumbnail_height) == 256
        assert jpeg_size(clock.thumbnail_jpeg) == (clock.thumbnail_width, clock.thumbnail_height)
        assert len(clock.thumbnail_jpeg) <= MAX_PREVIEW_BYTES and clock.text == ""
        dog = by_id["dog"]
        assert "dog" in dog.text.lower() and 1.0 < dog.duration_seconds < 10.0 and dog.thumbnail_jpeg == b""
        fox = by_id["fox"]
        assert len(fox.text) == 300 and fox.text.endswith("…") and long_text.startswith(fox.text[:-1])
        assert by_id["raw"] is None  # a vector has nothing to show

        # Not asked for: not sent. A collection without previews: none, even when asked.
        assert all(item.preview is None for item in c.get("kept", ["clock"])[0])
        assert c.get("plain", ["clock"], include_previews=True)[0][0].preview is None

        hits = c.search("kept", text="a clock on a wall", top_k=1, include_previews=True)
        assert hits[0].id == "clock" and hits[0].preview == clock
        with pytest.raises(rosetta.RosettaError) as refused:
            c.search("kept", text="a clock", top_k=171, include_previews=True)
        assert refused.value.code.name == "INVALID_ARGUMENT" and "include_previews" in str(refused.value)

    server.stop()
    index_server[0] = server = server.restart()
    with server.client() as c:
        assert [col.keep_previews for col in sorted(c.list_collections(), key=lambda col: col.name)] == [True, False]
        again, _ = c.get("kept", ["clock", "dog", "fox"], include_previews=True)
        assert {item.id: item.preview for item in again} == {k: by_id[k] for k in ("clock", "dog", "fox")}


def test_the_cli_keeps_previews_unless_told_not_to(cli, client):
    for name in ("cli-previews", "cli-no-previews"):
        try:
            client.delete_collection(name)
        except rosetta.RosettaError:
            pass
    cli.run("collections", "create", "cli-previews")
    cli.run("collections", "create", "cli-no-previews", "--no-previews")
    kept = {c.name: c.keep_previews for c in client.list_collections()}
    assert kept["cli-previews"] is True and kept["cli-no-previews"] is False
