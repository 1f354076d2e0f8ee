"""asyncio client (grpc.aio) with the same methods as rosetta.Client, as coroutines."""
from __future__ import annotations

import os
from typing import AsyncIterable, AsyncIterator, Iterable, List, Optional, Sequence, Tuple, Union

import grpc
import grpc.aio

from . import _channel
from ._errors import RosettaError
from .client import PathOrMedia, _media
from .filters import FilterLike
from .types import (HEALTH_CHECK_METHOD, Audio, EmbedResult, Hit, Image, InputLike, ItemLike, StoredItem,
                    _identity, check_upsert, create_collection_request, decode_health_response, delete_request,
                    embed_request, embed_result, encode_health_request, hits, search_request, stored_items,
                    upsert_request)
from .v1 import embeddings_pb2, embeddings_pb2_grpc, index_pb2, index_pb2_grpc


class AsyncClient:
    """asyncio variant of rosetta.Client:

        async with rosetta.AsyncClient("127.0.0.1:50051") as c:
            vectors = await c.embed_text(["a cat"])
    """

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
        opts = _channel.channel_options(max_receive_message_bytes, max_send_message_bytes, tls_server_name, options)
        if _channel.uses_tls(tls_root_cert, tls_client_cert):
            creds = _channel.credentials(tls_root_cert, tls_client_cert, tls_client_key)
            self.channel = grpc.aio.secure_channel(address, creds, options=opts)
        else:
            self.channel = grpc.aio.insecure_channel(address, options=opts)
        self.embeddings = embeddings_pb2_grpc.EmbeddingsStub(self.channel)
        self.index = index_pb2_grpc.IndexStub(self.channel)
        self._health = self.channel.unary_unary(HEALTH_CHECK_METHOD, request_serializer=_identity,
                                                response_deserializer=_identity)

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def _kw(self, timeout: Optional[float]):
        return {"timeout": self.timeout if timeout is None else timeout,
                "metadata": _channel.call_metadata(self._token)}

    async def _call(self, method, request, timeout: Optional[float]):
        try:
            return await method(request, **self._kw(timeout))
        except grpc.RpcError as e:
            raise RosettaError.from_rpc_error(e) from None

    async def wait_ready(self, timeout: float = 10.0) -> None:
        import asyncio
        try:
            await asyncio.wait_for(self.channel.channel_ready(), timeout)
        except asyncio.TimeoutError:
            raise RosettaError(grpc.StatusCode.UNAVAILABLE, f"{self.address} not ready after {timeout}s") from None

    async def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        return decode_health_response(await self._call(self._health, encode_health_request(service), timeout))

    async def info(self, *, timeout: Optional[float] = None) -> embeddings_pb2.InfoResponse:
        return await self._call(self.embeddings.Info, embeddings_pb2.InfoRequest(), timeout)

    async def embed(self, inputs: Iterable[InputLike], *, timeout: Optional[float] = None, **options) -> EmbedResult:
        return embed_result(await self._call(self.embeddings.Embed, embed_request(inputs, **options), timeout))

    async def embed_text(self, texts: Iterable[str], *, model: Optional[str] = None,
                         instruction: Optional[str] = None, prompt_name: Optional[str] = None,
                         dimensions: Optional[int] = None, normalize: bool = True, encoding: str = "float32",
                         pooling: Optional[str] = None, truncate: Optional[str] = None,
                         timeout: Optional[float] = None) -> List[List[float]]:
        if isinstance(texts, str):
            raise TypeError("texts is a list of strings; wrap a single text in [ ]")
        result = await self.embed(list(texts), model=model, instruction=instruction, prompt_name=prompt_name,
                                  dimensions=dimensions, normalize=normalize, encoding=encoding, pooling=pooling,
                                  truncate=truncate, timeout=timeout)
        return result.vectors

    async def embed_image(self, image: Union[PathOrMedia, Image], *, mime_type: Optional[str] = None,
                          timeout: Optional[float] = None, **options) -> List[float]:
        return (await self.embed([_media(Image, image, mime_type)], timeout=timeout, **options)).vectors[0]

    async def embed_audio(self, audio: Union[PathOrMedia, Audio], *, mime_type: Optional[str] = None,
                          timeout: Optional[float] = None, **options) -> List[float]:
        return (await self.embed([_media(Audio, audio, mime_type)], timeout=timeout, **options)).vectors[0]

    async def embed_stream(self, requests: Union[Iterable[embeddings_pb2.EmbedRequest],
                                                 AsyncIterable[embeddings_pb2.EmbedRequest]], *,
                           timeout: Optional[float] = None) -> AsyncIterator[EmbedResult]:
        call = self.embeddings.EmbedStream(requests, **self._kw(timeout))
        try:
            async for resp in call:
                yield embed_result(resp)
        except grpc.RpcError as e:
            raise RosettaError.from_rpc_error(e) from None

    async def create_collection(self, name: str, *, model: Optional[str] = None, dimensions: Optional[int] = None,
                                metric: str = "cosine", storage: str = "float32",
                                timeout: Optional[float] = None) -> index_pb2.Collection:
        return await self._call(self.index.CreateCollection,
                                create_collection_request(name, model=model, dimensions=dimensions, metric=metric,
                                                          storage=storage), timeout)

    async def delete_collection(self, name: str, *, timeout: Optional[float] = None) -> None:
        await self._call(self.index.DeleteCollection, index_pb2.DeleteCollectionRequest(name=name), timeout)

    async def list_collections(self, *, timeout: Optional[float] = None) -> List[index_pb2.Collection]:
        resp = await self._call(self.index.ListCollections, index_pb2.ListCollectionsRequest(), timeout)
        return list(resp.collections)

    async def upsert(self, collection: str, items: Iterable[ItemLike], *, instruction: Optional[str] = None,
                     prompt_name: Optional[str] = None, pooling: Optional[str] = None, check: bool = True,
                     timeout: Optional[float] = None) -> index_pb2.UpsertResponse:
        resp = await self._call(self.index.Upsert, upsert_request(collection, items, instruction=instruction,
                                                                  prompt_name=prompt_name, pooling=pooling), timeout)
        return check_upsert(resp) if check else resp

    async def search(self, collection: str, *, text: Optional[str] = None,
                     image: Optional[Union[PathOrMedia, Image]] = None,
                     audio: Optional[Union[PathOrMedia, Audio]] = None, vector: Optional[Sequence[float]] = None,
                     top_k: int = 10, filter: Optional[FilterLike] = None, min_score: Optional[float] = None,
                     modalities: Optional[Iterable[str]] = None, instruction: Optional[str] = None,
                     prompt_name: Optional[str] = None, pooling: Optional[str] = None, include_vectors: bool = False,
                     timeout: Optional[float] = None) -> List[Hit]:
        req = search_request(collection, text=text, image=_media(Image, image) if image is not None else None,
                             audio=_media(Audio, audio) if audio is not None else None, vector=vector,
                             top_k=top_k, filter=filter, min_score=min_score, modalities=modalities,
                             instruction=instruction, prompt_name=prompt_name, pooling=pooling,
                             include_vectors=include_vectors)
        return hits(await self._call(self.index.Search, req, timeout))

    async def get(self, collection: str, ids: Iterable[str], *, include_vectors: bool = False,
                  timeout: Optional[float] = None) -> Tuple[List[StoredItem], List[str]]:
        resp = await self._call(self.index.Get, index_pb2.GetRequest(collection=collection, ids=list(ids),
                                                                     include_vectors=include_vectors), timeout)
        return stored_items(resp), list(resp.missing_ids)

    async def delete(self, collection: str, ids: Optional[Iterable[str]] = None, *,
                     filter: Optional[FilterLike] = None, timeout: Optional[float] = None) -> int:
        return (await self._call(self.index.Delete, delete_request(collection, ids, filter), timeout)).deleted
