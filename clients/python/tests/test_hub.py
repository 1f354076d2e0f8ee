"""Issue 25, item 1: `rosetta-server --model org/name[@revision]` fetches a checkpoint from the Hugging Face Hub into
the standard cache and serves it beside the manifest's models. Against a mock Hub on loopback (mock_hub.py): only
the files the architecture reads are downloaded, LFS files come through a redirect to another origin without the
token, every file is checked against its etag, a broken-off download resumes with a Range request, the cache
layout is huggingface_hub's (a cache made by the real huggingface_hub package is served with the network closed),
CLIP and SigLIP checkpoints from the Hub serve transformers' vectors, and each failure (no network, 401, 403, 404, an unsupported architecture, corruption, a full disk) stops the
server with a message that says what to do."""
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rosetta
from conftest import REPO_ROOT, ServerProcess, free_port, server_bin, startup_timeout
from mock_hub import MockHub, Repo

TINY_BERT = REPO_ROOT / "Tests" / "Fixtures" / "tiny-bert"
SENTENCES = ["w17 w45", "w8 w9 w10 w11", "w50 w51 w52 w53 w54"]
CHECKPOINT_FILES = {"config.json", "model.safetensors", "vocab.txt", "modules.json", "1_Pooling/config.json",
                    "sentence_bert_config.json"}


def tiny_bert_files():
    """A sentence-transformers repository around the tiny-bert checkpoint, with files Rosetta must not fetch."""
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(5, 100)]
    rng = random.Random(7)
    return {
        "config.json": (TINY_BERT / "config.json").read_bytes(),
        "model.safetensors": (TINY_BERT / "model.safetensors").read_bytes(),
        "vocab.txt": ("\n".join(words) + "\n").encode(),
        "modules.json": json.dumps([
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]).encode(),
        "1_Pooling/config.json": json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True}).encode(),
        "sentence_bert_config.json": json.dumps({"max_seq_length": 16, "do_lower_case": False}).encode(),
        # Not read by Rosetta: never downloaded.
        "pytorch_model.bin": bytes(rng.getrandbits(8) for _ in range(300_000)),
        "onnx/model.onnx": bytes(rng.getrandbits(8) for _ in range(50_000)),
        "README.md": b"# tiny-bert\n",
        ".gitattributes": b"*.bin filter=lfs\n",
    }


LFS = {"model.safetensors", "pytorch_model.bin", "onnx/model.onnx"}


@pytest.fixture
def hub():
    mock = MockHub()
    mock.add("acme/tiny-bert", Repo(tiny_bert_files(), lfs=set(LFS)))
    yield mock
    mock.close()


@pytest.fixture
def models_dir(tmp_path):
    """An empty manifest: the server serves only what --model brings."""
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "models": []}))
    return folder


@pytest.fixture
def hub_env(monkeypatch, tmp_path, hub):
    cache = tmp_path / "hf-cache"
    for name in ["HF_TOKEN", "HF_HUB_OFFLINE", "HF_HOME", "HF_TOKEN_PATH", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    return cache


def serve(name, models_dir, *models):
    args = ["--models-dir", str(models_dir), "--in-memory"]
    for model in models:
        args += ["--model", model]
    return ServerProcess(name, args).start(startup_timeout())


def run_to_exit(models_dir, *models, env=None, limit_file_size=None, timeout=120):
    """Starts the server and expects it to stop by itself (a failed fetch); returns (exit code, output)."""
    args = [str(server_bin()), "--address", f"127.0.0.1:{free_port()}", "--models-dir", str(models_dir), "--in-memory"]
    for model in models:
        args += ["--model", model]

    def limits():
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, preexec_fn=limits)
    return proc.returncode, proc.stdout + proc.stderr


def embed(server, model):
    with server.client() as client:
        result = client.embed(SENTENCES, model=model)
        result.raise_for_status()
        return [e.vector for e in result.embeddings]


