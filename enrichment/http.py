"""The one shared HTTP client and the request helper every HTTP source uses.

The helper caps the body size, retries 5xx and connection errors with backoff (never 4xx),
and translates httpx's errors into ours with the cause chained.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from enrichment.errors import RateLimited, SourceTimeout, Unavailable

USER_AGENT = "Pivot/0.1 (open-source SOC enrichment bot; python-httpx)"
MAX_BODY = 8 * 1024 * 1024


class _ConnectionFailed(Unavailable):
    """Worth another try, unlike an oversized or malformed answer."""


def make_client(**kwargs: Any) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        timeout=httpx.Timeout(10.0, connect=5.0),
        limits=limits,
        follow_redirects=True,
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


async def _once(
    client: httpx.AsyncClient, method: str, url: str, max_bytes: int, **kwargs: Any
) -> tuple[int, bytes, httpx.Response]:
    try:
        async with client.stream(method, url, **kwargs) as response:
            if response.status_code == 429:
                raise RateLimited("HTTP 429", retry_after=_retry_after(response))
            body = await _read_capped(response, max_bytes)
            return response.status_code, body, response
    except httpx.TimeoutException as exc:
        raise SourceTimeout("timed out") from exc
    except httpx.TransportError as exc:
        raise _ConnectionFailed(f"connection failed ({type(exc).__name__})") from exc


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int = MAX_BODY,
    retries: int = 2,
    backoff: float = 0.2,
    **kwargs: Any,
) -> tuple[int, bytes]:
    """Return (status, body) for any status below 500 except 429, which raises RateLimited.

    5xx and connection errors are retried `retries` times with doubling backoff; the caller's
    timeout (the service's deadline) bounds the whole thing.
    """
    for attempt in range(retries + 1):
        last = attempt == retries
        try:
            status, body, _ = await _once(client, method, url, max_bytes, **kwargs)
        except _ConnectionFailed:
            if last:
                raise
        else:
            if status < 500:
                return status, body
            if last:
                raise Unavailable(f"HTTP {status}")
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
