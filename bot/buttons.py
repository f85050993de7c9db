"""Button keys: what a pressed button means, kept in the bot's state store.

A button's value is a short random key; what the button means (action, target, page, the card's
subject, the team and channel it was posted to) lives in the state store under that key, so
values stay far below Slack's 2,000-character limit and nothing a user could tamper with is
trusted on click. A card's keys are made while it renders (`CardKeys.__call__`, synchronous)
and stored together before it is posted (`CardKeys.save`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from bot.state import NAMESPACE, Store
from enrichment.model import Indicator, Kind, Risk

BUTTON_TTL = 7 * 24 * 3600.0
MAX_KEY = 64
_SUFFIX = re.compile(r":\d+$")


def action_name(action: str) -> str:
    """`pivot:resolve:3` -> `resolve`; `pivot:page_next` -> `page_next`."""
    action = _SUFFIX.sub("", action)
    return action.removeprefix("pivot:")


def _pack(indicator: Indicator | None) -> list[str] | None:
    if indicator is None:
        return None
    return [indicator.kind.value, indicator.value, indicator.defanged]


def _unpack(data: Any) -> Indicator | None:
    if data is None:
        return None
    if not isinstance(data, list) or len(data) != 3:
        raise ValueError("not an indicator")
    return Indicator(Kind(data[0]), str(data[1]), str(data[2]))


@dataclass(frozen=True)
class Place:
    """Where a card is posted: its workspace and conversation, and its message once known."""

    team: str
    channel: str
    ts: str | None = None

    def holds(self, team: str, channel: str, ts: str) -> bool:
        """True when a click in (team, channel, message ts) is a click on this card."""
        same = (self.team, self.channel) == (team, channel)
        return same and (self.ts is None or self.ts == ts)


@dataclass(frozen=True)
class Button:
    """What a pressed button means. `target_indicator` is set when the card knew it."""

    action: str  # "card" (open the full card) or a pivot id
    target: str
    page: int
    subject: Indicator | None
    target_indicator: Indicator | None
    place: Place
    risk: Risk | None = None  # the breakdown button's: the score its card showed

    @property
    def channel(self) -> str:
        return self.place.channel

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "target": self.target,
            "page": self.page,
            "subject": _pack(self.subject),
            "target_indicator": _pack(self.target_indicator),
        } | ({"risk": self.risk.to_json()} if self.risk is not None else {})

    @classmethod
    def from_json(cls, record: Any, place: Place) -> Button:
        """ValueError (or KeyError, TypeError) when `record` is not one we wrote."""
        return cls(
            action=str(record["action"]),
            target=str(record["target"]),
            page=int(record["page"]),
            subject=_unpack(record["subject"]),
            target_indicator=_unpack(record["target_indicator"]),
            place=place,
            risk=Risk.from_json(record["risk"]) if "risk" in record else None,
        )


class CardKeys:
    """The KeyMaker of one card: each call makes a button key (`<card>.<n>`) and remembers
    what it means; `save` stores the whole card's buttons in one record."""

    def __init__(
        self,
        store: ButtonStore,
        place: Place,
        subject: Indicator | None,
        known: Iterable[Indicator],
    ) -> None:
        self._store, self._place, self._subject = store, place, subject
        self._table = {i.value: i for i in known}
        if subject is not None:
            self._table.setdefault(subject.value, subject)
        self.card = secrets.token_urlsafe(9)
        self.made: list[Button] = []

    def __call__(self, action: str, target: str, page: int, risk: Risk | None = None) -> str:
        subject = self._subject if self._subject is not None else self._table.get(target)
        known = self._table.get(target)
        button = Button(action_name(action), target, page, subject, known, self._place, risk)
        self.made.append(button)
        return f"{self.card}.{len(self.made) - 1}"

    async def save(self) -> None:
        """Store this card's buttons; call before the card is posted."""
        if self.made:
            await self._store.put(self.card, self._place, self.made)

    async def bind(self, ts: str) -> None:
        """Tie the buttons to the message they were posted in, once its ts is known."""
        if self.made and self._place.ts != ts:
            self._place = replace(self._place, ts=ts)
            await self._store.put(self.card, self._place, self.made)


class ButtonStore:
    def __init__(self, state: Store, ttl: float = BUTTON_TTL) -> None:
        self._state = state
        self._ttl = ttl

    def maker(
        self, place: Place, subject: Indicator | None, known: Iterable[Indicator] = ()
    ) -> CardKeys:
        return CardKeys(self, place, subject, known)

    async def put(self, card: str, place: Place, buttons: list[Button]) -> None:
        record = {
            "team": place.team,
            "channel": place.channel,
            "ts": place.ts,
            "buttons": [b.to_json() for b in buttons],
        }
        await self._state.set(f"{NAMESPACE}card:{card}", record, self._ttl)

    async def load(self, key: str) -> Button | None:
        """The button stored under `key`, or None when it expired, never existed, or is not
        a record this code wrote."""
        card, _, index = key.partition(".")
        if not card or len(key) > MAX_KEY or not index.isdigit():
            return None
        record = await self._state.get(f"{NAMESPACE}card:{card}")
        if not isinstance(record, dict):
            return None
        try:
            ts = record.get("ts")
            place = Place(str(record["team"]), str(record["channel"]), str(ts) if ts else None)
            return Button.from_json(record["buttons"][int(index)], place)
        except (KeyError, TypeError, ValueError, IndexError):
            return None
