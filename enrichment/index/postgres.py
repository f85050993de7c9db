"""The pivot index in PostgreSQL (PIVOT_DATABASE_URL), shared by every replica.

One async psycopg connection per index, opened on first use and guarded by a lock: calls take
turns on it, a broken connection is replaced on the next call. Opening runs the schema's
migrations inside a transaction holding `pg_advisory_xact_lock`, so replicas starting at once
take turns instead of racing on CREATE TABLE. Writes go through COPY: observations into a
temporary table, merged by one INSERT ... ON CONFLICT with the same upsert rules as SQLite;
a feed's listings are deleted and copied in one transaction. Network listings are `cidr`
values matched with `>>=` through a GiST index.

Text columns use the "C" collation so that ordering and paging match SQLite's byte order.
Every failure surfaces as StoreError with a message that never holds the password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from enrichment.addresses import parse_address, parse_network
from enrichment.index._keys import listed_host, neighbourhood, observation_row, page
from enrichment.index.model import Listing, Observation, Relation, Sighting, Sightings
from enrichment.stores import StoreError

T = TypeVar("T")
Conn = AsyncConnection[tuple[Any, ...]]
CONNECT_TIMEOUT = 10  # seconds
ANALYZE_AFTER = 5_000  # rows written before the planner's statistics are first refreshed
# pg_advisory_xact_lock key: any fixed number that other applications are unlikely to use
MIGRATION_LOCK = 0x5049564F54  # "PIVOT"

# Each migration, in order; the applied count is kept in pivot_schema. Never edit one that
# has shipped: append another.
_MIGRATIONS = (
    """
    CREATE TABLE pivot_observations (
        subject TEXT COLLATE "C" NOT NULL, subject_kind TEXT NOT NULL,
        relation TEXT COLLATE "C" NOT NULL, object TEXT COLLATE "C" NOT NULL,
        object_kind TEXT NOT NULL, source TEXT NOT NULL,
        first_seen DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL,
        times_seen BIGINT NOT NULL, near TEXT COLLATE "C",
        PRIMARY KEY (subject, relation, object)
    );
    CREATE INDEX pivot_observations_reverse
        ON pivot_observations (relation, object, last_seen DESC, subject);
    CREATE INDEX pivot_observations_near
        ON pivot_observations (near, last_seen DESC, subject, object) WHERE near IS NOT NULL;
    CREATE TABLE pivot_listings (
        feed TEXT COLLATE "C" NOT NULL, pos INTEGER NOT NULL, value TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL, threat TEXT, first_seen DOUBLE PRECISION, reference TEXT,
        network CIDR, host TEXT COLLATE "C"
    );
    CREATE INDEX pivot_listings_feed ON pivot_listings (feed);
    CREATE INDEX pivot_listings_value ON pivot_listings (value);
    CREATE INDEX pivot_listings_host ON pivot_listings (host) WHERE host IS NOT NULL;
    CREATE INDEX pivot_listings_network ON pivot_listings USING gist (network inet_ops)
        WHERE network IS NOT NULL;
    CREATE TABLE pivot_sightings (
        value TEXT COLLATE "C" NOT NULL, kind TEXT NOT NULL, team TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL, "user" TEXT NOT NULL,
        message_ts TEXT COLLATE "C" NOT NULL, at DOUBLE PRECISION NOT NULL,
        channel_name TEXT, link TEXT,
        PRIMARY KEY (value, team, channel, message_ts)
    );
    CREATE INDEX pivot_sightings_recent ON pivot_sightings (value, at DESC);
    """,
)
_SCHEMA_TABLE = "CREATE TABLE IF NOT EXISTS pivot_schema (version INTEGER NOT NULL)"
_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_VERSION = "SELECT coalesce(max(version), 0) FROM pivot_schema"
_SET_VERSION = "INSERT INTO pivot_schema (version) VALUES (%s)"

# Per connection: where record() copies its rows before merging them (emptied at commit).
_INCOMING = """CREATE TEMPORARY TABLE pivot_incoming (
    seq BIGINT NOT NULL, subject TEXT COLLATE "C", subject_kind TEXT,
    relation TEXT COLLATE "C", object TEXT COLLATE "C", object_kind TEXT, source TEXT,
    first_seen DOUBLE PRECISION, last_seen DOUBLE PRECISION, times_seen BIGINT,
    near TEXT COLLATE "C"
) ON COMMIT DELETE ROWS"""
_COPY_INCOMING = """COPY pivot_incoming (seq, subject, subject_kind, relation, object,
    object_kind, source, first_seen, last_seen, times_seen, near) FROM STDIN"""
# Rows repeated within one batch fold first (as SQLite's one-by-one upserts would: the
# source of the latest last_seen, the later row on a tie), then merge with what is held.
# Sorted so that two replicas upserting the same keys lock them in the same order.
_MERGE = """
INSERT INTO pivot_observations AS o
SELECT subject, (array_agg(subject_kind ORDER BY seq))[1], relation, object,
    (array_agg(object_kind ORDER BY seq))[1],
    (array_agg(source ORDER BY last_seen DESC, seq DESC))[1],
    min(first_seen), max(last_seen), sum(times_seen)::BIGINT, (array_agg(near ORDER BY seq))[1]
