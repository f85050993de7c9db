"""What the listeners share: the service, the bot's state (button keys, exactly-once claims),
and the background tasks that do the slow work after Slack has its acknowledgement."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from bot.buttons import ButtonStore, CardKeys, Place
from bot.render.cards import Message
from bot.response_urls import ResponseUrls
from bot.settings import SlackSettings
from bot.state import NAMESPACE, Store, StoreError
from enrichment.index.model import Sighting
from enrichment.model import Indicator, PivotItem, PivotPage, Report
from enrichment.stores import Outage

log = logging.getLogger("bot.state")

ErrorHook = Callable[[Exception], Awaitable[None]]
QUIET = 0.002  # seconds without a new request before background work takes the loop
MAX_DEFER = 1.0  # ...but never longer than this: under steady load the work still runs


class EnrichService(Protocol):
    """The calls bot/ makes on `enrichment.service.Service`."""

    async def enrich(self, indicator: Indicator) -> Report: ...

    async def pivot(
        self, pivot_id: str, subject: Indicator, page: int = 1, *, target: str | None = None
    ) -> PivotPage: ...

    async def pivot_all(
        self, pivot_id: str, subject: Indicator, *, target: str | None = None
    ) -> list[PivotItem]: ...

    async def record_sighting(self, sighting: Sighting) -> None: ...


class Tasks:
    """Background work started after an ack, kept referenced until it ends.

    At most `limit` pieces run at once; the rest wait their turn (in order), so a burst of
    work never crowds out the event loop's next acknowledgements. A failure in the work goes
    to the hook given with it (the app's one error handler). No work may wait for other work
    it spawned (it would hold a turn the other needs).
    """

    def __init__(self, limit: int = 32, clock: Callable[[], float] = time.monotonic) -> None:
        self._running: set[asyncio.Task[None]] = set()
        self._turns = asyncio.Semaphore(limit)
        self._clock = clock  # a test drives the deferral with its own clock, not the CPU's load
        self._last_arrival = 0.0

    def arrived(self) -> None:
        """A request came in: work waits a moment, so a burst's acks go first."""
        self._last_arrival = self._clock()

    async def _quiet(self) -> None:
        """Until no request has come for QUIET seconds (at most MAX_DEFER): the loop answers
        a burst's acknowledgements before it spends itself on their work."""
        give_up = self._clock() + MAX_DEFER
        while self._clock() - self._last_arrival < QUIET and self._clock() < give_up:
            await asyncio.sleep(QUIET)

    def spawn(self, work: Awaitable[None], on_error: ErrorHook) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._guard(work, on_error))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _guard(self, work: Awaitable[None], on_error: ErrorHook) -> None:
        async with self._turns:
            await self._quiet()
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
    state: Store
    buttons: ButtonStore
    response_urls: ResponseUrls
    allowlist: tuple[str, ...] = ()  # domains never enriched automatically (PIVOT_ALLOWLIST)
    tasks: Tasks = field(default_factory=Tasks)
    claim_patience: float = 120.0  # seconds a claim waits for a state store that is down
    outage: Outage = field(
        default_factory=lambda: Outage(
            log, "Slack state store", "events are not answered until it is back"
        )
    )

    @classmethod
    def build(
        cls,
        settings: SlackSettings,
        service: EnrichService,
        state: Store,
        allowlist: tuple[str, ...] = (),
    ) -> Deps:
        buttons, urls = ButtonStore(state), ResponseUrls(settings)
        return cls(settings, service, state, buttons, urls, allowlist)

    async def once(self, key: str, ttl: float) -> bool:
        """True the first time `key` is seen within `ttl` seconds, across processes.

        While the state store is down (said once per outage), the claim is tried again, less
        and less often, for `claim_patience` seconds: Slack already has its 200 and will not
        send the event again, so giving up at once would lose the answer, and acting without
        a claim could answer twice (another replica may hold the same event, and Slack's
        retries of events that got no 200 are claimed once the store is back). False after
        that: an answer lost, said in the log, never one doubled.
        """
        give_up = time.monotonic() + self.claim_patience
        delay = 0.1
        while True:
            try:
                first = await self.state.add(f"{NAMESPACE}once:{key}", 1, ttl)
            except StoreError as exc:
                self.outage.failed(exc)
                if time.monotonic() + delay > give_up:
                    log.error(
                        "gave up a claim after %.0f s without the state store; an event "
                        "goes unanswered",
                        self.claim_patience,
                    )
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.outage.ok()
            return first

    async def card(
        self,
        render: Callable[[CardKeys], Message],
        place: Place,
        subject: Indicator | None = None,
        known: Iterable[Indicator] = (),
    ) -> Card:
        """Render a card whose buttons work in `place` only, their keys stored before it is
        posted (and tied to its message once posted: `Card.posted`)."""
        keys = self.buttons.maker(place, subject, known)
        message = render(keys)
        await keys.save()
        return Card(message, keys)


@dataclass(frozen=True)
class Card:
    message: Message
    keys: CardKeys

    async def posted(self, ts: str | None) -> None:
        if ts:
            await self.keys.bind(ts)
