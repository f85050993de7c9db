"""One replica against two, on one Redis and one PostgreSQL (run by hand).

    python benchmarks/replicas.py [--messages 2000] [--redis redis://127.0.0.1:6379/0]
                                  [--database postgresql://postgres@127.0.0.1:5432/postgres]

Starts real `python -m bot serve` processes (HTTP mode, each with a data directory of its
own), a loopback DNS server and the recording fake of Slack's Web API, then sends a burst of
signed message events, each naming a different domain, spread round-robin over the replicas.
For one replica and for two: replies (must be exactly one per message), acknowledgement
p50/p99, cards per second from the first send to the last reply, and Redis commands per card
(from the server's own counter, so every replica's traffic is counted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.index import throwaway_database
from bot.console import payloads
from tests.servers.dns_server import DnsServer
from tests.servers.slack_api import RecordingSlack
from tests.slack_helpers import BOT_TOKEN, SECRET
from tests.test_replicas import Replica, database_url, start_replica


def redis_commands(url: str) -> int:
    with redis.Redis.from_url(url) as client:
        return int(client.info("stats")["total_commands_processed"])


async def burst(replicas: list[Replica], fake: RecordingSlack, n: int) -> list[float]:
    team = f"TB{secrets.token_hex(4).upper()}"  # claims of a run of its own
    """Send `n` message events, round-robin, 64 at a time: each one's acknowledgement time."""
    bodies = []
    for i in range(n):
        posted = fake.user_message("C1", f"beacon to b{i}-{secrets.token_hex(3)}.pw", user="U1")
        event = {"channel": "C1", "user": "U1", "text": posted.text, "ts": posted.ts}
        bodies.append((replicas[i % len(replicas)].url, payloads.message_event(event, team=team)))
    turns = asyncio.Semaphore(64)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(url: str, body: str) -> float:
            async with turns:
                headers = payloads.signed_headers(SECRET, body, payloads.JSON)
                began = time.perf_counter()
                answer = await client.post(url, content=body, headers=headers)
                assert answer.status_code == 200, answer.status_code
                return time.perf_counter() - began

        return list(await asyncio.gather(*(one(url, body) for url, body in bodies)))


def threads(fake: RecordingSlack) -> Counter[str]:
    """Replies per thread (one thread a message)."""
    return Counter(m.thread_ts for m in fake.by_bot() if m.thread_ts)


def wait_for_replies(fake: RecordingSlack, wanted: int, began: float) -> float:
    """Seconds from `began` until `wanted` threads have a reply (or ten minutes)."""
    while len(threads(fake)) < wanted and time.perf_counter() - began < 600:
        time.sleep(0.2)
    return time.perf_counter() - began


def measure(count: int, env: dict[str, str], work: Path, args: argparse.Namespace) -> None:
    fake = RecordingSlack()
    fake.start()
    own = {"PIVOT_SLACK_API_URL": fake.api_url}
    started = [
        start_replica(
            env | own | {"PIVOT_DATA_DIR": str(work / f"r{n}")}, work / f"{count}-{n}.log"
        )
        for n in range(count)
    ]
    try:
        before = redis_commands(args.redis)
        began = time.perf_counter()
        acks = asyncio.run(burst(started, fake, args.messages))
        took = wait_for_replies(fake, args.messages, began)
        time.sleep(1.0)  # any second answer would come now
        answered = threads(fake)
        commands = redis_commands(args.redis) - before
    finally:
        for replica in started:
            replica.stop()
        fake.stop()
    report(count, args.messages, acks, answered, took, commands)


def report(
    count: int, messages: int, acks: list[float], answered: Counter[str], took: float, commands: int
) -> None:
    cuts = statistics.quantiles(acks, n=100, method="inclusive")
    doubled = sum(1 for c in answered.values() if c > 1)
    print(f"\n{count} replica{'s' if count > 1 else ''}")
    print(f"  replies        {len(answered):>10,} of {messages:,} messages, {doubled} doubled")
    print(f"  ack p50 / p99  {cuts[49] * 1000:>10,.1f} / {cuts[98] * 1000:,.1f} ms")
    print(f"  cards/s        {len(answered) / took:>10,.1f}")
    print(f"  Redis/card     {commands / max(1, len(answered)):>10,.1f} commands")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument(
        "--redis", default=os.environ.get("PIVOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--database",
        default=os.environ.get(
            "PIVOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    dns = DnsServer().start()
    host, port = dns.address
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIVOT_", "SLACK_"))}
    with tempfile.TemporaryDirectory() as work, throwaway_database(args.database) as database:
        if database is None:
            raise SystemExit("PostgreSQL is needed")
        for count in (1, 2):
            schema = f"s_{secrets.token_hex(4)}"
            with psycopg.connect(database, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            conninfo = f"{database} options=-csearch_path={schema}"
            env = base | {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "PIVOT_SOURCES": "dns,index,feeds",
                "PIVOT_DNS_SERVERS": f"{host}:{port}",
                "PIVOT_REDIS_URL": args.redis,
                "PIVOT_DATABASE_URL": database_url(conninfo),
            }
            measure(count, env, Path(work), args)
    dns.stop()


if __name__ == "__main__":
    main()
