"""What every source is: a small class that declares itself and answers one question.

A source declares its name, the indicator kinds it serves, its cache lifetime, its timeout,
whether it runs on automatic enrichment or only when asked, whether it talks to a third
party, and the settings it needs. `lookup` returns a `Finding` or raises from
`enrichment.errors`; the service does the timing, caching and status keeping.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import httpx

from enrichment.addresses import parse_address
from enrichment.index.model import Index
from enrichment.indicators import registered_domain
from enrichment.model import Finding, Indicator, Kind
from enrichment.settings import Settings


@dataclass(frozen=True, slots=True)
class Related:
    """One answer of a reverse lookup (a domain on this IP, a domain of this registrant)."""

    value: str  # canonical
    kind: Kind
    first_seen: float | None = None  # Unix seconds, when the source knows
    last_seen: float | None = None


@dataclass(frozen=True, slots=True)
class RelatedPage:
    items: tuple[Related, ...]
    total: int | None  # None: the source cannot count


def target_kind(target: str) -> Kind:
    """The kind of a reverse pivot's target: an address, an e-mail address, else a name."""
    ip = parse_address(target)
    if ip is not None:
        return Kind.IPV4 if ip.version == 4 else Kind.IPV6
    return Kind.EMAIL if "@" in target else Kind.DOMAIN


@dataclass(frozen=True)
class Context:
    """Collaborators handed to every source; tests pass loopback versions."""

    settings: Settings
    http: httpx.AsyncClient
    clock: Callable[[], float] = field(default=lambda: __import__("time").monotonic())
    index: Index | None = None  # the pivot index, for the sources that read it


class Source(ABC):
    name: ClassVar[str]
    kinds: ClassVar[frozenset[Kind]]
    ttl: ClassVar[float] = 3600.0  # seconds a good answer is cached
    # False: asked afresh for every card (a local lookup that changes as the team works:
    # a cached "not seen before" would hide the sighting a minute ago).
    cached: ClassVar[bool] = True
    timeout: ClassVar[float] = 5.0
    auto: ClassVar[bool] = True  # False: only when asked (a button or `PIVOT_SOURCES`)
    third_party: ClassVar[bool] = True  # False: may be asked about internal indicators
    keys: ClassVar[tuple[str, ...]] = ()  # Settings attributes that must be set
    concurrency: ClassVar[int] = 8  # lookups in flight at once
    # kind -> source name: for these kinds, run only when that source did not answer "ok"
    # (WHOIS for IPs is a fallback for RDAP).
    fallback_of: ClassVar[Mapping[Kind, str]] = {}
    # True when a domain's answer holds for its whole registration (RDAP, WHOIS): the cache
    # then keys on the registrable domain, so www.x.pw and mail.x.pw share one lookup.
    per_registration: ClassVar[bool] = False
    # Kinds it serves through an address: for a domain, it is asked about the first address
    # the name resolved to on the same card (DNS's A records), and its facts come back as
    # `hosting_<fact>` (asn for a domain: the AS and network hosting the name).
    via_address: ClassVar[frozenset[Kind]] = frozenset()
    # Pivot ids (enrichment.pivots) it can answer with `reverse_lookup`: "reverse_ip",
    # "same_ns", "reverse_whois_email", ...
    reverse: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return all(getattr(settings, key, None) for key in cls.keys)

    def cache_subject(self, indicator: Indicator) -> str:
        if self.per_registration and indicator.kind is Kind.DOMAIN:
            return registered_domain(indicator.value) or indicator.value
        return indicator.value

    def accepts(self, indicator: Indicator) -> bool:
        return indicator.kind in self.kinds

    @abstractmethod
    async def lookup(self, indicator: Indicator) -> Finding:
        """Ask the upstream about `indicator`; raise `SourceError` subclasses on failure."""

    async def reverse_lookup(
        self, pivot: str, target: str, *, offset: int, limit: int
    ) -> RelatedPage:
        """One page of pivot `pivot` (an id in `reverse`) on `target`: a canonical indicator
        value (an address, a name server, an e-mail address) or a registrant's name or
        organisation as written; raises from `enrichment.errors` like `lookup`."""
        raise NotImplementedError(f"{self.name} does not answer {pivot}")
