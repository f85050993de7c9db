"""PIVOT_REDIS_URL: the store contract on a real Redis, the cache's lock across replicas,
exactly-once claims across state stores, start-up and mid-serve failures, and the URL's
password kept out of every message. Skipped (with the reason) when no Redis answers."""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any, cast

import pytest
import redis

from bot.deps import Deps
from bot.settings import SlackSettings
from bot.state import open_state
from enrichment.cache import Cache
from enrichment.errors import ConfigError
from enrichment.redis_store import RedisStore
from enrichment.settings import Settings
from enrichment.stores import StoreError, StoreUnreachable, UnsafeEntry
from tests.servers.redis_server import TcpProxy, keys_under
from tests.test_cli import run

DEAD = "redis://:hunter2-secret@127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as client:
        yield client


@pytest.fixture
async def new_store(redis_url: str, redis_prefix: str) -> AsyncIterator[Callable[[], RedisStore]]:
    """Opens a store (another client: another replica) under the test's prefix; every one is
    closed afterwards, even when the test failed (an open socket would fail the next test)."""
    opened: list[RedisStore] = []

    def make(url: str = redis_url) -> RedisStore:
        opened.append(RedisStore(url, redis_prefix))
        return opened[-1]

    yield make
    for store in opened:
        await store.aclose()


async def test_get_set_add_delete(
    new_store: Callable[..., RedisStore], redis_url: str, redis_prefix: str
) -> None:
    store = new_store()
    assert await store.get("k") is None
    await store.set("k", {"x": [1, "two", None]}, ttl=60)
    assert await store.get("k") == {"x": [1, "two", None]}
    assert await store.add("k", "other", ttl=60) is False
    assert await store.get("k") == {"x": [1, "two", None]}
    await store.delete("k")
    assert await store.get("k") is None
    assert await store.add("k", "now", ttl=60) is True
    assert await store.get("k") == "now"
    await store.aclose()


async def test_every_key_is_json_under_the_prefix_with_a_lifetime(
    new_store: Callable[..., RedisStore], redis_url: str, redis_prefix: str, raw: redis.Redis
) -> None:
    store = new_store()
    cache = Cache(store)
    await store.set("a", {"é": 1}, ttl=60)
    await store.add("b", 2, ttl=3600)

    async def compute() -> list[int]:
        return [1, 2]

    await cache.get_or_compute(Cache.key("source", "x"), compute, lambda _v: 120)
    found = keys_under(redis_url, redis_prefix)
    assert set(found) == {"a", "b", "v2:source:x"}  # the lock is released: no key left
    assert all(0 < left <= 3_600_000 for left in found.values())
    assert raw.get(f"{redis_prefix}a") == '{"é":1}'.encode()
    await cache.aclose()


async def test_an_expired_lifetime_leaves_nothing(
    new_store: Callable[..., RedisStore], redis_url: str, redis_prefix: str
) -> None:
    store = new_store()
    await store.set("k", 1, ttl=60)
    await store.set("k", 1, ttl=-1)
    assert await store.get("k") is None
    assert await store.add("k", 2, ttl=0) is True
    assert keys_under(redis_url, redis_prefix) == {}
    await store.aclose()


@pytest.mark.parametrize(
    "planted", [pickle.dumps({"a": 1}), b"not json at all", b"\xff\xfe binary"]
)
async def test_a_planted_value_is_a_miss_not_a_crash(
    new_store: Callable[..., RedisStore],
    redis_url: str,
    redis_prefix: str,
    raw: redis.Redis,
    planted: bytes,
) -> None:
    store = new_store()
    raw.set(f"{redis_prefix}k", planted, ex=60)
    with pytest.raises(UnsafeEntry):
        await store.get("k")
    assert raw.get(f"{redis_prefix}k") is None  # removed on sight
    raw.set(f"{redis_prefix}v2:k", planted, ex=60)
    cache = Cache(store)
    assert await cache.get("v2:k") is None
    await cache.aclose()


async def _until_locked(url: str, prefix: str, key: str) -> None:
    """Wait for the lock on `key` to show in Redis (a first replica is computing it)."""
    for _ in range(1000):
        if f"lock:{key}" in keys_under(url, prefix):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no lock on {key} was taken")


