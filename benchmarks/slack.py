"""The Slack app under load, over real HTTP on loopback (run by hand).

    python benchmarks/slack.py [--commands 50] [--messages 200] [--fake-service]

The app runs in a child process (aiohttp server, the real Service asking a loopback DNS
server that answers at once, or an in-memory service with --fake-service); this process sends
signed requests and plays Slack's Web API with the recording fake. Prints: the acknowledgement
time of N concurrent /pivot commands (target p99 <= 100 ms) and the time until all their
cards were updated; a burst of M message events (a quarter of them delivered twice, as Slack's
retries are) with their acknowledgement times, whether every message got exactly one threaded
reply, and the time from the first send to the last reply.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import Identity, build_app, make_client
from bot.console import payloads
from bot.server import PATH, start_http
from bot.settings import SlackSettings
from bot.state import open_state
from enrichment.index.model import Sighting
from enrichment.model import Indicator, PivotItem, PivotPage, Report, SourceResult, Status
from enrichment.service import Service
from enrichment.settings import Settings
from tests.servers.dns_server import DEFAULT_ZONE, DnsServer
from tests.servers.slack_api import RecordingSlack

SECRET = "bench-signing-secret"
CHANNEL, USER = "CBENCH", "UBENCH"
ACK_TARGET_MS = 100.0


class InstantService:
    """Answers every indicator at once from memory: measures the Slack side alone."""

    async def enrich(self, indicator: Indicator) -> Report:
        result = SourceResult("dns", Status.OK, {"a": ["192.0.2.1"]})
        return Report(indicator, {"dns": result}, {"a": ["192.0.2.1"]})

    async def pivot(
        self, pivot_id: str, subject: Indicator, page: int = 1, *, target: str | None = None
    ) -> PivotPage:
        raise NotImplementedError

    async def pivot_all(
        self, pivot_id: str, subject: Indicator, *, target: str | None = None
    ) -> list[PivotItem]:
        raise NotImplementedError

    async def record_sighting(self, sighting: Sighting) -> None:
        return None

    async def __aenter__(self) -> InstantService:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


# -- the app, in its own process -------------------------------------------------------------


def _child(api_url: str, dns: tuple[str, int], data: str, fake: bool, conn: Connection) -> None:
    asyncio.run(_serve(api_url, dns, Path(data), fake, conn))


async def _serve(
    api_url: str, dns: tuple[str, int], data: Path, fake: bool, conn: Connection
) -> None:
    slack = SlackSettings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=api_url)
    settings = Settings(data_dir=data, sources=("dns",), dns_servers=(dns,), deadline=5.0)
    service = InstantService() if fake else Service(settings)
    state = open_state(data)
    async with service, aiohttp.ClientSession() as session:
        client = make_client(slack, session=session)
        bot = build_app(slack, client=client, service=service, state=state, identity=Identity())
        runner, port = await start_http(bot)
        conn.send(port)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        await bot.drain()
        await runner.cleanup()
        await bot.aclose()


# -- load -------------------------------------------------------------------------------------


def _raw(body: str, kind: str, **extra: str) -> bytes:
    """One signed HTTP request, as bytes on the wire."""
    data = body.encode()
    headers = {**payloads.signed_headers(SECRET, body, kind), **extra}
    lines = [f"POST {PATH} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(data)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close", "", ""]
    return "\r\n".join(lines).encode() + data


async def _fire(port: int, requests: list[bytes]) -> list[float]:
    """Connect once per request first, then send them all at once; ms until each status line.

    Raw sockets keep the load generator's own cost out of what is measured.
    """
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in requests]

    async def one(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], raw: bytes) -> float:
        reader, writer = conn
        start = time.perf_counter()
        writer.write(raw)
        status = await reader.readline()
        elapsed = (time.perf_counter() - start) * 1000
        await reader.read()  # the rest, until the server closes
        writer.close()
        await writer.wait_closed()
        if b" 200 " not in status:
            raise SystemExit(f"the app answered {status!r}")
        return elapsed

    return list(await asyncio.gather(*(one(c, r) for c, r in zip(conns, requests, strict=True))))


def _commands(fake: RecordingSlack, n: int, tag: str) -> list[bytes]:
    url = fake.response_url(CHANNEL, USER)
    bodies = [
        payloads.slash_command(f"{tag}{i}.qpdar[.]pw", channel=CHANNEL, user=USER, response_url=url)
        for i in range(n)
    ]
    return [_raw(b, payloads.FORM) for b in bodies]


def _messages(fake: RecordingSlack, n: int) -> tuple[list[bytes], list[str]]:
    """n message events, every fourth delivered twice (the second as Slack's retry)."""
    posts = [
        fake.user_message(CHANNEL, f"seen m{i}.qpdar[.]pw in the logs", USER) for i in range(n)
    ]
    requests = []
    for i, posted in enumerate(posts):
        event = {"channel": CHANNEL, "user": USER, "text": posted.text, "ts": posted.ts}
        body = payloads.message_event(event, event_id=f"EvBench{i}")
        requests.append(_raw(body, payloads.JSON))
        if i % 4 == 0:
            requests.append(_raw(body, payloads.JSON, **{"X-Slack-Retry-Num": "1"}))
    return requests, [p.ts for p in posts]


def _wait(fake: RecordingSlack, done: Callable[[], bool], what: str) -> None:
    if not fake.wait(done, timeout=120):
        raise SystemExit(f"timed out waiting for {what}")


# -- report -----------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _row(name: str, values: list[float], note: str = "") -> str:
    return (
        f"{name:<38}{len(values):>6}{statistics.median(values):>10.1f}"
        f"{_pct(values, 0.99):>10.1f}{max(values):>10.1f}  {note}"
    )


async def _run(args: argparse.Namespace, port: int, fake: RecordingSlack) -> None:
    await _fire(port, _commands(fake, 5, "warm"))  # first requests pay for imports and pools
    _wait(fake, lambda: len(fake.calls_to("chat.update")) >= 5, "warm-up cards")
    fake.calls.clear()
    start = time.monotonic()
    acks = await _fire(port, _commands(fake, args.commands, "c"))
    _wait(fake, lambda: len(fake.calls_to("chat.update")) >= args.commands, "cards")
    cards_done = max(c.at for c in fake.calls_to("chat.update")) - start
    await asyncio.sleep(2.0)  # the cards' after-work (index, sightings) is not the burst's
    fake.calls.clear()
    events, parents = _messages(fake, args.messages)
    start = time.monotonic()
    event_acks = await _fire(port, events)
    _wait(fake, lambda: len(fake.calls_to("chat.postMessage")) >= args.messages, "replies")
    await asyncio.sleep(0.5)  # room for any duplicate to show up before counting
    replies = fake.calls_to("chat.postMessage")
    per_parent = Counter(str(c.body.get("thread_ts")) for c in replies)
    once = all(per_parent[ts] == 1 for ts in parents) and len(replies) == len(parents)
    last = max(c.at for c in replies) - start
    verdict = "OK" if _pct(acks, 0.99) <= ACK_TARGET_MS else "MISSED"
    print(f"{'':<38}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    print(_row(f"/pivot ack, {args.commands} at once", acks, f"target p99 <= 100 ms: {verdict}"))
    print(_row(f"message event ack, {len(event_acks)} at once", event_acks))
    print(f"{f'all {args.commands} cards updated after':<38}{cards_done:>16.2f} s")
    print(f"{f'{args.messages} messages: last reply after':<38}{last:>16.2f} s")
    dupes = len(replies) - len(per_parent)
    summary = f"({len(replies)} replies, {dupes} duplicates)"
    print(f"{'answered exactly once':<38}{'yes' if once else 'NO':>16}  {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=50, help="concurrent /pivot commands")
    parser.add_argument("--messages", type=int, default=200, help="message events in the burst")
    parser.add_argument("--fake-service", action="store_true", help="in-memory enrichment")
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    with (
        RecordingSlack() as fake,
        DnsServer(DEFAULT_ZONE) as dns,
        tempfile.TemporaryDirectory() as data,
    ):
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_child, args=(fake.api_url, dns.address, data, args.fake_service, child)
        )
        proc.start()
        try:
            port = parent.recv()
            service = "in-memory service" if args.fake_service else "Service + loopback DNS"
            print(f"Slack app over HTTP on 127.0.0.1:{port}, {service}, recording fake Web API")
            asyncio.run(_run(args, port, fake))
        finally:
            parent.send("stop")
            proc.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
