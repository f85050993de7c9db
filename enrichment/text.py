"""Outside text made plain: one line without control or format characters, a country code.

Every parser of upstream answers (RDAP, WHOIS, Team Cymru, InternetDB) reads fields through
these, so a hostile record cannot smuggle line breaks, bidi overrides or escape sequences.
"""

from __future__ import annotations

import re
import unicodedata

_COUNTRY = re.compile(r"[A-Z]{2}")
LINE_LIMIT = 512


def one_line(value: object, limit: int = LINE_LIMIT) -> str:
    """`value` as plain one-line text: control, format and separator characters become spaces,
    runs of spaces fold into one, and the result is cut to `limit` characters."""
    text = str(value)[: limit * 4]
    plain = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(plain.split())[:limit].rstrip()


def is_token(value: object, limit: int = 255) -> bool:
    """True for a short string with no spaces, control or format characters (a tag, a CPE)."""
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return False
    return all(unicodedata.category(ch)[0] not in "CZ" for ch in value)


def country_code(value: object) -> str | None:
    """Two ASCII letters as an upper-case ISO 3166 code, else None."""
    text = str(value).strip().upper() if isinstance(value, str) else ""
    return text if _COUNTRY.fullmatch(text) else None
