"""mnemonic PassiveDNS through real HTTP against a loopback imitation of its API."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrichment.errors import InvalidInput, RateLimited, SourceTimeout, Unavailable
from enrichment.http import make_client
from enrichment.indicators import make_indicator
from enrichment.model import Indicator, Kind
from enrichment.settings import Settings
from enrichment.sources.base import Context
from enrichment.sources.mnemonic import MAX_ITEMS, MnemonicSource, Seen, seen
from tests.servers.http_server import Fault, HttpServer, Response
from tests.servers.mnemonic_server import MnemonicApi, container, refusal

IP = "212.61.180.100"
IP6 = "2a01:4f8:c17:b8f::2"
CANARY = "CANARY-argus-key-3e8d21"
QPDAR_ADDRESSES = [
    {"value": IP, "first_seen": "2016-02-03", "last_seen": "2016-03-21"},
    {"value": IP6, "first_seen": "2016-02-04", "last_seen": "2016-03-19"},
    {"value": "212.61.184.17", "first_seen": "2016-01-28", "last_seen": "2016-02-03"},
]


@dataclass(frozen=True)
class MnSettings(Settings):
    """Settings with the field the registry entry adds (until then, only here)."""

    mnemonic_api_key: str | None = field(default=None, repr=False)


def ind(kind: Kind, value: str) -> Indicator:
    return make_indicator(kind, value)


@pytest.fixture
def api(http_server: HttpServer) -> MnemonicApi:
    api = MnemonicApi(key=CANARY)
    api.install(http_server)
    return api


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as client:
        client.timeout = httpx.Timeout(2.0)
        yield client


def make_source(
    api: MnemonicApi, server: HttpServer, http: httpx.AsyncClient, tmp_path: Path, key: Any = None
) -> MnemonicSource:
    settings = MnSettings(
        data_dir=tmp_path, source_urls={"mnemonic": api.url(server)}, mnemonic_api_key=key
    )
    return MnemonicSource(Context(settings=settings, http=http))


@pytest.fixture
def source(
    api: MnemonicApi, http_server: HttpServer, http: httpx.AsyncClient, tmp_path: Path
) -> MnemonicSource:
    return make_source(api, http_server, http, tmp_path)


def test_declares_itself() -> None:
    cls = MnemonicSource
    assert (cls.name, cls.ttl, cls.auto, cls.third_party, cls.keys) == (
        "mnemonic",
        24 * 3600.0,
        False,
        True,
        (),
    )
    assert cls.kinds == {Kind.DOMAIN, Kind.IPV4, Kind.IPV6}
    assert cls.reverse == {"reverse_ip"}
    assert 0 < cls.timeout <= 30
    assert "mnemonic PassiveDNS" in (sys.modules[cls.__module__].__doc__ or "")


# -- lookups ---------------------------------------------------------------------------


async def test_a_domain_lists_its_past_addresses_newest_first(
    source: MnemonicSource, api: MnemonicApi
) -> None:
    finding = await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert dict(finding.facts) == {"pdns_addresses": QPDAR_ADDRESSES}
    assert finding.detail is None
    request = api.seen[0]
    assert request.path == "/mnemonic/pdns/v3/qpdar.pw"
    assert (request.param("limit"), request.param("offset"), request.param("rrType")) == (
        "200",
        "0",
        None,
    )
    json.dumps(dict(finding.facts))


async def test_an_address_lists_the_names_that_resolved_to_it(
    source: MnemonicSource, api: MnemonicApi
) -> None:
    finding = await source.lookup(ind(Kind.IPV4, IP))
    names = finding.facts["pdns_names"]
    assert len(names) == 37 and names[0] == {
        "value": "qpdar.pw",
        "first_seen": "2016-02-03",
        "last_seen": "2016-03-21",
    }
    assert {
        "value": "mail.qpdar.pw",
        "first_seen": "2016-02-03",
        "last_seen": "2016-03-18",
    } in names
    assert [n["last_seen"] for n in names] == sorted((n["last_seen"] for n in names), reverse=True)
    assert not [n for n in names if "channel" in n["value"]]  # not a domain: dropped
    assert api.seen[0].param("rrType") == "A"


async def test_an_ipv6_address_asks_for_aaaa(source: MnemonicSource, api: MnemonicApi) -> None:
    finding = await source.lookup(ind(Kind.IPV6, IP6))
    assert [n["value"] for n in finding.facts["pdns_names"]] == ["qpdar.pw"]
    assert api.seen[0].param("rrType") == "AAAA"


async def test_nothing_seen_is_empty(source: MnemonicSource) -> None:
    finding = await source.lookup(ind(Kind.DOMAIN, "never-seen-pivot.com"))
    assert dict(finding.facts) == {}
    assert finding.detail == "mnemonic has seen no resolutions"


async def test_a_404_is_empty(source: MnemonicSource, api: MnemonicApi) -> None:
    api.override = Response.json(container(404, None, message="Not found"), status=404)
    assert dict((await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))).facts) == {}


def test_one_entry_per_value_the_most_recent_first() -> None:
    def record(name: str, n: int) -> dict[str, Any]:
        when = 1_454_483_400_000 + n * 60_000
        return {
            "query": name,
            "answer": IP,
            "rrtype": "A",
            "firstSeenTimestamp": when,
            "lastSeenTimestamp": when + 1000,
        }

    found = seen([record(f"n{i}.qpdar.pw", i) for i in range(80)] + [record("qpdar.pw", 0)], IP)
    assert len(found) == 81 and found[0].value == "n79.qpdar.pw"
    twice = seen([record("qpdar.pw", 0), record("qpdar.pw", 500)], IP)
    first = 1_454_483_400
    assert twice == [Seen("qpdar.pw", first, first + 500 * 60 + 1)]


async def test_a_long_history_is_capped_with_a_note(
    source: MnemonicSource, api: MnemonicApi
) -> None:
    data = [
        {
            "query": f"n{i}.qpdar.pw",
            "answer": IP,
            "rrtype": "a",
            "firstSeenTimestamp": 1_454_483_400_000 + i,
            "lastSeenTimestamp": 1_454_483_500_000 + i,
        }
        for i in range(70)
    ]
    api.override = Response.json(container(200, data, count=70))
    finding = await source.lookup(ind(Kind.IPV4, IP))
    assert len(finding.facts["pdns_names"]) == MAX_ITEMS
    assert finding.detail == "the 50 most recent of 70"


# -- reverse lookups -------------------------------------------------------------------


async def test_reverse_ip_pages_with_the_apis_offset_and_limit(
    source: MnemonicSource, api: MnemonicApi
) -> None:
    first = await source.reverse_lookup("reverse_ip", IP, offset=0, limit=25)
    second = await source.reverse_lookup("reverse_ip", IP, offset=25, limit=25)
    assert (first.total, second.total) == (38, 38)  # the API's count, one record not a domain
    names = [r.value for r in first.items + second.items]
    assert len(names) == len(set(names)) == 37
    assert first.items[0].value == "qpdar.pw" and first.items[0].kind is Kind.DOMAIN
    assert first.items[0].first_seen == 1_454_483_400.0
    assert [(r.param("offset"), r.param("limit"), r.param("rrType")) for r in api.seen] == [
        ("0", "25", "A"),
        ("25", "25", "A"),
    ]


async def test_a_count_alone_never_asks_for_everything(
    source: MnemonicSource, api: MnemonicApi
) -> None:
    counted = await source.reverse_lookup("reverse_ip", IP, offset=0, limit=0)
    assert (counted.items, counted.total) == ((), 38)
    assert api.seen[0].param("limit") == "1"  # limit=0 would mean "all" to the API


async def test_a_page_is_never_larger_than_the_public_limit(
    source: MnemonicSource, api: MnemonicApi
) -> None:
    found = await source.reverse_lookup("reverse_ip", IP, offset=0, limit=5000)
    assert len(found.items) == 37 and api.seen[0].param("limit") == "1000"


async def test_reverse_ip_needs_an_address(source: MnemonicSource) -> None:
    with pytest.raises(InvalidInput):
        await source.reverse_lookup("reverse_ip", "qpdar.pw", offset=0, limit=5)
    with pytest.raises(NotImplementedError):
        await source.reverse_lookup("same_ns", "qpdar.pw", offset=0, limit=5)


# -- keys, quotas and faults -----------------------------------------------------------


async def test_the_key_goes_in_its_header_and_nowhere_else(
    api: MnemonicApi,
    http_server: HttpServer,
    http: httpx.AsyncClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    keyed = make_source(api, http_server, http, tmp_path, key=CANARY)
    finding = await keyed.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    api.override = refusal(412, "Resource limit exceeded")
    with pytest.raises(RateLimited) as caught:
        await keyed.lookup(ind(Kind.IPV4, IP))
    assert api.seen[0].headers["argus-api-key"] == CANARY
    shown = [caplog.text, str(caught.value), json.dumps(dict(finding.facts)), str(finding.detail)]
    shown += [r.query + r.path for r in api.seen] + [repr(keyed.ctx.settings)]
    assert not [text for text in shown if CANARY in text]


async def test_without_a_key_no_key_header(source: MnemonicSource, api: MnemonicApi) -> None:
    await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert "argus-api-key" not in api.seen[0].headers


async def test_a_wrong_key_is_unavailable(
    api: MnemonicApi, http_server: HttpServer, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    wrong = make_source(api, http_server, http, tmp_path, key="not-the-key")
    with pytest.raises(Unavailable, match="HTTP 401: Authentication failed"):
        await wrong.lookup(ind(Kind.DOMAIN, "qpdar.pw"))


@pytest.mark.parametrize(
    "answer",
    [
        refusal(412, "Resource limit exceeded"),
        refusal(402, "Resource limit exceeded"),
        Response.json(container(412, None, message="Resource limit exceeded")),
        Response.json(container(200, [], message="Daily resource limit exceeded"), status=403),
    ],
    ids=["http-412", "http-402", "responseCode-412", "403-limit-message"],
)
async def test_quota_answers_are_rate_limited_with_the_reason(
    source: MnemonicSource, api: MnemonicApi, answer: Response
) -> None:
    api.override = answer
    with pytest.raises(RateLimited, match=r"^mnemonic: (Daily r|R)esource limit exceeded$"):
        await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))


async def test_http_429_is_rate_limited_with_retry_after(
    source: MnemonicSource, http_server: HttpServer
) -> None:
    http_server.fault(Fault.rate_limited(12))
    with pytest.raises(RateLimited) as caught:
        await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert caught.value.retry_after == 12.0


async def test_5xx_is_retried(source: MnemonicSource, http_server: HttpServer) -> None:
    http_server.fault(Fault.error(502, times=2))
    finding = await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert finding.facts["pdns_addresses"] == QPDAR_ADDRESSES
    assert len(http_server.requests) == 3


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Response(200, b"<html>\x00 {{{", {"Content-Type": "application/json"}), "not JSON"),
        (Response.json([1, 2]), "not an object"),
        (Response.json(container(500, None, message="Internal error")), "responseCode 500"),
        (Response.json(container(400, None, message="Bad query"), status=400), "HTTP 400"),
    ],
    ids=["garbage", "list", "responseCode-500", "http-400"],
)
async def test_broken_answers_are_unavailable(
    source: MnemonicSource, api: MnemonicApi, answer: Response, message: str
) -> None:
    api.override = answer
    with pytest.raises(Unavailable, match=message):
        await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))


async def test_a_lasting_5xx_is_unavailable(
    source: MnemonicSource, http_server: HttpServer
) -> None:
    http_server.fault(Fault.error(503))
    with pytest.raises(Unavailable, match="HTTP 503"):
        await source.lookup(ind(Kind.IPV4, IP))


async def test_a_hang_is_a_timeout(source: MnemonicSource, http_server: HttpServer) -> None:
    http_server.fault(Fault.hang())
    source.ctx.http.timeout = httpx.Timeout(0.3)
    with pytest.raises(SourceTimeout):
        await source.lookup(ind(Kind.IPV4, IP))
