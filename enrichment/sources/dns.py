"""DNS: the team's own resolvers (`PIVOT_DNS_SERVERS`, else the system's). No keys.

Domains: A, AAAA, MX, NS, TXT, SOA and CNAME, asked at once; for a subdomain the registrable
domain's NS and SOA too, since a subdomain rarely has its own. IPv4 and IPv6: PTR. The answer's
cache lifetime is the records' own TTL, clamped to [1 min, 1 day].

An NXDOMAIN is a finding only from a resolver that works: some (sandboxes, captive portals,
broken forwarders) answer NXDOMAIN for everything. Before reporting one, the source checks once
(remembered for `CANARY_TTL`) that the resolver resolves `PIVOT_DNS_CANARY`; if it cannot, the
answer is an unusable resolver, not a nonexistent name.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import dns.asyncresolver
import dns.name
import dns.rdata
import dns.reversename
from dns.rdtypes.ANY.SOA import SOA
from dns.rdtypes.mxbase import MXBase
from dns.rdtypes.nsbase import NSBase

from enrichment.errors import SourceError, SourceTimeout, Unavailable
from enrichment.indicators import registered_domain
from enrichment.model import Finding, Indicator, Kind
from enrichment.resolver import (
    MIN_TTL,
    Reply,
    ask,
    clamp_ttl,
    host_text,
    parse_name,
    txt_text,
)
from enrichment.sources.resolver_source import ResolverSource

DOMAIN_TYPES = ("A", "AAAA", "MX", "NS", "TXT", "SOA", "CNAME")
PARENT_TYPES = ("NS", "SOA")  # asked of the registrable domain when the name is below it
NXDOMAIN_DETAIL = "NXDOMAIN: no such domain"
CANARY_TTL = 300.0

Outcome = Reply | SourceError
Records = tuple[dns.rdata.Rdata, ...]
FactMaker = Callable[[Records], dict[str, Any]]


class DnsSource(ResolverSource):
    name = "dns"
    kinds = frozenset({Kind.DOMAIN, Kind.IPV4, Kind.IPV6})
    timeout = 4.0
    third_party = False  # the team's own resolver may be asked about internal names

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._canary: tuple[float, str | None] | None = None  # (until, why unusable)

    async def lookup(self, indicator: Indicator) -> Finding:
        if indicator.kind is Kind.DOMAIN:
            finding = await self._domain(indicator.value)
        else:
            finding = await self._ptr(indicator.value)
        if finding.detail and finding.detail.startswith("NXDOMAIN"):
            await self._check_resolver()
        return finding

    async def _check_resolver(self) -> None:
        """Unavailable when the resolver cannot resolve the canary (checked once a while)."""
        now = self.ctx.clock()
        if self._canary is None or self._canary[0] <= now:
            self._canary = (now + CANARY_TTL, await self._canary_problem())
        if self._canary[1]:
            raise Unavailable(self._canary[1])

    async def _canary_problem(self) -> str | None:
        canary = self.ctx.settings.dns_canary
        outcome = await self._try(parse_name(canary), "A")
        if isinstance(outcome, Reply) and outcome.records:
            return None
        return f"resolver unusable: it cannot resolve {canary}, so its NXDOMAIN means nothing"

    async def _try(self, name: dns.name.Name, rdtype: str) -> Outcome:
        try:
            return await ask(self.resolver, name, rdtype)
        except SourceError as exc:
            return exc

    async def _domain(self, value: str) -> Finding:
        name = parse_name(value)
        questions = [(name, t) for t in DOMAIN_TYPES]
        parent = _parent_of(value)
        if parent is not None:
            questions += [(parent, t) for t in PARENT_TYPES]
        outcomes = await asyncio.gather(*(self._try(n, t) for n, t in questions))
        own = dict(zip(DOMAIN_TYPES, outcomes, strict=False))
        above = dict(zip(PARENT_TYPES, outcomes[len(DOMAIN_TYPES) :], strict=False))
        return _domain_finding(own, above)

    async def _ptr(self, value: str) -> Finding:
        name = dns.reversename.from_address(str(ipaddress.ip_address(value)))
        reply = await ask(self.resolver, name, "PTR")
        if reply.nxdomain:
            return Finding({}, detail="NXDOMAIN: no PTR record", ttl=clamp_ttl(reply.ttl))
        return Finding(_FACTS["PTR"](reply.records), ttl=clamp_ttl(reply.ttl))


def _parent_of(value: str) -> dns.name.Name | None:
    parent = registered_domain(value)
    if parent is None or parent == value.rstrip(".").lower():
        return None
    return parse_name(parent)


def _sort_outcomes(
    outcomes: Mapping[str, Outcome],
) -> tuple[dict[str, Reply], dict[str, SourceError]]:
    replies = {t: o for t, o in outcomes.items() if isinstance(o, Reply)}
    failures = {t: o for t, o in outcomes.items() if isinstance(o, SourceError)}
    return replies, failures


def _domain_finding(own: Mapping[str, Outcome], above: Mapping[str, Outcome]) -> Finding:
    replies, failures = _sort_outcomes(own)
    if not replies:
        _raise_all_failed(failures)
    if any(r.nxdomain for r in replies.values()):
        ttl = min(r.ttl for r in replies.values() if r.nxdomain)
        return Finding({}, detail=NXDOMAIN_DETAIL, ttl=clamp_ttl(ttl))
    facts = _facts(replies)
    ttls = [r.ttl for r in replies.values()] + _from_parent(facts, above)
    ttl = MIN_TTL if failures else clamp_ttl(min(ttls))
    return Finding(facts, detail=_failure_detail(failures), ttl=ttl)


def _from_parent(facts: dict[str, Any], above: Mapping[str, Outcome]) -> list[int]:
    """The registrable domain's NS and SOA where the name has none of its own; their TTLs."""
    ttls = []
    for rdtype, key in (("NS", "name_servers"), ("SOA", "soa")):
        parent = above.get(rdtype)
        if key not in facts and isinstance(parent, Reply):
            facts.update(_facts({rdtype: parent}))
            ttls.append(parent.ttl)
    return ttls


