"""Issue 28, item 3: weighted multimodal queries and items (Marqo's multimodal_combination). A query or an item is
a list of (input or vector, weight): each part's unit vector times its weight, summed, normalised; negative weights
push away. Checked against the same arithmetic on the server's own Embed vectors, and through the Python client and
the CLI; bad combinations are refused with INVALID_ARGUMENT naming the part."""
import math
import subprocess
import uuid

import grpc
import pytest

import rosetta
from conftest import REPO_ROOT, cli_bin

PHOTOS = REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos"


def _unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def _mix(parts):
    """The reference arithmetic: normalise each vector, weight, sum, normalise."""
    total = [0.0] * len(parts[0][0])
    for vector, weight in parts:
        for i, x in enumerate(_unit(vector)):
            total[i] += weight * x
    return _unit(total)


def _close(a, b, tolerance=1e-5):
    return len(a) == len(b) and max(abs(x - y) for x, y in zip(a, b)) <= tolerance


@pytest.fixture
def collection(client, text_model):
    name = f"pytest-mix-{uuid.uuid4().hex[:8]}"
    client.create_collection(name, model=text_model.id)
    client.upsert(name, [
        {"id": "cat-sofa", "text": "a cat sleeping on a sofa"},
        {"id": "cat-night", "text": "a black cat in the street at night"},
        {"id": "dog-sofa", "text": "a dog sleeping on a sofa"},
        {"id": "stocks", "text": "the stock market crashed today"},
    ])
    yield name
    client.delete_collection(name)


def test_a_weighted_query_is_the_normalised_sum_of_its_parts(client, collection, text_model):
    cat, night = client.embed_text(["a cat", "at night"], model=text_model.id)
    hits = client.search(collection, combination=[("a cat", 1.0), ("at night", -0.5)], include_query_vector=True)
    assert _close(hits.query_vector, _mix([(cat, 1.0), (night, -0.5)])), "the query vector is not the weighted mix"
    # One part of weight 1 is the plain query.
    plain = client.search(collection, text="a cat", include_query_vector=True)
    single = client.search(collection, combination=[("a cat", 2.0)], include_query_vector=True)
    assert _close(single.query_vector, plain.query_vector) and [h.id for h in single] == [h.id for h in plain]
    # "Not night" pushes the night cat down, below the sofa cat.
    scores = {h.id: h.score for h in plain}
    pushed = {h.id: h.score for h in hits}
    assert pushed["cat-night"] < scores["cat-night"] and pushed["cat-sofa"] > pushed["cat-night"], (scores, pushed)
    # A vector part mixes with an input part the same way.
    with_vector = client.search(collection, combination=[("a cat", 1.0), (night, -0.5)], include_query_vector=True)
    assert _close(with_vector.query_vector, hits.query_vector)


def test_modalities_mix_in_one_query_and_one_item(client, collection, text_model):
    photo = rosetta.Image.from_path(PHOTOS / "chelsea.jpg")
    image_vector = client.embed_image(photo, model=text_model.id)
    caption = client.embed_text(["a tabby cat"], model=text_model.id)[0]
    hits = client.search(collection, combination=[(photo, 1.0), ("a tabby cat", 0.5)], include_query_vector=True)
    assert _close(hits.query_vector, _mix([(image_vector, 1.0), (caption, 0.5)]), 1e-4)
    assert hits[0].id.startswith("cat-"), hits

    client.upsert(collection, [rosetta.Item(id="photo+caption", combination=[(photo, 1.0), ("a tabby cat", 0.5)],
                                            metadata={"path": "chelsea.jpg"})])
    (item,), missing = client.get(collection, ["photo+caption"], include_vectors=True)
    assert not missing and item.modality == "image" and item.metadata == {"path": "chelsea.jpg"}
    assert _close(item.vector, hits.query_vector, 1e-4)
    # The item's modality is its heaviest positive input's.
    client.upsert(collection, [rosetta.Item(id="caption+photo", combination=[(photo, 0.3), ("a tabby cat", 1.0)])])
    (item,), _ = client.get(collection, ["caption+photo"])
    assert item.modality == "text"


def _refused(call):
    with pytest.raises(rosetta.RosettaError) as e:
        call()
    return e.value


@pytest.mark.parametrize("parts, words", [
    ([], "no parts"),
    ([("night", -1.0)], "at least one part a positive weight"),
    ([("a cat", 1.0), ("night", 0.0)], "part 1 has weight 0"),
    ([("a cat", float("nan"))], "finite and non-zero"),
    ([("a cat", 1.0), ("a cat", -1.0)], "cancel out"),
    ([("a cat", 1.0), ([0.0] * 384, 1.0)], "part 1 is a vector of zeros"),
    ([("a cat", 1.0), ([1.0, 2.0], 1.0)], "dimension"),
    ([("", 1.0)], "empty"),
    ([("a cat", 3e38), ("a dog", 3e38)], "weights are too large"),
])
def test_bad_combinations_are_refused_naming_the_part(client, collection, parts, words):
    error = _refused(lambda: client.search(collection, combination=parts))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT and words in error.message, error
    item = client.upsert(collection, [rosetta.Item(id="bad", combination=parts)], check=False).results[0]
    assert item.status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and words in item.status.message, item
    assert words in item.status.message and ("item 0 ('bad')" in item.status.message or "input" in item.status.message
                                              or "dimension" in words)


def test_limits_and_raw_vector_collections(client, collection, info):
    many = [("a cat", 1.0)] * (info.limits.max_batch_items + 1)
    error = _refused(lambda: client.search(collection, combination=many))
    assert "number of parts" in error.message and str(info.limits.max_batch_items) in error.message, error

    raw = f"pytest-mix-raw-{uuid.uuid4().hex[:8]}"
    client.create_collection(raw, dimensions=3)
    try:
        client.upsert(raw, [rosetta.Item(id="x", vector=[1, 0, 0]), rosetta.Item(id="y", vector=[0, 1, 0])])
        hits = client.search(raw, combination=[([1, 0, 0], 1.0), ([0, 1, 0], -0.5)], include_query_vector=True)
        assert _close(hits.query_vector, _unit([1, -0.5, 0])) and [h.id for h in hits] == ["x", "y"]
        error = _refused(lambda: client.search(raw, combination=[([1, 0, 0], 1.0), ("text", 1.0)]))
        assert error.code == grpc.StatusCode.FAILED_PRECONDITION and "raw vectors" in error.message, error
    finally:
        client.delete_collection(raw)


def test_the_cli_searches_with_weighted_parts(server, collection):
    out = subprocess.run([str(cli_bin()), "search", "--address", server.address, "--collection", collection,
                          "--part", "1:text:a cat", "--part", "-0.5:text:at night", "--top-k", "2"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1].split()[2] == "cat-sofa", (out.stdout, out.stderr)
    bad = subprocess.run([str(cli_bin()), "search", "--address", server.address, "--collection", collection,
                          "--part", "heavy:text:a cat"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "--part" in bad.stderr, bad.stderr
