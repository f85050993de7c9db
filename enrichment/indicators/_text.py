"""Turn chat text into scannable text: Slack markup, HTML entities, every defang style.

A dot that was written defanged (`[.]`, `(dot)`, `\\.`, `。`) becomes DOT, a private-use
character the scanner reads as a dot, so it can tell a name someone deliberately defanged
from a bare `setup.py`. Links Slack delimited (`<https://x/y>`) go to a side table and leave a
numbered slot in the text, so their exact extent survives. Every step is linear: a C-level
`str.replace`, one regex pass that cannot backtrack, or a little Python per piece of markup
or per `:/` found.
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
# Scripts written without spaces between words, where an indicator may touch the text around
# it (`使用了evil.com作为`): a space goes between them and letters or digits of other scripts.
UNSPACED = (
    r"\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
_UNSPACED_CHAR = re.compile(f"[{UNSPACED}]")
_SCRIPT_SEAM = re.compile(f"[{UNSPACED}](?=[^\\W{UNSPACED}])|[^\\W{UNSPACED}](?=[{UNSPACED}])")
_AT_FORMS = re.compile(r"[\[({][ \t]{0,2}+(?:@|(?i:at))[ \t]{0,2}+[\])}]")
# What may stand before `:/` (or `s:/`) as a defanged scheme: hxxp, hXXp, hxtp, htxp, fxp, and
# ttp with its h dropped. Looked for only just before each `:/`, which is fast to find.
_FANGED_SCHEME = re.compile(
    r"(?:[hH](?:[xX][xXtT]|[tT][xX])[pP]|[fF][xX][pP]|[tT][tT][pP])(?=[sS]?$)"
)
_SEPARATOR = re.compile(":/")
_FIXED = (("[:]", ":"), ("[://]", "://"), ("[/]", "/"), ("\\/", "/"))


@dataclass(frozen=True, slots=True)
class Prepared:
    """Text ready to scan, and the links Slack delimited, by slot number."""

    text: str
    links: tuple[str, ...]


def _without_reserved(text: str) -> str:
    if not text.isascii() and any(c in text for c in (DOT, SLOT_OPEN, SLOT_CLOSE, _AT)):
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
        typed = refang(unescape(label)) if label is not None else url
        if _target(typed) != _target(url):
            self.links.append(url)
            return f"{slot}{label} "
        if "://" not in typed and url[:7].lower() == "http://":
            return f" {_mark_host(refang(label or ''))} "  # Slack's link for a bare typed name
        self.links.append(url)
        return slot


def _target(link: str) -> str:
    """What a link or its label points at, for comparing the two."""
    return (link.partition("://")[2] if "://" in link else link).rstrip("/").lower()


def _refang_styles(text: str, *, seams: bool = False) -> str:
    """Each pass runs only when a cheap test says it can change something. `seams` also
    spaces out scripts written without spaces from the names they touch."""
    foreign = not text.isascii()
    if "[" in text or "\\" in text:
        for fanged, plain in _FIXED:
            if fanged in text:
                text = text.replace(fanged, plain)
    dots = ats = 0
    if "[" in text or "(" in text or "{" in text:
        text, dots = _DOT_FORMS.subn(DOT, text)
        text, ats = _AT_FORMS.subn(_AT, text)
    if "\\." in text:
        text, dots = text.replace("\\.", DOT), 1
    if foreign:
        text = _foreign_scripts(text, seams)
    if dots:
        text = _squeeze(text, DOT)
    if ats:
        text = _squeeze(text, _AT).replace(_AT, "@")
    return _unfang_schemes(text) if ":/" in text else text


def _foreign_scripts(text: str, seams: bool) -> str:
    if any(wide in text for wide in "\uff0e\u3002\uff61"):
        text = _WIDE_DOTS.sub(DOT, text)
    if seams and _UNSPACED_CHAR.search(text):
        text = _SCRIPT_SEAM.sub(r"\g<0> ", text)
    return text


def _squeeze(text: str, mark: str) -> str:
    """Drop the stray spaces people leave around a bracketed dot or at: `evil [.] com`."""
    for spaced in (" " + mark, mark + " ", " " + mark, mark + " "):
        if spaced in text:
            text = text.replace(spaced, mark)
    return text


def _plain_scheme(fanged: str) -> str:
    """`hXXp` -> `http`, `HXXP` -> `HTTP`, `fxp` -> `ftp`, `ttp` -> `http`."""
    plain = "ftp" if fanged[0] in "fF" else "http"
    return plain.upper() if fanged.isupper() else plain


def _unfang_schemes(text: str) -> str:
    parts: list[str] = []
    done = 0
    for separator in _SEPARATOR.finditer(text):
        head_start = max(done, separator.start() - 5)
        head = text[head_start : separator.start()]
        fanged = _FANGED_SCHEME.search(head)
        start = head_start + fanged.start() if fanged else 0
        if fanged and not (start and text[start - 1].isascii() and text[start - 1].isalnum()):
            parts += (text[done:start], _plain_scheme(fanged[0]))
            done = start + len(fanged[0])
    return "".join([*parts, text[done:]]) if parts else text


def prepare(text: str) -> Prepared:
    """Scannable text: markup resolved, entities decoded, every defang style refanged."""
    text = _without_reserved(text)
    if "<" not in text:
        return Prepared(_refang_styles(unescape(text), seams=True), ())
    markup = _Markup()
    text = _MARKUP.sub(markup, text)
    return Prepared(_refang_styles(unescape(text), seams=True), tuple(markup.links))


def refang(text: str) -> str:
    """`text` with every common defang style undone (`hxxp`, `[.]`, `(at)`, `[:]`, ...)."""
    return _refang_styles(_without_reserved(text)).replace(DOT, ".")
