"""The service with every keyless source against loopback DNS, RDAP, WHOIS and InternetDB:
the facts of the Locky story, fallbacks, failures named on the report, one query per source."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from enrichment.errors import InvalidInput
from enrichment.indicators import make_indicator
from enrichment.model import Kind, Status
from enrichment.service import Service
from enrichment.settings import Settings
from tests.servers import rdap_data
from tests.servers import whois_server as whois_data
from tests.servers.dns_server import QPDAR_ASN, QPDAR_IP, QPDAR_NS, DnsServer
from tests.servers.http_server import Fault, HttpServer, rdap_routes
from tests.servers.whois_server import Fault as WhoisFault
from tests.servers.whois_server import WhoisServer

INTERNETDB = {
    "ip": QPDAR_IP,
    "ports": [443, 80],
    "hostnames": ["qpdar.pw"],
    "cpes": [],
    "tags": ["self-signed"],
    "vulns": ["CVE-2016-0800"],
}


@pytest.fixture
def upstreams(http_server: HttpServer) -> Iterator[HttpServer]:
    rdap_routes(http_server)
    http_server.route(f"/internetdb/{QPDAR_IP}", INTERNETDB)
    yield http_server


def settings_for(
    tmp_path: Path, dns: DnsServer, http: HttpServer, whois: WhoisServer, **kw: object
) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        sources=("dns", "asn", "rdap", "whois", "internetdb"),
        dns_servers=(dns.address,),
        whois_server=whois.address,
        rdap_url=http.url + "/rdap",
        source_urls={"internetdb": http.url + "/internetdb"},
        **kw,  # type: ignore[arg-type]
    )


async def test_the_locky_domain_card(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, whois_server: WhoisServer
) -> None:
    async with Service(settings_for(tmp_path, dns_server, upstreams, whois_server)) as service:
        report = await service.enrich(make_indicator(Kind.DOMAIN, "qpdar.pw"))
    statuses = {n: r.status for n, r in report.results.items()}
    assert statuses["dns"] is statuses["rdap"] is statuses["whois"] is Status.OK
    facts = report.facts
    assert facts["a"] == [QPDAR_IP]
    assert facts["name_servers"] == sorted(QPDAR_NS)  # live DNS wins for name servers
    for key in (
        "registrar",
        "created",
        "registrant_name",
        "registrant_email",
        "registrant_country",
    ):
        assert facts[key] == rdap_data.QPDAR_FACTS[key]  # RDAP ranks above WHOIS
    assert (
        report.results["whois"].facts["registrant_name"]
        == whois_data.QPDAR_FACTS["registrant_name"]
    )
    assert "raw_whois" in {p.id for p in report.pivots}


async def test_the_locky_ip_card(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, whois_server: WhoisServer
) -> None:
    async with Service(settings_for(tmp_path, dns_server, upstreams, whois_server)) as service:
        report = await service.enrich(make_indicator(Kind.IPV4, QPDAR_IP))
    facts = report.facts
    assert facts["asn"] == QPDAR_ASN
    assert facts["network"] == rdap_data.NL_NET_FACTS["network"]
    assert facts["network_name"] == rdap_data.NL_NET_FACTS["network_name"]
    assert facts["country"] == "NL"
    assert facts["abuse_email"] == rdap_data.NL_NET_FACTS["abuse_email"]
    assert facts["ports"] == [80, 443]
    assert report.results["whois"].status is Status.SKIPPED  # RDAP answered; no fallback
    assert whois_server.queries == []


async def test_an_ipv6_card(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, whois_server: WhoisServer
) -> None:
    async with Service(settings_for(tmp_path, dns_server, upstreams, whois_server)) as service:
        report = await service.enrich(make_indicator(Kind.IPV6, rdap_data.V6_IP))
    assert report.facts["network"] == rdap_data.V6_NET_FACTS["network"]
    assert report.facts["country"] == "US"
    assert report.facts["asn"] == rdap_data.ASN
    assert report.results["internetdb"].status is Status.EMPTY  # its 404


async def test_whois_answers_for_an_ip_when_rdap_fails(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, whois_server: WhoisServer
) -> None:
    upstreams.fault(Fault.error(503), "/rdap", prefix=True)
    async with Service(settings_for(tmp_path, dns_server, upstreams, whois_server)) as service:
        report = await service.enrich(make_indicator(Kind.IPV4, QPDAR_IP))
    assert report.results["rdap"].status is Status.ERROR
    assert report.results["whois"].status is Status.OK
    assert report.facts["network"] == whois_data.RIPE_FACTS["network"]
    assert [f.name for f in report.failed()] == ["rdap"]


@pytest.mark.parametrize("fault", ["hang", "garbage"])
async def test_a_broken_whois_costs_one_line(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, fault: str
) -> None:
    broken = WhoisServer(whois_data.PRELOADED, fault=WhoisFault(fault))
    with broken:
        settings = settings_for(tmp_path, dns_server, upstreams, broken, deadline=1.0)
        started = time.monotonic()
        async with Service(settings) as service:
            report = await service.enrich(make_indicator(Kind.DOMAIN, "qpdar.pw"))
            elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 1.0  # within the deadline plus a second
    assert report.results["whois"].status in {Status.TIMEOUT, Status.ERROR}
    assert report.results["rdap"].status is Status.OK
    assert report.facts["registrar"] == rdap_data.QPDAR_FACTS["registrar"]


async def test_rate_limits_are_reported_and_remembered(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, whois_server: WhoisServer
) -> None:
    upstreams.fault(Fault.rate_limited(120), "/rdap", prefix=True)
    async with Service(settings_for(tmp_path, dns_server, upstreams, whois_server)) as service:
        first = await service.enrich(make_indicator(Kind.DOMAIN, "qpdar.pw"))
        asked = len(upstreams.requests_to("/rdap/domain/qpdar.pw"))
        second = await service.enrich(make_indicator(Kind.DOMAIN, "qpdar.pw"))
    assert first.results["rdap"].status is second.results["rdap"].status is Status.RATE_LIMITED
    assert len(upstreams.requests_to("/rdap/domain/qpdar.pw")) == asked == 1  # cooled down


async def test_concurrent_cards_ask_every_upstream_once(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, whois_server: WhoisServer
) -> None:
    upstreams.fault(Fault.delay(0.2))
    async with Service(settings_for(tmp_path, dns_server, upstreams, whois_server)) as service:
        reports = await asyncio.gather(
            *(service.enrich(make_indicator(Kind.DOMAIN, "qpdar.pw")) for _ in range(8))
        )
    assert all(r.facts["registrar"] == rdap_data.QPDAR_FACTS["registrar"] for r in reports)
    assert len(upstreams.requests_to("/rdap/domain/qpdar.pw")) == 1
    assert whois_server.queries.count("qpdar.pw") == 1
    assert len([q for q in dns_server.queries if q[:2] == ("qpdar.pw", "A")]) == 1


async def test_internal_names_never_reach_third_parties(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, whois_server: WhoisServer
) -> None:
    settings = settings_for(
        tmp_path, dns_server, upstreams, whois_server, internal_domains=("corp.example.com",)
    )
    values = [
        (Kind.DOMAIN, "build.corp.example.com"),
        (Kind.DOMAIN, "printer.local"),
        (Kind.IPV4, "10.20.30.40"),
        (Kind.IPV6, "fd00::1"),
        (Kind.IPV4, "169.254.169.254"),
        (Kind.URL, "http://10.0.0.5/admin"),
        (Kind.URL, "http://[2002:a00:1::1]/admin"),
        (Kind.EMAIL, "ops@build.corp.example.com"),
        (Kind.EMAIL, "ops@printer.local"),
        (Kind.CIDR, "10.0.0.0/8"),
        (Kind.CIDR, "8.0.0.0/6"),  # holds 10.0.0.0/8
        (Kind.IPV6, "2002:a00:1::1"),  # 6to4 of 10.0.0.1
        (Kind.IPV6, "2002:c0a8:101::1"),  # 6to4 of 192.168.1.1
        (Kind.IPV6, "2002:7f00:1::"),  # 6to4 of 127.0.0.1
        (Kind.IPV6, "64:ff9b::a00:1"),  # NAT64 of 10.0.0.1
        (Kind.IPV6, "::ffff:10.0.0.1"),
        (Kind.IPV6, "2001:0:4136:e378:8000:63bf:f5ff:fffe"),  # Teredo, client 10.0.0.1
    ]
    async with Service(settings) as service:
        for kind, value in values:
            try:
                indicator = make_indicator(kind, value)
            except InvalidInput:  # not a valid public indicator at all: nothing to send
                continue
            report = await service.enrich(indicator)
            for name in ("rdap", "whois", "internetdb", "asn"):
                assert report.results[name].status is Status.SKIPPED, (value, name)
    assert upstreams.requests == []
    assert whois_server.queries == []
    assert not [q for q in dns_server.queries if "cymru" in q[0]]


async def test_names_of_one_registration_share_its_rdap_and_whois_lookup(
    tmp_path: Path, dns_server: DnsServer, upstreams: HttpServer, whois_server: WhoisServer
) -> None:
    async with Service(settings_for(tmp_path, dns_server, upstreams, whois_server)) as service:
        names = ("qpdar.pw", "www.qpdar.pw", "a.b.qpdar.pw")
        reports = await asyncio.gather(
            *(service.enrich(make_indicator(Kind.DOMAIN, n)) for n in names)
        )
    assert {r.facts["registrar"] for r in reports} == {rdap_data.QPDAR_FACTS["registrar"]}
    assert len(upstreams.requests_to("/rdap/domain/qpdar.pw")) == 1
    assert whois_server.queries.count("qpdar.pw") == 1
