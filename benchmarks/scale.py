"""The shared stores under load: DiskStore (diskcache) vs RedisStore (run by hand).

    python benchmarks/scale.py [--redis redis://127.0.0.1:6379/0] [--ops 20000] [--concurrency 64]

For each store: cache writes and reads (a card's worth of JSON, about 1 KB, per key), then
exactly-once claims (`add`, every key asked twice: half must win), with `concurrency` calls in
flight at once, as a busy replica has them. Then the cache's lock across replicas: two Cache
objects on two Redis clients asked for the same keys at once, counting computations (must equal
the number of keys). Prints operations per second, p50/p99 latency, and Redis/disk ratios.
Keys go under a prefix of their own and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrichment.cache import Cache
from enrichment.redis_store import RedisStore
from enrichment.stores import DiskStore, Store

CARD = {
    "facts": {"a": [f"192.0.2.{n}" for n in range(20)], "registrar": "Example Registrar"},
    "sources": {name: {"status": "ok", "elapsed_ms": 12} for name in ("dns", "rdap", "whois")},
    "note": "x" * 600,
}


async def timed(
    calls: int, concurrency: int, call: Callable[[int], Awaitable[Any]]
) -> tuple[float, list[float], list[Any]]:
    """Run `call(0..calls-1)` with `concurrency` in flight: (seconds, latencies, results)."""
    latencies: list[float] = []
    results: list[Any] = [None] * calls
    turns = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with turns:
            start = time.perf_counter()
            results[n] = await call(n)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(calls)))
    return time.perf_counter() - start, latencies, results


def line(name: str, calls: int, seconds: float, latencies: list[float]) -> float:
    rate = calls / seconds
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"  {name:<8} {rate:>10,.0f} ops/s"
        f"   p50 {cuts[49] * 1000:7.2f} ms   p99 {cuts[98] * 1000:7.2f} ms"
    )
    return rate


async def measure(store: Store, ops: int, concurrency: int) -> dict[str, float]:
    rates = {}
    seconds, lat, _ = await timed(ops, concurrency, lambda n: store.set(f"card:{n}", CARD, 600))
    rates["set"] = line("set", ops, seconds, lat)
    seconds, lat, got = await timed(ops, concurrency, lambda n: store.get(f"card:{n}"))
    assert all(g == CARD for g in got), "a read did not give back what was written"
    rates["get"] = line("get", ops, seconds, lat)
    seconds, lat, won = await timed(ops, concurrency, lambda n: store.add(f"once:{n // 2}", 1, 600))
    assert won.count(True) == ops // 2, f"{won.count(True)} claims won, not {ops // 2}"
    rates["claim"] = line("claim", ops, seconds, lat)
    return rates


async def replicas(url: str, prefix: str, keys: int) -> None:
    one, two = Cache(RedisStore(url, prefix)), Cache(RedisStore(url, prefix))
    computed = 0

    async def compute() -> dict[str, Any]:
        nonlocal computed
        computed += 1
        await asyncio.sleep(0.05)  # a source answering
        return CARD

    start = time.perf_counter()
    asks = [
        c.get_or_compute(f"v2:k{n}", compute, lambda _v: 600)
        for n in range(keys)
        for c in (one, two)
    ]
    await asyncio.gather(*asks)
    seconds = time.perf_counter() - start
    print(
        f"  two replicas, {keys} keys asked by both at once:"
        f" {computed} computations ({seconds:.2f} s)"
    )
    await one.aclose()
    await two.aclose()


def clean(url: str, prefix: str) -> None:
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])


async def main(args: argparse.Namespace) -> None:
    prefix = f"pivot-bench:{uuid.uuid4().hex}:"
    with tempfile.TemporaryDirectory() as tmp:
        print(f"DiskStore (diskcache in {tmp}), {args.ops} ops, {args.concurrency} in flight")
        disk = DiskStore(Path(tmp), size_limit=512 * 1024 * 1024)
        on_disk = await measure(disk, args.ops, args.concurrency)
        await disk.aclose()
    try:
        print(f"RedisStore ({args.redis}), {args.ops} ops, {args.concurrency} in flight")
        store = RedisStore(args.redis, prefix)
        in_redis = await measure(store, args.ops, args.concurrency)
        await store.aclose()
        await replicas(args.redis, prefix + "lock:", args.keys)
    finally:
        clean(args.redis, prefix)
    print(
        "Redis / disk throughput: "
        + ", ".join(f"{k} {in_redis[k] / on_disk[k]:.2f}x" for k in on_disk)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--keys", type=int, default=500)
    asyncio.run(main(parser.parse_args()))
