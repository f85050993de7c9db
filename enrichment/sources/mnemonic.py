"""mnemonic PassiveDNS: the addresses a name resolved to, and the names an address served.

Kinds: domain (`pdns_addresses`), ipv4 and ipv6 (`pdns_names`): lists of {"value",
"first_seen", "last_seen"} (ISO dates), the most recently seen first, capped at `MAX_ITEMS`.
Reverse lookup: `reverse_ip`, the names whose A/AAAA answer was the address, paged with the
API's own offset and limit, the total from its `count`. No key needed, but the anonymous
quota is small, so it runs only when asked (`auto = False`); an optional MNEMONIC_API_KEY
(Settings `mnemonic_api_key`) is sent as the `Argus-API-Key` header.
`GET <base>/pdns/v3/<query>?limit=&offset=[&rrType=]`, base from PIVOT_MNEMONIC_URL, default
https://api.mnemonic.no. Quota answers (HTTP 402, 412 or 429, or a responseCode or message
saying the resource limit is exceeded) are RateLimited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from enrichment.errors import InvalidInput, RateLimited, Unavailable
from enrichment.http import request
from enrichment.indicators import make_indicator
from enrichment.model import Finding, Indicator, Kind
from enrichment.sources.base import Related, RelatedPage, Source, target_kind
from enrichment.text import one_line

DEFAULT_URL = "https://api.mnemonic.no"
MAX_BODY = 4 * 1024 * 1024
LOOKUP_LIMIT = 200  # records a card asks for
MAX_ITEMS = 50  # resolutions a card keeps
PAGE_MAX = 1000  # the largest `limit` the anonymous API accepts
QUOTA_CODES = frozenset({402, 412, 429})
_LAST_MS = 32_503_680_000_000  # year 3000: later timestamps are garbage
_ADDRESS_TYPES = {Kind.IPV4: "A", Kind.IPV6: "AAAA"}


@dataclass(frozen=True, slots=True)
class Seen:
    """One value seen in passive DNS, with when (Unix seconds)."""

    value: str
    first: float
    last: float

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "first_seen": _iso(self.first), "last_seen": _iso(self.last)}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


def _seconds(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < _LAST_MS
    return value / 1000.0 if ok else None


def _valid(kind: Kind, value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 260:
        return None
    try:
        return make_indicator(kind, value.rstrip(".")).value
    except InvalidInput:
        return None


def _address(value: Any) -> str | None:
    return _valid(Kind.IPV4, value) or _valid(Kind.IPV6, value)


def _resolution(record: Any) -> tuple[str, str, float, float] | None:
    """(name, address, first, last) of an A or AAAA record; None for anything else."""
    if not isinstance(record, dict) or str(record.get("rrtype")).lower() not in ("a", "aaaa"):
        return None
    name, address = _valid(Kind.DOMAIN, record.get("query")), _address(record.get("answer"))
    first = _seconds(record.get("firstSeenTimestamp"))
    last = _seconds(record.get("lastSeenTimestamp"))
    if not (name and address and first is not None and last is not None):
        return None
    return name, address, min(first, last), max(first, last)


def seen(records: Any, subject: str) -> list[Seen]:
    """The addresses `subject` (a name) resolved to, or the names that resolved to `subject`
    (an address): one entry per value, the most recently seen first."""
    merged: dict[str, Seen] = {}
    for record in records if isinstance(records, list) else ():
        found = _resolution(record)
        if found is None or subject not in found[:2]:
            continue
        name, address, first, last = found
        value = address if subject == name else name
        old = merged.get(value)
        if old:
            first, last = min(first, old.first), max(last, old.last)
        merged[value] = Seen(value, first, last)
    return sorted(merged.values(), key=lambda s: (-s.last, s.value))


def _reason(doc: Any) -> str | None:
    messages = doc.get("messages") if isinstance(doc, dict) else None
    for message in messages if isinstance(messages, list) else ():
        text = message.get("message") if isinstance(message, dict) else None
        if isinstance(text, str) and text.strip():
            return one_line(text, 160)
    return None


def _limited(status: int, code: Any, message: str | None) -> bool:
    if status in QUOTA_CODES or code in QUOTA_CODES:
        return True
    return bool(message and "limit" in message.lower() and (status, code) != (200, 200))


def _load(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):  # RecursionError: absurdly nested hostile JSON
        return None


def _check(status: int, doc: Any) -> None:
    """Raise what a failed answer means: a quota, or a refusal or fault of the service."""
    code = doc.get("responseCode") if isinstance(doc, dict) else None
    message = _reason(doc)
    if _limited(status, code, message):
        raise RateLimited(f"mnemonic: {message or 'resource limit exceeded'}")
    if status != 404 and (status != 200 or code not in (None, 200)):
        what = f"HTTP {status}" if status != 200 else f"responseCode {code}"
        raise Unavailable(f"{what}: {message}" if message else what)


def judge(status: int, body: bytes) -> dict[str, Any]:
    """The answer's container (404: an empty one); our errors for everything else."""
    doc = _load(body)
    _check(status, doc)
    if status == 404:
        return {"count": 0, "data": []}
    if not isinstance(doc, dict):
        raise Unavailable("answer was not JSON" if doc is None else "answer was not an object")
    return doc


