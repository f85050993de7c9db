"""The pivot index's contract, one suite run against every backend (SQLite always, PostgreSQL
when a server answers): upserts, reverse pages and counts, forward history, network
neighbours, feed listings (exact and by CIDR), sightings, persistence and failures."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import make_conninfo

from enrichment.errors import ConfigError
from enrichment.index import open_index
from enrichment.index.model import Index, Listing, Observation, Relation, Sighting
from enrichment.index.postgres import ANALYZE_AFTER, PostgresIndex, redact
from enrichment.index.sqlite import SqliteIndex
from enrichment.service import Service
from enrichment.settings import Settings
from enrichment.stores import StoreError
from tests.index_backends import Backend, fresh_schema

R = Relation


def obs(
    subject: str,
    obj: str,
    relation: Relation = R.A,
    *,
    first: float = 100.0,
    last: float = 200.0,
    source: str = "dns",
    times: int = 1,
) -> Observation:
    object_kind = {R.A: "ipv4", R.AAAA: "ipv6"}.get(relation, "domain")
    return Observation(subject, "domain", relation, obj, object_kind, source, first, last, times)


def sighting(value: str, ts: str, at: float, channel: str = "C1") -> Sighting:
    return Sighting(value, "domain", "T1", channel, "U1", ts, at, "ir", f"https://x/{ts}")


async def test_upsert_keeps_earliest_first_latest_last_and_adds_counts(index: Index) -> None:
    await index.record([obs("a.example", "192.0.2.1", first=100, last=200, source="dns")])
    await index.record([obs("a.example", "192.0.2.1", first=50, last=150, source="import")])
    await index.record([obs("a.example", "192.0.2.1", first=120, last=300, times=5, source="x")])
    [held] = await index.reverse(R.A, "192.0.2.1")
    assert (held.first_seen, held.last_seen, held.times_seen) == (50, 300, 7)
    assert held.source == "x"  # the latest last_seen's source
    await index.record([obs("a.example", "192.0.2.1", last=250, source="older")])
    [held] = await index.reverse(R.A, "192.0.2.1")
    assert held.source == "x" and held.times_seen == 8


async def test_repeats_within_one_batch_fold_like_one_by_one(index: Index) -> None:
    batch = [
        obs("b.example", "192.0.2.2", first=10, last=20, source="s1"),
        obs("b.example", "192.0.2.2", first=5, last=40, source="s2", times=2),
        obs("b.example", "192.0.2.2", first=30, last=40, source="s3"),
        obs("b.example", "192.0.2.2", first=8, last=35, source="s4"),
    ]
    await index.record(batch)
    [held] = await index.reverse(R.A, "192.0.2.2")
    assert (held.first_seen, held.last_seen, held.times_seen, held.source) == (5, 40, 5, "s3")
    assert await index.count(R.A, "192.0.2.2") == 1


async def test_reverse_is_newest_first_then_by_subject(index: Index) -> None:
    await index.record(
        [
            obs("c.example", "192.0.2.9", last=300),
            obs("b.example", "192.0.2.9", last=300),
            obs("z.example", "192.0.2.9", last=400),
            obs("a.example", "192.0.2.9", last=100),
            obs("a.example", "192.0.2.10", last=999),  # another object
            obs("a.example", "192.0.2.9", R.NS, last=999),  # another relation
        ]
    )
    subjects = [o.subject for o in await index.reverse(R.A, "192.0.2.9")]
    assert subjects == ["z.example", "b.example", "c.example", "a.example"]
    assert await index.count(R.A, "192.0.2.9") == 4
    page = await index.reverse(R.A, "192.0.2.9", offset=1, limit=2)
    assert [o.subject for o in page] == ["b.example", "c.example"]
    assert await index.reverse(R.A, "192.0.2.9", offset=4) == []
    assert await index.reverse(R.A, "192.0.2.9", limit=-1) == []  # never "no limit"
    assert await index.count(R.A, "198.51.100.1") == 0


async def test_reverse_orders_names_by_code_point_on_every_backend(index: Index) -> None:
    names = ["b.example", "B.example", "a-b.example", "ab.example", "é.example", "z.example"]
    await index.record([obs(n, "192.0.2.77", last=5) for n in names])
    got = [o.subject for o in await index.reverse(R.A, "192.0.2.77")]
    assert got == sorted(names)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30))
async def test_paging_reverse_yields_exactly_count_subjects(index: Index, sizes: list[int]) -> None:
    if await index.count(R.NS, "ns1.example") == 0:  # the index outlives the examples
        rows = [obs(f"d{i:03}.example", "ns1.example", R.NS, last=i % 7) for i in range(137)]
        await index.record(rows)
    total = await index.count(R.NS, "ns1.example")
    seen: list[str] = []
    offset, turn = 0, 0
    while offset < total:
        size = sizes[turn % len(sizes)]
        page = await index.reverse(R.NS, "ns1.example", offset=offset, limit=size)
        assert len(page) == min(size, total - offset)
        seen += [o.subject for o in page]
        offset, turn = offset + size, turn + 1
    assert len(seen) == len(set(seen)) == total == 137


async def test_forward_gives_the_subjects_history(index: Index) -> None:
    await index.record(
        [
            obs("f.example", "192.0.2.1", last=100),
            obs("f.example", "192.0.2.2", last=300),
            obs("f.example", "ns1.example", R.NS, last=200),
            obs("g.example", "192.0.2.3", last=900),
        ]
    )
    everything = await index.forward("f.example")
    assert [(o.relation, o.object) for o in everything] == [
        (R.A, "192.0.2.2"),
        (R.NS, "ns1.example"),
        (R.A, "192.0.2.1"),
    ]
    only_a = await index.forward("f.example", R.A)
    assert [o.object for o in only_a] == ["192.0.2.2", "192.0.2.1"]
    assert len(await index.forward("f.example", limit=1)) == 1
    assert await index.forward("nothing.example") == []


async def test_neighbours_are_other_addresses_in_the_24_and_the_64(index: Index) -> None:
    await index.record(
        [
            obs("self.example", "192.0.2.10", last=500),
            obs("next.example", "192.0.2.11", last=400),
            obs("far.example", "192.0.2.200", last=300),
            obs("twice.example", "192.0.2.12", last=300),
            obs("twice.example", "192.0.2.13", last=300),  # same subject, same time
            obs("out.example", "192.0.3.11", last=999),  # the next /24
            obs("ns.example", "192.0.2.14", R.NS, last=999),  # not an address relation
            obs("v6.example", "2001:db8::1", R.AAAA, last=100),
            obs("v6b.example", "2001:db8::ffff:1", R.AAAA, last=200),
            obs("v6c.example", "2001:db8:0:1::1", R.AAAA, last=300),  # the next /64
        ]
    )
    near = await index.neighbours("192.0.2.10")
    assert [(o.subject, o.object) for o in near] == [
        ("next.example", "192.0.2.11"),
        ("far.example", "192.0.2.200"),
        ("twice.example", "192.0.2.12"),
        ("twice.example", "192.0.2.13"),
    ]
    assert await index.count_neighbours("192.0.2.10") == 4
    paged = [
        (o.subject, o.object)
        for start in range(4)
        for o in await index.neighbours("192.0.2.10", offset=start, limit=1)
    ]
    assert paged == [(o.subject, o.object) for o in near]
    v6 = await index.neighbours("2001:db8::1")
    assert [o.subject for o in v6] == ["v6b.example"]
    assert await index.count_neighbours("2001:db8::1") == 1
    assert await index.neighbours("not-an-ip") == []
    assert await index.count_neighbours("not-an-ip") == 0


def listing(feed: str, value: str, kind: str = "domain", threat: str | None = None) -> Listing:
    return Listing(feed, value, kind, threat, 1000.0, f"https://feed/{value}")


async def test_replace_listings_swaps_one_feed_only(index: Index) -> None:
    await index.replace_listings("urlhaus", [listing("urlhaus", "bad.example", threat="x")])
    await index.replace_listings("openphish", [listing("openphish", "phish.example")])
    await index.replace_listings(
        "urlhaus", [listing("urlhaus", "new.example"), listing("urlhaus", "new2.example")]
    )
    assert await index.feed_sizes() == {"urlhaus": 2, "openphish": 1}
    assert await index.listings(["bad.example"]) == []
    found = await index.listings(["new.example", "phish.example", "other.example"])
    assert [(x.feed, x.value) for x in found] == [
        ("openphish", "phish.example"),
        ("urlhaus", "new.example"),
    ]
    assert found[1] == listing("urlhaus", "new.example")  # every field round trips
    await index.replace_listings("openphish", [])
    assert await index.feed_sizes() == {"urlhaus": 2}


async def test_a_failed_replace_keeps_the_old_list(index: Index) -> None:
    await index.replace_listings("feodo", [listing("feodo", "198.51.100.7", "ipv4")])
    broken = [listing("feodo", "198.51.100.8", "ipv4"), Listing("feodo", "x", None)]  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await index.replace_listings("feodo", broken)
    assert await index.feed_sizes() == {"feodo": 1}
    assert [x.value for x in await index.listings(["198.51.100.7", "198.51.100.8"])] == [
        "198.51.100.7"
    ]
    await index.record([obs("still.example", "192.0.2.1")])  # the index still works after
    assert await index.count(R.A, "192.0.2.1") == 1


async def test_the_first_listing_of_a_repeated_value_wins(index: Index) -> None:
    await index.replace_listings(
        "threatfox",
        [listing("threatfox", "dup.example", threat="first"), listing("threatfox", "dup.example")],
    )
    [found] = await index.listings(["dup.example"])
    assert found.threat == "first"


DROP = [
    listing("spamhaus_drop", "203.0.113.0/24", "cidr"),
    listing("spamhaus_drop", "198.51.100.64/26", "cidr"),
    listing("spamhaus_drop", "2001:db8:1::/48", "cidr"),
    listing("spamhaus_drop", "::/0", "cidr"),  # every IPv6 address, no IPv4 one
]


async def hits(index: Index, value: str) -> list[tuple[str, str]]:
    return [(x.feed, x.value) for x in await index.listings([value])]


async def test_a_hosts_listings_include_the_urls_listed_on_it(index: Index) -> None:
    urls = [
        Listing("urlhaus", "http://qpdar.pw/main.php", "url", "malware_download"),
        Listing("urlhaus", "https://www.qpdar.pw/x", "url"),
        Listing("urlhaus", "http://notqpdar.pw/main.php", "url"),
    ]
    await index.replace_listings("urlhaus", urls)
    found = await index.listings(["qpdar.pw"])
    assert [x.value for x in found] == ["http://qpdar.pw/main.php"], "the host, not its subdomains"
    assert await index.listings(["pw"]) == []


async def test_ipv4_network_listings_hold_the_addresses_inside_them(index: Index) -> None:
    await index.replace_listings("spamhaus_drop", DROP)
    await index.replace_listings("feodo", [listing("feodo", "203.0.113.5", "ipv4")])
    assert await hits(index, "203.0.113.5") == [
        ("feodo", "203.0.113.5"),
        ("spamhaus_drop", "203.0.113.0/24"),
    ]
    assert await hits(index, "203.0.113.255") == [("spamhaus_drop", "203.0.113.0/24")]
    assert await hits(index, "203.0.114.0") == []  # just outside
    assert await hits(index, "198.51.100.63") == []
    assert await hits(index, "198.51.100.127") == [("spamhaus_drop", "198.51.100.64/26")]
    assert await hits(index, "203.0.113.0/24") == [("spamhaus_drop", "203.0.113.0/24")]
    assert await hits(index, "evil.example") == []
    many = await index.listings(["203.0.114.9", "198.51.100.65", "203.0.113.9"])
    assert [x.value for x in many] == ["198.51.100.64/26", "203.0.113.0/24"]


async def test_ipv6_network_listings_never_match_ipv4(index: Index) -> None:
    await index.replace_listings("spamhaus_drop", DROP)
    assert await hits(index, "2001:db8:1:ffff::1") == [
        ("spamhaus_drop", "2001:db8:1::/48"),
        ("spamhaus_drop", "::/0"),
    ]
    assert await hits(index, "2001:db8:2::1") == [("spamhaus_drop", "::/0")]
    assert await hits(index, "::ffff:203.0.113.5") == [("spamhaus_drop", "::/0")]
    await index.replace_listings("spamhaus_drop", [listing("spamhaus_drop", "0.0.0.0/0", "cidr")])
    assert await hits(index, "2001:db8:1::1") == []
    assert await hits(index, "192.0.2.1") == [("spamhaus_drop", "0.0.0.0/0")]


async def test_sightings_count_order_limit_and_repeats(index: Index) -> None:
    for n, at in enumerate([300.0, 100.0, 500.0, 200.0]):
        await index.record_sighting(sighting("s.example", f"1.{n}", at))
    await index.record_sighting(sighting("s.example", "1.2", 500.0))  # the same message again
    await index.record_sighting(sighting("s.example", "1.2", 500.0, channel="C2"))
    await index.record_sighting(sighting("other.example", "9.9", 999.0))
    seen = await index.sightings("s.example", limit=3)
    assert seen.count == 5
    assert [(s.at, s.channel) for s in seen.recent] == [(500, "C1"), (500, "C2"), (300, "C1")]
    assert seen.recent[0] == sighting("s.example", "1.2", 500.0)
    assert (await index.sightings("s.example", limit=0)).recent == ()
    nothing = await index.sightings("never.example")
    assert (nothing.count, nothing.recent) == (0, ())


async def test_everything_persists_across_reopening(backend: Backend) -> None:
    first = backend.open()
    await first.record([obs("p.example", "192.0.2.50")])
    await first.replace_listings("openphish", [listing("openphish", "p.example")])
    await first.record_sighting(sighting("p.example", "1.1", 10.0))
    await first.aclose()
    again = backend.open()
    try:
        assert [o.subject for o in await again.reverse(R.A, "192.0.2.50")] == ["p.example"]
        assert await again.feed_sizes() == {"openphish": 1}
        assert (await again.sightings("p.example")).count == 1
    finally:
        await again.aclose()


async def test_a_closed_index_raises_store_error(backend: Backend) -> None:
    index = backend.open()
    await index.record([obs("q.example", "192.0.2.60")])
    await index.aclose()
    with pytest.raises(StoreError, match="closed"):
        await index.reverse(R.A, "192.0.2.60")
    with pytest.raises(StoreError):
        await index.record([obs("q.example", "192.0.2.61")])
    await index.aclose()  # twice is harmless


async def test_concurrent_calls_all_land(index: Index) -> None:
    writes = [index.record([obs(f"w{i}.example", "192.0.2.99", last=i)]) for i in range(40)]
    reads = [index.count(R.A, "192.0.2.99") for _ in range(10)]
    await asyncio.gather(*writes, *reads)
    assert await index.count(R.A, "192.0.2.99") == 40
    first = (await index.reverse(R.A, "192.0.2.99", limit=1))[0]
    assert first == replace(obs("w39.example", "192.0.2.99", last=39))


# --- one backend's own failures --------------------------------------------------------------


async def test_a_corrupt_sqlite_file_is_a_store_error_at_open(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    path.write_bytes(b"this is not a database, only garbage " * 200)
    with pytest.raises(StoreError, match="cannot open the pivot index"):
        SqliteIndex(path)
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StoreError):
        SqliteIndex(tmp_path / "dir.sqlite3")


async def test_a_huge_count_is_a_store_error_not_a_crash(index: Index) -> None:
    with pytest.raises(StoreError):
        await index.record([obs("big.example", "192.0.2.1", times=2**70)])
    assert await index.count(R.A, "192.0.2.1") == 0


async def test_replicas_opening_a_fresh_schema_at_once_all_migrate(pg_database: str) -> None:
    url = fresh_schema(pg_database)
    replicas = [PostgresIndex(url) for _ in range(8)]
    try:
        await asyncio.gather(*(r.connect() for r in replicas))
        await replicas[0].record([obs("r.example", "192.0.2.1")])
        counts = await asyncio.gather(*(r.count(R.A, "192.0.2.1") for r in replicas))
        assert counts == [1] * 8
    finally:
        await asyncio.gather(*(r.aclose() for r in replicas))


async def test_a_newer_schema_is_refused(pg_database: str) -> None:
    url = fresh_schema(pg_database)
    first = PostgresIndex(url)
    await first.connect()
    await first.aclose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO pivot_schema (version) VALUES (99)")
    later = PostgresIndex(url)
    with pytest.raises(StoreError, match="newer"):
        await later.connect()
    await later.aclose()


async def test_connection_errors_never_show_the_password() -> None:
    url = "postgresql://pivot:Sup3rSecretPw@127.0.0.1:1/pivot"  # nothing listens on port 1
    index = PostgresIndex(url, connect_timeout=2)
    assert "Sup3rSecretPw" not in repr(index)
    with pytest.raises(StoreError) as caught:
        await index.count(R.A, "192.0.2.1")
    assert "Sup3rSecretPw" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is not None
    await index.aclose()
    assert redact("failed for postgresql://u:pw@h/db with pw", "postgresql://u:pw@h/db") == (
        "failed for *** with ***"
    )


async def test_wrong_credentials_are_a_store_error(pg_database: str) -> None:
    url = make_conninfo(pg_database, user="no_such_role_here", password="NotTheRightOne")
    index = PostgresIndex(url, connect_timeout=3)
    with pytest.raises(StoreError) as caught:
        await index.connect()
    assert "NotTheRightOne" not in str(caught.value)
    await index.aclose()


def test_open_index_picks_the_backend_from_settings(tmp_path: Path) -> None:
    url = "postgresql://pivot:pw@127.0.0.1:1/pivot"
    assert isinstance(open_index(Settings(data_dir=tmp_path)), SqliteIndex)
    assert isinstance(open_index(Settings(data_dir=tmp_path, database_url=url)), PostgresIndex)


def test_database_url_setting_is_checked_and_hidden() -> None:
    url = "postgresql://pivot:Sup3rSecretPw@db.internal/pivot"
    found = Settings.from_env({"PIVOT_DATABASE_URL": url})
    assert found.database_url == url
    assert "Sup3rSecretPw" not in repr(found)
    assert Settings.from_env({"PIVOT_DATABASE_URL": "postgres://h/db"}).database_url
    assert Settings.from_env({}).database_url is None
    for bad in ["mysql://u:Sup3rSecretPw@h/db", "u:Sup3rSecretPw@h/db"]:
        with pytest.raises(ConfigError, match="PIVOT_DATABASE_URL") as caught:
            Settings.from_env({"PIVOT_DATABASE_URL": bad})
        assert "Sup3rSecretPw" not in str(caught.value)


async def test_a_cancelled_write_is_all_or_nothing_and_the_index_goes_on(index: Index) -> None:
    rows = [obs(f"c{i:05}.example", "192.0.2.33") for i in range(30_000)]
    task = asyncio.create_task(index.record(rows))
    await asyncio.sleep(0.02)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await index.count(R.A, "192.0.2.33") in (0, 30_000)
    await index.record([obs("after.example", "192.0.2.34")])
    assert await index.count(R.A, "192.0.2.34") == 1


async def test_a_bulk_load_refreshes_the_planners_statistics(pg_database: str) -> None:
    url = fresh_schema(pg_database)
    index = PostgresIndex(url)
    try:
        rows = [obs(f"s{i:05}.example", f"192.0.2.{i % 250}") for i in range(ANALYZE_AFTER)]
        await index.record(rows)
    finally:
        await index.aclose()
    with psycopg.connect(url) as conn:
        held = conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'pivot_observations'::regclass"
        )
        assert held.fetchone() == (ANALYZE_AFTER,)  # -1 (never analysed) without the refresh


async def test_two_services_on_one_database_share_reverse_pivots(
    pg_database: str, tmp_path: Path
) -> None:
    """Replicas: what one learns, the other's reverse-IP pivot answers from."""
    url = fresh_schema(pg_database)
    one = Service(Settings(data_dir=tmp_path / "one", database_url=url, sources=("index",)))
    two = Service(Settings(data_dir=tmp_path / "two", database_url=url, sources=("index",)))
    try:
        assert isinstance(one.index, PostgresIndex) and isinstance(two.index, PostgresIndex)
        names = [f"{n}.qpdar-like.pw" for n in ("aaa", "bbb", "ccc")]
        await one.index.record([obs(n, "212.61.180.100") for n in names])
        page = await two.pivot("reverse_ip", "212.61.180.100")
        assert page.total == 3
        assert sorted(item.indicator.value for item in page.items) == names
    finally:
        await one.aclose()
        await two.aclose()
