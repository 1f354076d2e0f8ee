"""Images through the real server: EfficientNet-Lite0 bridged into the all-MiniLM-L6-v2 text space by ConSE.

Evidence that the shared space works: 12 committed photos (Tests/Fixtures/images/photos, CC0 / public domain)
and captions written for them (captions.json); text->image and image->text recall@1 are printed and must beat
chance (1/12) by a wide margin. These fail — they do not skip — when the server has no image bridge, unless
ROSETTA_SKIP_MODEL_TESTS=1."""
import json
import math
import struct
import zlib

import grpc
import pytest

import rosetta
from conftest import REPO_ROOT, _model_tests_skipped
from rosetta.v1 import common_pb2

pytestmark = pytest.mark.model

PHOTOS = REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos"
DECODE = REPO_ROOT / "Tests" / "Fixtures" / "images" / "decode"


@pytest.fixture(scope="module")
def image_space(info, text_model):
    """The text space that takes images (the default one)."""
    if common_pb2.MODALITY_IMAGE not in text_model.modalities:
        msg = (f"model {text_model.id} takes no images (modalities {list(text_model.modalities)}): "
               f"run models/fetch to install efficientnet-lite0")
        if _model_tests_skipped():
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return text_model


@pytest.fixture(scope="module")
def photo_set():
    captions = json.loads((PHOTOS / "captions.json").read_text())
    names = sorted(captions)
    return names, [rosetta.Image.from_path(PHOTOS / f"{n}.jpg") for n in names], [captions[n] for n in names]


def cosine_matrix(a, b):
    def norm(v):
        n = math.sqrt(sum(x * x for x in v))
        return [x / n for x in v]
    a, b = [norm(v) for v in a], [norm(v) for v in b]
    return [[sum(x * y for x, y in zip(u, v)) for v in b] for u in a]


def recall_at_1(sim):
    """Fraction of rows whose best column is the matching one."""
    return sum(1 for i, row in enumerate(sim) if max(range(len(row)), key=row.__getitem__) == i) / len(sim)


def png_header(width, height):
    """A PNG whose IHDR declares width x height (no pixel data: enough for a header check)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def test_info_lists_images_and_limits(info, image_space):
    assert common_pb2.MODALITY_TEXT in image_space.modalities
    assert info.limits.max_image_pixels > 0


def test_image_vectors_live_in_the_text_space(client, image_space, photo_set):
    names, images, captions = photo_set
    res = client.embed(images[:2] + captions[:1], model=image_space.id)
    res.raise_for_status()
    assert res.space == image_space.space
    assert [e.modality for e in res.embeddings][:2] == ["image", "image"] or all(e.dimensions == image_space.dimensions
                                                                                   for e in res.embeddings)
    for e in res.embeddings:
        assert e.dimensions == image_space.dimensions
        assert abs(math.sqrt(sum(x * x for x in e.vector)) - 1) < 1e-4


def test_text_to_image_and_image_to_text_recall(client, image_space, photo_set):
    names, images, captions = photo_set
    image_vectors = client.embed(images, model=image_space.id).vectors
    text_vectors = client.embed(captions, model=image_space.id).vectors
    t2i = cosine_matrix(text_vectors, image_vectors)
    i2t = cosine_matrix(image_vectors, text_vectors)
    r_t2i, r_i2t = recall_at_1(t2i), recall_at_1(i2t)
    print(f"\n[images] {len(names)} photos: text->image recall@1 = {r_t2i:.3f}, image->text recall@1 = {r_i2t:.3f} "
          f"(chance {1 / len(names):.3f})")
    for i, n in enumerate(names):
        best = max(range(len(names)), key=t2i[i].__getitem__)
        print(f"  '{captions[i]}' -> {names[best]}{'' if best == i else '   (MISS: wanted ' + n + ')'}")
    chance = 1 / len(names)
    assert r_t2i >= 4 * chance, f"text->image recall@1 {r_t2i:.3f}"
    assert r_i2t >= 4 * chance, f"image->text recall@1 {r_i2t:.3f}"


def test_same_image_same_vector_and_options(client, image_space, photo_set):
    _, images, _ = photo_set
    full = client.embed([images[0]], model=image_space.id).vectors[0]
    again = client.embed([images[0]], model=image_space.id).vectors[0]
    assert max(abs(a - b) for a, b in zip(full, again)) < 1e-6
    short = client.embed([images[0]], model=image_space.id, dimensions=64).embeddings[0]
    assert short.dimensions == 64
    assert abs(math.sqrt(sum(x * x for x in short.vector)) - 1) < 1e-4
    q = client.embed([images[0]], model=image_space.id, encoding="INT8").embeddings[0]
    assert q.int8 and max(abs(a - b) for a, b in zip(q.vector, full)) < 0.02


def test_bad_images_fail_alone_with_clear_messages(client, image_space, photo_set):
    _, images, _ = photo_set
    inputs = [
        images[0],
        rosetta.Image((DECODE / "truncated.jpg").read_bytes()),
        rosetta.Image((DECODE / "corrupt.png").read_bytes()),
        rosetta.Image(b"GIF89a" + b"\x00" * 32, "image/gif"),
        rosetta.Image(png_header(200_000, 200_000)),
        "a cat",
    ]
    res = client.embed(inputs, model=image_space.id)
    codes = [e.code for e in res.embeddings]
    assert codes == [grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INVALID_ARGUMENT,
                     grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.OK], \
        [(e.code, e.message) for e in res.embeddings]
    messages = [e.message for e in res.embeddings]
    assert "truncated" in messages[1]
    assert "PNG" in messages[2]
    assert "GIF" in messages[3] and "not supported" in messages[3]
    assert "200000x200000" in messages[4] and "limit" in messages[4]


@pytest.mark.parametrize("variant", ["rgb8.png", "rgba8.png", "grey_alpha.png", "palette.png", "interlaced.png",
                                     "rgb16.png", "progressive.jpg", "grey.jpg", "exif6.jpg"])
def test_decodes_every_variant(client, image_space, variant):
    e = client.embed([rosetta.Image((DECODE / variant).read_bytes())], model=image_space.id).embeddings[0]
    assert e.ok, e.message
