"""The numbers the classifier sees for one registrable label (shared by inference and training).

Three groups: how a character 4-gram model of benign names likes the label (per-symbol log
probability, its worst symbol, its ratio to uniformly random characters, and to a bigram model
of generated names); the label's shape (length, digits, vowels, consonant runs, entropy, hex);
and how it splits into English words: the cheapest segmentation over a ranked lexicon, how much
of the label it covers, and whether its words are ones benign names use ("online", "cloud")
or common English that names avoid ("them", "indeed"): the word-pair signal.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

BOUNDARY_START = "^"
BOUNDARY_END = "$"
ALPHABET = 38  # a-z, 0-9, hyphen, end of label
UNIFORM = math.log(1 / ALPHABET)
VOWELS = frozenset("aeiouy")
CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")
HEX = frozenset("0123456789abcdef")
DIGITS = frozenset("0123456789")
MIN_WORD = 3  # shorter lexicon entries glue segmentations together but count as no word

FEATURES = (
    "length", "log_length", "lm_mean", "lm_min", "lm_vs_uniform", "lm_surprising",
    "dga_vs_benign", "digit_share", "has_digit", "digit_switches", "vowel_share",
    "consonant_run", "entropy", "distinct_share", "hex_only", "hyphens",
    "word_cover", "words", "segments", "all_words", "word_fit_sum", "word_fit_min",
    "word_fit_mean", "word_cost_mean",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CharModel:
    """A back-off character n-gram model: log P of seen n-grams, back-off weights of contexts."""

    order: int
    logp: dict[str, float]
    backoff: dict[str, float]

    def symbol_logps(self, label: str) -> list[float]:
        """log P of each character of `label` and of its end, given the characters before."""
        pad = BOUNDARY_START * (self.order - 1)
        text = pad + label + BOUNDARY_END
        return [self._logp(text[i - self.order + 1 : i + 1]) for i in range(len(pad), len(text))]

    def _logp(self, gram: str) -> float:
        penalty = 0.0
        while gram:
            value = self.logp.get(gram)
            if value is not None:
                return penalty + value
            penalty += self.backoff.get(gram[:-1], 0.0)
            gram = gram[1:]
        return penalty + UNIFORM


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Word costs for segmentation (-log of a Zipf probability by rank) and each word's fit
    with benign names: log((count in benign segmentations + 1) / (count expected from its
    English frequency + 1))."""

    cost: dict[str, float]
    prefixes: frozenset[str]
    unknown: float  # cost of one character that starts no word
    fit: dict[str, float]

    def segment(self, text: str) -> list[str]:
        """The cheapest split of `text` into lexicon words and single unknown characters."""
        size = len(text)
        best = [0.0] + [math.inf] * size
        back = [0] * (size + 1)
        for start in range(size):
            base = best[start]
            _relax(best, back, start + 1, base + self.unknown, start)
            for end in range(start + 2, size + 1):
                piece = text[start:end]
                if piece not in self.prefixes:
                    break
                cost = self.cost.get(piece)
                if cost is not None:
                    _relax(best, back, end, base + cost, start)
        return _walk_back(text, back)


def _relax(best: list[float], back: list[int], end: int, value: float, start: int) -> None:
    if value < best[end]:
        best[end] = value
        back[end] = start


def _walk_back(text: str, back: list[int]) -> list[str]:
    pieces: list[str] = []
    end = len(text)
    while end > 0:
        pieces.append(text[back[end] : end])
        end = back[end]
    return pieces[::-1]


@dataclass(frozen=True, slots=True)
class Tables:
    """Everything `features` reads."""

    benign: CharModel
    generated: CharModel
    lexicon: Lexicon


def features(label: str, tables: Tables) -> list[float]:
    """The feature vector of a non-empty label of a-z, 0-9 and hyphens (order: FEATURES)."""
    return _char_model_features(label, tables) + _shape(label) + _word_features(label, tables)


def _char_model_features(label: str, tables: Tables) -> list[float]:
    logps = tables.benign.symbol_logps(label)
    generated = tables.generated.symbol_logps(label)
    count = len(logps)
    total = sum(logps)
    return [
        total / count,
        min(logps),
        total - count * UNIFORM,
        sum(1 for value in logps if value < UNIFORM) / count,
        (sum(generated) - total) / count,
    ]


def _shape(label: str) -> list[float]:
    size = len(label)
    digits = sum(1 for char in label if char in DIGITS)
    switches = sum(1 for a, b in itertools.pairwise(label) if (a in DIGITS) != (b in DIGITS))
    counts = [label.count(char) for char in set(label)]
    entropy = -sum(n / size * math.log(n / size) for n in counts)
    return [
        float(size),
        math.log(size),
        digits / size,
        float(digits > 0),
        float(switches),
        sum(1 for char in label if char in VOWELS) / size,
        float(_longest_run(label, CONSONANTS)),
        entropy,
        len(counts) / size,
        float(size >= 6 and set(label) <= HEX),
        float(label.count("-")),
    ]


def _longest_run(label: str, members: frozenset[str]) -> int:
    longest = current = 0
    for char in label:
        current = current + 1 if char in members else 0
        longest = max(longest, current)
    return longest


def _word_features(label: str, tables: Tables) -> list[float]:
    lexicon = tables.lexicon
    pieces = [piece for part in label.split("-") if part for piece in lexicon.segment(part)]
    words = [piece for piece in pieces if len(piece) >= MIN_WORD and piece in lexicon.cost]
    covered = sum(len(piece) for piece in pieces if piece in lexicon.cost)
    fits = [lexicon.fit.get(word, 0.0) for word in words] or [0.0]
    costs = [lexicon.cost[word] for word in words] or [0.0]
    cover = covered / len(label)
    return [
        cover,
        float(len(words)),
        float(len(pieces)),
        float(cover == 1.0 and len(words) >= 2),
        sum(fits),
        min(fits),
        sum(fits) / len(fits),
        sum(costs) / len(costs),
    ]
