"""The pivot index: the team's own memory of observations, feed listings and sightings.

`model` says what it holds and the interface every backend implements; `sqlite` is the
embedded default under PIVOT_DATA_DIR, `postgres` the one replicas share at
PIVOT_DATABASE_URL; `observe` turns a card into observations; `importer` loads a team's
exports.
"""

from __future__ import annotations

from enrichment.index.model import Index
from enrichment.settings import Settings

FILE_NAME = "index.sqlite3"


def open_index(settings: Settings) -> Index:
    """The configured index. Raises enrichment.stores.StoreError when it cannot be opened.

    PostgreSQL connects (and migrates its schema) on first use: opening needs no event loop,
    and a database that is down costs the calls that need it, not the start-up."""
    if settings.database_url:
        from enrichment.index.postgres import PostgresIndex

        return PostgresIndex(settings.database_url)
    from enrichment.index.sqlite import SqliteIndex

    return SqliteIndex(settings.data_dir / FILE_NAME)


__all__ = ["FILE_NAME", "Index", "open_index"]
