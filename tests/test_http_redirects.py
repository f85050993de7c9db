"""Redirects go through the same guard as WHOIS referrals and RDAP links: the same host, or a
public one; never a private, loopback or link-local address; a few hops at most."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from enrichment.errors import Unavailable
from enrichment.http import MAX_REDIRECTS, get_json, make_client
from enrichment.outbound import public_addresses
from tests.servers.http_server import HttpServer, Response


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as http:
        yield http


@pytest.fixture
def elsewhere() -> Iterator[HttpServer]:
    """Another server on loopback: what a redirect must never reach."""
    with HttpServer() as server:
        server.route("/", {"leaked": True}, prefix=True)
        yield server


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", {"Location": location})


async def test_a_redirect_on_the_same_host_is_followed(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/old", redirect("/new?x=1", 301))
    http_server.route("/new", {"moved": True})
    assert await get_json(client, http_server.url + "/old") == {"moved": True}
    assert [r.path for r in http_server.requests] == ["/old", "/new"]
    assert http_server.requests[1].query == "x=1"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("host", ["other-port", "localhost", "169.254.169.254", "10.0.0.1"])
async def test_a_redirect_to_a_private_or_loopback_place_is_refused(
    http_server: HttpServer,
    elsewhere: HttpServer,
    client: httpx.AsyncClient,
    status: int,
    host: str,
) -> None:
    target = elsewhere.url if host == "other-port" else f"http://{host}:{elsewhere.port}"
    http_server.route("/rdap/domain/x.pw", redirect(target + "/latest/meta-data/", status))
    with pytest.raises(Unavailable, match="not reached"):
        await get_json(client, http_server.url + "/rdap/domain/x.pw")
    assert elsewhere.requests == []


async def test_redirects_stop_after_a_few_hops(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/loop", redirect("/loop"))
    with pytest.raises(Unavailable, match="redirects"):
        await get_json(client, http_server.url + "/loop")
    assert len(http_server.requests) == MAX_REDIRECTS + 1


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/x", "file:///etc/passwd", ""])
async def test_odd_redirects_are_refused(
    http_server: HttpServer, client: httpx.AsyncClient, location: str
) -> None:
    http_server.route("/odd", redirect(location))
    with pytest.raises(Unavailable):
        await get_json(client, http_server.url + "/odd")


async def test_the_outbound_rule() -> None:
    assert await public_addresses("212.61.180.100", 80) == ["212.61.180.100"]
    for host in ("127.0.0.1", "[::1]", "::ffff:10.0.0.1", "localhost", "metadata.internal", ""):
        with pytest.raises(Unavailable, match="not reached"):
            await public_addresses(host, 80)
    with pytest.raises(Unavailable):  # this machine's own name resolves to itself
        await public_addresses(socket.gethostname(), 80)
