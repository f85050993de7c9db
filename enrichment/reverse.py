"""Reverse pivots: who else is on this IP, who else did this registrant register.

Answered from every provider at once, each under its own timeout and the one deadline: the
team's pivot index, and every enabled source that `reverse`s the pivot (DomainTools, Mnemonic
passive DNS, crt.sh). Their answers are merged by value (the earliest first-seen, the latest
last-seen, every provider named) into one list, newest first, and paged here; each provider's
own total is kept, so "showing 25 of 8,031" stays true when a provider knows more than it
returned. A provider that fails costs its own status line, never the page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from enrichment.errors import NotConfigured, RateLimited, SourceError, SourceTimeout
from enrichment.index.model import Index, Observation, Relation
from enrichment.model import Kind, SourceResult, Status
from enrichment.pivots import PivotSpec
from enrichment.sources.base import Related, RelatedPage, Source
from enrichment.stores import StoreError

log = logging.getLogger("enrichment.reverse")

MERGE_CAP = 1000  # results asked of each provider; the page says when a provider knows more


@dataclass(frozen=True)
class Merged:
    items: list[Related]  # newest first
    named_by: dict[str, list[str]]  # value -> the providers that named it
    total: int | None  # the largest of what was merged and what any provider says it knows


def _related(o: Observation) -> Related:
    return Related(o.subject, Kind(o.subject_kind), o.first_seen, o.last_seen)


async def from_index(
    index: Index, spec: PivotSpec, target: str, *, limit: int = MERGE_CAP, without: str = ""
) -> RelatedPage:
    """The index's answer: subjects with the pivot's relation to `target` (`limit` 0: only
    the count), `without` the card's own indicator (co-hosted with itself is no news)."""
    if spec.id == "neighbours":
        return await _neighbours(index, target, limit)
    relation = _relation(spec, target)
    total = await index.count(relation, target)
    found = await index.reverse(relation, target, limit=limit) if limit and total else []
    if total and await _holds(index, without, relation, target):
        total -= 1
        found = [o for o in found if o.subject != without]
    return RelatedPage(tuple(_related(o) for o in found), total)


async def _neighbours(index: Index, ip: str, limit: int) -> RelatedPage:
    """The same /24 or /64 (the address itself is never its own neighbour)."""
    total = await index.count_neighbours(ip)
    found = await index.neighbours(ip, limit=limit) if limit and total else []
    return RelatedPage(tuple(_related(o) for o in found), total)


def _relation(spec: PivotSpec, target: str) -> Relation:
    """The pivot's relation; reverse IP on an IPv6 address reads AAAA records."""
    if spec.relation is None:
        raise ValueError(f"pivot {spec.id} has no index relation")
    return Relation.AAAA if spec.relation is Relation.A and ":" in target else spec.relation


async def _holds(index: Index, subject: str, relation: Relation, target: str) -> bool:
    if not subject:
        return False
    return any(o.object == target for o in await index.forward(subject, relation, limit=1000))


def log_failure(provider: str, exc: BaseException) -> None:
    """A provider's expected failures are its status line; anything else is a bug, logged."""
    if not isinstance(exc, SourceError | StoreError | TimeoutError):
        log.error("reverse lookup by %s failed", provider, exc_info=exc)


async def from_source(source: Source, spec: PivotSpec, target: str) -> RelatedPage:
    async with asyncio.timeout(source.timeout):
        return await source.reverse_lookup(spec.id, target, offset=0, limit=MERGE_CAP)


def outcome(name: str, page: RelatedPage | BaseException, ms: int) -> SourceResult:
    """A provider's answer or failure as the status line the page shows."""
    if isinstance(page, RelatedPage):
        status = Status.OK if page.items else Status.EMPTY
        return SourceResult(name, status, detail=None, elapsed_ms=ms)
    status, detail = _failure(page)
    return SourceResult(name, status, detail=detail[:200], elapsed_ms=ms)


def _failure(exc: BaseException) -> tuple[Status, str]:
    if isinstance(exc, TimeoutError | SourceTimeout):
        return Status.TIMEOUT, str(exc) or "no answer in time"
    if isinstance(exc, RateLimited):
        return Status.RATE_LIMITED, str(exc)
    if isinstance(exc, NotConfigured):
        return Status.SKIPPED, str(exc)
    if isinstance(exc, SourceError | StoreError):
        return Status.ERROR, str(exc)
    return Status.ERROR, "internal error (logged)"


def merge(pages: Mapping[str, RelatedPage], *, without: str = "") -> Merged:
    """One list from every provider's page: by value, newest first, `without` the card's own
    indicator (a provider that named it counts one less)."""
    best: dict[str, Related] = {}
    named: dict[str, list[str]] = {}
    pages = {name: _drop(page, without) for name, page in pages.items()}
    for provider, page in pages.items():
        for item in page.items:
            best[item.value] = _combine(best.get(item.value), item)
            named.setdefault(item.value, []).append(provider)
    items = sorted(best.values(), key=_newest)
    return Merged(items, named, _total(pages, len(items)))


def _newest(item: Related) -> tuple[float, str]:
    return (-(item.last_seen or item.first_seen or 0), item.value)


def _total(pages: Mapping[str, RelatedPage], merged: int) -> int | None:
    """The most any provider knows; None only when no provider answered."""
    totals = [p.total for p in pages.values() if p.total is not None]
    if totals or merged:
        return max([merged, *totals])
    return 0 if pages else None


def _drop(page: RelatedPage, value: str) -> RelatedPage:
    kept = tuple(item for item in page.items if item.value != value)
    if len(kept) == len(page.items):
        return page
    return RelatedPage(kept, None if page.total is None else max(page.total - 1, len(kept)))


def _combine(old: Related | None, new: Related) -> Related:
    if old is None:
        return new
    firsts = [t for t in (old.first_seen, new.first_seen) if t]
    lasts = [t for t in (old.last_seen, new.last_seen) if t]
    return replace(old, first_seen=min(firsts, default=None), last_seen=max(lasts, default=None))


def page_of(items: Sequence[Related], page: int, size: int) -> list[Related]:
    start = (page - 1) * size
    return list(items[start : start + size])


def cached_page(doc: Any) -> RelatedPage | None:
    """A provider's page from the cache's JSON; None when it is not one we wrote."""
    try:
        items = tuple(
            Related(str(i["value"]), Kind(i["kind"]), i.get("first_seen"), i.get("last_seen"))
            for i in doc["items"]
        )
        return RelatedPage(items, doc.get("total"))
    except (KeyError, TypeError, ValueError):
        return None


def page_json(page: RelatedPage) -> dict[str, Any]:
    """A provider's page as the JSON the cache keeps."""
    items = [
        {
            "value": i.value,
            "kind": i.kind.value,
            "first_seen": i.first_seen,
            "last_seen": i.last_seen,
        }
        for i in page.items
    ]
    return {"items": items, "total": page.total}
