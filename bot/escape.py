"""Make outside strings inert in Slack: strip invisible characters, defang, escape, fit.

Everything a card shows from WHOIS, DNS, feeds or the user passes through `fit` (or `code`),
which returns `Safe`: text already escaped for Slack that templates place as it is.
Order matters: clean, then defang, then escape, then cut without splitting an entity.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "ELLIPSIS",
    "Safe",
    "clean",
    "clip",
    "code",
    "defang_text",
    "escape",
    "fit",
    "label",
    "split_escaped",
    "truncate_escaped",
]

ELLIPSIS = "…"
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Control, format (zero-width, bidi overrides), surrogate, private-use and unassigned.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_BREAKS = frozenset("\n\r\t\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# A dot (or a look-alike Slack or a browser would accept) that starts another label.
_DOT = re.compile(r"[.\u3002\uff0e\uff61](?=\w)")
_SCHEME = re.compile(r"(https?|ftps?)(?=:)", re.IGNORECASE)
_PARTIAL_ENTITY = re.compile(r"&[#\w]{0,6}$")
BACKTICK_STANDIN = "ˋ"


class Safe(str):
    """Text already escaped (and defanged where it came from outside) for Slack."""

    __slots__ = ()


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup: `&` first, then `<` and `>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clean(text: str, *, multiline: bool = False) -> str:
    """Drop invisible and control characters; line breaks become spaces unless `multiline`."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    out: list[str] = []
    for ch in text:
        if ch in _BREAKS:
            out.append("\n" if multiline and ch in "\n\r\u2028\u2029\x85" else " ")
        elif unicodedata.category(ch) not in _INVISIBLE:
            out.append(ch)
    return "".join(out)


def defang_text(text: str) -> str:
    """Break every host-like dot and link scheme so no client turns the text into a link."""
    text = _SCHEME.sub(lambda m: m.group(1).lower().replace("tt", "xx").replace("ftp", "fxp"), text)
    return _DOT.sub("[.]", text)


def fit(value: object, limit: int, *, multiline: bool = False, defang: bool = True) -> Safe:
    """Outside value -> escaped Slack text of at most `limit` characters, "…" when cut."""
    return clip(value, limit, multiline=multiline, defang=defang)[0]


def clip(
    value: object, limit: int, *, multiline: bool = False, defang: bool = True
) -> tuple[Safe, bool]:
    """`fit`, also telling whether anything was cut."""
    raw = value if isinstance(value, str) else str(value)
    head = raw[: limit * 2 + 16]  # never clean megabytes to show a few thousand characters
    text = clean(head, multiline=multiline).replace("`", BACKTICK_STANDIN)
    if defang:
        text = defang_text(text)
    out, cut = _cut(text, limit, cut=len(head) < len(raw))
    return Safe(out), cut


def label(text: str) -> Safe:
    """Our own words (labels, notes): escaped, never defanged."""
    return fit(text, 3000, defang=False)


def code(value: object, limit: int = 200) -> Safe:
    """An outside value as an inline code span, or an em dash when there is nothing to show."""
    inner = fit(value, limit - 2)
    return Safe(f"`{inner}`") if inner.strip() else Safe("—")


def _cut(text: str, limit: int, *, cut: bool) -> tuple[str, bool]:
    pieces = [_ENTITIES.get(ch, ch) for ch in text]
    if not cut and sum(map(len, pieces)) <= limit:
        return "".join(pieces), False
    out: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + ELLIPSIS, True


def split_escaped(text: str, size: int) -> list[str]:
    """Cut escaped text into pieces of at most `size` characters, never inside an entity."""
    pieces: list[str] = []
    while len(text) > size:
        head = _PARTIAL_ENTITY.sub("", text[:size]) or text[:size]
        pieces.append(head)
        text = text[len(head) :]
    return [*pieces, text] if text else pieces


def truncate_escaped(text: str, limit: int) -> str:
    """Shorten already-escaped mrkdwn: never split an entity, close an open code span."""
    if len(text) <= limit:
        return text
    size = limit - 1
    while size > 0:
        head = _PARTIAL_ENTITY.sub("", text[:size])
        fences = head.count("```")
        closing = "\n```" if fences % 2 else ("`" if head.count("`") % 2 else "")
        if fences % 2 == 0 and closing == "`" and head.endswith("`"):
            head, closing = head[:-1], ""
        result = head + ELLIPSIS + closing
        if len(result) <= limit:
            return result
        size -= len(result) - limit
    return ELLIPSIS
