"""Which indicators must never leave the team: private, reserved and special-use space, plus
the team's own networks and domains from settings.

This is the one place the decision is made: the service asks `internal_reason` once per
indicator, and a URL or an e-mail address is judged by its host as well as by itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from enrichment.addresses import network_reason, parse_address, parse_network, special_reason
from enrichment.indicators import in_zone, lookup_target
from enrichment.model import Indicator, Kind
from enrichment.settings import Settings

# Special-use names (RFC 6761, 6762, 8375, 9476 and common private conventions).
SPECIAL_USE_ZONES = (
    "local",
    "localhost",
    "internal",
    "intranet",
    "corp",
    "lan",
    "home",
    "home.arpa",
    "test",
    "invalid",
    "example",
    "onion",
    "alt",
    "private",
)


def _address_reason(text: str, settings: Settings) -> str | None:
    ip = parse_address(text)
    return special_reason(ip, settings.internal_networks) if ip is not None else None


def _network_reason(text: str, settings: Settings) -> str | None:
    network = parse_network(text)
    return network_reason(network, settings.internal_networks) if network is not None else None


def _name_reason(name: str, settings: Settings) -> str | None:
    if in_zone(name, settings.internal_domains):
        return "internal domain"
    if in_zone(name, SPECIAL_USE_ZONES):
        return "special-use name"
    return None


def _own_reason(indicator: Indicator, settings: Settings) -> str | None:
    kind, value = indicator.kind, indicator.value
    if kind in (Kind.IPV4, Kind.IPV6):
        return _address_reason(value, settings)
    if kind is Kind.CIDR:
        return _network_reason(value, settings)
    if kind is Kind.DOMAIN:
        return _name_reason(value, settings)
    return None


def internal_reason(indicator: Indicator, settings: Settings) -> str | None:
    """Why `indicator` must stay inside, or None when third parties may see it. A URL is
    judged by its host (an IP or a name); an e-mail address by its domain."""
    target = lookup_target(indicator)
    if indicator.kind in (Kind.URL, Kind.EMAIL):
        return _own_reason(target, settings) if target is not indicator else "host not readable"
    return _own_reason(indicator, settings)


def host_reason(host: str, settings: Settings) -> str | None:
    """Why a host named in an upstream answer (an RDAP link, a redirect) must not be reached:
    an address judged as above, or a special-use or internal name."""
    host = host.strip().strip("[]").lower()
    if not host:
        return "no host"
    if parse_address(host) is not None:
        return _address_reason(host, settings)
    return _name_reason(host, settings)


def allowlisted(indicator: Indicator, allowlist: Sequence[str]) -> bool:
    """A domain, or a URL or e-mail address whose host is a domain, in or below one of the
    team's allowlisted domains (`PIVOT_ALLOWLIST`): never enriched automatically, never
    scored high by its neighbours alone."""
    target = lookup_target(indicator)
    return target.kind is Kind.DOMAIN and in_zone(target.value, allowlist)
