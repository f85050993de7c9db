"""Rules that live in one place each, tested where they live: the privacy decision (every
branch), address ranges and embedded IPv4, a URL's host, IDNA, zones, plain text, lists."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrichment.addresses import IpAddress, embedded_ipv4, is_public, networks, parse_address
from enrichment.index._keys import neighbourhood
from enrichment.indicators import (
    in_zone,
    lookup_target,
    make_indicator,
    registered_domain,
    registrable_label,
    to_ascii,
    url_host,
)
from enrichment.model import Indicator, Kind
from enrichment.privacy import allowlisted, host_reason, internal_reason
from enrichment.rdap.bootstrap import ascii_name
from enrichment.settings import Settings, split_list
from enrichment.text import country_code, is_token, one_line
from enrichment.whois.client import query_name

TEAM = Settings(
    internal_networks=(ipaddress.ip_network("212.61.180.0/24"),),
    internal_domains=("acme-internal.com",),
)


def reason(kind: Kind, value: str) -> str | None:
    return internal_reason(make_indicator(kind, value), TEAM)


# -- the privacy decision, branch by branch ----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (Kind.IPV4, "10.1.2.3", "private or special-use address"),
        (Kind.IPV4, "127.0.0.1", "private or special-use address"),
        (Kind.IPV4, "169.254.169.254", "private or special-use address"),
        (Kind.IPV4, "224.0.0.1", "private or special-use address"),
        (Kind.IPV4, "240.0.0.1", "private or special-use address"),
        (Kind.IPV6, "4000::1", "reserved address"),  # unassigned: reserved, yet not "private"
        (Kind.IPV4, "100.64.1.1", "shared address space (CGNAT)"),
        (Kind.IPV4, "212.61.180.100", "internal network"),
        (Kind.IPV6, "fd00::1", "private or special-use address"),
        (Kind.IPV6, "fe80::1", "private or special-use address"),
    ],
)
def test_addresses_that_stay_inside(kind: Kind, value: str, expected: str) -> None:
    assert reason(kind, value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::10.0.0.1",  # IPv4-compatible
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
        "2002:d43d:b464::1",  # 6to4 of 212.61.180.100, the team's own network
    ],
)
def test_ipv6_forms_are_judged_by_the_ipv4_address_inside(value: str) -> None:
    assert reason(Kind.IPV6, value) is not None


def test_a_public_looking_ipv6_address_says_which_ipv4_address_keeps_it_inside() -> None:
    # 2002::/16 and 64:ff9b::/96 are "global" to Python; only the address inside is not
    assert reason(Kind.IPV6, "2002:a00:1::1") == (
        "private or special-use address (inside 2002:a00:1::1)"
    )
    assert reason(Kind.IPV6, "2002:d43d:b464::1") == "internal network (inside 2002:d43d:b464::1)"


def test_public_addresses_may_leave() -> None:
    assert reason(Kind.IPV4, "212.61.181.1") is None
    assert reason(Kind.IPV6, "2a00:1450:4001:80b::200e") is None
    assert reason(Kind.IPV6, "2002:d43d:b564::1") is None  # 6to4 of a public address


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.0/8", "overlaps private or special-use space"),
        ("8.0.0.0/6", "overlaps private or special-use space"),  # holds 10.0.0.0/8
        ("0.0.0.0/0", "internal network"),
        ("0.0.0.0/1", "overlaps private or special-use space"),
        ("212.61.0.0/16", "internal network"),  # holds the team's 212.61.180.0/24
        ("212.0.0.0/8", "internal network"),
        ("2002::/16", "overlaps private or special-use space"),
        ("213.0.0.0/8", None),
        ("2a00::/12", None),
    ],
)
def test_networks_stay_inside_when_they_overlap_private_or_team_space(
    value: str, expected: str | None
) -> None:
    assert reason(Kind.CIDR, value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (Kind.DOMAIN, "build.acme-internal.com", "internal domain"),
        (Kind.DOMAIN, "acme-internal.com", "internal domain"),
        (Kind.DOMAIN, "acme-internal.com.evil.pw", None),
        (Kind.DOMAIN, "notacme-internal.com", None),
        (Kind.DOMAIN, "qpdar.pw", None),
        (Kind.EMAIL, "ops@acme-internal.com", "internal domain"),
        (Kind.EMAIL, "ops@mail.acme-internal.com", "internal domain"),
        (Kind.EMAIL, "ops@qpdar.pw", None),
        (Kind.URL, "http://10.0.0.5/admin", "private or special-use address"),
        (Kind.URL, "http://[fd00::1]:8080/", "private or special-use address"),
        (Kind.URL, "https://wiki.acme-internal.com/page", "internal domain"),
        (Kind.URL, "http://212.61.180.7/x", "internal network"),
        (Kind.URL, "hxxp://qpdar[.]pw/main.php".replace("hxxp", "http").replace("[.]", "."), None),
        (Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e", None),
    ],
)
def test_names_mail_and_urls(kind: Kind, value: str, expected: str | None) -> None:
    assert reason(kind, value) == expected


def test_special_use_names_stay_inside_without_any_setting() -> None:
    for value in ("printer.local", "intranet.corp", "nas.home.arpa", "x.onion", "localhost"):
        indicator = Indicator(Kind.DOMAIN, value, value)  # sources may hand over such names
        assert internal_reason(indicator, Settings()) == "special-use name", value


def test_hosts_named_by_upstream_answers() -> None:
    assert host_reason("127.0.0.1", TEAM) == "private or special-use address"
    assert host_reason("[::1]", TEAM) == "private or special-use address"
    assert host_reason("metadata.internal", TEAM) == "special-use name"
    assert host_reason("rdap.acme-internal.com", TEAM) == "internal domain"
    assert host_reason("", TEAM) == "no host"
    assert host_reason("rdap.verisign.com", TEAM) is None


# -- addresses ----------------------------------------------------------------------------------


def test_ranges_become_the_cidrs_that_cover_them() -> None:
    assert [str(n) for n in networks("212.61.180.0 - 212.61.180.255")] == ["212.61.180.0/24"]
    assert [str(n) for n in networks("10.0.0.0 - 10.0.2.255")] == ["10.0.0.0/23", "10.0.2.0/24"]
    assert [str(n) for n in networks("2a0b:7e40::/29")] == ["2a0b:7e40::/29"]
    assert [str(n) for n in networks(" 212.61.180.77/24 ")] == ["212.61.180.0/24"]
    assert networks("10.0.0.9 - 10.0.0.1") == []  # out of order
    assert networks("10.0.0.0 - ::1") == []  # mixed families
    assert networks("not a network") == []


def test_embedded_ipv4_of_every_ipv6_form() -> None:
    expect = {
        "2002:a00:1::1": "10.0.0.1",
        "64:ff9b::a00:1": "10.0.0.1",
        "64:ff9b:1::a00:1": "10.0.0.1",
        "::ffff:10.0.0.1": "10.0.0.1",
        "::10.0.0.1": "10.0.0.1",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe": "10.0.0.1",
    }
    for v6, v4 in expect.items():
        ip = parse_address(v6)
        assert ip is not None and str(embedded_ipv4(ip)) == v4, v6
    for plain in ("::1", "::", "2a00:1450::1", "10.0.0.1"):
        ip = parse_address(plain)
        assert ip is not None and embedded_ipv4(ip) is None, plain


def test_is_public() -> None:
    assert is_public("212.61.180.100")
    assert is_public("2a00:1450::1")
    for address in ("127.0.0.1", "::ffff:127.0.0.1", "fe80::1%eth0", "10.9.9.9", "junk", ""):
        assert not is_public(address), address


# -- names --------------------------------------------------------------------------------------


def test_the_host_of_a_url() -> None:
    assert url_host("http://user:pw@qpdar.pw:8080/x?y#z") == "qpdar.pw"
    assert url_host("https://[2001:db8::1]:443/") == "2001:db8::1"
    assert url_host("http://212.61.180.100/main.php") == "212.61.180.100"
    assert url_host("qpdar.pw/main.php") is None


def test_what_the_sources_are_asked_about() -> None:
    url = make_indicator(Kind.URL, "http://www.qpdar.pw/main.php")
    assert lookup_target(url) == make_indicator(Kind.DOMAIN, "www.qpdar.pw")
    ip_url = make_indicator(Kind.URL, "http://[2a00:1450::1]/x")
    assert lookup_target(ip_url) == make_indicator(Kind.IPV6, "2a00:1450::1")
    mail = make_indicator(Kind.EMAIL, "bob@qpdar.pw")
    assert lookup_target(mail) == make_indicator(Kind.DOMAIN, "qpdar.pw")
    name = make_indicator(Kind.DOMAIN, "qpdar.pw")
    assert lookup_target(name) is name


def test_idna_is_2008_with_uts46_everywhere() -> None:
    # IDNA 2003 (Python's "idna" codec) maps ß to ss; registries use IDNA 2008.
    for convert in (to_ascii, ascii_name, query_name):
        assert convert("faß.de") == "xn--fa-hia.de"
        assert convert("Bücher.Example.") == "xn--bcher-kva.example"
    assert to_ascii("_jabber._tcp.Example.COM.") == "_jabber._tcp.example.com"
    assert to_ascii("x\u200dy.com") is None


def test_zones() -> None:
    zones = ("corp.example", "Acme.COM.")
    assert in_zone("a.b.corp.example", zones)
    assert in_zone("CORP.example.", zones)
    assert in_zone("mail.acme.com", zones)
    assert not in_zone("xcorp.example", zones)
    assert not in_zone("corp.example.evil.pw", zones)
    assert not in_zone("anything.pw", ())


def test_registrable_domain_and_label() -> None:
    assert registered_domain("a.b.qpdar.pw") == "qpdar.pw"
    assert registered_domain("www.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("x.github.io") == "github.io"  # what WHOIS and RDAP know
    assert registered_domain("co.uk") is None
    assert registrable_label("x1y2.ddns.net") == "x1y2"  # dynamic DNS zones count here
    assert registrable_label("www.qpdar.pw") == "qpdar"


def test_allowlist_matches_domains_and_the_hosts_of_urls_and_mail() -> None:
    allow = ("example.org",)
    assert allowlisted(make_indicator(Kind.DOMAIN, "www.example.org"), allow)
    assert allowlisted(make_indicator(Kind.URL, "https://docs.example.org/x"), allow)
    assert allowlisted(make_indicator(Kind.EMAIL, "bob@example.org"), allow)
    assert not allowlisted(make_indicator(Kind.DOMAIN, "example.org.evil.pw"), allow)
    assert not allowlisted(make_indicator(Kind.URL, "http://93.184.216.34/"), allow)


# -- plain text ---------------------------------------------------------------------------------


def test_one_line_text() -> None:
    assert one_line("Ivan\n\tPetrov\u202e\x00  Jr\x1b[31m") == "Ivan Petrov Jr [31m"
    assert len(one_line("A" * 10_000)) == 512
    assert one_line("x" * 100, limit=10) == "x" * 10


def test_tokens_and_country_codes() -> None:
    tokens = ["cpe:/a:nginx:nginx:1.18", "two words", "tab\there", "x" * 300]
    assert [is_token(t) for t in tokens] == [True, False, False, False]
    codes = [" nl ", "NLD", "N1", None]
    assert [country_code(c) for c in codes] == ["NL", None, None, None]


def test_comma_lists() -> None:
    assert split_list(" a, ,b ,, c ") == ("a", "b", "c")
    assert split_list(None) == ()


# -- the index's neighbourhood of an address ----------------------------------------------------


@given(st.ip_addresses())
def test_the_fast_neighbourhood_of_a_dotted_quad_is_the_networks_own(ip: IpAddress) -> None:
    """Bulk imports read a dotted quad's /24 off its text; it must be what parsing gives."""
    prefix = 24 if ip.version == 4 else 64
    assert neighbourhood(str(ip)) == str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def test_only_addresses_have_a_neighbourhood() -> None:
    for value in ("qpdar.pw", "1.2.3", "1.2.3.4.5", "a.b.c.d", "1.2.3.4/24", ""):
        assert neighbourhood(value) is None, value
