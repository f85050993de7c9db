"""The pivot index at 10 million observations (run by hand; minutes, not seconds).

    python benchmarks/index_scale.py [--observations 10000000] [--busy 10000] [--queries 2000]
                                     [--database postgresql://postgres@127.0.0.1:5432/postgres]
                                     [--dir /somewhere/with/space]

Builds each backend with `record()` in batches (names -> addresses, --busy of them on one
address), timing only the writes: observations per second. Then a fresh process opens the
finished index, as a replica starting up would, and asks the busy address's reverse pivot
(25 names at a random page) and its count --queries times: p50/p99, and that process's peak
memory (RSS). Prints the SQLite file's size, and every target of issue 9 beside its figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.index import BUSY_IP, DEFAULT_DB, PAGE, throwaway_database
from enrichment.index.model import Index, Observation, Relation
from enrichment.index.postgres import PostgresIndex
from enrichment.index.sqlite import SqliteIndex

BATCH = 50_000
TARGETS = {"ingest_obs_s": 100_000, "page_p99_ms": 10.0, "rss_mb": 200.0}


def batch(start: int, size: int, busy: int) -> list[Observation]:
    out = []
    for i in range(start, start + size):
        ip = BUSY_IP if i < busy else f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        at = 1_600_000_000.0 + i
        out.append(Observation(f"n{i:x}.example", "domain", Relation.A, ip, "ipv4", "b", at, at))
    return out


async def build(index: Index, total: int, busy: int) -> float:
    """Observations per second of `record()` alone (the batches are made outside the clock)."""
    spent = 0.0
    for start in range(0, total, BATCH):
        rows = batch(start, min(BATCH, total - start), busy)
        began = time.perf_counter()
        await index.record(rows)
        spent += time.perf_counter() - began
        print(f"\r  {start + len(rows):,} recorded", end="", flush=True)
    print()
    return total / spent


def open_by(spec: str) -> Index:
    kind, _, where = spec.partition(":")
    return SqliteIndex(Path(where)) if kind == "sqlite" else PostgresIndex(where)


async def probe(spec: str, queries: int) -> dict[str, float]:
    """In a fresh process: reverse pages and counts on the busy address, and peak RSS."""
    index = open_by(spec)
    total = await index.count(Relation.A, BUSY_IP)
    pages, rng = max(1, total // PAGE), random.Random(7)
    timings: dict[str, list[float]] = {"page": [], "count": []}
    for _ in range(queries):
        began = time.perf_counter()
        await index.reverse(Relation.A, BUSY_IP, offset=rng.randrange(pages) * PAGE, limit=PAGE)
        timings["page"].append(time.perf_counter() - began)
        began = time.perf_counter()
        await index.count(Relation.A, BUSY_IP)
        timings["count"].append(time.perf_counter() - began)
    await index.aclose()
    out = {"busy_total": float(total)}
    for name, samples in timings.items():
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        out[f"{name}_p50_ms"], out[f"{name}_p99_ms"] = cuts[49] * 1000, cuts[98] * 1000
    out["rss_mb"] = peak_rss_mb()
    return out


def peak_rss_mb() -> float:
    """This process's peak RSS since it started. Not getrusage's ru_maxrss: on Linux that
    survives exec, so a child would report the RSS its parent had when it forked."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def probed(spec: str, queries: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--probe", spec, "--queries", str(queries)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def report(name: str, figures: dict[str, float]) -> None:
    print(f"\n{name}")
    for key, value in figures.items():
        target = TARGETS.get(key)
        verdict = ""
        if target is not None:
            at_least = key == "ingest_obs_s"
            met = value >= target if at_least else value <= target
            sign = ">=" if at_least else "<="
            verdict = f"   target {sign} {target:,} {'met' if met else 'NOT met'}"
        print(f"  {key:<14} {value:>14,.2f}{verdict}")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        path = Path(work) / "index.sqlite3"
        sqlite = SqliteIndex(path)
        figures = {"ingest_obs_s": await build(sqlite, args.observations, args.busy)}
        await sqlite.aclose()
        figures["file_mb"] = sum(f.stat().st_size for f in Path(work).iterdir()) / 1e6
        report("SQLite", figures | probed(f"sqlite:{path}", args.queries))
    with throwaway_database(args.database) as database:
        if database is None:
            return
        schema = f"s_{secrets.token_hex(4)}"
        spec = f"postgres:{database} options=-csearch_path={schema}"
        import psycopg

        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        index = open_by(spec)
        figures = {"ingest_obs_s": await build(index, args.observations, args.busy)}
        await index.aclose()
        report("PostgreSQL", figures | probed(spec, args.queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=10_000_000)
    parser.add_argument("--busy", type=int, default=10_000, help="names on the busy address")
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--database", default=DEFAULT_DB, help="a PostgreSQL server's URL")
    parser.add_argument("--dir", default=None, help="where the SQLite file is built")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(asyncio.run(probe(args.probe, args.queries))))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
