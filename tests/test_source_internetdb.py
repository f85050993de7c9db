"""Shodan InternetDB through real HTTP against the loopback server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from enrichment.errors import RateLimited, SourceTimeout, Unavailable
from enrichment.http import make_client
from enrichment.model import Indicator, Kind
from enrichment.settings import Settings
from enrichment.sources.base import Context
from enrichment.sources.internetdb import InternetDbSource
from tests.servers.http_server import (
    Fault,
    HttpServer,
    Response,
)

FIXTURES = Path(__file__).parent / "fixtures" / "http"
IP = "212.61.180.100"
EXPECTED = {
    "ports": [22, 80, 443, 8080],
    "hostnames": ["mail.hostkeep-colo.nl", "qpdar.pw"],
    "cpes": [
        "cpe:/a:nginx:nginx:1.10.3",
        "cpe:/a:openbsd:openssh:7.4",
        "cpe:/o:linux:linux_kernel",
    ],
    "tags": ["eol-product", "self-signed"],
    "vulns": ["CVE-2016-0777", "CVE-2017-7529"],
}


def fixture(name: str, status: int = 200) -> Response:
    return Response.json(json.loads((FIXTURES / name).read_text()), status=status)


@pytest.fixture
async def source(http_server: HttpServer, tmp_path: Path) -> AsyncIterator[InternetDbSource]:
    http_server.route(f"/{IP}", fixture(f"internetdb_{IP}.json"))
    http_server.route("/198.51.100.23", fixture("internetdb_quiet.json"))
    http_server.route("/", fixture("internetdb_404.json", status=404), prefix=True)
    settings = Settings(data_dir=tmp_path, source_urls={"internetdb": http_server.url + "/"})
    async with make_client() as http:
        http.timeout = httpx.Timeout(1.0)
        yield InternetDbSource(Context(settings=settings, http=http))


def ind(value: str) -> Indicator:
    return Indicator(Kind.IPV6 if ":" in value else Kind.IPV4, value, value)


def test_declares_itself() -> None:
    assert InternetDbSource.name == "internetdb"
    assert InternetDbSource.kinds == {Kind.IPV4, Kind.IPV6}
    assert (InternetDbSource.ttl, InternetDbSource.timeout) == (24 * 3600.0, 5.0)
    assert InternetDbSource.auto


async def test_ok_facts_are_sorted_deduplicated_and_typed(
    source: InternetDbSource, http_server: HttpServer
) -> None:
    finding = await source.lookup(ind(IP))
    assert dict(finding.facts) == EXPECTED
    assert [r.path for r in http_server.requests] == [f"/{IP}"]


async def test_404_is_empty(source: InternetDbSource) -> None:
    finding = await source.lookup(ind("203.0.113.7"))
    assert dict(finding.facts) == {}
    assert finding.detail == "no information available"


async def test_all_lists_empty_is_empty(source: InternetDbSource) -> None:
    assert dict((await source.lookup(ind("198.51.100.23"))).facts) == {}


async def test_ipv6_goes_in_the_path(source: InternetDbSource, http_server: HttpServer) -> None:
    await source.lookup(ind("2602:FE12:7a42:0::1"))
    assert http_server.requests[0].path == "/2602:fe12:7a42::1"


async def test_rate_limited(source: InternetDbSource, http_server: HttpServer) -> None:
    http_server.fault(Fault.rate_limited(30))
    with pytest.raises(RateLimited) as caught:
        await source.lookup(ind(IP))
    assert caught.value.retry_after == 30.0


@pytest.mark.parametrize("fault", [Fault.garbage(), Fault.error(403), Fault.oversized(2 << 20)])
async def test_broken_answers_are_unavailable(
    source: InternetDbSource, http_server: HttpServer, fault: Fault
) -> None:
    http_server.fault(fault)
    with pytest.raises(Unavailable):
        await source.lookup(ind(IP))


async def test_a_list_is_not_an_answer(source: InternetDbSource, http_server: HttpServer) -> None:
    http_server.route(f"/{IP}", [1, 2, 3])
    with pytest.raises(Unavailable, match="not an object"):
        await source.lookup(ind(IP))


async def test_hang_is_a_timeout(source: InternetDbSource, http_server: HttpServer) -> None:
    http_server.fault(Fault.hang())
    source.ctx.http.timeout = httpx.Timeout(0.3)
    with pytest.raises(SourceTimeout):
        await source.lookup(ind(IP))
