"""Dynamic batching (issue #9) through the real server and all-MiniLM-L6-v2: concurrent clients' requests share
forward passes, and each still gets the vectors of its own texts, with its queue and compute times in the usage;
past a tiny --queue-max-items the overflow is refused with RESOURCE_EXHAUSTED at once, the rest is served, and the
server stays healthy."""
import asyncio
import math
import threading

import grpc
import pytest

import rosetta

from conftest import ServerProcess, free_port, startup_timeout
from test_metrics import scrape, value

CLIENTS = 16
ROUNDS = 3


def server_with_metrics(name, args):
    port = free_port()
    s = ServerProcess(name, ["--metrics-address", f"127.0.0.1:{port}", *args]).start(startup_timeout())
    s.metrics_url = f"http://127.0.0.1:{port}"
    return s


@pytest.fixture(scope="module")
def batching_server():
    s = server_with_metrics("batching", [])
    yield s
    s.stop()
    s.remove_data()


@pytest.fixture(scope="module")
def tiny_queue_server():
    s = server_with_metrics("tiny-queue", ["--max-batch-items", "4", "--queue-max-items", "4"])
    yield s
    s.stop()
    s.remove_data()


def texts_of(client):
    """Three texts per client, of different lengths, none equal to another client's."""
    return [f"client {client} says hello",
            f"client {client} describes a small red boat drifting slowly across a quiet lake at dawn",
            f"client {client}: " + " ".join(f"word{i} of a long and winding sentence" for i in range(12))]


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_concurrent_clients_share_forwards_and_get_their_own_vectors(batching_server, minilm):
    # Reference: every text embedded alone, one request at a time.
    with batching_server.client() as c:
        alone = {text: c.embed_text([text])[0] for client in range(CLIENTS) for text in texts_of(client)}
    before = scrape(batching_server)

    barrier = threading.Barrier(CLIENTS)
    results, errors = {}, []

    def run(client):
        try:
            with batching_server.client() as c:
                barrier.wait(timeout=30)
                results[client] = [c.embed(texts_of(client)) for _ in range(ROUNDS)]
        except Exception as e:  # noqa: BLE001 - reported below with the client's number
            errors.append((client, e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    after = scrape(batching_server)

    for client, responses in results.items():
        for response in responses:
            assert [e.index for e in response.embeddings] == [0, 1, 2]
            for text, vector in zip(texts_of(client), response.vectors):
                assert cosine(vector, alone[text]) >= 0.9999, (client, text)
            assert response.usage.queue_time_ns > 0 and response.usage.compute_time_ns > 0
            assert response.usage.items == 3
    # Each request fit one forward (3 inputs); fewer forwards than requests means requests were merged.
    requests = CLIENTS * ROUNDS
    forwards = value(after, "rosetta_forward_requests_count") - value(before, "rosetta_forward_requests_count")
    assert value(after, "rosetta_forward_requests_sum") - value(before, "rosetta_forward_requests_sum") == requests
    assert value(after, "rosetta_forward_items_sum") - value(before, "rosetta_forward_items_sum") == 3 * requests
    assert forwards < requests, f"{requests} concurrent requests took {forwards} forward passes: none merged"
    assert value(after, "rosetta_inference_queue_seconds_count") - value(before, "rosetta_inference_queue_seconds_count") == requests
    assert value(after, "rosetta_inference_queued_items") == 0


def test_overload_is_refused_at_once_and_the_rest_served(tiny_queue_server, minilm):
    # 4 inputs per request, a queue of 4: while one request's forward runs, one more can wait; the rest of a
    # burst of 32 cannot.
    texts = [f"overload sentence {i} about the weather in a city by the sea, long enough to take a while"
             for i in range(4)]
    before = scrape(tiny_queue_server)

    async def burst():
        async with tiny_queue_server.client_async() as c:
            return await asyncio.gather(*(c.embed(texts) for _ in range(32)), return_exceptions=True)

    outcomes = asyncio.run(burst())
    served = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert served and refused, f"{len(served)} served, {len(refused)} refused"
    for error in refused:
        assert isinstance(error, rosetta.RosettaError) and error.code == grpc.StatusCode.RESOURCE_EXHAUSTED, error
        assert "queue limit of 4" in error.message and "--queue-max-items" in error.message, error.message
    for response in served:
        assert len(response.vectors) == 4
    after = scrape(tiny_queue_server)
    assert value(after, "rosetta_inference_rejected_total") - value(before, "rosetta_inference_rejected_total") == len(refused)
    assert value(after, "rosetta_inference_queued_items") == 0 and value(after, "rosetta_inference_queue_depth") == 0

    # Still healthy, and serving.
    with tiny_queue_server.client() as c:
        assert c.health("") == "SERVING"
        assert len(c.embed_text(texts)) == 4
