"""Asking sources: each behind the cache, under its own timeout and concurrency limit, all
under the card's one deadline. Whatever misses the deadline is reported as `timeout` and keeps
running in the background, so its answer is cached for the next card.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from enrichment.cache import Cache
from enrichment.errors import NotConfigured, RateLimited, SourceError, SourceTimeout, Unavailable
from enrichment.model import Finding, Indicator, SourceResult, Status
from enrichment.reverse import MERGE_CAP, cached_page, page_json
from enrichment.sources import Source
from enrichment.sources.base import RelatedPage

log = logging.getLogger("enrichment.service")

FAILURE_TTL = {Status.TIMEOUT: 30.0, Status.ERROR: 60.0, Status.RATE_LIMITED: 300.0}
Outcome = tuple[SourceResult, float | None]  # the result and how long to cache it


class Runner:
    def __init__(self, sources: Mapping[str, Source], cache: Cache) -> None:
        self.sources = dict(sources)
        self.cache = cache
        self._limits = {name: asyncio.Semaphore(s.concurrency) for name, s in sources.items()}
        self._background: set[asyncio.Future[Any]] = set()

    def pending(self) -> int:
        """Lookups still running after their card's deadline (they finish into the cache)."""
        return len(self._background)

    def keep(self, task: asyncio.Future[Any]) -> None:
        """Let `task` finish in the background, referenced until it does."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def wave(
        self,
        sources: list[Source],
        target: Indicator,
        deadline: float,
        results: dict[str, SourceResult],
    ) -> None:
        if not sources:
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        finished: dict[str, float] = {}

        def timed(name: str, task: asyncio.Future[Outcome]) -> asyncio.Future[Outcome]:
            task.add_done_callback(lambda _t: finished.setdefault(name, loop.time()))
            return task

        tasks = {
            s.name: timed(s.name, asyncio.ensure_future(self._cached(s, target))) for s in sources
        }
        await asyncio.wait(tasks.values(), timeout=max(0.0, deadline - loop.time()))
        for name, task in tasks.items():
            if task.done():
                elapsed = _ms(finished.get(name, loop.time()) - started)
                results[name] = replace(task.result()[0], elapsed_ms=elapsed)
                continue
            self.keep(task)
            results[name] = SourceResult(
                name,
                Status.TIMEOUT,
                detail="no answer before the card's deadline",
                elapsed_ms=_ms(loop.time() - started),
            )

    async def related(self, source: Source, pivot: str, target: str) -> RelatedPage:
        """`source`'s answer to a reverse pivot, through the cache; raises what it raises."""
        key = Cache.key("reverse", source.name, pivot, target)

        async def ask() -> dict[str, Any]:
            async with self._limits[source.name], asyncio.timeout(source.timeout):
                found = await source.reverse_lookup(pivot, target, offset=0, limit=MERGE_CAP)
            return page_json(found)

        page = cached_page(await self.cache.get_or_compute(key, ask, ttl_of=lambda _: source.ttl))
        if page is None:
            raise Unavailable("cached answer unreadable")
        return page

    async def _cached(self, source: Source, target: Indicator) -> Outcome:
        if not source.cached:
            return await self._ask(source, target)
        key = Cache.key("source", source.name, target.kind.value, source.cache_subject(target))

        async def ask() -> dict[str, Any]:
            return _pack(*await self._ask(source, target))

        doc = await self.cache.get_or_compute(key, ask, ttl_of=lambda d: d.get("ttl"))
        return _unpack(source.name, doc)

    async def _ask(self, source: Source, target: Indicator) -> Outcome:
        async with self._limits[source.name]:
            try:
                async with asyncio.timeout(source.timeout):
                    finding = await source.lookup(target)
            except (TimeoutError, SourceTimeout) as exc:
                return _failed(
                    source, Status.TIMEOUT, str(exc) or f"no answer in {source.timeout:g} s"
                )
            except RateLimited as exc:
                return _failed(source, Status.RATE_LIMITED, str(exc), exc.retry_after)
            except NotConfigured as exc:
                return SourceResult(source.name, Status.SKIPPED, detail=str(exc)), None
            except SourceError as exc:
                return _failed(source, Status.ERROR, str(exc))
            except Exception:
                # A bug in one source costs that source, never the card; the log keeps the trace.
                log.exception("source %s failed on a %s", source.name, target.kind.value)
                return _failed(source, Status.ERROR, "internal error (logged)")
        return _found(source, finding)


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _failed(
    source: Source, status: Status, detail: str, retry_after: float | None = None
) -> Outcome:
    ttl = FAILURE_TTL[status]
    if retry_after:
        ttl = min(max(retry_after, 1.0), 3600.0)
    return SourceResult(source.name, status, detail=detail[:200]), ttl


def _pack(result: SourceResult, ttl: float | None) -> dict[str, Any]:
    """An outcome as the JSON the cache keeps."""
    return {
        "status": result.status.value,
        "facts": dict(result.facts),
        "detail": result.detail,
        "raw": result.raw,
        "ttl": ttl,
    }


def _unpack(name: str, doc: Any) -> Outcome:
    """An outcome from the cache's JSON; anything malformed counts as an internal error."""
    try:
        result = SourceResult(
            name,
            Status(doc["status"]),
            dict(doc["facts"]),
            doc["detail"],
            raw=doc["raw"],
        )
    except (KeyError, TypeError, ValueError):
        return SourceResult(name, Status.ERROR, detail="cached answer unreadable"), None
    return result, doc.get("ttl")


def _found(source: Source, finding: Finding) -> Outcome:
    facts: Mapping[str, Any] = dict(finding.facts)
    status = Status.OK if facts else Status.EMPTY
    result = SourceResult(source.name, status, facts, finding.detail, raw=finding.raw)
    return result, finding.ttl or source.ttl
