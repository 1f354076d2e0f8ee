"""The rosetta CLI binary (ROSETTA_CLI_BIN) against the real server: embed, collections, search, index and the
connection options, through their --json documents (README, 'Scripting with --json') and their error messages."""
import hashlib
import json
import math
import shutil
import subprocess
import uuid

import pytest

from conftest import CLI, REPO_ROOT, free_port

PHOTOS = REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos"
SPEECH = REPO_ROOT / "Tests" / "Fixtures" / "audio" / "speech"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_embed_all_modalities_json(cli, text_model):
    doc = cli.json("embed", "--text", "a cup of coffee", "--image", str(PHOTOS / "coffee.jpg"),
                   "--audio", str(SPEECH / "dog-en-us.ogg"))
    assert doc["model"] == text_model.id and doc["encoding"] == "float32" and doc["space"]
    assert [r["modality"] for r in doc["results"]] == ["text", "image", "audio"]
    for r in doc["results"]:
        assert r["ok"] and r["dimensions"] == text_model.dimensions == len(r["vector"])
        assert abs(math.sqrt(sum(v * v for v in r["vector"])) - 1) < 1e-3
    assert "dog" in doc["results"][2]["transcript"] and 0 <= doc["results"][2]["no_speech_probability"] <= 1
    assert doc["results"][1]["input"] == str(PHOTOS / "coffee.jpg")
    assert doc["usage"]["items"] == 3


def test_embed_dimensions_and_encodings(cli):
    full = cli.json("embed", "--text", "a wall made of bricks")["results"][0]["vector"]
    short = cli.json("embed", "--text", "a wall made of bricks", "--dimensions", "64")["results"][0]
    assert short["dimensions"] == 64 and len(short["vector"]) == 64
    norm = math.sqrt(sum(v * v for v in full[:64]))
    assert all(abs(a - b / norm) < 1e-4 for a, b in zip(short["vector"], full[:64]))
    q = cli.json("embed", "--image", str(PHOTOS / "clock.jpg"), "--encoding", "int8")["results"][0]
    assert "vector" not in q and len(q["int8"]) == q["dimensions"] and q["scale"] > 0
    assert max(abs(v) for v in q["int8"]) == 127
    b = cli.json("embed", "--text", "hello", "--encoding", "binary", "--dimensions", "128")["results"][0]
    assert len(b["binary"]) == 128 // 8 * 2 and int(b["binary"], 16) >= 0


def test_embed_instruction_is_sent(cli):
    plain = cli.json("embed", "--text", "a red car")["results"][0]["vector"]
    instructed = cli.json("embed", "--text", "a red car", "--instruction", "Represent this caption for retrieval")
    assert instructed["results"][0]["ok"] and instructed["results"][0]["vector"] != plain


