"""The whois source and the parser mapping, against the loopback WHOIS server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from enrichment.errors import RateLimited, SourceTimeout, Unavailable
from enrichment.model import Indicator, Kind
from enrichment.settings import Settings
from enrichment.sources import by_name
from enrichment.sources.base import Context
from enrichment.sources.whois import YOUNG_TTL, WhoisSource, make_client
from enrichment.whois.client import IANA, WhoisClient
from enrichment.whois.parse import FIELD_LIMIT, parse_domain, parse_ip
from tests.servers.whois_server import (
    EXPECTED,
    FIXTURES,
    HOSTILE_LINK,
    HOSTILE_NAME,
    HOSTILE_ORG_CHARS,
    IANA_ANSWERS,
    PRELOADED,
    QPDAR_FACTS,
    REFERRED_COM_FACTS,
    REGISTRAR_ANSWERS,
    Fault,
    WhoisServer,
    fixture_text,
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def source(whois_server: WhoisServer, tmp_path: Path, http: httpx.AsyncClient) -> WhoisSource:
    settings = Settings(data_dir=tmp_path, whois_server=whois_server.address)
    return WhoisSource(Context(settings=settings, http=http))


def indicator(value: str) -> Indicator:
    kind = Kind.IPV6 if ":" in value else Kind.IPV4 if value[0].isdigit() else Kind.DOMAIN
    return Indicator(kind, value, value)


def test_declaration() -> None:
    assert by_name()["whois"] is WhoisSource
    assert WhoisSource.name == "whois"
    assert WhoisSource.kinds == {Kind.DOMAIN, Kind.IPV4, Kind.IPV6}
    assert WhoisSource.fallback_of == {Kind.IPV4: "rdap", Kind.IPV6: "rdap"}
    assert (WhoisSource.ttl, WhoisSource.timeout) == (24 * 3600.0, 8.0)
    assert WhoisSource.auto and WhoisSource.third_party and WhoisSource.keys == ()


@pytest.mark.parametrize("query", sorted(EXPECTED))
async def test_each_format_reads_to_the_right_facts(
    source: WhoisSource, whois_server: WhoisServer, query: str
) -> None:
    finding = await source.lookup(indicator(query))
    assert dict(finding.facts) == EXPECTED[query]
    answer = PRELOADED[query]
    assert isinstance(answer, str)
    assert finding.raw == f"% 127.0.0.1\n{answer.strip()}"


async def test_story_domain(source: WhoisSource, whois_server: WhoisServer) -> None:
    finding = await source.lookup(indicator("qpdar.pw"))
    assert finding.facts["registrant_name"] == "Gennadiy Gorbunov"
    assert finding.facts["created"] == "2016-02-03"
    assert finding.detail is None and finding.ttl is None
    assert whois_server.queries == ["qpdar.pw"]


async def test_subdomain_is_asked_as_its_registered_domain(
    source: WhoisSource, whois_server: WhoisServer
) -> None:
    finding = await source.lookup(indicator("mail.cdn.qpdar.pw"))
    assert dict(finding.facts) == QPDAR_FACTS
    assert whois_server.queries == ["qpdar.pw"]


async def test_no_match_is_empty_with_detail(source: WhoisSource) -> None:
    finding = await source.lookup(indicator("nosuchdomain-pivot.com"))
    assert finding.facts == {}
    assert finding.detail == "127.0.0.1 has no record of nosuchdomain-pivot.com"
    assert finding.raw is not None and "No match for" in finding.raw


async def test_redacted_record_keeps_no_registrant_facts(source: WhoisSource) -> None:
    facts = (await source.lookup(indicator("login-verify-account.com"))).facts
    assert facts["redacted"] is True
    assert not {"registrant_name", "registrant_org", "registrant_email"} & facts.keys()
    # python-whois's `emails` holds the registrar's abuse desk: never the registrant's address
    assert facts["registrar_abuse_email"] == "abuse@registrar.example"
    assert "abuse@registrar.example" not in [v for k, v in facts.items() if "registrant" in k]


async def test_private_person_is_redacted(source: WhoisSource) -> None:
    facts = (await source.lookup(indicator("skidki-kupon.ru"))).facts
    assert facts["redacted"] is True and "registrant_name" not in facts


async def test_hostile_strings_stay_plain_data(source: WhoisSource) -> None:
    facts = (await source.lookup(indicator("hostile-registrant.com"))).facts
    assert facts["registrant_name"] == HOSTILE_NAME
    assert facts["registrar"] == HOSTILE_LINK
    assert len(fixture_text("hostile-registrant.com.txt")) > HOSTILE_ORG_CHARS
    assert len(facts["registrant_org"]) <= FIELD_LIMIT
    assert facts["registrant_org"].startswith("Evil Org Evil Org")
    assert "registrant_email" not in facts  # `<mailto:...|...>` is no address


async def test_ip_facts(source: WhoisSource) -> None:
    facts = (await source.lookup(indicator("212.61.180.100"))).facts
    assert facts == EXPECTED["212.61.180.100"]


async def test_garbage_is_unavailable(source: WhoisSource) -> None:
    with pytest.raises(Unavailable, match="nothing readable"):
        await source.lookup(indicator("garbage.pw"))


async def test_rate_limit_is_rate_limited(source: WhoisSource) -> None:
    with pytest.raises(RateLimited):
        await source.lookup(indicator("ratelimited.pw"))


async def test_hang_is_a_timeout(
    whois_server: WhoisServer, tmp_path: Path, http: httpx.AsyncClient
) -> None:
    settings = Settings(data_dir=tmp_path, whois_server=whois_server.address)
    client = WhoisClient(server=whois_server.address, timeout=0.3, gap=0.0)
    source = WhoisSource(Context(settings=settings, http=http), client=client)
    with pytest.raises(SourceTimeout):
        await source.lookup(indicator("hang.pw"))


async def test_truncated_answer_still_reads_and_says_so(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    with WhoisServer(PRELOADED, fault=Fault.HUGE) as server:
        settings = Settings(data_dir=tmp_path, whois_server=server.address)
        finding = await WhoisSource(Context(settings=settings, http=http)).lookup(
            indicator("qpdar.pw")
        )
    assert dict(finding.facts) == QPDAR_FACTS
    assert finding.detail == "127.0.0.1's answer was cut at 256 KiB"
    assert finding.raw is not None and finding.raw.endswith("% [answer cut at 256 KiB]")


async def test_young_domain_is_cached_for_less_time(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    day = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
    text = fixture_text("qpdar.pw.txt").replace("2016-02-03T06:42:17.0Z", f"{day}T06:00:00Z")
    with WhoisServer({"qpdar.pw": text}) as server:
        settings = Settings(data_dir=tmp_path, whois_server=server.address)
        finding = await WhoisSource(Context(settings=settings, http=http)).lookup(
            indicator("qpdar.pw")
        )
    assert finding.facts["created"] == day
    assert finding.ttl == YOUNG_TTL


async def test_full_chain_reads_registry_and_registrar(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    with (
        WhoisServer(IANA_ANSWERS) as iana,
        WhoisServer(PRELOADED) as registry,
        WhoisServer(REGISTRAR_ANSWERS) as registrar,
    ):
        addresses = {
            IANA: iana.address,
            "whois.verisign-grs.com": registry.address,
            "whois.registrar.example": registrar.address,
        }
        client = WhoisClient(addresses=addresses, gap=0.0, timeout=1.0)
        ctx = Context(settings=Settings(data_dir=tmp_path), http=http)
        finding = await WhoisSource(ctx, client=client).lookup(indicator("mailsrv-update.com"))
    assert dict(finding.facts) == REFERRED_COM_FACTS
    assert finding.raw == (
        f"% whois.verisign-grs.com\n{fixture_text('mailsrv-update.com.registry.txt').strip()}"
        f"\n\n% whois.registrar.example\n{fixture_text('mailsrv-update.com.registrar.txt').strip()}"
    )


def test_production_client_spaces_queries_except_to_loopback(tmp_path: Path) -> None:
    assert make_client(Settings(data_dir=tmp_path))._gap == 1.0
    assert make_client(Settings(data_dir=tmp_path, whois_server=("whois.example.net", 43)))._gap
    assert make_client(Settings(data_dir=tmp_path, whois_server=("127.0.0.1", 4343)))._gap == 0


# -- the parser on its own ------------------------------------------------------------------


def test_registrar_no_match_keeps_the_registry_facts() -> None:
    registry = fixture_text("mailsrv-update.com.registry.txt")
    parsed = parse_domain("mailsrv-update.com", [registry, 'No match for "MAILSRV-UPDATE.COM".'])
    assert dict(parsed.facts) == EXPECTED["mailsrv-update.com"]


def test_registry_no_match_is_not_found() -> None:
    parsed = parse_domain("x.com", ['No match for "X.COM".'])
    assert parsed.not_found and parsed.facts == {}


@pytest.mark.parametrize("text", ["DOMAIN NOT FOUND\n", "%ERROR:101: no entries found\n"])
def test_not_found_phrases_of_generic_registries(text: str) -> None:
    assert parse_domain("x.pw", [text]).not_found


def test_unreadable_date_keeps_the_rest() -> None:
    text = fixture_text("qpdar.pw.txt").replace("2016-02-03T06:42:17.0Z", "the third of Feb")
    parsed = parse_domain("qpdar.pw", [text])
    assert parsed.facts["registrant_name"] == "Gennadiy Gorbunov"
    assert parsed.facts["name_servers"] == QPDAR_FACTS["name_servers"]
    assert "created" not in parsed.facts
    assert parsed.notes == ("some dates could not be read",)


def test_several_dates_take_earliest_created_latest_expiry() -> None:
    text = (
        "Domain Name: X.COM\nCreation Date: 2015-05-05T00:00:00Z\n"
        "Creation Date: 2014-04-04T00:00:00Z\nRegistry Expiry Date: 2020-01-01T00:00:00Z\n"
        "Registrar Registration Expiration Date: 2021-01-01T00:00:00Z\n"
    )
    facts = parse_domain("x.com", [text]).facts
    assert (facts["created"], facts["expires"]) == ("2014-04-04", "2021-01-01")


def test_control_characters_are_removed_from_facts() -> None:
    text = "Domain Name: X.PW\nRegistrant Name: Ivan\x1b[31m \u202eIvanov\x00\n"
    assert parse_domain("x.pw", [text]).facts["registrant_name"] == "Ivan [31m Ivanov"


def test_partly_withheld_registrant_keeps_real_values() -> None:
    text = (
        "Domain Name: X.PW\nRegistrant Name: REDACTED FOR PRIVACY\n"
        "Registrant Organization: Kestrel Labs\nRegistrant Country: us\n"
    )
    facts = parse_domain("x.pw", [text]).facts
    assert facts["registrant_org"] == "Kestrel Labs"
    assert facts["registrant_country"] == "US"
    assert facts["redacted"] is True and "registrant_name" not in facts


def test_country_only_says_nothing_about_redaction() -> None:
    facts = parse_domain("x.pw", ["Domain Name: X.PW\nRegistrant Country: RU\n"]).facts
    assert facts == {"registrant_country": "RU"}


def test_ip_outside_every_network_falls_back_to_nothing() -> None:
    assert parse_ip("9.9.9.9", fixture_text("ripe-212.61.180.100.txt")).facts == {}


def test_arin_parent_fills_what_the_reassignment_lacks() -> None:
    facts = parse_ip("104.168.100.1", fixture_text("arin-104.168.33.7.txt")).facts
    assert facts["network"] == "104.168.0.0/17"
    assert facts["network_name"] == "NORTHWIND-17"


def test_lacnic_style_cidr_inetnum() -> None:
    text = "inetnum:     200.160.0.0/20\nowner:       Sample\ncountry:     br\n"
    facts = parse_ip("200.160.2.3", text).facts
    assert facts == {"network": "200.160.0.0/20", "country": "BR"}


def test_ip_no_match_is_not_found() -> None:
    assert parse_ip("1.2.3.4", "No match found for n + 1.2.3.4.\n").not_found


# -- through the service --------------------------------------------------------------------


async def test_service_asks_whois_for_an_ip_only_when_rdap_did_not_answer(
    whois_server: WhoisServer, tmp_path: Path
) -> None:
    from enrichment.model import Status
    from enrichment.service import Service

    settings = Settings(data_dir=tmp_path, sources=("whois",), whois_server=whois_server.address)
    async with Service(settings) as service:
        report = await service.enrich(indicator("212.61.180.100"))
    assert report.results["rdap"].status is Status.SKIPPED
    assert report.results["whois"].status is Status.OK
    assert {k: report.facts[k] for k in EXPECTED["212.61.180.100"]} == EXPECTED["212.61.180.100"]
    assert whois_server.queries == ["212.61.180.100"]


async def test_a_record_with_a_limits_footer_is_read_with_its_raw_text(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    record = (FIXTURES / "footers" / "org.txt").read_text()
    with WhoisServer({"relief-donations-now.org": record}) as server:
        settings = Settings(data_dir=tmp_path, whois_server=server.address)
        source = WhoisSource(Context(settings=settings, http=http))
        finding = await source.lookup(indicator("relief-donations-now.org"))
    assert finding.facts["registrar"] == "Example Registrar LLC"
    assert finding.facts["created"] == "2026-11-30"
    assert finding.raw is not None and "rate limited or refused" in finding.raw
