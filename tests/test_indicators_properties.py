"""Properties of extraction over generated indicators and hostile text (hypothesis)."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from enrichment.indicators import (
    Indicator,
    Kind,
    extract_indicators,
    make_indicator,
    parse_indicator,
    refang,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Real suffixes that no one mistakes for a file extension.
TLDS = ("com", "net", "org", "io", "pw", "xyz", "top", "ru", "de", "info", "co.uk", "com.br")
LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"  # `xn--` and friends are reserved for IDNA
)
DOMAINS = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(LABEL, min_size=1, max_size=3),
    st.sampled_from(TLDS),
)
IDN_LABEL = st.text(alphabet="абвгдежзиклмнопрстуфхцчшщыэюя", min_size=1, max_size=10)
IDNS = st.builds(lambda label, tld: f"{label}.{tld}", IDN_LABEL, st.sampled_from(("рф", "com")))
IPV4 = st.ip_addresses(v=4).map(str)
# In free text an IPv6 address needs a digit (`dead::beef` reads as a word game).
IPV6 = st.ip_addresses(v=6).map(str).filter(lambda ip: any(c.isdigit() for c in ip))
SEGMENT = st.from_regex(r"[A-Za-z0-9_~%=-]{0,8}[A-Za-z0-9]", fullmatch=True)
PATHS = st.lists(SEGMENT, max_size=4).map(lambda parts: "".join("/" + p for p in parts))
QUERIES = st.one_of(st.just(""), st.builds(lambda k, v: f"?{k}={v}&x=1", SEGMENT, SEGMENT))
HOSTS = st.one_of(DOMAINS, IPV4, IPV6.map(lambda ip: f"[{ip}]"))
URLS = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}{path}{query}",
    st.sampled_from(("http", "https", "ftp")),
    HOSTS,
    st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")),
    PATHS,
    QUERIES,
)
LOCALS = st.from_regex(r"[a-z0-9]([a-z0-9_+-]{0,8}[a-z0-9])?(\.[a-z0-9]{1,6}){0,2}", fullmatch=True)
EMAILS = st.builds(lambda local, domain: f"{local}@{domain}", LOCALS, DOMAINS)
HASHES = st.sampled_from((16, 20, 32)).flatmap(
    lambda size: st.binary(min_size=size, max_size=size).map(bytes.hex)
)

INDICATORS = st.one_of(
    DOMAINS.map(lambda v: make_indicator(Kind.DOMAIN, v)),
    IDNS.map(lambda v: make_indicator(Kind.DOMAIN, v)),
    IPV4.map(lambda v: make_indicator(Kind.IPV4, v)),
    IPV6.map(lambda v: make_indicator(Kind.IPV6, v)),
    URLS.map(lambda v: make_indicator(Kind.URL, v)),
    EMAILS.map(lambda v: make_indicator(Kind.EMAIL, v)),
    HASHES.map(lambda v: make_indicator({32: Kind.MD5, 40: Kind.SHA1}.get(len(v), Kind.SHA256), v)),
)
# Chat around an injected indicator, always separated from it by whitespace. No brackets (a
# bracketed dot next to it would rightly join the two) and no `<` (Slack escapes it).
CHAT = st.text(alphabet=string.ascii_letters + string.digits + " .,;:!?'\"-/@#*\n\t", max_size=80)
NASTY = st.text(
    alphabet=".[](){}@:/<>|&;_-*~`'\"\\ \n hxXtpsfHTPS0123456789abcdefABCDEF.。．\ue000\ue001\ue002"
    "amp;lt;gt;dot[dot]mailto<@!#^",
    max_size=200,
)


@FAST
@given(st.one_of(DOMAINS, IPV4, URLS, EMAILS))
def test_refang_undoes_defang(value: str) -> None:
    for kind in (Kind.DOMAIN, Kind.IPV4, Kind.URL, Kind.EMAIL):
        try:
            indicator = make_indicator(kind, value)
        except Exception:
            continue
        assert refang(indicator.defanged) == indicator.value
        return
    raise AssertionError(f"no kind accepts {value!r}")


@FAST
@given(IDNS)
def test_refang_undoes_defang_for_idn_up_to_spelling(name: str) -> None:
    indicator = make_indicator(Kind.DOMAIN, name)
    assert make_indicator(Kind.DOMAIN, refang(indicator.defanged)) == indicator


@FAST
@given(INDICATORS)
def test_the_defanged_form_reads_back_as_the_same_indicator(indicator: Indicator) -> None:
    assert parse_indicator(indicator.defanged) == indicator
    assert extract_indicators(indicator.defanged) == [indicator]


def _joins(before: str, after: str) -> bool:
    """Chat that rightly joins what follows or precedes it: a scheme (`https:// x`), or `AT`
    and `DOT` written as words (`bob AT x`, `x DOT com`)."""
    last, first = (before.split() or [""])[-1], (after.split() or [""])[0]
    return before.endswith("//") or {last, first} & {"AT", "DOT"} != set()


@FAST
@given(CHAT, INDICATORS, CHAT, st.booleans())
def test_an_indicator_injected_into_chat_is_found(
    before: str, indicator: Indicator, after: str, defanged: bool
) -> None:
    assume(not _joins(before, after))
    shown = indicator.defanged if defanged else indicator.value
    found = extract_indicators(f"{before} {shown} {after}")
    assert indicator in found


@FAST
@given(st.one_of(st.text(), NASTY))
def test_extraction_never_raises_and_values_are_fixed_points(text: str) -> None:
    for indicator in extract_indicators(text):
        assert make_indicator(indicator.kind, indicator.value) == indicator
    parse_indicator(text)
    refang(text)
