"""Train the DGA detector into `enrichment/dga/model.json`. Deterministic: same data, same file.

    pip install wordninja==2.0.0   # training only: its ranked English word list
    python tools/train_dga.py [--data /work/shared/data/dga] [--out enrichment/dga/model.json]

Steps: take each name's registrable label (private suffixes count, so `x.ddns.net` gives `x`);
fit a character 4-gram model on the benign labels and a bigram model on the DGA labels; count
how often each lexicon word appears in benign labels; compute every label's features, those
of benign training labels from models fitted without them (5-fold), so benign and held-out
names look alike to the classifier. The benign list is noisy (the data's README): each name is
weighted by how many of the 19 daily snapshots held it, and suspects weigh 5%: names shaped
like generated ones (hex, letter-digit mixes, no vowels, or no likelier under the benign
model than random characters), and names that a model trained without them calls DGA.
Only parameters are written: n-gram log-probabilities, a public English word list with one
count per word, feature scales, weights, thresholds. No training name is.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import math
import sys
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from enrichment.dga._features import (
    ALPHABET,
    BOUNDARY_END,
    BOUNDARY_START,
    FEATURES,
    CharModel,
    Matrix,
    Tables,
    features,
)
from enrichment.dga._model import FORMAT, Heads, lexicon_from_ranks
from enrichment.dga._text import clean_label, domain_label

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data/dga")
OUT = ROOT / "enrichment/dga/model.json"
LEXICON_SIZE = 20_000
SHORT_WORDS = frozenset(
    {"a", "i", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me"}
    | {"my", "no", "of", "on", "or", "so", "to", "up", "us", "we"}
)
DISCOUNT = 0.75
CROSS_FOLDS = 5
SUSPECT_WEIGHT = 0.05
HIDDEN = 16
SEED = 0


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


def benign_word_counts(labels: Iterable[str], words: list[str]) -> Counter[str]:
    lexicon = lexicon_from_ranks(words, {}, 1)
    return Counter(
        piece
        for label in labels
        for part in label.split("-")
        if part
        for piece in lexicon.segment(part)
        if len(piece) >= 3 and piece in lexicon.cost
    )


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
    return features(labels, tables)


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


def looks_generated(row: Matrix) -> bool:
    """A benign-list name shaped like a generated one, from its features (a suspect, not a
    verdict): long hex, many letter-digit switches, no vowels, or no likelier under the benign
    model than random characters."""
    f = dict(zip(FEATURES, row.tolist(), strict=True))
    letters = f["length"] * (1 - f["digit_share"]) - f["hyphens"]
    return bool(
        (f["hex_only"] > 0 and f["length"] >= 8 and f["has_digit"] > 0)
        or (f["length"] >= 10 and f["digit_switches"] >= 3)
        or (letters >= 7 and f["vowel_share"] == 0)
        or (f["length"] >= 8 and f["lm_vs_uniform"] < 0)
    )


def _standardise(x: Matrix) -> tuple[Matrix, Matrix]:
    return x.mean(axis=0), x.std(axis=0) + 1e-9


def fit_linear(z: Matrix, y: Matrix, w: Matrix, l2: float = 1e-3) -> Matrix:
    """Weighted L2 logistic regression by Newton's method; the last entry is the bias."""
    zb = np.c_[z, np.ones(len(z))]
    beta = np.zeros(zb.shape[1])
    w = w / w.sum()
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-zb @ beta))
        hessian = (zb * (w * p * (1 - p))[:, None]).T @ zb + l2 * np.eye(len(beta))
        step = np.linalg.solve(hessian, zb.T @ ((p - y) * w) + l2 * beta)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def fit_network(z: Matrix, y: Matrix, w: Matrix, epochs: int = 40) -> list[Matrix]:
    """One tanh hidden layer, weighted log loss, Adam, fixed seed: [W1, b1, w2, b2]."""
    rng = np.random.default_rng(SEED)
    params = [
        rng.normal(0, 1 / math.sqrt(z.shape[1]), (z.shape[1], HIDDEN)),
        np.zeros(HIDDEN),
        rng.normal(0, 1 / math.sqrt(HIDDEN), HIDDEN),
        np.zeros(1),
    ]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    w = w / w.mean()
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), 128):
            batch = order[start : start + 128]
            step += 1
            grads = _network_grads(params, z[batch], y[batch], w[batch])
            for i, grad in enumerate(grads):
                moments[i] = 0.9 * moments[i] + 0.1 * grad
                squares[i] = 0.999 * squares[i] + 0.001 * grad * grad
                m_hat = moments[i] / (1 - 0.9**step)
                v_hat = squares[i] / (1 - 0.999**step)
                params[i] -= 0.003 * m_hat / (np.sqrt(v_hat) + 1e-8)
    return params


