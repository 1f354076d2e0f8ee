"""Channel options and credentials shared by Client and AsyncClient."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple, Union

import grpc

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
                    tls_server_name: Optional[str], extra: Optional[Sequence[Tuple[str, object]]]) -> List[Tuple[str, object]]:
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
