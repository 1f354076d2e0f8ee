"""Python client for Rosetta, the multimodal embedding gRPC service (API rosetta.v1).

    import rosetta
    with rosetta.Client("127.0.0.1:50051") as client:
        print(client.info().version)
        [v] = client.embed_text(["a photo of a cat"])

Generated stubs: rosetta.v1.common_pb2, embeddings_pb2(_grpc), index_pb2(_grpc).
"""
from ._errors import RosettaError, status_code_from_number
from .aio import AsyncClient
from .client import Client
from .types import (Audio, Embedding, EmbedResult, Hit, Hits, Image, Item, Preview, StoredItem, binary_to_signs,
                    cosine, dequantize_int8, embed_request, hamming, int8_values, norm, pack_bits, unpack_bits)
from . import filters

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "Audio", "Client", "Embedding", "EmbedResult", "Hit", "Hits", "Image", "Item", "Preview",
    "RosettaError", "StoredItem", "binary_to_signs", "cosine", "dequantize_int8", "embed_request", "filters", "hamming",
    "int8_values", "norm", "pack_bits", "status_code_from_number", "unpack_bits", "__version__",
]
