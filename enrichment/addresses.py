"""IP addresses and networks: ranges as CIDRs, and which addresses are not on the public internet.

One rule decides "not public" for everything that might send a packet or a question outside:
the privacy check (`enrichment.privacy`), WHOIS referrals, HTTP redirects and RDAP links.
It sees through the IPv6 forms that carry an IPv4 address (IPv4-mapped and -compatible, 6to4,
Teredo, NAT64), because `2002:a00:1::1` is 10.0.0.1 to anyone who unwraps it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# CGNAT is not "private" to the ipaddress module but is never internet-routable.
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# Networks a CIDR may not overlap and still leave (IANA's special-purpose registries, plus the
# IPv6 ranges that embed IPv4 addresses).
SPECIAL_NETWORKS: tuple[IpNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
        "::/96",
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2002::/16",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)


def parse_address(text: str) -> IpAddress | None:
    """An address from text (an IPv6 zone index is dropped); None when it is not one."""
    try:
        return ipaddress.ip_address(text.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def parse_network(text: str) -> IpNetwork | None:
    """A network from `a.b.c.d/n` (host bits allowed) or a bare address; None otherwise."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def range_networks(first: str, last: str) -> list[IpNetwork]:
    """The CIDRs that exactly cover `first`..`last`; [] when either end is not an address or
    they are of different families or out of order."""
    try:
        start, end = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        return list(ipaddress.summarize_address_range(start, end))
    except (TypeError, ValueError):
        return []


def networks(text: str) -> list[IpNetwork]:
    """`a.b.c.d/n` or `first - last` (WHOIS inetnum, IANA) as CIDRs; [] when unreadable."""
    if "-" in text:
        first, _, last = text.partition("-")
        return range_networks(first, last)
    network = parse_network(text)
    return [network] if network is not None else []


def embedded_ipv4(ip: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: mapped, compatible, 6to4, Teredo, NAT64."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in _NAT64):
        return low
    if int(ip) >> 32 == 0 and int(low) > 1:  # IPv4-compatible ::a.b.c.d (not :: or ::1)
        return low
    return None


def _own_reason(ip: IpAddress) -> str | None:
    if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast:
        return "private or special-use address"
    if ip.is_reserved or ip.is_unspecified:
        return "reserved address"
    if not ip.is_global:  # CGNAT is neither private nor reserved to the ipaddress module
        return "shared address space (CGNAT)" if ip in _CGNAT else "not a public address"
    return None


def special_reason(ip: IpAddress, internal: Iterable[IpNetwork] = ()) -> str | None:
    """Why `ip` is not a public internet address (or is one of the team's `internal`
    networks), judging an embedded IPv4 address too; None when it is public."""
    inner = embedded_ipv4(ip)
    for address in (ip, inner):
        if address is None:
            continue
        if any(address in net for net in internal if net.version == address.version):
            reason: str | None = "internal network"
        else:
            reason = _own_reason(address)
        if reason:
            return reason if address is ip else f"{reason} (inside {ip})"
    return None


def network_reason(network: IpNetwork, internal: Iterable[IpNetwork] = ()) -> str | None:
    """Why `network` must not leave: it overlaps the team's networks or special-use space."""
    same = [n for n in internal if n.version == network.version]
    if any(network.overlaps(n) for n in same):
        return "internal network"
    special = [n for n in SPECIAL_NETWORKS if n.version == network.version]
    if any(network.overlaps(n) for n in special):
        return "overlaps private or special-use space"
    return None


def is_public(address: str) -> bool:
    """True for an address on the public internet (what WHOIS referrals, HTTP redirects and
    RDAP links may reach)."""
    ip = parse_address(address)
    return ip is not None and special_reason(ip) is None
