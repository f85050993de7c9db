"""The trained parameters: read from JSON, checked, turned into scores.

Three heads read the same features: a logistic regression, which carries the word-pair
evidence from one dictionary family to another, a one-hidden-layer network, which sharpens
the character-level shapes, and boosted trees, which cut the short random names (5-9
letters) from the benign ones more finely. A label's score is the largest of the three.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from enrichment.dga._chars import CharModel, Matrix
from enrichment.dga._features import FEATURES, Tables, features
from enrichment.dga._trees import Trees, check
from enrichment.dga._words import Lexicon

FORMAT = "pivot-dga/3"
CHUNK = 2048  # labels per NumPy batch: bounded memory, still fast
SINGLE_LETTER_WORDS = "ai"  # covered text in a split, never counted as words


class ModelError(ValueError):
    """The model file is missing, is not the JSON `tools/train_dga.py` writes, or is corrupt."""


@dataclass(frozen=True, slots=True)
class Heads:
    """Standardisation and the classifier heads, as arrays (no trees only while training)."""

    mean: Matrix
    scale: Matrix
    hidden_w: Matrix
    hidden_b: Matrix
    out_w: Matrix
    out_b: float
    linear_w: Matrix
    linear_b: float
    trees: Trees | None

    def scores(self, rows: Matrix) -> Matrix:
        # element-wise products summed per row, not BLAS: a label scores the same in any batch
        z = (rows - self.mean) / self.scale
        hidden = np.tanh((z[:, :, None] * self.hidden_w).sum(axis=1) + self.hidden_b)
        network = (hidden * self.out_w).sum(axis=1) + self.out_b
        linear = (z * self.linear_w).sum(axis=1) + self.linear_b
        best = np.maximum(network, linear)
        if self.trees is not None:
            best = np.maximum(best, self.trees.logits(rows))
        return _sigmoid(best)


def _sigmoid(x: Matrix) -> Matrix:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -50.0, 50.0))), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Model:
    tables: Tables
    heads: Heads
    thresholds: dict[str, float]

    def score_labels(self, labels: Sequence[str]) -> list[float]:
        """Scores of clean labels (non-empty, a-z 0-9 hyphen), in order. Batched by length
        (the word split is cheaper on labels of one width); a label's score does not depend
        on its batch."""
        order = sorted(range(len(labels)), key=lambda i: len(labels[i]))
        scores = np.zeros(len(labels))
        for start in range(0, len(order), CHUNK):
            chunk = order[start : start + CHUNK]
            rows = features([labels[i] for i in chunk], self.tables)
            scores[chunk] = self.heads.scores(rows)
        return [float(x) for x in scores]


def load(path: Path) -> Model:
    """Read and check a model file; ModelError says what is wrong with it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"cannot read DGA model {path}: {error}") from error
    try:
        return _build(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelError(f"corrupt DGA model {path}: {error!r}") from error


def _build(raw: Any) -> Model:
    if raw.get("format") != FORMAT:
        raise ValueError(f"format is {raw.get('format')!r}, expected {FORMAT!r}")
    if tuple(raw["features"]) != FEATURES:
        raise ValueError("feature list differs from this code's")
    tables = Tables(_char_model(raw["benign_lm"]), _char_model(raw["dga_lm"]), _lexicon(raw))
    thresholds = {str(k): _finite(v) for k, v in raw["thresholds"].items()}
    return Model(tables, _heads(raw["heads"]), thresholds)


def _char_model(raw: Any) -> CharModel:
    order = int(raw["order"])
    logp = {str(k): _finite(v) for k, v in raw["logp"].items()}
    backoff = {str(k): _finite(v) for k, v in raw["backoff"].items()}
    if not 1 <= order <= 6 or not logp or any(len(k) > order for k in logp):
        raise ValueError("character model has a bad order or no n-grams")
    return CharModel(order, logp, backoff)


def _lexicon(raw: Any) -> Lexicon:
    words = str(raw["lexicon"]["words"]).split()
    benign = {str(k): int(v) for k, v in raw["lexicon"]["benign_counts"].items()}
    total = int(raw["lexicon"]["benign_total"])
    if len(words) < 100 or total <= 0:
        raise ValueError("lexicon is too small")
    return lexicon_from_ranks(words, benign, total)


def lexicon_from_ranks(words: Sequence[str], benign: dict[str, int], total: int) -> Lexicon:
    """Costs from rank (Zipf), fits from benign word counts; also used by training. One-letter
    words only mark covered text; the rest are what splits are made of."""
    scale = math.log(len(words))
    harmonic = sum(1.0 / rank for rank in range(1, len(words) + 1))
    seen: set[str] = set()
    kept: list[str] = []
    cost: list[float] = []
    fit: list[float] = []
    for rank, word in enumerate(words, start=1):
        if word in seen or len(word) < 2:
            continue
        seen.add(word)
        kept.append(word)
        cost.append(math.log(rank * scale))
        expected = total / (rank * harmonic)
        fit.append(math.log((benign.get(word, 0) + 1) / (expected + 1)))
    singles = "".join(sorted(set(SINGLE_LETTER_WORDS) & set(words)))
    return Lexicon(
        tuple(kept), np.array(cost), np.array(fit), math.log(len(words) * scale) + 3.0, singles
    )


def _heads(raw: Any) -> Heads:
    width = len(FEATURES)
    heads = Heads(
        mean=_array(raw["mean"], (width,)),
        scale=_array(raw["scale"], (width,)),
        hidden_w=_array(raw["hidden_w"], (width, len(raw["hidden_b"]))),
        hidden_b=_array(raw["hidden_b"], (len(raw["hidden_b"]),)),
        out_w=_array(raw["out_w"], (len(raw["hidden_b"]),)),
        out_b=_finite(raw["out_b"]),
        linear_w=_array(raw["linear_w"], (width,)),
        linear_b=_finite(raw["linear_b"]),
        trees=_trees(raw["trees"]),
    )
    if not np.all(heads.scale > 0):
        raise ValueError("feature scales must be positive")
    return heads


def _trees(raw: Any) -> Trees:
    trees = Trees(
        feature=np.asarray(raw["feature"], dtype=np.int64),
        threshold=np.asarray(raw["threshold"], dtype=np.float64),
        value=np.asarray(raw["value"], dtype=np.float64),
        baseline=_finite(raw["baseline"]),
    )
    return check(trees, len(FEATURES))


def _array(raw: Any, shape: tuple[int, ...]) -> Matrix:
    array = np.asarray(raw, dtype=np.float64)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"expected a finite array of shape {shape}, got {array.shape}")
    return array


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number
