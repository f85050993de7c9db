"""crt.sh certificate transparency search: the subdomains certificates were issued for.

Kinds: domain. No key (`GET <base>/?q=%.<domain>&output=json`, base from `PIVOT_CRTSH_URL`,
default https://crt.sh). Slow and easily overloaded, so it runs only when asked
(`auto = False`: the subdomains pivot, which it answers beside the team's index) and is
cached for a day.
"""

from __future__ import annotations

import re
from typing import Any

from enrichment.http import get_json
from enrichment.model import Finding, Indicator, Kind
from enrichment.sources.base import Related, RelatedPage, Source

DEFAULT_URL = "https://crt.sh"
MAX_BODY = 32 * 1024 * 1024  # popular domains have tens of thousands of certificates
MAX_SUBDOMAINS = 2_000
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _names(entry: Any) -> list[str]:
    """Each SAN in one certificate entry, lower case, without "*." or a trailing dot."""
    value = entry.get("name_value") if isinstance(entry, dict) else None
    if not isinstance(value, str):
        return []
    out = []
    for line in value.split("\n"):
        name = line.strip().lower().rstrip(".")
        while name.startswith("*."):
            name = name[2:]
        out.append(name)
    return out


def _is_subdomain(name: str, domain: str) -> bool:
    if len(name) > 253 or not name.endswith("." + domain):
        return False
    return all(_LABEL.fullmatch(label) for label in name[: -len(domain) - 1].split("."))


def subdomains(entries: list[Any], domain: str) -> list[str]:
    """Distinct names strictly under `domain`, sorted."""
    found = {n for entry in entries for n in _names(entry) if _is_subdomain(n, domain)}
    return sorted(found)


class CrtshSource(Source):
    name = "crtsh"
    kinds = frozenset({Kind.DOMAIN})
    ttl = 24 * 3600.0
    timeout = 20.0
    auto = False
    third_party = True
    reverse = frozenset({"subdomains"})

    async def reverse_lookup(
        self, pivot: str, target: str, *, offset: int, limit: int
    ) -> RelatedPage:
        facts = (await self.lookup(Indicator(Kind.DOMAIN, target, target))).facts
        names = list(facts.get("subdomains") or [])
        page = names[offset : offset + limit]
        total = facts.get("subdomain_count", len(names))
        return RelatedPage(tuple(Related(n, Kind.DOMAIN) for n in page), int(total))

    async def lookup(self, indicator: Indicator) -> Finding:
        domain = indicator.value.lower().rstrip(".")
        base = self.ctx.settings.url_for(self.name, DEFAULT_URL).rstrip("/")
        params = {"q": f"%.{domain}", "output": "json"}
        entries = await get_json(
            self.ctx.http, f"{base}/", shape=list, params=params, max_bytes=MAX_BODY
        )
        if not entries:
            return Finding({}, detail="no certificates")
        return _finding(subdomains(entries, domain), len(entries))


def _finding(names: list[str], certificates: int) -> Finding:
    if not names:
        return Finding({}, detail=f"no subdomains in {certificates} certificate entries")
    facts = {"subdomains": names[:MAX_SUBDOMAINS], "subdomain_count": len(names)}
    detail = None
    if len(names) > MAX_SUBDOMAINS:
        detail = f"showing the first {MAX_SUBDOMAINS:,} of {len(names):,} subdomains"
    return Finding(facts, detail=detail)
