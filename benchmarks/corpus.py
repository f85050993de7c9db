"""A labelled, realistic SOC chat corpus: Slack-encoded messages and what each must yield.

Messages mix analysts' chatter (versions, times, file names, code, mentions: no indicators),
threat-report paragraphs, MISP lines, copied log lines and Slack-linked text, with indicators
written plain, defanged in every common style, upper-cased and wrapped in Markdown. Every
message carries the set of (kind, canonical value) it contains, computed here independently
of the extractor under test. Deterministic for a given seed.

    python benchmarks/corpus.py 200      # print 200 messages with their labels
"""

from __future__ import annotations

import ipaddress
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

Label = tuple[str, str]  # (kind, canonical value)


@dataclass(frozen=True)
class Message:
    text: str
    expected: frozenset[Label]


@dataclass(frozen=True)
class Piece:
    """An indicator rendered into text, and what it must be found as."""

    text: str
    labels: tuple[Label, ...]


_VOCABULARY = Path(__file__).resolve().parents[1] / "tests/fixtures/indicators/chat_corpus.txt"


def _sections() -> dict[str, tuple[str, ...]]:
    """The vocabulary file's sections: `[name]` then one template (or words) per line."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in _VOCABULARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif line and not line.startswith("#"):
            current.append(line.replace("\\n", "\n").replace("\\t", "\t"))
    return {name: tuple(lines) for name, lines in sections.items()}


_TEXT = _sections()
_WORDS, _SYLLABLES, _FIRST, _LAST, _PATH_PARTS, _FILES = (
    tuple(" ".join(_TEXT[name]).split())
    for name in ("words", "syllables", "first", "last", "path_parts", "files")
)
_TLDS = (
    ("com", 30), ("net", 10), ("org", 6), ("info", 4), ("ru", 5), ("pw", 3), ("xyz", 4),
    ("top", 4), ("io", 3), ("biz", 2), ("online", 2), ("site", 2), ("club", 2), ("co.uk", 2),
    ("com.br", 2), ("de", 3), ("nl", 2), ("su", 1), ("tk", 1), ("cn", 2), ("me", 1), ("cc", 1),
    ("live", 1), ("shop", 1), ("com.au", 1),
)  # fmt: skip
_IDN = (
    ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ("bücher-shop.de", "xn--bcher-shop-9db.de"),
    ("münchen-login.com", "xn--mnchen-login-dlb.com"),
    ("例え.jp", "xn--r8jz45g.jp"),
)


class Gen:
    """Random indicators and their renderings, from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, items: tuple[str, ...] | list[str]) -> str:
        return items[self.rng.randrange(len(items))]

    def label(self) -> str:
        roll = self.rng.random()
        if roll < 0.35:
            return self.pick(_WORDS) + ("-" + self.pick(_WORDS) if roll < 0.15 else "")
        if roll < 0.65:
            return "".join(self.pick(_SYLLABLES) for _ in range(self.rng.randint(2, 4)))
        if roll < 0.85:  # machine-generated
            size = self.rng.randint(8, 16)
            return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(size))
        return self.pick(_WORDS) + str(self.rng.randint(1, 999))

    def domain(self) -> str:
        tld = self.rng.choices([t for t, _ in _TLDS], [w for _, w in _TLDS])[0]
        sub = (
            self.pick(("www.", "mail.", "cdn.", "api.", "login."))
            if self.rng.random() < 0.25
            else ""
        )
        return f"{sub}{self.label()}.{tld}"

    def ipv4(self, internal: bool = False) -> str:
        if internal:
            octets = [
                10,
                self.rng.randint(0, 255),
                self.rng.randint(0, 255),
                self.rng.randint(1, 254),
            ]
            return ".".join(map(str, octets))
        first = self.rng.choice([5, 23, 31, 45, 46, 62, 77, 80, 91, 103, 141, 176, 185, 193, 212])
        rest = [self.rng.randint(0, 255) for _ in range(2)] + [self.rng.randint(1, 254)]
        return ".".join(map(str, [first, *rest]))

    def ipv6(self) -> str:
        groups = [self.rng.choice(["2a03", "2001", "2604", "2a01"])]
        groups += [
            f"{self.rng.randrange(0x10000):x}" if self.rng.random() < 0.6 else "0" for _ in range(7)
        ]
        return ipaddress.IPv6Address(":".join(groups)).compressed

    def cidr(self) -> str:
        prefix = self.rng.choice([16, 22, 24, 24, 28, 32])
        return str(ipaddress.ip_network(f"{self.ipv4()}/{prefix}", strict=False))

    def path(self) -> str:
        parts = [self.pick(_PATH_PARTS) for _ in range(self.rng.randint(0, 3))]
        path = "/" + "/".join([*parts, self.pick(_FILES)])
        if self.rng.random() < 0.3:
            path += f"?id={self.rng.randint(1, 99999)}&u={self.label()}"
        return path

    def url(self, host: str | None = None) -> str:
        scheme = self.rng.choices(["http", "https", "ftp"], [60, 38, 2])[0]
        if host is None:
            host = self.domain() if self.rng.random() < 0.8 else self.ipv4()
        port = f":{self.rng.choice([8080, 8443, 4444])}" if self.rng.random() < 0.1 else ""
        return f"{scheme}://{host}{port}{self.path()}"

    def email(self) -> str:
        local = self.rng.choice(
            [f"{self.pick(_FIRST)}.{self.pick(_LAST)}", self.pick(_FIRST), "billing-dept",
             f"{self.pick(_FIRST)}_{self.rng.randint(1, 99)}", "no-reply", "admin"]
        )  # fmt: skip
        return f"{local}@{self.domain()}"

    def hexstr(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"


# --- renderings: how people write each kind --------------------------------------------------


def _dots(value: str, mark: str, last_only: bool = False) -> str:
    if last_only:
        head, _, tail = value.rpartition(".")
        return f"{head}{mark}{tail}"
    return value.replace(".", mark)


_DOT_STYLES = (
    "[.]", "[.]", "[.]", "(.)", "{.}", "[dot]", "(dot)", "\\.", " [.] ", "[ . ]",
    "].[", " DOT ", "[punto]", "^.",
)  # fmt: skip


def render_domain(g: Gen, name: str, value: str) -> Piece:
    roll = g.rng.random()
    if roll < 0.3:
        text = name
    elif roll < 0.4:
        text = name.upper()
    elif roll < 0.5:
        text = f"<http://{name}|{name}>"
    elif roll < 0.55:
        text = _dots(name, "。") if name.isascii() else _dots(name, "[.]")
    else:
        text = _dots(name, g.pick(_DOT_STYLES), last_only=g.rng.random() < 0.3)
    return Piece(text, (("domain", value),))


def render_ipv4(g: Gen, ip: str) -> Piece:
    roll = g.rng.random()
    if roll < 0.5:
        text = ip
    elif roll < 0.8:
        text = _dots(ip, "[.]", last_only=True)
    else:
        text = _dots(ip, g.pick(("[.]", "(.)", "[dot]")))
    return Piece(text, (("ipv4", ip),))


def _defang_url(g: Gen, url: str) -> str:
    scheme, rest = url.split("://", 1)
    host, slash, tail = rest.partition("/")
    fanged = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}[scheme]
    if g.rng.random() < 0.2:
        fanged = fanged.replace("xx", "XX")
    elif scheme != "ftp" and g.rng.random() < 0.1:
        fanged = g.pick((f"[{scheme}]", "xxxx" + scheme[4:]))
    sep = g.pick(("://", "://", "[://]", "[:]//"))
    return f"{fanged}{sep}{_dots(host, g.pick(('[.]', '(.)', '[dot]')))}{slash}{tail}"


