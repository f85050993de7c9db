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
from enrichment.feeds import feed_name
from enrichment.indicators import defang, lookup_target, parse_indicator
from enrichment.model import Kind, Reason, Report
from enrichment.scoring.infrastructure import shared_as
from enrichment.scoring.lookalike import lookalike


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
    fresh: str | None = None  # when the index last saw the link (an ISO date), when known
    generated: int = 0  # unlisted neighbours whose names look machine-generated
    generated_example: str | None = None


# how -> (points for one listed neighbour, points per more, ceiling)
PROXIMITY = {
    "listed_ip": (90, 0, 90),
    "registrant": (85, 3, 95),
    "ip": (75, 5, 95),
    "ns": (70, 5, 90),
    "netblock": (70, 3, 85),
}
# how -> (points at GENERATED_MIN unlisted neighbours with machine-generated-looking names,
# points per more, ceiling): "high-scoring" neighbours, weaker evidence than listed ones
GENERATED = {"registrant": (75, 2, 85), "ip": (70, 2, 80), "ns": (70, 2, 80)}
GENERATED_MIN = 3  # fewer is what any shared host has by chance
LISTED = 100
SERVES_LISTED = 80  # a feed lists a URL on this host: likely malicious, or compromised
OLD_DAYS = 5 * 365  # a domain this old is not judged by its neighbours alone
DAMPED = 40  # the most proximity gives a very old, allowlisted or shared-infrastructure one
YOUNG_DAYS, NEWBORN_DAYS = 30, 7  # registered this recently: `age` (stronger when newborn)
AGE_POINTS = {"newborn": 60, "young": 45}
DGA_POINTS = {"strong": 80, "likely": 60}  # above the model's 0.1% / 1% false-positive cuts
LOOKALIKE_POINTS = {"fresh": 90, "any": 75}  # fresh: registered in the last YOUNG_DAYS
_VIA = {"ip": "shares IP", "ns": "shares name server", "registrant": "shares registrant"}


def _days_old(facts: Mapping[str, Any], today: date) -> int | None:
    try:
        return (today - date.fromisoformat(str(facts.get("created"))[:10])).days
    except ValueError:
        return None


def _shown(value: str) -> str:
    """An outside value as a reason's detail shows it: defanged when it is an indicator."""
    found = parse_indicator(value)
    return found.defanged if found is not None and found.value == value else value


def judged_name(report: Report) -> str | None:
    """The domain whose name is judged (machine-generated? a lookalike?): the indicator, a
    URL's host or an e-mail's domain; None when that is not a domain."""
    target = lookup_target(report.indicator)
    return target.value if target.kind is Kind.DOMAIN else None


def listed(report: Report) -> Reason | None:
    """A feed lists the indicator, a URL's host, an e-mail's domain, or the registrable
    domain above it (the `feeds` source matches all of these)."""
    entries = [e for e in report.facts.get("listed_by") or [] if isinstance(e, dict)]
    if not entries:
        return None
    first = entries[0]
    feeds = sorted({feed_name(e.get("feed")) for e in entries})
    threat = f" ({first['threat']})" if first.get("threat") else ""
    value = str(first.get("value") or "")
    whose = f"{_shown(value)} " if value and value != report.indicator.value else ""
    detail = f"{whose}listed by {', '.join(feeds)}{threat}"
    return Reason(
        "listed", LISTED, detail, source=str(first.get("feed")), fresh=first.get("first_seen")
    )


def serves_listed(report: Report, today: date, *, allowed: bool) -> Reason | None:
    """A feed lists a URL this host serves. Not a listing of the host: damped like proximity
    for a very old or allowlisted host, or one on shared infrastructure (one bad file on a
    cloud drive or a CDN says little of everything else it serves)."""
    entries = [e for e in report.facts.get("listed_urls") or [] if isinstance(e, dict)]
    if not entries:
        return None
    first = entries[0]
    damped = allowed or _old(report, today) or _on_shared_hosting(report)
    points = min(SERVES_LISTED, DAMPED) if damped else SERVES_LISTED
    source = str(first.get("feed"))
    return Reason("serves_listed", points, _served_detail(entries), source, first.get("first_seen"))


def _served_detail(entries: list[dict[str, Any]]) -> str:
    first = entries[0]
    feed = feed_name(first.get("feed"))
    threat = f" ({first['threat']})" if first.get("threat") else ""
    more = f" and {len(entries) - 1} more" if len(entries) > 1 else ""
    return f"serves {_shown(str(first.get('value') or ''))}{more}, listed by {feed}{threat}"


def _old(report: Report, today: date) -> bool:
    age = _days_old(report.facts, today)
    return age is not None and age > OLD_DAYS


