"""A loopback WHOIS server for tests, benchmarks and the console: threads, no asyncio.

    with WhoisServer({"qpdar.pw": text}) as server:
        host, port = server.address

Each connection reads one query line and answers from the mapping: the key is the query
after CRLF, the special prefixes (`-T dn,ace `, `n + `, `-r `, `-B `, `=`) and the `/e`
suffix are stripped, in lower case. An answer is text, bytes, a `Fault`, or a callable taking
the query and returning one of those; unknown queries get a Verisign-style "No match".
Queries are recorded as received (`queries`, `raw_queries` with their line ending,
`query_times`), and `max_concurrent` tells how many connections were ever open at once.

Faults, for the whole server (`fault=`) or per answer: `hang` accepts and never answers,
`garbage` sends random bytes then closes, `close` closes at once, `ratelimit` answers a
rate-limit message, `huge` streams the answer and then filler far beyond any byte cap.
`delay` holds every answer back that many seconds.

Tests get the `whois_server` fixture (a running server preloaded with the answers in
tests/fixtures/whois/, as one fixed server would give them) with
tests/conftest.py (it loads this module as a plugin);
`EXPECTED` holds the facts the WHOIS source must read from each of them. Three more names
answer with a fault: `ratelimited.pw`, `garbage.pw`, `hang.pw`. For a chain of servers
(IANA -> registry -> registrar) use `IANA_ANSWERS`, `PRELOADED` and `REGISTRAR_ANSWERS`, and
pin the host names to the servers with `WhoisClient(addresses=...)`.
"""

from __future__ import annotations

import random
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whois"


class Fault(StrEnum):
    HANG = "hang"
    GARBAGE = "garbage"
    CLOSE = "close"
    RATELIMIT = "ratelimit"
    HUGE = "huge"


Reply = str | bytes | Fault
Answer = Reply | Callable[[str], Reply]

RATE_LIMIT_TEXT = "%ERROR:201: Query rate limit exceeded. Try again after 10 minutes.\r\n"
_PREFIXES = ("-t dn,ace ", "-c utf-8 ", "-r ", "-b ", "n + ", "=")
_HUGE_LIMIT = 8 * 1024 * 1024  # stop streaming here even if the client keeps reading


def normalise(query: str) -> str:
    """The mapping key for a received query line."""
    key = query.strip().lower()
    stripped = True
    while stripped:
        stripped = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, stripped = key[len(prefix) :].lstrip(), True
    return key.removesuffix("/e")


