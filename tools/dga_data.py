"""The DGA trainer's data: labels of both sides, generic generated names, the suspect rule.

Only `tools/train_dga.py` and `benchmarks/dga.py` read this; nothing here is shipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from enrichment.dga._chars import CHAR_FEATURES, Matrix
from enrichment.dga._text import MAX_LABEL, clean_label, domain_label

DATA = Path("/work/shared/data/dga")
SYNTHETIC = 5000  # generic generated names added to the DGA side
SEED = 0
RUNS = 2000  # generic runs of words added to the DGA side, each weighing RUN_WEIGHT
RUN_WEIGHT = 0.15
RUN_WORDS = 800  # drawn from this many of the lexicon's most frequent words
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_VOWELS = "aeiou"
_CONSONANTS = "bcdfghjklmnpqrstvwxz"


@dataclass(frozen=True)
class Data:
    benign: dict[str, int]  # label -> days in the top 100k (of 19)
    dga: list[tuple[str, str]]  # (family, label)


def load_data(folder: Path) -> Data:
    """Both sides' labels, cleaned as inference cleans them; a benign label keeps its best days."""
    benign: dict[str, int] = {}
    lines = (folder / "benign_train_days.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for name, days in (line.split("\t") for line in lines):
        label = _label(name)
        if label:
            benign[label] = max(benign.get(label, 0), int(days))
    rows = (folder / "dga_train.tsv").read_text(encoding="utf-8").splitlines()
    dga = [(family, _label(name)) for family, name in (row.split("\t") for row in rows)]
    return Data(benign, [(family, label) for family, label in dga if label])


def _label(name: str) -> str | None:
    label = domain_label(name)
    return clean_label(label) if label else None


def synthetic(count: int = SYNTHETIC, seed: int = SEED) -> list[str]:
    """Names from five generic generators, none of them a DGA family's algorithm: uniformly
    random letters (long, and short: 5-9, where a random name is hardest to tell from a real
    one), letters and digits, hex digits, and consonant-vowel alternation. They teach
    what "drawn at random" looks like beyond the 33 families' styles (a family left out of
    training is still random in one of these ways)."""
    rng = np.random.default_rng(seed)
    names: set[str] = set()
    while len(names) < count:
        kind = len(names) % 5
        if kind == 4:
            name = _draw(rng, _LETTERS, 5, 9)
        elif kind == 0:
            name = _draw(rng, _LETTERS, 6, 20)
        elif kind == 1:
            name = _draw(rng, _LETTERS + "0123456789", 6, 20)
        elif kind == 2:
            name = _draw(rng, "0123456789abcdef", 6, 32)
        else:
            size = int(rng.integers(6, 21))
            name = "".join(
                str(rng.choice(list(_CONSONANTS if i % 2 == 0 else _VOWELS))) for i in range(size)
            )
        names.add(name)
    return sorted(names)


def word_runs(words: Sequence[str], count: int = RUNS, seed: int = SEED) -> list[str]:
    """Runs of 4-6 common words glued together, drawn uniformly and independently: a generic
    dictionary DGA, as random in its words as the generators above are in their letters.
    Runs, not pairs: benign names are often two glued words, rarely four, and random pairs as
    positives raised benign compounds with them (measured: see benchmarks/dga.py). Light
    (RUN_WEIGHT each): at full weight they cost the short random families more than they won."""
    pool = list(words[:RUN_WORDS])
    rng = np.random.default_rng(seed)
    runs: set[str] = set()
    while len(runs) < count:
        picks = rng.integers(0, len(pool), size=int(rng.integers(4, 7)))
        runs.add("".join(pool[i] for i in picks.tolist())[:MAX_LABEL])
    return sorted(runs)


def positives(dga: Sequence[str], words: Sequence[str]) -> tuple[list[str], Matrix]:
    """The DGA side as the heads see it, with each label's weight: the families' labels and the
    generic names at 1, the word runs at RUN_WEIGHT."""
    named = [*dga, *synthetic()]
    runs = word_runs(words)
    return named + runs, np.r_[np.ones(len(named)), np.full(len(runs), RUN_WEIGHT)]


def _draw(rng: np.random.Generator, alphabet: str, shortest: int, longest: int) -> str:
    size = int(rng.integers(shortest, longest + 1))
    return "".join(str(c) for c in rng.choice(list(alphabet), size))


def looks_generated(row: Matrix) -> bool:
    """A benign-list name shaped like a generated one (a suspect, not a verdict), from its
    character features, which read the label and the benign 4-gram model only: long hex with
    digits, many letter-digit switches, no vowels, or no likelier under the benign model than
    random characters. No DGA data enters it."""
    f: Mapping[str, float] = dict(
        zip(CHAR_FEATURES, row[: len(CHAR_FEATURES)].tolist(), strict=True)
    )
    letters = f["length"] * (1 - f["digit_share"]) - f["hyphens"]
    return bool(
        (f["hex_only"] > 0 and f["length"] >= 8 and f["has_digit"] > 0)
        or (f["length"] >= 10 and f["digit_switches"] >= 3)
        or (letters >= 7 and f["vowel_share"] == 0)
        or (f["length"] >= 8 and f["lm_vs_uniform"] < 0)
    )
