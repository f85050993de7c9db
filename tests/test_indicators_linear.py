"""Extraction takes linear time on any input.

Three checks, from the most to the least deterministic: no regex that scans whole texts has an
unbounded repetition that can backtrack; the Python side validates at most a constant number of
characters per input character; and CPU time grows with input size like a line, judged by a
ratio with a wide margin (linear is 16x for 16x the input, quadratic 256x).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from enrichment import _indicator_names, _indicator_scan, _indicator_text
from enrichment.indicators import extract_indicators

ADVERSARIAL = {
    "a.": "a.",
    "a[.]": "a[.]",
    "[.]": "[.]",
    "digits and dots": "1.",
    "1.1.": "1.1.",
    "@": "@",
    "a@": "a@",
    "a.a@": "a.a@",
    "<": "<",
    "<http://a|": "<http://a|",
    "<@": "<@",
    ":": ":",
    "1:": "1:",
    "::a.": "::a.",
    "hex": "0123456789abcdef",
    "[": "[",
    "(dot)": "a(dot)",
    "http://": "http://",
    "hxxp[:]//": "hxxp[:]//a[.]",
    "hxxp:/": "hxxp:/",
    ":/": ":/",
    "a-": "a-",
    "_a.": "_a.",
    "a_b.c/": "a_b.c/",
    "spaces": " ",
    "&amp;": "&amp;",
    "\\.": "a\\.",
    "ideographic dots": "a。",
    "cyrillic": "яa.b",
    "same ip": "1.1.1.1 ",
    "path": "a.com/",
    "url commas": "http://a.com/,a",
    "url comma lists": "http://a.com/x,a.",
    "cjk": "了a.b",
    "a@cjk": "了a.b@",
    "cjk seams": "了a",
    "email cjk tail": "a@b.c.了",
}

WHOLE_TEXT_PATTERNS = [
    _indicator_scan.PATTERN,
    _indicator_text._MARKUP,
    _indicator_text._DOT_FORMS,
    _indicator_text._WIDE_DOTS,
    _indicator_text._AT_FORMS,
    _indicator_text._SEPARATOR,
]


def _repeat(unit: str, size: int) -> str:
    return unit * (size // len(unit))


def _unbounded_backtracking(pattern: re.Pattern[str]) -> list[str]:
    """Greedy or lazy repetitions without an upper bound: the ones that can backtrack."""
    parser: Any = pytest.importorskip("re._parser")
    constants: Any = pytest.importorskip("re._constants")
    found: list[str] = []

    def walk(items: Any) -> None:
        for op, av in items:
            if op in (constants.MAX_REPEAT, constants.MIN_REPEAT):
                if av[1] == constants.MAXREPEAT:
                    found.append(f"{op} {av}")
                walk(av[2])
            elif op is constants.POSSESSIVE_REPEAT:
                walk(av[2])
            elif op is constants.SUBPATTERN:
                walk(av[3])
            elif op is constants.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op in (constants.ASSERT, constants.ASSERT_NOT):
                walk(av[1])
            elif op is constants.ATOMIC_GROUP:
                walk(av)

    walk(parser.parse(pattern.pattern, pattern.flags))
    return found


@pytest.mark.parametrize("pattern", WHOLE_TEXT_PATTERNS, ids=lambda p: p.pattern[:30])
def test_no_whole_text_pattern_can_backtrack_without_bound(pattern: re.Pattern[str]) -> None:
    assert _unbounded_backtracking(pattern) == []


def test_the_checker_sees_a_backtracking_pattern() -> None:
    assert _unbounded_backtracking(re.compile(r"(a+)+b"))
    assert not _unbounded_backtracking(re.compile(r"(?:a++)++b"))


class _Counter:
    """Wraps the validators the scanner calls and adds up the characters they are given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.chars = 0
        for name in ("canonical_domain", "url_value", "email_value", "cidr_value"):
            monkeypatch.setattr(_indicator_scan, name, self._wrap(getattr(_indicator_scan, name)))

    def _wrap(self, function: Callable[[str], Any]) -> Callable[[str], Any]:
        def counted(raw: str) -> Any:
            self.chars += len(raw)
            return function(raw)

        return counted


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_validation_work_is_linear_in_the_input(unit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _Counter(monkeypatch)
    text = _repeat(unit, 50_000)
    extract_indicators(text)
    assert counter.chars <= 3 * len(text) + 100


def _cpu(function: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return max(best, 1e-4)


def _chat(size: int) -> str:
    cases = (Path(__file__).parent / "fixtures" / "indicators" / "texts.txt").read_text("utf-8")
    return (cases * (size // len(cases) + 1))[:size]


def _inputs() -> Iterator[tuple[str, str]]:
    yield "chat", _chat(1)
    yield from ADVERSARIAL.items()


@pytest.mark.parametrize(("name", "unit"), list(_inputs()), ids=[n for n, _ in _inputs()])
def test_time_grows_linearly(name: str, unit: str) -> None:
    small, large = 8_000, 128_000
    make = _chat if name == "chat" else (lambda size: _repeat(unit, size))
    small_text, large_text = make(small), make(large)
    ratio = _cpu(lambda: extract_indicators(large_text)) / _cpu(
        lambda: extract_indicators(small_text)
    )
    assert ratio < 64, f"{name}: 16x the input took {ratio:.0f}x the time"


def test_hostile_text_costs_about_what_chat_costs() -> None:
    size = 128_000
    chat_text = _chat(size)
    chat = _cpu(lambda: extract_indicators(chat_text))
    texts = {name: _repeat(unit, size) for name, unit in ADVERSARIAL.items()}
    costs = {
        name: _cpu(lambda t=text: extract_indicators(t)) / chat for name, text in texts.items()
    }
    assert max(costs.values()) < 10, costs


def test_hostile_input_is_not_kept_in_caches() -> None:
    before = _indicator_names._canonical.cache_info().currsize
    extract_indicators("a." * 5_000 + "com " + "x" * 300 + ".com")
    assert _indicator_names._canonical.cache_info().currsize == before
