"""A loopback imitation of the DomainTools API, served by the shared `HttpServer`.

It checks every request as the real service does: `api_username`, `timestamp` (UTC
`%Y-%m-%dT%H:%M:%SZ`, refused when more than `WINDOW` seconds off its clock) and `signature`
= hex HMAC-SHA256 keyed with the account's API key over username + timestamp + URI path; a
bad signature, an unknown user or a stale timestamp is the API's 403 envelope. A request that
carries `api_key` itself is refused too (Pivot must never send it) and counted in `leaks`.

Answers come from tests/fixtures/domaintools/, in the API's `{"response": {...}}` envelope:
`profile_<domain>.json`, `whois_parsed_<domain>.json`, `risk_<domain>.json`,
`host_domains_<ip>.json` (":" spelt "-"), `ns_<host>.json` and `reverse_whois.json` (by
terms). Lists shorter than the count they declare are padded with made-up, machine-generated
names (the Locky actor's thousands of domains), the same ones on every request, and cut to the
request's `limit`. Anything else is the API's 404 envelope.

    api = DomainToolsApi()
    api.install(http_server)            # under /domaintools; base URL: api.url(http_server)
    api.override = Response.json(...)   # answer every signed request with this instead
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.servers.http_server import HttpServer, Request, Response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "domaintools"
USERNAME = "soc-pivot@example.org"
API_KEY = "dt-key-0b5f7c2a9e4d41c3"
WINDOW = 300.0  # seconds a timestamp may be off
REFUSED = "The credentials you entered do not match an active account."
NOT_FOUND = "We have no recent WHOIS information available for this domain/IP Address."
_TLDS = ("pw", "ru", "info", "in", "top", "xyz")


def envelope(code: int, message: str) -> Response:
    support = {"support": "https://www.domaintools.com/support/"}
    return Response.json({"error": {"code": code, "message": message}, "resources": support}, code)


def load(name: str) -> Any:
    path = FIXTURES / name
    return json.loads(path.read_text()) if path.exists() else None


def made_up_names(seed: str, count: int) -> list[str]:
    """`count` distinct machine-generated-looking domains, the same for the same seed."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        label = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(8, 14)))
        names[f"{label}.{rng.choice(_TLDS)}"] = None
    return list(names)


def padded(names: list[str], count: int, seed: str) -> list[str]:
    return names + made_up_names(seed, max(0, count - len(names)))


def signature(username: str, key: str, timestamp: str, path: str) -> str:
    message = (username + timestamp + path).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class DomainToolsApi:
    username: str = USERNAME
    key: str = API_KEY
    prefix: str = "/domaintools"
    clock: Callable[[], float] = time.time
    override: Response | None = None
    seen: list[Request] = field(default_factory=list)
    leaks: int = 0  # requests that carried the key itself

    def install(self, server: HttpServer) -> None:
        server.route(self.prefix + "/", self.answer, prefix=True)

    def url(self, server: HttpServer) -> str:
        return server.url + self.prefix

    # -- authentication -------------------------------------------------------------------

    def refusal(self, request: Request) -> Response | None:
        """The 403 the API answers an unsigned, mis-signed or stale request with."""
        if request.param("api_key") is not None:
            self.leaks += 1
            return envelope(403, REFUSED)
        user, stamp, signed = (request.param(n) for n in ("api_username", "timestamp", "signature"))
        if user != self.username or not stamp or not signed:
            return envelope(403, REFUSED)
        try:
            when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return envelope(400, "The timestamp is not in the expected format.")
        if abs(when.timestamp() - self.clock()) > WINDOW:
            return envelope(403, REFUSED)
        expected = signature(self.username, self.key, stamp, request.path)
        return None if hmac.compare_digest(expected, signed) else envelope(403, REFUSED)

    # -- answers --------------------------------------------------------------------------

    def answer(self, request: Request) -> Response:
        self.seen.append(request)
        refused = self.refusal(request)
        if refused is not None:
            return refused
        if self.override is not None:
            return self.override
        parts = request.path[len(self.prefix) :].strip("/").split("/")
        found = self._serve(parts, request)
        if isinstance(found, Response):
            return found
        return Response.json({"response": found}) if found is not None else envelope(404, NOT_FOUND)

    def _serve(self, parts: list[str], request: Request) -> Any:
        if len(parts) < 2 or parts[0] != "v1":
            return None
        subject, tail = parts[1], "/".join(parts[2:])
        if (subject, tail) == ("risk", ""):
            return _inner(load(f"risk_{request.param('domain')}.json"))
        if (subject, tail) == ("reverse-whois", ""):
            return self._reverse_whois(request)
        serve = _BY_TAIL.get(tail)
        return serve(subject, int(request.param("limit") or 1000)) if serve else None

    def _reverse_whois(self, request: Request) -> Any:
        terms, mode = request.param("terms"), request.param("mode")
        found = (load("reverse_whois.json") or {}).get(terms or "")
        if mode not in ("quote", "purchase"):
            return envelope(400, "We could not understand your request.")
        if found is None:
            return {"domain_count": {"current": 0, "historic": 0}, "domains": []}
        answer = {k: v for k, v in found.items() if k != "domains"}
        if mode == "purchase":
            total = found["domain_count"]["current"]
            answer["domains"] = padded(found["domains"], total, terms or "")
        return answer


def _inner(doc: Any) -> Any:
    return doc["response"] if isinstance(doc, dict) else None


def _host_domains(ip: str, limit: int) -> Any:
    found = _inner(load(f"host_domains_{ip.replace(':', '-')}.json"))
    if found is None:
        return None
    block = found["ip_addresses"]
    names = padded(block["domain_names"], block["domain_count"], ip)
    return {"ip_addresses": {**block, "domain_names": names[:limit]}}


def _name_server_domains(host: str, limit: int) -> Any:
    found = _inner(load(f"ns_{host}.json"))
    if found is None:
        return None
    counts = found["name_server"]
    primary = padded(found["primary_domains"], counts["primary"], host)
    secondary = padded(found["secondary_domains"], counts["secondary"], host + "/2")
    return {**found, "primary_domains": primary[:limit], "secondary_domains": secondary[:limit]}


_BY_TAIL: dict[str, Callable[[str, int], Any]] = {
    "": lambda domain, _limit: _inner(load(f"profile_{domain}.json")),
    "whois/parsed": lambda domain, _limit: _inner(load(f"whois_parsed_{domain}.json")),
    "host-domains": _host_domains,
    "name-server-domains": _name_server_domains,
}
