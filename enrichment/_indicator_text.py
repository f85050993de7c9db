"""Turn chat text into scannable text: Slack markup, HTML entities, every defang style.

A dot that was written defanged (`[.]`, `(dot)`, `\\.`, `。`) becomes DOT, a private-use
character the scanner reads as a dot, so it can tell a name someone deliberately defanged
from a bare `setup.py`. Links Slack delimited (`<https://x/y>`) go to a side table and leave a
numbered slot in the text, so their exact extent survives. Every step is a C-level
`str.replace` or one linear regex pass; none backtracks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOT = "\ue000"
SLOT_OPEN = "\ue001"
SLOT_CLOSE = "\ue002"
_AT = "\ue003"
_RESERVED = str.maketrans(dict.fromkeys(map(ord, DOT + SLOT_OPEN + SLOT_CLOSE + _AT), "\ufffd"))

_MARKUP = re.compile(
    r"<(?:(?P<link>(?i:https?|ftp)://[^\s<>|]++)|mailto:(?P<mail>[^\s<>|]++)|[@#!][^<>]*+)"
    r"(?:\|(?P<label>[^<>]*+))?>"
)
_DOT_FORMS = re.compile(r"[\[({][ \t]{0,2}+(?:\.|(?i:dot))[ \t]{0,2}+[\])}]")
_WIDE_DOTS = re.compile(r"[\uff0e\u3002\uff61](?<=\w.)(?=[A-Za-z0-9])")  # evil。com
_AT_FORMS = re.compile(r"[\[({][ \t]{0,2}+(?:@|(?i:at))[ \t]{0,2}+[\])}]")
# hxxp, hXXp, hxtp, htxp, fxp (the lookbehind sits after the first letter so the regex engine
# can skip ahead to candidate letters instead of trying every position).
_FANGED_SCHEME = re.compile(
    r"[hHfF](?<![A-Za-z0-9].)(?:(?<=[hH])(?:[xX][xXtT]|[tT][xX])|(?<=[fF])[xX])[pP]"
)
_HEADLESS_SCHEME = re.compile(r"[tT](?<![A-Za-z0-9].)(?=[tT][pP][sS]?:/)")  # ttps://
_FIXED = (("[:]", ":"), ("[://]", "://"), ("[/]", "/"), ("\\/", "/"))


@dataclass(frozen=True, slots=True)
class Prepared:
    """Text ready to scan, and the links Slack delimited, by slot number."""

    text: str
    links: tuple[str, ...]


def _without_reserved(text: str) -> str:
    if any(c in text for c in (DOT, SLOT_OPEN, SLOT_CLOSE, _AT)):
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
        shown = unescape(label) if label is not None else None
        if shown is not None and url.lower() == "http://" + shown.lower():
            return f" {_mark_host(label or '')} "  # Slack's link for a bare typed name
        slot = f" {SLOT_OPEN}{len(self.links)}{SLOT_CLOSE} "
        self.links.append(url)
        return slot if shown in (None, url) else f"{slot}{label} "


def _refang_styles(text: str) -> str:
    for fanged, plain in _FIXED:
        if fanged in text:
            text = text.replace(fanged, plain)
    text = _DOT_FORMS.sub(DOT, text)
    if "\\." in text:
        text = text.replace("\\.", DOT)
    if any(wide in text for wide in "\uff0e\u3002\uff61"):
        text = _WIDE_DOTS.sub(DOT, text)
    if DOT in text:
        text = _squeeze(text, DOT)
    text = _AT_FORMS.sub(_AT, text)
    if _AT in text:
        text = _squeeze(text, _AT).replace(_AT, "@")
    text = _FANGED_SCHEME.sub(_unfang_scheme, text)
    return _HEADLESS_SCHEME.sub("ht", text)


def _squeeze(text: str, mark: str) -> str:
    """Drop the stray spaces people leave around a bracketed dot or at: `evil [.] com`."""
    for _ in range(2):
        text = text.replace(" " + mark, mark).replace(mark + " ", mark)
    return text


def _unfang_scheme(match: re.Match[str]) -> str:
    """`hXXp` -> `http`, `HXXP` -> `HTTP`, when a scheme separator follows."""
    end = match.end()
    following = match.string[end : end + 3]
    if following[:1] in ("s", "S"):
        following = following[1:]
    if not following.startswith(":/"):
        return match[0]
    plain = "ftp" if match[0][0] in "fF" else "http"
    return plain.upper() if match[0].isupper() else plain


def prepare(text: str) -> Prepared:
    """Scannable text: markup resolved, entities decoded, every defang style refanged."""
    text = _without_reserved(text)
    markup = _Markup()
    if "<" in text:
        text = _MARKUP.sub(markup, text)
    return Prepared(_refang_styles(unescape(text)), tuple(markup.links))


def refang(text: str) -> str:
    """`text` with every common defang style undone (`hxxp`, `[.]`, `(at)`, `[:]`, ...)."""
    return _refang_styles(_without_reserved(text)).replace(DOT, ".")
