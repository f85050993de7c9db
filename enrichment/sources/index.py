"""The team's own pivot index: what earlier cards, imports and feeds taught it about an
indicator, and where it was seen in Slack. Read here, nothing is sent anywhere.

Kinds: all. Facts: `first_seen_here` (the earliest observation of it, as an ISO date),
`history` (what it pointed to before: a domain's past addresses, newest first, each with first
and last seen), and `sightings` (how often it came up in Slack, and the latest few). No keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from enrichment.errors import NotConfigured, Unavailable
from enrichment.index.model import Index, Observation, Relation, Sightings
from enrichment.model import Finding, Indicator, Kind
from enrichment.sources.base import Source
from enrichment.stores import StoreError

HISTORY = 10
SIGHTINGS = 3


def iso(when: float | None) -> str | None:
    return datetime.fromtimestamp(when, UTC).date().isoformat() if when else None


def _history(observations: list[Observation]) -> list[dict[str, Any]]:
    rows = [
        {"value": o.object, "first_seen": iso(o.first_seen), "last_seen": iso(o.last_seen)}
        for o in observations
        if o.relation in (Relation.A, Relation.AAAA)
    ]
    return rows[:HISTORY]


def _sightings(found: Sightings) -> dict[str, Any] | None:
    if not found.count:
        return None
    recent = [
        {
            "channel": s.channel_name or s.channel,
            "user": s.user,
            "at": datetime.fromtimestamp(s.at, UTC).isoformat(timespec="minutes"),
        }
        for s in found.recent[:SIGHTINGS]
    ]
    return {"count": found.count, "recent": recent}


class IndexSource(Source):
    name = "index"
    kinds = frozenset(Kind)
    ttl = 60.0  # unused: never cached
    timeout = 3.0
    third_party = False
    cached = False  # the index changes with every card: asked afresh

    async def lookup(self, indicator: Indicator) -> Finding:
        index = self._index()
        try:
            history = await index.forward(indicator.value, limit=100)
            seen = await index.sightings(indicator.value, limit=SIGHTINGS)
        except StoreError as exc:
            raise Unavailable(f"pivot index: {exc}") from exc
        facts: dict[str, Any] = {}
        if history:
            facts["first_seen_here"] = iso(min(o.first_seen for o in history))
        if rows := _history(history):
            facts["history"] = rows
        if said := _sightings(seen):
            facts["sightings"] = said
        return Finding(facts, detail=None if facts else "not seen before")

    def _index(self) -> Index:
        if self.ctx.index is None:
            raise NotConfigured("the pivot index is not open")
        return self.ctx.index
