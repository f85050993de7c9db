"""The DNS resolver both DNS-based sources share, and the one way they ask it a question.

`make_resolver` builds a dnspython async resolver from `Settings.dns_servers` (the system's
resolvers when none are given), EDNS on; dnspython retries over TCP by itself when an answer
comes back truncated. `ask` runs one query and turns dnspython's outcomes into a `Reply` or
an error from `enrichment.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.resolver

from enrichment.errors import NotConfigured, SourceTimeout, Unavailable
from enrichment.settings import Settings

TRY_TIMEOUT = 1.5  # seconds for one try at one server
LIFETIME = 3.5  # seconds for one question, all tries included: under the sources' 4 s
MIN_TTL = 60
MAX_TTL = 86_400


def make_resolver(
    settings: Settings,
    *,
    timeout: float = TRY_TIMEOUT,
    lifetime: float = LIFETIME,
    resolv_conf: str = "/etc/resolv.conf",
) -> dns.asyncresolver.Resolver:
    """A resolver for `settings`; raises NotConfigured when the system has no resolvers."""
    if settings.dns_servers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(host, port) for host, port in settings.dns_servers
        ]
    else:
        try:
            resolver = dns.asyncresolver.Resolver(filename=resolv_conf)
        except (dns.resolver.NoResolverConfiguration, OSError) as exc:
            raise NotConfigured("no DNS resolvers configured (set PIVOT_DNS_SERVERS)") from exc
    resolver.timeout = min(timeout, lifetime)
    resolver.lifetime = lifetime
    resolver.use_edns(0, 0, 1232)
    resolver.use_search_by_default = False
    return resolver


def clamp_ttl(ttl: float) -> int:
    return int(min(max(ttl, MIN_TTL), MAX_TTL))


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer: its records (none for NODATA or NXDOMAIN) and how long it may be kept."""

    records: tuple[dns.rdata.Rdata, ...]
    ttl: int
    nxdomain: bool = False


def _negative_ttl(response: dns.message.Message | None) -> int:
    """RFC 2308: a negative answer lives as long as its SOA's TTL and minimum allow."""
    if response is None:
        return MIN_TTL
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            return int(min(rrset.ttl, rrset[0].minimum))
    return MIN_TTL


async def ask(
    resolver: dns.asyncresolver.Resolver,
    name: dns.name.Name,
    rdtype: str,
    *,
    lifetime: float | None = None,
) -> Reply:
    """Ask one question; raises SourceTimeout or Unavailable, chained to dnspython's error."""
    try:
        answer = await resolver.resolve(name, rdtype, raise_on_no_answer=False, lifetime=lifetime)
    except dns.resolver.NXDOMAIN as exc:
        responses: dict[dns.name.Name, dns.message.Message] = exc.responses()  # type: ignore[no-untyped-call]
        return Reply((), _negative_ttl(next(iter(responses.values()), None)), nxdomain=True)
    except dns.exception.Timeout as exc:
        raise SourceTimeout(f"DNS {rdtype} query timed out") from exc
    except dns.resolver.NoNameservers as exc:
        raise Unavailable(f"DNS servers failed the {rdtype} query (SERVFAIL or refused)") from exc
    except (dns.exception.DNSException, OSError) as exc:
        raise Unavailable(f"DNS {rdtype} query failed ({type(exc).__name__})") from exc
    records = tuple(answer.rrset) if answer.rrset is not None else ()
    return Reply(records, int(answer.chaining_result.minimum_ttl))


def parse_name(text: str) -> dns.name.Name:
    """An absolute DNS name from an indicator's value; Unavailable if DNS cannot hold it."""
    try:
        return dns.name.from_text(text.rstrip(".") + ".")
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise Unavailable("not a name DNS can look up") from exc


def host_text(name: dns.name.Name) -> str:
    """A name as facts show it: lower case, no trailing dot; the root is ""."""
    return "" if name == dns.name.root else name.to_text(omit_final_dot=True).lower()


def txt_text(rdata: dns.rdata.Rdata) -> str:
    """A TXT record's strings joined; outside bytes decoded without trusting them."""
    strings: tuple[bytes, ...] = getattr(rdata, "strings", ())
    return b"".join(strings).decode("utf-8", errors="replace")
