"""Turn chat text into scannable text: Slack markup, HTML entities, every defang style.

Links Slack delimited (`<https://x/y>`) go to a side table and leave a numbered slot in the
text, so their exact extent survives; the defang styles are undone by `_styles`, which marks
a dot written defanged as DOT. Every step is linear: a C-level `str.replace`, one regex pass
that cannot backtrack, or a little Python per piece of markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from enrichment.indicators._styles import (
    DOT,
    RESERVED,
    SLOT_CLOSE,
    SLOT_OPEN,
    UNSPACED,
    refang_styles,
)

__all__ = ["DOT", "SLOT_CLOSE", "SLOT_OPEN", "UNSPACED", "Prepared", "prepare", "refang"]

_RESERVED = str.maketrans(dict.fromkeys(map(ord, RESERVED), "\ufffd"))

_MARKUP = re.compile(
    r"<(?:(?P<link>(?i:https?|ftp)://[^\s<>|]++)|mailto:(?P<mail>[^\s<>|]++)|[@#!][^<>]*+)"
    r"(?:\|(?P<label>[^<>]*+))?>"
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Text ready to scan, and the links Slack delimited, by slot number."""

    text: str
    links: tuple[str, ...]


def _without_reserved(text: str) -> str:
    if not text.isascii() and any(c in text for c in RESERVED):
        return text.translate(_RESERVED)
    return text


def unescape(text: str) -> str:
    """Slack escapes exactly these three; `&amp;` goes last so `&amp;lt;` stays `&lt;`."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _mark_host(typed: str) -> str:
    """What someone typed and Slack linked: its host dots become DOT (named on purpose)."""
    end = len(typed)
    for stop in "/?#:":
        at = typed.find(stop)
        if at != -1:
            end = min(end, at)
    return typed[:end].replace(".", DOT) + typed[end:]


class _Markup:
    """re.sub callback that rewrites one piece of Slack markup and records its link."""

    def __init__(self) -> None:
        self.links: list[str] = []

    def __call__(self, match: re.Match[str]) -> str:
        label = match["label"]
        if match["link"]:
            return self._link(unescape(match["link"]), label)
        if match["mail"]:
            address = unescape(match["mail"]).partition("?")[0]
            extra = label if label is not None and unescape(label) != address else ""
            return f" {address} {extra} "
        return " "  # mentions, channels, broadcasts, dates: never indicators

    def _link(self, url: str, label: str | None) -> str:
        """One link is one indicator: a label that names the link's own target (up to its
        scheme, a trailing slash, case and defanging) is not read again."""
        slot = f" {SLOT_OPEN}{len(self.links)}{SLOT_CLOSE} "
        shown = unescape(label) if label is not None else url
        typed = shown if _target(shown) == _target(url) else refang(shown)
        if _target(typed) != _target(url):
            self.links.append(url)
            return f"{slot}{label} "
        if "://" not in typed and url[:7].lower() == "http://":
            typed_label = label if typed is shown else refang(label or "")
            return f" {_mark_host(typed_label or '')} "  # Slack's link for a bare typed name
        self.links.append(url)
        return slot


def _target(link: str) -> str:
    """What a link or its label points at, for comparing the two."""
    return (link.partition("://")[2] if "://" in link else link).rstrip("/").lower()


def prepare(text: str) -> Prepared:
    """Scannable text: markup resolved, entities decoded, every defang style refanged."""
    text = _without_reserved(text)
    if "<" not in text:
        return Prepared(refang_styles(unescape(text), seams=True), ())
    markup = _Markup()
    text = _MARKUP.sub(markup, text)
    return Prepared(refang_styles(unescape(text), seams=True), tuple(markup.links))


def refang(text: str) -> str:
    """`text` with every common defang style undone (`hxxp`, `[.]`, `(at)`, `[:]`, ...)."""
    return refang_styles(_without_reserved(text)).replace(DOT, ".")