async def test_two_replicas_compute_a_key_once(
    new_store: Callable[..., RedisStore], redis_url: str, redis_prefix: str
) -> None:
    one = Cache(new_store())
    two = Cache(new_store())  # another process's client
    calls = 0
    gate = asyncio.Event()

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return "answer"

    first = asyncio.ensure_future(one.get_or_compute("v2:k", compute, lambda _v: 60))
    await _until_locked(redis_url, redis_prefix, "v2:k")
    second = [
        asyncio.ensure_future(two.get_or_compute("v2:k", compute, lambda _v: 60)) for _ in range(5)
    ]
    await asyncio.sleep(0.1)  # let the second replica find the lock (not needed to pass)
    gate.set()
    assert await asyncio.gather(first, *second) == ["answer"] * 6
    assert calls == 1
    await one.aclose()
    await two.aclose()


async def test_a_failed_holder_lets_the_other_replica_compute(
    new_store: Callable[..., RedisStore], redis_url: str, redis_prefix: str
) -> None:
    one = Cache(new_store())
    two = Cache(new_store(), lock_ttl=3600)  # would wait an hour for a lock never released
    gate = asyncio.Event()

    async def broken() -> str:
        await gate.wait()
        raise RuntimeError("boom")

    async def works() -> str:
        # the failed holder released its lock: this replica took it (not merely outwaited it)
        assert "lock:v2:k" in keys_under(redis_url, redis_prefix)
        return "from two"

    failing = asyncio.ensure_future(one.get_or_compute("v2:k", broken, lambda _v: 60))
    await _until_locked(redis_url, redis_prefix, "v2:k")
    waiting = asyncio.ensure_future(two.get_or_compute("v2:k", works, lambda _v: 60))
    await asyncio.sleep(0.2)  # let it find the lock taken and wait (not needed to pass)
    gate.set()
    with pytest.raises(RuntimeError):
        await failing
    assert await asyncio.wait_for(waiting, 60) == "from two"  # a guard, not a timing
    await one.aclose()
    await two.aclose()


@pytest.mark.parametrize("lock_left", [0.3, 3600.0])
async def test_a_dead_holders_lock_blocks_a_key_no_longer_than_the_lock_ttl(
    new_store: Callable[..., RedisStore],
    redis_url: str,
    redis_prefix: str,
    raw: redis.Redis,
    lock_left: float,
) -> None:
    """A replica died holding the lock: it expires (0.3 s), or outlives the waiter's own
    bound (an hour): either way the other replica computes, once."""
    raw.set(f"{redis_prefix}lock:v2:k", '"dead-replica"', px=int(lock_left * 1000))
    cache = Cache(new_store(), lock_ttl=1.0)

    holders: list[Any] = []

    async def compute() -> str:
        holders.append(raw.get(f"{redis_prefix}lock:v2:k"))
        return "computed"

    assert await cache.get_or_compute("v2:k", compute, lambda _v: 60) == "computed"
    assert len(holders) == 1
    if lock_left < 1:  # expired: this replica took the lock itself
        assert holders[0] not in (None, b'"dead-replica"')
        assert raw.get(f"{redis_prefix}lock:v2:k") is None  # and released it
    else:  # outlived the wait: computed without it, and left it alone
        assert holders[0] == b'"dead-replica"'
        assert raw.get(f"{redis_prefix}lock:v2:k") == b'"dead-replica"'
    await cache.aclose()


async def test_a_lock_is_released_only_by_its_own_holder(
    new_store: Callable[..., RedisStore], redis_url: str, redis_prefix: str
) -> None:
    """A holder whose lock expired and was taken by another must not release the other's."""
    store = new_store()
    assert await store.add("lock:k", "token-b", ttl=60)
    await store.release("lock:k", "token-a")
    assert await store.get("lock:k") == "token-b"
    await store.release("lock:k", "token-b")
    assert await store.get("lock:k") is None
    await store.aclose()


async def test_claims_are_exactly_once_across_state_stores(
    new_store: Callable[..., RedisStore], redis_url: str, redis_prefix: str
) -> None:
    stores = [new_store() for _ in range(2)]
    claims = [stores[n % 2].add(f"once:event:{n // 2}", 1, 60) for n in range(200)]
    won = await asyncio.gather(*claims)
    assert won.count(True) == 100
    assert all(won[n] != won[n + 1] for n in range(0, 200, 2))
    for store in stores:
        await store.aclose()


def _deps(store: Any) -> Deps:
    return Deps.build(SlackSettings(), cast(Any, None), store)


async def test_buttons_made_through_one_replica_work_through_the_other(
    new_store: Callable[..., RedisStore], redis_url: str, redis_prefix: str
) -> None:
    from bot.buttons import Button, Place

    one, two = (
        _deps(new_store()),
        _deps(new_store()),
    )
    place = Place("T1", "C1", "1.2")
    await one.buttons.put("card1", place, [Button("reverse_ip", "192.0.2.1", 1, None, None, place)])
    button = await two.buttons.load("card1.0")
    assert button is not None and button.target == "192.0.2.1"
    await one.state.aclose()
    await two.state.aclose()


