"""Plain Python types of the client API, request builders and vector codecs (no numpy needed)."""
from __future__ import annotations

import math
import mimetypes
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import grpc

from ._errors import RosettaError, status_code_from_number
from .filters import FilterLike, matches_everything, metadata_value, to_filter
from .v1 import common_pb2, embeddings_pb2, index_pb2

PathLike = Union[str, "os.PathLike[str]"]

# --------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Image:
    """Encoded image bytes (PNG, JPEG, ...). mime_type may be empty: the server sniffs the bytes."""

    data: bytes
    mime_type: str = ""

    @classmethod
    def from_path(cls, path: PathLike, mime_type: Optional[str] = None) -> "Image":
        with open(path, "rb") as f:
            data = f.read()
        return cls(data, mime_type if mime_type is not None else _guess_mime(path))


@dataclass(frozen=True)
class Audio:
    """Encoded audio bytes (WAV, FLAC, ...). mime_type may be empty: the server sniffs the bytes."""

    data: bytes
    mime_type: str = ""

    @classmethod
    def from_path(cls, path: PathLike, mime_type: Optional[str] = None) -> "Audio":
        with open(path, "rb") as f:
            data = f.read()
        return cls(data, mime_type if mime_type is not None else _guess_mime(path))


InputLike = Union[str, Image, Audio, common_pb2.Input]
# An image or audio clip given as a path or as its raw bytes.
PathOrMedia = Union[str, "os.PathLike[str]", bytes]


def _guess_mime(path: PathLike) -> str:
    mime, _ = mimetypes.guess_type(os.fspath(path))
    if mime == "audio/x-wav":
        mime = "audio/wav"
    return mime or ""


def to_media(cls, x, mime_type: Optional[str] = None):
    """x as a `cls` (Image or Audio): x itself when it is one, else raw bytes (typed by mime_type, or sniffed by the
    server) or a path (typed by mime_type, or guessed from the file name)."""
    if isinstance(x, cls):
        return x
    if isinstance(x, (bytes, bytearray)):
        return cls(bytes(x), mime_type or "")
    return cls.from_path(x, mime_type)


def to_input(x: InputLike) -> common_pb2.Input:
    if isinstance(x, common_pb2.Input):
        return x
    if isinstance(x, str):
        return common_pb2.Input(text=x)
    if isinstance(x, Image):
        return common_pb2.Input(image=common_pb2.Media(data=x.data, mime_type=x.mime_type))
    if isinstance(x, Audio):
        return common_pb2.Input(audio=common_pb2.Media(data=x.data, mime_type=x.mime_type))
    raise TypeError(f"an input is a str, rosetta.Image, rosetta.Audio or rosetta.v1.common_pb2.Input, "
                    f"not {type(x).__name__}")


# ------------------------------------------------------------------------------------------ enum names

_ENCODINGS = {"float32": common_pb2.ENCODING_FLOAT32, "int8": common_pb2.ENCODING_INT8,
              "binary": common_pb2.ENCODING_BINARY}
_POOLINGS = {"default": common_pb2.POOLING_DEFAULT, "mean": common_pb2.POOLING_MEAN,
             "instruction": common_pb2.POOLING_INSTRUCTION, "cls": common_pb2.POOLING_CLS}
_TRUNCATES = {"end": common_pb2.TRUNCATE_END, "start": common_pb2.TRUNCATE_START,
              "none": common_pb2.TRUNCATE_NONE}
_METRICS = {"cosine": index_pb2.METRIC_COSINE, "dot": index_pb2.METRIC_DOT}
_STORAGES = {"float32": index_pb2.STORAGE_FLOAT32, "int8": index_pb2.STORAGE_INT8,
             "binary": index_pb2.STORAGE_BINARY}
_MODALITIES = {"text": common_pb2.MODALITY_TEXT, "image": common_pb2.MODALITY_IMAGE,
               "audio": common_pb2.MODALITY_AUDIO, "vector": common_pb2.MODALITY_VECTOR}
_MODALITY_NAMES = {v: k for k, v in _MODALITIES.items()}


