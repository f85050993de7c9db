"""The numbers the classifier sees for one registrable label (shared by inference and training).

Three groups: how a character 4-gram model of benign names likes the label (per-symbol log
probability, its worst symbol, its ratio to uniformly random characters, and to a bigram model
of generated names); the label's shape (length, digits, vowels, consonant runs, entropy, hex);
and how it splits into English words: the cheapest segmentation over a ranked lexicon, how much
of the label it covers, and whether its words are ones benign names use ("online", "cloud")
or common English that names avoid ("them", "indeed"): the word-pair signal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]

BOUNDARY_START = "^"
BOUNDARY_END = "$"
ALPHABET = 38  # what a label's next symbol can be: a-z, 0-9, hyphen, its end
SYMBOLS = ALPHABET + 1  # and the start padding
CODE = {char: i for i, char in enumerate("abcdefghijklmnopqrstuvwxyz0123456789-$^")}
UNIFORM = math.log(1 / ALPHABET)
VOWELS = frozenset("aeiouy")
CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")
HEX = frozenset("0123456789abcdef")
DIGITS = frozenset("0123456789")
MIN_WORD = 3  # shorter lexicon entries glue segmentations together but count as no word

FEATURES = (
    "lm_mean", "lm_min", "lm_vs_uniform", "lm_surprising", "dga_vs_benign",
    "length", "log_length", "digit_share", "has_digit", "digit_switches", "vowel_share",
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

    def dense(self) -> Matrix:
        """log P(last symbol | the others) for every n-gram of the order, flat, back-off
        resolved: entry ((a * 39 + b) * 39 + c) * 39 + d for order 4."""
        table = np.full(SYMBOLS, UNIFORM + self.backoff.get("", 0.0))
        table = self._seen(table, 1)
        for k in range(2, self.order + 1):
            weights = np.zeros((SYMBOLS,) * (k - 1))
            for context, value in self.backoff.items():
                if len(context) == k - 1:
                    weights[_index(context)] = value
            table = self._seen(weights[..., None] + table[None, ...], k)
        return table.reshape(-1)

    def _seen(self, table: Matrix, k: int) -> Matrix:
        for gram, value in self.logp.items():
            if len(gram) == k:
                table[_index(gram)] = value
        return table


def _index(gram: str) -> tuple[int, ...]:
    return tuple(CODE[char] for char in gram)


@dataclass(frozen=True)
class Lexicon:
    """Word costs for segmentation (-log of a Zipf probability by rank) and each word's fit
    with benign names: log((count in benign segmentations + 1) / (count expected from its
    English frequency + 1))."""

    cost: dict[str, float]
    unknown: float  # cost of one character that starts no word
    fit: dict[str, float]
    prefixes: dict[str, float] = field(init=False, repr=False)  # word cost, inf for non-words

    def __post_init__(self) -> None:
        table = {word[:end]: math.inf for word in self.cost for end in range(2, len(word))}
        object.__setattr__(self, "prefixes", table | self.cost)

    def pieces(self, label: str) -> list[str]:
        """The segments of each hyphen-separated part of `label`, in order."""
        return [piece for part in label.split("-") if part for piece in self.segment(part)]

    def segment(self, text: str) -> list[str]:
        """The cheapest split of `text` into lexicon words and single unknown characters."""
        size = len(text)
        best = [0.0] + [math.inf] * size
        back = list(range(-1, size))  # by default, one unknown character
        unknown, prefixes = self.unknown, self.prefixes
        for start in range(size):
            base = best[start]
            if base + unknown < best[start + 1]:
                best[start + 1] = base + unknown
                back[start + 1] = start
            for end in range(start + 2, size + 1):
                cost = prefixes.get(text[start:end])
                if cost is None:
                    break
                if base + cost < best[end]:
                    best[end] = base + cost
                    back[end] = start
        return _walk_back(text, back)


def _walk_back(text: str, back: list[int]) -> list[str]:
    pieces: list[str] = []
    end = len(text)
    while end > 0:
        pieces.append(text[back[end] : end])
        end = back[end]
    return pieces[::-1]


@dataclass(frozen=True)
class Tables:
    """Everything `features` reads; the character models as dense back-off-resolved tables."""

    benign: CharModel
    generated: CharModel
    lexicon: Lexicon
    benign_dense: Matrix = field(init=False, repr=False)
    generated_dense: Matrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "benign_dense", self.benign.dense())
        object.__setattr__(self, "generated_dense", self.generated.dense())


_PAD = 3  # start symbols before a label, for the 4-gram model
_VOWEL = np.array([c in VOWELS for c in CODE], dtype=bool)
_CONSONANT = np.array([c in CONSONANTS for c in CODE], dtype=bool)
_DIGIT = np.array([c in DIGITS for c in CODE], dtype=bool)
_HEX = np.array([c in HEX for c in CODE], dtype=bool)
_TO_CODE = bytes.maketrans("".join(CODE).encode("ascii"), bytes(range(SYMBOLS)))


def features(labels: Sequence[str], tables: Tables) -> Matrix:
    """One row per non-empty label of a-z, 0-9 and hyphens (columns: FEATURES)."""
    codes, inside = _encode(labels)
    words = np.array([_word_features(label, tables.lexicon) for label in labels])
    return np.column_stack(
        [_char_model_features(codes, inside, tables), _shape(codes, inside), words]
    )


def _encode(labels: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Symbol codes, `^^^label$` padded with `$`, and which positions hold the label."""
    width = _PAD + max(len(label) for label in labels) + 1
    text = "".join((BOUNDARY_START * _PAD + label).ljust(width, BOUNDARY_END) for label in labels)
    raw = np.frombuffer(text.encode("ascii").translate(_TO_CODE), dtype=np.uint8)
    codes = raw.reshape(len(labels), width).astype(np.int64)
    lengths = np.array([len(label) for label in labels])
    positions = np.arange(width) - _PAD
    return codes, (positions >= 0) & (positions < lengths[:, None])


