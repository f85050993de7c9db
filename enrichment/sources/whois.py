"""WHOIS over port 43: domains, and IPv4/IPv6 as a fallback when RDAP did not answer.

Service: IANA names the registry (or the regional registry for an IP), the registry answers,
and one registrar referral completes a thin registry's record (`enrichment.whois.client`);
python-whois reads the text (`enrichment.whois.parse`). No keys. `PIVOT_WHOIS_SERVER` points
every query at one server: no IANA step, no referrals. The raw answers, each headed by the
server that gave it, stay in `Finding.raw` for the raw-WHOIS button.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

from enrichment.errors import Unavailable
from enrichment.indicators import registered_domain
from enrichment.model import Finding, Indicator, Kind
from enrichment.settings import Settings
from enrichment.sources.base import Context, Source
from enrichment.whois.client import MAX_BYTES, WhoisAnswer, WhoisClient, WhoisResult
from enrichment.whois.parse import Parsed, parse_domain, parse_ip

QUERY_TIMEOUT = 3.0  # per server, so a hung registrar still leaves time to keep the registry
GAP = 1.0  # seconds between two queries to one server
YOUNG = timedelta(days=7)
YOUNG_TTL = 3 * 3600.0  # a days-old domain changes fast: ask again sooner
_CUT = f"{MAX_BYTES // 1024} KiB"


def make_client(settings: Settings) -> WhoisClient:
    """The production client. A loopback fixed server is ours: no spacing needed there."""
    server = settings.whois_server
    gap = 0.0 if server is not None and _loopback(server[0]) else GAP
    return WhoisClient(server=server, timeout=QUERY_TIMEOUT, gap=gap)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WhoisSource(Source):
    name = "whois"
    kinds = frozenset({Kind.DOMAIN, Kind.IPV4, Kind.IPV6})
    ttl = 24 * 3600.0
    timeout = 8.0
    fallback_of: ClassVar[Mapping[Kind, str]] = {Kind.IPV4: "rdap", Kind.IPV6: "rdap"}
    per_registration = True

    def __init__(self, ctx: Context, *, client: WhoisClient | None = None) -> None:
        super().__init__(ctx)
        self.client = client or make_client(ctx.settings)

    async def lookup(self, indicator: Indicator) -> Finding:
        if indicator.kind is Kind.DOMAIN:
            name = registered_domain(indicator.value) or indicator.value
            result = await self.client.domain(name)
            texts = [answer.text for answer in result.answers]
            parsed = await asyncio.to_thread(parse_domain, name, texts)
        else:
            result = await self.client.ip(indicator.value)
            parsed = await asyncio.to_thread(parse_ip, indicator.value, result.answers[0].text)
        return _finding(indicator.value, result, parsed)


def _finding(subject: str, result: WhoisResult, parsed: Parsed) -> Finding:
    raw = render_raw(result.answers)
    server = result.answers[0].server
    if parsed.not_found:
        return Finding({}, detail=f"{server} has no record of {subject}", raw=raw)
    if not parsed.facts:
        raise Unavailable(f"{server} sent an answer with nothing readable in it")
    notes = [*result.notes, *parsed.notes]
    notes += [f"{a.server}'s answer was cut at {_CUT}" for a in result.answers if a.truncated]
    ttl = YOUNG_TTL if _young(parsed.facts.get("created")) else None
    return Finding(parsed.facts, detail="; ".join(notes) or None, raw=raw, ttl=ttl)


def render_raw(answers: Sequence[WhoisAnswer]) -> str:
    """Every answer, each headed by the server that gave it."""
    return "\n\n".join(_headed(a) for a in answers)


def _headed(answer: WhoisAnswer) -> str:
    tail = f"\n% [answer cut at {_CUT}]" if answer.truncated else ""
    return f"% {answer.server}\n{answer.text.strip()}{tail}"


def _young(created: object) -> bool:
    if not isinstance(created, str):
        return False
    try:
        day = date.fromisoformat(created)
    except ValueError:
        return False
    return datetime.now(UTC).date() - day < YOUNG
