"""The character-level numbers for a batch of labels: how a character 4-gram model of benign
names likes each label (per-symbol log probability, its worst symbol, its ratio to uniformly
random characters, and to a bigram model of generated names), and the label's shape (length,
digits, vowels, consonant runs, entropy, hex). Row sums run left to right (`np.cumsum`), so a
label's numbers do not depend on how wide its batch is padded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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
CHAR_FEATURES = (
    "lm_mean", "lm_min", "lm_vs_uniform", "lm_surprising", "dga_vs_benign",
    "length", "log_length", "digit_share", "has_digit", "digit_switches", "vowel_share",
    "consonant_run", "entropy", "distinct_share", "hex_only", "hyphens",
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


_PAD = 3  # start symbols before a label, for the 4-gram model
_VOWEL = np.array([c in VOWELS for c in CODE], dtype=bool)
_CONSONANT = np.array([c in CONSONANTS for c in CODE], dtype=bool)
_DIGIT = np.array([c in DIGITS for c in CODE], dtype=bool)
_HEX = np.array([c in HEX for c in CODE], dtype=bool)
_TO_CODE = bytes.maketrans("".join(CODE).encode("ascii"), bytes(range(SYMBOLS)))


def char_features(labels: Sequence[str], benign: Matrix, generated: Matrix) -> Matrix:
    """One row per non-empty label of a-z, 0-9 and hyphens (columns: CHAR_FEATURES), from the
    dense benign 4-gram and generated-name bigram tables."""
    codes, inside = _encode(labels)
    return np.column_stack(
        [_char_model_features(codes, inside, benign, generated), _shape(codes, inside)]
    )


def _row_sum(values: npt.NDArray[np.generic]) -> Matrix:
    return np.asarray(np.cumsum(values, axis=1, dtype=np.float64)[:, -1])


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
    codes: npt.NDArray[np.int64], inside: npt.NDArray[np.bool_], benign: Matrix, bigrams: Matrix
) -> Matrix:
    ends = np.zeros_like(inside)
    ends[np.arange(len(codes)), inside.sum(1) + _PAD] = True
    scored = (inside | ends)[:, _PAD:]  # column j: the n-gram ending at position j + 3
    four = ((codes[:, :-3] * SYMBOLS + codes[:, 1:-2]) * SYMBOLS + codes[:, 2:-1]) * SYMBOLS
    logps = np.where(scored, benign[four + codes[:, 3:]], 0.0)
    two = codes[:, 2:-1] * SYMBOLS + codes[:, 3:]
    generated = np.where(scored, bigrams[two], 0.0)
    count = scored.sum(1)
    total = _row_sum(logps)
    return np.column_stack(
        [
            total / count,
            np.where(scored, logps, np.inf).min(1),
            total - count * UNIFORM,
            (scored & (logps < UNIFORM)).sum(1) / count,
            (_row_sum(generated) - total) / count,
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
    entropy = -_row_sum(share * np.log(np.where(share > 0, share, 1.0)))
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
