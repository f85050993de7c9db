"""The pivot index on SQLite and PostgreSQL (run by hand).

    python benchmarks/index.py [--rows 200000] [--busy 10000] [--queries 1000]
                               [--database postgresql://postgres@127.0.0.1:5432/postgres]

Writes a synthetic passive-DNS export (COF JSON lines: one name -> one address per row, one
"busy" address hosting --busy of the names) and loads it into each backend: the importer's
rows/s (parsing and checking included) and `record()`'s observations/s (rows already built).
Then, on the busy address: a reverse pivot page (25 names, random offset) and its count(),
p50/p99 over --queries calls, against what a team does without an index: scan the export
for the address (grep -c for the count; a Python scan that parses and sorts the matching
lines for the page), and a dict built in memory from the whole file.

PostgreSQL gets a throwaway database (created and dropped) on the server at --database
(default PIVOT_TEST_DATABASE_URL, else the local one); it is skipped when none answers.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from enrichment.index.importer import import_file
from enrichment.index.model import Index, Observation, Relation
from enrichment.index.postgres import PostgresIndex
from enrichment.index.sqlite import SqliteIndex

BUSY_IP = "203.0.113.80"
PAGE = 25
BATCH = 5_000
DEFAULT_DB = os.environ.get(
    "PIVOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the export")
    parser.add_argument("--busy", type=int, default=10_000, help="names on the busy address")
    parser.add_argument("--queries", type=int, default=1_000, help="timed calls per query")
    parser.add_argument("--database", default=DEFAULT_DB, help="a PostgreSQL server's URL")
    return parser.parse_args()


def _name(i: int) -> str:
    return hashlib.blake2b(str(i).encode(), digest_size=6).hexdigest() + ".com"


def _address(i: int, busy: int) -> str:
    if i < busy:
        return BUSY_IP
    n = i % 50_000
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def write_export(path: Path, rows: int, busy: int) -> None:
    with path.open("w") as out:
        for i in range(rows):
            first = 1_600_000_000 + i
            row = {
                "rrname": _name(i) + ".",
                "rrtype": "A",
                "rdata": _address(i, busy),
                "time_first": first,
                "time_last": first + 86_400,
                "count": 1 + i % 9,
            }
            out.write(json.dumps(row) + "\n")


def observations(rows: int, busy: int) -> Iterator[list[Observation]]:
    batch: list[Observation] = []
    for i in range(rows):
        ip = _address(i, busy)
        first = 1_600_000_000.0 + i
        batch.append(
            Observation(_name(i), "domain", Relation.A, ip, "ipv4", "bench", first, first + 9)
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


async def _timed(calls: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return _percentiles(samples)


async def measure(
    name: str, open_index: Callable[[], Index], args: argparse.Namespace
) -> dict[str, float]:
    export = args.workdir / "export.jsonl"
    index = open_index()
    start = time.perf_counter()
    report = await import_file(index, export)
    imported = time.perf_counter() - start
    assert report.imported == args.rows, report
    await index.aclose()
    index = open_index()  # a second, empty store for record() alone
    start = time.perf_counter()
    for batch in observations(args.rows, args.busy):
        await index.record(batch)
    recorded = time.perf_counter() - start
    total = await index.count(Relation.A, BUSY_IP)
    assert total == args.busy, total
    pages = max(1, total // PAGE)
    rng = random.Random(7)

    async def page() -> None:
        await index.reverse(Relation.A, BUSY_IP, offset=rng.randrange(pages) * PAGE, limit=PAGE)

    page50, page99 = await _timed(args.queries, page)
    count50, count99 = await _timed(args.queries, lambda: index.count(Relation.A, BUSY_IP))
    first50, first99 = await _timed(args.queries, lambda: index.reverse(Relation.A, BUSY_IP))
    await index.aclose()
    figures = {
        "import_rows_s": args.rows / imported,
        "record_obs_s": args.rows / recorded,
        "page_p50_ms": page50,
        "page_p99_ms": page99,
        "first_page_p50_ms": first50,
        "first_page_p99_ms": first99,
        "count_p50_ms": count50,
        "count_p99_ms": count99,
    }
    if isinstance(index, SqliteIndex):
        figures["file_mb"] = sum(f.stat().st_size for f in index.path.parent.glob("index1*")) / 1e6
    _print(name, figures)
    return figures


def _print(name: str, figures: dict[str, float]) -> None:
    print(f"\n{name}")
    for key, value in figures.items():
        print(f"  {key:<20} {value:>12,.2f}")


def scan_page(export: Path, offset: int) -> list[str]:
    """What a script does without an index: read the export, keep the busy address's rows,
    newest first, one page."""
    needle = f'"{BUSY_IP}"'
    found = []
    with export.open() as rows:
        for line in rows:
            if needle in line:
                row = json.loads(line)
                found.append((-row["time_last"], row["rrname"].rstrip(".")))
    found.sort()
    return [name for _, name in found[offset : offset + PAGE]]


def baselines(args: argparse.Namespace) -> dict[str, float]:
    export = args.workdir / "export.jsonl"
    calls = max(5, args.queries // 100)
    grep = shutil.which("grep") or "grep"
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        subprocess.run(
            [grep, "-c", "-F", f'"{BUSY_IP}"', str(export)], check=True, capture_output=True
        )
        samples.append(time.perf_counter() - start)
    grep50, _ = _percentiles(samples)
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        scan_page(export, i * PAGE)
        samples.append(time.perf_counter() - start)
    scan50, _ = _percentiles(samples)
    start = time.perf_counter()
    by_ip: dict[str, list[str]] = {}
    with export.open() as rows:
        for line in rows:
            row = json.loads(line)
            by_ip.setdefault(row["rdata"], []).append(row["rrname"])
    built = time.perf_counter() - start
    figures = {"grep_count_p50_ms": grep50, "scan_page_p50_ms": scan50, "dict_build_s": built}
    _print("baselines (no index)", figures)
    return figures


@contextmanager
def throwaway_database(url: str) -> Iterator[str | None]:
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        print(f"\nPostgreSQL skipped: no server answers ({type(exc).__name__})")
        yield None
        return
    name = f"pivot_bench_{secrets.token_hex(4)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_conninfo(url, dbname=name)
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _ratios(name: str, figures: dict[str, float], base: dict[str, float]) -> None:
    print(f"\n{name} against the scan")
    print(
        f"  count: {base['grep_count_p50_ms'] / figures['count_p50_ms']:,.0f}x faster than grep -c"
    )
    print(f"  page:  {base['scan_page_p50_ms'] / figures['page_p50_ms']:,.0f}x faster than a scan")


async def main() -> None:
    args = _args()
    with tempfile.TemporaryDirectory() as work:
        args.workdir = Path(work)
        write_export(args.workdir / "export.jsonl", args.rows, args.busy)
        size = (args.workdir / "export.jsonl").stat().st_size
        print(f"{args.rows:,} rows ({size / 1e6:.1f} MB), {args.busy:,} names on {BUSY_IP}")
        base = baselines(args)
        n = iter(range(1_000))
        paths = lambda: SqliteIndex(args.workdir / f"index{next(n)}.sqlite3")  # noqa: E731
        _ratios("SQLite", await measure("SQLite", paths, args), base)
        with throwaway_database(args.database) as database:
            if database is not None:
                figures = await measure("PostgreSQL", lambda: _fresh(database), args)
                _ratios("PostgreSQL", figures, base)


def _fresh(database: str) -> Index:
    """An index in a new schema of `database`, so record() starts from empty."""
    schema = f"s_{secrets.token_hex(4)}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return PostgresIndex(make_conninfo(database, options=f"-csearch_path={schema}"))


if __name__ == "__main__":
    asyncio.run(main())
