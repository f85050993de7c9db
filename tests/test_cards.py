"""Cards: every template, rendered with hostile data, is valid Block Kit and inert in Slack."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.blockkit import MAX_BLOCKS, TEXT_BUDGET, finish, text_size
from bot.render.cards import (
    TEMPLATES,
    Message,
    breakdown_card,
    error_card,
    escape,
    pivot_card,
    placeholder_card,
    report_card,
    summary_card,
    usage_card,
    validate,
)
from enrichment.model import (
    Indicator,
    Kind,
    PivotItem,
    PivotOffer,
    PivotPage,
    Reason,
    Report,
    Risk,
    SourceResult,
    Status,
)

HOSTILE = json.loads((Path(__file__).parent / "fixtures/cards/hostile.json").read_text())
STRINGS: list[str] = HOSTILE["strings"]
LIVE_DOMAINS: list[str] = HOSTILE["domains"]
LIVE_NAME = re.compile(r"\w[.\u3002\uff0e\uff61][^\W\d_]{2,}")
FACT_KEYS = [
    "registrar",
    "created",
    "expires",
    "updated",
    "registrant_name",
    "registrant_org",
    "registrant_email",
    "registrant_country",
    "name_servers",
    "a",
    "aaaa",
    "mx",
    "txt",
    "cname",
    "asn",
    "as_name",
    "network",
    "network_name",
    "country",
    "ptr",
    "abuse_email",
    "ports",
    "tags",
    "vulns",
]

# A hostile value for each kind, shown "defanged" by a careless upstream (value as is).
HOSTILE_INDICATORS = [
    Indicator(Kind.DOMAIN, "evil.example", "evil[.]example"),
    Indicator(Kind.DOMAIN, "пример.испытание", "пример.испытание"),
    Indicator(Kind.IPV4, "212.61.180.100", "212.61.180.100"),
    Indicator(Kind.IPV6, "2001:db8::1", "2001:db8::1"),
    Indicator(Kind.CIDR, "212.61.180.0/24", "212[.]61[.]180[.]0/24"),
    Indicator(
        Kind.URL, "http://evil.example/a|b>c<!channel>", "http://evil.example/a|b>c<!channel>"
    ),
    Indicator(Kind.URL, "http://qpdar.pw/main.php", "hxxp://qpdar[.]pw/main.php"),
    Indicator(Kind.EMAIL, "ceo@evil.example", "<mailto:ceo@evil.example|ceo@evil.example>"),
    Indicator(Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e"),
    Indicator(Kind.SHA1, "`" * 40, "`<@U0ADMIN>`" * 4),
    Indicator(Kind.SHA256, "a" * 64, "a" * 64),
]


class Keys:
    """A KeyMaker that records its calls and hands out short opaque keys."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def __call__(self, action: str, target: str, page: int, risk: Risk | None = None) -> str:
        self.calls.append((action, target, page))
        return f"k{len(self.calls)}"


# Checks every card must pass -----------------------------------------------------------------


def strings_in(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)


def text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from text_objects(value)


def assert_inert(s: str) -> None:
    """No markup, no link, no live name: nothing Slack could turn into a mention or a link."""
    assert "<" not in s and ">" not in s, s
    assert "http://" not in s.lower() and "https://" not in s.lower(), s
    live = [domain for domain in LIVE_DOMAINS if domain in s]
    assert not live, (live, s)


def assert_text_object(node: dict[str, Any]) -> None:
    assert not LIVE_NAME.search(node["text"]), node["text"]
    assert node["type"] == "plain_text" or node["verbatim"] is True


def assert_safe_card(message: Message) -> None:
    assert isinstance(message, Message)
    assert validate(message.blocks, message.text) == []
    assert message.text.strip()
    for s in [message.text, *strings_in(message.blocks)]:
        assert_inert(s)
    for node in text_objects(message.blocks):
        assert_text_object(node)
    assert "url" not in set(strings_in(message.blocks)) - set(_all_values(message.blocks))
    kwargs = message.kwargs()
    assert kwargs["unfurl_links"] is False and kwargs["unfurl_media"] is False
    assert kwargs["text"] == message.text and kwargs["blocks"] == message.blocks


