"""What Client and AsyncClient share: channel options, credentials, and ClientBase (the channel, stubs and per-call
settings)."""
from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence, Tuple, Union

import grpc

from .types import HEALTH_CHECK_METHOD, _identity
from .v1 import embeddings_pb2_grpc, index_pb2_grpc

DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024


def read_pem(pem: Union[str, bytes, "os.PathLike[str]", bool, None]) -> Optional[bytes]:
    """pem may be PEM bytes, a path to a PEM file, or None/True (nothing to read: the system roots for a root)."""
    if pem is None or pem is False or pem is True:
        return None
    if isinstance(pem, bytes):
        return pem
    with open(pem, "rb") as f:
        return f.read()


def channel_options(max_receive_message_bytes: Optional[int], max_send_message_bytes: Optional[int],
                    tls_server_name: Optional[str],
                    extra: Optional[Sequence[Tuple[str, object]]]) -> List[Tuple[str, object]]:
    opts: List[Tuple[str, object]] = [
        ("grpc.max_receive_message_length",
         DEFAULT_MAX_RECEIVE_BYTES if max_receive_message_bytes is None else max_receive_message_bytes),
        ("grpc.max_send_message_length", -1 if max_send_message_bytes is None else max_send_message_bytes),
    ]
    if tls_server_name:
        opts.append(("grpc.ssl_target_name_override", tls_server_name))
    opts.extend(extra or [])
    return opts


def uses_tls(tls_root_cert, tls_client_cert=None) -> bool:
    return (tls_root_cert is not None and tls_root_cert is not False) or tls_client_cert is not None


def credentials(tls_root_cert, tls_client_cert=None, tls_client_key=None) -> grpc.ChannelCredentials:
    """TLS credentials; with a client certificate and key (PEM bytes or paths, both or neither): mutual TLS."""
    if (tls_client_cert is None) != (tls_client_key is None):
        raise ValueError("tls_client_cert and tls_client_key go together (mutual TLS needs both)")
    return grpc.ssl_channel_credentials(root_certificates=read_pem(tls_root_cert),
                                        private_key=read_pem(tls_client_key),
                                        certificate_chain=read_pem(tls_client_cert))


def call_metadata(token: Optional[str], extra: Optional[Sequence[Tuple[str, str]]] = None):
    md = list(extra or [])
    if token:
        md.append(("authorization", f"Bearer {token}"))
    return tuple(md) or None


class ClientBase:
    """The constructor and call settings of Client and AsyncClient (the arguments are documented on Client)."""

    _grpc: Any  # the module that makes the channel: grpc (Client) or grpc.aio (AsyncClient)

    def __init__(self, address: str, *, tls_root_cert: Union[str, bytes, "os.PathLike[str]", bool, None] = None,
                 tls_client_cert: Union[str, bytes, "os.PathLike[str]", None] = None,
                 tls_client_key: Union[str, bytes, "os.PathLike[str]", None] = None,
                 token: Optional[str] = None, timeout: Optional[float] = None,
                 tls_server_name: Optional[str] = None, max_receive_message_bytes: Optional[int] = None,
                 max_send_message_bytes: Optional[int] = None,
                 options: Optional[Sequence[Tuple[str, object]]] = None) -> None:
        self.address = address
        self.timeout = timeout
        self._token = token
        opts = channel_options(max_receive_message_bytes, max_send_message_bytes, tls_server_name, options)
        if uses_tls(tls_root_cert, tls_client_cert):
            creds = credentials(tls_root_cert, tls_client_cert, tls_client_key)
            self.channel = self._grpc.secure_channel(address, creds, options=opts)
        else:
            self.channel = self._grpc.insecure_channel(address, options=opts)
        self.embeddings = embeddings_pb2_grpc.EmbeddingsStub(self.channel)
        self.index = index_pb2_grpc.IndexStub(self.channel)
        self._health = self.channel.unary_unary(HEALTH_CHECK_METHOD, request_serializer=_identity,
                                                response_deserializer=_identity)

    def _kw(self, timeout: Optional[float]):
        """The keyword arguments of one call: its deadline (the client's unless `timeout` is given) and metadata."""
        return {"timeout": self.timeout if timeout is None else timeout, "metadata": call_metadata(self._token)}
