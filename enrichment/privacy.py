"""Which indicators must never leave the team: private, reserved and special-use space, plus
the team's own networks and domains from settings."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from enrichment.model import Indicator, Kind
from enrichment.settings import Settings

# Special-use names (RFC 6761, 6762, 8375, 9476 and common private conventions).
_PRIVATE_SUFFIXES = (
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
# CGNAT is not "private" to the ipaddress module but is never internet-routable.
_EXTRA_NETWORKS = (ipaddress.ip_network("100.64.0.0/10"),)


def _internal_ip(text: str, settings: Settings) -> str | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if any(ip in net for net in settings.internal_networks if net.version == ip.version):
        return "internal network"
    if any(ip in net for net in _EXTRA_NETWORKS if net.version == ip.version):
        return "shared address space (CGNAT)"
    if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast:
        return "private or special-use address"
    if ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "reserved address"
    return None


def _internal_name(name: str, settings: Settings) -> str | None:
    name = name.lower().rstrip(".")
    for suffix in settings.internal_domains:
        if name == suffix or name.endswith("." + suffix):
            return "internal domain"
    for suffix in _PRIVATE_SUFFIXES:
        if name == suffix or name.endswith("." + suffix):
            return "special-use name"
    return None


def _internal_cidr(text: str, settings: Settings) -> str | None:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return _internal_ip(str(net.network_address), settings) or _internal_ip(
        str(net.broadcast_address), settings
    )


def _host_of(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.strip("[]")


def internal_reason(indicator: Indicator, settings: Settings) -> str | None:
    """Why `indicator` must stay inside, or None when third parties may see it."""
    kind, value = indicator.kind, indicator.value
    if kind in (Kind.IPV4, Kind.IPV6):
        return _internal_ip(value, settings)
    if kind is Kind.CIDR:
        return _internal_cidr(value, settings)
    if kind is Kind.DOMAIN:
        return _internal_name(value, settings)
    if kind is Kind.EMAIL:
        return _internal_name(value.rpartition("@")[2], settings)
    if kind is Kind.URL:
        host = _host_of(value)
        return _internal_ip(host, settings) or _internal_name(host, settings)
    return None
