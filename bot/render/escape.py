"""Make outside strings inert in Slack: strip invisible characters, defang, escape, fit.

Everything a card shows from WHOIS, DNS, feeds or the user passes through `fit` (or `code`),
which returns `Safe`: text already escaped for Slack that templates place as it is.
Order matters: clean, then defang, then escape, then cut without splitting an entity.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date

__all__ = [
    "ELLIPSIS",
    "Safe",
    "age",
    "cat",
    "clean",
    "clip",
    "code",
    "defang_text",
    "escape",
    "field",
    "fit",
    "label",
    "split_escaped",
    "truncate_escaped",
    "values",
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


# Composing card text from escaped pieces (the helpers templates call) ------------------------


def cat(*parts: object) -> Safe:
    """Join pieces: `Safe` ones as they are, anything else as outside text."""
    return Safe("".join(p if isinstance(p, Safe) else fit(p, 3000) for p in parts if p is not None))


def _empty(value: object) -> bool:
    """None, False or "" (but not 0, which is a value)."""
    return value is None or value is False or value == ""


def values(value: object) -> list[object]:
    """A fact as the list of things to show: none for nothing, one for a scalar, the items of
    a list, `key: value` lines of a mapping."""
    if _empty(value):
        return []
    if isinstance(value, bytes | bytearray):
        return [value.decode("utf-8", "replace")]
    if isinstance(value, Mapping):
        return [f"{k}: {v}" for k, v in value.items()]
    if isinstance(value, Iterable) and not isinstance(value, str):
        return [v for v in value if v not in (None, "")]
    return [value]


def field(
    name: str,
    value: object,
    *,
    items: int = 6,
    limit: int = 120,
    note: object = None,
    sep: str = ", ",
) -> Safe | None:
    """One section field: bold label, then up to `items` values in code spans."""
    found = values(value)
    if not found:
        return None
    shown = label(sep).join(code(v, limit) for v in found[:items])
    more = f" +{len(found) - items} more" if len(found) > items else ""
    tail = f" {note}" if isinstance(note, Safe) and note else ""
    return Safe(f"*{label(name)}*\n{shown}{more}{tail}")


def age(created: object, today: date | None = None) -> Safe | None:
    """'(3650 days ago)' for an ISO date, or None when it cannot be read."""
    try:
        day = date.fromisoformat(str(created)[:10])
    except ValueError:
        return None
    days = ((today or date.today()) - day).days
    return Safe(f"({days} days ago)") if days >= 0 else None


# Already-escaped text -----------------------------------------------------------------------


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
