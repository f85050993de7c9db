"""The risk score: each component alone, the highest wins, damping, and the Locky story
through the real seams (a SQLite pivot index, the feeds source, loopback DNS and WHOIS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from enrichment.index.model import Listing, Observation, Relation
from enrichment.index.sqlite import SqliteIndex
from enrichment.indicators import make_indicator
from enrichment.model import Kind, Report, Risk, SourceResult, Status
from enrichment.scoring import BASELINE, Near, assess, evidence, score
from enrichment.scoring.infrastructure import shared_as, shared_ns
from enrichment.scoring.lookalike import lookalike, one_edit
from enrichment.service import Service
from enrichment.settings import Settings
from tests.servers.dns_server import QPDAR_IP, DnsServer
from tests.servers.whois_server import PERSONA, WhoisServer

TODAY = date(2026, 1, 15)
BRANDS = ("paypal.com", "example-bank.co.uk")
SETTINGS = Settings(brands=BRANDS, allowlist=("corp-intranet.com",))
SERVED = {"feed": "urlhaus", "value": "http://qpdar.pw/main.php", "threat": "malware_download"}
LOCKY = {"feed": "urlhaus", "value": "qpdar.pw", "threat": "Locky", "first_seen": "2016-02-10"}


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def report(value: str, kind: Kind = Kind.DOMAIN, /, **facts: Any) -> Report:
    ok = {"dns": SourceResult("dns", Status.OK, {})}
    return Report(make_indicator(kind, value), ok, facts)


@dataclass
class Case:
    id: str
    report: Report
    code: str | None  # the winning reason's code (None: nothing found)
    points: int | None
    nears: list[Near] = field(default_factory=list)
    detail: str = ""  # a part of the winner's detail


CASES = [
    # listed: the indicator, a URL's host, the domain an e-mail uses
    Case("listed", report("qpdar.pw", listed_by=[LOCKY]), "listed", 100, [],
         "listed by URLhaus (Locky)"),
    Case("listed-url-host", report("http://qpdar.pw/main.php", Kind.URL, listed_by=[LOCKY]),
         "listed", 100, [], "qpdar[.]pw listed by URLhaus"),
    Case("listed-email-domain", report("billing@qpdar.pw", Kind.EMAIL, listed_by=[LOCKY]),
         "listed", 100, [], "qpdar[.]pw listed by URLhaus"),
    Case("listed-two-feeds",
         report("qpdar.pw", listed_by=[LOCKY, {"feed": "threatfox", "value": "qpdar.pw"}]),
         "listed", 100, [], "ThreatFox, URLhaus (Locky)"),
    # proximity: 70-95 by closeness and count
    # a feed lists a URL the host serves: not the host itself
    Case("serves-listed-url", report("qpdar.pw", listed_urls=[SERVED]), "serves_listed", 80, [],
         "serves hxxp://qpdar[.]pw/main.php, listed by URLhaus (malware_download)"),
    Case("serves-on-a-cdn", report("files.example.com", listed_urls=[SERVED],
                                   hosting_as_name="CLOUDFLARENET, US"), "serves_listed", 40),
    Case("serves-old-host", report("qpdar.pw", listed_urls=[SERVED], created="2004-01-01"),
         "serves_listed", 40),
    Case("serves-allowlisted", report("corp-intranet.com", listed_urls=[SERVED]),
         "serves_listed", 40),
    Case("ip-one", report("invoice-tracker.pw"), "proximity", 75,
         [Near("ip", QPDAR_IP, 1, 4, "qpdar.pw")], "IP 212.61.180[.]100 with 1 listed domain,"),
    Case("ip-three", report("invoice-tracker.pw"), "proximity", 85,
         [Near("ip", QPDAR_IP, 3, 9, "qpdar.pw")], "with 3 listed domains, e.g. qpdar[.]pw"),
    Case("ip-many-capped", report("invoice-tracker.pw"), "proximity", 95,
         [Near("ip", QPDAR_IP, 40, 90, "qpdar.pw")]),
    Case("ns", report("invoice-tracker.pw"), "proximity", 70,
         [Near("ns", "ns1.bulletdns.net", 1, 3, "qpdar.pw")], "shares name server ns1[.]bulletdns"),
    Case("registrant", report("invoice-tracker.pw"), "proximity", 85,
         [Near("registrant", "g@tver-post.ru", 1, 2, "qpdar.pw")], "shares registrant"),
    Case("netblock", report("invoice-tracker.pw"), "proximity", 70,
         [Near("netblock", "212.61.180.7", 1, 30, "212.61.180.100")], "netblock of 212.61.180[.]7"),
    Case("resolves-to-listed-ip", report("invoice-tracker.pw"), "proximity", 90,
         [Near("listed_ip", QPDAR_IP, 1, 1)], "resolves to 212.61.180[.]100"),
    Case("closest-wins", report("invoice-tracker.pw"), "proximity", 85,
         [Near("ns", "ns1.bulletdns.net", 1, 3), Near("registrant", "g@tver-post.ru", 1, 2),
          Near("netblock", "212.61.180.7", 2, 30)], "shares registrant"),
    # high-scoring neighbours: several unlisted ones whose names look machine-generated
    Case("generated-three-on-ip", report("invoice-tracker.pw"), "proximity", 70,
         [Near("ip", QPDAR_IP, 0, 9, generated=3, generated_example="kxjwqzpl.pw")],
         "with 3 machine-generated-looking domains, e.g. kxjwqzpl[.]pw"),
    Case("generated-many-capped", report("invoice-tracker.pw"), "proximity", 80,
         [Near("ip", QPDAR_IP, 0, 90, generated=40)]),
    Case("generated-registrant", report("invoice-tracker.pw"), "proximity", 75,
         [Near("registrant", "a@b.ru", 0, 9, generated=3)]),
    Case("generated-two-is-chance", report("invoice-tracker.pw"), None, BASELINE,
         [Near("ip", QPDAR_IP, 0, 9, generated=2)]),
    Case("generated-netblock-is-too-loose", report("invoice-tracker.pw"), None, BASELINE,
         [Near("netblock", QPDAR_IP, 0, 90, generated=40)]),
    Case("generated-on-a-cdn", report("invoice-tracker.pw"), "proximity", 40,
         [Near("ip", "104.16.1.1", 0, 900, shared=True, generated=40)]),
    Case("generated-beats-one-listed", report("invoice-tracker.pw"), "proximity", 80,
         [Near("ip", QPDAR_IP, 1, 90, "qpdar.pw", generated=40)], "machine-generated-looking"),
    Case("nothing-listed-near", report("invoice-tracker.pw"), None, BASELINE,
         [Near("ip", QPDAR_IP, 0, 50)]),
    # dga, on the registrable label (also a URL's host)
    Case("dga-strong", report("kxjwqzpl.pw"), "dga", 80, [], "machine-generated (under 1 in 1,000"),
    Case("dga-likely", report("mjhgtre.pw"), "dga", 60, [], "machine-generated (under 1 in 100 "),
    Case("dga-url-host", report("http://kxjwqzpl.pw/a.php", Kind.URL), "dga", 80),
    Case("dga-not-words", report("invoice-tracker.pw"), None, BASELINE),
    # age: under 30 days, stronger under 7
    Case("age-newborn", report("invoice-tracker.pw", created=days_ago(3)), "age", 60, [],
         "registered 3 days ago"),
    Case("age-young", report("invoice-tracker.pw", created=days_ago(20)), "age", 45),
    Case("age-a-month", report("invoice-tracker.pw", created=days_ago(31)), None, BASELINE),
    Case("age-future-date", report("invoice-tracker.pw", created=days_ago(-5)), None, BASELINE),
    Case("age-unreadable", report("invoice-tracker.pw", created="<!channel>"), None, BASELINE),
    # lookalikes of PIVOT_BRANDS: 75, 90 when freshly registered
    Case("typo", report("paypall.com"), "lookalike", 75, [], "typo lookalike of paypal[.]com"),
    Case("homoglyph-idn", report("xn--pypal-4ve.com"), "lookalike", 75, [], "homoglyph"),
    Case("homoglyph-digit", report("paypa1.com", created=days_ago(2)), "lookalike", 90),
    Case("added-word", report("paypal-login.com"), "lookalike", 75, [], "added word"),
    Case("tld-swap", report("example-bank.com"), "lookalike", 75, [], "tld swap"),
    Case("lookalike-in-email", report("ceo@paypa1.com", Kind.EMAIL), "lookalike", 75),
    Case("the-brand-itself", report("login.paypal.com"), None, BASELINE),
    Case("brand-inside-a-word", report("purchase-paypalish.com"), None, BASELINE),
    # DomainTools' own risk, clamped
    Case("domaintools", report("invoice-tracker.pw", dt_risk_score=92), "domaintools", 92, [],
         "DomainTools risk 92"),
    Case("domaintools-clamped", report("invoice-tracker.pw", dt_risk_score=150), "domaintools",
         100),
    Case("domaintools-junk", report("invoice-tracker.pw", dt_risk_score="92"), None, BASELINE),
    # the highest wins
    Case("listed-beats-all",
         report("kxjwqzpl.pw", listed_by=[LOCKY], created=days_ago(1), dt_risk_score=70),
         "listed", 100, [Near("ip", QPDAR_IP, 3, 9)]),
    Case("proximity-beats-dga", report("kxjwqzpl.pw"), "proximity", 85,
         [Near("ip", QPDAR_IP, 3, 9)]),
    Case("fresh-lookalike-beats-age", report("paypal-login.com", created=days_ago(1)),
         "lookalike", 90),
    # damping: very old, allowlisted, shared infrastructure: not high from proximity alone
    Case("damped-old", report("invoice-tracker.pw", created="2004-01-01"), "proximity", 40,
         [Near("ip", QPDAR_IP, 5, 9)]),
    Case("damped-allowlisted", report("www.corp-intranet.com"), "proximity", 40,
         [Near("registrant", "it@corp-intranet.com", 5, 9)]),
    Case("damped-allowlisted-url", report("https://corp-intranet.com/x", Kind.URL), "proximity", 40,
         [Near("ip", QPDAR_IP, 5, 9)]),
    Case("damped-cdn-ip", report("invoice-tracker.pw"), "proximity", 40,
         [Near("ip", "104.16.1.1", 9, 900, shared=True)]),
    Case("damped-shared-but-own-ns-counts", report("invoice-tracker.pw"), "proximity", 70,
         [Near("ip", "104.16.1.1", 9, 900, shared=True), Near("ns", "ns1.bulletdns.net", 1, 3)],
         "shares name server"),
    Case("old-but-listed-is-still-100", report("qpdar.pw", created="2004-01-01", listed_by=[LOCKY]),
         "listed", 100),
    Case("old-lookalike-is-not-damped", report("paypa1.com", created="2004-01-01"), "lookalike",
         75),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_highest_component_wins_with_its_reason(case: Case) -> None:
    risk = score(case.report, case.nears, SETTINGS, TODAY)
    assert risk.score == case.points
    if case.code is None:
        assert risk.reasons == ()
        return
    top = risk.reasons[0]
    assert (top.code, top.points) == (case.code, case.points)
    assert case.detail in top.detail
    points = [r.points for r in risk.reasons]
    assert points == sorted(points, reverse=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_reason_says_its_points_source_and_freshness(case: Case) -> None:
    """Freshness when the evidence has a date: always for the computed components, for a
    listing or a neighbourhood when the feed or the index said when (see the story below)."""
    risk = score(case.report, case.nears, SETTINGS, TODAY)
    for reason in risk.reasons:
        assert 0 <= reason.points <= 100 and reason.detail and reason.source
        from_feed = reason.code in ("listed", "serves_listed")
        dated = from_feed and "first_seen" in str(case.report.facts)
        if (not from_feed and reason.code != "proximity") or dated:
            assert reason.fresh and date.fromisoformat(reason.fresh[:10]) <= TODAY, reason


def test_every_component_found_is_a_reason() -> None:
    facts: dict[str, Any] = {"listed_by": [LOCKY], "created": days_ago(2), "dt_risk_score": 66}
    nears = [Near("ip", QPDAR_IP, 2, 5, "qpdar.pw", fresh="2016-02-11")]
    risk = score(report("kxjwqzpl.pw", **facts), nears, SETTINGS, TODAY)
    codes = [r.code for r in risk.reasons]
    assert codes == ["listed", "proximity", "dga", "domaintools", "age"]
    listed, near = risk.reasons[0], risk.reasons[1]
    assert (listed.source, listed.fresh) == ("urlhaus", "2016-02-10")
    assert (near.points, near.source, near.fresh) == (80, "index", "2016-02-11")
    assert risk.reasons[-1].fresh == days_ago(2)  # age: as fresh as the registration


def test_a_lookalike_of_a_brand_scores_only_when_brands_are_set() -> None:
    assert score(report("paypall.com"), [], Settings(), TODAY).score == BASELINE


def test_nothing_answered_is_not_scored() -> None:
    bare = Report(make_indicator(Kind.DOMAIN, "invoice-tracker.pw"), {}, {})
    failed = Report(bare.indicator, {"dns": SourceResult("dns", Status.TIMEOUT)}, {})
    assert score(bare, [], SETTINGS, TODAY) == Risk(None)
    assert score(failed, [], SETTINGS, TODAY) == Risk(None)


@pytest.mark.parametrize(
    ("points", "band"),
    [(100, "malicious"), (99, "likely malicious"), (70, "likely malicious"),
     (69, "suspicious"), (40, "suspicious"), (39, "low"), (0, "low"), (None, None)],
)  # fmt: skip
def test_bands(points: int | None, band: str | None) -> None:
    assert Risk(points).band == band


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("paypal", "paypall", True), ("paypal", "paypa", True), ("paypal", "papyal", True),
     ("paypal", "paypol", True), ("paypal", "paypal", False), ("paypal", "pyapla", False),
     ("paypal", "paypalxx", False), ("ab", "ba", True), ("abc", "acb", True),
     ("abcd", "abdc", True), ("abcd", "badc", False)],
)  # fmt: skip
def test_one_edit(a: str, b: str, expected: bool) -> None:
    assert one_edit(a, b) is expected and one_edit(b, a) is expected


@pytest.mark.parametrize(
    ("name", "kind"),
    [("paypal.com.account-check.pw", "subdomain"), ("securepaypal.net", "added word"),
     ("paypalsupport.com", "added word"), ("paypal-2024.com", "added word"),
     ("paypal2.com", "typo"),
     ("xn--pypal-4ve.com", "homoglyph"), ("paypa1.co", "homoglyph"), ("paypal.co.uk", "tld swap"),
     ("examplebank.co.uk", "typo"), ("purchase.com", None), ("paypalish.com", None),
     ("paypal.com", None), ("www.paypal.com", None), ("example.com", None)],
)  # fmt: skip
def test_lookalike_kinds(name: str, kind: str | None) -> None:
    found = lookalike(name, [*BRANDS, "chase.com"])
    assert (found.kind if found else None) == kind


def test_short_brands_match_only_their_own_label() -> None:
    assert lookalike("ibm.net", ["ibm.com"]) is not None
    assert lookalike("ibn.com", ["ibm.com"]) is None and lookalike("ibms.com", ["ibm.com"]) is None


def test_shared_infrastructure() -> None:
    assert shared_as("CLOUDFLARENET - Cloudflare, Inc., US")
    assert not shared_as("BULLETHOST-AS - Bullet Hosting B.V., NL") and not shared_as(None)
    assert shared_ns("ns-12.awsdns-01.org") and shared_ns("kim.ns.cloudflare.com")
    assert shared_ns("ns1.bulletdns.net", 6000)  # the index sees it everywhere
    assert not shared_ns("ns1.bulletdns.net", 3)


# The Locky story through the real seams -----------------------------------------------------

RANDOM_NEIGHBOURS = ("kxjwqzpl.pw", "vbnmtrqa.pw")  # listed, on qpdar.pw's IP
NEIGHBOUR = "invoice-tracker.pw"  # not listed, moved onto the same IP
OLD_BENIGN = "sakura-denki.jp"  # registered 2009 (the WHOIS fixture), nothing near it
BENIGN_IP = "203.0.113.80"


def _seen(subject: str, relation: Relation, obj: str, kind: str) -> Observation:
    return Observation(subject, "domain", relation, obj, kind, "import", 1.46e9, 1.47e9)


@pytest.fixture
async def story_index(tmp_path: Path) -> AsyncIterator[SqliteIndex]:
    index = SqliteIndex(tmp_path / "story.sqlite3")
    listed = ["qpdar.pw", *RANDOM_NEIGHBOURS]
    await index.replace_listings(
        "urlhaus", [Listing("urlhaus", v, "domain", "Locky", 1.455e9) for v in listed]
    )
    email = PERSONA["registrant_email"]
    seen = [_seen(d, Relation.A, QPDAR_IP, "ipv4") for d in listed]
    seen += [_seen(d, Relation.REGISTRANT_EMAIL, email, "email") for d in listed]
    seen += [_seen("unlisted-neighbour.pw", Relation.A, QPDAR_IP, "ipv4")]
    await index.record(seen)
    yield index
    await index.aclose()


@pytest.fixture
async def story(
    story_index: SqliteIndex, dns_server: DnsServer, whois_server: WhoisServer, tmp_path: Path
) -> AsyncIterator[Service]:
    dns_server.add(NEIGHBOUR, "A", QPDAR_IP)
    dns_server.add_zone(
        f"{OLD_BENIGN}. 3600 SOA ns1.{OLD_BENIGN}. hostmaster.{OLD_BENIGN}. 1 7200 3600 86400 300\n"
        f"{OLD_BENIGN}. 300 A {BENIGN_IP}"
    )
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=("dns", "whois", "feeds"),
        dns_servers=(dns_server.address,),
        whois_server=whois_server.address,
        brands=("example-bank.co.uk",),
        deadline=5.0,
    )
    async with Service(settings, index=story_index) as service:
        yield service


async def test_the_listed_domain_scores_100(story: Service) -> None:
    card = await story.enrich(make_indicator(Kind.DOMAIN, "qpdar.pw"))
    assert card.risk.score == 100 and card.risk.band == "malicious"
    top = card.risk.reasons[0]
    assert (top.code, top.source, top.fresh) == ("listed", "urlhaus", "2016-02-09")
    assert top.detail == "listed by URLhaus (Locky)"
    near = {r.code: r for r in card.risk.reasons}["proximity"]  # its neighbours, too
    assert "2 listed domains" in near.detail


async def test_the_listed_urls_host_makes_the_url_100(story: Service) -> None:
    card = await story.enrich(make_indicator(Kind.URL, "http://qpdar.pw/main.php"))
    assert card.risk.score == 100
    assert card.risk.reasons[0].detail == "qpdar[.]pw listed by URLhaus (Locky)"


async def test_a_domain_sharing_its_ip_is_likely_malicious(story: Service) -> None:
    card = await story.enrich(make_indicator(Kind.DOMAIN, NEIGHBOUR))
    assert card.facts["a"] == [QPDAR_IP]
    top = card.risk.reasons[0]
    assert card.risk.score is not None and card.risk.score >= 70
    assert card.risk.band == "likely malicious"
    assert top.code == "proximity" and top.source == "index" and top.fresh == "2016-07-31"
    assert top.detail == "shares IP 212.61.180[.]100 with 3 listed domains, e.g. kxjwqzpl[.]pw"


async def test_an_old_benign_domain_scores_low(story: Service) -> None:
    card = await story.enrich(make_indicator(Kind.DOMAIN, OLD_BENIGN))
    assert card.facts["created"].startswith("2009") and card.facts["a"] == [BENIGN_IP]
    assert card.risk.score is not None and card.risk.score <= 20
    assert card.risk.band == "low" and card.risk.reasons == ()


async def test_a_fresh_lookalike_of_a_brand_is_likely_malicious(
    story_index: SqliteIndex,
) -> None:
    settings = Settings(brands=("example-bank.co.uk",))
    fresh = (date.today() - timedelta(days=2)).isoformat()
    for name in ("example-bank-login.com", "examp1e-bank.co.uk", "example-bank.net"):
        risk = await assess(report(name, created=fresh, a=["198.51.100.7"]), story_index, settings)
        assert risk.score is not None and risk.score >= 70, (name, risk)
        assert risk.reasons[0].code == "lookalike" and "example-bank[.]co[.]uk" in str(risk)


async def test_evidence_from_the_index_names_what_is_shared(story_index: SqliteIndex) -> None:
    facts: dict[str, Any] = {
        "a": [QPDAR_IP],
        "name_servers": ["kim.ns.cloudflare.com"],
        "registrant_email": PERSONA["registrant_email"],
    }
    found = {n.how: n for n in await evidence(report(NEIGHBOUR, **facts), story_index)}
    assert (found["ip"].listed, found["ip"].seen) == (3, 4)
    assert found["registrant"].listed == 3 and not found["registrant"].shared
    assert found["netblock"].listed == 0  # no other address of the /24 is known
    assert found["ns"].shared and found["ns"].listed == 0
    me = {n.how: n for n in await evidence(report("qpdar.pw", **facts), story_index)}
    assert me["ip"].listed == 2  # itself is no neighbour


async def test_withheld_or_relayed_registrants_link_no_one(story_index: SqliteIndex) -> None:
    relay: dict[str, Any] = {"registrant_email": "abc123@withheldforprivacy.com", "a": []}
    withheld: dict[str, Any] = {"registrant_email": PERSONA["registrant_email"], "redacted": True}
    for facts in (relay, withheld):
        found = await evidence(report(NEIGHBOUR, **facts), story_index)
        assert [n.how for n in found] == []


@pytest.mark.parametrize("name", ["kxjwqzpl.pw", "mjhgtre.pw"])
def test_the_dga_reason_says_how_rare_the_name_is_not_a_decimal_score(name: str) -> None:
    # a decimal would be defanged on the card ("0[.]998") and could round up to "1.000"
    (reason,) = score(report(name), [], SETTINGS, TODAY).reasons
    assert reason.code == "dga" and "popular names" in reason.detail
    assert not any(ch.isdigit() and nxt == "." for ch, nxt in zip(reason.detail, reason.detail[1:]))


async def test_no_index_scores_without_proximity(tmp_path: Path) -> None:
    risk = await assess(report("kxjwqzpl.pw"), None, SETTINGS)
    assert risk.score == 80 and [r.code for r in risk.reasons] == ["dga"]


async def test_unlisted_neighbours_count_when_their_names_look_generated(tmp_path: Path) -> None:
    """The reference story's IP "hosts other random-looking domains": three unlisted ones
    make a link; plain names on the same IP do not."""
    index = SqliteIndex(tmp_path / "index.sqlite3")
    names = ["xkqvbtrw.pw", "oqjvnwpzt.pw", "kxjwqzpl.pw", "sakura-denki.jp", "invoice-tracker.pw"]
    await index.record(
        [
            Observation(n, "domain", Relation.A, "198.51.100.7", "ipv4", "pdns", 1e9, 1e9)
            for n in names
        ]
    )
    found = {n.how: n for n in await evidence(report("bakery-lyon.fr", a=["198.51.100.7"]), index)}
    assert (found["ip"].listed, found["ip"].generated, found["ip"].seen) == (0, 3, 5)
    assert found["ip"].generated_example in names[:3]
    assert found["netblock"].generated == 0, "a /24 is too loose a tie"
    risk = await assess(report("bakery-lyon.fr", a=["198.51.100.7"]), index, SETTINGS)
    assert (risk.reasons[0].code, risk.score) == ("proximity", 70)
    await index.aclose()
