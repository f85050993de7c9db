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
# Words phishing kits glue to a brand without a hyphen (`securepaypal`, `paypallogin`).
_ADDED_WORDS = (
    "login", "logon", "signin", "secure", "security", "account", "accounts", "verify",
    "verification", "update", "support", "help", "service", "services", "online", "my",
    "web", "mail", "auth", "billing", "wallet", "pay", "payment", "app", "id", "portal",
    "customer", "team", "official", "bank", "alert", "confirm", "unlock", "access",
)  # fmt: skip
_BEFORE = tuple(w[::-1] for w in _ADDED_WORDS)  # read backwards from the brand
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("nn", "m"), ("ii", "u"))


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
    return a[i + 1 :] == b[i + 1 :] or _swapped_at(a, b, i)


def _swapped_at(a: str, b: str, i: int) -> bool:
    """`a` is `b` with the letters at i and i+1 swapped (same length)."""
    return a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]


def _label_and_suffix(domain: str) -> tuple[str, str]:
    registered = registered_domain(domain) or domain
    label, _, suffix = registered.partition(".")
    return label, suffix


def _kind(candidate: str, brand: str) -> str | None:
    label, suffix = _label_and_suffix(candidate)
    mine, my_suffix = _label_and_suffix(brand)
    if label == mine:
        return "tld swap" if suffix != my_suffix else None
    if len(mine) < MIN_LABEL:
        return None  # a short brand matches nothing but itself
    return _spelled_like(label, mine)


def _spelled_like(label: str, mine: str) -> str | None:
    """How `label` (not the brand's own) imitates the brand's label `mine`, if it does."""
    shown = _unicode(label)
    if skeleton(shown) == skeleton(mine):
        return "homoglyph"
    if one_edit(label, mine):
        return "typo"
    if mine in label and _words_around(label, mine):
        return "added word"
    return None


def _words_around(label: str, mine: str) -> bool:
    """The brand stands as a word of `label`: set off by hyphens or digits, or joined to
    words phishing kits add (`securepaypal`), not buried in another word (`purchase` holds
    `chase`)."""
    head, _, tail = label.partition(mine)
    return _set_off(head[::-1], _BEFORE) and _set_off(tail, _ADDED_WORDS)


def _set_off(rest: str, words: tuple[str, ...]) -> bool:
    """`rest` (read away from the brand) is empty, starts with a hyphen or digit, or starts
    with one of the words phishing kits add."""
    return not rest or not rest[0].isalpha() or rest.startswith(words)


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
