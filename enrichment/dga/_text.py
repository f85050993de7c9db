"""From what a user typed to the label the model scores.

A label is scored as lower-case a-z, 0-9 and hyphens. An IDN label (Unicode, or its
`xn--` punycode form) is decoded and folded to ASCII (`bücher` is scored as `bucher`); a label
mostly in another script (`пример`, `例え`) gets no score from a model that only knows
Latin-script names. Lines: whitespace around is ignored, defanged dots and schemes are
refanged, a URL is reduced to its host and an email address to its domain.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from enrichment.indicators import refang, registered_domain, registrable_label

MAX_LABEL = 63
MAX_LINE = 2048  # longer lines are no name (a URL may be long; a domain is at most 253)
_LABEL = re.compile(r"[a-z0-9-]{1,63}")
_HOST = re.compile(r"(?:[a-z0-9-]{1,63}\.)+[a-z][a-z0-9-]{0,62}")
_ASCII_ONLY = re.compile(r"[^a-z0-9-]")
_SPACE = re.compile(r"\s")  # the characters str.isspace() calls space, found in C


def clean_label(label: str) -> str | None:
    """`label` as the model reads it, or None when it holds too little to score."""
    label = label.strip().lower()
    if label.startswith("xn--") and label.isascii():
        label = _decode_punycode(label)
    if not label.isascii():
        label = _fold(label)
    label = label.strip("-")
    return label[:MAX_LABEL] if label and _LABEL.fullmatch(label[:MAX_LABEL]) else None


def _decode_punycode(label: str) -> str:
    try:
        return label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label  # scored as written: a broken punycode label is odd in itself


def _fold(label: str) -> str:
    """Latin letters without their accents; '' when most of the label is another script."""
    kept = [c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c)]
    ascii_part = _ASCII_ONLY.sub("", "".join(kept).lower())
    return ascii_part if 2 * len(ascii_part) >= len(kept) else ""


def domain_label(name: str) -> str | None:
    """The label a domain's owner chose: `qpdar` for `www.qpdar.pw`, `x1y2` for
    `x1y2.ddns.net`, `cloudfront` for `cloudfront.net` (itself a private suffix), `acafonty`
    for `acafonty.bazar` (an alternative root's TLD). None when `name` is not a host name."""
    label = registrable_label(name)
    if label is not None:
        return label
    registered = registered_domain(name)
    if registered is not None:
        return registered.split(".", 1)[0]
    host = name.strip().lower().rstrip(".")
    return host.rsplit(".", 2)[-2] if len(host) <= 253 and _HOST.fullmatch(host) else None


def line_label(line: str) -> str | None:
    """The label to score for one input line, or None when the line holds no name."""
    text = line.strip()
    if not text or len(text) > MAX_LINE:
        return None
    text = refang(text).strip()
    if _SPACE.search(text):
        return None
    host = _host_of(text)
    if host is None:
        return None
    if "." not in host.strip("."):
        return clean_label(host)
    label = domain_label(host)
    return clean_label(label) if label is not None else None


def _host_of(text: str) -> str | None:
    if "://" in text:
        try:
            return urlsplit(text).hostname
        except ValueError:
            return None
    return text.rpartition("@")[2]
