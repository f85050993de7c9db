"""How a label splits into English words, for a whole batch of labels at once in NumPy.

The split is the cheapest segmentation over a ranked lexicon (a word costs -log of its Zipf
probability, a character that starts no word costs more than any word, a hyphen costs nothing
and ends any word). Words are found by hashing every window of a label and looking the hashes up
in the lexicon's sorted hash table; the dynamic programme and the walk back run one position at
a time over all labels of a batch. Each label's result depends on that label alone, whatever the
batch: every step is element-wise, in a fixed order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int64]

MIN_WORD = 3  # shorter words glue segmentations together but count as no word
WORD_FEATURES = (
    "word_cover", "words", "segments", "all_words", "word_fit_sum", "word_fit_min",
    "word_fit_mean", "word_cost_mean",
)  # fmt: skip
_BASE = 0x100000001B3  # odd: a window's hash mixes all its letters (modulo 2**64)
_MIX = 0x9E3779B97F4A7C15  # folds a window's length into its key
_WRAP = 1 << 64
_HYPHEN = 27  # a letter code that is no letter: digits are 0, the hyphen this
_INF = math.inf


def letter_codes(labels: Sequence[str], width: int) -> Codes:
    """a-z as 1..26, the hyphen as 27, digits and padding as 0; one row per label."""
    text = "".join(label.ljust(width, "0") for label in labels).encode("ascii")
    raw = np.frombuffer(text.translate(_LETTER_TABLE), dtype=np.uint8)
    return raw.reshape(len(labels), width).astype(np.int64)


_LETTER_TABLE = bytes.maketrans(
    b"abcdefghijklmnopqrstuvwxyz-0123456789", bytes(range(1, 28)) + bytes(10)
)


def _keys(hashes: npt.NDArray[np.uint64], length: int) -> npt.NDArray[np.uint64]:
    return hashes ^ np.uint64(length * _MIX % _WRAP)


@dataclass(frozen=True)
class _Table:
    """An open-addressing hash table from window keys to word numbers (-1: empty slot)."""

    keys: npt.NDArray[np.uint64]
    words: npt.NDArray[np.int64]
    probes: int

    @classmethod
    def of(cls, keys: npt.NDArray[np.uint64]) -> _Table:
        size = 1 << max(10, (8 * len(keys)).bit_length())
        table = np.zeros(size, dtype=np.uint64)
        words = np.full(size, -1, dtype=np.int64)
        probes = 1
        for word, slot in enumerate(_slots(keys, size).tolist()):
            for probe in range(size):
                at = (slot + probe) & (size - 1)
                if words[at] < 0 or table[at] == keys[word]:
                    break
            if words[at] < 0:
                table[at], words[at] = keys[word], word
                probes = max(probes, probe + 1)
        return cls(table, words, probes)

    def find(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """The word of each key, -1 for none; probes further only where a slot is taken by
        another key."""
        flat = keys.reshape(-1)
        slot = _slots(flat, len(self.keys))
        found = np.full(flat.shape, -1, dtype=np.int64)
        todo = np.arange(len(flat))
        for probe in range(self.probes):
            at = (slot[todo] + probe) & (len(self.keys) - 1)
            taken = self.words[at] >= 0
            same = taken & (self.keys[at] == flat[todo])
            found[todo[same]] = self.words[at[same]]
            todo = todo[taken & ~same]
        return found.reshape(keys.shape)


def _slots(keys: npt.NDArray[np.uint64], size: int) -> npt.NDArray[np.int64]:
    mixed = keys * np.uint64(_MIX)  # Fibonacci hashing: the top bits pick the slot
    return (mixed >> np.uint64(64 - size.bit_length() + 1)).astype(np.int64)


@dataclass(frozen=True)
class Lexicon:
    """Ranked words (two letters or more), their costs, their fit with benign names
    (log((count in benign segmentations + 1) / (count expected from English + 1))) and the
    cost of one character that starts no word."""

    words: tuple[str, ...]
    cost: Matrix
    fit: Matrix
    unknown: float
    singles: str = ""  # one-letter words ("a", "i"): covered text, never counted as words
    table: _Table = field(init=False, repr=False)
    longest: int = field(init=False, repr=False)
    covered_single: npt.NDArray[np.bool_] = field(init=False, repr=False)  # "a", "i"

    def __post_init__(self) -> None:
        if not self.words or any(not w.isalpha() or not w.isascii() for w in self.words):
            raise ValueError("lexicon words must be non-empty a-z strings")
        codes = letter_codes(self.words, max(map(len, self.words)))
        hashes = np.zeros(len(self.words), dtype=np.uint64)
        for column in codes.T.astype(np.uint64):
            hashes = np.where(column > 0, hashes * np.uint64(_BASE) + column, hashes)
        mixes = [len(w) * _MIX % _WRAP for w in self.words]
        keys = hashes ^ np.array(mixes, dtype=np.uint64)
        object.__setattr__(self, "table", _Table.of(keys))
        object.__setattr__(self, "longest", max(map(len, self.words)))
        single = np.zeros(28, dtype=np.bool_)
        single[np.array([ord(c) - ord("a") + 1 for c in self.singles], dtype=np.int64)] = True
        object.__setattr__(self, "covered_single", single)

    def features(self, labels: Sequence[str]) -> Matrix:
        """One row per label (columns: WORD_FEATURES)."""
        return _walk(self, labels).features()

    def counts(self, labels: Sequence[str]) -> npt.NDArray[np.int64]:
        """How often each word of MIN_WORD letters or more is a piece of these labels' splits."""
        found = _walk(self, labels).found
        return np.bincount(found[found >= 0], minlength=len(self.words))