def _enum(table: Mapping[str, int], value: Union[str, int, None], what: str, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    try:
        return table[value.lower()]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; one of {sorted(table)}") from None


def modality_name(value: int) -> str:
    """"text", "image", "audio", "vector" or "unspecified"."""
    return _MODALITY_NAMES.get(value, "unspecified")


# ------------------------------------------------------------------------------------------- codecs


def dequantize_int8(data: bytes, scale: float) -> List[float]:
    """Decodes ENCODING_INT8: v[i] ~= int8[i] * scale (bytes are two's complement)."""
    return [q * scale for q in struct.unpack(f"{len(data)}b", data)]


def int8_values(data: bytes) -> List[int]:
    """The raw int8 codes of ENCODING_INT8 as ints in [-128, 127]."""
    return list(struct.unpack(f"{len(data)}b", data))


def unpack_bits(data: bytes, dimensions: int) -> List[int]:
    """Decodes ENCODING_BINARY: bit i (MSB first) is 1 when v[i] > 0. Returns `dimensions` 0/1 ints."""
    if len(data) * 8 < dimensions:
        raise ValueError(f"{len(data)} bytes cannot hold {dimensions} bits")
    return [(data[i >> 3] >> (7 - (i & 7))) & 1 for i in range(dimensions)]


def binary_to_signs(data: bytes, dimensions: int) -> List[float]:
    """ENCODING_BINARY as a +1.0/-1.0 vector (useful for Hamming-as-dot-product)."""
    return [1.0 if b else -1.0 for b in unpack_bits(data, dimensions)]


def pack_bits(vector: Sequence[float]) -> bytes:
    """The reference binary encoding of a float vector: bit i = v[i] > 0, MSB first, zero padded."""
    out = bytearray((len(vector) + 7) // 8)
    for i, v in enumerate(vector):
        if v > 0:
            out[i >> 3] |= 0x80 >> (i & 7)
    return bytes(out)


def hamming(a: bytes, b: bytes) -> int:
    """Hamming distance between two binary codes."""
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b)) + 8 * abs(len(a) - len(b))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def norm(a: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in a))


# ------------------------------------------------------------------------------------------- results


@dataclass
class Embedding:
    """One result of an Embed call."""

    index: int
    code: grpc.StatusCode
    message: str
    modality: str
    tokens: int
    truncated: bool
    dimensions: int
    float32: List[float] = field(default_factory=list)
    int8: bytes = b""
    binary: bytes = b""
    scale: float = 0.0

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK

    def raise_for_status(self) -> None:
        if not self.ok:
            raise RosettaError(self.code, self.message, index=self.index)

    @property
    def vector(self) -> List[float]:
        """The vector as floats, whatever the encoding: int8 dequantised, binary as +1/-1 signs."""
        self.raise_for_status()
        if self.int8:
            return dequantize_int8(self.int8, self.scale)
        if self.binary:
            return binary_to_signs(self.binary, self.dimensions)
        return list(self.float32)


@dataclass
class EmbedResult:
    """A whole Embed response: model, space fingerprint, one Embedding per input, usage."""

    model: str
    space: str
    embeddings: List[Embedding]
    usage: common_pb2.Usage
    request_id: str
    raw: embeddings_pb2.EmbedResponse

    def raise_for_status(self) -> None:
        for e in self.embeddings:
            e.raise_for_status()

    @property
    def vectors(self) -> List[List[float]]:
        """All vectors (floats), raising RosettaError for the first failed item."""
        return [e.vector for e in self.embeddings]


def embed_result(resp: embeddings_pb2.EmbedResponse) -> EmbedResult:
    items = []
    for r in sorted(resp.results, key=lambda r: r.index):
        emb = r.embedding
        items.append(Embedding(
            index=r.index,
            code=status_code_from_number(r.status.code),
            message=r.status.message,
            modality=modality_name(r.modality),
            tokens=r.tokens,
            truncated=r.truncated,
            dimensions=emb.dimensions or len(emb.float32),
            float32=list(emb.float32),
            int8=emb.int8,
            binary=emb.binary,
            scale=emb.scale,
        ))
    return EmbedResult(resp.model, resp.space, items, resp.usage, resp.request_id, resp)


