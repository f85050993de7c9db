"""A recorded-style RDAP data set for the loopback HTTP server, with the facts it must yield.

`install(server)` (also `tests.servers.http_server.rdap_routes`) serves, under `/rdap`:

- `qpdar.pw`: a thin registry answer whose "related" link leads to the registrar's record
  (`/registrar-rdap/domain/qpdar.pw`, same server) holding a real, unredacted registrant;
- `quietlantern-shop.com`: an RFC 9537 redacted answer behind a privacy service;
- `hostile-fixture.net`: `<!channel>`, `<http://evil|click>`, a 10,000-character registrant
  name, control characters and malformed fields, for card and parser tests;
- IP networks: 212.61.180.0/24 (RIPE, cidr0, nested abuse contact), 212.61.184.0 -
  212.61.186.255 (no cidr0: the CIDR is computed), 2602:fe12:7a00::/40 (ARIN: country only in
  the vCard's address label, origin AS in `arin_originas0_originautnums`);
- `autnum/398765`; and an RDAP-style 404 for anything else.

`rdap_bootstrap(directory, server.url)` writes a tiny IANA-style bootstrap pointing at the server.
The `*_FACTS` constants are the facts the RDAP source must report, written out by hand.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from enrichment.text import LINE_LIMIT
from tests.servers.http_server import HttpServer, Request, Response

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rdap"
BASE_TOKEN = "__BASE__"

QPDAR = "qpdar.pw"
REDACTED_DOMAIN = "quietlantern-shop.com"
HOSTILE_DOMAIN = "hostile-fixture.net"
NL_IP = "212.61.180.100"
RANGE_IP = "212.61.186.9"  # in 212.61.184.0 - 212.61.186.255, which is no single CIDR
V6_IP = "2602:fe12:7a42::1"
ASN = 398765
LONG_NAME = "Ivan " + "A" * 9_995  # 10,000 characters

QPDAR_FACTS: dict[str, Any] = {
    "registrar": "Nordvik Domains LLC",
    "registrar_abuse_email": "abuse@nordvik-domains.ru",
    "created": "2016-02-03",
    "expires": "2017-02-03",
    "updated": "2016-02-08",
    "name_servers": ["ns1.stormhost-dns.ru", "ns2.stormhost-dns.ru"],
    "status": ["active", "client transfer prohibited"],
    "registrant_name": "Gennadiy Vorontsov",
    "registrant_email": "vorontsov.gennadiy@yandex.ru",
    "registrant_country": "RU",
    "redacted": False,
}
REDACTED_FACTS: dict[str, Any] = {
    "registrar": "Harborline Registrar, Inc.",
    "registrar_abuse_email": "abuse@harborline-registrar.com",
    "created": "2024-05-19",
    "expires": "2026-05-19",
    "updated": "2025-04-20",
    "name_servers": ["alina.ns.cloudflare.com", "bob.ns.cloudflare.com"],
    "status": ["client delete prohibited", "client transfer prohibited"],
    "redacted": True,
}
HOSTILE_FACTS: dict[str, Any] = {
    "registrar": "<http://evil|click> Registrar",
    "created": "2023-01-09",
    "name_servers": ["ns1.hostile-fixture.net"],
    "status": ["<!channel>", "active"],
    "registrant_name": LONG_NAME[:LINE_LIMIT],  # upstream text is cut to one line's limit
    "registrant_org": "<!channel> Holdings [31m",
    "redacted": False,
}
NL_NET_FACTS: dict[str, Any] = {
    "network": "212.61.180.0/24",
    "network_name": "NL-HOSTKEEP-20151104",
    "handle": "212.61.180.0 - 212.61.180.255",
    "country": "NL",
    "abuse_email": "abuse@hostkeep.nl",
    "rir": "ripe",
}
RANGE_NET_FACTS: dict[str, Any] = {
    "network": "212.61.186.0/24",
    "network_name": "NL-HOSTKEEP-COLO",
    "handle": "212.61.184.0 - 212.61.186.255",
    "country": "NL",
    "abuse_email": "abuse@hostkeep.nl",
    "rir": "ripe",
}
V6_NET_FACTS: dict[str, Any] = {
    "network": "2602:fe12:7a00::/40",
    "network_name": "NORTHWIND-V6",
    "handle": "NET6-2602-FE12-7A00-1",
    "country": "US",
    "abuse_email": "abuse@northwind-hosting.com",
    "asn": ASN,
    "rir": "arin",
}
AUTNUM_FACTS: dict[str, Any] = {
    "asn": ASN,
    "as_name": "NORTHWIND-AS",
    "handle": "AS398765",
    "country": "US",
    "abuse_email": "abuse@northwind-hosting.com",
    "rir": "arin",
}

_DOMAINS = {
    QPDAR: "domain_qpdar.pw.json",
    REDACTED_DOMAIN: "domain_quietlantern-shop.com.json",
    HOSTILE_DOMAIN: "domain_hostile-fixture.net.json",
}
_NETWORKS = ("ip_212.61.180.0.json", "ip_212.61.184.0.json", "ip_2602-fe12-7a00.json")
_AUTNUMS = {ASN: "autnum_398765.json"}


def load(name: str, base: str) -> Any:
    """A fixture file with the server's base URL filled in."""
    text = (FIXTURES / name).read_text(encoding="utf-8").replace(BASE_TOKEN, base)
    return json.loads(text.replace("__LONG_NAME__", LONG_NAME))


