"""Skip a test whose server is missing, unless the run says the servers are there.

`.ci/run` sets PIVOT_TEST_REQUIRE_SERVERS=1 when Redis and PostgreSQL answer on the machine:
a test that would then be skipped fails instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(why: str) -> NoReturn:
    if os.environ.get("PIVOT_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{why}, but PIVOT_TEST_REQUIRE_SERVERS=1 says it should be there")
    pytest.skip(why)
