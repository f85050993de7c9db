"""Find indicators in free text, make them canonical, and defang them for display.

Decisions, each deliberate:

- Input may be Slack's encoded `text` or plain text. `<@U..>`, `<#C..|name>`, `<!here>`,
  `<!subteam^..>` and `<!date^..>` are dropped; `&amp; &lt; &gt;` are decoded once;
  `<mailto:a@b|a@b>` is the address. One link is one indicator: a label that names the link's
  own target (up to its scheme, a trailing slash, case and defanging) is not read again, so
  `<https://x/p|x/p>` is the one URL; `<http://x|x>`, which Slack sends when someone typed the
  bare name x, is what was typed: the domain x, or a URL when x has a path. Any other label
  is read as text after the link (`<https://x/y|see 1.2.3.4>`).
- Refanged styles, alone and mixed: `[.] (.) {.} [dot] (dot) {dot}` and the same with
  `punto` and `punkt` (Spanish, German), with stray spaces; between two word characters also
  brackets facing any way (`].[ [.[ }.}`), a dot word closed by a lone bracket (`dot]`,
  `punto)`), `^.`, `<.>`, `\\.`, and `DOT` in capitals between lower-case labels, glued or
  spaced (`fooDOTcom`, `example DOT com`); a bracketed comma between digits (`5[,]6`);
  full-width and ideographic dots between letters; a name spelt whole with `-dot-`
  (`bad-dot-com`); `[@] (@) [at] (at) [arroba]`, `at]`, and `AT` in capitals between spaces
  after a lower-case word (`bob AT example.com`); `[-]` (`foo[-]bar.com` is `foo-bar.com`);
  a bracketed first label (`[www].example.com`); `[:] (:) [://] [/] \\/`; schemes `hxxp hXXp
  hxtp htxp fxp ttps xxxx xxxxs` (and `xxxxx`: https), bracketed (`[http]://`, `(https)://`,
  `http]://`), with a space before the colon or after the slashes (`http ://`, `https:// x`),
  without the colon (`http//`) or with a third slash (`http:///`).
- Styles refused, each because reading it would report something wrong more often than it
  finds something: `dot` in lower case between words (`the dot com bubble`) and `DOT` after an
  article (`the DOT app`); commas as dots without brackets (`1,2,3,4` is a list of numbers);
  `-dot-` inside a name that has real dots (`v2-dot-app.appspot.com` is App Engine's);
  `AT` glued between words (`fooATbar.com` may be a name in capitals) or after a word in
  capitals (`LOOK AT evil.com`); `@` between spaces (`hosted @ evil.com` is the word at);
  `[et] (et)` (`et` is French for and).
- Never a partial name: a name glued to a word by a short bracketed group in a style not
  known here (`foo[x]bar.com`) or by `_` (`foo_bar.com`) is not reported, nor any tail of
  it; a dotted quad followed by `.label` is the start of a name (`1.2.3.4.nip.io`, PTR names
  `4.3.2.1.in-addr.arpa`), not an address.
- A domain ends in an ICANN public suffix (tldextract's bundled list, never fetched) and has
  valid labels. Labels left of the registrable domain may hold `_` (DNS zones do:
  `_dmarc.example.com`, `_jabber._tcp.gmail.com`, `o_o.lgms.nl`); the registrable label
  may not (no registrar sells `under_score.com`). `_` around a name is Markdown emphasis
  (`_evil.com_`), and one left before a registrable label goes with it. Private suffixes
  (github.io, duckdns.org) are not suffixes here: the name a registrar sold, which WHOIS and
  RDAP answer for, sits under the ICANN suffix.
- A bare name whose suffix is also a common file extension (`invoice.zip`, `setup.py`,
  `readme.md`) is a file, and plain words ending in `.name`, `.email` or `.id` are log field
  paths (`host.name`, `agent.id`); the same names defanged, Slack-linked, with a path or a
  scheme, or typed alone to /pivot (`parse_indicator`) are domains. A bare name followed by
  `(` is code (`logger.info(`), one whose suffix is Capitalised is a sentence missing a space
  (`done.Thanks`). Version numbers, dotted code, `Chrome/120.0.0.0` and IPs glued to other
  characters fail the suffix or boundary checks. IPv4 with leading zeros is refused (some tools
  read it as octal); an IPv6 address in free text needs a digit, or a prefix length
  (`dead::beef` is a word game, `::/0` a network).
- E-mail addresses: a dot-atom local part at a domain, or at an address literal
  (`user@[192.0.2.1]`, `user@[IPv6:2001:db8::1]`, RFC 5321): its address is what is looked
  up. Hyphens glued before an address are a rule or a bullet (`-----foo@bar.com`). An
  impossible mailbox still names its domain or address.
- Text in scripts written without spaces (Chinese, Japanese, Thai) may touch an indicator:
  it is split from Latin letters and digits first, so `使用了evil.com作为` yields evil.com
  (an IDN mixing those scripts with Latin in one label is given up for this).
- Values: domains lower-case ASCII (punycode) without trailing dot, so the Unicode and punycode
  spellings of a name are one indicator; URLs keep path and query as written, with scheme and
  host made canonical, trailing punctuation and unopened closing parentheses dropped, and a
  comma ending them when another indicator follows it; a host with a path but no scheme gets
  `http://`; emails lower-case (`user@[ipv6:2001:db8::1]`); hashes lower-case; CIDR with host
  bits cleared. A URL's host and an email's domain are not reported again unless they also
  appear on their own. Results are de-duplicated, in order of first appearance.
- Defanged forms: every dot of a domain (`www[.]evil[.]com`: a half-defanged `www.evil` could
  still be linked), only the last dot of an IPv4 address (`212.61.180[.]100`: no longer an
  address, still readable), IPv6 unchanged (no client links a bare IPv6 address), URLs
  `hxxp://host[.]defanged/path` with nested schemes broken too, emails `user[@]evil[.]com`
  and `user[@][192.0.2[.]1]`.
  An IDN shows in Unicode only when no label mixes scripts and no Cyrillic or Greek label could
  pass for Latin (it must sit under a TLD of its own script); otherwise it stays punycode, so
  refang(defang(x)) == x holds for every ASCII value and up to spelling for IDNs.
- `make_indicator` does not refang: it takes values sources found, which are never defanged and
  may legitimately contain `[` or `(`. It applies no file-name or field rule either.
- Linear time on any input: see `_styles` and `_scan`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from enrichment.errors import InvalidInput
from enrichment.indicators._names import (
    canonical_domain,
    in_zone,
    registered_domain,
    registrable_label,
    to_ascii,
)
from enrichment.indicators._scan import Found, Scanner
from enrichment.indicators._text import prepare, refang
from enrichment.indicators._values import (
    DEFANGERS,
    cidr_value,
    email_host,
    email_value,
    hash_kind,
    ipv4_value,
    ipv6_value,
    url_host,
    url_value,
)
from enrichment.model import Indicator, Kind

__all__ = [
    "Indicator",
    "Kind",
    "defang",
    "extract_indicators",
    "in_zone",
    "lookup_target",
    "make_indicator",
    "parse_indicator",
    "refang",
    "registered_domain",
    "registrable_label",
    "to_ascii",
    "url_host",
]

_CANONICAL: dict[Kind, Callable[[str], str | None]] = {
    Kind.DOMAIN: canonical_domain,
    Kind.IPV4: ipv4_value,
    Kind.IPV6: ipv6_value,
    Kind.CIDR: cidr_value,
    Kind.URL: url_value,
    Kind.EMAIL: email_value,
}


def defang(kind: Kind, value: str) -> str:
    """The display form of a canonical value: safe to post, never a live link."""
    defanger = DEFANGERS.get(kind)
    return defanger(value) if defanger else value


@functools.lru_cache(maxsize=1024)
def _indicator(found: Found) -> Indicator:
    kind, value = found
    return Indicator(kind, value, defang(kind, value))


def extract_indicators(text: str) -> list[Indicator]:
    """Every indicator in `text`, de-duplicated, in order of first appearance."""
    return [_indicator(found) for found in Scanner(prepare(text)).found()]


def parse_indicator(text: str) -> Indicator | None:
    """The first indicator in a short user input (a /pivot or CLI argument), or None.

    Unlike free text, a bare file-like name here is a domain: `invoice.zip` typed alone is
    meant as one.
    """
    first = next(iter(Scanner(prepare(text), lenient=True)), None)
    return _indicator(first) if first else None


def _canonical(kind: Kind, value: str) -> str | None:
    if kind in (Kind.MD5, Kind.SHA1, Kind.SHA256):
        return value.lower() if hash_kind(value) is kind else None
    return _CANONICAL[kind](value)


def make_indicator(kind: Kind, value: str) -> Indicator:
    """A canonical, defanged indicator from a value a source found (an A record's IP, a PTR
    name). Raises InvalidInput when `value` is not a valid `kind`."""
    canonical = _canonical(Kind(kind), value.strip())
    if canonical is None:
        raise InvalidInput(f"not a valid {Kind(kind).value}")
    return Indicator(Kind(kind), canonical, defang(Kind(kind), canonical))


def lookup_target(indicator: Indicator) -> Indicator:
    """What the sources are asked about, and what privacy and allowlists judge: a URL's host,
    an e-mail's domain, else the indicator itself (also when the host is not valid)."""
    if indicator.kind is Kind.URL:
        host = url_host(indicator.value)
    elif indicator.kind is Kind.EMAIL:
        host = email_host(indicator.value)
    else:
        return indicator
    return _host_indicator(host or "") or indicator


def _host_indicator(host: str) -> Indicator | None:
    for kind in (Kind.IPV4, Kind.IPV6, Kind.DOMAIN):
        value = _canonical(kind, host)
        if value is not None:
            return Indicator(kind, value, defang(kind, value))
    return None
