"""A small authoritative DNS server on 127.0.0.1 for tests and benchmarks.

UDP and TCP on the same ephemeral port, one thread each (plus one per TCP connection), so it
runs beside any event loop. It holds any number of zones (each SOA owner is a zone apex),
answers with AA set, chases CNAMEs it holds, returns NXDOMAIN or NODATA with the zone's SOA
in the authority section, and REFUSED for names outside its zones. Faults can be switched on
while it runs: `silent`, `garbage`, `servfail`, `refused`, `truncate` (TC over UDP), and
`delay` seconds, for everything or per name / per query type.

    with DnsServer(DEFAULT_ZONE) as server:
        settings = Settings(data_dir=tmp_path, dns_servers=(server.address,))

Tests get the `dns_server` fixture (a running server holding DEFAULT_ZONE) with
tests/conftest.py (it loads this module as a plugin).
"""

from __future__ import annotations

import contextlib
import heapq
import os
import random
import select
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import TracebackType

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zonefile
import httpx
import pytest

from enrichment.settings import Settings
from enrichment.sources.base import Context

DEFAULT_ZONE_FILE = Path(__file__).parents[1] / "fixtures" / "dns" / "default.zone"
DEFAULT_ZONE = DEFAULT_ZONE_FILE.read_text()

# What the default zone says, for tests to assert against.
QPDAR = "qpdar.pw"
QPDAR_IP = "212.61.180.100"
QPDAR_IPV6 = "2a01:4f8:c17:b8f::2"
QPDAR_NS = ("ns1.bulletdns.net", "ns2.bulletdns.net")
QPDAR_MX = ("mail.qpdar.pw", "mx2.qpdar.pw")  # by preference: 10, 20
QPDAR_TXT = ("<!channel> <http://evil.example|click>", "v=spf1 ip4:212.61.180.100 -all")
QPDAR_SOA = {"mname": "ns1.bulletdns.net", "rname": "hostmaster.qpdar.pw", "serial": 2016020301}
QPDAR_PTR = ("mail.qpdar.pw", "qpdar.pw")
QPDAR_IPV6_PTR = ("qpdar.pw",)
QPDAR_ASN = 60117
QPDAR_NETWORK = "212.61.180.0/24"  # also announced: 212.61.0.0/16 by AS1136
QPDAR_COUNTRY = "NL"
QPDAR_REGISTRY = "ripencc"
QPDAR_ALLOCATED = "1998-10-26"
QPDAR_AS_NAME = "BULLETHOST-AS - Bullet Hosting B.V., NL"
QPDAR_IPV6_ASN = 24940
QPDAR_IPV6_NETWORK = "2a01:4f8::/32"
QPDAR_IPV6_AS_NAME = "HETZNER-AS, DE"
WWW_QPDAR = "www.qpdar.pw"  # CNAME qpdar.pw
SUBDOMAIN = "a.b.qpdar.pw"  # no NS or SOA of its own
SUBDOMAIN_IP = "212.61.180.101"
EMPTY_NAME = "b.qpdar.pw"  # exists only as the parent of SUBDOMAIN
NXDOMAIN_NAME = "kqzvtxwplm.pw"
BANK = "example-bank.co.uk"
BANK_LOGIN = "login.example-bank.co.uk"
BANK_IP = "84.22.96.10"
BANK_NS = ("ns1.example-bank.co.uk", "ns2.example-bank.co.uk")
MOAS_IP = "91.203.5.10"  # one prefix, two origin ASes; no AS name for 64496
MOAS_ASN = 64500
MOAS_ASNS = (64496, 64500)
MOAS_NETWORK = "91.203.4.0/22"
MOAS_AS_NAME = "EVIL-AS <!channel> <http://evil.example|click> - Evil | Corp, UA"
UNROUTED_IP = "5.255.255.5"  # Cymru: NXDOMAIN

FAULTS = ("silent", "garbage", "servfail", "refused", "truncate")
Address = tuple[str, int]


def _key(name: dns.name.Name | str) -> str:
    return str(name).rstrip(".").lower()