def _char_model_features(
    codes: npt.NDArray[np.int64], inside: npt.NDArray[np.bool_], tables: Tables
) -> Matrix:
    ends = np.zeros_like(inside)
    ends[np.arange(len(codes)), inside.sum(1) + _PAD] = True
    scored = (inside | ends)[:, _PAD:]  # column j: the n-gram ending at position j + 3
    four = ((codes[:, :-3] * SYMBOLS + codes[:, 1:-2]) * SYMBOLS + codes[:, 2:-1]) * SYMBOLS
    logps = np.where(scored, tables.benign_dense[four + codes[:, 3:]], 0.0)
    two = codes[:, 2:-1] * SYMBOLS + codes[:, 3:]
    generated = np.where(scored, tables.generated_dense[two], 0.0)
    count = scored.sum(1)
    total = logps.sum(1)
    return np.column_stack(
        [
            total / count,
            np.where(scored, logps, np.inf).min(1),
            total - count * UNIFORM,
            (scored & (logps < UNIFORM)).sum(1) / count,
            (generated.sum(1) - total) / count,
        ]
    )


def _shape(codes: npt.NDArray[np.int64], inside: npt.NDArray[np.bool_]) -> Matrix:
    size = inside.sum(1)
    digit = _DIGIT[codes] & inside
    digits = digit.sum(1)
    switches = (digit[:, 1:] != digit[:, :-1]) & inside[:, 1:] & inside[:, :-1]
    cells = (np.arange(len(codes))[:, None] * SYMBOLS + codes)[inside]
    counts = np.bincount(cells, minlength=len(codes) * SYMBOLS).reshape(-1, SYMBOLS)
    share = counts / size[:, None]
    entropy = -(share * np.log(np.where(share > 0, share, 1.0))).sum(1)
    return np.column_stack(
        [
            size,
            np.log(size),
            digits / size,
            digits > 0,
            switches.sum(1),
            (_VOWEL[codes] & inside).sum(1) / size,
            _longest_run(_CONSONANT[codes] & inside),
            entropy,
            (counts > 0).sum(1) / size,
            (size >= 6) & ((_HEX[codes] | ~inside).all(1)),
            counts[:, CODE["-"]],
        ]
    ).astype(np.float64)


def _longest_run(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    running = np.cumsum(mask, axis=1)
    reset = np.maximum.accumulate(np.where(mask, 0, running), axis=1)
    return np.asarray((running - reset).max(1), dtype=np.int64)


def _word_features(label: str, lexicon: Lexicon) -> list[float]:
    pieces = lexicon.pieces(label)
    covered = 0
    fits: list[float] = []
    costs: list[float] = []
    for piece in pieces:
        cost = lexicon.cost.get(piece)
        if cost is None:
            continue
        covered += len(piece)
        if len(piece) >= MIN_WORD:
            costs.append(cost)
            fits.append(lexicon.fit[piece])
    cover = covered / len(label)
    fit_sum = sum(fits)
    return [
        cover,
        float(len(costs)),
        float(len(pieces)),
        float(cover == 1.0 and len(costs) >= 2),
        fit_sum,
        min(fits, default=0.0),
        fit_sum / len(fits) if fits else 0.0,
        sum(costs) / len(costs) if costs else 0.0,
    ]
