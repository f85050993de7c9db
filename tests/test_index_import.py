"""Bulk import into the pivot index, on every backend: Pivot's own rows and passive-DNS COF,
as CSV and JSON lines; bad rows reported by line and skipped; a file that cannot be read
imports nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from enrichment.index.importer import BATCH, MAX_FIELD, UnreadableImport, import_file
from enrichment.index.model import Index, Observation, Relation
from enrichment.stores import StoreError
from tests.index_backends import Backend

R = Relation
NOW = 1_800_000_000.0


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def lines(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in rows))


async def assert_empty(index: Index) -> None:
    for relation, obj in [(R.A, "192.0.2.1"), (R.NS, "ns1.example.com"), (R.A, "192.0.2.2")]:
        assert await index.count(relation, obj) == 0
    assert await index.forward("a.example.com") == []


async def test_own_csv_rows_import(index: Index, tmp_path: Path) -> None:
    path = write(
        tmp_path / "own.csv",
        "subject,relation,object,source,first_seen,last_seen,times_seen\n"
        "A.Example.COM.,a,192.0.2.1,pdns,2024-01-02T03:04:05Z,2024-02-01,3\n"
        "b.example.com,ns,NS1.example.com.,,1700000000,1700000100,\n"
        "c.example.com,registrant_email,Bad@Actor.example.com,whois,,,\n"
        "c.example.com,registrant_org,  Evil   Corp\u200b ,whois,,,\n"
        "https://d.example.com/x,host,d.example.com,,,,\n",
    )
    report = await import_file(index, path, now=NOW)
    assert (report.rows, report.imported, report.skipped, report.problems) == (5, 5, 0, [])
    [a] = await index.reverse(R.A, "192.0.2.1")
    assert (a.subject, a.source, a.times_seen) == ("a.example.com", "pdns", 3)
    assert (a.first_seen, a.last_seen) == (1704164645.0, 1706745600.0)  # ISO, UTC
    [ns] = await index.reverse(R.NS, "ns1.example.com")
    assert (ns.subject, ns.source, ns.first_seen, ns.last_seen) == (
        "b.example.com",
        "import",
        1700000000.0,
        1700000100.0,
    )
    [email] = await index.forward("c.example.com", R.REGISTRANT_EMAIL)
    assert email.object == "bad@actor.example.com" and email.last_seen == NOW
    [org] = await index.forward("c.example.com", R.REGISTRANT_ORG)
    assert org.object == "Evil Corp" and org.object_kind == "text"
    assert await index.count(R.HOST, "d.example.com") == 1


async def test_own_json_lines_import(index: Index, tmp_path: Path) -> None:
    path = lines(
        tmp_path / "own.jsonl",
        [
            {"subject": "a.example.com", "relation": "a", "object": "192.0.2.1", "last_seen": 5},
            {"subject": "a.example.com", "relation": "aaaa", "object": "2001:DB8::0:1"},
            {"subject": "10.0.0.5", "relation": "network", "object": "10.0.0.0/8"},
        ],
    )
    report = await import_file(index, path, now=NOW)
    assert (report.imported, report.skipped) == (3, 0)
    assert [o.object for o in await index.forward("a.example.com")] == ["2001:db8::1", "192.0.2.1"]
    [net] = await index.forward("10.0.0.5")  # internal values are the team's own: fine
    assert (net.relation, net.object, net.subject_kind) == (R.NETWORK, "10.0.0.0/8", "ipv4")


async def test_passive_dns_cof_imports(index: Index, tmp_path: Path) -> None:
    path = lines(
        tmp_path / "pdns.json",
        [
            {
                "rrname": "www.evil.example.com.",
                "rrtype": "A",
                "rdata": ["192.0.2.1", "192.0.2.2"],
                "time_first": 1600000000,
                "time_last": 1600000500,
                "count": 12,
            },
            {"rrname": "evil.example.com.", "rrtype": "MX", "rdata": "10 mx.evil.example.com."},
            {"rrname": "evil.example.com.", "rrtype": "NS", "rdata": ["ns1.example.com."]},
            {"rrname": "evil.example.com.", "rrtype": "TXT", "rdata": "v=spf1 -all"},
        ],
    )
    report = await import_file(index, path, now=NOW)
    assert (report.rows, report.imported, report.skipped) == (4, 4, 1)
    assert report.problems == ["line 4: rrtype 'TXT' is not indexed"]
    [one] = await index.reverse(R.A, "192.0.2.2")
    assert (one.subject, one.times_seen, one.first_seen, one.last_seen) == (
        "www.evil.example.com",
        12,
        1600000000.0,
        1600000500.0,
    )
    assert [o.object for o in await index.forward("evil.example.com", R.MX)] == [
        "mx.evil.example.com"
    ]
    assert await index.count(R.NS, "ns1.example.com") == 1


async def test_passive_dns_cof_as_csv(index: Index, tmp_path: Path) -> None:
    path = write(
        tmp_path / "pdns.csv",
        "\ufeffrrname,rrtype,rdata,time_first,time_last,count\n"  # Excel writes a BOM
        "a.example.com.,A,192.0.2.1,2020-01-01T00:00:00,2020-01-02T00:00:00,4\n"
        "a.example.com.,AAAA,not-an-address,,,\n",
    )
    report = await import_file(index, path, now=NOW)
    assert (report.imported, report.skipped) == (1, 1)
    assert report.problems[0].startswith("line 3: ")
    [a] = await index.reverse(R.A, "192.0.2.1")
    assert (a.subject, a.times_seen, a.first_seen) == ("a.example.com", 4, 1577836800.0)


async def test_bad_rows_are_reported_by_line_and_skipped(index: Index, tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed.csv",
        "subject,relation,object,first_seen,last_seen,times_seen\n"
        "a.example.com,a,192.0.2.1,,,\n"  # line 2: good
        "a.example.com,colour,blue,,,\n"  # 3: unknown relation
        "not a domain,a,192.0.2.1,,,\n"  # 4: bad subject
        "b.example.com,a,999.1.1.1,,,\n"  # 5: bad object
        "b.example.com,a,192.0.2.1,200,100,\n"  # 6: first seen after last seen
        "b.example.com,a,192.0.2.1,yesterday,,\n"  # 7: not a time
        "b.example.com,a,192.0.2.1,,,0\n"  # 8: times_seen < 1
        "b.example.com,a,192.0.2.1,nan,,\n"  # 9: not a finite time
        "b.example.com,a,192.0.2.1,,inf,\n"  # 10: not a finite time
        "b.example.com,a,192.0.2.1,,,99999999999999999999999\n"  # 11: a count past reason
        "b.example.com,a,192.0.2.1,,,,surplus\n"  # 12: wider than the header
        ",a,192.0.2.1,,,\n"  # 13: empty subject
        "c.example.com,a,192.0.2.2,,,\n",  # 14: good
    )
    report = await import_file(index, path, now=NOW)
    assert (report.rows, report.imported, report.skipped) == (13, 2, 11)
    assert [p.split(":")[0] for p in report.problems] == [f"line {n}" for n in range(3, 13)]
    assert "first seen is after last seen" in report.problems[3]
    assert await index.count(R.A, "192.0.2.1") == 1
    assert await index.count(R.A, "192.0.2.2") == 1


async def test_bad_json_lines_are_reported(index: Index, tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.jsonl",
        '{"subject": "a.example.com", "relation": "a", "object": "192.0.2.1"}\n'
        "\n"
        "[1, 2]\n"
        "{not json\n"
        '{"subject": "a.example.com", "relation": "a", "object": "192.0.2.2", "count": 2}\n'
        '{"subject": {"x": 1}, "relation": "a", "object": "192.0.2.2"}\n',
    )
    report = await import_file(index, path, now=NOW)
    assert (report.rows, report.imported, report.skipped) == (5, 2, 3)
    assert [p.split(":")[0] for p in report.problems] == ["line 3", "line 4", "line 6"]


async def test_a_huge_field_is_refused(index: Index, tmp_path: Path) -> None:
    huge = "x" * (MAX_FIELD + 1)
    path = write(
        tmp_path / "huge.csv",
        f"subject,relation,object\na.example.com,registrant_org,{huge}\n"
        "a.example.com,registrant_org,Fine Org\n",
    )
    report = await import_file(index, path, now=NOW)
    assert (report.imported, report.skipped) == (1, 1)
    assert "longer than" in report.problems[0]
    assert [o.object for o in await index.forward("a.example.com")] == ["Fine Org"]


GOOD = b"subject,relation,object\n" + b"a.example.com,a,192.0.2.1\n" * 3


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("subject,relation,object\nä.example.com,a,192.0.2.1\n".encode("latin-1"), "UTF-8"),
        (b"a.example.com,a,192.0.2.1\nb.example.com,a,192.0.2.2\n", "header"),
        (b"", "header"),
        (b"\xff\xfes\x00u\x00", "UTF-8"),  # UTF-16
        (GOOD + b"a" * 200_000 + b",a,192.0.2.2\n", "CSV"),  # past csv's field limit
    ],
    ids=["latin1", "no-header", "empty", "utf16", "giant-cell"],
)
async def test_an_unreadable_file_imports_nothing(
    index: Index, tmp_path: Path, content: bytes, why: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableImport, match=why):
        await import_file(index, path, now=NOW)
    await assert_empty(index)


async def test_a_missing_file_or_a_folder_is_unreadable(index: Index, tmp_path: Path) -> None:
    with pytest.raises(UnreadableImport, match="cannot read"):
        await import_file(index, tmp_path / "nowhere.csv")
    with pytest.raises(UnreadableImport, match="cannot read"):
        await import_file(index, tmp_path)
    await assert_empty(index)


async def test_a_file_that_turns_bad_late_imports_nothing(index: Index, tmp_path: Path) -> None:
    good = "subject,relation,object\n" + "a.example.com,a,192.0.2.1\n" * 20_000
    path = tmp_path / "late.csv"
    path.write_bytes(good.encode() + "b.example.com,a,192.0.2.2,\xe9\n".encode("latin-1"))
    with pytest.raises(UnreadableImport, match="UTF-8"):
        await import_file(index, path, now=NOW)
    await assert_empty(index)


async def test_twenty_thousand_rows_import(index: Index, tmp_path: Path) -> None:
    rows = [
        {"rrname": f"n{i:05}.example.com.", "rrtype": "A", "rdata": f"192.0.2.{i % 200}"}
        for i in range(20_000)
    ]
    report = await import_file(index, lines(tmp_path / "big.jsonl", rows), now=NOW)
    assert (report.rows, report.imported, report.skipped) == (20_000, 20_000, 0)
    assert await index.count(R.A, "192.0.2.7") == 100
    page = await index.reverse(R.A, "192.0.2.7", offset=95, limit=10)
    assert [o.subject for o in page] == [f"n{i:05}.example.com" for i in range(19_007, 20_000, 200)]
    again = await import_file(index, lines(tmp_path / "big.jsonl", rows), now=NOW + 1)
    assert again.imported == 20_000
    [held] = await index.reverse(R.A, "192.0.2.7", limit=1)
    assert (held.times_seen, held.last_seen) == (2, NOW + 1)


async def test_control_characters_never_reach_the_index(index: Index, tmp_path: Path) -> None:
    path = write(
        tmp_path / "nul.csv",
        "subject,relation,object\n"
        "a.example.com\x00,a,192.0.2.1\n"
        "a.example.com,registrant_org,Evil\x00Corp\x1b[31m\n",
    )
    report = await import_file(index, path, now=NOW)
    assert (report.imported, report.skipped) == (1, 1)
    [org] = await index.forward("a.example.com")
    assert org.object == "Evil Corp [31m"


async def test_a_store_failure_part_way_says_how_much_was_recorded(
    backend: Backend, tmp_path: Path
) -> None:
    rows = [
        {"rrname": f"n{i:05}.example.com.", "rrtype": "A", "rdata": "192.0.2.1"}
        for i in range(BATCH + 10)
    ]
    path = lines(tmp_path / "big.jsonl", rows)
    index = backend.open()
    closing = Closing(index)
    with pytest.raises(StoreError, match=f"{BATCH} observations were recorded before"):
        await import_file(cast(Any, closing), path, now=NOW)
    again = backend.open()
    try:
        assert await again.count(R.A, "192.0.2.1") == BATCH
    finally:
        await again.aclose()


class Closing:
    """An index that closes itself after its first write: the disk or the server going away
    in the middle of an import."""

    def __init__(self, index: Index) -> None:
        self.index = index

    async def record(self, observations: Sequence[Observation]) -> None:
        await self.index.record(observations)
        await self.index.aclose()
