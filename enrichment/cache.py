"""The enrichment cache: answers kept for their lifetime, one lookup in flight per key.

Values are JSON (see `enrichment.stores`). Keys carry a version so a new release never reads
old shapes. When the store cannot be used (unwritable, corrupt, locked disk; Redis gone), the
cache carries on in process memory, says so once, and tries its store again a little later:
slower cards, never a crash and never a lost card.

One lookup in flight per key: within a process, callers of the same key share one future.
When the store is shared by several processes (Redis), the one computing also holds a lock
there (`SET lock:<key> token NX PX ttl`): another replica asking the same key meanwhile polls
for the value instead of computing it, and computes it itself when the lock goes away without
a value (the holder failed) or its lifetime ends (the holder died).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from enrichment.stores import (
    DiskStore,
    MemoryStore,
    Outage,
    SharedStore,
    Store,
    StoreError,
    UnsafeEntry,
)

log = logging.getLogger(__name__)

VERSION = "2"  # 2: JSON values
SIZE_LIMIT = 512 * 1024 * 1024
REDIS_PREFIX = "pivot:cache:"  # + the versioned key
LOCK_TTL = 10.0  # seconds another replica waits at most for a lookup in flight
RETRY_AFTER = 30.0  # seconds in memory before the store is tried again
POLL_FIRST, POLL_MAX = 0.01, 0.2  # seconds between looks at a value another replica computes
T = TypeVar("T")


def open_store(directory: Path | None, redis_url: str | None = None) -> Store:
    """Redis when `redis_url` is set, else the disk store under `directory`, else memory;
    memory (with one warning) when the one asked for cannot be had."""
    try:
        if redis_url:
            from enrichment.redis_store import RedisStore  # only those who use Redis load it

            return RedisStore(redis_url, REDIS_PREFIX)
        if directory is None:
            return MemoryStore()
        return DiskStore(directory, size_limit=SIZE_LIMIT, timeout=2.0)
    except StoreError as exc:
        log.warning("cache unusable (%s); using memory only", exc)
        return MemoryStore()


def shared(store: Store) -> SharedStore | None:
    """`store` when other processes see it too (its lookups are locked there), else None."""
    return cast(SharedStore, store) if getattr(store, "shared", False) else None


class Cache:
    def __init__(
        self,
        store: Store | Path | None,
        *,
        lock_ttl: float = LOCK_TTL,
        retry_after: float = RETRY_AFTER,
    ) -> None:
        self._primary = store if not isinstance(store, Path | None) else open_store(store)
        self._memory = MemoryStore()
        self._down_until = 0.0  # monotonic time before which the primary store is not tried
        self._outage = Outage(log, "cache", "using memory only for now")
        self._lock_ttl, self._retry_after = lock_ttl, retry_after
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    @property
    def persistent(self) -> bool:
        return not isinstance(self._primary, MemoryStore)

    @property
    def _store(self) -> Store:
        return self._memory if time.monotonic() < self._down_until else self._primary

    @staticmethod
    def key(*parts: str) -> str:
        return ":".join((f"v{VERSION}", *parts))

    def _degrade(self, exc: BaseException) -> None:
        self._outage.failed(exc)
        self._down_until = time.monotonic() + self._retry_after

    async def get(self, key: str) -> Any:
        store = self._store
        try:
            value = await store.get(key)
        except UnsafeEntry:
            log.warning("cache entry not written by Pivot (not JSON); ignored and removed")
            return None
        except StoreError as exc:
            self._degrade(exc)
            return None
        if store is self._primary:
            self._outage.ok()
        return value

    async def set(self, key: str, value: Any, ttl: float) -> None:
        try:
            await self._store.set(key, value, ttl)
        except StoreError as exc:
            self._degrade(exc)
            await self._memory.set(key, value, ttl)

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl_of: Callable[[T], float | None],
    ) -> T:
        """The cached value, or `compute()` run once however many callers ask at once (in
        this process, and across processes sharing a Redis).

        `ttl_of(value)` says how long to keep it (None: do not keep). Values must be JSON.
        """
        cached = await self.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._across_processes(key, compute, ttl_of)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters, if any, get it themselves
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(value)
        return value

    async def _compute(
        self, key: str, compute: Callable[[], Awaitable[T]], ttl_of: Callable[[T], float | None]
    ) -> T:
        value = await compute()
        ttl = ttl_of(value)
        if ttl:
            await self.set(key, value, ttl)
        return value

    async def _across_processes(
        self, key: str, compute: Callable[[], Awaitable[T]], ttl_of: Callable[[T], float | None]
    ) -> T:
        """`_compute` under the store's lock for `key` when the store is shared: the value
        another process computed meanwhile when there is one."""
        store = shared(self._store)
        if store is None:
            return await self._compute(key, compute, ttl_of)
        lock, token = f"lock:{key}", secrets.token_hex(8)
        deadline = time.monotonic() + self._lock_ttl
        held = await self._take(store, lock, token)
        while held is False and time.monotonic() < deadline:
            value = await self._wait(store, key, lock, deadline)
            if value is not None:
                return cast(T, value)
            held = await self._take(store, lock, token)
        try:
            if held:  # stored by a holder between our last look and its release?
                value = await self.get(key)
                if value is not None:
                    return cast(T, value)
            return await self._compute(key, compute, ttl_of)
        finally:
            if held and self._store is store:
                try:
                    await store.release(lock, token)
                except StoreError as exc:
                    self._degrade(exc)

    async def _take(self, store: SharedStore, lock: str, token: str) -> bool | None:
        """True: the lock is ours; False: another process holds it; None: no store to lock
        in any more (it failed: compute without a lock)."""
        try:
            return await store.add(lock, token, self._lock_ttl)
        except StoreError as exc:
            self._degrade(exc)
            return None

    async def _wait(self, store: SharedStore, key: str, lock: str, deadline: float) -> Any:
        """The value another process is computing, polled until it comes (returned), or the
        lock is gone without it, the store fails, or `deadline` passes (None)."""
        delay = POLL_FIRST
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MAX)
            value = await self.get(key)
            if value is not None or self._store is not store:
                return value
            try:
                if await store.get(lock) is None:
                    return None  # released without a value: its holder failed
            except (StoreError, UnsafeEntry):
                return None
        return None

    async def aclose(self) -> None:
        await self._primary.aclose()
        await self._memory.aclose()
