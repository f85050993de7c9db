"""An asyncio port-43 WHOIS client: IANA names the registry, the registry may name a registrar.

Domains: IANA (`whois.iana.org`) names the TLD's server, the registry answers, and when its
answer refers to a different registrar server that server is asked once more (one hop).
IPs: IANA names the regional registry, which answers (no second hop). A fixed `server`
answers everything instead: no IANA step and no referrals.

Etiquette, per server: one query at a time, a minimum `gap` between queries, and a
`cooldown` after the server says we asked too often (later queries to it fail at once).
Answers are capped at `max_bytes`; connect plus read must finish within `timeout`.
Addresses resolved through DNS must be public, so a hostile referral cannot point us at
the inside; `addresses` (tests, operators) pins host names to addresses and is trusted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field

from enrichment.addresses import IpNetwork, networks
from enrichment.errors import RateLimited, SourceError, SourceTimeout, Unavailable
from enrichment.indicators import to_ascii
from enrichment.outbound import public_addresses

__all__ = [
    "IANA",
    "MAX_BYTES",
    "WhoisAnswer",
    "WhoisClient",
    "WhoisResult",
    "looks_rate_limited",
    "query_text",
]

IANA = "whois.iana.org"
PORT = 43
MAX_BYTES = 256 * 1024
Address = tuple[str, int]

# Servers that want their own query syntax. RIPE-software servers get `-r`: no referenced
# person/role objects (RIPE counts those against a daily personal-data quota); `-B` is not
# sent because it unfilters personal e-mail attributes we have no use for; the abuse mailbox
# still comes in the "% Abuse contact" comment line.
_SYNTAX: Mapping[str, Callable[[str], str]] = {
    "whois.denic.de": lambda q: f"-T dn,ace {q}",
    "whois.jprs.jp": lambda q: f"{q}/e",
    "whois.arin.net": lambda q: f"n + {q}",
    "whois.ripe.net": lambda q: f"-r {q}",
    "whois.apnic.net": lambda q: f"-r {q}",
    "whois.afrinic.net": lambda q: f"-r {q}",
}

_LIMIT_PHRASES = re.compile(
    r"limit exceeded|limit reached|rate limit|excessive querying|quota|access denied"
    r"|try again after|too many (?:queries|requests)",
    re.IGNORECASE,
)
# Lines whose text the record's holder chooses: a phrase there is data, not a refusal.
_HOLDER_FIELDS = re.compile(
    r"\s*(registrant|admin|tech|billing|holder|owner|person|org|name|descr|remarks|comment"
    r"|address|netname|cust)[\w ./-]*:",
    re.IGNORECASE,
)
# Fields only a record carries (gTLD, .uk, .ru, DENIC, RIR styles): an answer with one is a
# record, whatever its legal footer says about queries being "rate limited or refused".
_RECORD_FIELDS = re.compile(
    r"^[ \t]*(?:domain(?:[ _]name)?|registry domain id|registrar|creation date|created"
    r"|registered on|registry expiry date|expiry date|paid-till|nserver|name servers?"
    r"|domain status|state|inet6?num|netrange|cidr|netname|aut-num|route6?)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)
_LIMIT_SCAN = 4096  # refusals are short; a full record is not scanned for phrases
_REFERRAL = re.compile(r"^\s*(?:Registrar WHOIS Server|Whois Server):[ \t]*(\S*)", re.I | re.M)
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class WhoisAnswer:
    server: str  # the host name asked
    query: str  # the line sent, without CRLF
    text: str
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class WhoisResult:
    """The answers in the order asked (registry first), and notes on what went wrong."""

    answers: tuple[WhoisAnswer, ...]
    notes: tuple[str, ...] = ()


@dataclass(slots=True)
class _Server:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float | None = None
    cool_until: float = 0.0


def query_text(server: str, query: str) -> str:
    """The line to send `server` for `query`, in the syntax that server expects."""
    shape = _SYNTAX.get(server.lower())
    return shape(query) if shape else query


def looks_rate_limited(text: str) -> bool:
    """True when an answer is a refusal because we asked too much: short, without a single
    registration field, and saying so outside any field the record's holder wrote."""
    if len(text) > _LIMIT_SCAN or _RECORD_FIELDS.search(text):
        return False
    return any(
        _LIMIT_PHRASES.search(line) and not _HOLDER_FIELDS.match(line) for line in text.splitlines()
    )


def query_name(name: str) -> str:
    """A domain name as WHOIS servers want it: IDNA (punycode), lower case."""
    ascii_name = to_ascii(name)
    if ascii_name is None:
        raise Unavailable("the name cannot be written in IDNA form")
    return ascii_name


def referral_host(text: str) -> str | None:
    """The registrar WHOIS server an answer refers to, if it names a plausible host."""
    for match in _REFERRAL.finditer(text):
        host = match.group(1).lower().removeprefix("whois://").rstrip("/.")
        if host and _HOST.fullmatch(host):
            return host
    return None


def _field(text: str, key: str) -> str | None:
    match = re.search(rf"^{key}:[ \t]*(\S+)", text, re.M | re.I)
    return match.group(1).lower() if match else None


def _iana_networks(text: str) -> list[IpNetwork]:
    match = re.search(r"^inet6?num:[ \t]*(.+?)\s*$", text, re.M | re.I)
    if not match:
        return []
    return networks(match.group(1))


