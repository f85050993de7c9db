"""A loopback imitation of mnemonic's PassiveDNS API (`GET /pdns/v3/<query>`), served by the
shared `HttpServer`.

Records come from tests/fixtures/mnemonic/pdns.json, in the API's own record shape. A query
matches the records whose `query` or `answer` is it; `rrType` filters by type; the matches,
most recently seen first, are paged with `offset` and `limit` (default 25, 0 meaning all) in
the API's container `{responseCode, limit, offset, count, metaData, size, data, messages}`.
Like the real service it refuses a `limit` above its resource limit (1,000 anonymous, 10,000
with a key) with 412, and a wrong `Argus-API-Key` with 401.

    api = MnemonicApi()
    api.install(http_server)             # under /mnemonic; base URL: api.url(http_server)
    api.override = Response.json(...)    # answer every request with this instead
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.servers.http_server import HttpServer, Request, Response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mnemonic"
PUBLIC_LIMIT = 1_000
KEYED_LIMIT = 10_000


def container(code: int, data: list[Any] | None = None, **fields: Any) -> dict[str, Any]:
    """The API's answer: `data` with its paging fields, or an error with `message`."""
    message = fields.pop("message", None)
    messages = [{"type": "ACTION_ERROR", "message": message, "field": None}] if message else []
    body = {"responseCode": code, "limit": 25, "offset": 0, "count": 0, "metaData": {}}
    body |= {"size": len(data or []), "data": data, "messages": messages}
    return body | fields


def refusal(code: int, message: str) -> Response:
    return Response.json(container(code, None, message=message), status=code)


def records() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((FIXTURES / "pdns.json").read_text())
    return found


def _norm(value: Any) -> str:
    return str(value).lower().rstrip(".")


@dataclass
class MnemonicApi:
    prefix: str = "/mnemonic"
    key: str | None = None  # when set, the key a request may carry (and must, if it carries one)
    override: Response | None = None
    seen: list[Request] = field(default_factory=list)

    def install(self, server: HttpServer) -> None:
        server.route(self.prefix + "/pdns/v3/", self.answer, prefix=True)

    def url(self, server: HttpServer) -> str:
        return server.url + self.prefix

    def answer(self, request: Request) -> Response:
        self.seen.append(request)
        if self.override is not None:
            return self.override
        given = request.headers.get("argus-api-key")
        if given is not None and given != self.key:
            return refusal(401, "Authentication failed")
        limit, offset = int(request.param("limit") or 25), int(request.param("offset") or 0)
        query = _norm(unquote(request.path.removeprefix(self.prefix + "/pdns/v3/")))
        found = self._matches(query, request.param("rrType"))
        if (limit or len(found)) > (KEYED_LIMIT if given else PUBLIC_LIMIT):
            return refusal(412, "Resource limit exceeded")  # limit=0 asks for every record
        page = found[offset:][: limit or None]
        return Response.json(container(200, page, limit=limit, offset=offset, count=len(found)))

    def _matches(self, query: str, rrtype: str | None) -> list[dict[str, Any]]:
        found = [r for r in records() if query in (_norm(r["query"]), _norm(r["answer"]))]
        if rrtype:
            found = [r for r in found if r["rrtype"].lower() == rrtype.lower()]
        return sorted(found, key=lambda r: (-r["lastSeenTimestamp"], r["query"]))
