"""Is a domain a lookalike of one the team protects (`PIVOT_BRANDS`)?

dnstwist's kinds of permutation, checked the other way round: instead of generating every
permutation of every brand, a candidate is compared with each brand, which costs a few string
operations and needs no list. Kinds, most telling first:

- homoglyph: the name, spelled in Unicode, reads as the brand once look-alike letters are
  folded (Cyrillic `а` for `a`, `0` for `o`, `rn` for `m`): `pаypal.com`, `paypa1.com`;
- typo: one edit away (a letter added, dropped, swapped with its neighbour, or replaced);
- added word: the brand with words around it (`paypal-login.com`, `securepaypal.net`);
- TLD swap: the brand's own label under another suffix (`paypal.co`);
- subdomain: the brand's name in front of someone else's (`paypal.com.account-check.pw`).

The brand itself and its subdomains are never lookalikes. Labels shorter than 4 characters
match nothing but exactly (every 3-letter label is one edit from thousands of others).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import idna

from enrichment.indicators import in_zone, registered_domain

MIN_LABEL = 4
# Letters and pairs that pass for others in a URL bar (a small, deliberate subset of Unicode's
# confusables: the ones phishing kits use).
_FOLD = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ο": "o", "α": "a", "ν": "v", "ρ": "p",
        "ι": "i", "κ": "k", "τ": "t", "ı": "i", "ł": "l", "ĸ": "k", "0": "o", "1": "l",
        "3": "e", "5": "s", "|": "l", "é": "e", "è": "e", "á": "a", "à": "a", "ó": "o",
        "ö": "o", "ü": "u", "ú": "u", "í": "i", "ç": "c",
    }
)  # fmt: skip
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("nn", "m"), ("ii", "u"))
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Lookalike:
    brand: str
    kind: str  # homoglyph | typo | added word | tld swap | subdomain


def skeleton(label: str) -> str:
    """`label` with look-alike letters folded to the ones they pass for."""
    folded = label.lower().translate(_FOLD)
    for pair, single in _PAIRS:
        folded = folded.replace(pair, single)
    return folded


def _unicode(name: str) -> str:
    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError, ValueError):
        return name


def one_edit(a: str, b: str) -> bool:
    """True when `a` and `b` differ by one insertion, deletion, substitution or swap of
    neighbours (Damerau-Levenshtein distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    return swapped or a[i + 1 :] == b[i + 1 :]


def _label_and_suffix(domain: str) -> tuple[str, str]:
    registered = registered_domain(domain) or domain
    label, _, suffix = registered.partition(".")
    return label, suffix


def _kind(candidate: str, brand: str) -> str | None:
    label, suffix = _label_and_suffix(candidate)
    mine, my_suffix = _label_and_suffix(brand)
    if len(mine) < MIN_LABEL:
        return "tld swap" if label == mine and suffix != my_suffix else None
    shown = _unicode(label)
    if shown != mine and skeleton(shown) == skeleton(mine):
        return "homoglyph"
    if label == mine:
        return "tld swap" if suffix != my_suffix else None
    if one_edit(label, mine):
        return "typo"
    words = _WORDS.findall(label)
    if mine in label and (mine in words or len(label) > len(mine)):
        return "added word"
    return None


def _in_front(candidate: str, brand: str) -> bool:
    """`paypal.com.account-check.pw`: the brand's name leads someone else's domain."""
    front = candidate.removesuffix("." + (registered_domain(candidate) or ""))
    return front != candidate and (front == brand or front.endswith("." + brand))


def lookalike(domain: str, brands: Iterable[str]) -> Lookalike | None:
    """The first brand `domain` imitates, and how; None when it is a brand's own or imitates
    none."""
    for brand in brands:
        if in_zone(domain, [brand]):
            return None
    for brand in brands:
        if _in_front(domain, brand):
            return Lookalike(brand, "subdomain")
        kind = _kind(domain, brand)
        if kind:
            return Lookalike(brand, kind)
    return None