class WhoisClient:
    def __init__(
        self,
        *,
        server: Address | None = None,
        addresses: Mapping[str, Address] | None = None,
        timeout: float = 8.0,
        gap: float = 1.0,
        max_bytes: int = MAX_BYTES,
        cooldown: float = 600.0,
        iana_ttl: float = 7 * 86400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        self._addresses = {k.lower(): v for k, v in (addresses or {}).items()}
        self._timeout = timeout
        self._gap = gap
        self._max_bytes = max_bytes
        self._cooldown = cooldown
        self._iana_ttl = iana_ttl
        self._clock = clock
        self._servers: dict[str, _Server] = {}
        self._iana_lock = asyncio.Lock()
        self._tld_servers: dict[str, tuple[str | None, float]] = {}
        self._ip_servers: list[tuple[IpNetwork, str, float]] = []

    # -- the two lookups ------------------------------------------------------------------

    async def domain(self, name: str) -> WhoisResult:
        """The registry's answer for `name`, then the registrar's when the registry refers."""
        name = query_name(name)
        if self.server is not None:
            return WhoisResult((await self.query(self._fixed_host, name),))
        registry = await self._tld_server(name.rpartition(".")[2])
        first = await self.query(registry, query_text(registry, name))
        referral = referral_host(first.text)
        if referral is None or referral == registry:
            return WhoisResult((first,))
        try:
            second = await self.query(referral, query_text(referral, name))
        except SourceError as exc:
            return WhoisResult((first,), (f"registrar server {referral}: {exc}",))
        return WhoisResult((first, second))

    async def ip(self, address: str) -> WhoisResult:
        """The regional registry's answer for an IPv4 or IPv6 address."""
        ip = ipaddress.ip_address(address)
        if self.server is not None:
            return WhoisResult((await self.query(self._fixed_host, str(ip)),))
        rir = await self._ip_server(ip)
        return WhoisResult((await self.query(rir, query_text(rir, str(ip))),))

    # -- one query, with etiquette ----------------------------------------------------------

    async def query(self, host: str, line: str) -> WhoisAnswer:
        """Send `line` to `host` and read its answer, one query at a time per host."""
        state = self._servers.setdefault(host, _Server())
        self._check_cool(host, state)
        async with state.lock:
            self._check_cool(host, state)
            await self._keep_gap(state)
            try:
                data, truncated = await self._exchange(host, line)
            finally:
                state.last = self._clock()
        if not data.strip():
            raise Unavailable(f"{host} closed the connection without an answer")
        text = data.decode("utf-8", errors="replace")
        if looks_rate_limited(text):
            state.cool_until = self._clock() + self._cooldown
            raise RateLimited(f"{host} says we query too often", retry_after=self._cooldown)
        return WhoisAnswer(host, line, text, truncated)

    def _check_cool(self, host: str, state: _Server) -> None:
        left = state.cool_until - self._clock()
        if left > 0:
            raise RateLimited(f"{host} is cooling down after a rate limit", retry_after=left)

    async def _keep_gap(self, state: _Server) -> None:
        if state.last is not None:
            wait = state.last + self._gap - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)

    async def _exchange(self, host: str, line: str) -> tuple[bytes, bool]:
        try:
            async with asyncio.timeout(self._timeout):
                address = await self._address(host)
                reader, writer = await asyncio.open_connection(*address)
                try:
                    writer.write(line.encode("ascii", errors="replace") + b"\r\n")
                    await writer.drain()
                    return await self._read(reader)
                finally:
                    writer.close()
                    with suppress(OSError):
                        await writer.wait_closed()
        except TimeoutError as exc:
            raise SourceTimeout(f"{host} did not answer within {self._timeout:g} s") from exc
        except ConnectionRefusedError as exc:
            raise Unavailable(f"{host} refused the connection") from exc
        except ConnectionResetError as exc:
            raise Unavailable(f"{host} reset the connection") from exc
        except OSError as exc:
            raise Unavailable(f"{host}: {exc.strerror or 'network error'}") from exc

    async def _read(self, reader: asyncio.StreamReader) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while size < self._max_bytes:
            chunk = await reader.read(min(65536, self._max_bytes - size))
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), True

    @property
    def _fixed_host(self) -> str:
        assert self.server is not None
        return self.server[0]

    async def _address(self, host: str) -> Address:
        if self.server is not None:
            return self.server
        pinned = self._addresses.get(host.lower())
        if pinned is not None:
            return pinned
        return (await public_addresses(host, PORT))[0], PORT

    # -- IANA -------------------------------------------------------------------------------

    async def _tld_server(self, tld: str) -> str:
        async with self._iana_lock:
            cached = self._tld_servers.get(tld)
            if cached is None or cached[1] <= self._clock():
                answer = await self.query(IANA, tld)
                host = _field(answer.text, "whois") or _field(answer.text, "refer")
                cached = (host, self._clock() + self._iana_ttl)
                self._tld_servers[tld] = cached
        if not cached[0]:
            raise Unavailable(f"IANA names no WHOIS server for .{tld}")
        return cached[0]

    async def _ip_server(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
        async with self._iana_lock:
            now = self._clock()
            self._ip_servers = [e for e in self._ip_servers if e[2] > now]
            for network, known, _ in self._ip_servers:
                if network.version == ip.version and ip in network:
                    return known
            answer = await self.query(IANA, str(ip))
            host = _field(answer.text, "refer") or _field(answer.text, "whois")
            if not host:
                raise Unavailable(f"IANA names no WHOIS server for {ip}")
            for network in _iana_networks(answer.text):
                self._ip_servers.append((network, host, now + self._iana_ttl))
            return host