def _all_values(node: Any) -> Iterator[str]:
    """String values (not keys), so a text reading 'url' is no false alarm."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _all_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_values(value)


def action_ids(message: Message) -> list[str]:
    return [n["action_id"] for n in _dicts(message.blocks) if "action_id" in n]


def buttons(message: Message) -> list[dict[str, Any]]:
    return [n for n in _dicts(message.blocks) if n.get("type") == "button"]


def _dicts(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _dicts(value)


def all_text(message: Message) -> str:
    return "\n".join(n["text"] for n in text_objects(message.blocks))


def test_the_checker_itself_catches_live_and_unescaped_output() -> None:
    bad = [
        Message("x", [_section("<!channel>")]),
        Message("x", [_section("see evil.example")]),
        Message("<!here>", [_section("fine")]),
        Message("x", [{"type": "section", "text": {"type": "mrkdwn", "text": "no verbatim"}}]),
    ]
    for message in bad:
        with pytest.raises(AssertionError):
            assert_safe_card(message)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


# Hostile data --------------------------------------------------------------------------------


def hostile_facts(n: int) -> dict[str, Any]:
    """Every fact key set to a hostile value; lists where sources return lists."""
    pick = STRINGS[n % len(STRINGS)]
    facts: dict[str, Any] = {
        key: STRINGS[(n + i) % len(STRINGS)] for i, key in enumerate(FACT_KEYS)
    }
    facts.update(
        registrant_name=HOSTILE["long"],
        created="2016-02-03",
        a=[f"212.61.{i // 256}.{i % 256}" for i in range(500)],
        aaaa=["2001:db8::1", pick],
        name_servers=STRINGS,
        txt=[HOSTILE["long"], *STRINGS],
        ports=list(range(1, 200)),
        tags=STRINGS,
        redacted=True,
    )
    return facts


def hostile_results() -> dict[str, SourceResult]:
    return {
        "whois": SourceResult("whois", Status.TIMEOUT, detail="<!channel>", elapsed_ms=4000),
        "rdap": SourceResult("rdap", Status.RATE_LIMITED, elapsed_ms=20),
        "<@U0ADMIN>": SourceResult("<@U0ADMIN>", Status.ERROR, detail=HOSTILE["long"]),
        "dns": SourceResult("dns", Status.OK, elapsed_ms=12),
    }


def hostile_pivots(count: int = 60) -> tuple[PivotOffer, ...]:
    return tuple(
        PivotOffer(
            id=["resolve", "ptr", "reverse_ip", "<!here>"][i % 4],
            label=STRINGS[i % len(STRINGS)],
            target=f"target{i}.evil.example",
            count=i if i % 3 else None,
        )
        for i in range(count)
    )


def hostile_report(ind: Indicator, n: int = 0) -> Report:
    risk = Risk(97, tuple(Reason(f"r{i}", 10 * i, s) for i, s in enumerate(STRINGS[:5])))
    return Report(ind, hostile_results(), hostile_facts(n), risk, hostile_pivots())


# Indicator cards -----------------------------------------------------------------------------


@pytest.mark.parametrize("ind", HOSTILE_INDICATORS, ids=lambda i: f"{i.kind}")
def test_report_card_with_hostile_data_is_valid_and_inert(ind: Indicator) -> None:
    message = report_card(hostile_report(ind), Keys())
    assert_safe_card(message)


@pytest.mark.parametrize("ind", HOSTILE_INDICATORS, ids=lambda i: f"{i.kind}")
def test_report_card_with_no_data(ind: Indicator) -> None:
    message = report_card(Report(ind, {}, {}), Keys())
    assert_safe_card(message)
    assert "scored" not in all_text(message) and "Risk" not in all_text(message)  # no promise


def analyst_card() -> Message:
    ind = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    facts = {
        "registrar": "<!channel> Registrar & Co",
        "created": "2016-02-03",
        "expires": "2017-02-03",
        "registrant_name": "<http://evil.example|click>",
        "registrant_org": "Org",
        "registrant_email": "x@evil.example",
        "name_servers": ["ns1.evil.example", "ns2.evil.example"],
        "a": ["212.61.180.100"],
        "mx": ["mx.evil.example"],
        "txt": ["v=spf1 -all"],
        "cname": "alias.evil.example",
    }
    results = {"whois": SourceResult("whois", Status.TIMEOUT, elapsed_ms=2300)}
    risk = Risk(100, (Reason("feed", 60, "listed by urlhaus"), Reason("age", 40, "young")))
    report = Report(ind, results, facts, risk, (PivotOffer("resolve", "Resolve", "qpdar.pw", 2),))
    return report_card(report, Keys())


def test_domain_card_heads_with_the_name_and_the_risk() -> None:
    message = analyst_card()
    assert_safe_card(message)
    text = all_text(message)
    assert message.blocks[0]["type"] == "header"
    assert message.blocks[0]["text"]["text"] == "qpdar[.]pw · domain"
    assert "*Risk 100/100 · malicious* · listed by urlhaus\n" in text + "\n"
    assert "young" not in text  # the breakdown is a button away
    assert message.blocks[-1]["elements"][0]["text"] == "whois: timeout · 2.3 s"
    assert "risk 100/100" in message.text and "qpdar[.]pw" in message.text


def risk_section(message: Message) -> dict[str, Any]:
    (section,) = [b for b in message.blocks if b.get("block_id") == "0.risk"]
    return section


def scored(risk: Risk, ind: Indicator = HOSTILE_INDICATORS[0]) -> Report:
    return Report(ind, {"dns": SourceResult("dns", Status.OK)}, {}, risk)


NEAR = Reason("proximity", 85, "shares IP 212.61.180[.]100 with 3 listed domains", "index")


@pytest.mark.parametrize(
    ("risk", "line"),
    [
        (Risk(85, (NEAR, Reason("age", 45, "registered 9 days ago"))),
         "*Risk 85/100 · likely malicious* · shares IP 212[.]61[.]180[.]100 with 3 listed domains"),
        (Risk(100, (Reason("listed", 100, "listed by URLhaus (Locky)", "urlhaus"),)),
         "*Risk 100/100 · malicious* · listed by URLhaus (Locky)"),
        (Risk(60, (Reason("dga", 60, "the name looks machine-generated"),)),
         "*Risk 60/100 · suspicious* · the name looks machine-generated"),
        (Risk(5), "*Risk 5/100 · low*"),
    ],
)  # fmt: skip
def test_the_risk_line_is_score_band_and_the_winning_reason(risk: Risk, line: str) -> None:
    keys = Keys()
    message = report_card(scored(risk), keys)
    assert_safe_card(message)
    section = risk_section(message)
    assert section["text"]["text"] == line
    if risk.reasons:  # the breakdown is one click away, on the risk line itself
        assert section["accessory"]["text"]["text"] == "Risk breakdown"
        assert section["accessory"]["action_id"] == "pivot:risk"
        assert ("risk", "evil.example", 1) in keys.calls
        assert "risk " + line.split("*")[1].lower().removeprefix("risk ") in message.text
    else:  # nothing to break down: no button
        assert "accessory" not in section
        assert [c for c in keys.calls if c[0] == "risk"] == []


@pytest.mark.parametrize("hostile", STRINGS)
def test_a_hostile_reason_is_escaped_and_defanged_on_the_line_and_the_breakdown(
    hostile: str,
) -> None:
    reasons = (Reason("listed", 100, hostile, hostile, hostile), Reason(hostile, 40, ""))
    report = scored(Risk(100, reasons))
    card, breakdown = report_card(report, Keys()), breakdown_card(report)
    assert_safe_card(card)
    assert_safe_card(breakdown)
    assert risk_section(card)["text"]["text"].startswith("*Risk 100/100 · malicious* · ")


def test_the_breakdown_shows_every_component_with_points_source_and_freshness() -> None:
    reasons = (
        Reason("listed", 100, "listed by URLhaus (Locky)", "urlhaus", "2016-02-09"),
        NEAR,
        Reason("dga", 80, "the name looks machine-generated", "dga", "2026-01-15"),
    )
    message = breakdown_card(scored(Risk(100, reasons), Indicator(Kind.DOMAIN, "q.pw", "q[.]pw")))
    assert_safe_card(message)
    text = all_text(message)
    assert message.blocks[0]["text"]["text"] == "Risk breakdown: q[.]pw"
    assert "*Risk 100/100 · malicious* · listed by URLhaus (Locky)" in text
    assert "*+100 listed* · listed by URLhaus (Locky)\n_urlhaus, as of 2016-02-09_" in text
    assert "*+85 proximity* · shares IP 212[.]61[.]180[.]100 with 3 listed domains\n_index_" in text
    assert "*+80 dga*" in text and "_dga, as of 2026-01-15_" in text
    assert buttons(message) == []


def test_a_breakdown_of_nothing_says_so() -> None:
    message = breakdown_card(scored(Risk(5)))
    assert_safe_card(message)
    assert "Nothing raised the score" in all_text(message)


def test_domain_card_shows_what_an_analyst_expects() -> None:
    text = all_text(analyst_card())
    assert "`&lt;!channel&gt; Registrar &amp; Co`" in text
    assert (
        "*Registrant*\n`&lt;hxxp://evil[.]example|click&gt;` / `Org` / `x@evil[.]example`" in text
    )
    assert "years old)" in text and "`212[.]61[.]180[.]100`" in text
    labels = ("Registrar", "Created", "Expires", "Name servers", "A", "MX", "TXT", "CNAME")
    assert [label for label in labels if f"*{label}*\n" not in text] == []


def test_redacted_registrant_is_said_so() -> None:
    ind = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    message = report_card(Report(ind, {}, {"redacted": True}), Keys())
    assert "*Registrant*\n`redacted`" in all_text(message)


def test_ip_card_shows_network_facts() -> None:
    ind = Indicator(Kind.IPV4, "212.61.180.100", "212[.]61[.]180[.]100")
    facts = {
        "asn": 20857,
        "as_name": "TRANSIP-AS",
        "network": "212.61.180.0/24",
        "network_name": "NL-NET",
        "country": "NL",
        "ptr": ["host.evil.example"],
        "abuse_email": "abuse@evil.example",
        "ports": [22, 80],
        "tags": ["self-signed"],
        "vulns": ["CVE-2021-44228"],
    }
    message = report_card(Report(ind, {}, facts), Keys())
    assert_safe_card(message)
    text = all_text(message)
    assert "*ASN*\n`20857` · `TRANSIP-AS`" in text
    assert "*Network*\n`212[.]61[.]180[.]0/24` · `NL-NET`" in text
    for expected in ("`NL`", "`host[.]evil[.]example`", "`abuse@evil[.]example`", "`22`, `80`"):
        assert expected in text
    assert "`CVE-2021-44228`" in text and "`self-signed`" in text


def test_url_card_shows_the_url_and_its_host() -> None:
    ind = Indicator(Kind.URL, "http://qpdar.pw/main.php", "hxxp://qpdar[.]pw/main.php")
    message = report_card(Report(ind, {}, {"a": ["212.61.180.100"], "asn": 20857}), Keys())
    assert_safe_card(message)
    text = all_text(message)
    assert "*URL*\n`hxxp://qpdar[.]pw/main[.]php`" in text
    assert "`212[.]61[.]180[.]100`" in text and "`20857`" in text


def test_email_card_shows_the_domain_facts() -> None:
    ind = Indicator(Kind.EMAIL, "ceo@evil.example", "ceo[@]evil[.]example")
    message = report_card(Report(ind, {}, {"mx": ["mx.evil.example"]}), Keys())
    assert_safe_card(message)
    assert "*MX*\n`mx[.]evil[.]example`" in all_text(message)


def test_hash_card_says_no_sources_when_nothing_answered() -> None:
    ind = Indicator(Kind.SHA256, "a" * 64, "a" * 64)
    failed = {"feeds": SourceResult("feeds", Status.ERROR)}
    message = report_card(Report(ind, failed, {}), Keys())
    assert_safe_card(message)
    assert "No sources for hashes yet." in all_text(message)
    assert f"`{'a' * 64}`" in all_text(message)
    answered = {"feeds": SourceResult("feeds", Status.OK)}
    assert "No sources" not in all_text(report_card(Report(ind, answered, {}), Keys()))


def test_pivot_buttons_carry_opaque_keys_and_unique_action_ids() -> None:
    ind = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    pivots = (
        PivotOffer("resolve", "Resolve", "qpdar.pw", 2),
        PivotOffer("resolve", "Resolve", "qpdar.pw", 2),  # exact duplicate: shown once
        PivotOffer("resolve", "Resolve", "www.qpdar.pw"),
        PivotOffer("raw_whois", "Raw WHOIS", "qpdar.pw"),
    )
    keys = Keys()
    message = report_card(Report(ind, {}, {}, pivots=pivots), keys)
    assert_safe_card(message)
    ids = ["pivot:resolve", "pivot:resolve:2", "pivot:raw_whois", "pivot:export"]
    assert action_ids(message) == ids
    # one pivot on two targets: each button names its own
    texts = ["Resolve: qpdar[.]pw (2)", "Resolve: www[.]qpdar[.]pw", "Raw WHOIS", "STIX 2.1"]
    assert [b["text"]["text"] for b in buttons(message)] == texts
    assert keys.calls[:3] == [
        ("resolve", "qpdar.pw", 1),
        ("resolve", "www.qpdar.pw", 1),
        ("raw_whois", "qpdar.pw", 1),
    ]
    assert [b["value"] for b in buttons(message)] == ["k1", "k2", "k3", "k4"]


def test_sixty_pivot_offers_all_get_a_button() -> None:
    ind = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    offers = tuple(PivotOffer(f"p{i}", f"Pivot {i}", "qpdar.pw", i) for i in range(60))
    message = report_card(Report(ind, {}, {}, pivots=offers), Keys())
    assert_safe_card(message)
    pivots = [b for b in buttons(message) if b["action_id"] != "pivot:export"]
    assert len(pivots) == 60  # and the card's own export besides
    assert len(set(action_ids(message))) == 61


# Summary, pivot pages, raw text ------------------------------------------------------------


def test_summary_card_caps_lines_and_says_how_many_more() -> None:
    reports = [
        hostile_report(HOSTILE_INDICATORS[i % len(HOSTILE_INDICATORS)], i) for i in range(25)
    ]
    keys = Keys()
    message = summary_card(reports, keys, left_out=7)
    assert_safe_card(message)
    assert len(buttons(message)) == 20
    assert {b["text"]["text"] for b in buttons(message)} == {"Open"}
    assert all(a.startswith("pivot:card") for a in action_ids(message))
    assert [c[0] for c in keys.calls] == ["card"] * 20
    assert keys.calls[0][1] == reports[0].indicator.value
    assert "and 12 more" in all_text(message)
    assert "32 indicators" in message.blocks[0]["text"]["text"]
    assert "*risk 97*" in all_text(message)


def test_summary_of_one_plain_report() -> None:
    ind = Indicator(Kind.IPV4, "212.61.180.100", "212[.]61[.]180[.]100")
    report = Report(ind, {}, {"as_name": "TRANSIP-AS", "country": "NL"})
    message = summary_card([report], Keys())
    assert_safe_card(message)
    assert "`212[.]61[.]180[.]100` IPv4 · `TRANSIP-AS` · `NL`" in all_text(message)
    assert message.blocks[0]["text"]["text"] == "1 indicator"


def pivot_page(n_items: int, page: int = 1, total: int | None = 60) -> PivotPage:
    subject = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    items = tuple(
        PivotItem(
            Indicator(Kind.DOMAIN, f"d{i}.evil.example", f"d{i}.evil.example"),
            score=i,
            first_seen=STRINGS[i % len(STRINGS)],
            source=STRINGS[(i + 1) % len(STRINGS)],
        )
        for i in range(n_items)
    )
    return PivotPage("resolve", subject, items, total, page, 25, hostile_results())


def test_pivot_card_first_page() -> None:
    keys = Keys()
    message = pivot_card(pivot_page(25), keys)
    assert_safe_card(message)
    assert message.blocks[0]["text"]["text"] == "Resolve: qpdar[.]pw → 60 results"
    assert "showing 1-25 of 60" in all_text(message)
    assert action_ids(message).count("pivot:page_next") == 1
    assert "pivot:page_prev" not in action_ids(message)
    opens = [b for b in buttons(message) if b["text"]["text"] == "Open"]
    assert len(opens) == 20
    assert ("resolve", "qpdar.pw", 2) in keys.calls
    assert "d24[.]evil[.]example" in all_text(message)  # items past 20 are listed, not dropped


def test_pivot_card_later_page_and_unknown_total() -> None:
    message = pivot_card(pivot_page(25, page=3, total=None), Keys())
    assert_safe_card(message)
    assert "showing 51-75 (total unknown)" in all_text(message)
    assert {"pivot:page_prev", "pivot:page_next"} <= set(action_ids(message))
    last = pivot_card(pivot_page(10, page=3, total=60), Keys())
    assert "showing 51-60 of 60" in all_text(last)
    assert "pivot:page_next" not in action_ids(last)


def test_pivot_card_with_no_results() -> None:
    message = pivot_card(pivot_page(0, total=0), Keys())
    assert_safe_card(message)
    assert "No results." in all_text(message)
    assert "showing 0-0 of 0" in all_text(message)


def test_pivot_card_with_more_items_than_blocks_degrades_with_a_note() -> None:
    subject = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    items = tuple(PivotItem(Indicator(Kind.DOMAIN, "x", HOSTILE["long"])) for _ in range(400))
    message = pivot_card(PivotPage("same_ns", subject, items, 400, 1, 400), Keys())
    assert_safe_card(message)
    assert "Trimmed to fit" in all_text(message)
    assert "showing 1-400 of 400" in all_text(message)


def test_raw_text_card_is_escaped_code_and_says_it_was_truncated() -> None:
    subject = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    raw = HOSTILE["raw_whois"] * 400
    message = pivot_card(PivotPage("raw_whois", subject, (), None, text=raw), Keys())
    assert_safe_card(message)
    code_blocks = [n["text"] for n in text_objects(message.blocks) if n["text"].startswith("```")]
    assert code_blocks
    for block in code_blocks:
        assert block.startswith("```\n") and block.endswith("\n```")
        assert "`" not in block[4:-4]
    assert "Registrant Name: &lt;!channel&gt;" in code_blocks[0]
    assert f"truncated; {len(raw)} characters in full" in all_text(message)
    assert text_size(message.blocks) <= TEXT_BUDGET


def test_short_raw_text_is_not_marked_truncated() -> None:
    subject = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    message = pivot_card(
        PivotPage("raw_whois", subject, (), None, text="Domain: QPDAR.PW\n"), Keys()
    )
    assert_safe_card(message)
    assert "truncated" not in all_text(message)
    empty = pivot_card(PivotPage("raw_whois", subject, (), None, text=""), Keys())
    assert_safe_card(empty)


# Small cards ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [*STRINGS, HOSTILE["long"]])
def test_small_cards_with_hostile_text(raw: str) -> None:
    ind = Indicator(Kind.URL, raw, raw)
    for message in (placeholder_card(ind), usage_card(raw), error_card(raw)):
        assert_safe_card(message)


def test_placeholder_and_usage_wording() -> None:
    ind = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
    assert placeholder_card(ind).text == "Pivoting on qpdar[.]pw…"
    assert "`/pivot &lt;domain" in all_text(usage_card())
    assert "not an indicator" in all_text(usage_card("not an indicator"))
    assert_safe_card(usage_card())


def test_escape_is_reexported() -> None:
    assert escape("<!channel> & co") == "&lt;!channel&gt; &amp; co"


# Property: arbitrary strings in any fact ----------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(HOSTILE_INDICATORS),
    st.dictionaries(st.sampled_from(FACT_KEYS), st.text() | st.lists(st.text(), max_size=5)),
    st.text(),
)
def test_any_strings_in_any_fact_render_a_valid_inert_card(
    ind: Indicator, facts: dict[str, Any], label: str
) -> None:
    report = Report(
        ind,
        {label: SourceResult(label, Status.ERROR)},
        facts,
        Risk(5, ()),
        (PivotOffer(label, label, label),),
    )
    message = report_card(report, Keys())
    assert validate(message.blocks, message.text) == []
    for s in [message.text, *strings_in(message.blocks)]:
        assert "<" not in s and ">" not in s
    for node in text_objects(message.blocks):
        assert not re.search(r"&(?!amp;|lt;|gt;)", node["text"])
        assert "http:" not in node["text"].lower() and "https:" not in node["text"].lower()


# Validation and degradation ------------------------------------------------------------------


def test_validate_finds_each_problem() -> None:
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b"}}
    cases = {
        "blocks, limit": [_section("x")] * 51,
        "empty text": [_section("")],
        "unescaped": [_section("<!channel>")],
        "verbatim": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
        "unknown block type": [{"type": "bogus"}],
        "round trip": [
            {"type": "section", "text": {"type": "plain_text", "text": "x"}, "acton_id": "z"}
        ],
        "limit 2000": [{"type": "section", "fields": [{"type": "plain_text", "text": "x" * 2001}]}],
        "duplicate action_id": [{"type": "actions", "elements": [button, button]}],
        "duplicate block_id": [
            {**_section("a"), "block_id": "b"},
            {**_section("c"), "block_id": "b"},
        ],
        "url": [{"type": "actions", "elements": [{**button, "url": "hxxp://x"}]}],
        "budget": [_section("x" * 2900)] * 4,
    }
    for expected, blocks in cases.items():
        problems = validate(blocks, "fallback")
        assert any(expected in p for p in problems), (expected, problems)
    assert any("fallback" in p for p in validate([_section("x")], ""))
    assert any("fallback" in p for p in validate([_section("x")], "<!here>"))
    assert any("fallback" in p for p in validate([_section("x")], "x" * 3001))
    assert validate([_section("fine")], "fine") == []


def test_finish_drops_least_important_blocks_and_says_so() -> None:
    blocks = [{**_section(f"line {i}"), "block_id": f"{1 + i % 3}.b{i}"} for i in range(80)]
    blocks.insert(0, {**_section("essential"), "block_id": "0.head"})
    kept, text = finish(blocks, "fallback")
    assert validate(kept, text) == []
    assert len(kept) <= MAX_BLOCKS
    assert kept[0]["block_id"] == "0.head"
    assert "Trimmed" in kept[-1]["elements"][0]["text"]
    assert "32 blocks left out" in kept[-1]["elements"][0]["text"]
    assert not any(b["block_id"].startswith("3.") for b in kept)


def test_finish_trims_too_much_text() -> None:
    blocks = [{**_section("x" * 2900), "block_id": f"0.s{i}"} for i in range(10)]
    kept, text = finish(blocks, "fallback")
    assert validate(kept, text) == []
    assert text_size(kept) <= TEXT_BUDGET
    assert "values shortened" in kept[-1]["elements"][0]["text"]


def test_finish_repairs_what_it_can() -> None:
    button = {
        "type": "button",
        "action_id": "pivot:card",
        "text": {"type": "plain_text", "text": "O"},
    }
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "no verbatim <x>"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "", "verbatim": True}},
        {"type": "actions", "elements": [{**button, "url": "http://evil.example"}, button]},
        {"type": "bogus"},
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 400}},
    ]
    kept, text = finish(blocks, "<!channel> " + "y" * 5000)  # type: ignore[arg-type]
    assert validate(kept, text) == []
    assert kept[0]["text"] == {"type": "mrkdwn", "text": "no verbatim &lt;x&gt;", "verbatim": True}
    assert kept[1]["text"]["text"] == "—"
    assert [e["action_id"] for e in kept[2]["elements"]] == ["pivot:card", "pivot:card:2"]
    assert "url" not in kept[2]["elements"][0]
    assert len(kept[3]["text"]["text"]) <= 150
    assert text.startswith("&lt;!channel&gt;") and len(text) <= 3000
    assert "1 blocks left out" in kept[-1]["elements"][0]["text"]


def test_finish_of_nothing_is_still_a_valid_message() -> None:
    kept, text = finish([], "")
    assert text == "Pivot" and kept == []
    assert validate(kept, text) == []


# Contract: every template is exercised, every kind has a card -------------------------------


def test_every_card_template_is_covered_by_these_tests() -> None:
    names = {p.name.removesuffix(".json.j2") for p in TEMPLATES.glob("*.json.j2")}
    cards = {n for n in names if not n.startswith("_")}
    tested = {"domain", "ip", "url", "email", "hash", "summary", "pivot", "raw", "breakdown"}
    assert cards == tested | {"placeholder", "usage", "error"}


def test_every_kind_has_a_card() -> None:
    for kind in Kind:
        ind = Indicator(kind, "x", "x")
        assert_safe_card(report_card(Report(ind, {}, {}), Keys()))


texts = st.text(max_size=300)
items = st.builds(
    PivotItem,
    st.builds(Indicator, st.sampled_from(list(Kind)), texts, texts),
    st.none() | st.integers(),
    st.none() | texts,
    st.none() | texts,
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(items, max_size=30),
    st.none() | st.integers(min_value=0),
    st.integers(min_value=1, max_value=10**6),
    st.none() | st.text(),
    texts,
)
def test_any_pivot_page_renders_a_valid_inert_card(
    found: list[PivotItem], total: int | None, page: int, raw: str | None, name: str
) -> None:
    subject = Indicator(Kind.DOMAIN, name, name)
    sources = {name: SourceResult(name, Status.TIMEOUT, elapsed_ms=page)}
    message = pivot_card(
        PivotPage(name, subject, tuple(found), total, page, 25, sources, raw), Keys()
    )
    assert validate(message.blocks, message.text) == []
    for s in [message.text, *strings_in(message.blocks)]:
        assert "<" not in s and ">" not in s


@settings(max_examples=40, deadline=None)
@given(st.lists(st.builds(Indicator, st.sampled_from(list(Kind)), texts, texts), max_size=25))
def test_any_summary_and_small_cards_are_valid(indicators: list[Indicator]) -> None:
    reports = [Report(i, {}, {"registrar": i.value, "a": [i.defanged]}) for i in indicators]
    messages = [summary_card(reports, Keys(), left_out=len(reports))]
    for ind in indicators[:3]:
        messages += [placeholder_card(ind), usage_card(ind.value), error_card(ind.defanged)]
    for message in messages:
        assert validate(message.blocks, message.text) == []
        for s in [message.text, *strings_in(message.blocks)]:
            assert "<" not in s and ">" not in s


def test_the_terminal_shows_the_same_risk_line_and_the_whole_breakdown() -> None:
    from bot.render.text import report_text

    hostile = Reason("listed", 100, "listed by URLhaus (\x1b[31mLocky evil.example)", "urlhaus")
    text = report_text(scored(Risk(100, (hostile, NEAR)), Indicator(Kind.DOMAIN, "q.pw", "q[.]pw")))
    head = "risk          Risk 100/100 · malicious · listed by URLhaus ([31mLocky evil[.]example)"
    assert head in text
    assert "  +85 proximity: shares IP 212[.]61[.]180[.]100 with 3 listed domains (index)" in text
    assert "\x1b" not in text
    assert "risk" not in report_text(Report(HOSTILE_INDICATORS[0], {}, {}))
