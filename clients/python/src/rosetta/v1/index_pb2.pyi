from rosetta.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_COSINE: _ClassVar[Metric]
    METRIC_DOT: _ClassVar[Metric]

class Storage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STORAGE_FLOAT32: _ClassVar[Storage]
    STORAGE_INT8: _ClassVar[Storage]
    STORAGE_BINARY: _ClassVar[Storage]
METRIC_COSINE: Metric
METRIC_DOT: Metric
STORAGE_FLOAT32: Storage
STORAGE_INT8: Storage
STORAGE_BINARY: Storage

class Collection(_message.Message):
    __slots__ = ("name", "model", "dimensions", "metric", "storage", "space", "count", "created_unix_ms", "keep_previews")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    SPACE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    KEEP_PREVIEWS_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    dimensions: int
    metric: Metric
    storage: Storage
    space: str
    count: int
    created_unix_ms: int
    keep_previews: bool
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., dimensions: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., storage: _Optional[_Union[Storage, str]] = ..., space: _Optional[str] = ..., count: _Optional[int] = ..., created_unix_ms: _Optional[int] = ..., keep_previews: _Optional[bool] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("name", "model", "dimensions", "metric", "storage", "keep_previews")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    KEEP_PREVIEWS_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    dimensions: int
    metric: Metric
    storage: Storage
    keep_previews: bool
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., dimensions: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., storage: _Optional[_Union[Storage, str]] = ..., keep_previews: _Optional[bool] = ...) -> None: ...

class Preview(_message.Message):
    __slots__ = ("thumbnail_jpeg", "thumbnail_width", "thumbnail_height", "text", "duration_seconds")
    THUMBNAIL_JPEG_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_WIDTH_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    thumbnail_jpeg: bytes
    thumbnail_width: int
    thumbnail_height: int
    text: str
    duration_seconds: float
    def __init__(self, thumbnail_jpeg: _Optional[bytes] = ..., thumbnail_width: _Optional[int] = ..., thumbnail_height: _Optional[int] = ..., text: _Optional[str] = ..., duration_seconds: _Optional[float] = ...) -> None: ...

class DeleteCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[Collection]
    def __init__(self, collections: _Optional[_Iterable[_Union[Collection, _Mapping]]] = ...) -> None: ...