class MnemonicSource(Source):
    name = "mnemonic"
    kinds = frozenset({Kind.DOMAIN, Kind.IPV4, Kind.IPV6})
    ttl = 24 * 3600.0
    timeout = 8.0
    auto = False
    third_party = True
    reverse = frozenset({"reverse_ip"})

    async def lookup(self, indicator: Indicator) -> Finding:
        rrtype = _ADDRESS_TYPES.get(indicator.kind)
        doc = await self._query(indicator.value, LOOKUP_LIMIT, 0, rrtype)
        found = seen(doc.get("data"), indicator.value)
        if not found:
            return Finding({}, detail="mnemonic has seen no resolutions")
        key = "pdns_names" if rrtype else "pdns_addresses"
        facts = {key: [s.to_json() for s in found[:MAX_ITEMS]]}
        total = len(found)
        detail = f"the {MAX_ITEMS} most recent of {total}" if total > MAX_ITEMS else None
        return Finding(facts, detail=detail)

    async def reverse_lookup(
        self, pivot: str, target: str, *, offset: int, limit: int
    ) -> RelatedPage:
        kind = target_kind(target)
        rrtype = _ADDRESS_TYPES.get(kind)
        if pivot not in self.reverse:
            return await super().reverse_lookup(pivot, target, offset=offset, limit=limit)
        if rrtype is None:
            raise InvalidInput(f"{pivot} does not start from a {kind.value}")
        # limit=0 asks the API for everything: a count-only request asks for one record
        size = min(max(limit, 1), PAGE_MAX)
        doc = await self._query(target, size, max(offset, 0), rrtype)
        found = seen(doc.get("data"), target)[: max(limit, 0)]
        items = tuple(Related(s.value, Kind.DOMAIN, s.first, s.last) for s in found)
        count = doc.get("count")
        ok = isinstance(count, int) and not isinstance(count, bool) and count >= 0
        return RelatedPage(items, count if ok else None)

    async def _query(
        self, value: str, limit: int, offset: int, rrtype: str | None
    ) -> dict[str, Any]:
        base = self.ctx.settings.url_for(self.name, DEFAULT_URL).rstrip("/")
        params = {"limit": str(limit), "offset": str(offset)}
        if rrtype:
            params["rrType"] = rrtype
        key = self.ctx.settings.mnemonic_api_key
        headers = {"Argus-API-Key": str(key)} if key else {}
        url = f"{base}/pdns/v3/{value}"
        status, body = await request(
            self.ctx.http, "GET", url, params=params, headers=headers, max_bytes=MAX_BODY
        )
        return judge(status, body)
