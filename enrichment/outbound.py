"""Where Pivot may connect when an upstream answer names the place: a WHOIS referral, an
HTTP redirect, an RDAP link. One rule for all three: a public host, every address it resolves
to public (`enrichment.addresses`), never a special-use name.

The check resolves the name just before connecting. WHOIS connects to the address checked; an
HTTP client resolves again, so a name that changes its answer in between (DNS rebinding) is
the residual risk, and the redirect hop limit bounds it.
"""

from __future__ import annotations

import asyncio
import socket

from enrichment.addresses import parse_address, special_reason
from enrichment.errors import Unavailable
from enrichment.indicators import in_zone
from enrichment.privacy import SPECIAL_USE_ZONES


async def public_addresses(host: str, port: int) -> list[str]:
    """The addresses of `host`, when it and all of them are public; Unavailable saying why
    not otherwise (never reached: a private, loopback, link-local or special-use place)."""
    host = host.strip().strip("[]").lower()
    literal = parse_address(host)
    if literal is not None:
        reason = special_reason(literal)
        if reason:
            raise Unavailable(f"{host} is a {reason}; not reached")
        return [str(literal)]
    if not host or in_zone(host, SPECIAL_USE_ZONES):
        raise Unavailable(f"{host or 'an empty host'} is a special-use name; not reached")
    return await _resolved_public(host, port)


async def _resolved_public(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unavailable(f"cannot resolve {host}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        ip = parse_address(address)
        reason = special_reason(ip) if ip is not None else "unreadable address"
        if reason:
            raise Unavailable(f"{host} resolves to {address} ({reason}); not reached")
    if not addresses:
        raise Unavailable(f"cannot resolve {host}")
    return addresses
