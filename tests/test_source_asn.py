"""The asn source (Team Cymru over DNS), against the loopback DNS server."""

from __future__ import annotations

import ipaddress

import pytest

from enrichment.errors import SourceTimeout, Unavailable
from enrichment.model import Indicator, Kind
from enrichment.resolver import make_resolver
from enrichment.sources.asn import PARTIAL_TTL, AsnSource, origin_name, parse_as_name, parse_origin
from enrichment.sources.base import Context
from tests.servers.dns_server import (
    MOAS_AS_NAME,
    MOAS_ASN,
    MOAS_ASNS,
    MOAS_IP,
    MOAS_NETWORK,
    QPDAR_ALLOCATED,
    QPDAR_AS_NAME,
    QPDAR_ASN,
    QPDAR_COUNTRY,
    QPDAR_IP,
    QPDAR_IPV6,
    QPDAR_IPV6_AS_NAME,
    QPDAR_IPV6_ASN,
    QPDAR_IPV6_NETWORK,
    QPDAR_NETWORK,
    QPDAR_REGISTRY,
    UNROUTED_IP,
    DnsServer,
)


def ip(value: str) -> Indicator:
    return Indicator(Kind.IPV6 if ":" in value else Kind.IPV4, value, value)


@pytest.fixture
def source(dns_context: Context) -> AsnSource:
    return AsnSource(dns_context)


@pytest.fixture
def impatient(dns_context: Context) -> AsnSource:
    """Short tries for the tests where the server hangs, so they stay quick."""
    return AsnSource(
        dns_context, resolver=make_resolver(dns_context.settings, timeout=0.3, lifetime=0.8)
    )


async def test_declares_itself() -> None:
    assert AsnSource.name == "asn"
    assert AsnSource.kinds == {Kind.IPV4, Kind.IPV6}
    assert AsnSource.third_party is True
    assert AsnSource.ttl == 4 * 3600
    assert (AsnSource.timeout, AsnSource.auto) == (4.0, True)


async def test_the_most_specific_prefix_wins(source: AsnSource, dns_server: DnsServer) -> None:
    found = await source.lookup(ip(QPDAR_IP))
    assert found.facts == {
        "asn": QPDAR_ASN,
        "network": QPDAR_NETWORK,
        "country": QPDAR_COUNTRY,
        "registry": QPDAR_REGISTRY,
        "allocated": QPDAR_ALLOCATED,
        "as_name": QPDAR_AS_NAME,
    }
    assert found.detail is None
    assert found.ttl is None  # the source's own four hours
    asked = [(name, rdtype) for name, rdtype, _ in dns_server.queries]
    assert asked == [
        ("100.180.61.212.origin.asn.cymru.com", "TXT"),
        (f"as{QPDAR_ASN}.asn.cymru.com", "TXT"),
    ]


async def test_every_origin_of_the_prefix_is_kept(source: AsnSource) -> None:
    found = await source.lookup(ip(MOAS_IP))
    assert found.facts["asn"] == MOAS_ASN  # the first one Cymru lists
    assert found.facts["asns"] == list(MOAS_ASNS)
    assert found.facts["network"] == MOAS_NETWORK
    assert found.facts["as_name"] == MOAS_AS_NAME  # hostile text kept whole, "|" and all


async def test_ipv6_is_asked_by_its_nibbles(source: AsnSource, dns_server: DnsServer) -> None:
    found = await source.lookup(ip(QPDAR_IPV6))
    assert found.facts["asn"] == QPDAR_IPV6_ASN
    assert found.facts["network"] == QPDAR_IPV6_NETWORK
    assert found.facts["as_name"] == QPDAR_IPV6_AS_NAME
    nibbles = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.f.8.b.0.7.1.c.0.8.f.4.0.1.0.a.2"
    assert dns_server.queries[0][:2] == (f"{nibbles}.origin6.asn.cymru.com", "TXT")


