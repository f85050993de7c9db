"""crt.sh subdomains through real HTTP against the loopback server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from enrichment.errors import RateLimited, Unavailable
from enrichment.http import make_client
from enrichment.model import Indicator, Kind
from enrichment.settings import Settings
from enrichment.sources.base import Context
from enrichment.sources.crtsh import MAX_SUBDOMAINS, CrtshSource
from tests.servers.http_server import (
    Fault,
    HttpServer,
    Request,
    Response,
)

FIXTURES = Path(__file__).parent / "fixtures" / "http"
RECORDED = json.loads((FIXTURES / "crtsh_qpdar.pw.json").read_text())


def answer(request: Request) -> Response:
    """Like crt.sh: the recorded entries for qpdar.pw, a generated flood for big.example."""
    q = request.param("q")
    if q == "%.qpdar.pw":
        return Response.json(RECORDED)
    if q == "%.big.example":
        names = "\n".join(f"host{i:05d}.big.example" for i in range(2_500))
        return Response.json([{"name_value": names}, {"name_value": "*.host00001.big.example"}])
    return Response.json([])


@pytest.fixture
async def source(http_server: HttpServer, tmp_path: Path) -> AsyncIterator[CrtshSource]:
    http_server.route("/", answer)
    settings = Settings(data_dir=tmp_path, source_urls={"crtsh": http_server.url})
    async with make_client() as http:
        http.timeout = httpx.Timeout(1.0)
        yield CrtshSource(Context(settings=settings, http=http))


def ind(value: str) -> Indicator:
    return Indicator(Kind.DOMAIN, value, value)


def test_declares_itself() -> None:
    assert CrtshSource.name == "crtsh"
    assert CrtshSource.kinds == {Kind.DOMAIN}
    assert (CrtshSource.ttl, CrtshSource.timeout) == (24 * 3600.0, 20.0)
    assert CrtshSource.auto is False


async def test_subdomains_deduplicated_without_wildcards_or_strangers(
    source: CrtshSource, http_server: HttpServer
) -> None:
    finding = await source.lookup(ind("qpdar.pw"))
    assert dict(finding.facts) == {
        "subdomains": ["api.qpdar.pw", "cdn.qpdar.pw", "main.qpdar.pw", "www.qpdar.pw"],
        "subdomain_count": 4,
    }
    assert finding.detail is None
    (seen,) = http_server.requests
    assert (seen.path, seen.param("q"), seen.param("output")) == ("/", "%.qpdar.pw", "json")
    assert "q=%25.qpdar.pw" in seen.query


async def test_the_list_is_capped_and_says_so(source: CrtshSource) -> None:
    finding = await source.lookup(ind("big.example"))
    assert len(finding.facts["subdomains"]) == MAX_SUBDOMAINS == 2_000
    assert finding.facts["subdomains"][0] == "host00000.big.example"
    assert finding.facts["subdomain_count"] == 2_500
    assert finding.detail == "showing the first 2,000 of 2,500 subdomains"


async def test_no_certificates_is_empty(source: CrtshSource) -> None:
    finding = await source.lookup(ind("nothing.example"))
    assert dict(finding.facts) == {}


async def test_rate_limited(source: CrtshSource, http_server: HttpServer) -> None:
    http_server.fault(Fault.rate_limited(60))
    with pytest.raises(RateLimited):
        await source.lookup(ind("qpdar.pw"))


@pytest.mark.parametrize("fault", [Fault.garbage(), Fault.error(502)])
async def test_broken_answers_are_unavailable(
    source: CrtshSource, http_server: HttpServer, fault: Fault
) -> None:
    http_server.fault(fault)
    with pytest.raises(Unavailable):
        await source.lookup(ind("qpdar.pw"))


async def test_an_object_is_not_an_answer(source: CrtshSource, http_server: HttpServer) -> None:
    http_server.route("/", {"error": "busy"})
    with pytest.raises(Unavailable, match="not a list"):
        await source.lookup(ind("qpdar.pw"))
