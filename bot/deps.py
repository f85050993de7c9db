"""What the listeners share: the service, button context kept in the cache, dedupe, and the
background tasks that do the slow work after Slack has its acknowledgement.

A button's value is a short random key; what the button means (action, target, page, the card's
subject, the channel) lives in the cache under that key, so values stay far below Slack's
2,000-character limit and nothing a user could tamper with is trusted on click.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.settings import SlackSettings
from enrichment.model import Indicator, Kind, PivotPage, Report

BUTTON_TTL = 7 * 24 * 3600.0
_SUFFIX = re.compile(r":\d+$")

KeyMaker = Callable[[str, str, int], str]
ErrorHook = Callable[[Exception], Awaitable[None]]


class CacheLike(Protocol):
    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, ttl: float) -> None: ...
    def add(self, key: str, value: Any, ttl: float) -> bool: ...


class EnrichService(Protocol):
    """The two calls bot/ makes on `enrichment.service.Service`, plus its cache."""

    @property
    def cache(self) -> CacheLike: ...
    async def enrich(self, indicator: Indicator) -> Report: ...
    async def pivot(self, pivot_id: str, indicator: Indicator, page: int = 1) -> PivotPage: ...


def action_name(action: str) -> str:
    """`pivot:resolve:3` -> `resolve`; `pivot:page_next` -> `page_next`."""
    action = _SUFFIX.sub("", action)
    return action.removeprefix("pivot:")


def _pack(indicator: Indicator | None) -> list[str] | None:
    return (
        None if indicator is None else [indicator.kind.value, indicator.value, indicator.defanged]
    )


def _unpack(data: Any) -> Indicator | None:
    if not isinstance(data, list) or len(data) != 3:
        return None
    return Indicator(Kind(data[0]), str(data[1]), str(data[2]))


@dataclass(frozen=True)
class Button:
    """What a pressed button means. `target_indicator` is set when the card knew it."""

    action: str  # "card" (open the full card) or a pivot id
    target: str
    page: int
    subject: Indicator | None
    target_indicator: Indicator | None
    channel: str


class ButtonStore:
    def __init__(self, cache: CacheLike, ttl: float = BUTTON_TTL) -> None:
        self._cache = cache
        self._ttl = ttl

    def maker(
        self, channel: str, subject: Indicator | None, known: Iterable[Indicator] = ()
    ) -> KeyMaker:
        """A KeyMaker for one card: each call stores one button and returns its key."""
        table = {i.value: i for i in known}
        if subject is not None:
            table.setdefault(subject.value, subject)

        def make(action: str, target: str, page: int) -> str:
            key = secrets.token_urlsafe(9)
            record = {
                "action": action_name(action),
                "target": target,
                "page": page,
                "subject": _pack(subject if subject is not None else table.get(target)),
                "target_indicator": _pack(table.get(target)),
                "channel": channel,
            }
            self._cache.set(f"slack:button:{key}", record, self._ttl)
            return key

        return make

    def load(self, key: str) -> Button | None:
        """The button stored under `key`, or None when it expired or never existed."""
        if not key or len(key) > 64:
            return None
        record = self._cache.get(f"slack:button:{key}")
        if not isinstance(record, dict):
            return None
        try:
            return Button(
                action=str(record["action"]),
                target=str(record["target"]),
                page=int(record["page"]),
                subject=_unpack(record["subject"]),
                target_indicator=_unpack(record["target_indicator"]),
                channel=str(record["channel"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class Tasks:
    """Background work started after an ack, kept referenced until it ends.

    A failure in the work goes to the hook given with it (the app's one error handler).
    """

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def spawn(self, work: Awaitable[None], on_error: ErrorHook) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._guard(work, on_error))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    @staticmethod
    async def _guard(work: Awaitable[None], on_error: ErrorHook) -> None:
        try:
            await work
        except Exception as exc:  # hand every bug to the app's error handler
            await on_error(exc)

    def __len__(self) -> int:
        return len(self._running)

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until no work is left, including work that work started, or `timeout` passes.

        True when none is left. Never cancels anything.
        """
        loop = asyncio.get_running_loop()
        end = None if timeout is None else loop.time() + timeout
        while True:
            for _ in range(3):  # let listeners dispatched a moment ago reach their spawn
                await asyncio.sleep(0)
            if not self._running:
                return True
            left = None if end is None else end - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(set(self._running), timeout=left)

    async def drain(self) -> None:
        await self.wait()

    async def aclose(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


@dataclass(frozen=True)
class Deps:
    """Everything a listener needs besides what Bolt injects."""

    settings: SlackSettings
    service: EnrichService
    buttons: ButtonStore
    tasks: Tasks = field(default_factory=Tasks)

    @classmethod
    def build(cls, settings: SlackSettings, service: EnrichService) -> Deps:
        return cls(settings=settings, service=service, buttons=ButtonStore(service.cache))

    def once(self, key: str, ttl: float) -> bool:
        """True the first time `key` is seen within `ttl` seconds, across processes."""
        return self.service.cache.add(f"slack:once:{key}", 1, ttl)