def test_embed_per_item_error_and_readable_output(cli, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    doc = cli.json("embed", "--text", "fine", "--image", str(bad))
    assert doc["results"][0]["ok"] and not doc["results"][1]["ok"]
    assert doc["results"][1]["error"]["code"] == "INVALID_ARGUMENT" and doc["results"][1]["error"]["message"]
    out = cli.run("embed", "--image", str(PHOTOS / "coins.jpg")).stdout
    assert "coins.jpg [image, 384-d" in out


def test_collections_create_list_delete(cli):
    name, raw = unique("cli-coll"), unique("cli-raw")
    made = cli.json("collections", "create", name, "--dimensions", "128", "--storage", "int8", "--metric", "dot")
    assert (made["dimensions"], made["storage"], made["metric"], made["count"]) == (128, "int8", "dot", 0)
    assert made["model"]
    assert cli.json("collections", "create", raw, "--dimension", "3")["model"] == ""
    listed = {c["name"]: c for c in cli.json("collections", "list")["collections"]}
    assert listed[name]["dimensions"] == 128 and listed[raw]["dimensions"] == 3
    table = cli.run("collections", "list").stdout
    assert name in table and "(raw vectors)" in table
    again = cli.run("collections", "create", name, check=False)
    assert again.returncode != 0 and name in again.stderr and "exists" in again.stderr
    assert cli.run("collections", "delete", name).stdout.strip() == f"deleted {name}"
    cli.run("collections", "delete", raw)
    gone = cli.run("collections", "delete", name, check=False)
    assert gone.returncode != 0 and name in gone.stderr


def test_search_missing_collection_is_named(cli):
    done = cli.run("search", "--collection", "no-such-collection", "--text", "x", check=False)
    assert done.returncode != 0 and "no-such-collection" in done.stderr and "Search" in done.stderr


def test_unreachable_server_names_the_address(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    done = CLI(address).run("info", "--timeout", "3", check=False)
    assert done.returncode != 0 and f"cannot reach rosetta-server at {address}" in done.stderr


def test_bad_arguments_are_refused_before_calling(cli):
    for args in (["search", "--collection", "c"], ["search", "--collection", "c", "--text", "a", "--image", "b"],
                 ["embed"], ["embed", "--text", "a", "--encoding", "int4"], ["info", "--timeout", "0"],
                 ["info", "--tls-cert", "c.pem"]):
        done = cli.run(*args, check=False)
        assert done.returncode == 64, (args, done.stderr)


def test_tls_with_ca(tls_server, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(tls_server.tls_root_cert)
    out = CLI(tls_server.address).run("info", "--tls-ca", str(ca)).stdout
    assert "rosetta-server" in out
    plain = CLI(tls_server.address).run("info", "--timeout", "3", check=False)
    assert plain.returncode != 0


def test_index_is_resumable_and_reports_skips(cli, tmp_path):
    folder = tmp_path / "mixed"
    (folder / "nested").mkdir(parents=True)
    for name in ("coffee.jpg", "clock.jpg"):
        shutil.copy(PHOTOS / name, folder / name)
    shutil.copy(PHOTOS / "coffee.jpg", folder / "nested" / "coffee-copy.jpg")
    shutil.copy(SPEECH / "rain-en-us.ogg", folder / "nested" / "rain.ogg")
    (folder / "note.txt").write_text("a shopping list with milk and bread")
    (folder / "empty.md").write_text("   \n")
    (folder / "long.txt").write_text("word " * 25000)
    (folder / "table.csv").write_text("a,b\n1,2\n")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    name = unique("cli-index")
    first = cli.run("index", str(folder), "--collection", name, "--create", "--json", check=False)
    assert first.returncode == 1, first.stderr  # broken.jpg fails
    doc = json.loads(first.stdout)
    assert doc["files"] == 9 and doc["indexed"] == 4 and doc["already_indexed"] == 0
    assert [f["path"] for f in doc["failed"]] == [str(folder / "broken.jpg")] and doc["failed"][0]["message"]
    reasons = {s["path"]: s["reason"] for s in doc["skipped"]}
    assert "same content as" in reasons[str(folder / "nested" / "coffee-copy.jpg")]
    assert "only whitespace" in reasons[str(folder / "empty.md")]
    assert "over the server's limit" in reasons[str(folder / "long.txt")]
    assert doc["unsupported"] == [str(folder / "table.csv")]

    again = json.loads(cli.run("index", str(folder), "--collection", name, "--json", check=False).stdout)
    assert again["indexed"] == 0 and again["already_indexed"] == 4 and len(again["failed"]) == 1

    # Ids are the SHA-256 of the bytes; metadata carries path, name and modality.
    digest = hashlib.sha256((folder / "note.txt").read_bytes()).hexdigest()
    hits = cli.json("search", "--collection", name, "--text", "milk and bread", "--top-k", "1")["hits"]
    assert hits[0]["id"] == digest and hits[0]["modality"] == "text"
    assert hits[0]["metadata"] == {"path": str(folder / "note.txt"), "name": "note.txt", "modality": "text"}
    only = cli.json("search", "--collection", name, "--text", "milk", "--filter", "name=clock.jpg")["hits"]
    assert [h["metadata"]["name"] for h in only] == ["clock.jpg"]
    cli.run("collections", "delete", name)


def test_index_without_create_names_the_collection(cli, tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    done = cli.run("index", str(tmp_path), "--collection", "missing-collection-x", check=False)
    assert done.returncode != 0 and "missing-collection-x" in done.stderr and "--create" in done.stderr


def test_deadline_is_reported(cli):
    done = cli.run("embed", "--audio", str(SPEECH / "dog-en-us.ogg"), "--timeout", "0.05", check=False)
    assert done.returncode == 1 and f"rosetta-server at {cli.address} did not answer Embed within 0.05 s" in done.stderr


def test_index_progress_on_a_terminal_and_in_logs(cli, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("brick.jpg", "grass.jpg", "horse.jpg"):
        shutil.copy(PHOTOS / name, folder / name)
    name = unique("cli-progress")
    # Not a terminal: plain lines, no carriage returns.
    logged = cli.run("index", str(folder), "--collection", name, "--create")
    assert "index: [########################] 3/3 items" in logged.stderr and "\r" not in logged.stderr
    cli.run("collections", "delete", name)
    # A terminal (script(1) gives the CLI a pseudo-terminal): the line is redrawn in place.
    command = f"{cli.bin} index {folder} --collection {name} --create --address {cli.address}"
    tty = subprocess.run(["script", "-qefc", command, "/dev/null"], capture_output=True, timeout=300)
    out = tty.stdout.decode(errors="replace")  # bytes: text mode would turn the carriage returns into newlines
    assert tty.returncode == 0, out
    assert "\r\x1b[K[########################] 3/3 items" in out and "errors 0" in out
    cli.run("collections", "delete", name)


def test_token_reaches_the_server_as_bearer_metadata():
    """A stand-in server (grpcio, in this process) records the metadata the CLI sends with Info, and refuses a
    call without a token as a token-checking server does."""
    from concurrent import futures

    import grpc

    from rosetta.v1 import embeddings_pb2

    seen = []

    def info(request, context):
        metadata = dict(context.invocation_metadata())
        seen.append(metadata.get("authorization"))
        if "authorization" not in metadata:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing bearer token")
        return embeddings_pb2.InfoResponse(version="stand-in")

    handler = grpc.method_handlers_generic_handler("rosetta.v1.Embeddings", {
        "Info": grpc.unary_unary_rpc_method_handler(info, request_deserializer=embeddings_pb2.InfoRequest.FromString,
                                                    response_serializer=embeddings_pb2.InfoResponse.SerializeToString)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        stand_in = CLI(f"127.0.0.1:{port}")
        assert "rosetta-server stand-in" in stand_in.run("info", "--token", "s3cret").stdout
        stand_in.run("info", env={"ROSETTA_TOKEN": "from-env"})
        refused = stand_in.run("info", env={"ROSETTA_TOKEN": ""}, check=False)
    finally:
        server.stop(None)
    assert seen == ["Bearer s3cret", "Bearer from-env", None]
    assert refused.returncode == 1
    assert f"rosetta-server at 127.0.0.1:{port} refused Info: missing bearer token (give a token" in refused.stderr
