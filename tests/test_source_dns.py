"""The dns source and the shared resolver, against the loopback DNS server."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import pytest

from enrichment.errors import NotConfigured, SourceTimeout, Unavailable
from enrichment.model import Indicator, Kind
from enrichment.resolver import MAX_TTL, MIN_TTL, make_resolver
from enrichment.settings import Settings
from enrichment.sources.base import Context
from enrichment.sources.dns import NXDOMAIN_DETAIL, DnsSource
from tests.servers.dns_server import (
    BANK_LOGIN,
    BANK_NS,
    DEFAULT_ZONE,
    EMPTY_NAME,
    NXDOMAIN_NAME,
    QPDAR,
    QPDAR_IP,
    QPDAR_IPV6,
    QPDAR_IPV6_PTR,
    QPDAR_MX,
    QPDAR_NS,
    QPDAR_PTR,
    QPDAR_SOA,
    QPDAR_TXT,
    SUBDOMAIN,
    SUBDOMAIN_IP,
    UNROUTED_IP,
    WWW_QPDAR,
    DnsServer,
)


def domain(value: str) -> Indicator:
    return Indicator(Kind.DOMAIN, value, value.replace(".", "[.]"))


def ip(value: str) -> Indicator:
    return Indicator(Kind.IPV6 if ":" in value else Kind.IPV4, value, value)


@pytest.fixture
def source(dns_context: Context) -> DnsSource:
    return DnsSource(dns_context)


@pytest.fixture
def impatient(dns_context: Context) -> DnsSource:
    """Short tries for the tests where the server hangs, so they stay quick."""
    return DnsSource(
        dns_context, resolver=make_resolver(dns_context.settings, timeout=0.3, lifetime=0.8)
    )


async def test_declares_itself() -> None:
    assert DnsSource.name == "dns"
    assert DnsSource.kinds == {Kind.DOMAIN, Kind.IPV4, Kind.IPV6}
    assert DnsSource.third_party is False
    assert DnsSource.auto is True
    assert DnsSource.timeout == 4.0


async def test_every_record_type_of_a_domain(source: DnsSource, dns_server: DnsServer) -> None:
    found = await source.lookup(domain(QPDAR))
    assert found.detail is None
    assert found.facts == {
        "a": [QPDAR_IP],
        "aaaa": [QPDAR_IPV6],
        "mx": list(QPDAR_MX),
        "mx_records": [
            {"preference": 10, "host": QPDAR_MX[0]},
            {"preference": 20, "host": QPDAR_MX[1]},
        ],
        "name_servers": list(QPDAR_NS),
        "txt": list(QPDAR_TXT),
        "soa": QPDAR_SOA,
    }
    assert found.ttl == 300  # the A record's TTL, the shortest
    asked = {(name, rdtype) for name, rdtype, _ in dns_server.queries}
    expected = {"A", "AAAA", "MX", "NS", "TXT", "SOA", "CNAME"}
    assert {rdtype for name, rdtype in asked if name == QPDAR} == expected


async def test_facts_are_sorted_and_normalised(source: DnsSource, dns_server: DnsServer) -> None:
    dns_server.add("many.qpdar.pw", "A", "10.0.0.10", "10.0.0.9", "9.255.0.1")
    dns_server.add("many.qpdar.pw", "AAAA", "2a01:4f8:0:0::10", "2a01:4f8::9")
    dns_server.add("many.qpdar.pw", "NS", "B.Example.NET.", "a.example.net.")
    found = await source.lookup(domain("many.qpdar.pw"))
    assert found.facts["a"] == ["9.255.0.1", "10.0.0.9", "10.0.0.10"]
    assert found.facts["aaaa"] == ["2a01:4f8::9", "2a01:4f8::10"]
    assert found.facts["name_servers"] == ["a.example.net", "b.example.net"]


async def test_an_alias_names_its_target_and_follows_it(source: DnsSource) -> None:
    found = await source.lookup(domain(WWW_QPDAR))
    assert found.facts["cname"] == QPDAR
    assert found.facts["a"] == [QPDAR_IP]
    assert found.facts["name_servers"] == list(QPDAR_NS)


async def test_a_subdomain_takes_ns_and_soa_from_its_registrable_domain(
    source: DnsSource, dns_server: DnsServer
) -> None:
    found = await source.lookup(domain(SUBDOMAIN))
    assert found.facts == {"a": [SUBDOMAIN_IP], "name_servers": list(QPDAR_NS), "soa": QPDAR_SOA}
    assert (QPDAR, "NS", "udp") in dns_server.queries


async def test_registrable_domain_under_a_two_label_suffix(
    source: DnsSource, dns_server: DnsServer
) -> None:
    found = await source.lookup(domain(BANK_LOGIN))
    assert found.facts["name_servers"] == list(BANK_NS)
    assert ("co.uk", "NS", "udp") not in dns_server.queries


async def test_an_empty_non_terminal_is_nodata_not_nxdomain(source: DnsSource) -> None:
    found = await source.lookup(domain(EMPTY_NAME))
    assert found.detail is None
    assert found.facts == {"name_servers": list(QPDAR_NS), "soa": QPDAR_SOA}


async def test_nodata_types_are_left_out(source: DnsSource) -> None:
    found = await source.lookup(domain("mail.qpdar.pw"))
    assert found.facts["a"] == [QPDAR_IP]
    assert not {"aaaa", "mx", "mx_records", "txt", "cname"} & set(found.facts)


async def test_nxdomain_is_empty_with_a_detail(source: DnsSource) -> None:
    found = await source.lookup(domain(NXDOMAIN_NAME))
    assert found.facts == {}
    assert found.detail == NXDOMAIN_DETAIL
    assert found.ttl == 300  # the .pw SOA's minimum


async def test_null_mx_means_no_mail(source: DnsSource, dns_server: DnsServer) -> None:
    dns_server.add("nomail.qpdar.pw", "MX", "0 .")
    found = await source.lookup(domain("nomail.qpdar.pw"))
    assert "mx" not in found.facts


async def test_ptr_for_ipv4(source: DnsSource) -> None:
    found = await source.lookup(ip(QPDAR_IP))
    assert found.facts == {"ptr": list(QPDAR_PTR)}
    assert found.ttl == 3600


async def test_ptr_for_ipv6(source: DnsSource, dns_server: DnsServer) -> None:
    found = await source.lookup(ip(QPDAR_IPV6))
    assert found.facts == {"ptr": list(QPDAR_IPV6_PTR)}
    assert dns_server.queries[-1][0].endswith(".f.8.b.0.7.1.c.0.8.f.4.0.1.0.a.2.ip6.arpa")


async def test_no_ptr_is_empty(source: DnsSource) -> None:
    found = await source.lookup(ip(UNROUTED_IP))
    assert found.facts == {}
    assert found.detail is not None and found.detail.startswith("NXDOMAIN")


async def test_truncated_udp_answers_are_asked_again_over_tcp(
    source: DnsSource, dns_server: DnsServer
) -> None:
    dns_server.truncate = True
    found = await source.lookup(domain(QPDAR))
    assert found.facts["a"] == [QPDAR_IP]
    assert (QPDAR, "A", "udp") in dns_server.queries
    assert (QPDAR, "A", "tcp") in dns_server.queries


async def test_an_answer_too_large_for_udp_comes_over_tcp(
    source: DnsSource, dns_server: DnsServer
) -> None:
    records = [f'"{i:03d} {"x" * 100}"' for i in range(40)]
    dns_server.add("big.qpdar.pw", "TXT", *records)
    found = await source.lookup(domain("big.qpdar.pw"))
    assert len(found.facts["txt"]) == 40
    assert ("big.qpdar.pw", "TXT", "tcp") in dns_server.queries


async def test_a_silent_server_is_a_timeout(impatient: DnsSource, dns_server: DnsServer) -> None:
    dns_server.silent = True
    with pytest.raises(SourceTimeout):
        await impatient.lookup(domain(QPDAR))
    with pytest.raises(SourceTimeout):
        await impatient.lookup(ip(QPDAR_IP))


async def test_garbage_over_udp_is_ignored_until_the_timeout(
    impatient: DnsSource, dns_server: DnsServer
) -> None:
    # dnspython waits for a well-formed reply to its question (spoofed junk must not end it).
    dns_server.garbage = True
    with pytest.raises(SourceTimeout):
        await impatient.lookup(domain(QPDAR))


@pytest.mark.parametrize("fault", ["servfail", "refused"])
async def test_failure_everywhere_is_unavailable(
    impatient: DnsSource, dns_server: DnsServer, fault: str
) -> None:
    setattr(dns_server, fault, True)
    with pytest.raises(Unavailable) as caught:
        await impatient.lookup(domain(QPDAR))
    assert caught.value.__cause__ is not None
    with pytest.raises(Unavailable):
        await impatient.lookup(ip(QPDAR_IP))


async def test_some_types_timing_out_keeps_the_rest(
    impatient: DnsSource, dns_server: DnsServer
) -> None:
    dns_server.type_faults.update({"MX": "silent", "TXT": "silent"})
    found = await impatient.lookup(domain(QPDAR))
    assert found.facts["a"] == [QPDAR_IP]
    assert "mx" not in found.facts and "txt" not in found.facts
    assert found.detail == "timed out: MX, TXT"
    assert found.ttl == MIN_TTL  # ask again soon for what is missing


async def test_some_types_failing_keeps_the_rest(
    impatient: DnsSource, dns_server: DnsServer
) -> None:
    dns_server.type_faults["TXT"] = "servfail"
    found = await impatient.lookup(domain(QPDAR))
    assert found.facts["name_servers"] == list(QPDAR_NS)
    assert found.detail == "failed: TXT"


async def test_a_short_ttl_is_raised_to_the_floor(source: DnsSource, dns_server: DnsServer) -> None:
    dns_server.add("fast.qpdar.pw", "A", "212.61.180.7", ttl=5)
    found = await source.lookup(domain("fast.qpdar.pw"))
    assert found.facts["a"] == ["212.61.180.7"]
    assert found.ttl == MIN_TTL


async def test_a_long_ttl_is_cut_to_a_day(source: DnsSource, dns_server: DnsServer) -> None:
    ten_days = 10 * 86400
    dns_server.add_zone(
        f"slow.example. {ten_days} SOA ns.slow.example. h.slow.example. 1 2 3 4 {ten_days}\n"
        f"slow.example. {ten_days} NS ns.slow.example.\n"
        f"slow.example. {ten_days} A 212.61.180.8\n"
    )
    found = await source.lookup(domain("slow.example"))
    assert found.facts["a"] == ["212.61.180.8"]
    assert found.ttl == MAX_TTL


async def test_servers_with_ports_come_from_the_environment(
    dns_server: DnsServer, tmp_path: Path
) -> None:
    host, port = dns_server.address
    settings = Settings.from_env(
        {"PIVOT_DNS_SERVERS": f"{host}:{port}", "PIVOT_DATA_DIR": str(tmp_path)}
    )
    async with httpx.AsyncClient() as http:
        found = await DnsSource(Context(settings=settings, http=http)).lookup(domain(QPDAR))
    assert found.facts["a"] == [QPDAR_IP]


async def test_the_resolver_asks_with_edns(dns_server: DnsServer, tmp_path: Path) -> None:
    resolver = make_resolver(Settings(data_dir=tmp_path, dns_servers=(dns_server.address,)))
    assert (resolver.edns, resolver.payload) == (0, 1232)
    assert resolver.lifetime < DnsSource.timeout


async def test_no_system_resolvers_is_not_configured(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured):
        make_resolver(Settings(data_dir=tmp_path), resolv_conf=str(tmp_path / "missing.conf"))


async def test_a_delayed_name_times_out_alone(impatient: DnsSource, dns_server: DnsServer) -> None:
    dns_server.delays[QPDAR] = 5.0
    with pytest.raises(SourceTimeout):
        await impatient.lookup(domain(QPDAR))
    found = await impatient.lookup(domain(BANK_LOGIN))
    assert found.facts["name_servers"] == list(BANK_NS)


async def test_the_server_shrugs_off_junk_and_stops_clean(tmp_path: Path) -> None:
    before = threading.active_count()
    with DnsServer(DEFAULT_ZONE) as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as junk:
            junk.sendto(b"\x00\x01not dns at all", server.address)
        with socket.create_connection(server.address) as junk_tcp:
            junk_tcp.sendall(b"\x00\x05hello")
            settings = Settings(data_dir=tmp_path, dns_servers=(server.address,))
            async with httpx.AsyncClient() as http:
                found = await DnsSource(Context(settings=settings, http=http)).lookup(ip(QPDAR_IP))
        assert found.facts == {"ptr": list(QPDAR_PTR)}
    assert threading.active_count() == before


SANDBOX_ZONE = ". 86400 SOA a.root. hostmaster.root. 1 1800 900 604800 86400\n"


async def test_a_resolver_that_says_nxdomain_for_everything_is_unusable_not_a_finding(
    tmp_path: Path,
) -> None:
    with DnsServer(SANDBOX_ZONE) as sandbox:
        settings = Settings(data_dir=tmp_path, dns_servers=(sandbox.address,))
        async with httpx.AsyncClient() as http:
            source = DnsSource(Context(settings=settings, http=http))
            for value in ("qpdar.pw", "never-registered.pw"):
                with pytest.raises(Unavailable, match=r"resolver unusable.*a\.root-servers\.net"):
                    await source.lookup(domain(value))
            with pytest.raises(Unavailable, match="resolver unusable"):
                await source.lookup(ip("212.61.180.100"))
    canary = [q for q in sandbox.queries if q[0] == "a.root-servers.net"]
    assert len(canary) == 1  # checked once, remembered


async def test_a_working_resolvers_nxdomain_stays_a_finding(source: DnsSource) -> None:
    found = await source.lookup(domain(NXDOMAIN_NAME))
    assert found.detail == NXDOMAIN_DETAIL


async def test_the_canary_is_configurable(dns_server: DnsServer, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, dns_servers=(dns_server.address,), dns_canary="no-such-canary.pw"
    )
    async with httpx.AsyncClient() as http:
        source = DnsSource(Context(settings=settings, http=http))
        with pytest.raises(Unavailable, match=r"no-such-canary\.pw"):
            await source.lookup(domain(NXDOMAIN_NAME))