FROM pivot_incoming GROUP BY subject, relation, object ORDER BY subject, relation, object
ON CONFLICT (subject, relation, object) DO UPDATE SET
    source = CASE WHEN excluded.last_seen >= o.last_seen THEN excluded.source ELSE o.source END,
    first_seen = least(o.first_seen, excluded.first_seen),
    last_seen = greatest(o.last_seen, excluded.last_seen),
    times_seen = o.times_seen + excluded.times_seen
"""
_REVERSE = """SELECT subject, subject_kind, relation, object, object_kind, source, first_seen,
    last_seen, times_seen
    FROM pivot_observations WHERE relation = %s AND object = %s
    ORDER BY last_seen DESC, subject LIMIT %s OFFSET %s"""
# A bulk load leaves the planner's statistics describing an empty table until autovacuum
# comes by (a minute or more): reverse pages then sort every match instead of reading the
# index in order, and counts visit the heap instead of the index alone. Refreshed (outside
# any transaction: VACUUM refuses one) after ANALYZE_AFTER rows, then each time the rows
# written double.
_ANALYZE = "VACUUM (ANALYZE) pivot_observations"
_COUNT = "SELECT count(*) FROM pivot_observations WHERE relation = %s AND object = %s"
_FORWARD = """SELECT subject, subject_kind, relation, object, object_kind, source, first_seen,
    last_seen, times_seen
    FROM pivot_observations WHERE subject = %s
    ORDER BY last_seen DESC, relation, object LIMIT %s"""
_FORWARD_ONE = """SELECT subject, subject_kind, relation, object, object_kind, source, first_seen,
    last_seen, times_seen
    FROM pivot_observations WHERE subject = %s
    AND relation = %s ORDER BY last_seen DESC, object LIMIT %s"""
_NEIGHBOURS = """SELECT subject, subject_kind, relation, object, object_kind, source, first_seen,
    last_seen, times_seen
    FROM pivot_observations WHERE near = %s AND object <> %s
    ORDER BY last_seen DESC, subject, object LIMIT %s OFFSET %s"""
_COUNT_NEIGHBOURS = "SELECT count(*) FROM pivot_observations WHERE near = %s AND object <> %s"
_DELETE_FEED = "DELETE FROM pivot_listings WHERE feed = %s"
_COPY_LISTINGS = """COPY pivot_listings (feed, pos, value, kind, threat, first_seen, reference,
    network, host) FROM STDIN"""
# The first listing of a value in its feed's list wins, as in SQLite.
_LISTED = """SELECT DISTINCT ON (feed, value) feed, value, kind, threat, first_seen, reference
FROM (
    SELECT * FROM pivot_listings WHERE value = ANY(%s)
    UNION ALL
    SELECT * FROM pivot_listings WHERE host = ANY(%s)
    UNION ALL
    SELECT l.* FROM unnest(%s::inet[]) AS ip JOIN pivot_listings AS l
        ON l.network IS NOT NULL AND l.network >>= ip
) AS found ORDER BY feed, value, pos"""
_FEED_SIZES = "SELECT feed, count(*) FROM pivot_listings GROUP BY feed"
_SIGHTING = """INSERT INTO pivot_sightings
    (value, kind, team, channel, "user", message_ts, at, channel_name, link)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (value, team, channel, message_ts) DO UPDATE SET kind = excluded.kind,
    "user" = excluded."user", at = excluded.at, channel_name = excluded.channel_name,
    link = excluded.link"""
_SIGHTINGS_COUNT = "SELECT count(*) FROM pivot_sightings WHERE value = %s"
_SIGHTINGS_RECENT = """SELECT value, kind, team, channel, "user", message_ts, at, channel_name,
    link FROM pivot_sightings WHERE value = %s
    ORDER BY at DESC, team, channel, message_ts LIMIT %s"""


def redact(text: str, url: str) -> str:
    """`text` with the URL and its password (if any) cut out."""
    secrets = [url]
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        password = None
    if password:
        secrets.append(str(password))
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _observation(row: Sequence[Any]) -> Observation:
    return Observation(
        row[0], row[1], Relation(row[2]), row[3], row[4], row[5], row[6], row[7], int(row[8])
    )


def _incoming(seq: int, o: Observation) -> tuple[object, ...]:
    return (seq, *observation_row(o))


def _network(value: str) -> str | None:
    net = parse_network(value) if "/" in value else None
    return None if net is None else str(net)


def _listing_row(feed: str, pos: int, item: Listing) -> tuple[object, ...]:
    return (
        feed,
        pos,
        item.value,
        item.kind,
        item.threat,
        item.first_seen,
        item.reference,
        _network(item.value),
        listed_host(item.value) if item.kind == "url" else None,
    )


async def _migrate(conn: Conn) -> None:
    """Bring the schema up to date; replicas starting together queue on the advisory lock."""
    async with conn.transaction():
        await conn.execute(_LOCK, (MIGRATION_LOCK,))
        await conn.execute(_SCHEMA_TABLE)
        row = await (await conn.execute(_VERSION)).fetchone()
        version = int(row[0]) if row else 0
        if version > len(_MIGRATIONS):
            raise StoreError(f"index schema {version} is newer than this Pivot knows")
        for number, sql in enumerate(_MIGRATIONS[version:], version + 1):
            await conn.execute(sql.encode())  # several statements: no parameters
            await conn.execute(_SET_VERSION, (number,))


class PostgresIndex:
    """`enrichment.index.model.Index` on PostgreSQL. Connects (and migrates) on first use, or
    at `await connect()`; every failure surfaces as StoreError."""

    def __init__(self, url: str, *, connect_timeout: int = CONNECT_TIMEOUT) -> None:
        self._url = url
        self._timeout = connect_timeout
        self._conn: Conn | None = None
        self._lock = asyncio.Lock()
        self._closed = False
        self._written = 0  # rows this index wrote since it last refreshed the statistics
        self._analyzed = 0  # rows it wrote before that

    def __repr__(self) -> str:
        return "PostgresIndex(<PIVOT_DATABASE_URL>)"

    async def connect(self) -> None:
        """Open the connection and migrate the schema now rather than on first use."""
        await self._run(_nothing)

    async def _connection(self) -> Conn:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        self._conn = None
        conn = await AsyncConnection.connect(
            self._url, autocommit=True, connect_timeout=self._timeout
        )
        try:
            await _migrate(conn)
            await conn.execute(_INCOMING)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        return conn

    async def _run(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        if self._closed:
            raise StoreError("the pivot index is closed")
        async with self._lock:
            try:
                return await work(await self._connection())
            except psycopg.Error as exc:
                message = redact(str(exc).strip().splitlines()[0] if str(exc) else "", self._url)
                raise StoreError(f"pivot index (PostgreSQL): {message}") from None
            finally:
                await self._settle()

    async def _settle(self) -> None:
        """Drop a connection left inside a transaction (a call cancelled half-way)."""
        conn = self._conn
        if conn is not None and conn.info.transaction_status != TransactionStatus.IDLE:
            self._conn = None
            await conn.close()

    async def _rows(self, sql: str, args: Sequence[object]) -> list[tuple[Any, ...]]:
        async def read(conn: Conn) -> list[tuple[Any, ...]]:
            return await (await conn.execute(sql, args)).fetchall()

        return await self._run(read)

    async def _number(self, sql: str, args: Sequence[object]) -> int:
        rows = await self._rows(sql, args)
        return int(rows[0][0])

    async def record(self, observations: Sequence[Observation]) -> None:
        rows = [_incoming(seq, o) for seq, o in enumerate(observations)]
        if not rows:
            return

        async def write(conn: Conn) -> None:
            async with conn.transaction(), conn.cursor() as cur:
                async with cur.copy(_COPY_INCOMING) as copy:
                    for row in rows:
                        await copy.write_row(row)
                await cur.execute(_MERGE)
            self._written += len(rows)
            if self._written >= max(ANALYZE_AFTER, self._analyzed):
                await conn.execute(_ANALYZE)
                self._analyzed, self._written = self._analyzed + self._written, 0

        await self._run(write)

    async def reverse(
        self, relation: Relation, obj: str, *, offset: int = 0, limit: int = 25
    ) -> list[Observation]:
        offset, limit = page(offset, limit)
        rows = await self._rows(_REVERSE, (relation.value, obj, limit, offset))
        return [_observation(r) for r in rows]

    async def count(self, relation: Relation, obj: str) -> int:
        return await self._number(_COUNT, (relation.value, obj))

    async def forward(
        self, subject: str, relation: Relation | None = None, *, limit: int = 100
    ) -> list[Observation]:
        _, limit = page(0, limit)
        if relation is None:
            rows = await self._rows(_FORWARD, (subject, limit))
        else:
            rows = await self._rows(_FORWARD_ONE, (subject, relation.value, limit))
        return [_observation(r) for r in rows]

    async def neighbours(self, ip: str, *, offset: int = 0, limit: int = 25) -> list[Observation]:
        near = neighbourhood(ip)
        if near is None:
            return []
        offset, limit = page(offset, limit)
        rows = await self._rows(_NEIGHBOURS, (near, ip, limit, offset))
        return [_observation(r) for r in rows]

    async def count_neighbours(self, ip: str) -> int:
        near = neighbourhood(ip)
        return 0 if near is None else await self._number(_COUNT_NEIGHBOURS, (near, ip))

    async def replace_listings(self, feed: str, listings: Sequence[Listing]) -> None:
        rows = [_listing_row(feed, pos, item) for pos, item in enumerate(listings)]

        async def swap(conn: Conn) -> None:
            async with conn.transaction(), conn.cursor() as cur:
                await cur.execute(_DELETE_FEED, (feed,))
                async with cur.copy(_COPY_LISTINGS) as copy:
                    for row in rows:
                        await copy.write_row(row)

        await self._run(swap)

    async def listings(self, values: Sequence[str]) -> list[Listing]:
        wanted = sorted(set(values))
        ips = sorted({str(ip) for ip in map(parse_address, wanted) if ip is not None})
        rows = await self._rows(_LISTED, (wanted, wanted, ips))
        return [Listing(*row) for row in rows]

    async def feed_sizes(self) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in await self._rows(_FEED_SIZES, ())}

    async def record_sighting(self, sighting: Sighting) -> None:
        s = sighting
        args = (s.value, s.kind, s.team, s.channel, s.user, s.message_ts, s.at)
        await self._rows_none(_SIGHTING, (*args, s.channel_name, s.link))

    async def _rows_none(self, sql: str, args: Sequence[object]) -> None:
        async def write(conn: Conn) -> None:
            await conn.execute(sql, args)

        await self._run(write)

    async def sightings(self, value: str, *, limit: int = 5) -> Sightings:
        _, limit = page(0, limit)

        async def read(conn: Conn) -> Sightings:
            total = await (await conn.execute(_SIGHTINGS_COUNT, (value,))).fetchone()
            cur = await conn.execute(_SIGHTINGS_RECENT, (value, limit))
            recent = tuple(Sighting(*row) for row in await cur.fetchall())
            return Sightings(int(total[0]) if total else 0, recent)

        return await self._run(read)

    async def aclose(self) -> None:
        self._closed = True
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()


async def _nothing(conn: Conn) -> None:
    return None
