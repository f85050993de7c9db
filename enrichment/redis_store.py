"""A `Store` in Redis (or Valkey), so several replicas share one cache and one Slack state.

Every key starts with a versioned prefix (`pivot:v1:cache:`, `pivot:v1:slack:`), so the cache
and the state never collide and a new release never reads old shapes. Every value is JSON
text and every key has a lifetime (`SET ... PX`; `add` is `SET ... NX PX`), so nothing grows
without bound. What is read back must be JSON, or it is an `UnsafeEntry` (deleted on sight),
as with the disk store.

Sockets time out quickly: a Redis that is down costs a second or two, not a stalled bot. Any
connection failure or timeout is a `StoreUnreachable` whose message names the server without
its password.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio
from redis.backoff import NoBackoff

from enrichment.settings import redacted_url
from enrichment.stores import StoreUnreachable, UnsafeEntry

TIMEOUT = 1.5  # seconds, for connecting and for every reply
MAX_CONNECTIONS = 64  # per process
# Our own release: delete the lock only while it still holds our token (not a successor's).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


def _pool(url: str, timeout: float) -> redis.asyncio.BlockingConnectionPool:
    """At most MAX_CONNECTIONS sockets; a burst past that waits its turn for one (up to
    twice `timeout`) rather than failing, as redis-py's default pool does past 100."""
    return redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=2 * timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=redis.asyncio.retry.Retry(NoBackoff(), 1),  # one reconnect: a killed socket
    )


class RedisStore:
    """JSON values under `prefix` in the Redis at `url`. The constructor checks the server
    answers (a short blocking PING, once, at start-up) and raises StoreUnreachable if not."""

    shared = True  # other processes see the same keys: the cache also locks across them

    def __init__(self, url: str, prefix: str, *, timeout: float = TIMEOUT) -> None:
        self._prefix = prefix
        self._where = redacted_url(url)
        self._password = urlsplit(url).password
        try:
            with redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            ) as probe:
                probe.ping()
        except (redis.RedisError, OSError, ValueError) as exc:
            raise self._error("(PIVOT_REDIS_URL) cannot be reached", exc) from None
        self._redis = redis.asyncio.Redis.from_pool(_pool(url, timeout))  # aclose closes it
        self._release = self._redis.register_script(_RELEASE)

    def _error(self, what: str, exc: BaseException) -> StoreUnreachable:
        detail = str(exc)[:200]
        if self._password:
            detail = detail.replace(self._password, "***")
        return StoreUnreachable(f"Redis at {self._where} {what}: {type(exc).__name__}: {detail}")

    async def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self._redis, method)(*args, **kwargs)
        except (redis.RedisError, OSError) as exc:
            raise self._error(f"failed on {what}", exc) from None

    async def get(self, key: str) -> Any:
        raw = await self._call("get", "get", self._prefix + key)
        if raw is None:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            await self.delete(key)
            raise UnsafeEntry("entry is not JSON") from None

    async def set(self, key: str, value: Any, ttl: float) -> None:
        if ttl <= 0:  # already expired: gone, as the other stores would have it
            await self.delete(key)
            return
        await self._call("set", "set", self._prefix + key, _json(value), px=_ms(ttl))

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        if ttl <= 0:  # stored and expired at once: only says whether the key was free
            return not await self._call("add", "exists", self._prefix + key)
        done = await self._call(
            "add", "set", self._prefix + key, _json(value), px=_ms(ttl), nx=True
        )
        return bool(done)

    async def delete(self, key: str) -> None:
        await self._call("delete", "delete", self._prefix + key)

    async def release(self, key: str, value: Any) -> None:
        """Delete `key` only while it still holds `value` (a lock's own token), atomically."""
        try:
            await self._release(keys=[self._prefix + key], args=[_json(value)])
        except (redis.RedisError, OSError) as exc:
            raise self._error("failed on release", exc) from None

    async def ttl(self, key: str) -> float | None:
        """Seconds `key` has left; None when it is absent (or, never here, has no lifetime)."""
        left = await self._call("ttl", "pttl", self._prefix + key)
        return None if left < 0 else left / 1000

    async def aclose(self) -> None:
        with contextlib.suppress(redis.RedisError, OSError):  # a dead server: nothing to close
            await self._redis.aclose()


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _ms(ttl: float) -> int:
    """Milliseconds for PX, at least 1 (Redis refuses 0)."""
    return max(1, int(ttl * 1000))
