"""The components of the risk score, each a pure function of a report and its evidence.

Each returns a `Reason` (code, points, detail, source, freshness) or None. The score is the
highest of them (`enrichment.scoring.score`), as DomainTools' is: 100 means listed as
malicious, 70-99 likely malicious.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from enrichment.dga import score_domain, thresholds
from enrichment.indicators import defang
from enrichment.model import Kind, Reason, Report
from enrichment.scoring.lookalike import lookalike

FEED_NAMES = {
    "urlhaus": "URLhaus",
    "threatfox": "ThreatFox",
    "feodo": "Feodo Tracker",
    "openphish": "OpenPhish",
    "spamhaus_drop": "Spamhaus DROP",
}


@dataclass(frozen=True, slots=True)
class Near:
    """Evidence of closeness: this indicator shares `via` (an IP, a name server, a registrant
    e-mail, a /24) with `listed` listed indicators out of `seen` the index holds there."""

    how: str  # "ip" | "ns" | "registrant" | "netblock" | "listed_ip"
    via: str
    listed: int
    seen: int
    example: str | None = None  # one of the listed ones, for the detail
    shared: bool = False  # well-known shared infrastructure (a CDN, a big DNS provider)


# how -> (points for one listed neighbour, points per more, ceiling)
PROXIMITY = {
    "listed_ip": (90, 0, 90),
    "registrant": (85, 3, 95),
    "ip": (75, 5, 95),
    "ns": (70, 5, 90),
    "netblock": (70, 3, 85),
}
LISTED = 100
OLD_DAYS = 5 * 365  # a domain this old is not judged by its neighbours alone
DAMPED = 40  # the most proximity gives a very old, allowlisted or shared-infrastructure one


def _days_old(facts: Mapping[str, Any], today: date) -> int | None:
    try:
        return (today - date.fromisoformat(str(facts.get("created"))[:10])).days
    except ValueError:
        return None


def listed(report: Report) -> Reason | None:
    entries = [e for e in report.facts.get("listed_by") or [] if isinstance(e, dict)]
    if not entries:
        return None
    first = entries[0]
    feeds = sorted({FEED_NAMES.get(str(e.get("feed")), str(e.get("feed"))) for e in entries})
    threat = f" ({first['threat']})" if first.get("threat") else ""
    detail = f"listed by {', '.join(feeds)}{threat}"
    return Reason(
        "listed", LISTED, detail, source=str(first.get("feed")), fresh=first.get("first_seen")
    )


def _near_detail(near: Near) -> str:
    via = (
        defang(Kind.IPV6 if ":" in near.via else Kind.IPV4, near.via)
        if near.how in ("ip", "listed_ip", "netblock")
        else near.via
    )
    if near.how == "listed_ip":
        return f"resolves to {via}, which a feed lists"
    what = {"ip": "shares IP", "ns": "shares name server", "registrant": "shares registrant"}
    lead = what.get(near.how, "sits in the netblock of")
    plural = "s" if near.listed != 1 else ""
    return f"{lead} {via} with {near.listed} listed indicator{plural}"


def _near_points(near: Near) -> int:
    first, more, ceiling = PROXIMITY[near.how]
    return min(ceiling, first + more * max(0, near.listed - 1))


def proximity(
    report: Report, nears: Sequence[Near], today: date, *, allowed: bool
) -> Reason | None:
    """The closest listed neighbourhood; damped for very old, allowlisted, or shared
    infrastructure (they are not judged by their neighbours alone)."""
    useful = [n for n in nears if n.listed]
    if not useful:
        return None
    best = max(useful, key=_near_points)
    points = _near_points(best)
    age = _days_old(report.facts, today)
    if allowed or best.shared or (age is not None and age > OLD_DAYS):
        points = min(points, DAMPED)
    return Reason("proximity", points, _near_detail(best), source="index")


def dga(report: Report) -> Reason | None:
    if report.indicator.kind is not Kind.DOMAIN:
        return None
    value = score_domain(report.indicator.value)
    cuts = thresholds()
    if value is None or value < cuts["fpr_1pct"]:
        return None
    strong = value >= cuts["fpr_0.1pct"]
    detail = f"the name looks machine-generated (DGA score {value:.3f})"
    return Reason("dga", 80 if strong else 60, detail, source="dga")


def age(report: Report, today: date) -> Reason | None:
    days = _days_old(report.facts, today)
    if days is None or not 0 <= days <= 30:
        return None
    points = 60 if days < 7 else 45
    return Reason(
        "age",
        points,
        f"registered {days} days ago",
        source="registration",
        fresh=report.facts.get("created"),
    )


def look_alike(report: Report, brands: Sequence[str], today: date) -> Reason | None:
    if report.indicator.kind is not Kind.DOMAIN or not brands:
        return None
    found = lookalike(report.indicator.value, brands)
    if found is None:
        return None
    days = _days_old(report.facts, today)
    points = 90 if days is not None and days <= 30 else 75
    detail = f"{found.kind} lookalike of {defang(Kind.DOMAIN, found.brand)}"
    return Reason("lookalike", points, detail, source="brands")


def domaintools(report: Report) -> Reason | None:
    value = report.facts.get("dt_risk_score")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return Reason(
        "domaintools", max(0, min(100, value)), f"DomainTools risk {value}", source="domaintools"
    )
