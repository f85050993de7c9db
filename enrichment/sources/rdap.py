"""RDAP (RFC 9082/9083): registration data for domains, IP networks and autonomous systems.

Kinds: domain, ipv4, ipv6, cidr (asked about its network address). No keys. Every query goes
to `PIVOT_RDAP_URL` when set, else to the service IANA's bootstrap names (shipped with the
package, see `enrichment.rdap.bootstrap`). A thin registry's "related" link to the registrar's RDAP
record is followed once, for the registrant; withheld registrant data becomes `redacted: True`.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from enrichment.errors import NotConfigured, SourceError, Unavailable
from enrichment.http import get_json
from enrichment.indicators import registered_domain
from enrichment.model import Finding, Indicator, Kind
from enrichment.outbound import public_addresses
from enrichment.privacy import host_reason
from enrichment.rdap import bootstrap
from enrichment.rdap.parse import autnum_facts, domain_facts, network_facts, related_links
from enrichment.sources.base import Context, Source

MAX_BODY = 2 * 1024 * 1024


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _registrable(name: str) -> str:
    """The name a registry knows: `www.qpdar.pw` -> `qpdar.pw`."""
    return registered_domain(name) or name


class RdapSource(Source):
    name = "rdap"
    kinds = frozenset({Kind.DOMAIN, Kind.IPV4, Kind.IPV6, Kind.CIDR})
    ttl = 24 * 3600.0
    timeout = 6.0
    auto = True
    third_party = True
    per_registration = True

    def __init__(self, ctx: Context, *, bootstrap_dir: Path | None = None) -> None:
        super().__init__(ctx)
        self.bootstrap_dir = bootstrap_dir or bootstrap.PACKAGED

    async def lookup(self, indicator: Indicator) -> Finding:
        if indicator.kind is Kind.DOMAIN:
            return await self._domain(_registrable(indicator.value))
        return await self._network(indicator.value)

    async def autnum(self, number: int) -> dict[str, Any]:
        """Facts about AS `number` (`asn`, `as_name`, `handle`, `country`, `abuse_email`);
        empty when the registry does not know it."""
        base = self._base(lambda b: b.asn_url(number), f"AS{number}")
        doc = await self._get(f"{base}autnum/{number}")
        return autnum_facts(doc) if doc is not None else {}

    # -- routing ----------------------------------------------------------------------------

    def _base(self, choose: Callable[[bootstrap.Bootstrap], str | None], what: str) -> str:
        override = self.ctx.settings.rdap_url
        if override:
            return override.rstrip("/") + "/"
        base = choose(bootstrap.load(self.bootstrap_dir))
        if base is None:
            # not a failure: .ru and others run WHOIS only, so the card says "skipped"
            raise NotConfigured(f"no RDAP service for {what}")
        return base

    async def _get(self, url: str) -> Any:
        """The parsed answer, or None for 404. Other statuses and non-JSON are Unavailable."""
        return await get_json(self.ctx.http, url, max_bytes=MAX_BODY)

    # -- domains ----------------------------------------------------------------------------

    async def _domain(self, name: str) -> Finding:
        tld = name.rpartition(".")[2]
        base = self._base(lambda b: b.domain_url(name), f".{tld}")
        doc = await self._get(f"{base}domain/{quote(name)}")
        if doc is None:
            return Finding({}, detail="not registered (404)")
        facts = domain_facts(doc)
        registrar, note = await self._registrar(doc, base)
        if registrar is not None:
            facts = _merge(facts, domain_facts(registrar))
        return Finding(facts, detail=note)

    async def _registrar(self, doc: Any, base: str) -> tuple[Any, str | None]:
        """The registrar's record behind a thin registry's "related" link: one hop, bounded."""
        links = [u for u in related_links(doc) if self._may_follow(u, base)]
        if not links:
            return None, None
        try:
            async with asyncio.timeout(self.timeout / 2):
                await self._check_host(links[0], base)
                return await self._get(links[0]), None
        except (SourceError, TimeoutError) as exc:
            return None, f"registrar RDAP: {exc or 'timed out'}"

    def _may_follow(self, url: str, base: str) -> bool:
        """Same origin as the registry; else, without an override, HTTPS only."""
        scheme, netloc = _origin(url)
        if scheme not in ("http", "https") or not netloc:
            return False
        if (scheme, netloc) == _origin(base):
            return True
        return not self.ctx.settings.rdap_url and scheme == "https"

    async def _check_host(self, url: str, base: str) -> None:
        """Another origin must be a public host whose every address is public, judged by
        where the name points now (Unavailable otherwise), and not one of the team's."""
        if _origin(url) == _origin(base):
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        reason = host_reason(host, self.ctx.settings)
        if reason:
            raise Unavailable(f"link to {host} not followed: {reason}")
        await public_addresses(host, parts.port or 443)

    # -- networks ---------------------------------------------------------------------------

    async def _network(self, value: str) -> Finding:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise Unavailable("not an IP address or network") from exc
        address = str(network.network_address)
        base = self._base(lambda b: b.ip_url(value), value)
        doc = await self._get(f"{base}ip/{address}")
        if doc is None:
            return Finding({}, detail="no registered network (404)")
        return Finding(network_facts(doc, value))


def _merge(registry: dict[str, Any], registrar: dict[str, Any]) -> dict[str, Any]:
    """The registry's facts, with the registrar's view of the registrant (it holds the data)."""
    registrant = {k: v for k, v in registrar.items() if k.startswith("registrant_")}
    if registrant or "redacted" in registrar:
        registry = {k: v for k, v in registry.items() if not k.startswith("registrant_")}
        registry.pop("redacted", None)
    merged = {**registrar, **registry, **registrant}
    if "redacted" in registrar:
        merged["redacted"] = registrar["redacted"]
    return merged
