"""RDAP through real HTTP against the loopback server: override URL and bootstrap routing."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from enrichment.errors import NotConfigured, RateLimited, SourceTimeout, Unavailable
from enrichment.http import make_client
from enrichment.model import Indicator, Kind
from enrichment.settings import Settings
from enrichment.sources.base import Context
from enrichment.sources.rdap import RdapSource
from enrichment.text import LINE_LIMIT
from tests.servers.http_server import (
    Fault,
    HttpServer,
    Response,
    rdap_routes,
)
from tests.servers.rdap_data import (
    ASN,
    AUTNUM_FACTS,
    HOSTILE_DOMAIN,
    HOSTILE_FACTS,
    NL_IP,
    NL_NET_FACTS,
    QPDAR,
    QPDAR_FACTS,
    RANGE_IP,
    RANGE_NET_FACTS,
    REDACTED_DOMAIN,
    REDACTED_FACTS,
    V6_IP,
    V6_NET_FACTS,
    load,
    rdap_bootstrap,
)

REGISTRY_ONLY = {
    k: v for k, v in QPDAR_FACTS.items() if not k.startswith("registrant") and k != "redacted"
}


def ind(kind: Kind, value: str) -> Indicator:
    return Indicator(kind, value, value)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as http:
        http.timeout = httpx.Timeout(1.0)
        yield http


@pytest.fixture
def rdap(http_server: HttpServer, client: httpx.AsyncClient, tmp_path: Path) -> RdapSource:
    """The source with every query going to the loopback server's /rdap (PIVOT_RDAP_URL)."""
    rdap_routes(http_server)
    settings = Settings(data_dir=tmp_path, rdap_url=http_server.url + "/rdap")
    return RdapSource(Context(settings=settings, http=client))


@pytest.fixture
def routed(http_server: HttpServer, client: httpx.AsyncClient, tmp_path: Path) -> RdapSource:
    """The source choosing its service from a bootstrap that points at the loopback server."""
    rdap_routes(http_server)
    directory = rdap_bootstrap(tmp_path / "bootstrap", http_server.url)
    ctx = Context(settings=Settings(data_dir=tmp_path), http=client)
    return RdapSource(ctx, bootstrap_dir=directory)


def paths(server: HttpServer) -> list[str]:
    return [r.path for r in server.requests]


def test_declares_itself() -> None:
    assert RdapSource.name == "rdap"
    assert RdapSource.kinds == {Kind.DOMAIN, Kind.IPV4, Kind.IPV6, Kind.CIDR}
    assert (RdapSource.ttl, RdapSource.timeout) == (24 * 3600.0, 6.0)
    assert RdapSource.auto and RdapSource.third_party


# -- domains -----------------------------------------------------------------------------


async def test_thin_registry_link_to_the_registrar_is_followed_once(
    rdap: RdapSource, http_server: HttpServer
) -> None:
    finding = await rdap.lookup(ind(Kind.DOMAIN, QPDAR))
    assert dict(finding.facts) == QPDAR_FACTS
    assert finding.raw is None and finding.detail is None
    # The registrar's own "related" link (second-hop.pw) is not followed.
    assert paths(http_server) == ["/rdap/domain/qpdar.pw", "/registrar-rdap/domain/qpdar.pw"]


async def test_a_subdomain_is_asked_about_its_registered_domain(
    rdap: RdapSource, http_server: HttpServer
) -> None:
    finding = await rdap.lookup(ind(Kind.DOMAIN, "www.QPDAR.pw."))
    assert finding.facts["created"] == "2016-02-03"
    assert paths(http_server)[0] == "/rdap/domain/qpdar.pw"


async def test_redacted_registrant_never_becomes_facts(rdap: RdapSource) -> None:
    finding = await rdap.lookup(ind(Kind.DOMAIN, REDACTED_DOMAIN))
    assert dict(finding.facts) == REDACTED_FACTS
    assert not any(key.startswith("registrant") for key in finding.facts)


async def test_hostile_strings_pass_through_as_data_and_junk_is_dropped(
    rdap: RdapSource,
) -> None:
    finding = await rdap.lookup(ind(Kind.DOMAIN, HOSTILE_DOMAIN))
    assert dict(finding.facts) == HOSTILE_FACTS
    assert len(finding.facts["registrant_name"]) == LINE_LIMIT  # bounded, not 10,000