def text_list(texts: Iterable[str]) -> List[str]:
    """The texts of an embed_text call as a list (a lone str is refused: it is one text, not a list of letters)."""
    if isinstance(texts, str):
        raise TypeError("texts is a list of strings; wrap a single text in [ ]")
    return list(texts)


def embed_request(inputs: Iterable[InputLike], *, model: Optional[str] = None, instruction: Optional[str] = None,
                  prompt_name: Optional[str] = None, pooling: Union[str, int, None] = None,
                  dimensions: Optional[int] = None, normalize: Optional[bool] = True,
                  encoding: Union[str, int] = "float32", truncate: Union[str, int, None] = None,
                  request_id: Optional[str] = None) -> embeddings_pb2.EmbedRequest:
    """Builds an EmbedRequest from plain values (the helpers and streams use it)."""
    if isinstance(inputs, (str, Image, Audio, common_pb2.Input)):
        raise TypeError("inputs is a list; wrap a single input in [ ]")
    req = embeddings_pb2.EmbedRequest(
        inputs=[to_input(x) for x in inputs],
        model=model or "",
        instruction=instruction or "",
        prompt_name=prompt_name or "",
        pooling=_enum(_POOLINGS, pooling, "pooling"),
        dimensions=dimensions or 0,
        encoding=_enum(_ENCODINGS, encoding, "encoding"),
        truncate=_enum(_TRUNCATES, truncate, "truncate"),
        request_id=request_id or "",
    )
    if normalize is not None:
        req.normalize = normalize
    return req


# ------------------------------------------------------------------------------------------- index


@dataclass
class Item:
    """An item to upsert: an id, metadata, and exactly one of text / image / audio / vector."""

    id: str
    text: Optional[str] = None
    image: Optional[Image] = None
    audio: Optional[Audio] = None
    vector: Optional[Sequence[float]] = None
    metadata: Dict[str, Union[str, int, float]] = field(default_factory=dict)
    # The space `vector` comes from (EmbedResult.space / Collection.space); the server refuses a mismatch.
    vector_space: Optional[str] = None
    # Several weighted inputs or vectors as one item, e.g. [(photo, 1.0), ("a red kite", 0.5)] (to_combination).
    combination: Optional[Sequence[PartLike]] = None

    def to_proto(self) -> index_pb2.Item:
        contents = [c for c in (self.text, self.image, self.audio, self.vector, self.combination) if c is not None]
        if len(contents) != 1:
            raise ValueError(f"item {self.id!r}: give exactly one of text, image, audio, vector, combination")
        item = index_pb2.Item(id=self.id, metadata={k: metadata_value(v) for k, v in self.metadata.items()})
        if self.combination is not None:
            item.combination.SetInParent()  # set even when empty, so that the server says what is missing
            item.combination.CopyFrom(to_combination(self.combination))
        elif self.vector is not None:
            item.vector.values.extend(float(x) for x in self.vector)
            item.vector_space = self.vector_space or ""
        else:
            item.input.CopyFrom(to_input(self.text if self.text is not None else (self.image or self.audio)))
        return item


ItemLike = Union[Item, index_pb2.Item, Mapping[str, Any]]

# One part of a weighted combination: (text, rosetta.Image, rosetta.Audio, an Input or a vector, weight).
PartLike = Tuple[Union[InputLike, Sequence[float]], float]


def to_combination(parts: Iterable[PartLike]) -> index_pb2.Combination:
    """[(input or vector, weight), ...] -> a Combination: the server sums the parts' unit vectors times their
    weights (negative pushes away; at least one weight must be positive)."""
    combination = index_pb2.Combination()
    for part, weight in parts:
        weighted = combination.parts.add(weight=float(weight))
        if isinstance(part, (str, Image, Audio, common_pb2.Input)):
            weighted.input.CopyFrom(to_input(part))
        else:
            weighted.vector.values.extend(float(x) for x in part)
    return combination


