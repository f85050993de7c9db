"""The pivot index's backends as fixtures, so one suite runs against each.

`backend` is parametrized over SQLite (always) and PostgreSQL (when the server at
PIVOT_TEST_DATABASE_URL, default the local one, answers; else skipped with the reason).
PostgreSQL tests get a throwaway database per session (dropped at the end) and a fresh
schema per test, so parallel runs and tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from enrichment.index.model import Index
from enrichment.index.postgres import PostgresIndex
from enrichment.index.sqlite import SqliteIndex
from tests.servers.required import missing

ADMIN_URL = os.environ.get(
    "PIVOT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Backend:
    """Where one test's index lives; `open()` gives a new index on that same storage."""

    name: str
    path: Path | None = None
    url: str | None = None

    def open(self) -> Index:
        if self.url is not None:
            return PostgresIndex(self.url)
        assert self.path is not None
        return SqliteIndex(self.path)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A conninfo string for a database made for this session, dropped at its end."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        missing(f"no PostgreSQL at PIVOT_TEST_DATABASE_URL ({type(exc).__name__})")
    name = f"pivot_test_{secrets.token_hex(6)}"
    with admin:
        _create_database(admin, name)
        try:
            yield make_conninfo(ADMIN_URL, dbname=name)
        finally:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def _create_database(admin: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    """A database sorting text the way most servers do (ICU, en-US), not byte by byte: the
    index must order and page the same as SQLite whatever the server's default. Where ICU
    is missing, the server's default."""
    icu = "CREATE DATABASE {} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
    try:
        admin.execute(sql.SQL(icu + " LOCALE 'C.UTF-8'").format(sql.Identifier(name)))
    except psycopg.Error:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def fresh_schema(database: str) -> str:
    """A conninfo string whose search_path is a new, empty schema of `database`."""
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return make_conninfo(database, options=f"-csearch_path={schema}")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", path=tmp_path / "index.sqlite3")
    database: str = request.getfixturevalue("pg_database")
    return Backend("postgres", url=fresh_schema(database))


@pytest.fixture
async def index(backend: Backend) -> AsyncIterator[Index]:
    opened = backend.open()
    try:
        yield opened
    finally:
        await opened.aclose()
