"""Every registered source, one contract: it declares itself, answers through its real
upstream path, and fails only with our own errors, quickly, when its upstream is gone."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from enrichment.errors import SourceError
from enrichment.index.model import Listing, Sighting
from enrichment.index.sqlite import SqliteIndex
from enrichment.indicators import make_indicator
from enrichment.model import Finding, Indicator, Kind
from enrichment.resolver import make_resolver
from enrichment.settings import Settings
from enrichment.sources import REGISTRY, Context, Source
from enrichment.sources.resolver_source import ResolverSource
from tests.servers import rdap_data
from tests.servers.dns_server import QPDAR_IPV6, DnsServer
from tests.servers.domaintools_server import DomainToolsApi
from tests.servers.http_server import HttpServer, rdap_routes
from tests.servers.mnemonic_server import MnemonicApi
from tests.servers.whois_server import WhoisServer

DESIGN_NAMES = {
    "dns",
    "asn",
    "rdap",
    "whois",
    "internetdb",
    "crtsh",
    "mnemonic",
    "domaintools",
    "feeds",
    "index",
}
SAMPLES = {
    Kind.DOMAIN: "qpdar.pw",
    Kind.IPV4: "212.61.180.100",
    Kind.IPV6: QPDAR_IPV6,
    Kind.CIDR: "212.61.180.0/24",
    Kind.URL: "http://qpdar.pw/main.php",
    Kind.EMAIL: "admin@qpdar.pw",
    Kind.MD5: "d41d8cd98f00b204e9800998ecf8427e",
    Kind.SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    Kind.SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}
FIXTURES = Path(__file__).parent / "fixtures" / "http"
CANARY_KEY = "CANARY-contract-key-7f3a"
# Each recorded data set holds its own IPv6 network.
OWN_SAMPLES = {("rdap", Kind.IPV6): rdap_data.V6_IP, ("whois", Kind.IPV6): "2a0b:7e40:1200::10"}
CASES = [(cls, kind) for cls in REGISTRY for kind in sorted(cls.kinds)]


def case_id(case: tuple[type[Source], Kind]) -> str:
    return f"{case[0].name}-{case[1].value}"


def sample(kind: Kind, source: str = "") -> Indicator:
    return make_indicator(kind, OWN_SAMPLES.get((source, kind), SAMPLES[kind]))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        yield client


@pytest.fixture
async def story_index(tmp_path: Path) -> AsyncIterator[SqliteIndex]:
    """An index that has seen every sample: listed by a feed, and sighted in a channel."""
    index = SqliteIndex(tmp_path / "story-index.sqlite3")
    listed = [Listing("urlhaus", value, kind.value, "locky") for kind, value in SAMPLES.items()]
    await index.replace_listings("urlhaus", listed)
    for kind, value in SAMPLES.items():
        await index.record_sighting(Sighting(value, kind.value, "T1", "C1", "U1", "1.2", 1e9))
    yield index
    await index.aclose()


@pytest.mark.parametrize("cls", REGISTRY, ids=lambda c: c.name)
def test_a_source_declares_itself(cls: type[Source]) -> None:
    assert cls.name in DESIGN_NAMES
    assert cls.kinds and cls.kinds <= set(Kind)
    assert cls.ttl > 0 and 0 < cls.timeout <= 30 and cls.concurrency >= 1
    assert all(hasattr(Settings(), key) for key in cls.keys)
    assert set(cls.fallback_of) <= cls.kinds
    doc = sys.modules[cls.__module__].__doc__ or ""
    assert len(doc.strip()) > 40, "a source module opens with a docstring naming its service"


def test_names_are_unique() -> None:
    assert len({cls.name for cls in REGISTRY}) == len(REGISTRY)


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_a_source_answers_from_its_loopback_upstream(
    case: tuple[type[Source], Kind],
    tmp_path: Path,
    http: httpx.AsyncClient,
    dns_server: DnsServer,
    http_server: HttpServer,
    whois_server: WhoisServer,
    story_index: SqliteIndex,
) -> None:
    cls, kind = case
    rdap_routes(http_server)
    domaintools, mnemonic = DomainToolsApi(), MnemonicApi()
    domaintools.install(http_server)
    mnemonic.install(http_server)
    http_server.route(
        "/internetdb/",
        json.loads((FIXTURES / "internetdb_212.61.180.100.json").read_text()),
        prefix=True,
    )
    http_server.route("/crtsh/", json.loads((FIXTURES / "crtsh_qpdar.pw.json").read_text()))
    settings = Settings(
        data_dir=tmp_path,
        dns_servers=(dns_server.address,),
        whois_server=whois_server.address,
        rdap_url=http_server.url + "/rdap",
        source_urls={
            "internetdb": http_server.url + "/internetdb",
            "crtsh": http_server.url + "/crtsh",
            "domaintools": domaintools.url(http_server),
            "mnemonic": mnemonic.url(http_server),
        },
        domaintools_username=domaintools.username,
        domaintools_api_key=domaintools.key,
    )
    source = cls(Context(settings=settings, http=http, index=story_index))
    async with asyncio.timeout(cls.timeout + 2):
        finding = await source.lookup(sample(kind, cls.name))
    assert isinstance(finding, Finding)
    assert finding.facts, f"{cls.name} found nothing for the story's {kind.value}"
    assert all(isinstance(key, str) for key in finding.facts)
    json.dumps(dict(finding.facts))  # facts are plain data, ready for --json


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_a_source_fails_with_our_errors_when_its_upstream_is_gone(
    case: tuple[type[Source], Kind], tmp_path: Path, http: httpx.AsyncClient
) -> None:
    cls, kind = case
    dead = ("127.0.0.1", 9)  # the discard port: nothing listens there
    settings = Settings(
        data_dir=tmp_path,
        dns_servers=(dead,),
        whois_server=dead,
        rdap_url="http://127.0.0.1:9",
        source_urls={cls.name: "http://127.0.0.1:9"},
        domaintools_username="soc-pivot@example.org",  # keyed sources get as far as asking
        domaintools_api_key=CANARY_KEY,
    )
    ctx = Context(settings=settings, http=http)
    if issubclass(cls, ResolverSource):  # the same resolver, with a shorter patience
        source: Source = cls(ctx, resolver=make_resolver(settings, timeout=0.2, lifetime=0.5))
    else:
        source = cls(ctx)
    try:
        async with asyncio.timeout(cls.timeout + 2):
            await source.lookup(sample(kind))
    except SourceError as exc:
        assert str(exc), "a failure says what went wrong"
        assert CANARY_KEY not in str(exc), "a key never shows in an error"
    else:
        pytest.fail(f"{cls.name} answered without its upstream")
