"""Shodan InternetDB: open ports, host names, tags, CPEs and known vulnerabilities of an IP.

Kinds: ipv4, ipv6. No key (`GET <base>/<ip>`, base from `PIVOT_INTERNETDB_URL`, default
https://internetdb.shodan.io). A 404 ("No information available") is an empty answer.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from enrichment.errors import Unavailable
from enrichment.http import get_json
from enrichment.model import Finding, Indicator, Kind
from enrichment.sources.base import Source
from enrichment.text import is_token

DEFAULT_URL = "https://internetdb.shodan.io"
MAX_BODY = 1024 * 1024
MAX_ITEMS = 500
MAX_TEXT = 255


def _ports(value: Any) -> list[int]:
    items = value if isinstance(value, list) else []
    ports = {p for p in items if isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536}
    return sorted(ports)[:MAX_ITEMS]


def _strings(value: Any, *, lower: bool = False) -> list[str]:
    """Sorted distinct short strings without spaces or control characters."""
    items = value if isinstance(value, list) else []
    out = set()
    for item in items[: MAX_ITEMS * 4]:
        if is_token(item, MAX_TEXT):
            out.add(item.lower() if lower else item)
    return sorted(out)[:MAX_ITEMS]


def internetdb_facts(doc: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "ports": _ports(doc.get("ports")),
        "hostnames": _strings(doc.get("hostnames"), lower=True),
        "tags": _strings(doc.get("tags")),
        "vulns": _strings(doc.get("vulns")),
        "cpes": _strings(doc.get("cpes")),
    }
    return {key: value for key, value in facts.items() if value}


class InternetDbSource(Source):
    name = "internetdb"
    kinds = frozenset({Kind.IPV4, Kind.IPV6})
    ttl = 24 * 3600.0
    timeout = 5.0
    auto = True
    third_party = True

    async def lookup(self, indicator: Indicator) -> Finding:
        try:
            address = ipaddress.ip_address(indicator.value)
        except ValueError as exc:
            raise Unavailable("not an IP address") from exc
        base = self.ctx.settings.url_for(self.name, DEFAULT_URL).rstrip("/")
        doc = await get_json(self.ctx.http, f"{base}/{address}", max_bytes=MAX_BODY)
        if doc is None:
            return Finding({}, detail="no information available")
        facts = internetdb_facts(doc)
        return Finding(facts, detail=None if facts else "nothing observed")
