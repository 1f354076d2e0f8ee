"""Cross-modal search through the Index: the 12 committed photos (Tests/Fixtures/images/photos) stored as images
in a collection of the default text space (EfficientNet-Lite0 + ConSE bridge), searched with their captions
(text -> image) and with the photos themselves (image -> image), with text captions stored beside them and the
modality filter choosing between the two. Fails -- does not skip -- without an image bridge, unless
ROSETTA_SKIP_MODEL_TESTS=1 (as test_images.py)."""
import json
import uuid

import pytest

import rosetta
from conftest import REPO_ROOT, _model_tests_skipped
from rosetta.v1 import common_pb2

pytestmark = pytest.mark.model

PHOTOS = REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos"


@pytest.fixture(scope="module")
def photo_collection(client, text_model):
    if common_pb2.MODALITY_IMAGE not in text_model.modalities:
        msg = f"model {text_model.id} takes no images: run models/fetch to install efficientnet-lite0"
        if _model_tests_skipped():
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    captions = json.loads((PHOTOS / "captions.json").read_text())
    names = sorted(captions)
    name = f"pytest-photos-{uuid.uuid4().hex[:8]}"
    client.create_collection(name, model=text_model.id)
    items = [rosetta.Item(id=f"photo:{n}", image=rosetta.Image.from_path(PHOTOS / f"{n}.jpg"), metadata={"name": n})
             for n in names]
    items += [rosetta.Item(id=f"caption:{n}", text=captions[n], metadata={"name": n}) for n in names]
    resp = client.upsert(name, items)
    assert [r.status.code for r in resp.results] == [0] * len(items)
    yield name, names, captions
    client.delete_collection(name)


def test_text_to_image_search(client, photo_collection):
    name, names, captions = photo_collection
    hits_at_1 = 0
    for n in names:
        hits = client.search(name, text=captions[n], top_k=3, modalities=["image"])
        assert len(hits) == 3 and all(h.modality == "image" for h in hits)
        hits_at_1 += hits[0].id == f"photo:{n}"
    recall = hits_at_1 / len(names)
    print(f"\n[index] text->image recall@1 over {len(names)} photos: {recall:.3f} (chance {1 / len(names):.3f})")
    assert recall >= 4 / len(names)


def test_image_to_image_and_modality_filter(client, photo_collection):
    name, names, captions = photo_collection
    for n in names:
        photo = rosetta.Image.from_path(PHOTOS / f"{n}.jpg")
        [top] = client.search(name, image=photo, top_k=1, modalities=["image"])
        assert top.id == f"photo:{n}" and top.score == pytest.approx(1.0, abs=1e-3)
        # Without a modality filter both kinds compete; with TEXT only captions come back.
        texts = client.search(name, image=photo, top_k=3, modalities=["text"])
        assert all(h.id.startswith("caption:") and h.modality == "text" for h in texts)
    both = client.search(name, text=captions[names[0]], top_k=24)
    assert {h.modality for h in both} == {"image", "text"} and len(both) == 24