def render_url(g: Gen, url: str) -> Piece:
    roll = g.rng.random()
    if roll < 0.3:
        text = url
    elif roll < 0.45:
        text = "<" + url.replace("&", "&amp;") + ">"
    elif roll < 0.5:
        text = "<" + url.replace("&", "&amp;") + "|" + g.pick(("link", "here", "sample")) + ">"
    else:
        text = _defang_url(g, url.replace("&", "&amp;"))
    return Piece(text, (("url", url),))


def render_schemeless(g: Gen) -> Piece:
    host, path = g.domain(), g.path()
    text = (
        _dots(host, "[.]") + path if g.rng.random() < 0.7 else f"<http://{host}{path}|{host}{path}>"
    )
    return Piece(text.replace("&", "&amp;"), (("url", f"http://{host}{path}"),))


def render_email(g: Gen, address: str) -> Piece:
    local, domain = address.split("@")
    roll = g.rng.random()
    if roll < 0.3:
        text = address
    elif roll < 0.45:
        text = f"<mailto:{address}|{address}>"
    elif roll < 0.8:
        text = f"{local}[@]{_dots(domain, '[.]')}"
    else:
        at = g.pick(("(at)", "[at]", "(@)", "[arroba]", " AT "))
        text = f"{local}{at}{_dots(domain, g.pick(('(dot)', '[.]')))}"
    return Piece(text, (("email", address),))


