"""The bot's own state: button keys and exactly-once claims, in a store of their own.

Not the enrichment cache: that one is size-capped and may forget an answer early, while a
claim forgotten early answers a message twice and a button forgotten early stops working. This
store never evicts a live entry before its TTL. It cannot degrade either: when it cannot be
opened, the bot refuses to start (`StoreError`), because a per-process stand-in would answer
Slack's retries once per process.
"""

from __future__ import annotations

from pathlib import Path

from enrichment.stores import DiskStore, Store, StoreError

__all__ = ["NAMESPACE", "Store", "StoreError", "open_state"]

NAMESPACE = "pivot:slack:v1:"  # every key the bot writes starts so; v1: JSON records


def open_state(data_dir: Path) -> Store:
    """The state store under `data_dir/state`; StoreError when it cannot be used."""
    return DiskStore(data_dir / "state", size_limit=None)
