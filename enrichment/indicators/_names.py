"""Domain names: validity under the public suffix list, IDNA, registrable domain, display form.

Only ICANN suffixes count (tldextract's bundled snapshot, never fetched): a name must end in
one and have a label of its own in front of it. Private suffixes (github.io, blogspot.com,
duckdns.org) are ordinary names here, because WHOIS and RDAP, which consume
`registered_domain`, only know the ICANN registrable domain.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import idna
import tldextract

MAX_NAME = 253
# One extractor for the whole package: ICANN suffixes by default, private ones (dynamic DNS,
# hosting) only where a caller asks for them (`registrable_label`).
_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)
# Host labels may hold `_` (DNS zones do: `_dmarc`, `_jabber._tcp`, `o_o.lgms.nl`); the name
# a registrar sold, and its suffix, may not (checked in `_canonical`).
_LABEL = r"(?!-)[a-z0-9_-]{1,63}+(?<!-)"
_LABELS = re.compile(rf"(?:{_LABEL}\.)++{_LABEL}")

# Public suffixes that are also everyday file names; a bare `setup.py` is a file, not a host.
# Suffixes much used for real hosts (.ai, .cc, .in, .ml, .app, .pt) are deliberately absent.
FILE_SUFFIXES = frozenset(
    {"zip", "mov", "py", "md", "sh", "pl", "pm", "rs", "ps", "so", "pub", "tf", "one", "run"}
    | {"properties", "fish"}
)

# Suffixes that are also the commonest leaves of log field paths (Elastic's `host.name`,
# `user.email`, `agent.id`): a bare name of plain words ending in one is a field.
FIELD_SUFFIXES = frozenset({"name", "id", "email"})
_FIELD_PATH = re.compile(r"[a-z]++(?:\.[a-z]++)*+")

# Scripts that can spell a Latin-looking name: shown in Unicode only under a TLD of their own.
_LOOKALIKE_SCRIPTS = frozenset({"CYRILLIC", "GREEK"})
_SCRIPT_ALIASES = {
    "CJK": "HAN",
    "HIRAGANA": "HAN",
    "KATAKANA": "HAN",
    "KATAKANA-HIRAGANA": "HAN",
    "IDEOGRAPHIC": "HAN",
    "HANGUL": "HAN",
}
# Latin letters that pass for plain ASCII ones (dotless i, long s, kra, middle-dot l).
_LATIN_LOOKALIKES = frozenset("ıſĸŀ")


@functools.cache
def _rules() -> frozenset[str]:
    """The ICANN suffix rules (`co.uk`, `*.ck`, `!www.ck`), names in ASCII (punycode) form."""
    out: set[str] = set()
    for rule in _EXTRACT._get_tld_extractor().tlds(include_psl_private_domains=False):
        prefix = rule[:2] if rule.startswith("*.") else rule[:1] if rule.startswith("!") else ""
        name = rule[len(prefix) :]
        out.add(prefix + (name if name.isascii() else _to_ascii(name) or name))
    return frozenset(out)


@functools.cache
def _tlds() -> frozenset[str]:
    """Every last label of a suffix rule."""
    return frozenset(rule.rsplit(".", 1)[-1].lstrip("!*") for rule in _rules())


def _is_suffix(name: str) -> bool:
    """True when `name` is itself a public suffix, so nobody can register it."""
    rules = _rules()
    if name in rules:
        return True
    parent = name.partition(".")[2]
    return f"*.{parent}" in rules and f"!{name}" not in rules


def _to_ascii(name: str) -> str | None:
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def to_ascii(name: str) -> str | None:
    """`name` in lower-case ASCII (IDNA 2008 with UTS 46 mapping, as registries use), without
    a trailing dot; None when a Unicode name has no valid IDNA form. ASCII names are only
    lower-cased: WHOIS and RDAP are asked about what was typed, underscores included."""
    name = name.strip().rstrip(".")
    if name.isascii():
        return name.lower()
    encoded = _to_ascii(name)
    return encoded.lower() if encoded else None


def in_zone(name: str, zones: Iterable[str]) -> bool:
    """True when `name` is one of `zones` or below one (`a.corp.example` is in `corp.example`).
    Both sides are compared lower-case without a trailing dot."""
    name = name.lower().rstrip(".")
    return any(name == z or name.endswith("." + z) for z in (z.lower().strip(".") for z in zones))


def _punycode_ok(label: str) -> bool:
    try:
        label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return False
    return True


def _labels_ok(name: str) -> bool:
    if not _LABELS.fullmatch(name):
        return False
    return "xn--" not in name or all(
        _punycode_ok(label) for label in name.split(".") if label.startswith("xn--")
    )


def canonical_domain(name: str) -> str | None:
    """`name` lower-case, in ASCII (punycode) form, without a trailing dot; None if invalid."""
    name = name[:-1] if name.endswith(".") else name
    return _canonical(name) if 0 < len(name) <= MAX_NAME else None  # only short keys cached


@functools.lru_cache(maxsize=16384)
def _canonical(name: str) -> str | None:
    ascii_name = name.lower() if name.isascii() else _to_ascii(name)
    if ascii_name is None or len(ascii_name) > MAX_NAME or "." not in ascii_name:
        return None
    if ascii_name.rsplit(".", 1)[1] not in _tlds() or not _labels_ok(ascii_name):
        return None
    if _is_suffix(ascii_name) or ("_" in ascii_name and not _underscores_ok(ascii_name)):
        return None
    return ascii_name


def _underscores_ok(name: str) -> bool:
    """True when every `_` of `name` sits left of its registrable domain."""
    parts = _EXTRACT(name, include_psl_private_domains=False)
    return "_" not in parts.domain and "_" not in parts.suffix


def registered_domain(domain: str) -> str | None:
    """The registrable domain of `domain` (`a.b.example.co.uk` -> `example.co.uk`).

    None for a bare public suffix or a name that is not valid.
    """
    name = canonical_domain(domain)
    if name is None:
        return None
    parts = _EXTRACT(name, include_psl_private_domains=False)
    return f"{parts.domain}.{parts.suffix}"


def registrable_label(domain: str) -> str | None:
    """The label just left of the public suffix, private suffixes included: `qpdar` for
    `www.qpdar.pw`, `x1y2` for `x1y2.ddns.net` (a dynamic-DNS zone is where a DGA's choice
    sits). None when `domain` is not valid or is itself a suffix."""
    name = canonical_domain(domain)
    if name is None:
        return None
    return _EXTRACT(name).domain or None


def looks_like_file(name: str) -> bool:
    """True when a canonical `name` reads as a file name (`invoice.zip`, `setup.py`) or a
    field path (`host.name`, `user.email`, `agent.id`); not `www.setup.py`, `shop.com.pl`
    (whose suffix is `com.pl`) nor `detik-news.id` (a hyphen or digit is no field's)."""
    head, _, last = name.rpartition(".")
    if last in FIELD_SUFFIXES and _FIELD_PATH.fullmatch(head):
        return True
    if last not in FILE_SUFFIXES or name.startswith("www."):
        return False
    return not _is_suffix(".".join(name.rsplit(".", 2)[-2:]))


def _script(char: str) -> str:
    if char.isascii():
        return "LATIN" if char.isalpha() else "COMMON"
    if char in _LATIN_LOOKALIKES:
        return "LATIN-LOOKALIKE"
    word = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
    if word == "LATIN" and not "\u00c0" <= char <= "\u017f":
        return "LATIN-EXTENDED"
    return _SCRIPT_ALIASES.get(word, word)


def _label_scripts(label: str) -> set[str]:
    return {_script(c) for c in label} - {"COMMON"}


def _safe_to_show(unicode_name: str) -> bool:
    labels = unicode_name.split(".")
    tld_scripts = _label_scripts(labels[-1])
    for label in labels:
        scripts = _label_scripts(label)
        if len(scripts) > 1 or scripts & {"LATIN-LOOKALIKE", "LATIN-EXTENDED", "UNKNOWN"}:
            return False
        if scripts & _LOOKALIKE_SCRIPTS and scripts != tld_scripts:
            return False
    return True


def display_domain(name: str) -> str:
    """The form to show: Unicode for a readable IDN, punycode where it could deceive."""
    return _display(name) if "xn--" in name and len(name) <= MAX_NAME else name


@functools.lru_cache(maxsize=4096)
def _display(name: str) -> str:
    try:
        unicode_name = idna.decode(name)
    except (idna.IDNAError, UnicodeError, ValueError):
        return name
    return unicode_name if _safe_to_show(unicode_name) else name