def _raise_all_failed(failures: Mapping[str, SourceError]) -> NoReturn:
    if all(isinstance(f, SourceTimeout) for f in failures.values()):
        raise SourceTimeout("every DNS query timed out") from next(iter(failures.values()))
    raise Unavailable("DNS servers failed every query") from next(iter(failures.values()))


def _failure_detail(failures: Mapping[str, SourceError]) -> str | None:
    timed_out = [t for t, f in failures.items() if isinstance(f, SourceTimeout)]
    failed = [t for t, f in failures.items() if not isinstance(f, SourceTimeout)]
    parts = []
    if timed_out:
        parts.append("timed out: " + ", ".join(timed_out))
    if failed:
        parts.append("failed: " + ", ".join(failed))
    return "; ".join(parts) or None


def _facts(replies: Mapping[str, Reply]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for rdtype, reply in replies.items():
        if reply.records:
            facts.update(_FACTS[rdtype](reply.records))
    return facts


def _addresses(key: str) -> FactMaker:
    def make(records: Records) -> dict[str, Any]:
        ips = {ipaddress.ip_address(r.to_text()) for r in records}
        return {key: [str(ip) for ip in sorted(ips)]} if ips else {}

    return make


def _names(key: str) -> FactMaker:
    def make(records: Records) -> dict[str, Any]:
        names = sorted({host_text(r.target) for r in records if isinstance(r, NSBase)})
        return {key: names} if names else {}

    return make


def _cname(records: Records) -> dict[str, Any]:
    targets = [host_text(r.target) for r in records if isinstance(r, NSBase)]
    return {"cname": targets[0]} if targets else {}


def _mx(records: Records) -> dict[str, Any]:
    pairs = sorted(
        {(r.preference, host_text(r.exchange)) for r in records if isinstance(r, MXBase)}
    )
    pairs = [(pref, host) for pref, host in pairs if host]  # "0 ." is a null MX: no mail
    if not pairs:
        return {}
    hosts = list(dict.fromkeys(host for _, host in pairs))
    return {"mx": hosts, "mx_records": [{"preference": p, "host": h} for p, h in pairs]}


def _txt(records: Records) -> dict[str, Any]:
    return {"txt": sorted({txt_text(r) for r in records})}


def _soa(records: Records) -> dict[str, Any]:
    soas = [r for r in records if isinstance(r, SOA)]
    if not soas:
        return {}
    soa = soas[0]
    return {
        "soa": {"mname": host_text(soa.mname), "rname": host_text(soa.rname), "serial": soa.serial}
    }


_FACTS: dict[str, FactMaker] = {
    "A": _addresses("a"),
    "AAAA": _addresses("aaaa"),
    "MX": _mx,
    "NS": _names("name_servers"),
    "TXT": _txt,
    "SOA": _soa,
    "CNAME": _cname,
    "PTR": _names("ptr"),
}
