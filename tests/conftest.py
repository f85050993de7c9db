"""Fixtures every test module may use. Loopback servers live in tests/servers/; their
fixtures (`dns_server`, `dns_context`, `http_server`, `whois_server`, and `redis_url` with
its friends) come in as plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrichment.settings import Settings

pytest_plugins = [
    "tests.servers.dns_server",
    "tests.servers.http_server",
    "tests.servers.redis_server",
    "tests.servers.whois_server",
    "tests.index_backends",
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private data dir and no real upstream configured."""
    return Settings(data_dir=tmp_path / "data")
