"""Threat feeds, matched locally against the listings `python -m bot feeds refresh` (and the
server's periodic refresh) keep in the pivot index: URLhaus, ThreatFox, Feodo Tracker,
OpenPhish, Spamhaus DROP. Nothing is sent anywhere.

Kinds: every kind a feed lists. A URL is matched as written and by its host; an e-mail
address by its domain; a name by itself and its registrable domain; an address by itself and
the DROP networks holding it (all `listed_by`). The URLs a feed lists on a host are
`listed_urls`: evidence about the host, not a listing of it. No keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from enrichment.errors import NotConfigured, Unavailable
from enrichment.index.model import Listing
from enrichment.indicators import lookup_target, registered_domain
from enrichment.model import Finding, Indicator, Kind
from enrichment.sources.base import Source
from enrichment.stores import StoreError

MAX_SHOWN = 20


def _values(indicator: Indicator) -> list[str]:
    """What a listing of `indicator` could be written as."""
    values = [indicator.value]
    host = lookup_target(indicator)
    if host is not indicator:
        values.append(host.value)
    name = host if host.kind is Kind.DOMAIN else None
    parent = registered_domain(name.value) if name else None
    if parent and parent not in values:
        values.append(parent)
    return values


def _day(when: float | None) -> str | None:
    return datetime.fromtimestamp(when, UTC).date().isoformat() if when else None


def _fact(listing: Listing) -> dict[str, Any]:
    fact: dict[str, Any] = {"feed": listing.feed, "value": listing.value}
    extra = {"threat": listing.threat, "first_seen": _day(listing.first_seen)}
    extra["reference"] = listing.reference
    fact.update({k: v for k, v in extra.items() if v})
    return fact


def _facts(listings: list[Listing]) -> list[dict[str, Any]]:
    unique = {(x.feed, x.value): _fact(x) for x in listings}.values()
    return sorted(unique, key=lambda f: (f["feed"], f["value"]))[:MAX_SHOWN]


def _split(found: list[Listing], values: list[str]) -> dict[str, Any]:
    """`listed_by` (the indicator itself) and `listed_urls`. A URL listed on this host is not
    a listing of the host: a feed that lists one file on a shared host (a cloud drive, a CDN)
    says nothing of everything else it serves."""
    served = [x for x in found if x.kind == Kind.URL.value and x.value not in values]
    facts = {"listed_by": _facts([x for x in found if x not in served])}
    facts["listed_urls"] = _facts(served)
    return {k: v for k, v in facts.items() if v}


class FeedsSource(Source):
    name = "feeds"
    kinds = frozenset(Kind)
    ttl = 300.0  # unused: never cached
    timeout = 3.0
    third_party = False  # matched here, in the team's own index
    cached = False  # local and cheap; listings change with every refresh

    async def lookup(self, indicator: Indicator) -> Finding:
        if self.ctx.index is None:
            raise NotConfigured("the pivot index is not open")
        values = _values(indicator)
        try:
            found = await self.ctx.index.listings(values)
        except StoreError as exc:
            raise Unavailable(f"pivot index: {exc}") from exc
        if not found:
            sizes = await self._sizes()
            return Finding({}, detail=f"not listed ({sizes})" if sizes else "no feed loaded yet")
        return Finding(_split(found, values))

    async def _sizes(self) -> str:
        assert self.ctx.index is not None
        sizes = await self.ctx.index.feed_sizes()
        return ", ".join(f"{feed} {n:,}" for feed, n in sorted(sizes.items()) if n)
