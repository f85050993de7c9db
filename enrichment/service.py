"""The one entry point: `await service.enrich(indicator)` and `await service.pivot(...)`.

Every applicable source runs at once, each behind the cache, under its own timeout and
concurrency limit, all under one deadline. Whatever misses the deadline is reported as
`timeout` and keeps running in the background so its answer is cached for the next card.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import httpx

from enrichment import pivots
from enrichment.cache import Cache
from enrichment.errors import (
    InvalidInput,
    NotConfigured,
    RateLimited,
    SourceError,
    SourceTimeout,
)
from enrichment.http import make_client
from enrichment.indicators import defang, lookup_target, parse_indicator
from enrichment.merge import merge_facts
from enrichment.model import (
    Finding,
    Indicator,
    Kind,
    PivotItem,
    PivotPage,
    Report,
    SourceResult,
    Status,
)
from enrichment.plan import plan, unavailable
from enrichment.plan import skipped as plan_skipped
from enrichment.privacy import internal_reason
from enrichment.settings import Settings
from enrichment.sources import REGISTRY, Context, Source

log = logging.getLogger(__name__)

PAGE_SIZE = 25
FAILURE_TTL = {Status.TIMEOUT: 30.0, Status.ERROR: 60.0, Status.RATE_LIMITED: 300.0}
Outcome = tuple[SourceResult, float | None]  # the result and how long to cache it


class Service:
    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        cache: Cache | None = None,
        registry: Iterable[type[Source]] = REGISTRY,
    ) -> None:
        self.settings = settings
        self._own_http = http is None
        self.http = http or make_client()
        self.cache = cache or Cache(settings.data_dir / "cache" if settings.cache_enabled else None)
        self._registry = tuple(registry)
        self._unavailable = unavailable(self._registry, settings)
        ctx = Context(settings=settings, http=self.http)
        self.sources: dict[str, Source] = {
            cls.name: cls(ctx) for cls in self._registry if cls.name not in self._unavailable
        }
        self._limits = {name: asyncio.Semaphore(s.concurrency) for name, s in self.sources.items()}
        self._background: set[asyncio.Future[Outcome]] = set()

    async def __aenter__(self) -> Service:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def pending(self) -> int:
        """Lookups still running after their card's deadline (they finish into the cache)."""
        return len(self._background)

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._own_http:
            await self.http.aclose()
        await self.cache.aclose()

    # -- enrich -----------------------------------------------------------------------------

    async def enrich(self, indicator: Indicator, *, extra: Iterable[str] = ()) -> Report:
        """Ask every applicable source about `indicator` (plus the on-request ones in `extra`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.deadline
        target = lookup_target(indicator)
        results: dict[str, SourceResult] = {}
        private = internal_reason(indicator, self.settings)
        explicit = self.settings.sources is not None
        steps = plan(
            self.sources, self._unavailable, target, private, explicit=explicit, extra=set(extra)
        )
        await self._wave(steps.now, target, deadline, results)
        await self._wave(steps.fallbacks(target, results), target, deadline, results)
        await self._via_address(steps.via_address, deadline, results)
        results.update(steps.skipped)
        facts = dict(merge_facts(results))
        if target is not indicator:
            facts["host" if indicator.kind is Kind.URL else "domain"] = target.value
        report = Report(indicator, dict(sorted(results.items())), facts)
        available = frozenset(self.sources)
        return replace(report, pivots=pivots.offers(report, available))

    async def _via_address(
        self, sources: list[Source], deadline: float, results: dict[str, SourceResult]
    ) -> None:
        """Ask `sources` about the first address the card's DNS answer holds; their facts
        come back as `hosting_<fact>`, under the card's one deadline."""
        if not sources:
            return
        address = _first_address(results.get("dns"))
        why = self._address_problem(address)
        if why or address is None:
            results.update({s.name: plan_skipped(s.name, why or "") for s in sources})
            return
        found: dict[str, SourceResult] = {}
        await self._wave(sources, address, deadline, found)
        for name, result in found.items():
            facts = {f"hosting_{k}": v for k, v in result.facts.items()}
            if facts:
                facts["hosting_ip"] = address.value
            results[name] = replace(result, facts=facts)

    def _address_problem(self, address: Indicator | None) -> str | None:
        if address is None:
            return "no address to look up"
        private = internal_reason(address, self.settings)
        return f"kept internal: the address is a {private}" if private else None

    async def _wave(
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
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            results[name] = SourceResult(
                name,
                Status.TIMEOUT,
                detail="no answer before the card's deadline",
                elapsed_ms=_ms(loop.time() - started),
            )

    async def _cached(self, source: Source, target: Indicator) -> Outcome:
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

    # -- pivot ------------------------------------------------------------------------------

    async def pivot(self, pivot_id: str, subject: Indicator | str, page: int = 1) -> PivotPage:
        """One page of pivot `pivot_id` run on `subject`."""
        indicator = subject if isinstance(subject, Indicator) else _parse(subject)
        spec = pivots.spec_for(pivot_id, indicator.kind)
        if page < 1:
            raise InvalidInput("page numbers start at 1")
        report = await self.enrich(indicator, extra=spec.needs)
        found = spec.items(report)
        start = (page - 1) * PAGE_SIZE
        items = tuple(
            PivotItem(ind, source=spec.source) for ind in found[start : start + PAGE_SIZE]
        )
        wanted = {spec.source, *spec.needs}
        return PivotPage(
            pivot=spec.id,
            subject=indicator,
            items=items,
            total=len(found),
            page=page,
            page_size=PAGE_SIZE,
            sources={n: r for n, r in report.results.items() if n in wanted},
            text=spec.text(report),
            label=spec.label,
        )


def _parse(text: str) -> Indicator:
    indicator = parse_indicator(text)
    if indicator is None:
        raise InvalidInput("no indicator found in that text")
    return indicator


def _first_address(dns: SourceResult | None) -> Indicator | None:
    """The lowest A record (else AAAA) of a name's DNS answer, as an indicator."""
    if dns is None or dns.status is not Status.OK:
        return None
    for key, kind in (("a", Kind.IPV4), ("aaaa", Kind.IPV6)):
        values = sorted(str(v) for v in dns.facts.get(key) or ())
        if values:
            return Indicator(kind, values[0], defang(kind, values[0]))
    return None


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
