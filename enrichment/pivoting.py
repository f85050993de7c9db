"""Running a pivot: one page of its results, or all of them for an export.

A pivot answered from the card itself (resolve, PTR names, raw WHOIS) re-enriches the card's
indicator (asking the on-request sources it needs) and pages what the report holds. A reverse
pivot (co-hosted domains, the registrant's domains, ...) asks the index and every enabled
source that answers it (`enrichment.reverse`), never a third party about an internal target.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from enrichment import reverse
from enrichment.errors import InvalidInput
from enrichment.index.model import Index
from enrichment.indicators import lookup_target, make_indicator
from enrichment.model import Indicator, PivotItem, PivotOffer, PivotPage, SourceResult
from enrichment.pivots import PivotSpec, spec_for, target_indicator
from enrichment.privacy import internal_reason
from enrichment.scoring import quick
from enrichment.sources.base import Related, RelatedPage
from enrichment.stores import StoreError

if TYPE_CHECKING:
    from enrichment.service import Service

PAGE_SIZE = 25
EXPORT_MAX = 10_000
BIG_PIVOT = 500  # results from which a DomainTools pivot asks before spending quota


class Pivoting:
    def __init__(self, service: Service) -> None:
        self.service = service

    @property
    def index(self) -> Index | None:
        return self.service.index

    # -- counts on the card's buttons -------------------------------------------------------

    async def counted(
        self, offers: tuple[PivotOffer, ...], subject: Indicator
    ) -> tuple[PivotOffer, ...]:
        """The offers with the index's counts for reverse pivots (the larger of what the
        report knew and what the index holds, the card's own indicator left out); a reverse
        pivot nothing could answer is not offered."""
        checked = await asyncio.gather(*(self._counted(o, subject) for o in offers))
        return tuple(o for o in checked if o is not None)

    async def _counted(self, offer: PivotOffer, subject: Indicator) -> PivotOffer | None:
        spec = spec_for(offer.id)
        if not spec.reverse:
            return offer
        here = await self._index_count(spec, offer.target, lookup_target(subject).value)
        count = max((c for c in (offer.count, here) if c is not None), default=None)
        providers = self._sources_for(spec, offer.target)
        if not count and not providers:
            return None  # only the index could answer, and it knows nothing
        costs = _quota_cost(providers, count)
        return replace(offer, count=count or None, costs=costs)

    async def _index_count(self, spec: PivotSpec, target: str, without: str) -> int | None:
        if self.index is None:
            return None
        try:
            found = await reverse.from_index(self.index, spec, target, limit=0, without=without)
            return found.total
        except StoreError:
            return None

    def _sources_for(self, spec: PivotSpec, target: str) -> list[str]:
        """The enabled sources that answer `spec`, but no third party about an internal
        target."""
        indicator = target_indicator(spec, target)
        private = internal_reason(indicator, self.service.settings) if indicator else None
        return [
            name
            for name, source in self.service.sources.items()
            if spec.id in source.reverse and not (private and source.third_party)
        ]

    # -- pages ------------------------------------------------------------------------------

    async def page(
        self, pivot_id: str, subject: Indicator, page: int, target: str | None
    ) -> PivotPage:
        spec = spec_for(pivot_id)
        if not spec.reverse:
            return await self._from_report(spec, subject, page)
        target = target or await self._default_target(spec, subject)
        merged, results = await self._merged(spec, target, subject)
        shown = reverse.page_of(merged.items, page, PAGE_SIZE)
        items = await self._items(shown, merged.named_by)
        return PivotPage(
            spec.id,
            subject,
            tuple(items),
            merged.total,
            page,
            PAGE_SIZE,
            results,
            label=spec.label,
            target=target,
        )

    async def everything(
        self, pivot_id: str, subject: Indicator, target: str | None
    ) -> list[PivotItem]:
        spec = spec_for(pivot_id)
        if not spec.reverse:
            report = await self.service.enrich(subject, extra=spec.needs)
            return [PivotItem(i, source=spec.source) for i in (spec.items or _none)(report)]
        target = target or await self._default_target(spec, subject)
        merged, _ = await self._merged(spec, target, subject)
        return await self._items(merged.items[:EXPORT_MAX], merged.named_by)

    async def _from_report(self, spec: PivotSpec, subject: Indicator, page: int) -> PivotPage:
        if subject.kind not in spec.kinds:
            raise InvalidInput(f"pivot {spec.id!r} does not apply to a {subject.kind.value}")
        report = await self.service.enrich(subject, extra=spec.needs)
        found = (spec.items or _none)(report)
        start = (page - 1) * PAGE_SIZE
        items = tuple(PivotItem(i, source=spec.source) for i in found[start : start + PAGE_SIZE])
        wanted = {spec.source, *spec.needs}
        sources = {n: r for n, r in report.results.items() if n in wanted}
        return PivotPage(
            spec.id,
            subject,
            items,
            len(found),
            page,
            PAGE_SIZE,
            sources,
            text=spec.text(report),
            label=spec.label,
            target=subject.value,
        )

    async def _default_target(self, spec: PivotSpec, subject: Indicator) -> str:
        """The card's own offer of `spec` (the first, when it has several)."""
        report = await self.service.enrich(subject)
        offered = [o.target for o in report.pivots if o.id == spec.id]
        if not offered:
            raise InvalidInput(f"{subject.defanged}'s card offers no {spec.id} pivot")
        return offered[0]

    async def _merged(
        self, spec: PivotSpec, target: str, subject: Indicator
    ) -> tuple[reverse.Merged, dict[str, SourceResult]]:
        names = self._sources_for(spec, target)
        asks = [self._ask_index(spec, target), *(self._ask_source(n, spec, target) for n in names)]
        answers = await asyncio.gather(*asks)
        pages = {name: page for name, page, _ in answers if isinstance(page, RelatedPage)}
        merged = reverse.merge(pages, without=lookup_target(subject).value)
        return merged, {name: result for name, _, result in answers}

    async def _ask_index(
        self, spec: PivotSpec, target: str
    ) -> tuple[str, RelatedPage | BaseException, SourceResult]:
        started = asyncio.get_running_loop().time()
        try:
            if self.index is None:
                raise StoreError("the pivot index is not open")
            page: RelatedPage | BaseException = await reverse.from_index(self.index, spec, target)
        except StoreError as exc:
            page = exc
        return "index", page, reverse.outcome("index", page, _since(started))

    async def _ask_source(
        self, name: str, spec: PivotSpec, target: str
    ) -> tuple[str, RelatedPage | BaseException, SourceResult]:
        started = asyncio.get_running_loop().time()
        source = self.service.sources[name]
        try:
            page: RelatedPage | BaseException = await self.service.runner.related(
                source, spec.id, target
            )
        except Exception as exc:  # a provider's failure costs its own line, never the page
            reverse.log_failure(name, exc)
            page = exc
        return name, page, reverse.outcome(name, page, _since(started))

    async def _items(self, shown: list[Related], named_by: dict[str, list[str]]) -> list[PivotItem]:
        listed = await self._listed([r.value for r in shown])
        out = []
        for related in shown:
            try:
                indicator = make_indicator(related.kind, related.value)
            except InvalidInput:
                continue  # a provider's answer that is not a valid indicator is dropped
            score = quick(indicator, related.value in listed, self.service.settings)
            first = _day(related.first_seen)
            out.append(
                PivotItem(indicator, score, first, ", ".join(named_by.get(related.value, [])))
            )
        return out

    async def _listed(self, values: list[str]) -> set[str]:
        if self.index is None or not values:
            return set()
        try:
            return {x.value for x in await self.index.listings(values)}
        except StoreError:
            return set()


def _none(_report: object) -> list[Indicator]:
    return []


def _day(when: float | None) -> str | None:
    return datetime.fromtimestamp(when, UTC).date().isoformat() if when else None


def _quota_cost(providers: list[str], count: int | None) -> str | None:
    """The keyed provider a pivot this big would spend quota on (the button asks first)."""
    if "domaintools" in providers and (count is None or count >= BIG_PIVOT):
        return "DomainTools"
    return None


def _since(started: float) -> int:
    return max(0, round((asyncio.get_running_loop().time() - started) * 1000))
