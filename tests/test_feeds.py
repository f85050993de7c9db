"""Threat-feed parsers on samples in each publisher's real format, malformed lines included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrichment.feeds import FEED_NAMES, feed_name
from enrichment.feeds import FEEDS as PUBLISHED
from enrichment.feeds.parsers import (
    FeedFormatError,
    parse_feodo,
    parse_openphish,
    parse_spamhaus_drop,
    parse_threatfox,
    parse_urlhaus,
)
from enrichment.settings import FEEDS as FEED_VARIABLES

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def sample(name: str) -> str:
    return (FEEDS / name).read_text()


def test_urlhaus_reads_columns_by_header_name() -> None:
    parsed = parse_urlhaus(sample("urlhaus_recent.csv"))
    values = [x.value for x in parsed.listings]
    assert values == [
        "http://qpdar.pw/main.php",
        "http://212.61.180.100/files/invoice.exe",
        "https://www.kvmhost-update.pw:8080/a/b?x=1",  # host made canonical
        "http://xn--pypal-4ve.com/login",
    ]
    assert parsed.malformed == 2  # "not a url at all", and the short row
    first = parsed.listings[0]
    assert (first.feed, first.kind, first.threat) == ("urlhaus", "url", "malware_download")
    assert first.reference == "https://urlhaus.abuse.ch/url/3200001/"
    assert first.first_seen == datetime(2026, 12, 5, 5, 58, 1, tzinfo=UTC).timestamp()
    assert parsed.listings[3].first_seen is None  # an unreadable date keeps the listing


def test_urlhaus_with_columns_moved_and_added() -> None:
    text = (
        "# url,id,newcolumn,threat,dateadded,urlhaus_link\n"
        '"http://qpdar.pw/x","1","new","malware_download","2026-12-05 00:00:00","https://u/1/"\n'
    )
    (listing,) = parse_urlhaus(text).listings
    assert (listing.value, listing.reference) == ("http://qpdar.pw/x", "https://u/1/")


def test_threatfox_export() -> None:
    parsed = parse_threatfox(sample("threatfox_recent.json"))
    found = {(x.kind, x.value) for x in parsed.listings}
    assert found == {
        ("domain", "qpdar.pw"),
        ("ipv4", "212.61.180.100"),
        ("ipv6", "2a01:4f8:c17:b8f::2"),
        ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    }
    assert parsed.malformed == 3
    assert {x.threat for x in parsed.listings} == {"Locky"}


def test_feodo_blocklist() -> None:
    parsed = parse_feodo(sample("feodo_ipblocklist.json"))
    assert [(x.value, x.threat) for x in parsed.listings] == [
        ("212.61.180.100", "Dridex"),
        ("198.51.100.77", "QakBot"),
    ]
    assert parsed.malformed == 3


def test_openphish_list() -> None:
    parsed = parse_openphish(sample("openphish_feed.txt"))
    assert [x.value for x in parsed.listings] == [
        "https://login-verify-account.com/secure/",
        "http://xn--pypal-4ve.com/signin?session=abc",
        "https://docs.qpdar.pw/share/invoice",
    ]
    assert parsed.malformed == 1


def test_spamhaus_drop_lines() -> None:
    parsed = parse_spamhaus_drop(sample("spamhaus_drop_v4.json"))
    assert [(x.kind, x.value) for x in parsed.listings] == [
        ("cidr", "212.61.180.0/24"),
        ("cidr", "203.0.113.0/24"),
    ]
    assert parsed.malformed == 2  # the metadata line is neither listed nor malformed
    assert parsed.listings[0].reference == "https://check.spamhaus.org/sbl/query/SBL600001"


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_urlhaus, "<html><body>502 Bad Gateway</body></html>"),
        (parse_threatfox, "<html>rate limited</html>"),
        (parse_threatfox, '["a", "list"]'),
        (parse_feodo, '{"an": "object"}'),
        (parse_openphish, "<!DOCTYPE html><html></html>"),
        (parse_spamhaus_drop, "garbage\nmore garbage\n"),
    ],
)
def test_a_file_that_is_not_the_feed_is_an_error_not_an_empty_list(
    parse: object, text: str
) -> None:
    with pytest.raises(FeedFormatError):
        parse(text)  # type: ignore[operator]


def test_hostile_values_are_plain_text() -> None:
    text = (
        "# id,dateadded,url,threat,urlhaus_link\n"
        '"1","2026-12-05 00:00:00","http://qpdar.pw/x","<!channel>\\n\\u202eevil","x"\n'
    )
    (listing,) = parse_urlhaus(text).listings
    assert listing.threat is not None and "\n" not in listing.threat


def test_every_feed_has_its_publishers_name_and_only_those() -> None:
    assert set(FEED_NAMES) == {feed.name for feed in PUBLISHED}
    # settings reads PIVOT_FEED_<NAME>_URL for the same feeds (it cannot import them: the
    # feeds read settings), so the two lists are held together here
    assert {feed.name.upper() for feed in PUBLISHED} == set(FEED_VARIABLES)
    assert feed_name("urlhaus") == "URLhaus" and feed_name("unknown_feed") == "unknown_feed"
