"""Tell real registrant data from the placeholders registries and registrars put in its place.

Since GDPR most registrant fields are withheld: removed, or replaced by a phrase ("REDACTED FOR
PRIVACY", "Data Protected", "Not Disclosed"), a privacy proxy's identity (Domains By Proxy,
WhoisGuard, Withheld for Privacy, Contact Privacy Inc.), a relay e-mail on a privacy domain,
or a web-form URL. None of these may become a registrant fact or a reverse-WHOIS pivot.

`is_placeholder(text)` is shared by the RDAP and WHOIS sources. It leans towards "placeholder":
a real value wrongly dropped costs one fact, a placeholder kept would pivot onto thousands of
unrelated domains.
"""

from __future__ import annotations

import re

__all__ = ["is_placeholder"]

# Whole values that carry no data.
_EMPTY_VALUES = frozenset(
    {
        "",
        "-",
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "unknown",
        "not available",
        "hidden",
        "hidden!",
        "private",
        "redacted",
        "withheld",
        "protected",
        "anonymous",
    }
)

# Words and phrases no real name, organisation or mailbox contains.
_PHRASES = re.compile(
    r"redact|withheld|privacy|proxy|whoisguard|gdpr|anonymi[sz]|disclos|masked|masking"
    r"|data protected|protected data|protection service|identity protect|non-public"
    r"|not public|private person|private registration|registration private|whois private"
    r"|private whois|on behalf of|rdds|contact form|request email form|whois-contact"
    r"|https?://|www\.",
)

# Only asterisks, hashes, dots, dashes: a masked value.
_MASKED = re.compile(r"[*#.\-_\s]+")

# Substrings of the mail domains privacy services relay through.
_RELAY_DOMAINS = ("privacy", "proxy", "whoisguard", "protect", "anonymi", "redacted", "withheld")


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def _relay_email(text: str) -> bool:
    local, at, domain = text.rpartition("@")
    if not at or not local or " " in text:
        return False
    return any(part in domain for part in _RELAY_DOMAINS)


def is_placeholder(text: str) -> bool:
    """True when `text` stands in for withheld registrant data rather than being that data.

    Empty and whitespace-only text counts as a placeholder, so callers can keep a field with
    `if not is_placeholder(value)`.
    """
    norm = _normal(text)
    if norm.strip(" .:;,") in _EMPTY_VALUES or _MASKED.fullmatch(norm):
        return True
    return bool(_PHRASES.search(norm)) or _relay_email(norm)