def not_found(query: str) -> str:
    return f'No match for "{query.upper()}".\r\n'


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        owner = self.server.owner
        owner._enter()
        try:
            self._serve(owner)
        except OSError:
            pass  # the client went away: its business
        finally:
            owner._leave()

    def _serve(self, owner: WhoisServer) -> None:
        sock: socket.socket = self.request
        if owner.fault is Fault.CLOSE:
            return
        raw = self._read_line(sock, owner)
        if raw is None:
            return
        line = owner._record(raw)
        reply = owner.reply_for(line)
        if owner.delay and owner._stopping.wait(owner.delay):
            return
        self._send(sock, owner, line, reply)

    def _read_line(self, sock: socket.socket, owner: WhoisServer) -> bytes | None:
        sock.settimeout(0.05)
        data = b""
        for _ in range(100):  # 5 s at most
            if owner._stopping.is_set():
                return None
            try:
                chunk = sock.recv(1024)
            except TimeoutError:
                continue
            data += chunk
            if not chunk or b"\n" in data or len(data) > 4096:
                break
        head, newline, _ = data.partition(b"\n")
        return head + newline

    def _send(self, sock: socket.socket, owner: WhoisServer, line: str, reply: Reply) -> None:
        sock.settimeout(5.0)
        if reply is Fault.HANG:
            owner._stopping.wait()
        elif reply is Fault.CLOSE:
            return
        elif reply is Fault.GARBAGE:
            sock.sendall(random.Random(line).randbytes(4096))
        elif reply is Fault.RATELIMIT:
            sock.sendall(RATE_LIMIT_TEXT.encode())
        elif reply is Fault.HUGE:
            self._stream(sock, owner, owner.answer_for(normalise(line)))
        else:
            sock.sendall(reply.encode("utf-8") if isinstance(reply, str) else reply)

    def _stream(self, sock: socket.socket, owner: WhoisServer, first: Reply) -> None:
        if not isinstance(first, Fault) and isinstance(first, (str, bytes)):
            sock.sendall(first.encode("utf-8") if isinstance(first, str) else first)
        filler = b"% filler line to push the answer past any byte cap .............\r\n" * 64
        sent = 0
        while sent < _HUGE_LIMIT and not owner._stopping.is_set():
            sock.sendall(filler)
            sent += len(filler)


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True  # server_close() joins every handler thread

    def __init__(self, owner: WhoisServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


class WhoisServer:
    def __init__(
        self,
        answers: Mapping[str, Answer] | None = None,
        *,
        fault: Fault | None = None,
        delay: float = 0.0,
        default: Answer = not_found,
    ) -> None:
        self.answers: dict[str, Answer] = {k.lower(): v for k, v in (answers or {}).items()}
        self.fault = fault
        self.delay = delay
        self.default = default
        self.max_concurrent = 0
        self._queries: list[str] = []
        self._times: list[float] = []
        self._raw: list[bytes] = []
        self._active = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._tcp: _TCPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._tcp is not None, "start the server first"
        host, port = self._tcp.server_address[:2]
        return str(host), int(port)

    @property
    def queries(self) -> list[str]:
        """Every query line received, in order, as sent (prefixes kept, CRLF removed)."""
        with self._lock:
            return list(self._queries)

    @property
    def raw_queries(self) -> list[bytes]:
        """Every query exactly as its bytes arrived, line ending included."""
        with self._lock:
            return list(self._raw)

    @property
    def query_times(self) -> list[float]:
        """`time.monotonic()` at each query's arrival, in the order of `queries`."""
        with self._lock:
            return list(self._times)

    def answer_for(self, key: str) -> Reply:
        answer = self.answers.get(key, self.default)
        return answer(key) if callable(answer) else answer

    def reply_for(self, line: str) -> Reply:
        return self.fault or self.answer_for(normalise(line))

    def start(self) -> WhoisServer:
        self._tcp = _TCPServer(self)
        self._thread = threading.Thread(
            target=self._tcp.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._tcp is not None:
            self._tcp.shutdown()
            self._tcp.server_close()
        if self._thread is not None:
            self._thread.join()
        self._tcp = self._thread = None

    def __enter__(self) -> WhoisServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _record(self, raw: bytes) -> str:
        line = raw.decode("utf-8", errors="replace").strip("\r\n")
        with self._lock:
            self._raw.append(raw)
            self._queries.append(line)
            self._times.append(time.monotonic())
        return line

    def _enter(self) -> None:
        with self._lock:
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _load(mapping: Mapping[str, str]) -> dict[str, Answer]:
    return {query: fixture_text(name) for query, name in mapping.items()}


# What one fixed server (PIVOT_WHOIS_SERVER) answers: registries' answers by query.
PRELOADED: dict[str, Answer] = _load(
    {
        "qpdar.pw": "qpdar.pw.txt",
        "mailsrv-update.com": "mailsrv-update.com.registry.txt",
        "tverskaya-shop.ru": "tverskaya-shop.ru.txt",
        "skidki-kupon.ru": "skidki-kupon.ru.txt",
        "fenwick-tools.co.uk": "fenwick-tools.co.uk.txt",
        "heizung-berater.de": "heizung-berater.de.txt",
        "sakura-denki.jp": "sakura-denki.jp.txt",
        "login-verify-account.com": "login-verify-account.com.txt",
        "nosuchdomain-pivot.com": "nosuchdomain-pivot.com.txt",
        "hostile-registrant.com": "hostile-registrant.com.txt",
        "212.61.180.100": "ripe-212.61.180.100.txt",
        "104.168.33.7": "arin-104.168.33.7.txt",
        "2a0b:7e40:1200::10": "ripe-2a0b-7e40-1200--10.txt",
    }
) | {"ratelimited.pw": Fault.RATELIMIT, "garbage.pw": Fault.GARBAGE, "hang.pw": Fault.HANG}

# For a chain of servers: what IANA says, and what the registrar of mailsrv-update.com says.
IANA_ANSWERS: dict[str, Answer] = _load(
    {
        "pw": "iana-pw.txt",
        "com": "iana-com.txt",
        "de": "iana-de.txt",
        "jp": "iana-jp.txt",
        "212.61.180.100": "iana-ipv4-212.txt",
        "104.168.33.7": "iana-ipv4-104.txt",
        "2a0b:7e40:1200::10": "iana-ipv6-2a00.txt",
    }
)
REGISTRAR_ANSWERS: dict[str, Answer] = _load(
    {"mailsrv-update.com": "mailsrv-update.com.registrar.txt"}
)

PERSONA = {
    "registrant_name": "Gennadiy Gorbunov",
    "registrant_email": "gorbunov.g@tver-post.ru",
    "registrant_country": "RU",
}
QPDAR_FACTS: dict[str, Any] = {
    "registrar": "AlpNames Sample Registrar Ltd",
    "registrar_abuse_email": "abuse@alpnames-sample.pw",
    "created": "2016-02-03",
    "expires": "2017-02-03",
    "updated": "2016-02-08",
    **PERSONA,
    "name_servers": ["ns1.kvmhost-dns.pw", "ns2.kvmhost-dns.pw"],
    "status": ["clientTransferProhibited", "serverHold"],
    "redacted": False,
}
THIN_COM_FACTS: dict[str, Any] = {
    "registrar": "Example Registrar, LLC",
    "registrar_abuse_email": "abuse@registrar.example",
    "created": "2016-01-28",
    "expires": "2025-01-28",
    "updated": "2024-03-02",
    "name_servers": ["ns1.kvmhost-dns.pw", "ns2.kvmhost-dns.pw"],
    "status": ["clientTransferProhibited"],
}
# The registry's answer plus the registrar's, as the IANA -> registry -> registrar chain reads it.
REFERRED_COM_FACTS: dict[str, Any] = {
    **THIN_COM_FACTS,
    **PERSONA,
    "registrant_org": "Gorbunov IP",
    "redacted": False,
}
REDACTED_FACTS: dict[str, Any] = {
    "registrar": "Example Registrar, LLC",
    "registrar_abuse_email": "abuse@registrar.example",
    "created": "2024-05-18",
    "expires": "2025-05-18",
    "updated": "2024-05-20",
    "registrant_country": "IS",
    "name_servers": ["dns1.parking-sample.net", "dns2.parking-sample.net"],
    "status": ["clientHold", "clientTransferProhibited"],
    "redacted": True,
}
RIPE_FACTS: dict[str, Any] = {
    "network": "212.61.180.0/24",
    "network_name": "NL-HOSTKEEP-VPS",
    "country": "NL",
    "abuse_email": "abuse@hostkeep-sample.nl",
    "asn": 64501,
}
ARIN_FACTS: dict[str, Any] = {
    "network": "104.168.32.0/22",
    "network_name": "NWH-CUST-KESTREL",
    "country": "US",
    "abuse_email": "abuse@northwind-hosting.example",
    "asn": 64502,
}
RIPE_V6_FACTS: dict[str, Any] = {
    "network": "2a0b:7e40:1200::/40",
    "network_name": "DE-LINDENHOST-V6",
    "country": "DE",
    "abuse_email": "abuse@lindenhost-sample.de",
    "asn": 64503,
}
EXPECTED: dict[str, dict[str, Any]] = {
    "qpdar.pw": QPDAR_FACTS,
    "mailsrv-update.com": THIN_COM_FACTS,
    "tverskaya-shop.ru": {
        "registrar": "REGRU-RU",
        "created": "2015-11-12",
        "expires": "2025-11-12",
        "registrant_org": 'OOO "Tverskaya Torgovlya"',
        "name_servers": ["ns1.tverskaya-shop.ru", "ns2.hostland-sample.ru"],
        "status": ["DELEGATED", "REGISTERED", "VERIFIED"],
        "redacted": False,
    },
    "skidki-kupon.ru": {
        "registrar": "RU-CENTER-RU",
        "created": "2019-07-30",
        "expires": "2025-07-30",
        "name_servers": ["ns1.hostland-sample.ru", "ns2.hostland-sample.ru"],
        "status": ["DELEGATED", "REGISTERED", "UNVERIFIED"],
        "redacted": True,
    },
    "fenwick-tools.co.uk": {
        "registrar": "Harbour Hosting Ltd t/a HarbourHost",
        "created": "2008-07-14",
        "expires": "2025-07-14",
        "updated": "2024-06-12",
        "registrant_name": "Fenwick Tools Ltd",
        "name_servers": ["ns1.harbourhost-sample.net", "ns2.harbourhost-sample.net"],
        "status": ["Registered until expiry date."],
        "redacted": False,
    },
    "heizung-berater.de": {
        "updated": "2023-09-14",
        "name_servers": ["ns1.server-sample.de", "ns2.server-sample.de"],
        "status": ["connect"],
    },
    "sakura-denki.jp": {
        "created": "2009-04-21",
        "expires": "2025-04-30",
        "updated": "2024-05-01",
        "registrant_org": "Sakura Denki K.K.",
        "name_servers": ["ns1.sakura-denki.jp", "ns2.sakura-denki.jp"],
        "status": ["Active"],
        "redacted": False,
    },
    "login-verify-account.com": REDACTED_FACTS,
    "212.61.180.100": RIPE_FACTS,
    "104.168.33.7": ARIN_FACTS,
    "2a0b:7e40:1200::10": RIPE_V6_FACTS,
}
HOSTILE_NAME = "<!channel>"
HOSTILE_LINK = "<http://evil|click>"  # the hostile record's registrar
HOSTILE_ORG_CHARS = 10_000  # the hostile record's registrant organisation, before the cap
EXPECTED["hostile-registrant.com"] = {
    "registrar": HOSTILE_LINK,
    "created": "2024-03-30",
    "expires": "2025-03-30",
    "updated": "2024-04-01",
    "registrant_name": HOSTILE_NAME,
    "registrant_org": ("Evil Org " * 57)[:512].rstrip(),
    "registrant_country": "RU",
    "name_servers": ["ns1.evil-dns.example", "ns2.evil-dns.example"],
    "status": ["ok"],
    "redacted": False,
}


@pytest.fixture(name="whois_server")
def whois_server_fixture() -> Iterator[WhoisServer]:
    """A started loopback server answering every fixture query, as one fixed server would."""
    with WhoisServer(PRELOADED) as server:
        yield server
