"""One regex pass over prepared text, then cheap validation of each candidate.

The pattern is linear on any input: every unbounded repetition is possessive, and each one
that starts a candidate sits behind a lookbehind that refuses to start inside a run of the
same characters, so a failed attempt never rescans what an earlier attempt consumed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from enrichment.indicators._names import canonical_domain, looks_like_file
from enrichment.indicators._text import DOT, SLOT_CLOSE, SLOT_OPEN, UNSPACED, Prepared
from enrichment.indicators._values import (
    cidr_value,
    email_value,
    hash_kind,
    ipv4_value,
    ipv6_value,
    url_value,
)
from enrichment.model import Kind

Found = tuple[Kind, str]

# A comma ends a URL when what follows it starts another indicator (`a.com/x,b.org,1.2.3.4`).
_NEXT_INDICATOR = (
    r"[,~*_'\"`(]{0,3}"
    rf"(?:(?i:https?|ftp)://|[\w\-]{{1,63}}+[.@{DOT}]|[0-9A-Fa-f]{{32}}|(?:[0-9A-Fa-f]{{0,4}}+:){{2}})"
)
_URL_CHAR = rf"(?:[^\s<>\"'`|\\^{{}}\[\],{SLOT_OPEN}{SLOT_CLOSE}{UNSPACED}]|,(?!{_NEXT_INDICATOR}))"
# `_` may sit inside a name's run (judged in Python) but never just before one, so a run is
# only ever scanned from its start.
_NAME = rf"[\w\-]++(?:[.{DOT}][\w\-]++)++"
# RFC 5321's address literal: `user@[192.0.2.1]`, `user@[IPv6:2001:db8::1]`.
_LITERAL = rf"\[(?:(?i:ipv6):)?[0-9A-Fa-f:.{DOT}]{{2,45}}+\]"
# Every match starts with one character that is not an ASCII letter or digit (the text gets a
# leading space), which lets the regex engine skip through words in its fast loop. The gate
# then refuses, in one scan, a plain word or number that ends in a space or punctuation: most
# of any chat. The alternatives, tried in order, each guard their own start; a name made of
# digits and dots alone (`10.0`, `4.2.1`, `7.5/10`) is a number, never a domain, and a dotted
# quad after `Word/` is a product's version (`Chrome/120.0.0.0`), not an address (squid's
# `HIER_DIRECT/1.2.3.4` is one). A name followed by `@` is the local part of an address that
# is not valid, never a domain.
_PATTERN = rf"""
[^0-9A-Za-z](?=[\w{SLOT_OPEN}\-]|::)
(?![0-9A-Za-z]{{1,31}}+(?:[\s,;!?)'"*~>\]}}|=&]|\.\s|$))
(?:
 (?P<slot>{SLOT_OPEN}(?P<slot_id>\d{{1,9}}+){SLOT_CLOSE})
|(?P<url>(?<![0-9A-Za-z])(?i:https?|ftp)://(?:\[[0-9A-Fa-f:.]++\])?{_URL_CHAR}*+)
|(?P<email>(?<![0-9A-Za-z_.%+\-{DOT}])[0-9A-Za-z_.%+\-{DOT}]++@(?:{_NAME}|{_LITERAL}))
|(?P<ipv4>(?<![0-9A-Za-z.{DOT}])(?<![a-z]/)(?P<ip4>\d{{1,3}}+(?:[.{DOT}]\d{{1,3}}+){{3}})
    (?![0-9A-Za-z]|[.{DOT}][0-9A-Za-z])
    (?:(?P<cidr4>/\d{{1,3}}+)(?![0-9A-Za-z/]|[.{DOT}]\d)
      |(?P<ip4path>(?::\d{{1,5}}+)?/(?![\d/]){_URL_CHAR}*+))?)
|(?P<ipv6>(?<![0-9A-Za-z:.{DOT}])
    (?P<ip6>(?:[0-9A-Fa-f]{{0,4}}+:){{2,7}}+(?:\d{{1,3}}+(?:\.\d{{1,3}}+){{3}}|[0-9A-Fa-f]{{1,4}}+)?)
    (?P<cidr6>/\d{{1,3}}+)?(?![0-9A-Za-z:]))
|(?P<hash>(?<![0-9A-Za-z])[0-9A-Fa-f]{{32}}(?:[0-9A-Fa-f]{{8}}(?:[0-9A-Fa-f]{{24}})?)?
    (?![0-9A-Za-z]))
|(?P<domain>(?<![\w\-.@/\\$%{DOT}])(?![\d.{DOT}]++(?![\w\-]))(?P<name>{_NAME})
    (?:(?P<path>(?::\d{{1,5}}+)?/{_URL_CHAR}*+)|(?=(?P<call>\()))?(?!@))
)"""
PATTERN = re.compile(_PATTERN, re.VERBOSE)
_FOREIGN = re.compile(rf"[^\x00-\x7f{DOT}]++")
_GLUED_TAIL = re.compile(rf"(?:[.{DOT}][{UNSPACED}]++)++$")
# A name right after a short bracketed group glued to a word (`foo[x]bar.com`, `foo(-)bar`)
# is the tail of a name written in a style not known here: never reported as a whole one.
_GLUED = re.compile(r"\w[\[({][^\s\[\](){}]{0,3}+[\])}]$")
_URL_TRAILER = ".,;:!?*~"
_MAX_FALLBACK = 1024


def trim_url(url: str) -> str:
    """Drop the punctuation a sentence puts after a URL, and closing parentheses it did not
    open (Markdown's `[x](http://y)`, a parenthetical aside)."""
    end = len(url)
    unopened = url.count(")") - url.count("(")
    while end:
        last = url[end - 1]
        if last in _URL_TRAILER or (last == ")" and unopened > 0):
            unopened -= last == ")"
            end -= 1
        else:
            break
    return url[:end]


def _url(raw: str, italic: bool = False) -> tuple[Found, ...]:
    """`italic`: the URL follows an `_` that, Markdown-style, may close after it."""
    raw = trim_url(raw)
    if italic and raw.endswith("_"):
        raw = trim_url(raw[:-1])
    value = url_value(raw.replace(DOT, "."))
    return ((Kind.URL, value),) if value else ()


def _preceded_by(match: re.Match[str], group: str, char: str) -> bool:
    start = match.start(group)
    return start > 0 and match.string[start - 1] == char


def _unitalic(path: str) -> str:
    path = trim_url(path)
    return path[:-1] if path.endswith("_") else path


def _unemphasised(name: str, path: str | None) -> tuple[str, str | None]:
    """Without the `_` of Markdown emphasis: `_evil.com_`, `__evil.com__`, `_evil.com/x_`. A
    name never ends in `_` (its TLD cannot); a leading one goes only with a closing one."""
    opening = len(name) - len(name.lstrip("_"))
    if path:
        return (name[1:], _unitalic(path)) if opening else (name, path)
    closing = len(name) - len(name.rstrip("_"))
    return name[min(opening, closing) : len(name) - closing], path


def _unglued(name: str) -> str:
    """`evil.com.作为`: drop the labels a sentence end glued on in a script without spaces."""
    return _GLUED_TAIL.sub("", name) if len(name) <= _MAX_FALLBACK else name


def _glued(match: re.Match[str], group: str) -> bool:
    start = match.start(group)
    text = match.string
    return text[start - 1] in "])}" and _GLUED.search(text, max(0, start - 6), start) is not None


def _titled(label: str) -> bool:
    return len(label) > 1 and label[0].isupper() and label[1:].islower()


def _address(kind: Kind, network: str | None, raw: str) -> tuple[Found, ...]:
    if network:
        return ((Kind.CIDR, network),)
    value = ipv4_value(raw) if kind is Kind.IPV4 else ipv6_value(raw)
    return ((kind, value),) if value else ()


class Scanner:
    """Finds indicators in one prepared text. `lenient` takes a bare file-like name as a
    domain: what someone typed as the whole argument of /pivot is meant as one."""

    def __init__(self, prepared: Prepared, *, lenient: bool = False) -> None:
        self.prepared = prepared
        self.lenient = lenient

    def __iter__(self) -> Iterator[Found]:
        return iter(self.found())

    def found(self) -> dict[Found, None]:
        """Every indicator, once, in order of first appearance."""
        found: dict[Found, None] = {}
        seen: set[tuple[str | None, str]] = set()
        handlers = _HANDLERS
        for match in PATTERN.finditer(" " + self.prepared.text):
            group = match.lastgroup
            key = (group, match[group or 0])
            if key not in seen:  # a repeat costs one set lookup, however hostile the text
                seen.add(key)
                for indicator in handlers[group or "slot"](self, match):
                    found[indicator] = None
        return found

    def _nested(self, text: str) -> Iterable[Found]:
        return Scanner(Prepared(text, self.prepared.links), lenient=self.lenient)

    def _url(self, match: re.Match[str]) -> tuple[Found, ...]:
        return _url(match["url"], _preceded_by(match, "url", "_"))

    def _slot(self, match: re.Match[str]) -> tuple[Found, ...]:
        value = url_value(self.prepared.links[int(match["slot_id"])])
        return ((Kind.URL, value),) if value else ()

    def _email(self, match: re.Match[str]) -> Iterable[Found]:
        if _glued(match, "email"):  # `foo[x]bar@evil.com`: not bar's address; still evil.com
            return self._nested(match["email"].rpartition("@")[2])
        local, _, domain = match["email"].replace(DOT, ".").rpartition("@")
        if domain.endswith("_") or match.string.startswith("_", match.end()):  # _italic_
            local, domain = local.removeprefix("_"), domain.rstrip("_")
        local = local.lstrip("-") or local  # a rule or bullet glued on: `-----foo@bar.com`
        value = email_value(f"{local}@{domain}") or email_value(f"{local}@{_unglued(domain)}")
        if value:
            return ((Kind.EMAIL, value),)
        # an impossible mailbox at a real domain or address still names it
        return self._nested(match["email"].rpartition("@")[2])

    def _ipv4(self, match: re.Match[str]) -> tuple[Found, ...]:
        ip = match["ip4"].replace(DOT, ".")
        if match["ip4path"]:
            return _url("http://" + ip + match["ip4path"])
        network = cidr_value(ip + match["cidr4"]) if match["cidr4"] else None
        return _address(Kind.IPV4, network, ip)

    def _ipv6(self, match: re.Match[str]) -> tuple[Found, ...]:
        raw = match["ip6"]
        if not raw.strip(":abcdefABCDEF") and not match["cidr6"] and not self.lenient:
            return ()  # no digit at all: `dead::beef`, `add:bed:cafe` read as words
        network = cidr_value(raw + match["cidr6"]) if match["cidr6"] else None
        return _address(Kind.IPV6, network, raw)

    def _hash(self, match: re.Match[str]) -> tuple[Found, ...]:
        raw = match["hash"]
        kind = hash_kind(raw)
        return ((kind, raw.lower()),) if kind else ()

    def _domain(self, match: re.Match[str]) -> Iterable[Found]:
        name, path, call = match["name"], match["path"], match["call"]
        if _glued(match, "name"):
            return ()
        if "_" in name:
            return self._underscored(name, path, call)
        return self._plain(name, path, call)

    def _underscored(self, name: str, path: str | None, call: str | None) -> Iterable[Found]:
        """`o_o.lgms.nl`, `_dmarc.example.com`: names; `_evil.com_`: Markdown around one;
        `sample_<md5>.exe`, `x_1.2.3.4`: other indicators glued by `_`. `foo_bar.com` is no
        name (no registrar sells one with `_`), and `bar.com` is never read out of it."""
        name, path = _unemphasised(name, path)
        for candidate in (name, name.lstrip("_")):
            if "_" not in candidate:  # emphasis taken off: read it again as any indicator
                return self._nested(candidate + (path or call or ""))
            if canonical_domain(candidate.replace(DOT, ".")):
                return self._plain(candidate, path, call)
        pieces = self._nested(name.replace("_", " ") + (path or call or ""))
        return [found for found in pieces if found[0] not in (Kind.DOMAIN, Kind.URL)]

    def _plain(self, name: str, path: str | None, call: str | None) -> Iterable[Found]:
        if path:
            return self._name_with_path(name.lstrip("-"), path)
        if call and DOT not in name and not self.lenient:
            return ()  # `logger.info(`: code
        return self._name(name.strip("-"))

    def _name_with_path(self, name: str, path: str) -> Iterable[Found]:
        found = _url("http://" + name + path)
        if found or len(name) > _MAX_FALLBACK or not _FOREIGN.search(name):
            return found
        return self._nested(_FOREIGN.sub(" ", name) + path)

    def _name(self, name: str) -> Iterable[Found]:
        value = self._bare_name(name)
        if value:
            return ((Kind.DOMAIN, value),)
        if len(name) > _MAX_FALLBACK or not _FOREIGN.search(name):
            return ()
        return self._nested(_FOREIGN.sub(" ", name))  # an invalid name: try its ASCII pieces

    def _bare_name(self, name: str) -> str | None:
        value = canonical_domain(name.replace(DOT, "."))
        if value is None or DOT in name or self.lenient:
            return value
        if looks_like_file(value) or _titled(name.rpartition(".")[2]):
            return None  # `setup.py`, `host.name`, and `done.Thanks` typed without a space
        return value


_HANDLERS: dict[str, Callable[[Scanner, re.Match[str]], Iterable[Found]]] = {
    "slot": Scanner._slot,
    "url": Scanner._url,
    "email": Scanner._email,
    "ipv4": Scanner._ipv4,
    "ipv6": Scanner._ipv6,
    "hash": Scanner._hash,
    "domain": Scanner._domain,
}
