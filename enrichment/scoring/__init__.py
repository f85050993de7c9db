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
from datetime import date

from enrichment.index.model import Index, Relation
from enrichment.model import Indicator, Kind, Reason, Report, Risk, Status
from enrichment.privacy import allowlisted
from enrichment.scoring import components as c
from enrichment.scoring.components import Near
from enrichment.scoring.infrastructure import shared_as, shared_ns
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
        c.domaintools(report),
        c.proximity(report, nears, today, allowed=allowed),
        c.look_alike(report, settings.brands, today),
        c.dga(report),
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
    bare = Report(indicator, {}, {})
    found = [c.look_alike(bare, settings.brands, date.today()), c.dga(bare)]
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
    """Where this indicator touches listed ones in the index."""
    facts, me = report.facts, report.indicator.value
    shared = shared_as(facts.get("hosting_as_name") or facts.get("as_name"))
    addresses = _addresses(report)
    nears = [
        await _listed_ip(index, ip, shared)
        for ip in addresses
        if report.indicator.kind is Kind.DOMAIN
    ]
    for ip in addresses:
        relation = Relation.AAAA if ":" in ip else Relation.A
        nears.append(await _around(index, relation, ip, "ip", me, shared))
        nears.append(await _netblock(index, ip, me, shared))
    for host in (facts.get("name_servers") or [])[:2]:
        busy = await index.count(Relation.NS, host)
        nears.append(await _around(index, Relation.NS, host, "ns", me, shared_ns(host, busy)))
    email = facts.get("registrant_email")
    if isinstance(email, str) and not facts.get("redacted"):
        nears.append(
            await _around(index, Relation.REGISTRANT_EMAIL, email, "registrant", me, False)
        )
    return [n for n in nears if n is not None]


def _addresses(report: Report) -> list[str]:
    if report.indicator.kind in (Kind.IPV4, Kind.IPV6):
        return [report.indicator.value]
    values = [*(report.facts.get("a") or []), *(report.facts.get("aaaa") or [])]
    return [str(v) for v in values[:2]]


async def _listed_ip(index: Index, ip: str, shared: bool) -> Near | None:
    found = await index.listings([ip])
    return Near("listed_ip", ip, 1, 1, found[0].feed, shared) if found else None


async def _around(
    index: Index, relation: Relation, via: str, how: str, me: str, shared: bool
) -> Near:
    rows = await index.reverse(relation, via, limit=NEIGHBOURS)
    others = sorted({r.subject for r in rows if r.subject != me})
    return await _judged(index, how, via, others, shared)


async def _netblock(index: Index, ip: str, me: str, shared: bool) -> Near:
    rows = await index.neighbours(ip, limit=NEIGHBOURS)
    others = sorted({r.subject for r in rows if r.subject != me} | {r.object for r in rows})
    return await _judged(index, "netblock", ip, others, shared)


async def _judged(index: Index, how: str, via: str, others: list[str], shared: bool) -> Near:
    listed = sorted({x.value for x in await index.listings(others)}) if others else []
    return Near(how, via, len(listed), len(others), listed[0] if listed else None, shared)


__all__ = ["BASELINE", "Near", "Reason", "assess", "evidence", "quick", "score"]
