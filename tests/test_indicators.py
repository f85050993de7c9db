"""The public API of enrichment.indicators: extraction rules, canonical values, display forms."""

from __future__ import annotations

import pytest

from enrichment.errors import InvalidInput
from enrichment.indicators import (
    Indicator,
    Kind,
    defang,
    extract_indicators,
    lookup_target,
    make_indicator,
    parse_indicator,
    refang,
    registered_domain,
)


def pairs(text: str) -> list[tuple[str, str]]:
    return [(i.kind.value, i.value) for i in extract_indicators(text)]


def test_the_locky_story_end_to_end() -> None:
    found = extract_indicators("C2 hxxp://qpdar[.]pw/main.php -> 212.61.180[.]100 (qpdar[.]pw)")
    assert [i.to_json() for i in found] == [
        {
            "kind": "url",
            "value": "http://qpdar.pw/main.php",
            "defanged": "hxxp://qpdar[.]pw/main.php",
        },
        {"kind": "ipv4", "value": "212.61.180.100", "defanged": "212.61.180[.]100"},
        {"kind": "domain", "value": "qpdar.pw", "defanged": "qpdar[.]pw"},
    ]


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        (Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw"),
        (Kind.DOMAIN, "www.qpdar.pw", "www[.]qpdar[.]pw"),
        (Kind.IPV4, "212.61.180.100", "212.61.180[.]100"),
        (Kind.IPV6, "2001:db8::1", "2001:db8::1"),
        (Kind.CIDR, "212.61.180.0/24", "212.61.180[.]0/24"),
        (Kind.CIDR, "2001:db8::/32", "2001:db8::/32"),
        (Kind.URL, "http://qpdar.pw/main.php", "hxxp://qpdar[.]pw/main.php"),
        (Kind.URL, "https://qpdar.pw/a.b", "hxxps://qpdar[.]pw/a.b"),
        (Kind.URL, "ftp://212.61.180.100/x", "fxp://212.61.180[.]100/x"),
        (Kind.URL, "http://qpdar.pw/r?u=https://x.org/", "hxxp://qpdar[.]pw/r?u=hxxps://x.org/"),
        (Kind.URL, "http://[2001:db8::1]:8080/", "hxxp://[2001:db8::1]:8080/"),
        (Kind.EMAIL, "user@qpdar.pw", "user[@]qpdar[.]pw"),
        (Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e"),
    ],
)
def test_defang_breaks_every_link_and_refang_restores_it(
    kind: Kind, value: str, shown: str
) -> None:
    assert defang(kind, value) == shown
    assert refang(shown) == value


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("xn--e1afmkfd.xn--p1ai", "пример[.]рф"),  # Cyrillic under a Cyrillic TLD: readable
        ("xn--bcher-kva.de", "bücher[.]de"),  # Latin with a diacritic
        ("xn--r8jz45g.jp", "例え[.]jp"),  # Han and Hiragana together are one writing system
        ("xn--80ak6aa92e.com", "xn--80ak6aa92e[.]com"),  # all-Cyrillic `apple` under .com
        ("xn--pypal-4ve.com", "xn--pypal-4ve[.]com"),  # Latin mixed with a Cyrillic `а`
        ("xn--e1afmkfd.com", "xn--e1afmkfd[.]com"),  # Cyrillic under a Latin TLD
        ("xn--pple-43d.com", "xn--pple-43d[.]com"),  # Latin with a Cyrillic `а`
    ],
)
def test_idn_display_is_unicode_only_when_it_cannot_deceive(name: str, shown: str) -> None:
    indicator = make_indicator(Kind.DOMAIN, name)
    assert indicator.value == name
    assert indicator.defanged == shown


