"""The deadline contract: one deadline for the whole card (fallbacks included), each source
stopped at its own timeout, and a source that misses the deadline still cached for the next
card. Each test tells the outcomes apart by status and detail, not by a stopwatch: the sleeps
leave at least twice the room the rule needs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from enrichment.errors import Unavailable
from enrichment.model import Finding, Indicator, Kind, Status
from enrichment.service import Service
from enrichment.settings import Settings
from enrichment.sources import Source

IP = Indicator(Kind.IPV4, "212.61.180.100", "212.61.180[.]100")


class Primary(Source):
    """Fails after 0.6 s, as an RDAP server answering 500 late would."""

    name = "primary"
    kinds = frozenset({Kind.IPV4})

    async def lookup(self, indicator: Indicator) -> Finding:
        await asyncio.sleep(0.6)
        raise Unavailable("HTTP 500")


class Fallback(Source):
    """Runs when the primary failed; answers 0.8 s after it starts."""

    name = "fallback"
    kinds = frozenset({Kind.IPV4})
    timeout = 30.0
    fallback_of: ClassVar[Mapping[Kind, str]] = {Kind.IPV4: "primary"}

    async def lookup(self, indicator: Indicator) -> Finding:
        await asyncio.sleep(0.8)
        return Finding({"network": "212.61.180.0/24"})


class Hanging(Source):
    """Never answers by itself; its own timeout is short, the card's deadline long."""

    name = "hanging"
    kinds = frozenset({Kind.IPV4})
    timeout = 0.3

    async def lookup(self, indicator: Indicator) -> Finding:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


class Late(Source):
    """Answers after 0.8 s: after a 0.3 s deadline, long before its own timeout."""

    name = "late"
    kinds = frozenset({Kind.IPV4})
    timeout = 30.0
    calls: ClassVar[int] = 0

    async def lookup(self, indicator: Indicator) -> Finding:
        type(self).calls += 1
        await asyncio.sleep(0.8)
        return Finding({"asn": 64500})


def settings(tmp_path: Path, deadline: float) -> Settings:
    return Settings(data_dir=tmp_path / "data", deadline=deadline)


async def test_a_fallback_after_a_failed_primary_shares_the_cards_one_deadline(
    tmp_path: Path,
) -> None:
    # 1.0 s deadline: the primary fails at 0.6 s, the fallback would answer at 1.4 s. With a
    # fresh deadline for the fallback wave it would answer (at 1.4 s < 0.6 + 1.0 s).
    async with Service(settings(tmp_path, 1.0), registry=(Primary, Fallback)) as service:
        report = await service.enrich(IP)
    assert report.results["primary"].status is Status.ERROR
    fallback = report.results["fallback"]
    assert fallback.status is Status.TIMEOUT
    assert fallback.detail == "no answer before the card's deadline"


async def test_the_fallback_runs_when_the_deadline_allows(tmp_path: Path) -> None:
    async with Service(settings(tmp_path, 5.0), registry=(Primary, Fallback)) as service:
        report = await service.enrich(IP)
    assert report.results["fallback"].status is Status.OK
    assert report.facts["network"] == "212.61.180.0/24"


async def test_each_source_stops_at_its_own_timeout(tmp_path: Path) -> None:
    async with Service(settings(tmp_path, 20.0), registry=(Hanging,)) as service:
        report = await asyncio.wait_for(service.enrich(IP), timeout=10)
    hanging = report.results["hanging"]
    assert hanging.status is Status.TIMEOUT
    assert hanging.detail == "no answer in 0.3 s"  # its own limit, not the card's deadline


async def test_a_source_that_misses_the_deadline_lands_in_the_cache_for_the_next_card(
    tmp_path: Path,
) -> None:
    Late.calls = 0
    async with Service(settings(tmp_path, 0.3), registry=(Late,)) as service:
        first = await service.enrich(IP)
        assert first.results["late"].status is Status.TIMEOUT
        await asyncio.wait_for(_background_done(service), timeout=10)
        second = await service.enrich(IP)
    assert second.results["late"].status is Status.OK
    assert second.facts["asn"] == 64500
    assert Late.calls == 1  # the answer came from the lookup the first card started


async def _background_done(service: Service) -> None:
    while service.pending():
        await asyncio.sleep(0.05)
