"""Fixtures every test module may use. Loopback servers live in tests/servers/."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrichment.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private data dir and no real upstream configured."""
    return Settings(data_dir=tmp_path / "data")
