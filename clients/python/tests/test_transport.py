"""TLS with a self-signed certificate made by the test, and the message-size limit."""
import grpc
import pytest

import rosetta
from conftest import SMALL_MESSAGE_BYTES


def test_tls_client_with_root_cert_succeeds(tls_server):
    with tls_server.client() as c:
        assert c.health("", timeout=10) == "SERVING"
        assert c.info(timeout=10).version


def test_tls_client_by_hostname(tls_server):
    with rosetta.Client(f"localhost:{tls_server.port}", tls_root_cert=tls_server.tls_root_cert, timeout=10) as c:
        assert c.health() == "SERVING"


def test_plaintext_client_to_tls_server_fails(tls_server):
    with rosetta.Client(tls_server.address, timeout=5) as c:
        with pytest.raises(rosetta.RosettaError) as ei:
            c.info()
    assert ei.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), ei.value


def test_tls_client_without_the_cert_fails(tls_server):
    # System roots only: the self-signed certificate is not trusted.
    with rosetta.Client(tls_server.address, tls_root_cert=True, timeout=5) as c:
        with pytest.raises(rosetta.RosettaError) as ei:
            c.info()
    assert ei.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), ei.value


def test_tls_client_to_plaintext_server_fails(server):
    from conftest import make_self_signed_cert
    import tempfile, pathlib
    _, _, pem = make_self_signed_cert(pathlib.Path(tempfile.mkdtemp()))
    with rosetta.Client(server.address, tls_root_cert=pem, timeout=5) as c:
        with pytest.raises(rosetta.RosettaError) as ei:
            c.info()
    assert ei.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), ei.value


def test_info_reports_the_message_limit(small_message_server):
    with small_message_server.client() as c:
        assert c.info().limits.max_message_bytes == SMALL_MESSAGE_BYTES


def test_oversized_message_is_resource_exhausted(small_message_server):
    with small_message_server.client() as c:
        big = "x" * (SMALL_MESSAGE_BYTES * 2)
        with pytest.raises(rosetta.RosettaError) as ei:
            c.embed([big], timeout=30)
        assert ei.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED, ei.value
        # A small request on the same server and channel is not refused for its size.
        try:
            c.embed(["hello"], timeout=30)
        except rosetta.RosettaError as e:  # e.g. FAILED_PRECONDITION on a server without a text model
            assert e.code != grpc.StatusCode.RESOURCE_EXHAUSTED, e
        with pytest.raises(rosetta.RosettaError) as ei3:
            list(c.embed_stream(iter([rosetta.embed_request([big], request_id="big")]), timeout=30))
        assert ei3.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED, ei3.value
        # The server still serves normal-sized requests afterwards.
        assert c.health() == "SERVING"
