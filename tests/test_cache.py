"""The stores and the cache: JSON only, persistence, atomic add, one lookup in flight, graceful
degradation of the cache, and a state store that refuses to degrade."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
from pathlib import Path

import diskcache
import pytest

from bot.state import open_state
from enrichment.cache import VERSION, Cache
from enrichment.redis_store import RedisStore
from enrichment.stores import DiskStore, MemoryStore, Store, StoreError, UnsafeEntry


async def test_values_survive_a_restart(tmp_path: Path) -> None:
    first = Cache(tmp_path)
    await first.set(Cache.key("a"), {"x": [1, "two"]}, ttl=60)
    await first.aclose()
    second = Cache(tmp_path)
    assert second.persistent
    assert await second.get(Cache.key("a")) == {"x": [1, "two"]}
    await second.aclose()


def test_keys_carry_the_version() -> None:
    assert Cache.key("source", "dns", "x") == f"v{VERSION}:source:dns:x"


def _shared_stores(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> list[Store]:
    """Two processes' views of one store: one directory, or one Redis (skipped without one)."""
    if backend == "disk":
        return [DiskStore(tmp_path), DiskStore(tmp_path)]
    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    return [RedisStore(url, prefix), RedisStore(url, prefix)]


@pytest.mark.parametrize("backend", ["disk", "redis"])
async def test_add_is_insert_if_absent_across_processes(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    one, two = _shared_stores(backend, tmp_path, request)
    assert await one.add("event:E1", 1, ttl=60) is True
    assert await two.add("event:E1", 1, ttl=60) is False
    assert await one.add("event:E1", 1, ttl=60) is False
    await one.aclose()
    await two.aclose()


@pytest.mark.parametrize("backend", ["memory", "disk", "redis"])
async def test_expired_values_are_gone(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    stores = [MemoryStore()] if backend == "memory" else _shared_stores(backend, tmp_path, request)
    target = stores[0]
    await target.set("k", 1, ttl=-1)
    assert await target.get("k") is None
    assert await target.add("k", 2, ttl=60) is True
    for store in stores:
        await store.aclose()


class Planted:
    """What an attacker with write access to the data directory would leave behind."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("where", ["cache", "state"])
async def test_a_planted_pickle_is_never_executed(tmp_path: Path, where: str) -> None:
    marker = tmp_path / "pwned"
    directory = tmp_path / "data" / where
    ours = Cache(directory) if where == "cache" else open_state(tmp_path / "data")
    planter = diskcache.Cache(str(directory))  # diskcache's default disk pickles
    planter.set("k", Planted(marker))
    planter.set("plain", "a str, but stored raw by a pickling disk")
    planter.close()
    pickle.loads(pickle.dumps(Planted(tmp_path / "control")))
    assert (tmp_path / "control").exists()  # the payload does run when unpickled
    if isinstance(ours, Cache):
        assert await ours.get("k") is None
        await ours.aclose()
    else:
        with pytest.raises(UnsafeEntry):
            await ours.get("k")
        assert await ours.get("k") is None  # removed on sight
        await ours.aclose()
    assert not marker.exists()


@pytest.mark.parametrize("breakage", ["file_in_the_way", "corrupt_database"])
async def test_an_unusable_directory_degrades_the_cache_to_memory(
    tmp_path: Path, breakage: str, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "cache"
    if breakage == "file_in_the_way":
        target.write_text("not a directory")
    else:
        target.mkdir()
        (target / "cache.db").write_bytes(b"this is not sqlite" * 100)
    with caplog.at_level(logging.WARNING):
        cache = Cache(target)
    assert not cache.persistent
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    await cache.set("k", "v", ttl=60)
    assert await cache.get("k") == "v"
    await cache.aclose()


def test_an_unusable_state_directory_is_an_error_not_a_memory_stand_in(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a directory")
    with pytest.raises(StoreError, match="state"):
        open_state(tmp_path)


async def test_the_state_store_never_evicts_a_live_entry(tmp_path: Path) -> None:
    state = open_state(tmp_path)
    big = "x" * 200_000
    for n in range(40):  # 8 MB of claims and buttons: well past any cache's appetite
        await state.set(f"k{n}", big, ttl=3600)
    assert all([await state.get(f"k{n}") == big for n in range(40)])
    await state.aclose()


async def test_one_computation_in_flight_per_key() -> None:
    cache = Cache(None)
    calls = 0
    gate = asyncio.Event()

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return "answer"

    waiters = [
        asyncio.ensure_future(cache.get_or_compute("k", compute, lambda _v: 60)) for _ in range(20)
    ]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == ["answer"] * 20
    assert calls == 1
    assert await cache.get_or_compute("k", compute, lambda _v: 60) == "answer"
    assert calls == 1  # now from the cache


async def test_a_failed_computation_is_not_cached_and_reaches_every_waiter() -> None:
    cache = Cache(None)
    gate = asyncio.Event()

    async def broken() -> str:
        await gate.wait()
        raise RuntimeError("boom")

    waiters = [
        asyncio.ensure_future(cache.get_or_compute("k", broken, lambda _v: 60)) for _ in range(3)
    ]
    await asyncio.sleep(0)
    gate.set()
    outcomes = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert await cache.get("k") is None


async def test_ttl_none_means_do_not_keep() -> None:
    cache = Cache(None)

    async def compute() -> int:
        return 5

    assert await cache.get_or_compute("k", compute, lambda _v: None) == 5
    assert await cache.get("k") is None
