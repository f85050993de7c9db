"""The one shared HTTP client and the request helper every HTTP source uses.

The helper caps the body size, retries 5xx and connection errors with backoff (never 4xx),
and translates httpx's errors into ours with the cause chained. It follows redirects itself,
at most `MAX_REDIRECTS` hops: to the same host, or to a host that passes the outbound rule
(`enrichment.outbound`), so a redirect never reaches a private or loopback address.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, NamedTuple

import httpx

from enrichment.errors import RateLimited, SourceTimeout, Unavailable
from enrichment.outbound import public_addresses

USER_AGENT = "Pivot/0.1 (open-source SOC enrichment bot; python-httpx)"
MAX_BODY = 8 * 1024 * 1024
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _ConnectionFailed(Unavailable):
    """Worth another try, unlike an oversized or malformed answer."""


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        timeout=httpx.Timeout(10.0, connect=5.0),
        limits=limits,
        follow_redirects=False,  # `request` follows them, through the outbound rule
        **kwargs,
    )


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise Unavailable(f"response too large ({declared} bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise Unavailable(f"response larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class Answer(NamedTuple):
    status: int
    body: bytes
    headers: httpx.Headers


async def _once(
    client: httpx.AsyncClient, method: str, url: str, max_bytes: int, **kwargs: Any
) -> tuple[Answer, httpx.URL | None]:
    """The answer and where a redirect points, for one request; no body for a redirect."""
    try:
        async with client.stream(method, url, **kwargs) as response:
            if response.status_code == 429:
                raise RateLimited("HTTP 429", retry_after=_retry_after(response))
            if response.status_code in REDIRECTS:
                return Answer(response.status_code, b"", response.headers), _location(response)
            body = await _read_capped(response, max_bytes)
            return Answer(response.status_code, body, response.headers), None
    except httpx.TimeoutException as exc:
        raise SourceTimeout("timed out") from exc
    except httpx.TransportError as exc:
        raise _ConnectionFailed(f"connection failed ({type(exc).__name__})") from exc


def _location(response: httpx.Response) -> httpx.URL:
    location = response.headers.get("Location")
    if not location:
        raise Unavailable(f"HTTP {response.status_code} without a Location")
    try:
        return response.url.join(location)
    except httpx.InvalidURL as exc:
        raise Unavailable("redirect to an unreadable URL") from exc


async def _allowed_hop(origin: httpx.URL, target: httpx.URL) -> str:
    """`target` when a redirect from `origin` may go there; Unavailable otherwise."""
    if target.scheme not in ("http", "https"):
        raise Unavailable(f"redirect to a {target.scheme or 'schemeless'} URL; not followed")
    same = (target.host, target.port or target.scheme) == (
        origin.host,
        origin.port or origin.scheme,
    )
    if not same:
        await public_addresses(
            target.host, target.port or (443 if target.scheme == "https" else 80)
        )
    return str(target)


async def fetch(
    client: httpx.AsyncClient, method: str, url: str, max_bytes: int, **kwargs: Any
) -> Answer:
    """One request, its redirects followed through the outbound rule."""
    origin = httpx.URL(url)
    for _ in range(MAX_REDIRECTS + 1):
        answer, location = await _once(client, method, url, max_bytes, **kwargs)
        if location is None:
            return answer
        url = await _allowed_hop(origin, location)
        method = "GET" if answer.status == 303 else method
        kwargs.pop("params", None)  # the Location carries its own query
    raise Unavailable(f"more than {MAX_REDIRECTS} redirects")


async def request(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> tuple[int, bytes]:
    """(status, body) of `answer`."""
    status, body, _ = await answer(client, method, url, **kwargs)
    return status, body


async def answer(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int = MAX_BODY,
    retries: int = 2,
    backoff: float = 0.2,
    **kwargs: Any,
) -> Answer:
    """The answer for any status below 500 except 429, which raises RateLimited.

    5xx and connection errors are retried `retries` times with doubling backoff; the caller's
    timeout (the service's deadline) bounds the whole thing.
    """
    for attempt in range(retries + 1):
        last = attempt == retries
        try:
            got = await fetch(client, method, url, max_bytes, **kwargs)
        except _ConnectionFailed:
            if last:
                raise
        else:
            if got.status < 500:
                return got
            if last:
                raise Unavailable(f"HTTP {got.status}")
        await asyncio.sleep(backoff * (2**attempt))
    raise AssertionError("unreachable")


async def get_json(
    client: httpx.AsyncClient, url: str, *, shape: type = dict, **kwargs: Any
) -> Any:
    """GET `url`: the parsed JSON of a 200 answer, or None for 404 or an empty 200.

    Any other status, a body that is not JSON, or JSON that is not of `shape` (dict or list)
    is Unavailable; 429 is RateLimited (from `request`).
    """
    status, body = await request(client, "GET", url, **kwargs)
    if status == 404 or (status == 200 and not body.strip()):
        return None
    if status != 200:
        raise Unavailable(f"HTTP {status}")
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested hostile JSON
        raise Unavailable("answer was not JSON") from exc
    if not isinstance(doc, shape):
        raise Unavailable("answer was not a list" if shape is list else "answer was not an object")
    return doc
