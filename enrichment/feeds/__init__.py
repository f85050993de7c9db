"""Threat feeds, downloaded whole and matched locally: nothing about an indicator is sent out.

Five feeds, each at an interval its publisher asks for (abuse.ch regenerates its exports every
few minutes and asks for no more than that; OpenPhish's free feed changes every few hours;
Spamhaus asks for DROP at most hourly, daily being enough). A refresh:

- runs only when the feed is due: a claim in the store, with the feed's interval as its
  lifetime, so one replica of several refreshes it once per interval;
- asks with `If-None-Match` / `If-Modified-Since` from the last download (304: unchanged);
- parses by column or key name, counting and skipping malformed lines;
- swaps the feed's listings into the index at once, or, when the download or the format
  fails, keeps the previous listings and retries sooner than the full interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from enrichment.errors import SourceError
from enrichment.feeds.parsers import PARSERS, FeedFormatError, Parsed
from enrichment.http import Answer, answer
from enrichment.index.model import Index
from enrichment.settings import Settings
from enrichment.stores import Store, StoreError

MINUTE, HOUR = 60.0, 3600.0
RETRY = 5 * MINUTE  # after a failed download: sooner than the interval, never hammering
VALIDATORS_TTL = 30 * 24 * HOUR
MAX_FILE = 64 * 1024 * 1024
PREFIX = "pivot:feeds:v1:"
log = logging.getLogger(__name__)


# How cards and reasons name each feed (its publisher's own spelling).
FEED_NAMES = {
    "urlhaus": "URLhaus",
    "threatfox": "ThreatFox",
    "feodo": "Feodo Tracker",
    "openphish": "OpenPhish",
    "spamhaus_drop": "Spamhaus DROP",
}


def feed_name(feed: object) -> str:
    """A feed's display name; an unknown one as it is."""
    return FEED_NAMES.get(str(feed), str(feed))


@dataclass(frozen=True)
class Feed:
    name: str  # also PIVOT_FEED_<NAME>_URL, upper-cased
    url: str
    interval: float
    parse: Callable[[str], Parsed]


FEEDS: tuple[Feed, ...] = (
    Feed(
        "urlhaus", "https://urlhaus.abuse.ch/downloads/csv_recent/", 15 * MINUTE, PARSERS["urlhaus"]
    ),
    Feed(
        "threatfox",
        "https://threatfox.abuse.ch/export/json/recent/",
        15 * MINUTE,
        PARSERS["threatfox"],
    ),
    Feed(
        "feodo",
        "https://feodotracker.abuse.ch/downloads/ipblocklist.json",
        30 * MINUTE,
        PARSERS["feodo"],
    ),
    Feed("openphish", "https://openphish.com/feed.txt", 4 * HOUR, PARSERS["openphish"]),
    Feed(
        "spamhaus_drop",
        "https://www.spamhaus.org/drop/drop_v4.json",
        12 * HOUR,
        PARSERS["spamhaus_drop"],
    ),
)


@dataclass(frozen=True)
class FeedResult:
    feed: str
    outcome: str  # "updated", "unchanged", "not due", "failed"
    listings: int | None = None  # after an update
    malformed: int = 0
    detail: str | None = None


def url_of(feed: Feed, settings: Settings) -> str:
    return settings.feed_urls.get(feed.name.upper(), feed.url)


class Refresher:
    def __init__(self, settings: Settings, http: httpx.AsyncClient, index: Index, store: Store):
        self.settings, self.http, self.index, self.store = settings, http, index, store

    async def refresh_all(self, *, force: bool = False) -> list[FeedResult]:
        """Every feed that is due (all of them with `force`), at once."""
        return list(await asyncio.gather(*(self.refresh(f, force=force) for f in FEEDS)))

    async def refresh(self, feed: Feed, *, force: bool = False) -> FeedResult:
        due = f"{PREFIX}due:{feed.name}"
        if force:
            await self.store.delete(due)
        if not await self.store.add(due, 1, feed.interval):
            return FeedResult(feed.name, "not due")
        try:
            return await self._download(feed)
        except (SourceError, FeedFormatError, StoreError) as exc:
            with contextlib.suppress(StoreError):  # retry sooner; a broken store: next tick
                await self.store.delete(due)
                await self.store.add(due, 1, RETRY)
            return FeedResult(feed.name, "failed", detail=f"{exc} (previous listings kept)")

    async def _download(self, feed: Feed) -> FeedResult:
        url = url_of(feed, self.settings)
        saved = await self.store.get(f"{PREFIX}validators:{feed.name}")
        headers = _conditional(saved, url)
        got = await answer(self.http, "GET", url, max_bytes=MAX_FILE, headers=headers)
        if got.status == 304:
            return FeedResult(feed.name, "unchanged")
        if got.status != 200:
            raise FeedFormatError(f"HTTP {got.status}")
        parsed = await asyncio.to_thread(feed.parse, got.body.decode("utf-8", "replace"))
        await self.index.replace_listings(feed.name, parsed.listings)
        await self._remember(feed, url, got)
        return FeedResult(feed.name, "updated", len(parsed.listings), parsed.malformed)

    async def _remember(self, feed: Feed, url: str, got: Answer) -> None:
        validators = {
            "url": url,
            "etag": got.headers.get("ETag"),
            "last_modified": got.headers.get("Last-Modified"),
        }
        await self.store.set(f"{PREFIX}validators:{feed.name}", validators, VALIDATORS_TTL)


TICK = MINUTE  # how often a serving process asks which feeds are due


async def keep_fresh(refresher: Refresher, stop: asyncio.Event, tick: float = TICK) -> None:
    """While serving: refresh every due feed, then look again every `tick` seconds until
    `stop` is set. The due claims make this once per interval however many replicas run it;
    a failure is logged with the feed's name and never ends the loop."""
    while not stop.is_set():
        try:
            results = await refresher.refresh_all()
        except StoreError as exc:  # the claims' store itself: try again next tick
            log.warning("feeds not refreshed: %s", exc)
            results = []
        for line in summary([r for r in results if r.outcome != "not due"]):
            log.info("feed %s", line)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), tick)


def _conditional(saved: object, url: str) -> dict[str, str]:
    """The conditional-request headers from the last download of the same URL."""
    if not isinstance(saved, dict) or saved.get("url") != url:
        return {}
    headers = {}
    if isinstance(saved.get("etag"), str):
        headers["If-None-Match"] = saved["etag"]
    if isinstance(saved.get("last_modified"), str):
        headers["If-Modified-Since"] = saved["last_modified"]
    return headers


def summary(results: Sequence[FeedResult]) -> list[str]:
    """One line a feed, for the command line and the log."""
    lines = []
    for r in results:
        parts = [f"{r.feed}: {r.outcome}"]
        if r.listings is not None:
            parts.append(f"{r.listings:,} listings")
        if r.malformed:
            parts.append(f"{r.malformed:,} malformed lines skipped")
        if r.detail:
            parts.append(r.detail)
        lines.append(", ".join(parts))
    return lines