async def test_unknown_domain_is_empty(rdap: RdapSource) -> None:
    finding = await rdap.lookup(ind(Kind.DOMAIN, "never-registered.pw"))
    assert dict(finding.facts) == {}
    assert "404" in (finding.detail or "")


async def test_registrar_failure_keeps_the_registry_facts(
    rdap: RdapSource, http_server: HttpServer
) -> None:
    http_server.fault(Fault.hang(), "/registrar-rdap/", prefix=True)
    rdap.ctx.http.timeout = httpx.Timeout(0.3)
    finding = await rdap.lookup(ind(Kind.DOMAIN, QPDAR))
    assert dict(finding.facts) == REGISTRY_ONLY
    assert finding.detail == "registrar RDAP: timed out"


async def test_links_to_other_hosts_are_not_followed_under_an_override(
    rdap: RdapSource, http_server: HttpServer
) -> None:
    doc = load("domain_qpdar.pw.json", "https://registrar.example.net")
    http_server.route("/rdap/domain/elsewhere.pw", Response.json(doc))
    finding = await rdap.lookup(ind(Kind.DOMAIN, "elsewhere.pw"))
    assert dict(finding.facts) == REGISTRY_ONLY
    assert finding.detail is None
    assert paths(http_server) == ["/rdap/domain/elsewhere.pw"]


async def follows(source: RdapSource, url: str, base: str = "http://127.0.0.1:8/rdap/") -> bool:
    """What the source decides about a "related" link: its shape, then where its host points."""
    if not source._may_follow(url, base):
        return False
    try:
        await source._check_host(url, base)
    except Unavailable:
        return False
    return True


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8/registrar/x", True),  # the registry's own origin
        ("http://127.0.0.1:9/x", False),  # another port is another origin
        ("https://212.61.180.9/domain/a.pw", True),  # a public address
        ("http://212.61.180.9/domain/a.pw", False),  # plain HTTP elsewhere
        ("https://10.1.2.3/domain/a.pw", False),  # private address
        ("https://[::ffff:10.1.2.3]/domain/a.pw", False),
        ("https://localhost/domain/a.pw", False),
        (f"https://{socket.gethostname()}/domain/a.pw", False),  # a name pointing at us
        ("https://rdap.acme-internal.example/x", False),  # special-use name
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
    ],
)
async def test_which_links_are_followed_without_an_override(
    routed: RdapSource, url: str, allowed: bool
) -> None:
    assert await follows(routed, url) is allowed


# -- networks ----------------------------------------------------------------------------


async def test_ripe_network_with_cidr0_and_nested_abuse(rdap: RdapSource) -> None:
    finding = await rdap.lookup(ind(Kind.IPV4, NL_IP))
    assert dict(finding.facts) == NL_NET_FACTS


async def test_cidr_is_asked_about_its_network_address(
    rdap: RdapSource, http_server: HttpServer
) -> None:
    finding = await rdap.lookup(ind(Kind.CIDR, "212.61.180.0/24"))
    assert finding.facts["network"] == "212.61.180.0/24"
    assert paths(http_server) == ["/rdap/ip/212.61.180.0"]


@pytest.mark.parametrize(
    ("address", "network"),
    [(RANGE_IP, "212.61.186.0/24"), ("212.61.184.7", "212.61.184.0/23")],
)
async def test_cidr_computed_from_the_range_when_cidr0_is_absent(
    rdap: RdapSource, address: str, network: str
) -> None:
    finding = await rdap.lookup(ind(Kind.IPV4, address))
    assert finding.facts["network"] == network
    if address == RANGE_IP:
        assert dict(finding.facts) == RANGE_NET_FACTS


async def test_arin_v6_country_from_the_vcard_and_origin_as(rdap: RdapSource) -> None:
    finding = await rdap.lookup(ind(Kind.IPV6, V6_IP))
    assert dict(finding.facts) == V6_NET_FACTS


async def test_unknown_network_is_empty(rdap: RdapSource) -> None:
    assert dict((await rdap.lookup(ind(Kind.IPV4, "203.0.113.9"))).facts) == {}


async def test_autnum(rdap: RdapSource, http_server: HttpServer) -> None:
    assert await rdap.autnum(ASN) == AUTNUM_FACTS
    assert await rdap.autnum(64511) == {}
    assert paths(http_server) == ["/rdap/autnum/398765", "/rdap/autnum/64511"]


# -- failures ----------------------------------------------------------------------------


