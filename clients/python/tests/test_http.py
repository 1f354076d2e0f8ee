"""The HTTP/JSON API (--http-address) of the real server through the official `openai` SDK and plain HTTP: OpenAI's
embeddings request and response shapes (base64 by default, float, dimensions, batches, images and audio as
content parts), vectors equal to gRPC's bit for bit on the same server, errors as the SDK's exceptions with the
right status and OpenAI's error object, bearer tokens, body size limit (413), malformed JSON, TLS, request ids,
metrics with a transport label, and draining on SIGTERM."""
import base64
import json
import signal
import ssl
import struct
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest

from conftest import REPO_ROOT, TEXT_MODEL_ID, free_port, http_server, make_self_signed_cert

PHOTO = REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos" / "astronaut.jpg"
SPEECH = REPO_ROOT / "Tests" / "Fixtures" / "audio" / "golden" / "dog-en-us-22k.wav"
TOKEN = "http-token-6b1f0c9e2d7a4e58"


@pytest.fixture(scope="module")
def main_http_server():
    port = free_port()
    with http_server("http", ["--metrics-address", f"127.0.0.1:{port}"]) as s:
        s.metrics_url = f"http://127.0.0.1:{port}/metrics"
        yield s


@pytest.fixture(scope="module")
def sdk(main_http_server):
    with openai.OpenAI(base_url=main_http_server.http_url + "/v1", api_key="unused", max_retries=0, timeout=120) as client:
        yield client


