"""The buttons cards carry. A button's value is a key the KeyMaker hands out (bot.buttons);
its action id says only which kind of button it is (`pivot:<id>`, `pivot:card`,
`pivot:page_next`, `pivot:export`, `pivot:risk`), so nothing a user could change is trusted
on click."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.render.escape import Safe, defang_text, fit, label
from bot.render.risk import BUTTON as RISK_BUTTON
from enrichment.model import Indicator, PivotOffer, PivotPage, Report, Risk


class KeyMaker(Protocol):
    """(action, target value, page) -> a short opaque key; `risk` is what the card showed,
    kept with the breakdown button so the breakdown says what the card said."""

    def __call__(self, action: str, target: str, page: int, risk: Risk | None = None) -> str: ...


MAX_TEXT = 75  # Slack's limit on a button's text


@dataclass(frozen=True)
class Button:
    action_id: Safe
    text: Safe
    value: Safe
    confirm: Safe | None = None  # a question Slack asks before sending the click


def _ident(raw: str) -> str:
    kept = "".join(ch for ch in raw if ch.isascii() and (ch.isalnum() or ch in "_-."))
    return kept[:64] or "pivot"


def _text(words: str, count: int | None = None, target: str | None = None) -> Safe:
    """`Co-hosted: 212.61.180[.]100 (37)`, within Slack's limit; the count always shows. The
    target comes defanged; the words are defanged here (a label may carry outside text)."""
    tail = f" ({count:,})" if count is not None else ""
    head = f"{defang_text(words)}: {target}" if target else defang_text(words)
    return Safe(fit(head, MAX_TEXT - len(tail), defang=False) + tail)


def pivot_buttons(offers: Iterable[PivotOffer], keys: KeyMaker) -> list[Button]:
    """One button an offer; a pivot offered on several targets (each name server) names its
    target on each button, defanged."""
    unique = list({(o.id, o.target): o for o in offers}.values())
    several = Counter(o.id for o in unique)
    seen: Counter[str] = Counter()
    buttons = []
    for offer in unique:
        ident = _ident(offer.id)
        seen[ident] += 1
        suffix = f":{seen[ident]}" if seen[ident] > 1 else ""
        target = _shown(offer.target) if several[offer.id] > 1 else None
        text = _text(offer.label, offer.count, target)
        value = Safe(keys(offer.id, offer.target, 1))
        buttons.append(Button(Safe(f"pivot:{ident}{suffix}"), text, value, _ask_first(offer)))
    return buttons


def _ask_first(offer: PivotOffer) -> Safe | None:
    if not offer.costs:
        return None
    size = f"{offer.count:,} results" if offer.count else "an unknown number of results"
    return label(f"This asks {offer.costs} for {size} and spends your API quota. Go ahead?")


def _shown(value: str) -> str:
    """A target as a button shows it: defanged (escaping is the renderer's)."""
    return str(fit(value, 40))


def open_button(ind: Indicator, keys: KeyMaker) -> Button:
    return Button(Safe("pivot:card"), Safe("Open"), Safe(keys("card", ind.value, 1)))


def nav_buttons(page: PivotPage, last: int, keys: KeyMaker) -> list[Button]:
    target = page.target or page.subject.value
    more = last < page.total if page.total is not None else len(page.items) >= page.page_size
    buttons = []
    if page.page > 1:
        value = Safe(keys(page.pivot, target, page.page - 1))
        buttons.append(Button(Safe("pivot:page_prev"), Safe("Previous page"), value))
    if more and page.items:
        value = Safe(keys(page.pivot, target, page.page + 1))
        buttons.append(Button(Safe("pivot:page_next"), Safe("Next page"), value))
    return buttons


def page_exports(page: PivotPage, keys: KeyMaker) -> list[Button]:
    """CSV and STIX exports of a pivot's whole result set, when it has one."""
    if not page.items:
        return []
    target = page.target or page.subject.value
    return [
        Button(
            Safe("pivot:export:1"),
            label("Export CSV"),
            Safe(keys(f"export:csv:{page.pivot}", target, 1)),
        ),
        Button(
            Safe("pivot:export:2"),
            label("STIX 2.1"),
            Safe(keys(f"export:stix:{page.pivot}", target, 1)),
        ),
    ]


def card_exports(report: Report, keys: KeyMaker) -> list[Button]:
    """The card itself as a STIX 2.1 bundle."""
    value = Safe(keys("export:stix:card", report.indicator.value, 1))
    return [Button(Safe("pivot:export"), label("STIX 2.1"), value)]


def risk_button(report: Report, keys: KeyMaker) -> Button | None:
    """The risk line's "Risk breakdown" button, when there is a reason to break down."""
    if not report.risk.reasons:
        return None
    value = Safe(keys("risk", report.indicator.value, 1, report.risk))
    return Button(Safe("pivot:risk"), label(RISK_BUTTON), value)
