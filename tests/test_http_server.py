"""The loopback HTTP server other tests stand on: routes, recording, faults, clean stop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from enrichment.errors import RateLimited, SourceTimeout, Unavailable
from enrichment.http import get_json, request
from tests.servers.http_server import (
    Fault,
    HttpServer,
    Request,
    Response,
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=0.5) as http:
        yield http


async def test_exact_routes_win_over_prefixes_and_longest_prefix_wins(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/api/", {"which": "short"}, prefix=True)
    http_server.route("/api/v1/", {"which": "long"}, prefix=True)
    http_server.route("/api/v1/exact", {"which": "exact"})
    answers = [
        (await get_json(client, http_server.url + path))["which"]
        for path in ("/api/x", "/api/v1/x", "/api/v1/exact")
    ]
    assert answers == ["short", "long", "exact"]


async def test_unknown_path_and_wrong_method_are_404(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/only-post", {"ok": True}, method="POST")
    assert await get_json(client, http_server.url + "/nothing") is None
    assert await get_json(client, http_server.url + "/only-post") is None
    status, _ = await request(client, "POST", http_server.url + "/only-post")
    assert status == 200


async def test_every_request_is_recorded(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/echo", lambda r: Response.json({"q": r.param("q")}), method="*")
    await request(
        client, "POST", http_server.url + "/echo?q=%25.x", content=b'{"a": 1}', headers={"X-T": "1"}
    )
    (seen,) = http_server.requests_to("/echo")
    assert (seen.method, seen.query, seen.param("q")) == ("POST", "q=%25.x", "%.x")
    assert seen.json() == {"a": 1}
    assert seen.headers["x-t"] == "1"


async def test_a_failing_handler_answers_500_and_is_reported(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    def broken(_: Request) -> Response:
        raise KeyError("boom")

    http_server.route("/broken", broken)
    with pytest.raises(Unavailable, match="HTTP 500"):
        await get_json(client, http_server.url + "/broken", retries=0)
    assert http_server.errors == ["KeyError('boom')"]


async def test_status_fault_only_the_first_times(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/flaky", {"ok": True})
    http_server.fault(Fault.error(503, times=2), "/flaky")
    assert await get_json(client, http_server.url + "/flaky", backoff=0.01) == {"ok": True}
    assert len(http_server.requests_to("/flaky")) == 3


async def test_rate_limited_fault_carries_retry_after(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.fault(Fault.rate_limited(42))
    with pytest.raises(RateLimited) as caught:
        await get_json(client, http_server.url + "/x")
    assert caught.value.retry_after == 42.0


async def test_garbage_fault(http_server: HttpServer, client: httpx.AsyncClient) -> None:
    http_server.fault(Fault.garbage(), "/g")
    with pytest.raises(Unavailable, match="not JSON"):
        await get_json(client, http_server.url + "/g")


@pytest.mark.parametrize("declare", [True, False])
async def test_oversized_fault_declared_or_streamed(
    http_server: HttpServer, client: httpx.AsyncClient, declare: bool
) -> None:
    http_server.fault(Fault.oversized(300_000, declare=declare), "/big")
    with pytest.raises(Unavailable, match="large"):
        await get_json(client, http_server.url + "/big", max_bytes=10_000)


async def test_delay_fault_then_the_normal_answer(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/slow", {"ok": True})
    http_server.fault(Fault.delay(0.05), "/slow")
    assert await get_json(client, http_server.url + "/slow") == {"ok": True}


async def test_hang_times_out_and_does_not_hold_stop(client: httpx.AsyncClient) -> None:
    server = HttpServer().start()
    try:
        server.fault(Fault.hang())
        with pytest.raises(SourceTimeout):
            await get_json(client, server.url + "/never", retries=0)
    finally:
        server.stop()  # returns although the handler was still waiting
    assert server.errors == []
