"""The DGA trainer's tables: character n-gram models, the lexicon and its benign word counts.

Only `tools/train_dga.py` and `benchmarks/dga.py` read this; what it fits is written to the
model file as parameters (log-probabilities, back-off weights, one count per lexicon word).
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from enrichment.dga._chars import ALPHABET, BOUNDARY_END, BOUNDARY_START, CharModel, Matrix
from enrichment.dga._features import FEATURES, Tables, features
from enrichment.dga._model import lexicon_from_ranks

LEXICON_SIZE = 20_000
SHORT_WORDS = frozenset(
    {"a", "i", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me"}
    | {"my", "no", "of", "on", "or", "so", "to", "up", "us", "we"}
)
DISCOUNT = 0.75
CROSS_FOLDS = 5
CHUNK = 4096


def lexicon_words() -> list[str]:
    """wordninja's English words (from Wikipedia, MIT licence), most frequent first."""
    spec = importlib.util.find_spec("wordninja")
    if spec is None or spec.origin is None:
        raise SystemExit("training needs wordninja: pip install wordninja==2.0.0")
    path = Path(spec.origin).parent / "wordninja/wordninja_words.txt.gz"
    words = gzip.decompress(path.read_bytes()).decode("ascii").split()[:LEXICON_SIZE]
    return [w for w in words if w.isalpha() and (len(w) >= 3 or w in SHORT_WORDS)]


def fit_char_model(labels: Iterable[str], order: int, min_count: int = 1) -> dict[str, Any]:
    """Interpolated absolute discounting, stored in back-off form; n-grams of 3 or more
    characters seen fewer than `min_count` times are dropped (they back off to shorter ones)."""
    counts = _gram_counts(labels, order)
    totals: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for gram, n in counts.items():
        totals[gram[:-1]] += n
        types[gram[:-1]] += 1
    kept = sorted(g for g, n in counts.items() if len(g) < 3 or n >= min_count)
    prob = _Interpolated(counts, totals, types)
    return {
        "order": order,
        "logp": {g: round(math.log(prob(g)), 2) for g in kept},
        "backoff": {
            h: round(math.log(DISCOUNT * types[h] / totals[h]), 2)
            for h in sorted({g[:-1] for g in kept})
        },
    }


def _gram_counts(labels: Iterable[str], order: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    for label in labels:
        text = BOUNDARY_START * (order - 1) + label + BOUNDARY_END
        for end in range(order, len(text) + 1):
            counts.update(text[end - k : end] for k in range(1, order + 1))
    return counts


@dataclass
class _Interpolated:
    """P(last symbol | the others) with absolute discounting, interpolated with shorter grams."""

    counts: Counter[str]
    totals: Counter[str]
    types: Counter[str]
    memo: dict[str, float] = field(default_factory=dict)

    def __call__(self, gram: str) -> float:
        if gram not in self.memo:
            lower = self(gram[1:]) if len(gram) > 1 else 1.0 / ALPHABET
            n, kinds = self.totals[gram[:-1]], self.types[gram[:-1]]
            share = max(self.counts[gram] - DISCOUNT, 0) / n
            self.memo[gram] = share + DISCOUNT * kinds / n * lower
        return self.memo[gram]


def char_model(raw: dict[str, Any]) -> CharModel:
    return CharModel(raw["order"], raw["logp"], raw["backoff"])


def benign_word_counts(labels: Sequence[str], words: list[str]) -> Counter[str]:
    """How often each lexicon word of 3+ letters is a piece of the benign labels' splits."""
    lexicon = lexicon_from_ranks(words, {}, 1)
    total = np.zeros(len(lexicon.words), dtype=np.int64)
    for batch in _batches(labels):
        total += lexicon.counts(batch)
    return Counter({lexicon.words[i]: int(n) for i, n in enumerate(total.tolist()) if n})


def _batches(labels: Sequence[str]) -> Iterable[list[str]]:
    ordered = sorted(labels, key=len)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


@dataclass(frozen=True)
class Parts:
    """What `features` needs, in the JSON form the model file holds."""

    benign_lm: dict[str, Any]
    dga_lm: dict[str, Any]
    counts: Counter[str]
    words: list[str]

    def tables(self) -> Tables:
        total = max(1, sum(self.counts.values()))
        lexicon = lexicon_from_ranks(self.words, dict(self.counts), total)
        return Tables(char_model(self.benign_lm), char_model(self.dga_lm), lexicon)


def fit_parts(benign: Sequence[str], dga: Sequence[str], words: list[str]) -> Parts:
    return Parts(
        fit_char_model(benign, 4, min_count=3),
        fit_char_model(dga, 2),
        benign_word_counts(benign, words),
        words,
    )


def matrix(labels: Sequence[str], tables: Tables) -> Matrix:
    """Feature rows of `labels`, in order (computed in length-sorted batches)."""
    order = sorted(range(len(labels)), key=lambda i: len(labels[i]))
    rows = np.zeros((len(labels), len(FEATURES)))
    for start in range(0, len(order), CHUNK):
        chunk = order[start : start + CHUNK]
        rows[chunk] = features([labels[i] for i in chunk], tables)
    return rows


def fold_of(label: str, folds: int) -> int:
    return zlib.crc32(label.encode()) % folds


def crossfit_benign(benign: Sequence[str], dga: Sequence[str], words: list[str]) -> Matrix:
    """Benign features from parts fitted without the label, as held-out names would get."""
    rows = np.zeros((len(benign), len(FEATURES)))
    fold = np.array([fold_of(label, CROSS_FOLDS) for label in benign])
    dga_lm = fit_char_model(dga, 2)
    for k in range(CROSS_FOLDS):
        rest = [label for label, f in zip(benign, fold, strict=True) if f != k]
        parts = fit_parts(rest, [], words)
        tables = Parts(parts.benign_lm, dga_lm, parts.counts, words).tables()
        rows[fold == k] = matrix([b for b, f in zip(benign, fold, strict=True) if f == k], tables)
    return rows
