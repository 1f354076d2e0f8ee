"""Images named by http(s) URL in POST /v1/embeddings (`image_url` content parts), fetched by the server only when
its operator enables it (--remote-media), with the SSRF guards of Sources/HTTPAPI/RemoteMedia.swift: loopback,
private and link-local targets refused unless --remote-media-allow-private, redirects followed and re-checked (at
most 3), a timeout per URL, the images of one request together within --max-message-bytes. The media server is a
real HTTP server on loopback started here; the vectors equal those of the same image sent inline, bit for bit."""
import base64
import http.server
import threading

import openai
import pytest

from conftest import REPO_ROOT, TEXT_MODEL_ID, http_server

PHOTO = (REPO_ROOT / "Tests" / "Fixtures" / "images" / "photos" / "astronaut.jpg").read_bytes()
MESSAGE_BYTES = 1_000_000  # the servers' --max-message-bytes: the budget of the images of one request
PART = 600_000  # /part serves this many bytes: one fits the budget, two do not


class MediaHandler(http.server.BaseHTTPRequestHandler):
    release = threading.Event()  # set at teardown: frees the /stall handlers

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", content_type="image/jpeg", length=True, headers=()):
        self.send_response(status)
        self.send_header("content-type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        if length:
            self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        routes = {
            "/photo.jpg": lambda: self.send(200, PHOTO, "image/jpeg; charset=binary"),
            "/redirect": lambda: self.send(302, headers=[("location", "/photo.jpg")]),
            "/redirect-absolute": lambda: self.send(301, headers=[("location", f"http://127.0.0.1:{self.server.server_port}/redirect")]),
            "/loop": lambda: self.send(302, headers=[("location", "/loop")]),
            "/missing": lambda: self.send(404, b"no such image", "text/plain"),
            "/text": lambda: self.send(200, b"this is not an image", "text/plain"),
            "/big": lambda: self.send(200, b"\xff" * (MESSAGE_BYTES + 1)),
            "/big-unannounced": lambda: self.send(200, b"\xff" * (MESSAGE_BYTES + 1), length=False),
            "/part": lambda: self.send(200, PHOTO + b"\0" * (PART - len(PHOTO))),
            "/stall": self.stall,
        }
        routes.get(self.path, lambda: self.send(404, b"", "text/plain"))()

    def stall(self):
        self.send_response(200)
        self.send_header("content-type", "image/jpeg")
        self.send_header("content-length", str(len(PHOTO)))
        self.end_headers()
        self.wfile.write(PHOTO[:100])
        self.wfile.flush()
        self.release.wait(60)


@pytest.fixture(scope="module")
def media():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MediaHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    MediaHandler.release.set()
    server.shutdown()
    server.server_close()


def sdk_for(server):
    return openai.OpenAI(base_url=server.http_url + "/v1", api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def trusting():
    """--remote-media with loopback allowed (a trusted network), so the tests' media server can be reached."""
    with http_server("remote-media-private", ["--remote-media", "--remote-media-allow-private", "--remote-media-timeout", "2",
                                              "--max-message-bytes", str(MESSAGE_BYTES)]) as s:
        with sdk_for(s) as sdk:
            yield sdk


@pytest.fixture(scope="module")
def guarded():
    """--remote-media as an operator would enable it on a server facing the internet."""
    with http_server("remote-media", ["--remote-media"]) as s:
        with sdk_for(s) as sdk:
            yield sdk


def image(url):
    return {"type": "image_url", "image_url": {"url": url}}


def vector(sdk, *parts):
    return [d.embedding for d in sdk.embeddings.create(model="", input=list(parts), encoding_format="float").data]


def refusal(sdk, *parts):
    with pytest.raises(openai.BadRequestError) as e:
        sdk.embeddings.create(model="", input=list(parts))
    return e.value.message


def test_a_fetched_image_equals_the_same_image_inline_bit_for_bit(trusting, media):
    inline = vector(trusting, image("data:image/jpeg;base64," + base64.b64encode(PHOTO).decode()))
    assert vector(trusting, image(f"{media}/photo.jpg")) == inline
    # Relative and absolute redirects are followed (two hops here).
    assert vector(trusting, image(f"{media}/redirect-absolute")) == inline
    # Mixed with text in one request, each at its own index.
    text, fetched = vector(trusting, "an astronaut", image(f"{media}/photo.jpg"))
    assert fetched == inline[0] and text != fetched


def test_fetch_failures_name_the_url_and_what_to_do(trusting, media):
    assert "answered HTTP 404" in refusal(trusting, image(f"{media}/missing"))
    assert "redirects more than 3 times" in refusal(trusting, image(f"{media}/loop"))
    message = refusal(trusting, image(f"{media}/text"))
    assert "image" in message.lower()  # the decoder's own message about the bytes
    for path in ("/big", "/big-unannounced"):
        assert f"larger than the {MESSAGE_BYTES} bytes" in refusal(trusting, image(f"{media}{path}"))
    # The budget is per request: one 600 kB image fits, two do not.
    assert len(vector(trusting, image(f"{media}/part"))) == 1
    assert "larger than" in refusal(trusting, image(f"{media}/part"), image(f"{media}/part"))
    assert "could not be resolved" in refusal(trusting, image("http://no-such-host.invalid/x.jpg"))


def test_a_stalled_server_is_cut_off_at_the_timeout(trusting, media):
    assert "did not answer in full within" in refusal(trusting, image(f"{media}/stall"))
    # The server is free again for the next request.
    assert len(vector(trusting, "still serving")) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.1.2.3", "192.168.0.1",
                                  "172.16.5.4", "100.64.0.1", "0.0.0.0", "[::ffff:127.0.0.1]", "[fd00::1]", "2130706433"])
def test_private_and_loopback_targets_are_refused_without_the_operators_consent(guarded, host):
    message = refusal(guarded, image(f"http://{host}/x.jpg"))
    assert "--remote-media-allow-private" in message, message


def test_redirects_to_private_targets_are_refused(guarded, media):
    # The first URL is already loopback here; the hop check is the same code (RemoteMedia.fetch checks each URL).
    assert "--remote-media-allow-private" in refusal(guarded, image(f"{media}/redirect"))


def test_other_schemes_and_bad_urls_are_refused(guarded):
    assert "data URI" in refusal(guarded, image("ftp://example.com/x.jpg"))
    assert "data URI" in refusal(guarded, image("file:///etc/passwd"))
    assert "not a valid http(s) URL" in refusal(guarded, image("http://"))

