"""The typed helpers of rosetta.Client and rosetta.AsyncClient against the real server: embed_image / embed_audio
from paths, search by image and audio files, collection helpers, token metadata, and mutual TLS (for the Python
client and for the rosetta CLI's --tls-cert/--tls-key)."""
import asyncio
import math
import uuid

import pytest

import rosetta
from conftest import CLI, ServerProcess, make_self_signed_cert, startup_timeout, REPO_ROOT

pytestmark = pytest.mark.model

PHOTOS = REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos"
SPEECH = REPO_ROOT / "Tests" / "Fixtures" / "audio" / "speech"


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_embed_image_and_audio_from_paths(client, text_model):
    image = client.embed_image(PHOTOS / "coffee.jpg")
    same = client.embed_image((PHOTOS / "coffee.jpg").read_bytes())
    assert len(image) == text_model.dimensions and image == same
    coffee, clock = client.embed_text(["a cup of coffee on a saucer", "a clock on a wall"])
    assert cosine(image, coffee) > cosine(image, clock)
    audio = client.embed_audio(str(SPEECH / "rain-en-us.ogg"))
    rain, dog = client.embed_text(["Heavy rain pouring down on a tin roof", "A dog barking loudly in the backyard"])
    assert cosine(audio, rain) > cosine(audio, dog)
    short = client.embed_image(PHOTOS / "coffee.jpg", dimensions=32)
    assert len(short) == 32


def test_collection_helpers_and_media_search(client, text_model):
    name = f"helpers-{uuid.uuid4().hex[:8]}"
    made = client.create_collection(name, model=text_model.id)
    assert made.name == name and name in [c.name for c in client.list_collections()]
    client.upsert(name, [rosetta.Item(id="clock", image=rosetta.Image.from_path(PHOTOS / "clock.jpg")),
                         rosetta.Item(id="coins", image=rosetta.Image.from_path(PHOTOS / "coins.jpg")),
                         rosetta.Item(id="rain", text="Heavy rain pouring down on a tin roof")])
    assert client.search(name, image=PHOTOS / "clock.jpg", top_k=1)[0].id == "clock"
    assert client.search(name, audio=SPEECH / "rain-en-us.ogg", top_k=1)[0].id == "rain"
    assert client.search(name, text="a clock", modalities=["image"], top_k=1)[0].id == "clock"
    client.delete_collection(name)
    with pytest.raises(rosetta.RosettaError) as err:
        client.search(name, text="x")
    assert err.value.code.name == "NOT_FOUND"


def test_async_client_helpers(server, text_model):
    async def journey():
        async with server.client_async(token="a-token") as c:
            name = f"async-{uuid.uuid4().hex[:8]}"
            await c.create_collection(name, model=text_model.id)
            await c.upsert(name, [{"id": "coffee", "image": rosetta.Image.from_path(PHOTOS / "coffee.jpg")},
                                  {"id": "grass", "image": rosetta.Image.from_path(PHOTOS / "grass.jpg")}])
            hits = await c.search(name, text="a cup of coffee", top_k=2)
            image = await c.embed_image(PHOTOS / "coffee.jpg")
            audio = await c.embed_audio(SPEECH / "dog-en-us.ogg")
            names = [x.name for x in await c.list_collections()]
            await c.delete_collection(name)
            return hits, image, audio, names, name

    hits, image, audio, names, name = asyncio.run(journey())
    assert [h.id for h in hits] == ["coffee", "grass"] and name in names
    assert len(image) == len(audio) == text_model.dimensions


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mtls")
    server_dir, client_dir = directory / "server", directory / "client"
    server_dir.mkdir()
    client_dir.mkdir()
    cert, key, pem = make_self_signed_cert(server_dir)
    client_cert, client_key, _ = make_self_signed_cert(client_dir)
    s = ServerProcess("mtls", ["--tls-cert", str(cert), "--tls-key", str(key), "--tls-client-ca", str(client_cert)],
                      tls_root_cert=pem, client_options={"tls_client_cert": client_cert, "tls_client_key": client_key})
    s.start(startup_timeout())
    yield s, cert, client_cert, client_key
    s.stop()
    s.remove_data()


def test_mutual_tls_python_client(mtls_server):
    s, ca, client_cert, client_key = mtls_server
    with rosetta.Client(s.address, tls_root_cert=ca, tls_client_cert=client_cert, tls_client_key=client_key,
                        timeout=30) as c:
        assert c.info().version
    with rosetta.Client(s.address, tls_root_cert=ca, timeout=10) as c:
        with pytest.raises(rosetta.RosettaError):
            c.info()
    with pytest.raises(ValueError):
        rosetta.Client(s.address, tls_root_cert=ca, tls_client_cert=client_cert)


def test_mutual_tls_cli(mtls_server):
    s, ca, client_cert, client_key = mtls_server
    cli = CLI(s.address)
    out = cli.run("info", "--tls-ca", str(ca), "--tls-cert", str(client_cert), "--tls-key", str(client_key)).stdout
    assert out.startswith("rosetta-server")
    refused = cli.run("info", "--tls-ca", str(ca), "--timeout", "5", check=False)
    assert refused.returncode != 0 and s.address in refused.stderr