def test_serves_a_hub_model_downloading_only_what_its_architecture_reads(hub, hub_env, models_dir, tmp_path):
    server = serve("hub", models_dir, "acme/tiny-bert")
    try:
        with server.client() as client:
            info = client.info()
        model = next(m for m in info.models if m.id == "tiny-bert")
        assert model.architecture == "bert" and model.dimensions == 32 and model.max_tokens == 16, model
        served = embed(server, "tiny-bert")
        log = server.log_text()
    finally:
        server.stop()
    assert "hub: acme/tiny-bert model.safetensors" in log, log  # progress on stderr

    # Exactly the checkpoint's files were fetched: no pytorch_model.bin, ONNX or README.
    fetched = {path.split("/resolve/", 1)[1].split("/", 1)[1] for _, method, path, _ in hub.requested("api", "HEAD")}
    assert fetched == CHECKPOINT_FILES, fetched
    # LFS bytes came from the CDN, without the token (no token was set; see the token test for that).
    assert [p for _, m, p, _ in hub.requested("cdn", "GET")] and all("pytorch" not in p for _, _, p, _ in hub.requested("cdn"))

    # huggingface_hub's cache layout.
    repo = hub.repos["acme/tiny-bert"]
    folder = hub_env / "models--acme--tiny-bert"
    assert (folder / "refs" / "main").read_text() == repo.commit
    snapshot = folder / "snapshots" / repo.commit
    weights = snapshot / "model.safetensors"
    assert weights.is_symlink() and os.readlink(weights) == "../../blobs/" + hashlib.sha256(repo.files["model.safetensors"]).hexdigest()
    assert os.readlink(snapshot / "1_Pooling" / "config.json").startswith("../../../blobs/")
    assert not list((folder / "blobs").glob("*.incomplete"))

    # The same files from a models folder give the same vectors, bit for bit.
    local = tmp_path / "local-models"
    shutil.copytree(snapshot, local / "tiny-bert")
    (local / "manifest.json").write_text(json.dumps({"format": 1, "models": [{"id": "tiny-bert", "architecture": "bert"}]}))
    reference = serve("hub-local", local)
    try:
        assert embed(reference, "tiny-bert") == served
    finally:
        reference.stop()

    # A second start needs no download: the API is asked for the commit, nothing else.
    before = len(hub.requests)
    again = serve("hub-again", models_dir, "acme/tiny-bert")
    try:
        assert embed(again, "tiny-bert") == served
    finally:
        again.stop()
    assert [(o, m) for o, m, _, _ in hub.requests[before:]] == [("api", "GET")], hub.requests[before:]