def request(url, body=None, method=None, headers=None, context=None):
    """(status, headers, parsed JSON or text) of one plain HTTP request; error statuses are returned, not raised."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120, context=context) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw.decode(errors="replace")


def f32(values):
    """The float32 bytes of `values` (Python floats from JSON or protobuf round to float32 exactly as a C cast)."""
    return struct.pack(f"<{len(values)}f", *values)


def grpc_vectors(server, inputs, **options):
    with server.client() as c:
        result = c.embed(inputs, **options)
    return [bytes(f32(r.embedding.float32)) for r in sorted(result.raw.results, key=lambda r: r.index)], result


TEXTS = ["a dog runs on the beach", "the stock market fell today", "Ünïcödé and emoji 🐕 survive", "short"]


def test_sdk_default_is_base64_and_equals_grpc_bit_for_bit(main_http_server, sdk, text_model):
    response = sdk.embeddings.create(model=TEXT_MODEL_ID, input=TEXTS)
    assert response.object == "list" and response.model == TEXT_MODEL_ID
    assert [d.index for d in response.data] == list(range(len(TEXTS)))
    expected, grpc_result = grpc_vectors(main_http_server, TEXTS, model=TEXT_MODEL_ID)
    assert [f32(d.embedding) for d in response.data] == expected
    assert response.usage.prompt_tokens == response.usage.total_tokens == grpc_result.usage.tokens > 0


def test_float_encoding_equals_grpc_bit_for_bit(main_http_server, sdk, text_model):
    response = sdk.embeddings.create(model=TEXT_MODEL_ID, input=TEXTS, encoding_format="float")
    expected, _ = grpc_vectors(main_http_server, TEXTS, model=TEXT_MODEL_ID)
    assert [f32(d.embedding) for d in response.data] == expected
    # The raw body really is base64 of little-endian float32 when asked (not the SDK's decoding).
    status, _, body = request(main_http_server.http_url + "/v1/embeddings",
                              {"model": TEXT_MODEL_ID, "input": TEXTS[0], "encoding_format": "base64"})
    assert status == 200 and base64.b64decode(body["data"][0]["embedding"]) == expected[0]


def test_a_single_string_and_the_default_model(main_http_server, sdk, text_model):
    one = sdk.embeddings.create(model=TEXT_MODEL_ID, input=TEXTS[1])
    assert len(one.data) == 1 and len(one.data[0].embedding) == 384
    status, _, body = request(main_http_server.http_url + "/v1/embeddings", {"input": TEXTS[1], "encoding_format": "float"})
    assert status == 200 and f32(body["data"][0]["embedding"]) == f32(one.data[0].embedding)


def test_dimensions_truncate_and_renormalise_as_grpc(main_http_server, sdk, text_model):
    response = sdk.embeddings.create(model=TEXT_MODEL_ID, input=TEXTS[:2], dimensions=64)
    assert all(len(d.embedding) == 64 for d in response.data)
    assert abs(sum(x * x for x in response.data[0].embedding) - 1) < 1e-5
    expected, _ = grpc_vectors(main_http_server, TEXTS[:2], model=TEXT_MODEL_ID, dimensions=64)
    assert [f32(d.embedding) for d in response.data] == expected
    with pytest.raises(openai.BadRequestError) as e:
        sdk.embeddings.create(model=TEXT_MODEL_ID, input="x", dimensions=385)
    assert "dimensions is 385" in e.value.message and "384" in e.value.message


def test_a_batch_keeps_order(main_http_server, sdk, text_model):
    texts = [f"sentence number {i} about topic {i % 7}" for i in range(40)]
    response = sdk.embeddings.create(model=TEXT_MODEL_ID, input=texts, encoding_format="float")
    assert [d.index for d in response.data] == list(range(40))
    expected, _ = grpc_vectors(main_http_server, texts, model=TEXT_MODEL_ID)
    assert [f32(d.embedding) for d in response.data] == expected


def test_rosetta_options_as_extra_fields(main_http_server, sdk, text_model):
    response = sdk.embeddings.create(model=TEXT_MODEL_ID, input=TEXTS[:2], encoding_format="float",
                                     extra_body={"instruction": "Represent this sentence for searching relevant passages"})
    expected, _ = grpc_vectors(main_http_server, TEXTS[:2], model=TEXT_MODEL_ID,
                               instruction="Represent this sentence for searching relevant passages")
    assert [f32(d.embedding) for d in response.data] == expected
    status, _, body = request(main_http_server.http_url + "/v1/embeddings",
                              {"model": TEXT_MODEL_ID, "input": TEXTS[0], "encoding_format": "int8"})
    assert status == 200
    codes, scale = body["data"][0]["embedding"], body["data"][0]["scale"]
    assert len(codes) == 384 and all(-127 <= c <= 127 for c in codes) and scale > 0
    status, _, body = request(main_http_server.http_url + "/v1/embeddings",
                              {"model": TEXT_MODEL_ID, "input": TEXTS[0], "encoding_format": "binary"})
    assert status == 200 and len(body["data"][0]["embedding"]) == 48


def test_image_and_audio_content_parts_equal_grpc(main_http_server, sdk, text_model):
    image = base64.b64encode(PHOTO.read_bytes()).decode()
    audio = base64.b64encode(SPEECH.read_bytes()).decode()
    parts = [
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{image}"}},
        {"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}},
        "a dog",
    ]
    # The SDK passes a list through as it is: content parts travel in `input` itself.
    response = sdk.embeddings.create(model=TEXT_MODEL_ID, input=parts, encoding_format="float")
    import rosetta
    expected, result = grpc_vectors(main_http_server, [rosetta.Image.from_path(PHOTO), rosetta.Audio.from_path(SPEECH), "a dog"],
                                    model=TEXT_MODEL_ID)
    assert [f32(d.embedding) for d in response.data] == expected
    status, _, body = request(main_http_server.http_url + "/v1/embeddings", {"model": TEXT_MODEL_ID, "input": parts[1:2]})
    assert status == 200 and "dog" in body["data"][0]["transcript"].lower()


def test_errors_arrive_as_the_sdks_exceptions(main_http_server, sdk, text_model):
    with pytest.raises(openai.NotFoundError) as e:
        sdk.embeddings.create(model="text-embedding-3-small", input="x")
    assert e.value.status_code == 404 and TEXT_MODEL_ID in e.value.message
    assert e.value.body["code"] == "model_not_found" and e.value.body["type"] == "not_found_error"
    with pytest.raises(openai.BadRequestError) as e:
        sdk.embeddings.create(model=TEXT_MODEL_ID, input=[[1, 2, 3]])
    assert "token ids" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        sdk.embeddings.create(model=TEXT_MODEL_ID, input=["fine", "   "])
    assert e.value.body["param"] == "input" and e.value.body["message"].startswith("input[1]: ")
    with pytest.raises(openai.BadRequestError) as e:
        sdk.embeddings.create(model=TEXT_MODEL_ID, input=[{"type": "image_url", "image_url": {"url": "http://169.254.169.254/x.png"}}])
    assert "does not fetch remote URLs" in e.value.message and "--remote-media" in e.value.message
    with pytest.raises(openai.APIStatusError) as e:
        sdk.embeddings.create(model=TEXT_MODEL_ID, input=["x"] * 257)
    assert e.value.status_code == 413 and "256" in e.value.message


def test_malformed_json_is_400_with_a_readable_message(main_http_server):
    status, headers, body = request(main_http_server.http_url + "/v1/embeddings", b'{"input": "a", "model": ')
    assert status == 400
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert "not a valid JSON document" in body["error"]["message"] and body["error"]["type"] == "invalid_request_error"
    assert headers["x-request-id"]


def test_oversize_body_is_413(tmp_path):
    with http_server("http-small", ["--max-message-bytes", "100000"]) as s:
        big = {"model": TEXT_MODEL_ID, "input": ["word " * 30000]}
        status, _, body = request(s.http_url + "/v1/embeddings", big)
        assert status == 413 and "100000 bytes" in body["error"]["message"]
        with openai.OpenAI(base_url=s.http_url + "/v1", api_key="x", max_retries=0) as sdk:
            with pytest.raises(openai.APIStatusError) as e:
                sdk.embeddings.create(model=TEXT_MODEL_ID, input=["word " * 30000])
            assert e.value.status_code == 413
            # The connection was refused, not the server: the next request is served.
            assert sdk.embeddings.create(model=TEXT_MODEL_ID, input="fine").data


def test_models_health_and_request_ids(main_http_server, sdk, text_model):
    models = sdk.models.list()
    ours = [m for m in models.data if m.id == TEXT_MODEL_ID]
    assert ours and ours[0].object == "model"
    extra = ours[0].model_extra
    assert extra["dimensions"] == 384 and "text" in extra["modalities"] and extra["space"].startswith(TEXT_MODEL_ID)
    assert sdk.models.retrieve(TEXT_MODEL_ID).id == TEXT_MODEL_ID
    assert request(main_http_server.http_url + "/healthz")[0] == 200
    assert request(main_http_server.http_url + "/readyz")[0] == 200
    status, headers, _ = request(main_http_server.http_url + "/v1/models", headers={"x-request-id": "trace-me-42"})
    assert status == 200 and headers["x-request-id"] == "trace-me-42"
    status, _, body = request(main_http_server.http_url + "/v1/nothing")
    assert status == 404 and body["error"]["type"] == "not_found_error"


def test_metrics_carry_the_transport(main_http_server, sdk, text_model):
    sdk.embeddings.create(model=TEXT_MODEL_ID, input="count me")
    with urllib.request.urlopen(main_http_server.metrics_url, timeout=10) as r:
        text = r.read().decode()
    assert 'rosetta_requests_total{method="POST /v1/embeddings",code="OK",transport="http"}' in text
    assert 'transport="grpc"' in text


def test_bearer_tokens_as_grpc(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKEN + "\n")
    with http_server("http-auth", ["--token-file", str(tokens)]) as s:
        with openai.OpenAI(base_url=s.http_url + "/v1", api_key="wrong", max_retries=0) as sdk:
            with pytest.raises(openai.AuthenticationError) as e:
                sdk.embeddings.create(model=TEXT_MODEL_ID, input="x")
            assert e.value.status_code == 401 and "wrong" not in e.value.message
        with openai.OpenAI(base_url=s.http_url + "/v1", api_key=TOKEN, max_retries=0) as sdk:
            assert len(sdk.embeddings.create(model=TEXT_MODEL_ID, input="x").data) == 1
        status, headers, _ = request(s.http_url + "/v1/collections")
        assert status == 401 and headers["www-authenticate"] == "Bearer"
        assert request(s.http_url + "/healthz")[0] == 200


def test_tls_with_the_grpc_certificate(tmp_path):
    cert, key, pem = make_self_signed_cert(tmp_path)
    with http_server("http-tls", ["--tls-cert", str(cert), "--tls-key", str(key)], tls_root_cert=pem) as s:
        https = s.http_url.replace("http://", "https://")
        with openai.OpenAI(base_url=https + "/v1", api_key="x", max_retries=0,
                           http_client=openai.DefaultHttpxClient(verify=ssl.create_default_context(cadata=pem.decode()))) as sdk:
            assert len(sdk.embeddings.create(model=TEXT_MODEL_ID, input="secure").data) == 1
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(https + "/healthz", timeout=10)  # not trusted without the certificate


def _queue_depth(metrics_url):
    with urllib.request.urlopen(metrics_url, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("rosetta_inference_queue_depth "):
                return float(line.split()[1])
    return 0.0


def test_sigterm_drains_http_requests_in_flight(tmp_path):
    metrics_port = free_port()
    # A drain deadline far beyond the request's work, so that a slow (loaded) machine changes nothing.
    with http_server("http-drain", ["--metrics-address", f"127.0.0.1:{metrics_port}", "--drain-seconds", "300"]) as s:
        audio = base64.b64encode(SPEECH.read_bytes()).decode()
        body = {"model": TEXT_MODEL_ID, "input": [{"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}}] * 8}
        results = []
        worker = threading.Thread(target=lambda: results.append(request(s.http_url + "/v1/embeddings", body)))
        worker.start()
        # SIGTERM once the request is in the inference queue (8 clips of speech take seconds to transcribe).
        deadline = time.monotonic() + 60
        while _queue_depth(f"http://127.0.0.1:{metrics_port}/metrics") < 1 and worker.is_alive():
            assert time.monotonic() < deadline, "the request never reached the queue"
            time.sleep(0.01)
        s.proc.send_signal(signal.SIGTERM)
        worker.join(120)
        assert results and results[0][0] == 200, results
        assert len(results[0][2]["data"]) == 8
        assert s.proc.wait(60) == 0
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(s.http_url + "/healthz", timeout=5)