async def test_429_is_rate_limited_with_retry_after(
    rdap: RdapSource, http_server: HttpServer
) -> None:
    http_server.fault(Fault.rate_limited(120))
    with pytest.raises(RateLimited) as caught:
        await rdap.lookup(ind(Kind.DOMAIN, QPDAR))
    assert caught.value.retry_after == 120.0


async def test_500_twice_then_200_is_retried_to_success(
    rdap: RdapSource, http_server: HttpServer
) -> None:
    http_server.fault(Fault.error(500, times=2), "/rdap/ip/", prefix=True)
    finding = await rdap.lookup(ind(Kind.IPV4, NL_IP))
    assert dict(finding.facts) == NL_NET_FACTS
    assert len(http_server.requests) == 3


@pytest.mark.parametrize(
    "fault", [Fault.error(500), Fault.garbage(), Fault.oversized(3 * 1024 * 1024)]
)
async def test_broken_answers_are_unavailable(
    rdap: RdapSource, http_server: HttpServer, fault: Fault
) -> None:
    http_server.fault(fault)
    with pytest.raises(Unavailable):
        await rdap.lookup(ind(Kind.IPV4, NL_IP))


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"[" * 100_000 + b"]" * 100_000])
async def test_json_that_is_not_an_rdap_object_is_unavailable(
    rdap: RdapSource, http_server: HttpServer, body: bytes
) -> None:
    http_server.route("/rdap/domain/odd.pw", Response(200, body))
    with pytest.raises(Unavailable):
        await rdap.lookup(ind(Kind.DOMAIN, "odd.pw"))


async def test_hang_is_a_timeout(rdap: RdapSource, http_server: HttpServer) -> None:
    http_server.fault(Fault.hang())
    rdap.ctx.http.timeout = httpx.Timeout(0.3)
    with pytest.raises(SourceTimeout):
        await rdap.lookup(ind(Kind.DOMAIN, QPDAR))


# -- bootstrap routing -------------------------------------------------------------------


async def test_bootstrap_routes_domains_by_tld(routed: RdapSource, http_server: HttpServer) -> None:
    assert dict((await routed.lookup(ind(Kind.DOMAIN, QPDAR))).facts) == QPDAR_FACTS
    assert dict((await routed.lookup(ind(Kind.DOMAIN, REDACTED_DOMAIN))).facts) == REDACTED_FACTS
    assert dict((await routed.lookup(ind(Kind.DOMAIN, "some.org"))).facts) == {}
    assert paths(http_server)[-1] == "/wrong/domain/some.org"


async def test_bootstrap_overrides_add_missing_cctlds(
    routed: RdapSource, http_server: HttpServer
) -> None:
    await routed.lookup(ind(Kind.DOMAIN, "beispiel.de"))
    assert paths(http_server) == ["/rdap/domain/beispiel.de"]


async def test_bootstrap_longest_prefix_wins_for_ips(
    routed: RdapSource, http_server: HttpServer
) -> None:
    assert dict((await routed.lookup(ind(Kind.IPV4, NL_IP))).facts) == NL_NET_FACTS
    assert dict((await routed.lookup(ind(Kind.IPV6, V6_IP))).facts) == V6_NET_FACTS
    assert await routed.autnum(ASN) == AUTNUM_FACTS
    assert paths(http_server) == [
        f"/rdap/ip/{NL_IP}",
        f"/rdap/ip/{V6_IP}",
        f"/rdap/autnum/{ASN}",
    ]


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (Kind.DOMAIN, "example.ru", "no RDAP service for .ru"),
        (Kind.IPV4, "8.8.8.8", "no RDAP service for 8.8.8.8"),
    ],
)
async def test_no_service_in_the_bootstrap_is_not_configured_not_a_failure(
    routed: RdapSource, http_server: HttpServer, kind: Kind, value: str, message: str
) -> None:
    with pytest.raises(NotConfigured, match=message):
        await routed.lookup(ind(kind, value))
    with pytest.raises(NotConfigured, match="no RDAP service for AS1"):
        await routed.autnum(1)
    assert http_server.requests == []


async def test_a_broken_bootstrap_is_unavailable(client: httpx.AsyncClient, tmp_path: Path) -> None:
    ctx = Context(settings=Settings(data_dir=tmp_path), http=client)
    source = RdapSource(ctx, bootstrap_dir=tmp_path / "missing")
    with pytest.raises(Unavailable, match="bootstrap unreadable"):
        await source.lookup(ind(Kind.DOMAIN, QPDAR))
