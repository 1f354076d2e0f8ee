"""Channel options and credentials shared by Client and AsyncClient."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple, Union

import grpc

DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024


def read_root_cert(tls_root_cert: Union[str, bytes, "os.PathLike[str]", bool, None]) -> Optional[bytes]:
    """tls_root_cert may be PEM bytes, a path to a PEM file, or True (system roots)."""
    if tls_root_cert is None or tls_root_cert is False or tls_root_cert is True:
        return None
    if isinstance(tls_root_cert, bytes):
        return tls_root_cert
    with open(tls_root_cert, "rb") as f:
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


def uses_tls(tls_root_cert) -> bool:
    return tls_root_cert is not None and tls_root_cert is not False


def credentials(tls_root_cert) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(root_certificates=read_root_cert(tls_root_cert))


def call_metadata(token: Optional[str], extra: Optional[Sequence[Tuple[str, str]]] = None):
    md = list(extra or [])
    if token:
        md.append(("authorization", f"Bearer {token}"))
    return tuple(md) or None
