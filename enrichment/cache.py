"""The cache: diskcache under the data directory, with one lookup in flight per key.

Keys carry a version so a new release never loads old shapes. When the directory cannot be
used (unwritable, corrupt), the cache falls back to process memory with one warning: slower
cards, never a crash. The memory store still gives the bot its atomic `add` for de-duplication.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import diskcache

log = logging.getLogger(__name__)

VERSION = "1"
T = TypeVar("T")
_FAILURES = (OSError, sqlite3.Error, diskcache.Timeout)


class _Store(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any, expire: float | None = None) -> bool: ...
    def add(self, key: str, value: Any, expire: float | None = None) -> bool: ...
    def close(self) -> None: ...


class MemoryStore:
    """A dict with expiry; the stand-in when no disk cache can be had."""

    def __init__(self, max_items: int = 50_000) -> None:
        self._items: dict[str, tuple[float, Any]] = {}
        self._max = max_items

    def _live(self, key: str) -> tuple[float, Any] | None:
        item = self._items.get(key)
        if item and item[0] < time.monotonic():
            del self._items[key]
            return None
        return item

    def get(self, key: str, default: Any = None) -> Any:
        item = self._live(key)
        return default if item is None else item[1]

    def set(self, key: str, value: Any, expire: float | None = None) -> bool:
        if len(self._items) >= self._max:
            self._items.pop(next(iter(self._items)))
        deadline = time.monotonic() + expire if expire is not None else float("inf")
        self._items[key] = (deadline, value)
        return True

    def add(self, key: str, value: Any, expire: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        return self.set(key, value, expire)

    def close(self) -> None:
        self._items.clear()


def _open_disk(directory: Path) -> _Store:
    directory.mkdir(parents=True, exist_ok=True)
    store: _Store = diskcache.Cache(str(directory), size_limit=512 * 1024 * 1024, timeout=2)
    store.set(f"v{VERSION}:probe", 1, expire=60)  # fails now, not later, when unwritable
    return store


class Cache:
    def __init__(self, directory: Path | None) -> None:
        self._store: _Store = MemoryStore()
        self.persistent = False
        if directory is not None:
            try:
                self._store = _open_disk(directory)
                self.persistent = True
            except _FAILURES as exc:
                self._degrade(exc)
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    def _degrade(self, exc: BaseException) -> None:
        log.warning("cache unusable (%s: %s); using memory only", type(exc).__name__, exc)
        self._store = MemoryStore()
        self.persistent = False

    @staticmethod
    def key(*parts: str) -> str:
        return ":".join((f"v{VERSION}", *parts))

    def get(self, key: str) -> Any:
        try:
            return self._store.get(key)
        except _FAILURES as exc:
            self._degrade(exc)
        except Exception:  # an entry pickled by other code: treat as absent
            log.warning("cache entry unreadable; ignoring it")
        return None

    def set(self, key: str, value: Any, ttl: float) -> None:
        try:
            self._store.set(key, value, expire=ttl)
        except _FAILURES as exc:
            self._degrade(exc)
            self._store.set(key, value, expire=ttl)

    def add(self, key: str, value: Any, ttl: float) -> bool:
        """Store `value` only if `key` is absent; True when this call stored it (atomic)."""
        try:
            return self._store.add(key, value, expire=ttl)
        except _FAILURES as exc:
            self._degrade(exc)
            return self._store.add(key, value, expire=ttl)

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl_of: Callable[[T], float | None],
    ) -> T:
        """The cached value, or `compute()` run once however many callers ask at once.

        `ttl_of(value)` says how long to keep it (None: do not keep).
        """
        cached = self.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await compute()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters, if any, get it themselves
            raise
        finally:
            self._inflight.pop(key, None)
        ttl = ttl_of(value)
        if ttl:
            self.set(key, value, ttl)
        future.set_result(value)
        return value

    def close(self) -> None:
        with contextlib.suppress(*_FAILURES):
            self._store.close()
