"""Slack escaping helpers: every outside string ends as inert, defanged, bounded text."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.escape import (
    ELLIPSIS,
    Safe,
    age,
    cat,
    clean,
    clip,
    code,
    defang_text,
    escape,
    field,
    fit,
    split_escaped,
    truncate_escaped,
    values,
)

HOSTILE = json.loads((Path(__file__).parent / "fixtures/cards/hostile.json").read_text())
LONE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
LIVE_HOST = re.compile(r"\w[.\u3002\uff0e\uff61]\w")


def assert_inert(text: str) -> None:
    assert "<" not in text and ">" not in text
    assert not LONE_AMPERSAND.search(text), text
    assert "http:" not in text.lower() and "https:" not in text.lower()


def test_escape_ampersand_first_so_pre_escaped_text_stays_visible() -> None:
    assert escape("&lt;!channel&gt;") == "&amp;lt;!channel&amp;gt;"
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!here>", "&lt;!here&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<#C1|x>", "&lt;#C1|x&gt;"),
        ("<!subteam^S1>", "&lt;!subteam^S1&gt;"),
        ("<http://evil.example|click>", "&lt;hxxp://evil[.]example|click&gt;"),
    ],
)
def test_mentions_and_links_become_inert_text(raw: str, expected: str) -> None:
    assert fit(raw, 100) == expected


def test_clean_strips_invisible_and_control_characters() -> None:
    assert clean("a\u200bb\u200dc\ufeffd\u202ee\u0000f\u0007g\u001bh") == "abcdefgh"
    assert clean("one\ntwo\r\nthree\u2028four\tfive") == "one two three four five"
    assert clean("one\r\ntwo\u2029three", multiline=True) == "one\ntwo\nthree"


def test_zero_width_cannot_hide_a_dot_from_defanging() -> None:
    assert fit("evil\u200b.example", 100) == "evil[.]example"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://evil.example/a.php", "hxxp://evil[.]example/a[.]php"),
        ("HTTPS://EVIL.EXAMPLE", "hxxps://EVIL[.]EXAMPLE"),
        ("ftp://files.evil.example", "fxp://files[.]evil[.]example"),
        ("212.61.180.100", "212[.]61[.]180[.]100"),
        ("пример.испытание", "пример[.]испытание"),
        ("evil\uff0eexample", "evil[.]example"),
        ("evil\u3002example", "evil[.]example"),
        ("Example Registrar, Inc.", "Example Registrar, Inc."),
        ("hxxp://qpdar[.]pw", "hxxp://qpdar[.]pw"),
    ],
)
def test_defang_text(raw: str, expected: str) -> None:
    assert defang_text(raw) == expected


@given(st.text())
def test_defang_is_idempotent(text: str) -> None:
    once = defang_text(text)
    assert defang_text(once) == once


def test_code_span_neutralises_backticks_and_newlines() -> None:
    span = code("a`b\nc```d")
    assert span.startswith("`") and span.endswith("`")
    assert span[1:-1].count("`") == 0
    assert "\n" not in span


def test_code_of_nothing_is_a_dash() -> None:
    assert code("") == "—"
    assert code("\u200b\u200b") == "—"


def test_fit_counts_escaped_length_and_never_splits_an_entity() -> None:
    text = fit("<" * 100, 10)
    assert len(text) <= 10
    assert text.endswith(ELLIPSIS)
    assert text == "&lt;&lt;" + ELLIPSIS


def test_clip_reports_cutting() -> None:
    assert clip("short", 100) == ("short", False)
    cut, was_cut = clip("x" * 20_000, 100)
    assert was_cut and len(cut) == 100


def test_fit_of_a_huge_value_is_bounded() -> None:
    text = fit(HOSTILE["long"], 300)
    assert len(text) <= 300
    assert_inert(text)


@pytest.mark.parametrize("raw", HOSTILE["strings"])
def test_every_hostile_fixture_string_is_inert(raw: str) -> None:
    for text in (fit(raw, 3000), code(raw), fit(raw, 3000, multiline=True)):
        assert_inert(text)
        assert not LIVE_HOST.search(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=2, max_value=400))
def test_fit_property(raw: str, limit: int) -> None:
    text = fit(raw, limit)
    assert isinstance(text, Safe)
    assert len(text) <= limit
    assert_inert(text)
    assert "`" not in text


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_truncate_escaped_property(raw: str, limit: int) -> None:
    escaped = f"prefix `{fit(raw, 1000)}` and ```{fit(raw, 1000, multiline=True)}```"
    short = truncate_escaped(escaped, limit)
    assert len(short) <= limit
    assert not LONE_AMPERSAND.search(short)
    assert short.count("```") % 2 == 0
    assert short.replace("```", "").count("`") % 2 == 0


def test_truncate_escaped_leaves_short_text_alone() -> None:
    assert truncate_escaped("`a` &amp; b", 100) == "`a` &amp; b"


@given(st.text(alphabet="ab<>&\n", max_size=200), st.integers(min_value=6, max_value=50))
def test_split_escaped_keeps_entities_whole(raw: str, size: int) -> None:
    escaped = fit(raw, 10_000, multiline=True)
    pieces = split_escaped(escaped, size)
    assert "".join(pieces) == escaped
    for piece in pieces:
        assert len(piece) <= size
        assert not LONE_AMPERSAND.search(piece)


def test_values_flattens_what_sources_return() -> None:
    assert values(None) == []
    assert values("") == []
    assert values("x") == ["x"]
    assert values(["a", None, "", "b"]) == ["a", "b"]
    assert values({"k": "v"}) == ["k: v"]
    assert values(b"\xffraw") == ["\ufffdraw"]
    assert values(15169) == [15169]
    assert values(0) == [0] and values(False) == []  # a zero is shown; False means nothing
    assert values([0, 443]) == [0, 443]


def test_field_caps_items_and_says_how_many_more() -> None:
    records = [f"10.0.{i // 256}.{i % 256}" for i in range(500)]
    text = field("A", records, items=6)
    assert text is not None
    assert text.startswith("*A*\n`10[.]0[.]0[.]0`")
    assert text.count("`") == 12
    assert text.endswith("+494 more")
    assert field("A", []) is None


def test_field_joins_with_separator_and_appends_a_safe_note() -> None:
    text = field("Registrant", ["<!channel>", "Org"], sep=" / ", note=Safe("(x)"))
    assert text == "*Registrant*\n`&lt;!channel&gt;` / `Org` (x)"


def test_age_in_days() -> None:
    assert age("2016-02-03", today=date(2016, 2, 13)) == "(10 days ago)"
    assert age("2016-02-03T10:00:00Z", today=date(2016, 2, 3)) == "(0 days ago)"
    assert age("not a date") is None
    assert age("2030-01-01", today=date(2020, 1, 1)) is None


def test_cat_escapes_plain_parts_and_keeps_safe_ones() -> None:
    assert cat(Safe("*x*"), " <b> ", None, 3) == "*x* &lt;b&gt; 3"