def test_offline_and_unreachable_hub_serve_the_cache(hub, hub_env, models_dir, monkeypatch):
    code, out = run_to_exit(models_dir, "acme/tiny-bert", env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert code != 0 and "HF_HUB_OFFLINE is set" in out and "not complete in the cache" in out, out
    assert not hub.requests

    first = serve("hub-fill", models_dir, "acme/tiny-bert")
    served = embed(first, "tiny-bert")
    first.stop()
    hub.close()  # the network is gone
    requests = len(hub.requests)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = serve("hub-offline", models_dir, "acme/tiny-bert")
    try:
        assert embed(offline, "tiny-bert") == served
    finally:
        offline.stop()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    unreachable = serve("hub-unreachable", models_dir, "acme/tiny-bert")
    try:
        assert embed(unreachable, "tiny-bert") == served
        assert "unreachable" in unreachable.log_text() and "serving acme/tiny-bert from the cache" in unreachable.log_text()
    finally:
        unreachable.stop()
    assert len(hub.requests) == requests


def test_no_network_names_the_host_and_how_to_run_offline(hub_env, models_dir):
    port = free_port()
    code, out = run_to_exit(models_dir, "acme/tiny-bert", env={**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{port}"})
    assert code != 0, out
    assert f"cannot reach the Hugging Face Hub at 127.0.0.1:{port}" in out and "HF_HUB_OFFLINE=1" in out, out


def test_private_and_gated_repositories_need_a_token_which_never_leaves_the_endpoint(hub, hub_env, models_dir, monkeypatch):
    hub.add("acme/private-bert", Repo(tiny_bert_files(), lfs=set(LFS), private=True))
    hub.add("acme/gated-bert", Repo(tiny_bert_files(), lfs=set(LFS), gated=True))
    code, out = run_to_exit(models_dir, "acme/private-bert")
    assert code != 0 and "HTTP 401" in out and "set HF_TOKEN" in out, out
    code, out = run_to_exit(models_dir, "acme/gated-bert")
    assert code != 0 and "HTTP 403" in out and "set HF_TOKEN" in out, out
    code, out = run_to_exit(models_dir, "acme/gated-bert", env={**os.environ, "HF_TOKEN": "hf_wrong"})
    assert code != 0 and "with the token in HF_TOKEN" in out, out

    hub.refuse_auth_on_cdn = True  # as a presigned URL does: the token must not follow the redirect
    monkeypatch.setenv("HF_TOKEN", MockHub.TOKEN)
    server = serve("hub-token", models_dir, "acme/private-bert", "acme/gated-bert")
    try:
        assert len(embed(server, "private-bert")) == len(SENTENCES)
        assert len(embed(server, "gated-bert")) == len(SENTENCES)
    finally:
        server.stop()
    with_token = [h for _, _, p, h in hub.requested("api") if h.get("Authorization") == f"Bearer {MockHub.TOKEN}"]
    assert len(with_token) >= 2 * (1 + len(CHECKPOINT_FILES)), len(with_token)  # revision + every HEAD, both repos
    assert hub.requested("cdn") and all("Authorization" not in h for _, _, _, h in hub.requested("cdn"))


def test_missing_repositories_revisions_and_unsupported_architectures_are_named(hub, hub_env, models_dir):
    code, out = run_to_exit(models_dir, "acme/no-such-model")
    assert code != 0 and "acme/no-such-model" in out and "not found" in out and "404" in out, out
    code, out = run_to_exit(models_dir, "acme/tiny-bert@v9")
    assert code != 0 and "the revision of model acme/tiny-bert@v9" in out and "not found" in out, out
    gpt = tiny_bert_files()
    gpt["config.json"] = json.dumps({"model_type": "gpt2"}).encode()
    hub.add("acme/tiny-gpt", Repo(gpt, lfs=set(LFS)))
    code, out = run_to_exit(models_dir, "acme/tiny-gpt")
    assert code != 0 and "model_type gpt2" in out and "bert" in out and "clip" in out, out
    no_weights = {k: v for k, v in tiny_bert_files().items() if k != "model.safetensors"}
    hub.add("acme/bin-only", Repo(no_weights, lfs={"pytorch_model.bin"}))
    code, out = run_to_exit(models_dir, "acme/bin-only")
    assert code != 0 and "model.safetensors" in out and "convert it to safetensors" in out, out
    code, out = run_to_exit(models_dir, "not-a-repo-id")
    assert code != 0 and "expected org/name[@revision]" in out, out


def test_a_broken_off_download_resumes_and_a_corrupt_one_is_discarded(hub, hub_env, models_dir):
    weights = hub.repos["acme/tiny-bert"].files["model.safetensors"]
    sha = hashlib.sha256(weights).hexdigest()
    hub.break_after = len(weights) // 2
    code, out = run_to_exit(models_dir, "acme/tiny-bert")
    assert code != 0 and "broke off" in out and "run again to resume" in out, out
    partial = hub_env / "models--acme--tiny-bert" / "blobs" / f"{sha}.incomplete"
    kept = partial.stat().st_size  # what reached the disk before the connection dropped
    assert 0 < kept <= len(weights) // 2 and partial.read_bytes() == weights[:kept]

    server = serve("hub-resume", models_dir, "acme/tiny-bert")
    server.stop()
    ranges = [h.get("Range") for _, _, _, h in hub.requested("cdn", "GET")]
    assert ranges[-1] == f"bytes={kept}-", ranges
    assert (hub_env / "models--acme--tiny-bert" / "blobs" / sha).read_bytes() == weights

    hub.add("acme/corrupt-bert", Repo(tiny_bert_files(), lfs=set(LFS), commit="c" * 40))
    hub.repos["acme/corrupt-bert"].files["model.safetensors"] = weights + b"\0"  # another blob than tiny-bert's
    hub.corrupt = True
    code, out = run_to_exit(models_dir, "acme/corrupt-bert")
    assert code != 0 and "is corrupt" in out and "sha256" in out, out
    blobs = hub_env / "models--acme--corrupt-bert" / "blobs"
    assert not [p for p in blobs.iterdir() if len(p.name) == 64], list(blobs.iterdir())
    assert not (hub_env / "models--acme--corrupt-bert" / "snapshots" / ("c" * 40) / "model.safetensors").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE as on Linux")
def test_a_full_disk_stops_the_download_with_its_reason(hub, hub_env, models_dir):
    code, out = run_to_exit(models_dir, "acme/tiny-bert", limit_file_size=20_000)
    assert code != 0 and "cannot write" in out and "file-size limit" in out, out


def _seeded_toy_repo(family, tokenizer, unread):
    """The toy golden checkpoint of Tests/Fixtures/<family> as a Hub repository: its config, its `tokenizer` file,
    the seeded weights (models/seeded_weights.py) and an `unread` weights file the architecture must not download;
    and the fixture folder."""
    sys.path.insert(0, str(REPO_ROOT / "models"))
    from seeded_weights import seeded_safetensors

    fixtures = REPO_ROOT / "Tests" / "Fixtures" / family
    tensors = json.loads((fixtures / "tensors_small.json").read_text())
    return Repo({
        "config.json": (fixtures / "config_small.json").read_bytes(),
        tokenizer: (fixtures / tokenizer).read_bytes(),
        "model.safetensors": seeded_safetensors(tensors),
        unread: b"\0" * 1000,
    }, lfs={"model.safetensors", unread}), fixtures


def test_a_clip_checkpoint_from_the_hub_serves_transformers_vectors(hub, hub_env, models_dir):
    """The CLIP golden checkpoint (toy size, seeded weights: models/seeded_weights.py) served from the mock Hub:
    the server's text vectors equal transformers' CLIPModel's (Tests/Fixtures/clip/golden_small.json)."""
    repo, fixtures = _seeded_toy_repo("clip", "merges.txt", unread="flax_model.msgpack")
    hub.add("acme/tiny-clip", repo)
    server = serve("hub-clip", models_dir, "acme/tiny-clip")
    try:
        with server.client() as client:
            model = next(m for m in client.info().models if m.id == "tiny-clip")
            assert model.architecture == "clip" and model.dimensions == 64, model
            golden = json.loads((fixtures / "golden_small.json").read_text())
            assert model.logit_scale == pytest.approx(golden["logit_scale"]) and not model.HasField("logit_bias")
            for item in golden["texts"]:
                vector = client.embed([item["text"]], model="tiny-clip").vectors[0]
                assert rosetta.cosine(vector, item["text_embeds"]) >= 0.9999, item["text"]
            photo = rosetta.Image.from_path(REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos" / "clock.jpg")
            assert abs(rosetta.norm(client.embed([photo], model="tiny-clip").vectors[0]) - 1) < 1e-4
    finally:
        server.stop()
    assert not [p for _, _, p, _ in hub.requests if "flax" in p]


def _png(width, height, rgb):
    """A PNG of raw 8-bit RGB rows (stdlib only: filter 0 per row, zlib)."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\0" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_a_siglip_checkpoint_from_the_hub_serves_transformers_vectors(hub, hub_env, models_dir):
    """The SigLIP golden checkpoint (toy size, seeded weights) served from the mock Hub: text and image vectors equal
    transformers' SiglipModel's (Tests/Fixtures/siglip/golden_small.json, models/reference_siglip.py), the
    tokenizer is the SentencePiece tokenizer.json, and files SigLIP does not read are not downloaded."""
    repo, fixtures = _seeded_toy_repo("siglip", "tokenizer.json", unread="pytorch_model.bin")
    hub.add("acme/tiny-siglip", repo)
    server = serve("hub-siglip", models_dir, "acme/tiny-siglip")
    try:
        with server.client() as client:
            model = next(m for m in client.info().models if m.id == "tiny-siglip")
            assert model.architecture == "siglip" and model.dimensions == 64, model
            golden = json.loads((fixtures / "golden_small.json").read_text())
            # The calibration Info reports: match probability sigmoid(cos * exp(scale) + bias).
            assert model.logit_scale == pytest.approx(golden["logit_scale"]) and model.logit_bias == pytest.approx(golden["logit_bias"])
            assert model.load_seconds > 0
            for item in golden["texts"][:6]:
                vector = client.embed([item["text"]], model="tiny-siglip").vectors[0]
                assert rosetta.cosine(vector, item["text_embeds"]) >= 0.9999, item["text"]
            for item in golden["images"]:
                raw = (REPO_ROOT / "Tests" / "Fixtures" / "images" / "pipeline" / f"{item['name']}.rgb").read_bytes()
                vector = client.embed([rosetta.Image(_png(224, 224, raw))], model="tiny-siglip").vectors[0]
                assert rosetta.cosine(vector, item["image_embeds"]) >= 0.9999, item["name"]
    finally:
        server.stop()
    assert not [p for _, _, p, _ in hub.requests if "pytorch_model" in p]


def _hf_venv_python():
    """huggingface_hub from PyPI, in the test venv (requirements-test.txt)."""
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        pytest.fail("huggingface_hub is not installed: pip install -r clients/python/requirements-test.txt", pytrace=False)
    return sys.executable


def test_a_cache_made_by_huggingface_hub_is_served_with_the_network_closed(hub, hub_env, models_dir, monkeypatch):
    script = ("import os, sys\n"
              "from huggingface_hub import snapshot_download\n"
              "print(snapshot_download('acme/tiny-bert', allow_patterns=sys.argv[1:]))\n")
    env = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HUB_DISABLE_XET": "1"}
    proc = subprocess.run([_hf_venv_python(), "-c", script, *sorted(CHECKPOINT_FILES)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    snapshot = Path(proc.stdout.strip().splitlines()[-1])
    assert snapshot.parent.parent == hub_env / "models--acme--tiny-bert", snapshot
    hub.close()
    requests = len(hub.requests)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    server = serve("hub-from-hf", models_dir, "acme/tiny-bert")
    try:
        assert len(embed(server, "tiny-bert")) == len(SENTENCES)
    finally:
        server.stop()
    assert len(hub.requests) == requests
