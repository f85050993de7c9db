"""The cache: persistence, atomic add, one lookup in flight, graceful degradation."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from enrichment.cache import VERSION, Cache


def test_values_survive_a_restart(tmp_path: Path) -> None:
    first = Cache(tmp_path)
    first.set(Cache.key("a"), {"x": 1}, ttl=60)
    first.close()
    second = Cache(tmp_path)
    assert second.persistent
    assert second.get(Cache.key("a")) == {"x": 1}
    second.close()


def test_keys_carry_the_version() -> None:
    assert Cache.key("source", "dns", "x") == f"v{VERSION}:source:dns:x"


def test_add_is_insert_if_absent(tmp_path: Path) -> None:
    one, two = Cache(tmp_path), Cache(tmp_path)  # two processes' views of one directory
    assert one.add("event:E1", 1, ttl=60) is True
    assert two.add("event:E1", 1, ttl=60) is False
    assert one.add("event:E1", 1, ttl=60) is False
    one.close()
    two.close()


def test_expired_values_are_gone() -> None:
    cache = Cache(None)
    cache.set("k", 1, ttl=-1)
    assert cache.get("k") is None
    assert cache.add("k", 2, ttl=60) is True


@pytest.mark.parametrize("breakage", ["file_in_the_way", "corrupt_database"])
def test_an_unusable_directory_degrades_to_memory(
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
    cache.set("k", "v", ttl=60)
    assert cache.get("k") == "v"
    assert cache.add("d", 1, ttl=60) and not cache.add("d", 1, ttl=60)
    cache.close()


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
    assert cache.get("k") is None


async def test_ttl_none_means_do_not_keep() -> None:
    cache = Cache(None)

    async def compute() -> int:
        return 5

    assert await cache.get_or_compute("k", compute, lambda _v: None) == 5
    assert cache.get("k") is None
