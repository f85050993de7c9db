"""Keys the index stores beside values: an address's neighbourhood (its /24 or /64) and
fixed-width address keys, so that text comparison orders addresses as numbers do."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterator, Sequence
from typing import TypeVar

from enrichment.addresses import parse_address, parse_network
from enrichment.index.model import Observation, Relation
from enrichment.indicators import url_host

T = TypeVar("T")
CHUNK = 500  # values per IN (...) list: well under SQLite's bound on parameters
NEIGHBOURHOOD = {4: 24, 6: 64}


@functools.lru_cache(maxsize=65_536)  # on every A/AAAA row written; addresses repeat
def neighbourhood(value: str) -> str | None:
    """The /24 (IPv4) or /64 (IPv6) holding an address; None for anything else."""
    head, dot, last = value.rpartition(".")
    if dot and last.isdigit() and head.count(".") == 2 and head.replace(".", "").isdigit():
        # a canonical dotted quad (the index holds canonical values): text is enough, and
        # ten times faster than parsing, which bulk imports of millions of rows feel
        return f"{head}.0/24"
    ip = parse_address(value)
    if ip is None:
        return None
    prefix = NEIGHBOURHOOD[ip.version]
    host_bits = ip.max_prefixlen - prefix
    first = (int(ip) >> host_bits) << host_bits
    address = ipaddress.IPv4Address(first) if ip.version == 4 else ipaddress.IPv6Address(first)
    return f"{address}/{prefix}"


def observation_row(o: Observation) -> tuple[object, ...]:
    """An observation as both backends store it: its fields, then the neighbourhood of the
    address an A/AAAA record points to (None for every other relation)."""
    near = neighbourhood(o.object) if o.relation in (Relation.A, Relation.AAAA) else None
    fields = (o.subject, o.subject_kind, o.relation.value, o.object, o.object_kind, o.source)
    return (*fields, o.first_seen, o.last_seen, o.times_seen, near)


def _key(version: int, number: int) -> str:
    width = 8 if version == 4 else 32
    return f"{version}:{number:0{width}x}"


def address_key(value: str) -> str | None:
    ip = parse_address(value)
    return None if ip is None else _key(ip.version, int(ip))


def network_keys(value: str) -> tuple[str | None, str | None]:
    """First and last address keys of a listed CIDR; (None, None) for any other value."""
    if "/" not in value:
        return None, None
    net = parse_network(value)
    if net is None:
        return None, None
    first, last = int(net.network_address), int(net.broadcast_address)
    return _key(net.version, first), _key(net.version, last)


def listed_host(url: str) -> str | None:
    """The host of a listed URL, lower-case, so a domain's card finds the URLs it serves."""
    host = url_host(url)
    return host.lower().rstrip(".") if host else None


def page(offset: int, limit: int) -> tuple[int, int]:
    """(offset, limit) clamped at zero: SQLite reads a negative LIMIT as "no limit" and
    PostgreSQL refuses one; both backends answer an empty page instead."""
    return max(0, int(offset)), max(0, int(limit))


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
