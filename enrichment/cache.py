"""The enrichment cache: answers kept for their lifetime, one lookup in flight per key.

Values are JSON (see `enrichment.stores`). Keys carry a version so a new release never reads
old shapes. When the disk cannot be used (unwritable, corrupt, locked), the cache carries on in
process memory with one warning: slower cards, never a crash and never a lost card.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from enrichment.stores import DiskStore, MemoryStore, Store, StoreError, UnsafeEntry

log = logging.getLogger(__name__)

VERSION = "2"  # 2: JSON values
SIZE_LIMIT = 512 * 1024 * 1024
T = TypeVar("T")


def open_store(directory: Path | None) -> Store:
    """The disk store under `directory`, or memory (with one warning) when it cannot be had."""
    if directory is None:
        return MemoryStore()
    try:
        return DiskStore(directory, size_limit=SIZE_LIMIT, timeout=2.0)
    except StoreError as exc:
        log.warning("cache unusable (%s); using memory only", exc)
        return MemoryStore()


class Cache:
    def __init__(self, store: Store | Path | None) -> None:
        self._store = store if not isinstance(store, Path | None) else open_store(store)
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    @property
    def persistent(self) -> bool:
        return not isinstance(self._store, MemoryStore)

    @staticmethod
    def key(*parts: str) -> str:
        return ":".join((f"v{VERSION}", *parts))

    def _degrade(self, exc: BaseException) -> None:
        log.warning("cache unusable (%s); using memory only", exc)
        self._store = MemoryStore()

    async def get(self, key: str) -> Any:
        try:
            return await self._store.get(key)
        except UnsafeEntry:
            log.warning("cache entry not written by Pivot (not JSON); ignored and removed")
        except StoreError as exc:
            self._degrade(exc)
        return None

    async def set(self, key: str, value: Any, ttl: float) -> None:
        try:
            await self._store.set(key, value, ttl)
        except StoreError as exc:
            self._degrade(exc)
            await self._store.set(key, value, ttl)

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl_of: Callable[[T], float | None],
    ) -> T:
        """The cached value, or `compute()` run once however many callers ask at once.

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
            value = await compute()
            ttl = ttl_of(value)
            if ttl:
                await self.set(key, value, ttl)
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

    async def aclose(self) -> None:
        await self._store.aclose()
