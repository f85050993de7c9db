"""The base of the sources that ask DNS (dns, asn)."""

from __future__ import annotations

import dns.asyncresolver

from enrichment.resolver import make_resolver
from enrichment.sources.base import Context, Source


class ResolverSource(Source):
    """The resolver is built from settings on first use (never at import), or is the one a
    test hands in."""

    def __init__(self, ctx: Context, *, resolver: dns.asyncresolver.Resolver | None = None):
        super().__init__(ctx)
        self._resolver = resolver

    @property
    def resolver(self) -> dns.asyncresolver.Resolver:
        if self._resolver is None:
            self._resolver = make_resolver(self.ctx.settings)
        return self._resolver