def _on_shared_hosting(report: Report) -> bool:
    return shared_as(report.facts.get("hosting_as_name") or report.facts.get("as_name"))


def looks_generated(domain: str) -> bool:
    """A name the DGA model puts above its 0.1% false-positive cut."""
    value = score_domain(domain)
    return value is not None and value >= thresholds()["fpr_0.1pct"]


def _near_detail(near: Near) -> str:
    via = _shown(near.via)
    if near.how == "listed_ip":
        return f"resolves to {via}, which a feed lists"
    lead = _VIA.get(near.how, "sits in the netblock of")
    if _generated_points(near) > _listed_points(near):
        example = f", e.g. {_shown(near.generated_example)}" if near.generated_example else ""
        return f"{lead} {via} with {near.generated} machine-generated-looking domains{example}"
    noun = "indicator" if near.how == "netblock" else "domain"
    plural = "s" if near.listed != 1 else ""
    example = f", e.g. {_shown(near.example)}" if near.example else ""
    return f"{lead} {via} with {near.listed} listed {noun}{plural}{example}"


def _listed_points(near: Near) -> int:
    if not near.listed:
        return 0
    first, more, ceiling = PROXIMITY[near.how]
    return min(ceiling, first + more * (near.listed - 1))


def _generated_points(near: Near) -> int:
    if near.generated < GENERATED_MIN or near.how not in GENERATED:
        return 0
    first, more, ceiling = GENERATED[near.how]
    return min(ceiling, first + more * (near.generated - GENERATED_MIN))


def _raw_points(near: Near) -> int:
    return max(_listed_points(near), _generated_points(near))


def _near_points(near: Near, damped: bool) -> int:
    points = _raw_points(near)
    return min(points, DAMPED) if damped or near.shared else points


def proximity(
    report: Report, nears: Sequence[Near], today: date, *, allowed: bool
) -> Reason | None:
    """The closest bad neighbourhood (listed neighbours, else several whose names look
    machine-generated), each damped first: shared infrastructure (a CDN's IP, a big DNS
    provider) by itself, and everything for a very old or allowlisted one (they are not
    judged by their neighbours alone)."""
    useful = [n for n in nears if _raw_points(n)]
    if not useful:
        return None
    age = _days_old(report.facts, today)
    damped = allowed or (age is not None and age > OLD_DAYS)
    best = max(useful, key=lambda n: _near_points(n, damped))
    points = _near_points(best, damped)
    return Reason("proximity", points, _near_detail(best), source="index", fresh=best.fresh)


def dga(report: Report, today: date) -> Reason | None:
    name = judged_name(report)
    value = score_domain(name) if name else None
    cuts = thresholds()
    if value is None or value < cuts["fpr_1pct"]:
        return None
    strong = value >= cuts["fpr_0.1pct"]
    # what the score means, not the score: a decimal would read as "1[.]000" once defanged,
    # and rounding 0.9996 up to 1.000 would promise a certainty the model does not have
    rarity = "1,000" if strong else "100"
    detail = f"the name looks machine-generated (under 1 in {rarity} popular names look as much)"
    points = DGA_POINTS["strong" if strong else "likely"]
    return Reason("dga", points, detail, source="dga", fresh=today.isoformat())


def age(report: Report, today: date) -> Reason | None:
    days = _days_old(report.facts, today)
    if days is None or not 0 <= days <= YOUNG_DAYS:
        return None
    points = AGE_POINTS["newborn" if days < NEWBORN_DAYS else "young"]
    return Reason(
        "age",
        points,
        f"registered {days} days ago",
        source="registration",
        fresh=str(report.facts.get("created"))[:10],
    )


def look_alike(report: Report, brands: Sequence[str], today: date) -> Reason | None:
    name = judged_name(report)
    found = lookalike(name, brands) if name and brands else None
    if found is None:
        return None
    days = _days_old(report.facts, today)
    fresh = days is not None and 0 <= days <= YOUNG_DAYS
    points = LOOKALIKE_POINTS["fresh" if fresh else "any"]
    detail = f"{found.kind} lookalike of {defang(Kind.DOMAIN, found.brand)}"
    return Reason("lookalike", points, detail, source="brands", fresh=today.isoformat())


def domaintools(report: Report, today: date) -> Reason | None:
    value = report.facts.get("dt_risk_score")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    points = max(0, min(100, value))
    parts = [p for p in report.facts.get("dt_risk_components") or [] if isinstance(p, dict)]
    top = f" (mostly {parts[0]['name']})" if parts and parts[0].get("name") else ""
    detail = f"DomainTools risk {points}{top}"
    return Reason("domaintools", points, detail, source="domaintools", fresh=today.isoformat())