def not_found(request: Request) -> Response:
    body = {"errorCode": 404, "title": "Not Found", "description": [f"{request.path} not found"]}
    return Response.json(body, status=404, headers={"Content-Type": "application/rdap+json"})


def _rdap(doc: Any) -> Response:
    return Response.json(doc, headers={"Content-Type": "application/rdap+json"})


def _domain_handler(docs: dict[str, Any]) -> Any:
    def answer(request: Request) -> Response:
        name = request.path.rsplit("/", 1)[-1].lower()
        return _rdap(docs[name]) if name in docs else not_found(request)

    return answer


def _network_handler(docs: list[Any], prefix: str) -> Any:
    def answer(request: Request) -> Response:
        asked = request.path[len(prefix) :]
        try:
            target = ipaddress.ip_network(asked, strict=False)
        except ValueError:
            return Response.json({"errorCode": 400, "title": "Bad Request"}, status=400)
        for doc in docs:
            start = ipaddress.ip_address(doc["startAddress"])
            end = ipaddress.ip_address(doc["endAddress"])
            if start.version == target.version and start <= target.network_address <= end:  # type: ignore[operator]
                return _rdap(doc)
        return not_found(request)

    return answer


def _autnum_handler(docs: dict[int, Any]) -> Any:
    def answer(request: Request) -> Response:
        tail = request.path.rsplit("/", 1)[-1]
        number = int(tail) if tail.isdigit() else -1
        return _rdap(docs[number]) if number in docs else not_found(request)

    return answer


def install(server: HttpServer, prefix: str = "/rdap") -> None:
    """Serve the data set under `prefix` (and the registrar's record under /registrar-rdap)."""
    base = server.url
    domains = {name: load(file, base) for name, file in _DOMAINS.items()}
    server.route(f"{prefix}/", not_found, prefix=True)
    server.route(f"{prefix}/domain/", _domain_handler(domains), prefix=True)
    networks = [load(file, base) for file in _NETWORKS]
    server.route(f"{prefix}/ip/", _network_handler(networks, f"{prefix}/ip/"), prefix=True)
    autnums = {n: load(file, base) for n, file in _AUTNUMS.items()}
    server.route(f"{prefix}/autnum/", _autnum_handler(autnums), prefix=True)
    registrar = {QPDAR: load("registrar_qpdar.pw.json", base)}
    server.route("/registrar-rdap/domain/", _domain_handler(registrar), prefix=True)


def rdap_bootstrap(directory: Path, base: str, *, overrides: bool = True) -> Path:
    """Write the test bootstrap (every service on `base`) into `directory`; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    names = ["dns.json", "ipv4.json", "ipv6.json", "asn.json"]
    for name in [*names, "overrides.json"] if overrides else names:
        text = (FIXTURES / "bootstrap" / name).read_text(encoding="utf-8")
        (directory / name).write_text(text.replace(BASE_TOKEN, base), encoding="utf-8")
    return directory
