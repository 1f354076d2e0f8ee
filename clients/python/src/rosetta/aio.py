"""asyncio client (grpc.aio) with the same methods as rosetta.Client, as coroutines (the streams as async
generators); tests/test_unit.py checks that the two keep the same methods and parameters."""
from __future__ import annotations

import asyncio
from typing import AsyncIterable, AsyncIterator, Iterable, List, Optional, Sequence, Tuple, Union

import grpc
import grpc.aio

from ._channel import ClientBase
from ._errors import RosettaError
from .filters import FilterLike
from .types import (Audio, EmbedResult, Hits, Image, InputLike, ItemLike, PartLike, PathOrMedia, StoredItem,
                    check_upsert, create_collection_request, decode_health_response, delete_request, embed_request,
                    embed_result, encode_health_request, get_request, hits, search_request, stored_items, text_list,
                    to_media, upsert_request)
from .v1 import embeddings_pb2, index_pb2


class AsyncClient(ClientBase):
    """asyncio variant of rosetta.Client (same arguments, documented there):

        async with rosetta.AsyncClient("127.0.0.1:50051") as c:
            vectors = await c.embed_text(["a cat"])
    """

    _grpc = grpc.aio

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def _call(self, method, request, timeout: Optional[float]):
        try:
            return await method(request, **self._kw(timeout))
        except grpc.RpcError as e:
            raise RosettaError.from_rpc_error(e) from None

    async def wait_ready(self, timeout: float = 10.0) -> None:
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
        result = await self.embed(text_list(texts), model=model, instruction=instruction, prompt_name=prompt_name,
                                  dimensions=dimensions, normalize=normalize, encoding=encoding, pooling=pooling,
                                  truncate=truncate, timeout=timeout)
        return result.vectors

    async def embed_image(self, image: Union[PathOrMedia, Image], *, mime_type: Optional[str] = None,
                          timeout: Optional[float] = None, **options) -> List[float]:
        return (await self.embed([to_media(Image, image, mime_type)], timeout=timeout, **options)).vectors[0]

    async def embed_audio(self, audio: Union[PathOrMedia, Audio], *, mime_type: Optional[str] = None,
                          timeout: Optional[float] = None, **options) -> List[float]:
        return (await self.embed([to_media(Audio, audio, mime_type)], timeout=timeout, **options)).vectors[0]

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
                                metric: str = "cosine", storage: str = "float32", keep_previews: bool = False,
                                timeout: Optional[float] = None) -> index_pb2.Collection:
        return await self._call(self.index.CreateCollection,
                                create_collection_request(name, model=model, dimensions=dimensions, metric=metric,
                                                          storage=storage, keep_previews=keep_previews), timeout)

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

    async def upsert_stream(self, requests: Union[Iterable[index_pb2.UpsertRequest],
                                                  AsyncIterable[index_pb2.UpsertRequest]], *,
                            timeout: Optional[float] = None) -> AsyncIterator[index_pb2.UpsertResponse]:
        """Bulk load over one bidi stream: yields one UpsertResponse per request, in order (build requests with
        rosetta.types.upsert_request). A response means its items are durable on the server."""
        call = self.index.UpsertStream(requests, **self._kw(timeout))
        try:
            async for resp in call:
                yield resp
        except grpc.RpcError as e:
            raise RosettaError.from_rpc_error(e) from None

    async def search(self, collection: str, *, text: Optional[str] = None,
                     image: Optional[Union[PathOrMedia, Image]] = None,
                     audio: Optional[Union[PathOrMedia, Audio]] = None, vector: Optional[Sequence[float]] = None,
                     top_k: int = 10, filter: Optional[FilterLike] = None, min_score: Optional[float] = None,
                     modalities: Optional[Iterable[str]] = None, instruction: Optional[str] = None,
                     prompt_name: Optional[str] = None, pooling: Optional[str] = None, include_vectors: bool = False,
                     vector_space: Optional[str] = None, combination: Optional[Sequence[PartLike]] = None,
                     include_query_vector: bool = False, include_previews: bool = False,
                     timeout: Optional[float] = None) -> Hits:
        req = search_request(collection, text=text, image=image, audio=audio, vector=vector, top_k=top_k,
                             filter=filter, min_score=min_score, modalities=modalities, instruction=instruction,
                             prompt_name=prompt_name, pooling=pooling, include_vectors=include_vectors,
                             vector_space=vector_space, combination=combination,
                             include_query_vector=include_query_vector, include_previews=include_previews)
        return hits(await self._call(self.index.Search, req, timeout))

    async def get(self, collection: str, ids: Iterable[str], *, include_vectors: bool = False,
                  include_previews: bool = False,
                  timeout: Optional[float] = None) -> Tuple[List[StoredItem], List[str]]:
        resp = await self._call(self.index.Get, get_request(collection, ids, include_vectors=include_vectors,
                                                              include_previews=include_previews), timeout)
        return stored_items(resp), list(resp.missing_ids)

    async def delete(self, collection: str, ids: Optional[Iterable[str]] = None, *,
                     filter: Optional[FilterLike] = None, timeout: Optional[float] = None) -> int:
        return (await self._call(self.index.Delete, delete_request(collection, ids, filter), timeout)).deleted
