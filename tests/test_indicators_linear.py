"""Extraction takes linear time on any input.

Two deterministic checks, by size, never by stopwatch (these machines are shared and noisy):
no regex that scans whole texts has an unbounded repetition that can backtrack, and the Python
side validates at most a constant number of characters per input character. Timings against
hostile input are measured in benchmarks/extraction.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from enrichment.indicators import _names as _indicator_names
from enrichment.indicators import _scan as _indicator_scan
from enrichment.indicators import _styles as _indicator_styles
from enrichment.indicators import _text as _indicator_text
from enrichment.indicators import _values as _indicator_values
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
    "glued DOT": "aDOT",
    "spaced DOT": "a DOT ",
    "the DOT": "the DOT a",
    "-dot-": "a-dot-",
    "^.": "a^.",
    "<.>": "a<.>",
    "].[": "a].[",
    "dot]": "adot]",
    "(punto)": "a(punto)",
    "[,]": "1[,]",
    "[-]": "a[-]",
    "[www].": "[a].",
    "spaced AT": "a AT ",
    "at]": "aat]",
    "xxxx://": "xxxx://",
    "[http]://": "[http]://a.",
    "http ://": "http :// ",
    "http//": "http//",
    "slashes": "/",
    "a_a.": "a_a.",
    "_a_.a": "_a_.a",
    "email literal": "a@[1.",
    "email literals": "a@[1.1.1.1]",
    "glued brackets": "a[x]a.",
    "quad then label": "1.1.1.1.a",
}

# Every compiled pattern of the package, found rather than listed, so a new one cannot be
# forgotten: the ones that scan whole texts and the ones that check a candidate.
MODULES = (_indicator_names, _indicator_scan, _indicator_styles, _indicator_text, _indicator_values)
PATTERNS = {
    f"{module.__name__.rpartition('._')[2]}.{name}": value
    for module in MODULES
    for name, value in vars(module).items()
    if isinstance(value, re.Pattern)
}


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


def test_the_patterns_are_found() -> None:
    assert {"scan.PATTERN", "text._MARKUP", "styles._BRACKETED", "styles.SLASHES"} <= set(PATTERNS)
    assert len(PATTERNS) > 20


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_pattern_can_backtrack_without_bound(name: str) -> None:
    assert _unbounded_backtracking(PATTERNS[name]) == []


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