def to_item(x: ItemLike) -> index_pb2.Item:
    if isinstance(x, index_pb2.Item):
        return x
    if isinstance(x, Item):
        return x.to_proto()
    if isinstance(x, Mapping):
        return Item(**x).to_proto()
    raise TypeError(f"an item is a rosetta.Item, a dict or an index_pb2.Item, not {type(x).__name__}")


def metadata_dict(m: Mapping[str, index_pb2.MetadataValue]) -> Dict[str, Union[str, float]]:
    out: Dict[str, Union[str, float]] = {}
    for k, v in m.items():
        kind = v.WhichOneof("kind")
        out[k] = v.string_value if kind == "string_value" else v.number_value
    return out


@dataclass
class Preview:
    """What the server kept to show an item (collections created with keep_previews): a JPEG thumbnail of an
    image (at most 256 px on its long side), the start of a text or of an audio item's transcript, an audio
    item's duration."""

    thumbnail_jpeg: bytes
    thumbnail_width: int
    thumbnail_height: int
    text: str
    duration_seconds: float


def preview_of(message: Any) -> Optional[Preview]:
    """The Preview of a StoredItem or SearchHit message, or None when it has none."""
    if not message.HasField("preview"):
        return None
    p = message.preview
    return Preview(p.thumbnail_jpeg, p.thumbnail_width, p.thumbnail_height, p.text, p.duration_seconds)


@dataclass
class Hit:
    """One search result (`preview` is set when the search asked for include_previews and the item has one)."""

    id: str
    score: float
    metadata: Dict[str, Union[str, float]]
    modality: str
    vector: List[float]
    preview: Optional[Preview] = None


@dataclass
class StoredItem:
    id: str
    metadata: Dict[str, Union[str, float]]
    modality: str
    vector: List[float]
    preview: Optional[Preview] = None


def search_request(collection: str, *, text: Optional[str] = None, image: Union[Image, PathOrMedia, None] = None,
                   audio: Union[Audio, PathOrMedia, None] = None, vector: Optional[Sequence[float]] = None,
                   top_k: int = 10, filter: Optional[FilterLike] = None, min_score: Optional[float] = None,
                   modalities: Optional[Iterable[Union[str, int]]] = None, instruction: Optional[str] = None,
                   prompt_name: Optional[str] = None, pooling: Union[str, int, None] = None,
                   include_vectors: bool = False, vector_space: Optional[str] = None,
                   combination: Optional[Sequence[PartLike]] = None,
                   include_query_vector: bool = False, include_previews: bool = False) -> index_pb2.SearchRequest:
    queries = [q for q in (text, image, audio, vector, combination) if q is not None]
    if len(queries) != 1:
        raise ValueError("give exactly one of text, image, audio, vector, combination")
    req = index_pb2.SearchRequest(
        collection=collection, top_k=top_k, instruction=instruction or "", prompt_name=prompt_name or "",
        pooling=_enum(_POOLINGS, pooling, "pooling"), include_vectors=include_vectors,
        modalities=[_enum(_MODALITIES, m, "modality") for m in (modalities or [])],
        include_query_vector=include_query_vector, include_previews=include_previews,
    )
    if combination is not None:
        req.combination.SetInParent()
        req.combination.CopyFrom(to_combination(combination))
    elif vector is not None:
        req.vector.values.extend(float(x) for x in vector)
        req.vector_space = vector_space or ""
    elif text is not None:
        req.input.CopyFrom(to_input(text))
    elif image is not None:
        req.input.CopyFrom(to_input(to_media(Image, image)))
    else:
        req.input.CopyFrom(to_input(to_media(Audio, audio)))
    if filter is not None:
        req.filter.CopyFrom(to_filter(filter))
    if min_score is not None:
        req.min_score = min_score
    return req


class Hits(List[Hit]):
    """The hits of a Search, best first; `query_vector` is the vector searched when include_query_vector was set."""

    query_vector: Optional[List[float]] = None