def render_hash(g: Gen) -> Piece:
    bits, kind = g.rng.choice([(128, "md5"), (160, "sha1"), (256, "sha256"), (256, "sha256")])
    value = g.hexstr(bits)
    return Piece(value.upper() if g.rng.random() < 0.15 else value, ((kind, value),))


def piece(g: Gen, kind: str | None = None) -> Piece:
    kind = (
        kind
        or g.rng.choices(
            ["domain", "idn", "ipv4", "ipv6", "cidr", "url", "bare_url", "email", "hash"],
            [26, 1, 16, 3, 3, 18, 4, 8, 14],
        )[0]
    )
    if kind == "domain":
        name = g.domain()
        return render_domain(g, name, name)
    if kind == "idn":
        shown, value = _IDN[g.rng.randrange(len(_IDN))]
        return render_domain(g, shown if g.rng.random() < 0.7 else value, value)
    if kind == "ipv6":
        ip = g.ipv6()
        return Piece(ip, (("ipv6", ip),))
    if kind == "cidr":
        net = g.cidr()
        text = net if g.rng.random() < 0.6 else _dots(net, "[.]", last_only=True)
        return Piece(text, (("cidr", net),))
    if kind == "bare_url":
        return render_schemeless(g)
    renderers: dict[str, Callable[[], Piece]] = {
        "ipv4": lambda: render_ipv4(g, g.ipv4()),
        "url": lambda: render_url(g, g.url()),
        "email": lambda: render_email(g, g.email()),
        "hash": lambda: render_hash(g),
    }
    return renderers[kind]()


_WRAPS = (
    "{}", "{}", "{}", "{}", "`{}`", "*{}*", "_{}_", "({})", "\"{}\"", "'{}'", "{}.", "{},",
    "{}:", "[{}]", "&lt;{}&gt;", "~{}~", "**{}**",
)  # fmt: skip


def wrapped(g: Gen, p: Piece) -> str:
    if p.text.startswith("<"):  # Slack markup is already delimited
        return p.text
    return g.pick(_WRAPS).format(p.text)


def wrapped_piece(g: Gen, kind: str | None = None) -> Piece:
    p = piece(g, kind)
    if p.labels[0][0] == "ipv6":  # `2001:db8::1:` is ambiguous to any reader
        return Piece(g.pick(("{}", "`{}`", "({})", "{}.", "{},")).format(p.text), p.labels)
    return Piece(wrapped(g, p), p.labels)


# --- messages --------------------------------------------------------------------------------

_CHATTER, _AMBIGUOUS, _ANALYST, _REPORT, _MISP, _LOGS = (
    _TEXT[name] for name in ("chatter", "ambiguous", "analyst", "report", "misp", "logs")
)
_SLACK = (
    "blocked <http://{d}|{d}> at the proxy",
    "<https://{d}/{p}> is serving the kit again",
    "phish came from <mailto:{e}|{e}>, reported by <@U{uid}>",
    "VT: <https://www.virustotal.com/gui/file/{sha256}|45/70 engines>",
    "writeup: <https://{d}/blog/locky-returns|our blog post>",
    "<{url}|{url_text}>",
    "typed <https://{d}/{p}|{d}/{p}> in the ticket",
)


def _fill(g: Gen, template: str) -> Message:
    """Fill a template's named slots with plain values (logs) or rendered pieces."""
    labels: set[Label] = set()
    values: dict[str, str] = {"n": str(g.rng.randint(1, 99999)), "uid": g.hexstr(32)[:9].upper()}
    values["name"] = g.pick(_FIRST)

    def use(key: str, p: Piece) -> None:
        values[key] = p.text
        labels.update(p.labels)

    for key, kind in (("domain", "domain"), ("domain2", "domain"), ("domain3", "domain"),
                      ("ip", "ipv4"), ("url", "url"), ("email", "email"), ("cidr", "cidr"),
                      ("ipv6", "ipv6")):  # fmt: skip
        if "{" + key + "}" in template:
            use(key, wrapped_piece(g, kind) if g.rng.random() < 0.5 else piece(g, kind))
    for key, bits in (("md5", 128), ("sha1", 160), ("sha256", 256)):
        if "{" + key + "}" in template:
            value = g.hexstr(bits)
            use(key, Piece(value, ((key, value),)))
    if "{int_ip}" in template:
        ip = g.ipv4(internal=True)
        use("int_ip", Piece(ip, (("ipv4", ip),)))
    if "{ip6_plain}" in template:
        ip6 = g.ipv6()
        use("ip6_plain", Piece(ip6, (("ipv6", ip6),)))
    return Message(template.format(**values), frozenset(labels))


