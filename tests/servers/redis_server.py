"""The Redis tests talk to: a real server at PIVOT_TEST_REDIS_URL (default the local port).

Fixtures (loaded as a plugin by tests/conftest.py):

- `redis_url`: the server's URL; the test is skipped, with the reason, when none answers;
- `redis_prefix`: a key prefix of the test's own (`pivot-test:<random>:`); every key under it
  is deleted afterwards (never FLUSHALL: the server may be someone else's too);
- `redis_proxy`: a TCP proxy in front of the server that the test can stop and start again,
  for a Redis that goes away while in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from tests.servers.required import missing

REDIS_URL = os.environ.get("PIVOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str) -> str | None:
    """None when the server answers PING, else why not."""
    try:
        with redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1) as client:
            client.ping()
    except (redis.RedisError, OSError) as exc:
        return f"no Redis at PIVOT_TEST_REDIS_URL ({type(exc).__name__})"
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    why = _reachable(REDIS_URL)
    if why:
        missing(why)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"pivot-test:{uuid.uuid4().hex}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)


def keys_under(url: str, prefix: str) -> dict[str, int]:
    """Every key under `prefix` (without it) and its lifetime left in ms (-1: none)."""
    with redis.Redis.from_url(url) as client:
        return {
            k.decode()[len(prefix) :]: int(client.pttl(k))
            for k in client.scan_iter(match=f"{prefix}*", count=1000)
        }


class TcpProxy:
    """Forwards connections on a loopback port to the Redis at `target_url`, from a thread of
    its own (the store's start-up PING blocks the test's loop). `stop` closes the listener
    and every connection (Redis "goes away"), `start` listens again on the same port."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._target_url = target_url
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        parts = urlsplit(self._target_url)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@127.0.0.1:{self.port}" if auth else f"127.0.0.1:{self.port}"
        return parts._replace(netloc=netloc).geturl()

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    def start(self) -> None:
        self._run(self._start())

    def stop(self) -> None:
        self._run(self._stop())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self._writers.discard(writer)
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(redis_url)
    proxy.start()
    yield proxy
    proxy.close()
