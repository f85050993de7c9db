"""Team Cymru IP to ASN over DNS, through the team's resolvers (`PIVOT_DNS_SERVERS`). No keys.

IPv4 and IPv6. `<reversed octets>.origin.asn.cymru.com` (nibbles under `origin6` for IPv6)
answers TXT "ASN [ASN...] | prefix | CC | registry | allocated", one record per announced
prefix; the most specific prefix wins. `AS<n>.asn.cymru.com` answers TXT
"ASN | CC | registry | allocated | AS-NAME - Description, CC". Cymru's data is BGP, refreshed
every four hours: not geolocation.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver
import dns.name
import dns.reversename

from enrichment.errors import SourceError
from enrichment.model import Finding, Indicator, Kind
from enrichment.resolver import Reply, ask, txt_text
from enrichment.sources.resolver_source import ResolverSource
from enrichment.text import country_code, one_line

ORIGIN4 = dns.name.from_text("origin.asn.cymru.com.")
ORIGIN6 = dns.name.from_text("origin6.asn.cymru.com.")
ASN_ZONE = dns.name.from_text("asn.cymru.com.")
MIN_LIFETIME = 0.2
PARTIAL_TTL = 300.0  # when the AS name could not be had, ask again soon
_REGISTRY = re.compile(r"[a-z]{2,10}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_NAME = 200

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Origin:
    """One "ASN | prefix | CC | registry | allocated" record."""

    asns: tuple[int, ...]
    network: IpNetwork
    country: str | None
    registry: str | None
    allocated: str | None


class AsnSource(ResolverSource):
    name = "asn"
    kinds = frozenset({Kind.IPV4, Kind.IPV6})
    via_address = frozenset({Kind.DOMAIN})
    ttl = 4 * 3600.0
    timeout = 4.0
    third_party = True

    async def lookup(self, indicator: Indicator) -> Finding:
        ip = ipaddress.ip_address(indicator.value)
        started = self.ctx.clock()
        reply = await ask(self.resolver, origin_name(ip), "TXT")
        if reply.nxdomain:
            return Finding({}, detail="NXDOMAIN: not in any announced prefix")
        origin = most_specific(ip, reply)
        if origin is None:
            return Finding({}, detail="no announced prefix holds this address")
        facts = origin_facts(origin)
        try:
            as_name = await self._as_name(origin.asns[0], self._left(started))
        except SourceError as exc:
            return Finding(facts, detail=f"AS name: {exc}", ttl=PARTIAL_TTL)
        if as_name:
            facts["as_name"] = as_name
        return Finding(facts)

    def _left(self, started: float) -> float:
        """What remains of one resolver lifetime, so both questions fit in the timeout."""
        spent = self.ctx.clock() - started
        return max(MIN_LIFETIME, float(self.resolver.lifetime) - spent)

    async def _as_name(self, asn: int, lifetime: float) -> str | None:
        name = dns.name.from_text(f"AS{asn}", origin=ASN_ZONE)
        reply = await ask(self.resolver, name, "TXT", lifetime=lifetime)
        names = [parse_as_name(asn, txt_text(r)) for r in reply.records]
        return next((n for n in names if n), None)


def origin_name(ip: IpAddress) -> dns.name.Name:
    """`d.c.b.a.origin.asn.cymru.com` or the 32 reversed nibbles under `origin6`."""
    if ip.version == 4:
        return dns.reversename.from_address(str(ip), v4_origin=ORIGIN4)
    return dns.reversename.from_address(str(ip), v6_origin=ORIGIN6)


def parse_origin(text: str) -> Origin | None:
    fields = [f.strip() for f in text.split("|")]
    if len(fields) < 2:
        return None
    try:
        asns = tuple(int(a) for a in fields[0].split())
        network = ipaddress.ip_network(fields[1], strict=False)
    except ValueError:
        return None
    if not asns or any(not 0 < a < 2**32 for a in asns):
        return None
    country, registry, allocated = [*fields[2:5], "", "", ""][:3]
    return Origin(
        asns=asns,
        network=network,
        country=country_code(country),
        registry=registry.lower() if _REGISTRY.fullmatch(registry.lower()) else None,
        allocated=allocated if _DATE.fullmatch(allocated) else None,
    )


def _origins(reply: Reply) -> list[Origin]:
    return [o for o in map(parse_origin, map(txt_text, reply.records)) if o]


def _holds(network: IpNetwork, ip: IpAddress) -> bool:
    return network.version == ip.version and ip in network


def most_specific(ip: IpAddress, reply: Reply) -> Origin | None:
    """The longest announced prefix holding `ip`, with every origin AS announcing it."""
    holding = [o for o in _origins(reply) if _holds(o.network, ip)]
    if not holding:
        return None
    best = max(o.network.prefixlen for o in holding)
    same = [o for o in holding if o.network.prefixlen == best]
    asns = tuple(dict.fromkeys(a for o in same for a in o.asns))
    return Origin(asns, same[0].network, same[0].country, same[0].registry, same[0].allocated)


def origin_facts(origin: Origin) -> dict[str, Any]:
    facts: dict[str, Any] = {"asn": origin.asns[0], "network": str(origin.network)}
    if len(origin.asns) > 1:
        facts["asns"] = sorted(origin.asns)
    optional = {
        "country": origin.country,
        "registry": origin.registry,
        "allocated": origin.allocated,
    }
    facts.update({k: v for k, v in optional.items() if v})
    return facts


def parse_as_name(asn: int, text: str) -> str | None:
    """The name field of "ASN | CC | registry | allocated | NAME", for `asn` only."""
    fields = text.split("|", 4)
    if len(fields) < 5 or fields[0].strip() != str(asn):
        return None
    return one_line(fields[4], MAX_NAME) or None
