from rosetta.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EmbedRequest(_message.Message):
    __slots__ = ("inputs", "model", "instruction", "prompt_name", "pooling", "dimensions", "normalize", "encoding", "truncate", "request_id")
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    PROMPT_NAME_FIELD_NUMBER: _ClassVar[int]
    POOLING_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    TRUNCATE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[_common_pb2.Input]
    model: str
    instruction: str
    prompt_name: str
    pooling: _common_pb2.Pooling
    dimensions: int
    normalize: bool
    encoding: _common_pb2.Encoding
    truncate: _common_pb2.Truncate
    request_id: str
    def __init__(self, inputs: _Optional[_Iterable[_Union[_common_pb2.Input, _Mapping]]] = ..., model: _Optional[str] = ..., instruction: _Optional[str] = ..., prompt_name: _Optional[str] = ..., pooling: _Optional[_Union[_common_pb2.Pooling, str]] = ..., dimensions: _Optional[int] = ..., normalize: _Optional[bool] = ..., encoding: _Optional[_Union[_common_pb2.Encoding, str]] = ..., truncate: _Optional[_Union[_common_pb2.Truncate, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("float32", "int8", "binary", "scale", "dimensions")
    FLOAT32_FIELD_NUMBER: _ClassVar[int]
    INT8_FIELD_NUMBER: _ClassVar[int]
    BINARY_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    float32: _containers.RepeatedScalarFieldContainer[float]
    int8: bytes
    binary: bytes
    scale: float
    dimensions: int
    def __init__(self, float32: _Optional[_Iterable[float]] = ..., int8: _Optional[bytes] = ..., binary: _Optional[bytes] = ..., scale: _Optional[float] = ..., dimensions: _Optional[int] = ...) -> None: ...

class EmbedResult(_message.Message):
    __slots__ = ("index", "status", "embedding", "modality", "tokens", "truncated", "transcript", "no_speech_probability")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    MODALITY_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    NO_SPEECH_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    index: int
    status: _common_pb2.ItemStatus
    embedding: Embedding
    modality: _common_pb2.Modality
    tokens: int
    truncated: bool
    transcript: str
    no_speech_probability: float
    def __init__(self, index: _Optional[int] = ..., status: _Optional[_Union[_common_pb2.ItemStatus, _Mapping]] = ..., embedding: _Optional[_Union[Embedding, _Mapping]] = ..., modality: _Optional[_Union[_common_pb2.Modality, str]] = ..., tokens: _Optional[int] = ..., truncated: _Optional[bool] = ..., transcript: _Optional[str] = ..., no_speech_probability: _Optional[float] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("model", "space", "results", "usage", "request_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SPACE_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    space: str
    results: _containers.RepeatedCompositeFieldContainer[EmbedResult]
    usage: _common_pb2.Usage
    request_id: str
    def __init__(self, model: _Optional[str] = ..., space: _Optional[str] = ..., results: _Optional[_Iterable[_Union[EmbedResult, _Mapping]]] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class InfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("id", "architecture", "modalities", "dimensions", "max_tokens", "space", "default_pooling", "prompt_names", "is_default", "max_instruction_tokens", "load_seconds", "load_resident_bytes", "logit_scale", "logit_bias")
    ID_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    MODALITIES_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SPACE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_POOLING_FIELD_NUMBER: _ClassVar[int]
    PROMPT_NAMES_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    MAX_INSTRUCTION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LOAD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LOAD_RESIDENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOGIT_SCALE_FIELD_NUMBER: _ClassVar[int]
    LOGIT_BIAS_FIELD_NUMBER: _ClassVar[int]
    id: str
    architecture: str
    modalities: _containers.RepeatedScalarFieldContainer[_common_pb2.Modality]
    dimensions: int
    max_tokens: int
    space: str
    default_pooling: _common_pb2.Pooling
    prompt_names: _containers.RepeatedScalarFieldContainer[str]
    is_default: bool
    max_instruction_tokens: int
    load_seconds: float
    load_resident_bytes: int
    logit_scale: float
    logit_bias: float
    def __init__(self, id: _Optional[str] = ..., architecture: _Optional[str] = ..., modalities: _Optional[_Iterable[_Union[_common_pb2.Modality, str]]] = ..., dimensions: _Optional[int] = ..., max_tokens: _Optional[int] = ..., space: _Optional[str] = ..., default_pooling: _Optional[_Union[_common_pb2.Pooling, str]] = ..., prompt_names: _Optional[_Iterable[str]] = ..., is_default: _Optional[bool] = ..., max_instruction_tokens: _Optional[int] = ..., load_seconds: _Optional[float] = ..., load_resident_bytes: _Optional[int] = ..., logit_scale: _Optional[float] = ..., logit_bias: _Optional[float] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_message_bytes", "max_batch_items", "max_text_chars", "max_image_pixels", "max_audio_seconds", "max_top_k", "max_metadata_bytes", "max_collections", "max_concurrent_streams", "max_metadata_keys", "max_id_bytes", "max_audio_sample_rate")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_TEXT_CHARS_FIELD_NUMBER: _ClassVar[int]
    MAX_IMAGE_PIXELS_FIELD_NUMBER: _ClassVar[int]
    MAX_AUDIO_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_TOP_K_FIELD_NUMBER: _ClassVar[int]
    MAX_METADATA_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_STREAMS_FIELD_NUMBER: _ClassVar[int]
    MAX_METADATA_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_ID_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_AUDIO_SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    max_batch_items: int
    max_text_chars: int
    max_image_pixels: int
    max_audio_seconds: float
    max_top_k: int
    max_metadata_bytes: int
    max_collections: int
    max_concurrent_streams: int
    max_metadata_keys: int
    max_id_bytes: int
    max_audio_sample_rate: int
    def __init__(self, max_message_bytes: _Optional[int] = ..., max_batch_items: _Optional[int] = ..., max_text_chars: _Optional[int] = ..., max_image_pixels: _Optional[int] = ..., max_audio_seconds: _Optional[float] = ..., max_top_k: _Optional[int] = ..., max_metadata_bytes: _Optional[int] = ..., max_collections: _Optional[int] = ..., max_concurrent_streams: _Optional[int] = ..., max_metadata_keys: _Optional[int] = ..., max_id_bytes: _Optional[int] = ..., max_audio_sample_rate: _Optional[int] = ...) -> None: ...

class InfoResponse(_message.Message):
    __slots__ = ("version", "models", "modalities", "limits", "compute_threads")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MODALITIES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_THREADS_FIELD_NUMBER: _ClassVar[int]
    version: str
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    modalities: _containers.RepeatedScalarFieldContainer[_common_pb2.Modality]
    limits: Limits
    compute_threads: int
    def __init__(self, version: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., modalities: _Optional[_Iterable[_Union[_common_pb2.Modality, str]]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., compute_threads: _Optional[int] = ...) -> None: ...
