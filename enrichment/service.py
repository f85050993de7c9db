"""The one entry point: `await service.enrich(indicator)` and `await service.pivot(...)`.

A card asks every applicable source at once (`enrichment.runner`), each under its own timeout,
all under one deadline; merges their facts; offers the pivots worth a button, with the counts
the index knows; and teaches the pivot index what it learned, off the request path. Pivots
are run by `enrichment.pivoting`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

import httpx

from enrichment import pivots
from enrichment.cache import Cache, open_store
from enrichment.errors import InvalidInput
from enrichment.http import make_client
from enrichment.index.model import Index, Observation, Sighting
from enrichment.index.observe import observations
from enrichment.indicators import defang, lookup_target, parse_indicator
from enrichment.merge import merge_facts
from enrichment.model import Indicator, Kind, PivotItem, PivotPage, Report, SourceResult, Status
from enrichment.pivoting import Pivoting
from enrichment.plan import plan, unavailable
from enrichment.plan import skipped as plan_skipped
from enrichment.privacy import internal_reason
from enrichment.runner import Runner
from enrichment.scoring import assess
from enrichment.settings import Settings
from enrichment.sources import REGISTRY, Context, Source
from enrichment.stores import StoreError

log = logging.getLogger(__name__)


class Service:
    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        cache: Cache | None = None,
        index: Index | None = None,
        registry: Iterable[type[Source]] = REGISTRY,
    ) -> None:
        self.settings = settings
        self._own_http = http is None
        self.http = http or make_client()
        self.cache = cache or _open_cache(settings)
        self.index = index if index is not None else _open_index(settings)
        self._registry = tuple(registry)
        self._unavailable = unavailable(self._registry, settings)
        ctx = Context(settings=settings, http=self.http, index=self.index)
        sources = {c.name: c(ctx) for c in self._registry if c.name not in self._unavailable}
        self.runner = Runner(sources, self.cache)
        self.pivoting = Pivoting(self)

    @property
    def sources(self) -> dict[str, Source]:
        return self.runner.sources

    async def __aenter__(self) -> Service:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def pending(self) -> int:
        """Work still running after its card went out (lookups past the deadline, index
        writes): it finishes into the cache and the index."""
        return self.runner.pending()

    async def aclose(self) -> None:
        await self.runner.aclose()
        if self._own_http:
            await self.http.aclose()
        await self.cache.aclose()
        if self.index is not None:
            await self.index.aclose()

    # -- enrich -----------------------------------------------------------------------------

    async def enrich(self, indicator: Indicator, *, extra: Iterable[str] = ()) -> Report:
        """Ask every applicable source about `indicator` (plus the on-request ones in `extra`)."""
        deadline = asyncio.get_running_loop().time() + self.settings.deadline
        target = lookup_target(indicator)
        results: dict[str, SourceResult] = {}
        private = internal_reason(indicator, self.settings)
        explicit = self.settings.sources is not None
        steps = plan(
            self.sources, self._unavailable, target, private, explicit=explicit, extra=set(extra)
        )
        await self.runner.wave(steps.now, target, deadline, results)
        await self.runner.wave(steps.fallbacks(target, results), target, deadline, results)
        await self._via_address(steps.via_address, deadline, results)
        results.update(steps.skipped)
        facts = dict(merge_facts(results))
        if target is not indicator:
            facts["host" if indicator.kind is Kind.URL else "domain"] = target.value
        report = Report(indicator, dict(sorted(results.items())), facts)
        report = replace(report, risk=await assess(report, self.index, self.settings))
        offers = pivots.offers(report, frozenset(self.sources))
        report = replace(report, pivots=await self.pivoting.counted(offers, report.indicator))
        self._learn(report, target)
        return report

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
        await self.runner.wave(sources, address, deadline, found)
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

    def _learn(self, report: Report, target: Indicator) -> None:
        """Write what the card found into the index, after the card (never delaying it)."""
        if self.index is None:
            return
        found = observations(report, target, time.time())
        if found:
            self.runner.keep(asyncio.ensure_future(self._record(found)))

    async def _record(self, found: Sequence[Observation]) -> None:
        assert self.index is not None
        try:
            await self.index.record(found)
        except StoreError as exc:
            log.warning("could not write to the pivot index: %s", exc)

    async def record_sighting(self, sighting: Sighting) -> None:
        """Remember where an indicator came up in Slack (no index: nothing to remember)."""
        if self.index is not None:
            try:
                await self.index.record_sighting(sighting)
            except StoreError as exc:
                log.warning("could not record a sighting: %s", exc)

    # -- pivot ------------------------------------------------------------------------------

    async def pivot(
        self, pivot_id: str, subject: Indicator | str, page: int = 1, *, target: str | None = None
    ) -> PivotPage:
        """One page of pivot `pivot_id` offered on `subject`'s card, run on `target` (by
        default the card's own offer of it)."""
        indicator = subject if isinstance(subject, Indicator) else _parse(subject)
        if page < 1:
            raise InvalidInput("page numbers start at 1")
        return await self.pivoting.page(pivot_id, indicator, page, target)

    async def pivot_all(
        self, pivot_id: str, subject: Indicator, *, target: str | None = None
    ) -> list[PivotItem]:
        """Every result of a pivot (for an export), as far as its providers answered."""
        return await self.pivoting.everything(pivot_id, subject, target)


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


def _open_cache(settings: Settings) -> Cache:
    """Redis when PIVOT_REDIS_URL is set, else diskcache under the data directory; a lookup
    in flight holds its lock across replicas no longer than the deadline cuts it."""
    if not settings.cache_enabled:
        return Cache(None)
    store = open_store(settings.data_dir / "cache", settings.redis_url)
    return Cache(store, lock_ttl=settings.deadline + 1)


def _open_index(settings: Settings) -> Index | None:
    """The pivot index under the data directory; None (with a warning) when it cannot be
    opened: cards still go out, the index's lines say it is missing."""
    if not settings.cache_enabled:
        return None
    from enrichment.index import open_index

    try:
        return open_index(settings)
    except StoreError as exc:
        log.warning("pivot index unusable (%s); cards go out without it", exc)
        return None


__all__ = ["Service"]
