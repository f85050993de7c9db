"""The risk score: 0-100, the highest of its components, each with the evidence behind it.

Components (`enrichment.scoring.components`): `listed` (a threat feed lists it: 100),
`proximity` (it shares an IP, a name server, a registrant or a /24 with listed indicators in
the team's index: 70-95, damped for very old, allowlisted or shared-infrastructure ones),
`lookalike` (of a domain in `PIVOT_BRANDS`), `dga` (a machine-generated name), `age`
(registered in the last 30 days), and DomainTools' own risk when configured. With none, a
card with data scores `BASELINE`; with no data at all it is not scored.

`assess` gathers the index's evidence (async, bounded in time); `score` is pure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from enrichment.index.model import Index, Observation, Relation
from enrichment.indicators import lookup_target
from enrichment.model import Indicator, Kind, Reason, Report, Risk, Status
from enrichment.privacy import allowlisted
from enrichment.redaction import is_placeholder
from enrichment.scoring import components as c
from enrichment.scoring.components import Near
from enrichment.scoring.infrastructure import shared_as, shared_ns, shared_registrant
from enrichment.settings import Settings
from enrichment.stores import StoreError

log = logging.getLogger(__name__)

BASELINE = 5
EVIDENCE_SECONDS = 2.0
NEIGHBOURS = 200  # of each shared IP, name server or registrant, the most recent looked at


def score(report: Report, nears: Sequence[Near], settings: Settings, today: date) -> Risk:
    """The highest component wins; every component found is a reason, the winner first."""
    allowed = _allowlisted(report, settings)
    found = [
        c.listed(report),
        c.serves_listed(report, today, allowed=allowed),
        c.domaintools(report, today),
        c.proximity(report, nears, today, allowed=allowed),
        c.look_alike(report, settings.brands, today),
        c.dga(report, today),
        c.age(report, today),
    ]
    reasons = sorted((r for r in found if r), key=lambda r: -r.points)
    if reasons:
        return Risk(reasons[0].points, tuple(reasons))
    known = any(r.status is Status.OK for r in report.results.values())
    return Risk(BASELINE if known else None)


def quick(indicator: Indicator, listed: bool, settings: Settings) -> int | None:
    """A pivot result's score without a card of its own: listed, a lookalike, or a
    machine-generated name; None when none of those says anything."""
    if listed:
        return c.LISTED
    bare, today = Report(indicator, {}, {}), date.today()
    found = [c.look_alike(bare, settings.brands, today), c.dga(bare, today)]
    points = [r.points for r in found if r]
    return max(points) if points else None


def _allowlisted(report: Report, settings: Settings) -> bool:
    return allowlisted(report.indicator, settings.allowlist)


async def assess(report: Report, index: Index | None, settings: Settings) -> Risk:
    nears: list[Near] = []
    if index is not None:
        try:
            async with asyncio.timeout(EVIDENCE_SECONDS):
                nears = await evidence(report, index)
        except (StoreError, TimeoutError) as exc:
            log.warning("risk evidence from the index unavailable: %s", exc or "timed out")
    return score(report, nears, settings, date.today())


async def evidence(report: Report, index: Index) -> list[Near]:
    """Where this indicator touches listed ones in the index: its addresses (and their /24),
    its first two name servers, its registrant's e-mail."""
    me = lookup_target(report.indicator).value  # a URL's host is itself, not a neighbour
    nears = [
        *await _address_nears(report, index, me),
        *await _ns_nears(report, index, me),
        await _registrant_near(report, index, me),
    ]
    return [n for n in nears if n is not None]


async def _address_nears(report: Report, index: Index, me: str) -> list[Near | None]:
    facts = report.facts
    shared = shared_as(facts.get("hosting_as_name") or facts.get("as_name"))
    resolved = report.indicator.kind not in (Kind.IPV4, Kind.IPV6)
    nears: list[Near | None] = []
    for ip in _addresses(report):
        if resolved:  # an address's own listing is `listed`, not proximity
            nears.append(await _listed_ip(index, ip, shared))
        relation = Relation.AAAA if ":" in ip else Relation.A
        nears.append(await _around(index, relation, ip, "ip", me, shared))
        nears.append(await _netblock(index, ip, me, shared))
    return nears


async def _ns_nears(report: Report, index: Index, me: str) -> list[Near | None]:
    nears: list[Near | None] = []
    for host in (report.facts.get("name_servers") or [])[:2]:
        busy = shared_ns(host, await index.count(Relation.NS, host))
        nears.append(await _around(index, Relation.NS, host, "ns", me, busy))
    return nears


async def _registrant_near(report: Report, index: Index, me: str) -> Near | None:
    email = report.facts.get("registrant_email")
    if not isinstance(email, str) or report.facts.get("redacted") or is_placeholder(email):
        return None  # withheld, or a privacy service's relay address: no link to anyone
    busy = shared_registrant(await index.count(Relation.REGISTRANT_EMAIL, email))
    return await _around(index, Relation.REGISTRANT_EMAIL, email, "registrant", me, busy)


def _addresses(report: Report) -> list[str]:
    if report.indicator.kind in (Kind.IPV4, Kind.IPV6):
        return [report.indicator.value]
    values = [*(report.facts.get("a") or []), *(report.facts.get("aaaa") or [])]
    return [str(v) for v in values[:2]]


async def _listed_ip(index: Index, ip: str, shared: bool) -> Near | None:
    found = await index.listings([ip])
    if not found:
        return None
    return Near("listed_ip", ip, 1, 1, None, shared, _day(found[0].first_seen))


async def _around(
    index: Index, relation: Relation, via: str, how: str, me: str, shared: bool
) -> Near:
    rows = [r for r in await index.reverse(relation, via, limit=NEIGHBOURS) if r.subject != me]
    others = sorted({r.subject for r in rows})
    return await _judged(index, (how, via, shared), others, rows)


async def _netblock(index: Index, ip: str, me: str, shared: bool) -> Near:
    rows = [r for r in await index.neighbours(ip, limit=NEIGHBOURS) if r.subject != me]
    others = sorted({r.subject for r in rows} | {r.object for r in rows})
    return await _judged(index, ("netblock", ip, shared), others, rows)


async def _judged(
    index: Index, link: tuple[str, str, bool], others: list[str], rows: list[Observation]
) -> Near:
    """How many of `others` (met through `rows`) a feed lists, and how many of the rest look
    machine-generated (not through a netblock: a /24 is too loose a tie); fresh as the
    latest row."""
    how, via, shared = link
    listed = sorted({x.value for x in await index.listings(others)}) if others else []
    latest = max((r.last_seen for r in rows), default=None)
    example = listed[0] if listed else None
    near = Near(how, via, len(listed), len(others), example, shared, _day(latest))
    if how == "netblock":
        return near
    generated = [o for o in others if o not in listed and c.looks_generated(o)]
    return replace(near, generated=len(generated), generated_example=next(iter(generated), None))


def _day(when: float | None) -> str | None:
    return datetime.fromtimestamp(when, UTC).date().isoformat() if when else None


__all__ = ["BASELINE", "Near", "Reason", "assess", "evidence", "quick", "score"]
