"""Blocking client for the rosetta.v1 Embeddings and Index services."""
from __future__ import annotations

from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import grpc

from ._channel import ClientBase
from ._errors import RosettaError
from .filters import FilterLike
from .types import (Audio, EmbedResult, Hits, Image, InputLike, ItemLike, PartLike, PathOrMedia, StoredItem,
                    check_upsert, create_collection_request, decode_health_response, delete_request, embed_request,
                    embed_result, encode_health_request, get_request, hits, search_request, stored_items, text_list,
                    to_media, upsert_request)
from .v1 import embeddings_pb2, index_pb2


class Client(ClientBase):
    """A connection to a Rosetta server.

        with rosetta.Client("127.0.0.1:50051") as c:
            print(c.info().version)
            vectors = c.embed_text(["a cat", "a dog"])

    Args:
        address: "host:port" (or any gRPC target, e.g. "unix:/path").
        tls_root_cert: None for plaintext; PEM bytes or a path to a PEM file to trust (TLS); True for TLS
            with the system roots.
        tls_client_cert, tls_client_key: client certificate chain and key (PEM bytes or paths) for mutual TLS.
        token: sent as "authorization: Bearer <token>" on every call.
        timeout: default deadline of each call, in seconds (None: no deadline).
        tls_server_name: overrides the name checked against the server certificate.
        max_receive_message_bytes: client receive limit (default 64 MiB).
        max_send_message_bytes: client send limit (default: none).
        options: extra gRPC channel options.

    Every failed call raises RosettaError (with .code, a grpc.StatusCode, and .message).
    """

    _grpc = grpc

    # -- plumbing

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request, timeout: Optional[float]):
        try:
            return method(request, **self._kw(timeout))
        except grpc.RpcError as e:
            raise RosettaError.from_rpc_error(e) from None

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel is connected (raises RosettaError UNAVAILABLE after `timeout`)."""
        try:
            grpc.channel_ready_future(self.channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise RosettaError(grpc.StatusCode.UNAVAILABLE, f"{self.address} not ready after {timeout}s") from None

    # -- health / info

    def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        """grpc.health.v1 Check: "SERVING", "NOT_SERVING", ... ("" is the whole server)."""
        return decode_health_response(self._call(self._health, encode_health_request(service), timeout))

    def info(self, *, timeout: Optional[float] = None) -> embeddings_pb2.InfoResponse:
        return self._call(self.embeddings.Info, embeddings_pb2.InfoRequest(), timeout)

    # -- embeddings

    def embed(self, inputs: Iterable[InputLike], *, timeout: Optional[float] = None, **options) -> EmbedResult:
        """Embeds a batch of mixed inputs (str, rosetta.Image, rosetta.Audio). Per-item failures do not raise:
        look at each Embedding's .ok / .code, or call .raise_for_status(). Options as embed_request()."""
        return embed_result(self._call(self.embeddings.Embed, embed_request(inputs, **options), timeout))

    def embed_text(self, texts: Iterable[str], *, model: Optional[str] = None, instruction: Optional[str] = None,
                   prompt_name: Optional[str] = None, dimensions: Optional[int] = None, normalize: bool = True,
                   encoding: str = "float32", pooling: Optional[str] = None, truncate: Optional[str] = None,
                   timeout: Optional[float] = None) -> List[List[float]]:
        """One vector (list of floats) per text. int8 results are dequantised, binary ones given as +1/-1
        signs (use embed() for the raw codes). Raises RosettaError if any text fails."""
        return self.embed(text_list(texts), model=model, instruction=instruction, prompt_name=prompt_name,
                          dimensions=dimensions, normalize=normalize, encoding=encoding, pooling=pooling,
                          truncate=truncate, timeout=timeout).vectors

    def embed_image(self, image: Union[PathOrMedia, Image], *, mime_type: Optional[str] = None,
                    timeout: Optional[float] = None, **options) -> List[float]:
        """The vector of one image (a path, raw bytes or rosetta.Image)."""
        return self.embed([to_media(Image, image, mime_type)], timeout=timeout, **options).vectors[0]

    def embed_audio(self, audio: Union[PathOrMedia, Audio], *, mime_type: Optional[str] = None,
                    timeout: Optional[float] = None, **options) -> List[float]:
        """The vector of one audio clip (a path, raw bytes or rosetta.Audio)."""
        return self.embed([to_media(Audio, audio, mime_type)], timeout=timeout, **options).vectors[0]

    def embed_stream(self, requests: Iterable[embeddings_pb2.EmbedRequest], *,
                     timeout: Optional[float] = None) -> Iterator[EmbedResult]:
        """Bidirectional EmbedStream: one EmbedResult per request, in order. Build requests with
        rosetta.embed_request(...) (set request_id to match answers)."""
        try:
            for resp in self.embeddings.EmbedStream(iter(requests), **self._kw(timeout)):
                yield embed_result(resp)
        except grpc.RpcError as e:
            raise RosettaError.from_rpc_error(e) from None

    # -- index

    def create_collection(self, name: str, *, model: Optional[str] = None, dimensions: Optional[int] = None,
                          metric: str = "cosine", storage: str = "float32", keep_previews: bool = False,
                          timeout: Optional[float] = None) -> index_pb2.Collection:
        return self._call(self.index.CreateCollection,
                          create_collection_request(name, model=model, dimensions=dimensions, metric=metric,
                                                    storage=storage, keep_previews=keep_previews), timeout)

    def delete_collection(self, name: str, *, timeout: Optional[float] = None) -> None:
        self._call(self.index.DeleteCollection, index_pb2.DeleteCollectionRequest(name=name), timeout)

    def list_collections(self, *, timeout: Optional[float] = None) -> List[index_pb2.Collection]:
        return list(self._call(self.index.ListCollections, index_pb2.ListCollectionsRequest(), timeout).collections)

    def upsert(self, collection: str, items: Iterable[ItemLike], *, instruction: Optional[str] = None,
               prompt_name: Optional[str] = None, pooling: Optional[str] = None, check: bool = True,
               timeout: Optional[float] = None) -> index_pb2.UpsertResponse:
        """Inserts or replaces items (rosetta.Item or dicts like {"id": "a", "text": "...", "metadata": {...}}).
        With check=True a failed item raises RosettaError (with .index)."""
        resp = self._call(self.index.Upsert, upsert_request(collection, items, instruction=instruction,
                                                            prompt_name=prompt_name, pooling=pooling), timeout)
        return check_upsert(resp) if check else resp

    def upsert_stream(self, requests: Iterable[index_pb2.UpsertRequest], *,
                      timeout: Optional[float] = None) -> Iterator[index_pb2.UpsertResponse]:
        """Bulk load over one bidi stream: yields one UpsertResponse per request, in order (build requests with
        rosetta.types.upsert_request). A response means its items are durable on the server."""
        try:
            for resp in self.index.UpsertStream(iter(requests), **self._kw(timeout)):
                yield resp
        except grpc.RpcError as e:
            raise RosettaError.from_rpc_error(e) from None

    def search(self, collection: str, *, text: Optional[str] = None, image: Optional[Union[PathOrMedia, Image]] = None,
               audio: Optional[Union[PathOrMedia, Audio]] = None, vector: Optional[Sequence[float]] = None,
               top_k: int = 10, filter: Optional[FilterLike] = None, min_score: Optional[float] = None,
               modalities: Optional[Iterable[str]] = None, instruction: Optional[str] = None,
               prompt_name: Optional[str] = None, pooling: Optional[str] = None, include_vectors: bool = False,
               vector_space: Optional[str] = None, combination: Optional[Sequence[PartLike]] = None,
               include_query_vector: bool = False, include_previews: bool = False,
               timeout: Optional[float] = None) -> Hits:
        """The top_k nearest items to one query: text, image or audio (a path, raw bytes, rosetta.Image or
        rosetta.Audio), embedded by the collection's model, a vector, or a weighted combination of inputs and
        vectors, [(input or vector, weight), ...] (negative weights push away; at least one must be positive).
        vector_space names the space the vector comes from; when given it must be the collection's (else
        FAILED_PRECONDITION). With include_query_vector the result's .query_vector is the vector searched."""
        req = search_request(collection, text=text, image=image, audio=audio, vector=vector, top_k=top_k,
                             filter=filter, min_score=min_score, modalities=modalities, instruction=instruction,
                             prompt_name=prompt_name, pooling=pooling, include_vectors=include_vectors,
                             vector_space=vector_space, combination=combination,
                             include_query_vector=include_query_vector, include_previews=include_previews)
        return hits(self._call(self.index.Search, req, timeout))

    def get(self, collection: str, ids: Iterable[str], *, include_vectors: bool = False,
            include_previews: bool = False,
            timeout: Optional[float] = None) -> Tuple[List[StoredItem], List[str]]:
        """Returns (items found, ids missing)."""
        resp = self._call(self.index.Get, get_request(collection, ids, include_vectors=include_vectors,
                                                      include_previews=include_previews), timeout)
        return stored_items(resp), list(resp.missing_ids)

    def delete(self, collection: str, ids: Optional[Iterable[str]] = None, *, filter: Optional[FilterLike] = None,
               timeout: Optional[float] = None) -> int:
        """Deletes by ids or by filter; returns how many items were deleted. A filter that constrains nothing
        ({}, F.all_()) raises ValueError before anything is sent: to delete everything, delete the collection."""
        return self._call(self.index.Delete, delete_request(collection, ids, filter), timeout).deleted
