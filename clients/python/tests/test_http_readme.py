"""The README's HTTP examples ("Over HTTP/JSON") run as written against a real server: every ```sh block through
bash and curl (the address swapped for the test server's), and the ```python block through the openai SDK."""
import json
import re
import subprocess

import pytest

from conftest import REPO_ROOT, http_server

README = REPO_ROOT / "README.md"
EXAMPLE_ADDRESS = "127.0.0.1:8080"


def http_section():
    text = README.read_text()
    start = text.index("### Over HTTP/JSON")
    return text[start:text.index("\n## ", start)]


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", http_section(), re.DOTALL)


def json_documents(text):
    """The JSON objects curl printed back to back (its output has no separators)."""
    decoder, position, documents = json.JSONDecoder(), 0, []
    text = text.strip()
    while position < len(text):
        document, end = decoder.raw_decode(text, position)
        documents.append(document)
        position = end
        while position < len(text) and text[position].isspace():
            position += 1
    return documents


@pytest.fixture(scope="module")
def readme_server():
    with http_server("http-readme") as s:
        yield s


def test_the_readme_has_the_examples():
    assert len(blocks("sh")) == 3 and len(blocks("python")) == 1


def test_the_curl_examples_run(readme_server, text_model):
    outputs = []
    for block in blocks("sh"):
        script = "set -euo pipefail\n" + block.replace(EXAMPLE_ADDRESS, readme_server.http_address)
        done = subprocess.run(["bash", "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{block}\n{done.stderr}"
        documents = json_documents(done.stdout)
        assert documents and not any("error" in d for d in documents), done.stdout[:2000]
        outputs.append(documents)
    embedded, media, index = outputs
    assert [len(d["embedding"]) for d in embedded[0]["data"]] == [4, 4]
    assert len(media[0]["data"]) == 2 and all(isinstance(d["embedding"], str) for d in media[0]["data"])
    created, upserted, searched, got, listed, deleted = index
    assert created["name"] == "pets" and created["dimensions"] == 384
    assert all(r["status"] == {} or r["status"].get("code", 0) == 0 for r in upserted["results"])
    assert searched["hits"][0]["id"] == "rex" and searched["hits"][0]["metadata"]["legs"]["number_value"] == 4
    assert got["items"][0]["id"] == "rex"
    assert [c["name"] for c in listed["collections"]] == ["pets"] and deleted == {}


def test_the_python_example_runs(readme_server, text_model):
    (code,) = blocks("python")
    namespace = {}
    exec(code.replace(EXAMPLE_ADDRESS, readme_server.http_address), namespace)
    assert [len(v) for v in namespace["vectors"]] == [384, 384]
