"""DomainTools through real HTTP against a loopback imitation that checks every signature."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrichment.domaintools.client import sign
from enrichment.errors import (
    InvalidInput,
    NotConfigured,
    RateLimited,
    SourceError,
    SourceTimeout,
    Unavailable,
)
from enrichment.http import make_client
from enrichment.indicators import make_indicator
from enrichment.model import Finding, Indicator, Kind
from enrichment.settings import Settings
from enrichment.sources.base import Context, RelatedPage
from enrichment.sources.domaintools import DomainToolsSource
from tests.servers.domaintools_server import DomainToolsApi, envelope
from tests.servers.http_server import Fault, HttpServer, Request, Response

CANARY = "CANARY-dt-key-5d1e0f9b77"  # the API key; it must never show anywhere
USER = "soc-pivot@example.org"
IP = "212.61.180.100"
IP6 = "2a01:4f8:c17:b8f::2"
EMAIL = "vorontsov.gennadiy@yandex.ru"
QPDAR: dict[str, Any] = {
    "registrar": "Nordvik Domains LLC",
    "created": "2016-02-03",
    "expires": "2017-02-03",
    "updated": "2016-02-08",
    "name_servers": ["ns1.bulletdns.net", "ns2.bulletdns.net"],
    "registrant_name": "Gennadiy Vorontsov",
    "registrant_email": EMAIL,
    "registrant_country": "RU",
    "redacted": False,
    "dt_registrant_domains": 8031,
    "dt_ip_domains": {IP: 36},
    "dt_ns_domains": {"ns1.bulletdns.net": 3412, "ns2.bulletdns.net": 3398},
    "dt_risk_score": 100,
    "dt_risk_components": [
        {"name": "blocklist", "score": 100},
        {"name": "threat_profile", "score": 98},
        {"name": "threat_profile_malware", "score": 98},
        {"name": "proximity", "score": 91},
        {"name": "threat_profile_phishing", "score": 42},
        {"name": "threat_profile_spam", "score": 37},
    ],
}


def ind(kind: Kind, value: str) -> Indicator:
    return make_indicator(kind, value)


@pytest.fixture
def api(http_server: HttpServer) -> DomainToolsApi:
    api = DomainToolsApi(username=USER, key=CANARY)
    api.install(http_server)
    return api


def make_source(
    api: DomainToolsApi, server: HttpServer, http: httpx.AsyncClient, tmp_path: Path, **kw: Any
) -> DomainToolsSource:
    now = kw.pop("now", None)
    settings = Settings(
        data_dir=tmp_path,
        source_urls={"domaintools": api.url(server)},
        domaintools_username=kw.pop("username", USER),
        domaintools_api_key=kw.pop("key", CANARY),
    )
    return DomainToolsSource(Context(settings=settings, http=http), now=now)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as client:
        client.timeout = httpx.Timeout(2.0)
        yield client


@pytest.fixture
def source(
    api: DomainToolsApi, http_server: HttpServer, http: httpx.AsyncClient, tmp_path: Path
) -> DomainToolsSource:
    return make_source(api, http_server, http, tmp_path)


def signed_correctly(request: Request) -> bool:
    """The signature the real service would compute, over a timestamp of about now."""
    stamp = request.param("timestamp") or ""
    when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    message = (USER + stamp + request.path).encode()
    expected = hmac.new(CANARY.encode(), message, hashlib.sha256).hexdigest()
    recent = abs(when - datetime.now(UTC)) < timedelta(minutes=1)
    return recent and request.param("signature") == expected


def paths(api: DomainToolsApi) -> list[str]:
    return [r.path.removeprefix(api.prefix) for r in api.seen]


# -- declaration and signing ---------------------------------------------------------------


def test_declares_itself() -> None:
    cls = DomainToolsSource
    assert (cls.name, cls.ttl, cls.timeout, cls.auto, cls.third_party) == (
        "domaintools",
        24 * 3600.0,
        8.0,
        True,
        True,
    )
    assert cls.kinds == {Kind.DOMAIN, Kind.IPV4, Kind.IPV6}
    assert cls.keys == ("domaintools_username", "domaintools_api_key")
    assert cls.reverse == {
        "reverse_ip",
        "same_ns",
        "reverse_whois_email",
        "reverse_whois_name",
        "reverse_whois_org",
    }
    assert all(hasattr(Settings(), key) for key in cls.keys)
    assert "DomainTools" in (sys.modules[cls.__module__].__doc__ or "")


def test_configured_only_with_both_keys() -> None:
    assert DomainToolsSource.configured(
        Settings(domaintools_username=USER, domaintools_api_key="k")
    )
    assert not DomainToolsSource.configured(Settings(domaintools_username=USER))
    assert not DomainToolsSource.configured(Settings(domaintools_api_key="k"))
    assert not DomainToolsSource.configured(Settings())


def test_signature_is_hmac_sha256_over_user_timestamp_and_path() -> None:
    signed = sign(
        "soc-pivot@example.org", "dt-key-0b5f7c2a9e4d41c3", "2016-02-12T11:04:09Z", "/v1/qpdar.pw"
    )
    assert signed == "ddb2f453405d167c1dc94fadfd3b425a9b187d2dde08fea236c95bab016e1527"


async def test_every_request_is_signed_and_never_carries_the_key(
    source: DomainToolsSource, api: DomainToolsApi
) -> None:
    await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert api.seen and api.leaks == 0
    for request in api.seen:
        assert set(request.params) >= {"api_username", "timestamp", "signature"}
        assert "api_key" not in request.params and CANARY not in request.query
        assert signed_correctly(request)


@pytest.mark.parametrize(
    "change",
    [
        {"key": "dt-wrong-key"},
        {"username": "someone-else@example.org"},
        {"now": lambda: datetime.now(UTC) - timedelta(hours=1)},
        {"now": lambda: datetime.now(UTC) + timedelta(minutes=20)},
    ],
    ids=["wrong-key", "unknown-user", "stale-timestamp", "future-timestamp"],
)
async def test_a_request_the_api_refuses_is_unavailable(
    api: DomainToolsApi,
    http_server: HttpServer,
    http: httpx.AsyncClient,
    tmp_path: Path,
    change: dict[str, Any],
) -> None:
    source = make_source(api, http_server, http, tmp_path, **change)
    with pytest.raises(Unavailable) as caught:
        await source.lookup(ind(Kind.IPV4, IP))
    assert str(caught.value) == "DomainTools refused the credentials"
    assert len(api.seen) == 1  # a 403 is not retried


async def test_without_keys_it_is_not_configured(
    http: httpx.AsyncClient, http_server: HttpServer, api: DomainToolsApi, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, source_urls={"domaintools": api.url(http_server)})
    source = DomainToolsSource(Context(settings=settings, http=http))
    with pytest.raises(NotConfigured):
        await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert api.seen == []


# -- domains ---------------------------------------------------------------------------


async def test_the_locky_domain(source: DomainToolsSource, api: DomainToolsApi) -> None:
    finding = await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert dict(finding.facts) == QPDAR
    assert (finding.detail, finding.ttl) == (None, None)
    assert sorted(paths(api)) == [
        "/v1/ns1.bulletdns.net/name-server-domains",
        "/v1/ns2.bulletdns.net/name-server-domains",
        "/v1/qpdar.pw",
        "/v1/qpdar.pw/whois/parsed",
        "/v1/risk",
    ]
    json.dumps(dict(finding.facts))


async def test_a_subdomain_is_asked_about_its_registration(
    source: DomainToolsSource, api: DomainToolsApi
) -> None:
    finding = await source.lookup(ind(Kind.DOMAIN, "www.qpdar.pw"))
    assert finding.facts["registrar"] == "Nordvik Domains LLC"
    assert "/v1/qpdar.pw" in paths(api)
    assert {r.param("domain") for r in api.seen if r.param("domain")} == {"qpdar.pw"}


async def test_placeholders_never_become_facts(source: DomainToolsSource) -> None:
    finding = await source.lookup(ind(Kind.DOMAIN, "quietlantern-shop.com"))
    assert dict(finding.facts) == {
        "registrar": "Harborline Registrar, Inc.",
        "created": "2024-05-19",
        "expires": "2026-05-19",
        "updated": "2025-04-20",
        "name_servers": ["alina.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "redacted": True,
        "dt_ip_domains": {"104.21.48.13": 21377},
        "dt_risk_score": 12,
        "dt_risk_components": [{"name": "proximity", "score": 12}],
    }


async def test_hostile_answers_are_cleaned(source: DomainToolsSource) -> None:
    finding = await source.lookup(ind(Kind.DOMAIN, "hostile-fixture.net"))
    assert dict(finding.facts) == {
        "registrar": "<http://evil|click> Registrar [31m Inc.",
        "created": "2023-01-09",
        "name_servers": ["ns1.hostile-fixture.net"],
        "registrant_name": ("Ivan " + "A" * 9995)[:512],
        "registrant_org": "<!channel> Holdings [31m",
        "redacted": False,
        "dt_risk_components": [{"name": "proximity <!here>", "score": 60}],
    }


async def test_an_unknown_domain_is_empty(source: DomainToolsSource) -> None:
    finding = await source.lookup(ind(Kind.DOMAIN, "never-registered-pivot.com"))
    assert dict(finding.facts) == {}
    assert finding.detail == "DomainTools knows nothing about this domain"


async def test_a_failed_part_leaves_a_partial_answer_cached_briefly(
    source: DomainToolsSource, http_server: HttpServer, api: DomainToolsApi
) -> None:
    http_server.fault(Fault.error(500), api.prefix + "/v1/risk")
    finding = await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert finding.facts["registrant_email"] == EMAIL
    assert "dt_risk_score" not in finding.facts
    assert finding.detail == "partial answer (risk: HTTP 500)"
    assert finding.ttl == 3600.0


async def test_a_failed_name_server_count_is_left_out(
    source: DomainToolsSource, http_server: HttpServer, api: DomainToolsApi
) -> None:
    http_server.fault(Fault.garbage(), api.prefix + "/v1/ns2.bulletdns.net/name-server-domains")
    finding = await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    assert finding.facts["dt_ns_domains"] == {"ns1.bulletdns.net": 3412}
    assert finding.detail is None


# -- addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value", "count"), [(Kind.IPV4, IP, 37), (Kind.IPV6, IP6, 3)])
async def test_an_address_counts_its_domains(
    source: DomainToolsSource, api: DomainToolsApi, kind: Kind, value: str, count: int
) -> None:
    finding = await source.lookup(ind(kind, value))
    assert dict(finding.facts) == {"dt_ip_domains": {value: count}}
    assert [r.param("limit") for r in api.seen] == ["1"]


async def test_an_unknown_address_is_empty(source: DomainToolsSource) -> None:
    finding = await source.lookup(ind(Kind.IPV4, "198.51.100.23"))
    assert dict(finding.facts) == {}


# -- reverse lookups -------------------------------------------------------------------


async def page(
    source: DomainToolsSource, pivot: str, indicator: Indicator, offset: int, limit: int
) -> RelatedPage:
    return await source.reverse_lookup(pivot, indicator.value, offset=offset, limit=limit)


async def test_reverse_ip_pages_through_every_hosted_domain(
    source: DomainToolsSource, api: DomainToolsApi
) -> None:
    first = await page(source, "reverse_ip", ind(Kind.IPV4, IP), 0, 25)
    second = await page(source, "reverse_ip", ind(Kind.IPV4, IP), 25, 25)
    assert (len(first.items), first.total, len(second.items), second.total) == (25, 37, 12, 37)
    names = [r.value for r in first.items + second.items]
    assert len(set(names)) == 37 and "qpdar.pw" in names and names[0] == "ajxksigqmpwl.ru"
    assert all(r.kind is Kind.DOMAIN and r.value == r.value.lower() for r in first.items)
    assert [r.param("limit") for r in api.seen] == ["25", "50"]


async def test_same_ns_reaches_deep_pages(source: DomainToolsSource) -> None:
    ns = ind(Kind.DOMAIN, "ns1.bulletdns.net")
    top = await page(source, "same_ns", ns, 0, 25)
    deep = await page(source, "same_ns", ns, 3400, 25)
    assert (top.total, deep.total) == (3412, 3412)
    assert [r.value for r in top.items[:4]] == [
        "ajxksigqmpwl.ru",
        "bqfyxnwtvis.pw",
        "kqlxtqptsmys.in",
        "qpdar.pw",
    ]
    assert len(deep.items) == 12 and deep.items[-1].value != "mail-relay-bullet.net"


async def test_a_count_alone_asks_for_one_name(
    source: DomainToolsSource, api: DomainToolsApi
) -> None:
    counted = await page(source, "same_ns", ind(Kind.DOMAIN, "ns2.bulletdns.net"), 0, 0)
    assert (counted.items, counted.total) == ((), 3398)
    assert api.seen[0].param("limit") == "1"


async def test_reverse_whois_quotes_a_count_and_purchases_a_page(
    source: DomainToolsSource, api: DomainToolsApi
) -> None:
    email = ind(Kind.EMAIL, EMAIL)
    counted = await page(source, "reverse_whois_email", email, 0, 0)
    first = await page(source, "reverse_whois_email", email, 0, 25)
    last = await page(source, "reverse_whois_email", email, 8025, 25)
    assert (counted.items, counted.total) == ((), 8031)
    assert (len(first.items), first.total, len(last.items)) == (25, 8031, 6)
    assert first.items[3].value == "qpdar.pw"
    assert [r.param("mode") for r in api.seen] == ["quote", "purchase", "purchase"]
    assert {r.param("terms") for r in api.seen} == {EMAIL}


async def test_reverse_whois_by_name(source: DomainToolsSource) -> None:
    person = Indicator(Kind.DOMAIN, "Gennadiy Vorontsov", "Gennadiy Vorontsov")
    found = await page(source, "reverse_whois_name", person, 0, 10)
    assert found.total == 8029 and [r.value for r in found.items[:2]] == [
        "ajxksigqmpwl.ru",
        "qpdar.pw",
    ]


@pytest.mark.parametrize("value", ["REDACTED FOR PRIVACY", "Withheld for Privacy ehf", "a|b"])
async def test_placeholders_and_compound_terms_are_not_pivoted_on(
    source: DomainToolsSource, api: DomainToolsApi, value: str
) -> None:
    with pytest.raises(InvalidInput):
        await page(source, "reverse_whois_org", Indicator(Kind.DOMAIN, value, value), 0, 25)
    assert api.seen == []


async def test_a_pivot_from_the_wrong_kind_is_refused(source: DomainToolsSource) -> None:
    with pytest.raises(InvalidInput):
        await page(source, "reverse_ip", ind(Kind.DOMAIN, "qpdar.pw"), 0, 25)
    with pytest.raises(NotImplementedError):
        await page(source, "subdomains", ind(Kind.DOMAIN, "qpdar.pw"), 0, 25)


# -- limits, quotas and faults ---------------------------------------------------------


async def test_http_429_is_rate_limited_with_retry_after(
    source: DomainToolsSource, http_server: HttpServer
) -> None:
    http_server.fault(Fault.rate_limited(30))
    with pytest.raises(RateLimited) as caught:
        await source.lookup(ind(Kind.IPV4, IP))
    assert caught.value.retry_after == 30.0


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (envelope(503, "You have exceeded your query limit."), "exceeded your query limit"),
        (envelope(403, "Your account has exceeded its monthly quota."), "monthly quota"),
        (envelope(429, "Rate limit exceeded: 60 queries per minute"), "HTTP 429"),
        (
            Response.json({"response": {"limit_exceeded": True, "message": "Daily limit"}}),
            "Daily limit",
        ),
        (Response.json({"error": {"code": 200, "message": "Query limit exceeded"}}), "Query limit"),
    ],
    ids=["503-envelope", "403-envelope", "429-envelope", "limit_exceeded", "200-envelope"],
)
async def test_quota_answers_are_rate_limited_with_the_reason(
    source: DomainToolsSource, api: DomainToolsApi, answer: Response, reason: str
) -> None:
    api.override = answer
    with pytest.raises(RateLimited) as caught:
        await source.lookup(ind(Kind.IPV4, IP))
    assert reason in str(caught.value)
    assert len(api.seen) == 1  # a quota is not retried


async def test_5xx_is_retried_and_signed_afresh(
    source: DomainToolsSource, http_server: HttpServer, api: DomainToolsApi
) -> None:
    http_server.fault(Fault.error(503, times=2), api.prefix + "/v1/" + IP + "/host-domains")
    finding = await source.lookup(ind(Kind.IPV4, IP))
    assert finding.facts == {"dt_ip_domains": {IP: 37}}
    assert len(http_server.requests) == 3
    assert all(signed_correctly(r) for r in http_server.requests)


async def test_a_lasting_5xx_is_unavailable(
    source: DomainToolsSource, http_server: HttpServer
) -> None:
    http_server.fault(Fault.error(500))
    with pytest.raises(Unavailable, match="HTTP 500"):
        await source.lookup(ind(Kind.IPV4, IP))
    assert len(http_server.requests) == 3


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Response(200, b"<html>\x00 not json", {"Content-Type": "application/json"}), "not JSON"),
        (Response.json([1, 2, 3]), "no response"),
        (Response.json({"response": "yes"}), "no response"),
        (envelope(400, "We could not understand your request."), "HTTP 400: We could not"),
    ],
    ids=["garbage", "list", "string-response", "bad-request"],
)
async def test_broken_answers_are_unavailable(
    source: DomainToolsSource, api: DomainToolsApi, answer: Response, message: str
) -> None:
    api.override = answer
    with pytest.raises(Unavailable, match=message):
        await source.lookup(ind(Kind.IPV4, IP))


async def test_an_oversized_answer_is_unavailable(
    source: DomainToolsSource, http_server: HttpServer
) -> None:
    http_server.fault(Fault.oversized(3 << 20))
    with pytest.raises(Unavailable, match="too large"):
        await source.lookup(ind(Kind.IPV4, IP))


async def test_a_hang_is_a_timeout(source: DomainToolsSource, http_server: HttpServer) -> None:
    http_server.fault(Fault.hang())
    source.ctx.http.timeout = httpx.Timeout(0.3)
    with pytest.raises(SourceTimeout):
        await source.lookup(ind(Kind.DOMAIN, "qpdar.pw"))


# -- the key never leaks ---------------------------------------------------------------


async def _everything(source: DomainToolsSource, api: DomainToolsApi) -> list[object]:
    """Every path through the source, each outcome kept: findings, pages and errors."""
    outcomes: list[object] = []
    calls = [
        source.lookup(ind(Kind.DOMAIN, "qpdar.pw")),
        source.lookup(ind(Kind.IPV6, IP6)),
        source.reverse_lookup("reverse_whois_email", EMAIL, offset=0, limit=5),
    ]
    outcomes += await asyncio.gather(*calls)
    for answer in (envelope(503, "You have exceeded your query limit."), envelope(403, "no")):
        api.override = answer
        try:
            await source.lookup(ind(Kind.IPV4, IP))
        except SourceError as exc:
            outcomes.append(exc)
    api.override = None
    return outcomes


def _texts(outcome: object) -> list[str]:
    """Everything an outcome could show: a finding's facts and notes, an error and its causes."""
    if isinstance(outcome, Finding):
        return [json.dumps(dict(outcome.facts)), str(outcome.detail), str(outcome.raw)]
    if isinstance(outcome, BaseException):
        return [str(outcome), repr(outcome), str(outcome.__cause__), str(outcome.__context__)]
    return [repr(outcome)]


async def test_the_key_never_leaks(
    source: DomainToolsSource,
    api: DomainToolsApi,
    http_server: HttpServer,
    http: httpx.AsyncClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    outcomes = await _everything(source, api)
    refused = make_source(
        api, http_server, http, tmp_path, now=lambda: datetime(2016, 2, 3, tzinfo=UTC)
    )
    try:
        await refused.lookup(ind(Kind.DOMAIN, "qpdar.pw"))
    except SourceError as exc:
        outcomes.append(exc)
    assert len(outcomes) == 6
    shown = [repr(source.ctx.settings), caplog.text]
    shown += [r.getMessage() for r in caplog.records] + [r.query for r in api.seen]
    shown += [text for outcome in outcomes for text in _texts(outcome)]
    assert not [text for text in shown if CANARY in text]
    assert any(r.name == "httpx" and "signature=" in r.getMessage() for r in caplog.records)
    assert api.leaks == 0
