"""The bot's own state: button keys and exactly-once claims, in a store of their own.

Not the enrichment cache: that one is size-capped and may forget an answer early, while a
claim forgotten early answers a message twice and a button forgotten early stops working. This
store never evicts a live entry before its TTL. It cannot degrade either: when it cannot be
opened, the bot refuses to start (`StoreError`), because a per-process stand-in would answer
Slack's retries once per process.

With PIVOT_REDIS_URL set it lives in Redis, so every replica sees every claim and every
button; else in diskcache under the data directory. Every key the bot writes starts with
`NAMESPACE` (versioned), so in Redis the keys need no further prefix.
"""

from __future__ import annotations

from pathlib import Path

from enrichment.settings import Settings
from enrichment.stores import DiskStore, Store, StoreError

__all__ = ["NAMESPACE", "Store", "StoreError", "open_state"]

NAMESPACE = "pivot:slack:v1:"  # every key the bot writes starts so; v1: JSON records


def open_state(settings: Settings | Path) -> Store:
    """Redis when the settings name one, else the store under `data_dir/state` (a bare path
    is a data directory); StoreError when it cannot be used."""
    if isinstance(settings, Settings) and settings.redis_url:
        from enrichment.redis_store import RedisStore

        return RedisStore(settings.redis_url, "")
    data_dir = settings.data_dir if isinstance(settings, Settings) else settings
    return DiskStore(data_dir / "state", size_limit=None)