class MetadataValue(_message.Message):
    __slots__ = ("string_value", "number_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    number_value: float
    def __init__(self, string_value: _Optional[str] = ..., number_value: _Optional[float] = ...) -> None: ...

class WeightedPart(_message.Message):
    __slots__ = ("input", "vector", "weight")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    input: _common_pb2.Input
    vector: _common_pb2.Vector
    weight: float
    def __init__(self, input: _Optional[_Union[_common_pb2.Input, _Mapping]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., weight: _Optional[float] = ...) -> None: ...

class Combination(_message.Message):
    __slots__ = ("parts",)
    PARTS_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedCompositeFieldContainer[WeightedPart]
    def __init__(self, parts: _Optional[_Iterable[_Union[WeightedPart, _Mapping]]] = ...) -> None: ...

class Item(_message.Message):
    __slots__ = ("id", "metadata", "input", "vector", "combination", "vector_space")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MetadataValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MetadataValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    COMBINATION_FIELD_NUMBER: _ClassVar[int]
    VECTOR_SPACE_FIELD_NUMBER: _ClassVar[int]
    id: str
    metadata: _containers.MessageMap[str, MetadataValue]
    input: _common_pb2.Input
    vector: _common_pb2.Vector
    combination: Combination
    vector_space: str
    def __init__(self, id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, MetadataValue]] = ..., input: _Optional[_Union[_common_pb2.Input, _Mapping]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., combination: _Optional[_Union[Combination, _Mapping]] = ..., vector_space: _Optional[str] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ("collection", "items", "instruction", "prompt_name", "pooling", "request_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    PROMPT_NAME_FIELD_NUMBER: _ClassVar[int]
    POOLING_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    items: _containers.RepeatedCompositeFieldContainer[Item]
    instruction: str
    prompt_name: str
    pooling: _common_pb2.Pooling
    request_id: str
    def __init__(self, collection: _Optional[str] = ..., items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., instruction: _Optional[str] = ..., prompt_name: _Optional[str] = ..., pooling: _Optional[_Union[_common_pb2.Pooling, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ItemResult(_message.Message):
    __slots__ = ("index", "id", "status")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    index: int
    id: str
    status: _common_pb2.ItemStatus
    def __init__(self, index: _Optional[int] = ..., id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ItemStatus, _Mapping]] = ...) -> None: ...

class UpsertResponse(_message.Message):
    __slots__ = ("results", "usage", "request_id")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ItemResult]
    usage: _common_pb2.Usage
    request_id: str
    def __init__(self, results: _Optional[_Iterable[_Union[ItemResult, _Mapping]]] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ("condition", "all", "any")
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    ANY_FIELD_NUMBER: _ClassVar[int]
    NOT_FIELD_NUMBER: _ClassVar[int]
    condition: Condition
    all: FilterList
    any: FilterList
    def __init__(self, condition: _Optional[_Union[Condition, _Mapping]] = ..., all: _Optional[_Union[FilterList, _Mapping]] = ..., any: _Optional[_Union[FilterList, _Mapping]] = ..., **kwargs) -> None: ...

class FilterList(_message.Message):
    __slots__ = ("filters",)
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    filters: _containers.RepeatedCompositeFieldContainer[Filter]
    def __init__(self, filters: _Optional[_Iterable[_Union[Filter, _Mapping]]] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("key", "equals", "range")
    KEY_FIELD_NUMBER: _ClassVar[int]
    EQUALS_FIELD_NUMBER: _ClassVar[int]
    IN_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    key: str
    equals: MetadataValue
    range: Range
    def __init__(self, key: _Optional[str] = ..., equals: _Optional[_Union[MetadataValue, _Mapping]] = ..., range: _Optional[_Union[Range, _Mapping]] = ..., **kwargs) -> None: ...

class ValueList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[MetadataValue]
    def __init__(self, values: _Optional[_Iterable[_Union[MetadataValue, _Mapping]]] = ...) -> None: ...

class Range(_message.Message):
    __slots__ = ("gt", "gte", "lt", "lte")
    GT_FIELD_NUMBER: _ClassVar[int]
    GTE_FIELD_NUMBER: _ClassVar[int]
    LT_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    gt: float
    gte: float
    lt: float
    lte: float
    def __init__(self, gt: _Optional[float] = ..., gte: _Optional[float] = ..., lt: _Optional[float] = ..., lte: _Optional[float] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("collection", "ids", "filter")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    filter: Filter
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ..., filter: _Optional[_Union[Filter, _Mapping]] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("collection", "ids", "include_vectors", "include_previews")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_PREVIEWS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    include_vectors: bool
    include_previews: bool
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ..., include_vectors: _Optional[bool] = ..., include_previews: _Optional[bool] = ...) -> None: ...

class StoredItem(_message.Message):
    __slots__ = ("id", "metadata", "modality", "vector", "preview")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MetadataValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MetadataValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    MODALITY_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    id: str
    metadata: _containers.MessageMap[str, MetadataValue]
    modality: _common_pb2.Modality
    vector: _common_pb2.Vector
    preview: Preview
    def __init__(self, id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, MetadataValue]] = ..., modality: _Optional[_Union[_common_pb2.Modality, str]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., preview: _Optional[_Union[Preview, _Mapping]] = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ("items", "missing_ids")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MISSING_IDS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[StoredItem]
    missing_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, items: _Optional[_Iterable[_Union[StoredItem, _Mapping]]] = ..., missing_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("collection", "input", "vector", "combination", "instruction", "prompt_name", "pooling", "top_k", "filter", "min_score", "modalities", "include_vectors", "vector_space", "include_query_vector", "include_previews")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    COMBINATION_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    PROMPT_NAME_FIELD_NUMBER: _ClassVar[int]
    POOLING_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    MODALITIES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    VECTOR_SPACE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_QUERY_VECTOR_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_PREVIEWS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    input: _common_pb2.Input
    vector: _common_pb2.Vector
    combination: Combination
    instruction: str
    prompt_name: str
    pooling: _common_pb2.Pooling
    top_k: int
    filter: Filter
    min_score: float
    modalities: _containers.RepeatedScalarFieldContainer[_common_pb2.Modality]
    include_vectors: bool
    vector_space: str
    include_query_vector: bool
    include_previews: bool
    def __init__(self, collection: _Optional[str] = ..., input: _Optional[_Union[_common_pb2.Input, _Mapping]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., combination: _Optional[_Union[Combination, _Mapping]] = ..., instruction: _Optional[str] = ..., prompt_name: _Optional[str] = ..., pooling: _Optional[_Union[_common_pb2.Pooling, str]] = ..., top_k: _Optional[int] = ..., filter: _Optional[_Union[Filter, _Mapping]] = ..., min_score: _Optional[float] = ..., modalities: _Optional[_Iterable[_Union[_common_pb2.Modality, str]]] = ..., include_vectors: _Optional[bool] = ..., vector_space: _Optional[str] = ..., include_query_vector: _Optional[bool] = ..., include_previews: _Optional[bool] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("id", "score", "metadata", "modality", "vector", "preview")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MetadataValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MetadataValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    MODALITY_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    id: str
    score: float
    metadata: _containers.MessageMap[str, MetadataValue]
    modality: _common_pb2.Modality
    vector: _common_pb2.Vector
    preview: Preview
    def __init__(self, id: _Optional[str] = ..., score: _Optional[float] = ..., metadata: _Optional[_Mapping[str, MetadataValue]] = ..., modality: _Optional[_Union[_common_pb2.Modality, str]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., preview: _Optional[_Union[Preview, _Mapping]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "usage", "query_vector")
    HITS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    QUERY_VECTOR_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    usage: _common_pb2.Usage
    query_vector: _common_pb2.Vector
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., query_vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ...) -> None: ...