def _network_grads(params: list[Matrix], z: Matrix, y: Matrix, w: Matrix) -> list[Matrix]:
    w1, b1, w2, b2 = params
    hidden = np.tanh(z @ w1 + b1)
    p = 1.0 / (1.0 + np.exp(-(hidden @ w2 + b2[0])))
    g = (p - y) * w / len(y)
    g_hidden = np.outer(g, w2) * (1 - hidden * hidden)
    l2 = 1e-3
    return [z.T @ g_hidden + l2 * w1, g_hidden.sum(0), hidden.T @ g + l2 * w2, np.array([g.sum()])]


def fit_heads(x: Matrix, y: Matrix, w: Matrix) -> Heads:
    mean, scale = _standardise(x)
    z = (x - mean) / scale
    beta = fit_linear(z, y, w)
    w1, b1, w2, b2 = fit_network(z, y, w)
    return Heads(mean, scale, w1, b1, w2, float(b2[0]), beta[:-1], float(beta[-1]))


def balanced(benign_w: Matrix, n_dga: int) -> Matrix:
    """Both sides weigh the same in total."""
    return np.concatenate([benign_w * n_dga / benign_w.sum(), np.ones(n_dga)])


def out_of_fold(xb: Matrix, xd: Matrix, wb: Matrix, folds: int = 4) -> Matrix:
    """Each benign row scored by heads trained without its fold (and with every DGA row)."""
    part = np.arange(len(xb)) % folds
    scores = np.zeros(len(xb))
    for k in range(folds):
        keep = part != k
        x = np.vstack([xb[keep], xd])
        y = np.r_[np.zeros(keep.sum()), np.ones(len(xd))]
        scores[~keep] = fit_heads(x, y, balanced(wb[keep], len(xd))).scores(xb[~keep])
    return scores


@dataclass(frozen=True)
class Fitted:
    parts: Parts
    heads: Heads
    thresholds: dict[str, float]


def fit(
    benign: dict[str, int], dga: Sequence[str], words: list[str], *, thresholds: bool = True
) -> Fitted:
    """The whole model from benign labels (with their days) and DGA labels."""
    labels = sorted(benign)
    xb = crossfit_benign(labels, dga, words)
    parts = fit_parts(labels, dga, words)
    xd = matrix(dga, parts.tables())
    suspect = np.array([looks_generated(row) for row in xb])
    days = np.array([benign[b] for b in labels], dtype=np.float64)
    wb = (0.2 + 0.8 * days / 19) * np.where(suspect, SUSPECT_WEIGHT, 1.0)
    wb = np.where(out_of_fold(xb, xd, wb) > 0.5, wb * SUSPECT_WEIGHT, wb)
    x, y = np.vstack([xb, xd]), np.r_[np.zeros(len(xb)), np.ones(len(xd))]
    heads = fit_heads(x, y, balanced(wb, len(xd)))
    cuts: dict[str, float] = {}
    if thresholds:
        clean = out_of_fold(xb, xd, wb)[~suspect]
        cuts = {
            "fpr_1pct": float(np.quantile(clean, 0.99)),
            "fpr_0.1pct": float(np.quantile(clean, 0.999)),
        }
    return Fitted(parts, heads, cuts)


def _rounded(values: Matrix) -> Any:
    return np.round(values, 6).tolist()


def to_json(fitted: Fitted) -> dict[str, Any]:
    h = fitted.heads
    return {
        "format": FORMAT,
        "notice": "Lexicon: wordninja's English word list, (c) 2017 Derek Anderson, MIT licence.",
        "features": list(FEATURES),
        "thresholds": {k: round(v, 6) for k, v in fitted.thresholds.items()},
        "benign_lm": fitted.parts.benign_lm,
        "dga_lm": fitted.parts.dga_lm,
        "lexicon": {
            "words": " ".join(fitted.parts.words),
            "benign_total": sum(fitted.parts.counts.values()),
            "benign_counts": dict(sorted(fitted.parts.counts.items())),
        },
        "heads": {
            "mean": _rounded(h.mean), "scale": _rounded(h.scale),
            "hidden_w": _rounded(h.hidden_w), "hidden_b": _rounded(h.hidden_b),
            "out_w": _rounded(h.out_w), "out_b": round(h.out_b, 6),
            "linear_w": _rounded(h.linear_w), "linear_b": round(h.linear_b, 6),
        },
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = load_data(args.data)
    fitted = fit(data.benign, [label for _, label in data.dga], lexicon_words())
    text = json.dumps(to_json(fitted), separators=(",", ":"), sort_keys=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(text) / 1e3:.0f} kB), thresholds {fitted.thresholds}")


if __name__ == "__main__":
    main()
