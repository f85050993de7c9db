"""The extraction corpus in tests/fixtures/indicators/, iocextract style: what must be found,
what must not, each single case re-tested wrapped in punctuation, words, Markdown and Slack
markup."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from enrichment.indicators import extract_indicators

FIXTURES = Path(__file__).parent / "fixtures" / "indicators"

Expected = tuple[tuple[str, str], ...]

WRAPPERS = (
    "{}",
    " {} ",
    "\t{}\n",
    "({})",
    "[{}]",
    "{{{}}}",
    '"{}"',
    "'{}'",
    "{}.",
    "{},",
    "{};",
    "{}!",
    "{}?",
    "{}...",
    "see {} now",
    "blocked {}, thanks",
    "`{}`",
    "```\n{}\n```",
    "*{}*",
    "_{}_",
    "~{}~",
    "**{}**",
    "&gt; {}",
    "- {}",
    "• {}",
    "&lt;{}&gt;",
    "<@U024BE7LH> {}",
    "{} in <#C024BE7LR|soc-alerts>",
    "<!here> {} <!subteam^S0123ABC|@ir-team>",
)


@dataclass(frozen=True)
class Case:
    text: str
    expected: Expected
    where: str


def _pair(line: str) -> tuple[str, str]:
    kind, _, value = line.strip().partition(" ")
    return kind, value


def single_cases() -> list[Case]:
    cases = []
    lines = (FIXTURES / "single.txt").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        text, arrow, result = line.rpartition(" => ")
        assert arrow, f"single.txt:{number}: no ' => '"
        expected = () if result == "-" else (_pair(result),)
        cases.append(Case(text, expected, f"single.txt:{number}"))
    return cases


def text_cases() -> list[Case]:
    cases = []
    blocks = (FIXTURES / "texts.txt").read_text(encoding="utf-8").split("\n--- ")[1:]
    for block in blocks:
        title, _, rest = block.partition("\n")
        text, sep, results = rest.partition("\n===\n")
        assert sep, f"texts.txt: case {title!r} has no ==="
        expected = tuple(_pair(line) for line in results.splitlines() if line.strip())
        cases.append(Case(text, expected, title))
    return cases


def found(text: str) -> Expected:
    return tuple((i.kind.value, i.value) for i in extract_indicators(text))


SINGLES = single_cases()


def test_the_corpus_is_substantial() -> None:
    assert len(SINGLES) > 150
    assert sum(1 for c in SINGLES if not c.expected) > 50
    assert len(text_cases()) > 15


@pytest.mark.parametrize("case", SINGLES, ids=lambda c: c.where)
def test_single_case(case: Case) -> None:
    assert found(case.text) == case.expected


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_single_cases_wrapped(wrapper: str) -> None:
    wrong = [
        (case.where, text, found(text), case.expected)
        for case in SINGLES
        if found(text := wrapper.format(case.text)) != case.expected
    ]
    assert not wrong


@pytest.mark.parametrize("case", text_cases(), ids=lambda c: c.where)
def test_text_case(case: Case) -> None:
    assert found(case.text) == case.expected


def test_every_case_in_one_message_finds_the_union_in_order() -> None:
    text = "\n".join(case.text for case in SINGLES)
    expected = tuple(dict.fromkeys(e for case in SINGLES for e in case.expected))
    assert found(text) == expected