def _log(g: Gen) -> Message:
    """Copied log lines carry indicators as the machine wrote them: never defanged."""
    template = g.pick(_LOGS)
    labels: set[Label] = set()
    values = {"n": str(g.rng.randint(1, 99999))}
    plain = {
        "domain": ("domain", g.domain()),
        "ip": ("ipv4", g.ipv4()),
        "int_ip": ("ipv4", g.ipv4(internal=True)),
        "url": ("url", g.url()),
        "email": ("email", g.email()),
        "sha1": ("sha1", g.hexstr(160)),
        "sha256": ("sha256", g.hexstr(256)),
        "ip6_plain": ("ipv6", g.ipv6()),
    }
    for key, (kind, value) in plain.items():
        if "{" + key + "}" in template:
            values[key] = value
            labels.add((kind, value))
    if "{url_json}" in template:
        url = g.url()
        values["url_json"] = url.replace("/", "\\/")
        labels.add(("url", url))
    if "{ip_mapped}" in template:
        values["ip_mapped"] = ip = g.ipv4()
        labels.add(("ipv6", f"::ffff:{ip}"))
    if "mail.{domain}" in template:  # the log names the host, not the bare domain
        labels.discard(("domain", values["domain"]))
        labels |= {("domain", f"mail.{values['domain']}"), ("domain", "mx.google.com")}
    return Message(template.format(**values), frozenset(labels))


def _slack(g: Gen) -> Message:
    template = g.pick(_SLACK)
    d, e, h = g.domain(), g.email(), g.hexstr(256)
    url = g.url()
    p = g.path().lstrip("/")
    values = {"d": d, "e": e, "sha256": h, "uid": "U024BE7LH", "p": p.replace("&", "&amp;")}
    values.update(url=url.replace("&", "&amp;"), url_text=g.pick(("this", "the kit", "sample")))
    expected = {
        _SLACK[0]: {("domain", d)},
        _SLACK[1]: {("url", f"https://{d}/{p}")},
        _SLACK[2]: {("email", e)},
        _SLACK[3]: {("url", f"https://www.virustotal.com/gui/file/{h}")},
        _SLACK[4]: {("url", f"https://{d}/blog/locky-returns")},
        _SLACK[5]: {("url", url)},
        _SLACK[6]: {("url", f"https://{d}/{p}")},
    }[template]
    return Message(template.format(**values), frozenset(expected))


def _analyst(g: Gen) -> Message:
    template = g.pick(_ANALYST)
    pieces = [wrapped_piece(g) for _ in range(template.count("{") - template.count("{n}"))]
    pieces = pieces[: max(1, sum(f"{{{i}}}" in template for i in range(3)))]
    labels = {label for p in pieces for label in p.labels}
    text = template.format(*[p.text for p in pieces], n=g.rng.randint(1, 99999), uid="U024BE7LH")
    return Message(text, frozenset(labels))


def _chatter(g: Gen) -> Message:
    if g.rng.random() < 0.004:
        return Message(g.pick(_AMBIGUOUS), frozenset())
    text = g.pick(_CHATTER).format(n=g.rng.randint(1, 99999), uid="U024BE7LH", name=g.pick(_FIRST))
    return Message(text, frozenset())


def messages(seed: int = 7) -> Iterator[Message]:
    """An endless stream of labelled messages."""
    g = Gen(random.Random(seed))
    kinds = ["chatter", "analyst", "report", "misp", "log", "slack"]
    weights = [46, 24, 5, 6, 13, 6]
    while True:
        kind = g.rng.choices(kinds, weights)[0]
        if kind == "chatter":
            yield _chatter(g)
        elif kind == "analyst":
            yield _analyst(g)
        elif kind == "report":
            yield _fill(g, g.pick(_REPORT))
        elif kind == "misp":
            yield _fill(g, g.pick(_MISP))
        elif kind == "log":
            yield _log(g)
        else:
            yield _slack(g)


def corpus(size: int, seed: int = 7) -> list[Message]:
    """Messages adding up to at least `size` characters of text."""
    out: list[Message] = []
    total = 0
    for message in messages(seed):
        out.append(message)
        total += len(message.text) + 1
        if total >= size:
            return out
    return out  # pragma: no cover


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    for message, _ in zip(messages(), range(count), strict=False):
        print(repr(message.text), sorted(message.expected))


if __name__ == "__main__":
    main()
