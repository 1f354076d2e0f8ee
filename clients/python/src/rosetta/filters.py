"""Builders for Index metadata filters (rosetta.v1.Filter).

    from rosetta import filters as F
    F.all_(F.eq("lang", "en"), F.range_("year", gte=2000), F.not_(F.in_("tag", ["draft", "spam"])))

A plain dict is also accepted wherever a filter is: {"lang": "en", "year": 2020} means all keys equal.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union

from .v1 import index_pb2

FilterLike = Union[index_pb2.Filter, Mapping[str, Any]]


def metadata_value(value: Union[str, int, float]) -> index_pb2.MetadataValue:
    if isinstance(value, index_pb2.MetadataValue):
        return value
    if isinstance(value, bool):
        raise TypeError("metadata values are strings or numbers; encode booleans as 0/1 or 'true'/'false'")
    if isinstance(value, str):
        return index_pb2.MetadataValue(string_value=value)
    if isinstance(value, (int, float)):
        return index_pb2.MetadataValue(number_value=float(value))
    raise TypeError(f"metadata values are strings or numbers, not {type(value).__name__}")


def eq(key: str, value: Union[str, int, float]) -> index_pb2.Filter:
    return index_pb2.Filter(condition=index_pb2.Condition(key=key, equals=metadata_value(value)))


def in_(key: str, values: Iterable[Union[str, int, float]]) -> index_pb2.Filter:
    vl = index_pb2.ValueList(values=[metadata_value(v) for v in values])
    return index_pb2.Filter(condition=index_pb2.Condition(key=key, **{"in": vl}))


def range_(key: str, *, gt: Optional[float] = None, gte: Optional[float] = None,
           lt: Optional[float] = None, lte: Optional[float] = None) -> index_pb2.Filter:
    r = index_pb2.Range()
    if gt is not None:
        r.gt = gt
    if gte is not None:
        r.gte = gte
    if lt is not None:
        r.lt = lt
    if lte is not None:
        r.lte = lte
    return index_pb2.Filter(condition=index_pb2.Condition(key=key, range=r))


def all_(*filters: FilterLike) -> index_pb2.Filter:
    return index_pb2.Filter(all=index_pb2.FilterList(filters=[to_filter(f) for f in filters]))


def any_(*filters: FilterLike) -> index_pb2.Filter:
    return index_pb2.Filter(any=index_pb2.FilterList(filters=[to_filter(f) for f in filters]))


def not_(f: FilterLike) -> index_pb2.Filter:
    return index_pb2.Filter(**{"not": to_filter(f)})


def fixed_outcome(f: FilterLike) -> Optional[bool]:
    """The filter's outcome when its structure fixes it whatever the items' metadata (an empty all is true, an
    empty any false, not flips), else None: the server's Filter.fixedOutcome."""
    f = to_filter(f)
    kind = f.WhichOneof("kind")
    if kind in ("all", "any"):
        outcomes = [fixed_outcome(g) for g in getattr(f, kind).filters]
        decisive = kind == "any"  # one true decides an any, one false an all
        if decisive in outcomes:
            return decisive
        return (not decisive) if all(o is (not decisive) for o in outcomes) else None
    if kind == "not":
        inner = fixed_outcome(getattr(f, "not"))
        return None if inner is None else not inner
    return None  # a condition, or no kind at all (which the server refuses)


def matches_everything(f: FilterLike) -> bool:
    """True for a filter that constrains nothing: it matches every item by its structure alone ({}, all_(),
    any_(all_()), not_(any_())). Delete refuses it; a filter with conditions is taken at its word."""
    return fixed_outcome(f) is True


def to_filter(f: FilterLike) -> index_pb2.Filter:
    """A Filter message from a Filter or a {key: value} dict (all equal)."""
    if isinstance(f, index_pb2.Filter):
        return f
    if isinstance(f, Mapping):
        conds = [eq(k, v) for k, v in f.items()]
        if len(conds) == 1:
            return conds[0]
        return index_pb2.Filter(all=index_pb2.FilterList(filters=conds))
    raise TypeError(f"not a filter: {f!r}")
