"""The service through real sources against loopback servers: fan-out, deadline, cache,
privacy, fallbacks, pivots."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import ClassVar

import pytest

from enrichment.errors import ConfigError, InvalidInput
from enrichment.indicators import make_indicator
from enrichment.model import Finding, Indicator, Kind, Status
from enrichment.scoring import BASELINE
from enrichment.service import Service
from enrichment.settings import Settings
from enrichment.sources import REGISTRY, Source
from tests.servers.dns_server import (
    QPDAR,
    QPDAR_ASN,
    QPDAR_IP,
    QPDAR_NS,
    QPDAR_PTR,
    DnsServer,
)


def dns_only(tmp_path: Path, server: DnsServer, **kw: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        sources=("dns", "asn"),
        dns_servers=(server.address,),
        **kw,  # type: ignore[arg-type]
    )


def domain(value: str) -> Indicator:
    return make_indicator(Kind.DOMAIN, value)


def ipv4(value: str) -> Indicator:
    return make_indicator(Kind.IPV4, value)


async def test_a_domain_report_has_facts_statuses_and_pivots(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    async with Service(dns_only(tmp_path, dns_server)) as service:
        report = await service.enrich(domain(QPDAR))
    assert report.results["dns"].status is Status.OK
    assert report.facts["a"] == [QPDAR_IP]
    assert report.facts["name_servers"] == sorted(QPDAR_NS)
    # asn is asked about the address the name resolved to: who hosts it
    assert report.results["asn"].status is Status.OK
    assert report.facts["hosting_ip"] == QPDAR_IP
    assert report.facts["hosting_asn"] == QPDAR_ASN
    assert report.results["whois"].detail == "not enabled"
    assert {p.id for p in report.pivots} >= {"resolve", "name_servers"}


async def test_a_report_as_json_has_the_designed_shape(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    async with Service(dns_only(tmp_path, dns_server)) as service:
        report = await service.enrich(domain(QPDAR))
    out = report.to_json()
    assert list(out) == ["indicator", "risk", "facts", "sources", "pivots"]
    assert out["indicator"] == {"kind": "domain", "value": QPDAR, "defanged": "qpdar[.]pw"}
    # answered, and no component found anything: the low baseline, not "unknown"
    assert out["risk"] == {"score": BASELINE, "reasons": [], "band": "low"}
    assert set(out["sources"]["dns"]) == {"status", "detail", "elapsed_ms"}
    assert set(out["sources"]) == {cls.name for cls in REGISTRY}


async def test_an_ip_report_merges_dns_and_asn(tmp_path: Path, dns_server: DnsServer) -> None:
    async with Service(dns_only(tmp_path, dns_server)) as service:
        report = await service.enrich(ipv4(QPDAR_IP))
    assert report.facts["ptr"] == sorted(QPDAR_PTR)
    assert report.facts["asn"] == QPDAR_ASN
    assert [p.id for p in report.pivots] == ["ptr"]
    assert report.pivots[0].count == len(QPDAR_PTR)


async def test_concurrent_cards_ask_each_upstream_once(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    dns_server.delay = 0.2  # keep the first lookup in flight while the others arrive
    async with Service(dns_only(tmp_path, dns_server)) as service:
        reports = await asyncio.gather(*(service.enrich(domain(QPDAR)) for _ in range(10)))
    assert all(r.facts["a"] == [QPDAR_IP] for r in reports)
    a_queries = [q for q in dns_server.queries if q[0] == QPDAR and q[1] == "A"]
    assert len(a_queries) == 1


async def test_a_cached_report_needs_no_network(tmp_path: Path) -> None:
    from tests.servers.dns_server import DEFAULT_ZONE

    with DnsServer(DEFAULT_ZONE) as server:
        settings = dns_only(tmp_path, server)
        async with Service(settings) as service:
            first = await service.enrich(ipv4(QPDAR_IP))
    # The server is gone; a new service (a restarted bot) answers from the disk cache.
    async with Service(settings) as service:
        second = await service.enrich(ipv4(QPDAR_IP))
    assert second.facts == first.facts
    assert second.results["dns"].status is Status.OK


async def test_the_deadline_costs_the_slow_source_not_the_card(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    dns_server.name_faults["100.180.61.212.origin.asn.cymru.com"] = "silent"
    settings = dns_only(tmp_path, dns_server, deadline=0.5)
    started = time.monotonic()
    async with Service(settings) as service:
        report = await service.enrich(ipv4(QPDAR_IP))
        assert time.monotonic() - started < 3.5  # the source's own timeout is 4 s
    assert report.results["asn"].status is Status.TIMEOUT
    assert report.results["dns"].status is Status.OK
    assert report.facts["ptr"] == sorted(QPDAR_PTR)


async def test_internal_indicators_reach_only_our_own_resolver(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    settings = dns_only(tmp_path, dns_server, internal_networks=())
    async with Service(settings) as service:
        for value in ("10.1.2.3", "192.168.0.1", "100.64.1.1", "127.0.0.1"):
            report = await service.enrich(ipv4(value))
            assert report.results["asn"].status is Status.SKIPPED
            assert "kept internal" in (report.results["asn"].detail or "")
    assert not [q for q in dns_server.queries if "cymru" in q[0]]
    assert [q for q in dns_server.queries if q[0].endswith("in-addr.arpa")]  # ours may be asked


async def test_team_networks_and_domains_stay_internal(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    import ipaddress

    settings = Settings(
        data_dir=tmp_path,
        dns_servers=(dns_server.address,),
        sources=("dns", "asn", "rdap", "whois"),
        rdap_url="http://127.0.0.1:9",  # would fail loudly if ever asked
        whois_server=("127.0.0.1", 9),
        internal_networks=(ipaddress.ip_network("212.61.0.0/16"),),
        internal_domains=("qpdar.pw",),
    )
    async with Service(settings) as service:
        ip_report = await service.enrich(ipv4(QPDAR_IP))
        name_report = await service.enrich(domain("www.qpdar.pw"))
    for report in (ip_report, name_report):
        for name in ("rdap", "whois"):
            assert report.results[name].status is Status.SKIPPED, name
    assert ip_report.results["asn"].status is Status.SKIPPED
    assert name_report.results["dns"].status is Status.OK


class _Exploding(Source):
    name = "exploding"
    kinds = frozenset({Kind.DOMAIN})
    calls: ClassVar[int] = 0

    async def lookup(self, indicator: Indicator) -> Finding:
        type(self).calls += 1
        raise RuntimeError("a bug in a source")


async def test_a_buggy_source_costs_only_itself(
    tmp_path: Path, dns_server: DnsServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=tmp_path, dns_servers=(dns_server.address,), sources=("dns", "exploding")
    )
    registry: tuple[type[Source], ...] = (*REGISTRY, _Exploding)
    with caplog.at_level(logging.ERROR):
        async with Service(settings, registry=registry) as service:
            report = await service.enrich(domain(QPDAR))
            again = await service.enrich(domain(QPDAR))
    assert report.results["exploding"].status is Status.ERROR
    assert report.facts["a"] == [QPDAR_IP]
    assert "a bug in a source" in caplog.text  # the trace is logged, not shown
    assert "a bug" not in (report.results["exploding"].detail or "")
    assert again.results["exploding"].status is Status.ERROR
    assert _Exploding.calls == 1  # the failure was cached briefly


def test_unknown_source_names_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"PIVOT_SOURCES.*nope"):
        Service(Settings(data_dir=tmp_path, sources=("dns", "nope")))


async def test_pivots_page_through_results(tmp_path: Path, dns_server: DnsServer) -> None:
    for i in range(30):
        dns_server.add(f"many.{QPDAR}", "A", f"212.61.181.{i}")
    async with Service(dns_only(tmp_path, dns_server)) as service:
        first = await service.pivot("resolve", domain(f"many.{QPDAR}"))
        second = await service.pivot("resolve", f"many[.]{QPDAR}", page=2)
        with pytest.raises(InvalidInput):
            await service.pivot("ptr", domain(QPDAR))
        with pytest.raises(InvalidInput):
            await service.pivot("no_such_pivot", domain(QPDAR))
    assert first.total == second.total == 30
    assert len(first.items) == 25 and len(second.items) == 5
    assert {i.indicator.kind for i in first.items} == {Kind.IPV4}
    seen = {i.indicator.value for i in (*first.items, *second.items)}
    assert len(seen) == 30
    assert first.to_json()["items"][0].keys() == {
        "kind",
        "value",
        "defanged",
        "score",
        "first_seen",
        "source",
    }


async def test_a_url_is_enriched_through_its_host(tmp_path: Path, dns_server: DnsServer) -> None:
    url = make_indicator(Kind.URL, f"http://{QPDAR}/main.php")
    async with Service(dns_only(tmp_path, dns_server)) as service:
        report = await service.enrich(url)
        host = await service.pivot("host", url)
    assert report.facts["host"] == QPDAR
    assert report.facts["a"] == [QPDAR_IP]
    assert [p.id for p in report.pivots] == ["host"]
    assert [i.indicator.value for i in host.items] == [QPDAR]


async def test_each_source_reports_its_own_time(tmp_path: Path, dns_server: DnsServer) -> None:
    dns_server.delays["100.180.61.212.origin.asn.cymru.com"] = 0.6
    async with Service(dns_only(tmp_path, dns_server)) as service:
        report = await service.enrich(ipv4(QPDAR_IP))
    assert report.results["asn"].elapsed_ms >= 600
    assert report.results["dns"].elapsed_ms < report.results["asn"].elapsed_ms


async def test_who_hosts_a_name_is_asked_only_about_a_public_address(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    async with Service(dns_only(tmp_path, dns_server)) as service:
        leaked = await service.enrich(domain("intranet-sync.pw"))
        missing = await service.enrich(domain("never-registered.pw"))
    assert leaked.facts["a"] == ["10.20.30.40"]
    assert leaked.results["asn"].status is Status.SKIPPED
    assert "kept internal" in (leaked.results["asn"].detail or "")
    assert not any(k.startswith("hosting_") for k in leaked.facts)
    assert missing.results["asn"].detail == "no address to look up"
    assert not [q for q in dns_server.queries if "cymru" in q[0]]


def test_a_pivot_whose_source_just_failed_is_not_offered() -> None:
    from enrichment.model import Report, SourceResult
    from enrichment.pivots import offers

    name = domain(QPDAR)
    facts = {"a": [QPDAR_IP]}
    for status, offered in ((Status.OK, True), (Status.SKIPPED, True), (Status.TIMEOUT, False)):
        whois = SourceResult("whois", status, detail="x")
        report = Report(name, {"whois": whois}, facts)
        ids = {o.id for o in offers(report, frozenset({"dns", "whois", "crtsh"}))}
        assert ("raw_whois" in ids) is offered, status
        assert {"resolve", "subdomains"} <= ids  # the others are unaffected