def test_open_state_uses_redis_when_set(redis_url: str, tmp_path: Any) -> None:
    store = open_state(Settings(data_dir=tmp_path, redis_url=redis_url))
    assert isinstance(store, RedisStore)
    assert not (tmp_path / "state").exists()
    asyncio.run(store.aclose())


@pytest.mark.parametrize(
    "url",
    [
        "http://:hunter2-secret@example.org",
        "redis://:hunter2-secret@host:99999",
        "redis://",
        "127.0.0.1:6379",
    ],
)
def test_a_malformed_url_is_a_config_error_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError, match="PIVOT_REDIS_URL") as caught:
        Settings.from_env({"PIVOT_REDIS_URL": url})
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["redis://:hunter2-secret@h:6379/0", "rediss://u:hunter2-secret@h", "unix:///r.sock"]
)
def test_urls_redis_py_takes_are_accepted_and_never_shown(url: str) -> None:
    settings = Settings.from_env({"PIVOT_REDIS_URL": url})
    assert settings.redis_url == url
    assert "hunter2" not in repr(settings)


def test_a_dead_redis_at_start_up_is_a_clean_store_error() -> None:
    with pytest.raises(StoreUnreachable) as caught:
        RedisStore(DEAD, "pivot-test:")
    message = str(caught.value)
    assert "127.0.0.1:1" in message and "PIVOT_REDIS_URL" in message
    assert "hunter2" not in message
    with pytest.raises(StoreError):
        open_state(Settings(redis_url=DEAD))


def test_serve_with_a_dead_redis_exits_2_with_one_line() -> None:
    env = {"PIVOT_REDIS_URL": DEAD, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    done = run(["serve", "--port", "0"], env=env)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "hunter2" not in err
    assert "redis://:***@127.0.0.1:1/0" in err


async def test_a_cache_whose_redis_goes_away_degrades_and_says_so_once(
    new_store: Callable[..., RedisStore],
    redis_prefix: str,
    redis_proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = Cache(new_store(redis_proxy.url), retry_after=0)
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await cache.get_or_compute("v2:before", compute, lambda _v: 60) == 1
    redis_proxy.stop()
    with caplog.at_level(logging.WARNING, logger="enrichment.cache"):
        answers = [
            await cache.get_or_compute(f"v2:k{n}", compute, lambda _v: 60) for n in range(20)
        ]
        assert answers == list(range(2, 22))  # every card still gets its answer
        down = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(down) == 1
        assert "cache" in down[0].getMessage()
        redis_proxy.start()  # the same port: Redis is back
        assert await cache.get_or_compute("v2:before", compute, lambda _v: 60) == 1
        assert sum("available again" in r.getMessage() for r in caplog.records) == 1
    await cache.aclose()


async def test_claims_during_an_outage_wait_for_the_store_to_come_back(
    new_store: Callable[..., RedisStore], redis_prefix: str, redis_proxy: TcpProxy
) -> None:
    deps = _deps(new_store(redis_proxy.url))
    assert await deps.once("event:E1", 60) is True
    redis_proxy.stop()
    waiting = [asyncio.create_task(deps.once(f"event:E{n}", 60)) for n in (1, 2, 2)]
    await asyncio.sleep(1.0)
    assert not any(t.done() for t in waiting), "acked events wait for their claim"
    redis_proxy.start()
    assert sorted(await asyncio.gather(*waiting)) == [False, False, True], "each once, E1 never"
    await deps.state.aclose()


async def test_claims_during_a_long_outage_are_refused_and_logged_once(
    new_store: Callable[..., RedisStore],
    redis_prefix: str,
    redis_proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deps = replace(_deps(new_store(redis_proxy.url)), claim_patience=0.0)  # a long outage
    assert await deps.once("event:E1", 60) is True
    redis_proxy.stop()
    with caplog.at_level(logging.WARNING, logger="bot.state"):
        assert [await deps.once(f"event:E{n}", 60) for n in range(2, 12)] == [False] * 10
        assert sum("unavailable" in r.getMessage() for r in caplog.records) == 1
        redis_proxy.start()
        assert await deps.once("event:E1", 60) is False  # answered before: still claimed
        assert await deps.once("event:E2", 60) is True  # a retry of one refused meanwhile
        assert sum("available again" in r.getMessage() for r in caplog.records) == 1
    await deps.state.aclose()