def hits(resp: index_pb2.SearchResponse) -> Hits:
    found = Hits(Hit(h.id, h.score, metadata_dict(h.metadata), modality_name(h.modality), list(h.vector.values),
                     preview_of(h))
                 for h in resp.hits)
    if resp.HasField("query_vector"):
        found.query_vector = list(resp.query_vector.values)
    return found


def stored_items(resp: index_pb2.GetResponse) -> List[StoredItem]:
    return [StoredItem(i.id, metadata_dict(i.metadata), modality_name(i.modality), list(i.vector.values),
                       preview_of(i))
            for i in resp.items]


def get_request(collection: str, ids: Iterable[str], *, include_vectors: bool = False,
                include_previews: bool = False) -> index_pb2.GetRequest:
    return index_pb2.GetRequest(collection=collection, ids=list(ids), include_vectors=include_vectors,
                                include_previews=include_previews)


def create_collection_request(name: str, *, model: Optional[str] = None, dimensions: Optional[int] = None,
                              metric: Union[str, int] = "cosine", storage: Union[str, int] = "float32",
                              keep_previews: bool = False) -> index_pb2.CreateCollectionRequest:
    return index_pb2.CreateCollectionRequest(name=name, model=model or "", dimensions=dimensions or 0,
                                             metric=_enum(_METRICS, metric, "metric"),
                                             storage=_enum(_STORAGES, storage, "storage"),
                                             keep_previews=keep_previews)


def upsert_request(collection: str, items: Iterable[ItemLike], *, instruction: Optional[str] = None,
                   prompt_name: Optional[str] = None, pooling: Union[str, int, None] = None,
                   request_id: Optional[str] = None) -> index_pb2.UpsertRequest:
    return index_pb2.UpsertRequest(collection=collection, items=[to_item(i) for i in items],
                                   instruction=instruction or "", prompt_name=prompt_name or "",
                                   pooling=_enum(_POOLINGS, pooling, "pooling"), request_id=request_id or "")


def check_upsert(resp: index_pb2.UpsertResponse) -> index_pb2.UpsertResponse:
    for r in resp.results:
        if r.status.code != 0:
            raise RosettaError.from_item_status(r.status.code, f"{r.id}: {r.status.message}", r.index)
    return resp


def delete_request(collection: str, ids: Optional[Iterable[str]] = None,
                   filter: Optional[FilterLike] = None) -> index_pb2.DeleteRequest:
    if (ids is None) == (filter is None):
        raise ValueError("give ids or filter (one of the two)")
    req = index_pb2.DeleteRequest(collection=collection, ids=list(ids or []))
    if filter is not None:
        req.filter.CopyFrom(to_filter(filter))
        if matches_everything(req.filter):
            raise ValueError(DELETE_FILTER_MATCHES_EVERYTHING)
    return req


# The server's words (IndexService.filterMatchesEverything) for a Delete filter with no condition; the client
# refuses it before sending, for Client and AsyncClient alike.
DELETE_FILTER_MATCHES_EVERYTHING = (
    "the filter constrains nothing: it matches every item whatever its metadata (an empty 'all', an 'any' holding "
    "one, 'not' of an empty 'any'); give the ids to delete, or a filter with a condition (to delete everything, "
    "delete the collection)")


# ------------------------------------------------------------------------------------------- health

HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"
HEALTH_STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def encode_health_request(service: str) -> bytes:
    """grpc.health.v1.HealthCheckRequest{service} by hand, so the client needs no extra package."""
    data = service.encode("utf-8")
    if not data:
        return b""
    return b"\x0a" + _varint(len(data)) + data


def decode_health_response(data: bytes) -> str:
    """grpc.health.v1.HealthCheckResponse -> "SERVING", "NOT_SERVING", ..."""
    status, i = 0, 0
    while i < len(data):
        key, i = _read_varint(data, i)
        wire = key & 7
        if wire == 0:
            value, i = _read_varint(data, i)
            if key >> 3 == 1:
                status = value
        elif wire == 2:
            n, i = _read_varint(data, i)
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("malformed HealthCheckResponse")
    return HEALTH_STATUS_NAMES.get(status, str(status))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(data: bytes, i: int):
    shift = result = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _identity(x: bytes) -> bytes:
    return x