def _window_costs(lexicon: Lexicon, codes: Codes) -> list[tuple[Matrix, Codes]]:
    """For each word length k (index k), the cost and word of the window starting at each
    position (inf and -1 where the window is no lexicon word)."""
    rows, width = codes.shape
    letter = (codes >= 1) & (codes <= 26)
    prefix = np.zeros((rows, width + 1), dtype=np.uint64)
    for i in range(width):
        prefix[:, i + 1] = prefix[:, i] * np.uint64(_BASE) + codes[:, i].astype(np.uint64)
    breaks = np.concatenate([np.zeros((rows, 1), np.int64), np.cumsum(~letter, axis=1)], axis=1)
    windows: list[tuple[Matrix, Codes]] = [(np.zeros((rows, 0)), np.zeros((rows, 0), np.int64))]
    windows.append(windows[0])
    for k in range(2, min(lexicon.longest, width) + 1):
        hashes = prefix[:, k:] - prefix[:, :-k] * np.uint64(pow(_BASE, k, _WRAP))
        word = lexicon.table.find(_keys(hashes, k))
        hit = (word >= 0) & (breaks[:, k:] == breaks[:, :-k])
        word = np.where(hit, word, -1)
        windows.append((np.where(hit, lexicon.cost[word], _INF), word))
    return windows


@dataclass
class _Walk:
    lengths: npt.NDArray[np.int64]
    covered: npt.NDArray[np.int64]
    segments: npt.NDArray[np.int64]
    words: npt.NDArray[np.int64]
    cost_sum: Matrix
    fit_sum: Matrix
    fit_min: Matrix
    found: npt.NDArray[np.int64]  # word per (label, step), -1 for none

    def features(self) -> Matrix:
        # hyphens count as uncovered: measured, reading across them made hyphenated real
        # names ("resultados-futbol") look like glued word pairs and lost more than it gained
        cover = self.covered / np.maximum(self.lengths, 1)
        some = np.maximum(self.words, 1)
        has = self.words > 0
        return np.column_stack(
            [
                cover,
                self.words,
                self.segments,
                (cover == 1.0) & (self.words >= 2),
                self.fit_sum,
                np.where(has, self.fit_min, 0.0),
                np.where(has, self.fit_sum / some, 0.0),
                np.where(has, self.cost_sum / some, 0.0),
            ]
        ).astype(np.float64)


def _walk(lexicon: Lexicon, labels: Sequence[str]) -> _Walk:
    """The cheapest split of every label, then the walk back along it, summing as it goes."""
    width = max((len(label) for label in labels), default=0)
    codes = letter_codes(labels, width)
    back = _split(lexicon, codes)
    rows = np.arange(len(labels))
    lengths = np.array([len(label) for label in labels], dtype=np.int64)
    count = len(labels)
    walk = _Walk(
        lengths=lengths,
        covered=np.zeros(count, np.int64),
        segments=np.zeros(count, np.int64),
        words=np.zeros(count, np.int64),
        cost_sum=np.zeros(count),
        fit_sum=np.zeros(count),
        fit_min=np.full(count, _INF),
        found=np.full((count, width), -1, dtype=np.int64),
    )
    position = lengths.copy()
    for step in range(width):
        live = position > 0
        if not live.any():
            break
        at = np.maximum(position, 1)
        size = np.where(live, back[rows, at, 0], 0)
        word = np.where(live & (size >= MIN_WORD), back[rows, at, 1], -1)
        char = codes[rows, at - 1]
        single = live & (size == 1)
        walk.covered += np.where(size >= 2, size, 0) + (single & lexicon.covered_single[char])
        walk.segments += live & ~(single & (char == _HYPHEN))
        counted = word >= 0
        walk.words += counted
        walk.cost_sum += np.where(counted, lexicon.cost[word], 0.0)
        walk.fit_sum += np.where(counted, lexicon.fit[word], 0.0)
        walk.fit_min = np.where(counted, np.minimum(walk.fit_min, lexicon.fit[word]), walk.fit_min)
        walk.found[:, step] = word
        position = position - size
    return walk


def _split(lexicon: Lexicon, codes: Codes) -> Codes:
    """back[label, end] = (length of the last piece of the cheapest split of label[:end], its
    word or -1). Ties go to the longest piece, then to a single character."""
    rows, width = codes.shape
    windows = _window_costs(lexicon, codes)
    step_cost = np.where(codes == _HYPHEN, 0.0, lexicon.unknown)
    best = np.zeros((rows, width + 1))
    back = np.zeros((rows, width + 1, 2), dtype=np.int64)
    for end in range(1, width + 1):
        here = np.full(rows, _INF)
        size = np.zeros(rows, dtype=np.int64)
        word = np.full(rows, -1, dtype=np.int64)
        for k in range(min(end, len(windows) - 1), 1, -1):
            cost, index = windows[k]
            candidate = best[:, end - k] + cost[:, end - k]
            better = candidate < here
            here = np.where(better, candidate, here)
            size = np.where(better, k, size)
            word = np.where(better, index[:, end - k], word)
        candidate = best[:, end - 1] + step_cost[:, end - 1]
        better = candidate < here
        best[:, end] = np.where(better, candidate, here)
        back[:, end, 0] = np.where(better, 1, size)
        back[:, end, 1] = np.where(better, -1, word)
    return back