def test_unicode_and_punycode_spellings_are_one_indicator() -> None:
    assert pairs("пример.рф, ПРИМЕР.РФ and xn--e1afmkfd.xn--p1ai") == [
        ("domain", "xn--e1afmkfd.xn--p1ai")
    ]


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        (Kind.DOMAIN, "Evil.COM.", "evil.com"),
        (Kind.DOMAIN, " пример.рф ", "xn--e1afmkfd.xn--p1ai"),
        (Kind.DOMAIN, "setup.py", "setup.py"),  # a PTR or feed value is a name, never a file
        (Kind.DOMAIN, "evil.github.io", "evil.github.io"),
        (Kind.DOMAIN, "O_O.lgms.nl", "o_o.lgms.nl"),  # `_` left of the registrable domain
        (Kind.DOMAIN, "_jabber._tcp.gmail.com", "_jabber._tcp.gmail.com"),
        (Kind.IPV4, "212.61.180.100", "212.61.180.100"),
        (Kind.IPV6, "2001:0DB8:0:0:0:0:0:1", "2001:db8::1"),
        (Kind.IPV6, "::ffff:212.61.180.100", "::ffff:212.61.180.100"),
        (Kind.CIDR, "10.1.2.3/8", "10.0.0.0/8"),
        (Kind.CIDR, "2001:db8::1/32", "2001:db8::/32"),
        (Kind.URL, "HTTPS://QPDAR.PW:8443/A?b=C", "https://qpdar.pw:8443/A?b=C"),
        (Kind.URL, "http://user@пример.рф/", "http://user@xn--e1afmkfd.xn--p1ai/"),
        (Kind.EMAIL, "Admin@QPDAR.pw", "admin@qpdar.pw"),
        (Kind.EMAIL, "Admin@[212.61.180.100]", "admin@[212.61.180.100]"),
        (Kind.EMAIL, "a@[IPv6:2001:0DB8::1]", "a@[ipv6:2001:db8::1]"),
        (Kind.MD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        (
            Kind.SHA1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
    ],
)
def test_make_indicator_normalises(kind: Kind, raw: str, value: str) -> None:
    indicator = make_indicator(kind, raw)
    assert indicator == Indicator(kind, value, defang(kind, value))
    assert make_indicator(kind, indicator.value) == indicator


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (Kind.DOMAIN, "co.uk"),
        (Kind.DOMAIN, "localhost"),
        (Kind.DOMAIN, "evil.notatld"),
        (Kind.DOMAIN, "-evil.com"),
        (Kind.DOMAIN, "under_score.com"),
        (Kind.DOMAIN, "a" * 64 + ".com"),
        (Kind.DOMAIN, "evil[.]com"),  # sources hand over clean values; nothing is refanged
        (Kind.IPV4, "212.61.180.256"),
        (Kind.IPV4, "01.2.3.4"),
        (Kind.IPV4, "1.2.3"),
        (Kind.IPV6, "2001:db8::1::2"),
        (Kind.IPV6, "fe80::1%eth0"),
        (Kind.CIDR, "10.0.0.0/33"),
        (Kind.CIDR, "10.0.0.0"),
        (Kind.URL, "qpdar.pw/main.php"),
        (Kind.URL, "javascript:alert(1)"),
        (Kind.URL, "http://localhost/x"),
        (Kind.URL, "http://qpdar.pw:99999/"),
        (Kind.EMAIL, "no-at-sign.com"),
        (Kind.EMAIL, "a..b@qpdar.pw"),
        (Kind.EMAIL, "a@[212.61.180.256]"),
        (Kind.EMAIL, "a@[qpdar.pw]"),
        (Kind.DOMAIN, "x.under_score.com"),
        (Kind.MD5, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (Kind.SHA256, "zz" * 32),
    ],
)
def test_make_indicator_refuses_what_is_not_that_kind(kind: Kind, raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make_indicator(kind, raw)
    assert raw not in str(caught.value)  # the message never echoes outside text


@pytest.mark.parametrize(
    ("domain", "registered"),
    [
        ("a.b.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("WWW.Example.COM.", "example.com"),
        ("evil.github.io", "github.io"),  # ICANN only: WHOIS knows github.io, not evil.github.io
        ("www.пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("co.uk", None),
        ("com", None),
        ("not a domain", None),
    ],
)
def test_registered_domain(domain: str, registered: str | None) -> None:
    assert registered_domain(domain) == registered


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("invoice.zip", Kind.DOMAIN, "invoice.zip"),  # typed alone to /pivot: meant as a domain
        ("  setup.py\n", Kind.DOMAIN, "setup.py"),
        ("hxxp://qpdar[.]pw/main.php", Kind.URL, "http://qpdar.pw/main.php"),
        ("<http://qpdar.pw|qpdar.pw>", Kind.DOMAIN, "qpdar.pw"),
        ("212.61.180[.]100 and qpdar.pw", Kind.IPV4, "212.61.180.100"),
        ("dead::beef", Kind.IPV6, "dead::beef"),
        ("D41D8CD98F00B204E9800998ECF8427E", Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
    ],
)
def test_parse_indicator_takes_the_first(text: str, kind: Kind, value: str) -> None:
    assert parse_indicator(text) == make_indicator(kind, value)


@pytest.mark.parametrize("text", ["", "   ", "hello there", "1.2.3.4.5", "<@U024BE7LH>", "co.uk"])
def test_parse_indicator_none(text: str) -> None:
    assert parse_indicator(text) is None


def test_refang_every_style_alone_and_mixed() -> None:
    assert refang("hXXps[:]//www(.)qpdar[dot]pw[/]a.php") == "https://www.qpdar.pw/a.php"
    assert (
        refang("user(at)qpdar{.}pw, x [@] y [.] z, a\\.b, c。d") == "user@qpdar.pw, x@y.z, a.b, c.d"
    )
    assert refang("fxp://a[.]b ttps://c[.]d hxtp://e[.]f") == "ftp://a.b https://c.d http://e.f"
    assert (
        refang("nothing to undo: http://x.org (a) [b]") == "nothing to undo: http://x.org (a) [b]"
    )
    assert refang("evil [.] com, evil[ dot ]com") == "evil.com, evil.com"
    assert refang("hxxpd://x") == "hxxpd://x"  # not a scheme we know: left alone


def test_refang_the_less_common_styles() -> None:
    assert refang("foo[-]bar.com foo].[bar[.[com x^.y 1<.>1 a(punto)b c[punkt]d") == (
        "foo-bar.com foo.bar.com x.y 1.1 a.b c.d"
    )
    assert refang("me[arroba]x(punto)com, bob AT example DOT com, bad-dot-com") == (
        "me@x.com, bob@example.com, bad.com"
    )
    assert refang("xxxx://a xxxxs://b [http]://c (https)://d http]://e http ://f") == (
        "http://a https://b http://c https://d http://e http://f"
    )
    assert refang("https:// g http//h http:///i https :/// j 5[,]6") == (
        "https://g http://h http://i https://j 5.6"
    )


def test_refang_leaves_words_and_other_schemes_alone() -> None:
    text = "the dot com era, the DOT app, LOOK AT it, file:///etc, v2-dot-app.appspot.com, 1,2"
    assert refang(text) == text


def test_never_a_partial_name() -> None:
    assert pairs("foo_bar.com foo[x]bar.com foo(-)bar.com/x user_qpdar.pw") == []
    assert pairs("1.2.3.4.nip.io") == [("domain", "1.2.3.4.nip.io")]
    assert pairs("diota[-]ar.com/path") == [("url", "http://diota-ar.com/path")]


def test_an_address_literal_is_an_email_whose_address_is_looked_up() -> None:
    found = extract_indicators("relay Admin@[212.61.180.100] and x@[IPv6:2001:DB8::1]")
    assert [(i.value, i.defanged) for i in found] == [
        ("admin@[212.61.180.100]", "admin[@][212.61.180[.]100]"),
        ("x@[ipv6:2001:db8::1]", "x[@][ipv6:2001:db8::1]"),
    ]
    assert [lookup_target(i) for i in found] == [
        make_indicator(Kind.IPV4, "212.61.180.100"),
        make_indicator(Kind.IPV6, "2001:db8::1"),
    ]
    assert refang(found[0].defanged) == found[0].value


def test_refang_does_not_invent_dots_from_private_use_characters() -> None:
    assert refang("evil\ue000com") == "evil\ufffdcom"
    assert pairs("evil\ue000com \ue001" + "0\ue002") == []


def test_slack_markup() -> None:
    text = (
        "<@U024BE7LH> <@U024BE7LH|alice> <#C024BE7LR|soc-alerts> <!here> <!channel> "
        "<!subteam^S0123ABC|@ir.team> <!date^1392734382^{date}|Feb 18, 12:30:45> "
        "<http://qpdar.pw|qpdar.pw> <https://kqwtmslbd.pw/x?a=1&amp;b=2|sample at 1.2.3.4> "
        "<mailto:Admin@QPDAR.pw|Admin@QPDAR.pw> &lt;hxxp://x[.]org/a&gt; a &amp;&amp; b"
    )
    assert pairs(text) == [
        ("domain", "qpdar.pw"),
        ("url", "https://kqwtmslbd.pw/x?a=1&b=2"),
        ("ipv4", "1.2.3.4"),
        ("email", "admin@qpdar.pw"),
        ("url", "http://x.org/a"),
    ]


def test_slack_link_for_a_typed_name_with_a_path_is_a_url() -> None:
    assert pairs("<http://invoice.zip/dl|invoice.zip/dl>") == [("url", "http://invoice.zip/dl")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<http://qpdar.pw|qpdar.pw>", ("domain", "qpdar.pw")),
        ("<https://qpdar.pw|qpdar.pw>", ("url", "https://qpdar.pw")),
        ("<https://qpdar.pw/|qpdar.pw>", ("url", "https://qpdar.pw/")),
        ("<http://qpdar.pw/main.php|qpdar.pw/main.php>", ("url", "http://qpdar.pw/main.php")),
        ("<https://qpdar.pw/main.php|qpdar.pw/main.php>", ("url", "https://qpdar.pw/main.php")),
        (
            "<https://qpdar.pw/main.php|http://qpdar.pw/main.php>",
            ("url", "https://qpdar.pw/main.php"),
        ),
        ("<http://qpdar.pw|QPDAR.pw/>", ("url", "http://qpdar.pw/")),
        ("<http://qpdar.pw|qpdar[.]pw>", ("domain", "qpdar.pw")),
        (
            "<https://qpdar.pw/a?b=1&amp;c=2|qpdar.pw/a?b=1&amp;c=2>",
            ("url", "https://qpdar.pw/a?b=1&c=2"),
        ),
    ],
)
def test_one_slack_link_is_one_indicator(text: str, expected: tuple[str, str]) -> None:
    assert pairs(text) == [expected]
    assert pairs(f"blocked {text}, and again {text}") == [expected]


def test_a_bare_file_name_is_not_a_domain_but_a_marked_one_is() -> None:
    assert pairs("setup.py invoice.zip readme.md") == []
    assert pairs("setup[.]py <http://invoice.zip|invoice.zip> readme.md/x") == [
        ("domain", "setup.py"),
        ("domain", "invoice.zip"),
        ("url", "http://readme.md/x"),
    ]


def test_code_and_sentences_without_spaces_are_not_domains() -> None:
    assert pairs("logger.info(msg) user.name(x) done.Thanks ok.Now") == []
    assert pairs("`host.name`, `user.email` and `agent.id` are fields") == []
    assert pairs("`request.host` is spoofed") == [("domain", "request.host")]  # truly ambiguous


def test_url_trailing_punctuation_and_parentheses() -> None:
    text = (
        "(see http://qpdar.pw/a_(b)). [x](https://qpdar.pw/c) 'http://qpdar.pw/d', **http://q.org**"
    )
    assert pairs(text) == [
        ("url", "http://qpdar.pw/a_(b)"),
        ("url", "https://qpdar.pw/c"),
        ("url", "http://qpdar.pw/d"),
        ("url", "http://q.org"),
    ]


def test_host_and_email_domain_are_reported_only_when_they_stand_alone() -> None:
    assert pairs("http://qpdar.pw/x user@qpdar.pw") == [
        ("url", "http://qpdar.pw/x"),
        ("email", "user@qpdar.pw"),
    ]
    assert pairs("http://qpdar.pw/x qpdar.pw") == [
        ("url", "http://qpdar.pw/x"),
        ("domain", "qpdar.pw"),
    ]


def test_an_impossible_mailbox_still_names_its_domain() -> None:
    assert pairs("-..-@qpdar.pw") == [("domain", "qpdar.pw")]


def test_ipv4_followed_by_path_port_or_prefix() -> None:
    assert pairs("1.2.3.4/24 1.2.3.4:80 1.2.3.4:80/gate 5.6.7.8/33 1.1.1.1/8.8.8.8") == [
        ("cidr", "1.2.3.0/24"),
        ("ipv4", "1.2.3.4"),
        ("url", "http://1.2.3.4:80/gate"),
        ("ipv4", "5.6.7.8"),
        ("ipv4", "1.1.1.1"),
        ("ipv4", "8.8.8.8"),
    ]


def test_extraction_returns_indicators_in_order_without_duplicates() -> None:
    text = "b.org a.org b[.]org 1.1.1.1 a.org 1[.]1[.]1[.]1"
    assert pairs(text) == [("domain", "b.org"), ("domain", "a.org"), ("ipv4", "1.1.1.1")]
