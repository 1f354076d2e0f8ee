"""The OpenAPI 3.1 document (docs/openapi.json, served at GET /openapi.json) against the real server with
schemathesis: generated requests for every operation never get a 5xx, and every response (status, content type,
body) matches the document. Bounded: a few examples per operation (well under a minute)."""
import json
import subprocess
import sys
import urllib.request

import pytest
import schemathesis
from schemathesis import checks as sc

from conftest import REPO_ROOT, TEXT_MODEL_ID, http_server

MAX_EXAMPLES = 15


@pytest.fixture(scope="module")
def openapi_server():
    with http_server("http-openapi", ["--in-memory"]) as s:
        yield s


def test_the_served_document_is_the_committed_one(openapi_server):
    with urllib.request.urlopen(openapi_server.http_url + "/openapi.json", timeout=10) as r:
        served = json.loads(r.read())
    assert served == json.loads((REPO_ROOT / "docs" / "openapi.json").read_text())
    stale = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "embed-static"), "--check"])
    assert stale.returncode == 0, "Sources/HTTPAPI/OpenAPIDocument.swift is stale: run scripts/embed-static"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(openapi_server, text_model):
    # A collection the generated requests can reach (random names only ever find nothing: 404).
    create = urllib.request.Request(openapi_server.http_url + "/v1/collections", method="POST",
                                    data=json.dumps({"name": "fuzz", "model": TEXT_MODEL_ID}).encode())
    urllib.request.urlopen(create, timeout=30).close()
    schema = schemathesis.openapi.from_url(openapi_server.http_url + "/openapi.json")
    schema.config.generation.update(max_examples=MAX_EXAMPLES)
    failures, statuses = [], {}
    operations = [operation.ok() for operation in schema.get_all_operations()]
    for operation in operations:
        strategy = operation.as_strategy()
        from hypothesis import HealthCheck, given, settings

        @given(case=strategy)
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            if case.method == "POST" and "collection" in (case.path_parameters or {}):
                case.path_parameters["collection"] = "fuzz"
            response = case.call(base_url=openapi_server.http_url, timeout=60)
            statuses.setdefault(operation.label, set()).add(response.status_code)
            try:
                case.validate_response(response, checks=[sc.not_a_server_error, sc.status_code_conformance,
                                                         sc.content_type_conformance, sc.response_schema_conformance])
            except Exception as error:  # noqa: BLE001 - collected, reported together below
                failures.append(f"{operation.label}: {error}")
        run()
    assert not failures, "\n\n".join(failures[:5])
    # Every operation was called, and the generated requests reached past validation somewhere (a 200).
    assert set(statuses) == {operation.label for operation in operations}, statuses
    assert any(200 in codes for label, codes in statuses.items() if label.startswith("POST /v1/collections/")), statuses
    print(statuses)
