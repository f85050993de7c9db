"""Placeholder: being written."""

from __future__ import annotations

from enrichment.errors import Unavailable
from enrichment.model import Finding, Indicator, Kind
from enrichment.sources.base import Source


class AsnSource(Source):
    name = "asn"
    kinds = frozenset(Kind)

    async def lookup(self, indicator: Indicator) -> Finding:
        raise Unavailable("not built yet")
