"""Errors raised by the Rosetta client."""
from __future__ import annotations

from typing import Optional

import grpc

# google.rpc.Code numbers -> grpc.StatusCode, for per-item statuses (ItemStatus.code).
_CODE_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def status_code_from_number(number: int) -> grpc.StatusCode:
    """Maps a google.rpc.Code number (as in ItemStatus.code) to a grpc.StatusCode (UNKNOWN if out of range)."""
    return _CODE_BY_NUMBER.get(int(number), grpc.StatusCode.UNKNOWN)


class RosettaError(Exception):
    """A failed call, or a failed item of a batch.

    Attributes:
        code: the grpc.StatusCode (e.g. grpc.StatusCode.INVALID_ARGUMENT).
        message: the server's message (the status details).
        index: for a per-item failure, the position of the item in its request; None for a whole-call failure.
    """

    def __init__(self, code: grpc.StatusCode, message: str, *, index: Optional[int] = None) -> None:
        self.code = code
        self.message = message
        self.index = index
        where = f"item {index}: " if index is not None else ""
        super().__init__(f"{where}{code.name}: {message}")

    @property
    def code_number(self) -> int:
        """The numeric google.rpc.Code (3 for INVALID_ARGUMENT, ...)."""
        return self.code.value[0]

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "RosettaError":
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = error.details() if hasattr(error, "details") else str(error)
        return cls(code or grpc.StatusCode.UNKNOWN, details or "")

    @classmethod
    def from_item_status(cls, code: int, message: str, index: int) -> "RosettaError":
        return cls(status_code_from_number(code), message, index=index)
