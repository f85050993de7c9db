"""The extraction benchmark survives a peer that dies: benchmarks/extraction.py runs by hand,
but the seam that reads a peer's child process is checked here (no timing is asserted)."""

from __future__ import annotations

import sys

from benchmarks.extraction import Timed, child_time, run_child, timed_in_subprocess


def test_a_child_that_exits_without_printing_its_time_is_reported_not_raised() -> None:
    timed = timed_in_subprocess("no-such-tool", "qpdar[.]pw", cap=120)
    assert timed.seconds is None
    assert timed.failure is not None
    assert timed.failure.startswith("exit 1: KeyError")


def test_a_quick_child_s_time_is_read_even_when_it_comes_with_the_ready_line() -> None:
    # Written at exit in one block, both lines reach the pipe together.
    assert run_child([sys.executable, "-c", "print('ready'); print(0.25)"], cap=120) == Timed(0.25)


def test_child_time_reads_the_time_or_says_why_there_is_none() -> None:
    assert child_time("0.25\n", 0, "") == Timed(0.25)
    assert child_time("", -9, "") == Timed(None, "exit -9: printed ''")
    assert child_time("", 1, "Traceback ...\nMemoryError\n") == Timed(None, "exit 1: MemoryError")
