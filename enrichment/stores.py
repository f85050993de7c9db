"""Key-value stores with a lifetime per key, holding JSON values only.

`Store` is the small interface both the enrichment cache and the bot's Slack state use:
`get`, `set` and an atomic `add` (store only when absent), each with a TTL. `DiskStore` keeps
it in diskcache (SQLite) under the data directory, with every call in a worker thread so a
busy disk never stalls the event loop; `MemoryStore` keeps it in this process;
`enrichment.redis_store.RedisStore` keeps it in Redis, shared by every replica.

Values are JSON, never pickle: diskcache's default disk unpickles what it reads, so whoever
can write the data directory (a shared volume) could make the bot run code. `JsonDisk` writes
JSON text and refuses to read anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any, Protocol

import diskcache
from diskcache.core import MODE_RAW, MODE_TEXT

from enrichment.errors import PivotError

_DISK_FAILURES = (OSError, sqlite3.Error, diskcache.Timeout)


class StoreError(PivotError):
    """The store could not be used (disk, lock or connection); the message is safe to log."""


class StoreUnreachable(StoreError):
    """A store's server (Redis) did not answer; the message names it, never its password."""


class UnsafeEntry(ValueError):
    """An entry this code did not write (pickled, binary, or not JSON): never decoded."""


class Store(Protocol):
    async def get(self, key: str) -> Any: ...
    async def set(self, key: str, value: Any, ttl: float) -> None: ...
    async def add(self, key: str, value: Any, ttl: float) -> bool: ...
    async def delete(self, key: str) -> None: ...
    async def aclose(self) -> None: ...


class SharedStore(Store, Protocol):
    """A store other processes see too (Redis): the cache also takes its locks there.
    `release(key, value)` deletes `key` only while it still holds `value`, atomically."""

    shared: bool

    async def release(self, key: str, value: Any) -> None: ...


class Outage:
    """Says once that `what` is unavailable, and once that it is back: a store that is down
    fails every call, and one line per call would bury everything else in the log."""

    def __init__(self, log: logging.Logger, what: str, meaning: str) -> None:
        self.log, self.what, self.meaning = log, what, meaning
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            self.down = True
            self.log.warning("%s unavailable (%s); %s", self.what, exc, self.meaning)

    def ok(self) -> None:
        if self.down:
            self.down = False
            self.log.warning("%s available again", self.what)


class JsonDisk(diskcache.Disk):  # type: ignore[misc]
    """A diskcache Disk that stores values as JSON text and reads back JSON text only."""

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN) -> Any:
        if read:
            raise TypeError("JsonDisk stores JSON values, not files")
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return super().store(text, False, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode not in (MODE_RAW, MODE_TEXT) or (mode == MODE_RAW and type(value) is not str):
            raise UnsafeEntry(f"entry of mode {mode} was not written as JSON")
        text = super().fetch(mode, filename, value, False)
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise UnsafeEntry("entry is not JSON") from exc

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:  # a pickled key: only someone else's code writes those
            raise UnsafeEntry("entry key was pickled")
        return super().get(key, raw)


class DiskStore:
    """diskcache under `directory`. `size_limit` None: never evict an entry before its TTL
    (expired ones are culled as new ones arrive); else least-recently-stored eviction."""

    def __init__(
        self, directory: Path, *, size_limit: int | None = None, timeout: float = 5.0
    ) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(
                str(directory),
                disk=JsonDisk,
                timeout=timeout,
                size_limit=size_limit or 2**62,
                eviction_policy="least-recently-stored" if size_limit else "none",
            )
            self._cache.set("store:probe", 1, expire=60)  # unwritable: fail now, not later
        except _DISK_FAILURES as exc:
            raise StoreError(f"{directory}: {type(exc).__name__}: {exc}") from exc

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(getattr(self._cache, method), *args, **kwargs)
        except _DISK_FAILURES as exc:
            raise StoreError(f"disk store {method} failed: {type(exc).__name__}") from exc

    async def get(self, key: str) -> Any:
        try:
            return await self._call("get", key)
        except UnsafeEntry:
            await self._call("delete", key)
            raise

    async def set(self, key: str, value: Any, ttl: float) -> None:
        await self._call("set", key, value, expire=ttl)

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        return bool(await self._call("add", key, value, expire=ttl))

    async def delete(self, key: str) -> None:
        await self._call("delete", key)

    async def aclose(self) -> None:
        with contextlib.suppress(*_DISK_FAILURES):
            self._cache.close()


class MemoryStore:
    """A dict with expiry, oldest entries dropped beyond `max_items`. JSON round trip on the
    way in, so it holds exactly what a disk or Redis store would give back."""

    def __init__(self, max_items: int = 50_000) -> None:
        self._items: dict[str, tuple[float, str]] = {}
        self._max = max_items

    def _live(self, key: str) -> tuple[float, str] | None:
        item = self._items.get(key)
        if item and item[0] < time.monotonic():
            del self._items[key]
            return None
        return item

    async def get(self, key: str) -> Any:
        item = self._live(key)
        return None if item is None else json.loads(item[1])

    async def set(self, key: str, value: Any, ttl: float) -> None:
        if key not in self._items and len(self._items) >= self._max:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (time.monotonic() + ttl, json.dumps(value))

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def aclose(self) -> None:
        self._items.clear()
