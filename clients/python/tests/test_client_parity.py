"""rosetta.AsyncClient offers what rosetta.Client offers: the same public methods, each a coroutine (an async
generator where Client's is a generator), with the same parameters — names, order, kinds and defaults. No server
needed."""
import inspect

import rosetta


def _public_methods(cls):
    methods = {name: f for name, f in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}
    methods["__init__"] = cls.__init__
    return methods


def _describe(p: inspect.Parameter) -> str:
    default = "no default" if p.default is inspect.Parameter.empty else f"default {p.default!r}"
    return f"{p.name} ({p.kind.description}, {default})"


def parity_differences(sync_cls, async_cls):
    """Every way async_cls's public methods differ from sync_cls's, one sentence each."""
    sync, aio = _public_methods(sync_cls), _public_methods(async_cls)
    s, a = sync_cls.__name__, async_cls.__name__
    differences = [f"{a} lacks {s}.{name}" for name in sorted(sync.keys() - aio.keys())]
    differences += [f"{a}.{name} is not in {s}" for name in sorted(aio.keys() - sync.keys())]
    for name in sorted(sync.keys() & aio.keys()):
        if name != "__init__":
            if inspect.isgeneratorfunction(sync[name]):
                if not inspect.isasyncgenfunction(aio[name]):
                    differences.append(f"{a}.{name} is not an async generator, as {s}.{name} is a generator")
            elif not inspect.iscoroutinefunction(aio[name]):
                differences.append(f"{a}.{name} is not a coroutine function (async def)")
        sp = inspect.signature(sync[name]).parameters
        ap = inspect.signature(aio[name]).parameters
        for p in sp.values():
            if p.name not in ap:
                differences.append(f"{a}.{name} lacks parameter {_describe(p)} of {s}.{name}")
            elif (p.kind, p.default) != (ap[p.name].kind, ap[p.name].default):
                differences.append(f"{a}.{name} has {_describe(ap[p.name])} where {s}.{name} has {_describe(p)}")
        for p in ap.values():
            if p.name not in sp:
                differences.append(f"{a}.{name} has parameter {_describe(p)} that {s}.{name} lacks")
        common = [n for n in sp if n in ap]
        if common != [n for n in ap if n in sp]:
            differences.append(f"{a}.{name} orders its parameters {[n for n in ap if n in sp]}, "
                               f"{s}.{name} {common}")
    return differences


def test_async_client_has_the_methods_and_parameters_of_client():
    differences = parity_differences(rosetta.Client, rosetta.AsyncClient)
    assert not differences, "rosetta.AsyncClient differs from rosetta.Client:\n  " + "\n  ".join(differences)


def test_the_parity_check_names_each_difference():
    class Sync:
        def same(self, a, *, b: int = 1) -> None: ...
        def only_sync(self) -> None: ...
        def stream(self, requests): yield from requests
        def drift(self, a, *, b=1, c=None, d=2) -> None: ...

    class Async:
        async def same(self, a, *, b: str = 1) -> None: ...  # annotations may differ (Iterable vs AsyncIterable)
        async def only_async(self) -> None: ...
        async def stream(self, requests): return requests
        def drift(self, a, b=2, *, d=2, e=3) -> None: ...

    assert parity_differences(Sync, Async) == [
        "Async lacks Sync.only_sync",
        "Async.only_async is not in Sync",
        "Async.drift is not a coroutine function (async def)",
        "Async.drift has b (positional or keyword, default 2) where Sync.drift has b (keyword-only, default 1)",
        "Async.drift lacks parameter c (keyword-only, default None) of Sync.drift",
        "Async.drift has parameter e (keyword-only, default 3) that Sync.drift lacks",
        "Async.stream is not an async generator, as Sync.stream is a generator",
    ]