def _frames(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The complete length-prefixed DNS messages at the start of `buffer`, and the rest."""
    messages = []
    while len(buffer) >= 2 and len(buffer) >= 2 + struct.unpack("!H", buffer[:2])[0]:
        size = struct.unpack("!H", buffer[:2])[0]
        messages.append(buffer[2 : 2 + size])
        buffer = buffer[2 + size :]
    return messages, buffer


class DnsServer:
    """See the module docstring. Fault attributes may be changed at any time."""

    def __init__(self, zone_text: str = "", origin: str = ".") -> None:
        self.silent = self.garbage = self.servfail = self.refused = self.truncate = False
        self.delay = 0.0
        self.name_faults: dict[str, str] = {}  # "qpdar.pw" (lower case) -> one of FAULTS
        self.type_faults: dict[str, str] = {}  # "MX" -> one of FAULTS
        self.delays: dict[str, float] = {}  # "qpdar.pw" -> seconds
        self._lock = threading.Lock()
        self._queries: list[tuple[str, str, str]] = []
        self._rrsets: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self._apexes: set[dns.name.Name] = set()
        self._existing: set[dns.name.Name] = set()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        if zone_text:
            self.add_zone(zone_text, origin)

    # --- data ----------------------------------------------------------------------------

    def add_zone(self, text: str, origin: str = ".") -> None:
        """Load master-file text, one record per line with its TTL, no directives. Every SOA
        owner becomes a zone apex (if none does, `origin` is one)."""
        rrsets = [r for line in text.splitlines() for r in _parse_line(line, origin)]
        with self._lock:
            apexes = {r.name for r in rrsets if r.rdtype == dns.rdatatype.SOA}
            self._apexes |= apexes or {dns.name.from_text(origin)}
            for rrset in rrsets:
                self._merge(rrset)

    def add(self, name: str, rdtype: str, *values: str, ttl: int = 300) -> None:
        """Add records under a zone the server already holds."""
        rrset = dns.rrset.from_text(name.rstrip(".") + ".", ttl, "IN", rdtype, *values)
        with self._lock:
            if self._apex_for(rrset.name) is None:
                raise ValueError(f"{name} is in no zone this server holds")
            self._merge(rrset)

    def _merge(self, rrset: dns.rrset.RRset) -> None:
        key = (rrset.name, rrset.rdtype)
        old = self._rrsets.get(key)
        merged = dns.rrset.from_rdata_list(rrset.name, rrset.ttl, [*(old or ()), *rrset])
        self._rrsets[key] = merged
        name = rrset.name
        while name not in self._existing and name != dns.name.root:
            self._existing.add(name)
            name = name.parent()

    def _apex_for(self, name: dns.name.Name) -> dns.name.Name | None:
        while True:
            if name in self._apexes:
                return name
            if name == dns.name.root:
                return None
            name = name.parent()

    # --- life ----------------------------------------------------------------------------

    @property
    def address(self) -> Address:
        if self._udp is None:
            raise RuntimeError("server not started")
        host, port = self._udp.getsockname()[:2]
        return str(host), int(port)

    @property
    def queries(self) -> list[tuple[str, str, str]]:
        """(name, type, "udp" | "tcp") for every query received, oldest first."""
        with self._lock:
            return list(self._queries)

    def clear_queries(self) -> None:
        with self._lock:
            self._queries.clear()

    def start(self) -> DnsServer:
        self._udp, self._tcp = _bind_pair()
        self._tcp.listen(64)
        self._spawn(self._serve_udp, "dns-udp")
        self._spawn(self._serve_tcp, "dns-tcp")
        return self

    def stop(self) -> None:
        self._stop.set()
        for _ in range(2):  # again for connections accepted while the first joins ran
            with self._lock:
                threads = list(self._threads)
            for thread in threads:
                thread.join(timeout=5)
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    # --- transports ----------------------------------------------------------------------

    def _serve_udp(self) -> None:
        assert self._udp is not None
        pending: list[tuple[float, int, bytes, Address]] = []
        counter = 0
        while not self._stop.is_set():
            wait = 0.05 if not pending else max(0.0, min(0.05, pending[0][0] - time.monotonic()))
            readable, _, _ = select.select([self._udp], [], [], wait)
            if readable:
                with contextlib.suppress(OSError):
                    wire, peer = self._udp.recvfrom(65535)
                    reply, delay = self.handle(wire, "udp")
                    if reply is not None:
                        counter += 1
                        heapq.heappush(pending, (time.monotonic() + delay, counter, reply, peer))
            while pending and pending[0][0] <= time.monotonic():
                _, _, reply, peer = heapq.heappop(pending)
                with contextlib.suppress(OSError):
                    self._udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        assert self._tcp is not None
        while not self._stop.is_set():
            readable, _, _ = select.select([self._tcp], [], [], 0.05)
            if readable:
                try:
                    conn, _ = self._tcp.accept()
                except OSError:
                    continue
                self._spawn(self._serve_connection, "dns-tcp-conn", conn)

    def _serve_connection(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while not self._stop.is_set():
                readable, _, _ = select.select([conn], [], [], 0.05)
                if not readable:
                    continue
                try:
                    chunk = conn.recv(65535)
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                messages, buffer = _frames(buffer)
                if not all(self._answer_tcp(conn, wire) for wire in messages):
                    return

    def _answer_tcp(self, conn: socket.socket, wire: bytes) -> bool:
        """Answer one framed query; False when the connection is done for."""
        reply, delay = self.handle(wire, "tcp")
        if reply is None:
            return True
        if delay and self._stop.wait(delay):
            return False
        try:
            conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return False
        return True

    # --- answers -------------------------------------------------------------------------

    def handle(self, wire: bytes, transport: str) -> tuple[bytes | None, float]:
        """The reply to one query (None: stay silent) and how long to wait before sending."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # hostile bytes: say nothing, like a real server
            return None, 0.0
        if not query.question:
            reply = dns.message.make_response(query)
            reply.set_rcode(dns.rcode.FORMERR)
            return reply.to_wire(), 0.0
        question = query.question[0]
        qname, qtype = _key(question.name), dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self._queries.append((qname, qtype, transport))
        fault = self._fault_for(qname, qtype)
        delay = self.delays.get(qname, self.delay)
        if fault == "silent":
            return None, 0.0
        if fault == "garbage":
            return os.urandom(random.randint(12, 64)), delay
        return self._reply(query, fault, transport), delay

    def _fault_for(self, qname: str, qtype: str) -> str | None:
        named = self.name_faults.get(qname) or self.type_faults.get(qtype)
        if named:
            return named
        return next((f for f in FAULTS if getattr(self, f)), None)

    def _reply(self, query: dns.message.Message, fault: str | None, transport: str) -> bytes:
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        if fault in ("servfail", "refused"):
            reply.flags &= ~dns.flags.AA
            reply.set_rcode(dns.rcode.SERVFAIL if fault == "servfail" else dns.rcode.REFUSED)
            return reply.to_wire()
        if fault == "truncate" and transport == "udp":
            reply.flags |= dns.flags.TC
            return reply.to_wire()
        question = query.question[0]
        with self._lock:
            self._resolve(reply, question.name, question.rdtype)
        limit = 65535 if transport == "tcp" else max(512, query.payload if query.edns >= 0 else 0)
        try:
            return reply.to_wire(max_size=limit)
        except dns.exception.TooBig:
            return _truncated(query)

    def _resolve(self, reply: dns.message.Message, qname: dns.name.Name, qtype: int) -> None:
        name = qname
        for _ in range(8):  # CNAME chain limit
            apex = self._apex_for(name)
            if apex is None:
                if name == qname:
                    reply.flags &= ~dns.flags.AA
                    reply.set_rcode(dns.rcode.REFUSED)
                return
            found = self._rrsets.get((name, qtype))
            if found is not None:
                reply.answer.append(found)
                return
            alias = self._rrsets.get((name, dns.rdatatype.CNAME))
            if alias is None or qtype == dns.rdatatype.CNAME:
                if name not in self._existing:
                    reply.set_rcode(dns.rcode.NXDOMAIN)
                soa = self._rrsets.get((apex, dns.rdatatype.SOA))
                if soa is not None:
                    reply.authority.append(soa)
                return
            reply.answer.append(alias)
            name = alias[0].target


def _parse_line(line: str, origin: str) -> list[dns.rrset.RRset]:
    if not line.strip() or line.lstrip().startswith(";"):
        return []
    try:
        return dns.zonefile.read_rrsets(line, origin=origin, relativize=False)
    except ValueError:  # dnspython wants an SOA at the origin: make its owner the origin
        owner = dns.name.from_text(line.split()[0], dns.name.from_text(origin))
        return dns.zonefile.read_rrsets(line, origin=owner, relativize=False)


def _truncated(query: dns.message.Message) -> bytes:
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA | dns.flags.TC
    return reply.to_wire()


def _bind_pair() -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket bound to the same free port on 127.0.0.1."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        return udp, tcp
    raise RuntimeError("no free port for both UDP and TCP")


@pytest.fixture(name="dns_server")
def dns_server_fixture() -> Iterator[DnsServer]:
    """A running server holding DEFAULT_ZONE; faults reset with every test."""
    with DnsServer(DEFAULT_ZONE) as server:
        yield server


@pytest.fixture(name="dns_context")
async def dns_context_fixture(dns_server: DnsServer, tmp_path: Path) -> AsyncIterator[Context]:
    """A source context whose resolver is the running `dns_server`."""
    settings = Settings(data_dir=tmp_path, dns_servers=(dns_server.address,))
    async with httpx.AsyncClient() as http:
        yield Context(settings=settings, http=http)
