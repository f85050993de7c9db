"""The risk score in words, the same on a card, in the console and on the command line.

One line: the score, its band and the winning reason (`Risk 92/100 · likely malicious ·
shares IP 212.61.180[.]100 with 3 listed domains`); the breakdown: every reason with its
points, source and how fresh its evidence is. Plain text here: the card escapes and defangs
(`bot.render.escape.fit`), the terminal cleans (`bot.render.text.plain`).
"""

from __future__ import annotations

from dataclasses import dataclass

from enrichment.model import Reason, Risk

BUTTON = "Risk breakdown"


@dataclass(frozen=True)
class Headline:
    head: str  # "Risk 92/100 · likely malicious": our own words
    reason: str | None  # the winning reason's detail: outside text


def headline(risk: Risk) -> Headline | None:
    """None when nothing was judged (a card then promises no score)."""
    if risk.score is None:
        return None
    top = risk.reasons[0] if risk.reasons else None
    band = f" · {risk.band}" if risk.band else ""
    return Headline(f"Risk {risk.score}/100{band}", (top.detail or top.code) if top else None)


def points(reason: Reason) -> str:
    """`+85 proximity`: our own words."""
    return f"+{reason.points} {reason.code}"


def provenance(reason: Reason) -> str:
    """`index, as of 2016-07-31`: outside text (a feed's name, a date it gave)."""
    parts = [reason.source or "unknown source"]
    if reason.fresh:
        parts.append(f"as of {reason.fresh}")
    return ", ".join(parts)