async def test_an_unannounced_address_is_empty(source: AsnSource) -> None:
    found = await source.lookup(ip(UNROUTED_IP))
    assert found.facts == {}
    assert found.detail is not None and "NXDOMAIN" in found.detail


async def test_records_that_do_not_hold_the_address_are_ignored(
    source: AsnSource, dns_server: DnsServer
) -> None:
    dns_server.add(
        "7.180.61.212.origin.asn.cymru.com",
        "TXT",
        '"64501 | 212.61.180.0/25 | <!channel> | RIPE NCC!! | yesterday"',
        '"64502 | 10.0.0.0/30 | NL | ripencc | 2001-01-01"',
        '"not | a | record"',
        '"AS1 | 212.61.180.0/26 | NL | ripencc | 2001-01-01"',
        '"64503 | 212.61.0.0/16 | NL | ripencc | 2001-01-01"',
    )
    found = await source.lookup(ip("212.61.180.7"))
    # the /30 does not hold it, "AS1" is no number: the /25 is the most specific left,
    # and its hostile country, registry and date are dropped, not passed on
    assert found.facts == {"asn": 64501, "network": "212.61.180.0/25"}


async def test_nothing_that_holds_the_address_is_empty(
    source: AsnSource, dns_server: DnsServer
) -> None:
    dns_server.add("8.180.61.212.origin.asn.cymru.com", "TXT", '"64502 | 10.0.0.0/8 | NL"')
    found = await source.lookup(ip("212.61.180.8"))
    assert found.facts == {}
    assert found.detail is not None


async def test_a_missing_as_name_keeps_the_rest(
    impatient: AsnSource, dns_server: DnsServer
) -> None:
    dns_server.name_faults[f"as{QPDAR_ASN}.asn.cymru.com"] = "silent"
    found = await impatient.lookup(ip(QPDAR_IP))
    assert found.facts["asn"] == QPDAR_ASN
    assert "as_name" not in found.facts
    assert found.detail is not None and found.detail.startswith("AS name")
    assert found.ttl == PARTIAL_TTL


async def test_a_silent_server_is_a_timeout(impatient: AsnSource, dns_server: DnsServer) -> None:
    dns_server.silent = True
    with pytest.raises(SourceTimeout):
        await impatient.lookup(ip(QPDAR_IP))


async def test_servfail_is_unavailable(impatient: AsnSource, dns_server: DnsServer) -> None:
    dns_server.servfail = True
    with pytest.raises(Unavailable) as caught:
        await impatient.lookup(ip(QPDAR_IP))
    assert caught.value.__cause__ is not None


def test_origin_names() -> None:
    v4 = origin_name(ipaddress.ip_address("192.0.2.1"))
    assert v4.to_text() == "1.2.0.192.origin.asn.cymru.com."
    v6 = origin_name(ipaddress.ip_address("2001:db8::1")).to_text()
    assert v6.endswith(".8.b.d.0.1.0.0.2.origin6.asn.cymru.com.")
    assert len(v6.split(".")) == 32 + 5


@pytest.mark.parametrize(
    "text",
    ["", "|", "60117", "x | 1.2.3.0/24", "60117 | not-a-prefix", "0 | 1.2.3.0/24", "9" * 5000],
)
def test_broken_origin_records_are_refused(text: str) -> None:
    assert parse_origin(text) is None


def test_as_names_only_for_the_asn_asked() -> None:
    controls = "1 | US | arin | 2000-01-01 | ONE - One\x00\nInc, US"
    assert parse_as_name(1, controls) == "ONE - One Inc, US"
    assert parse_as_name(1, "2 | US | arin | 2000-01-01 | TWO") is None
    assert parse_as_name(1, "1 | US | arin") is None
    assert parse_as_name(1, "1 | US | arin | 2000-01-01 |   ") is None
    assert len(parse_as_name(1, "1 | US | arin | 2000-01-01 | " + "A" * 5000) or "") == 200
