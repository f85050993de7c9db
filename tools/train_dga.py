"""Train the DGA detector into `enrichment/dga/model.json`. Deterministic: same data, same file.

    python -m pip install -e '.[train]'   # wordninja's word list, scikit-learn for the trees
    python tools/train_dga.py [--data /work/shared/data/dga] [--out enrichment/dga/model.json]

Steps: take each name's registrable label (private suffixes count, so `x.ddns.net` gives `x`);
fit a character 4-gram model on the benign labels and a bigram model on the DGA labels; count
how often each lexicon word appears in benign labels' splits; compute every label's features,
those of benign training labels from models fitted without them (5-fold), so benign and
held-out names look alike to the classifier. The positive side is the DGA families plus 5,000
names from generic random generators (letters long and short, letters and digits, hex,
consonant-vowel: see `dga_data.synthetic`) and 2,000 lighter runs of 4-6 common words
(`dga_data.word_runs`), so that "random" is learnt beyond the families' own styles. The
benign list is noisy (the data's README): each name is weighted by how many of the 19 daily
snapshots held it, and suspects weigh 5%: names shaped like generated ones
(`dga_data.looks_generated`), and names that a model trained without them calls DGA. Then
the three heads (`dga_heads`: regression, network, trees), and the thresholds from benign
names each scored by heads trained without them. Only parameters are written: n-gram
log-probabilities, a public English word list with one count per word, feature scales,
weights, tree splits and leaf values, thresholds. No training name is.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dga_data import DATA, load_data, looks_generated, positives
from dga_fit import Parts, crossfit_benign, fit_parts, lexicon_words, matrix
from dga_heads import balanced, fit_heads, out_of_fold
from dga_trees import to_json as trees_json

from enrichment.dga._chars import Matrix
from enrichment.dga._features import FEATURES
from enrichment.dga._model import FORMAT, Heads

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "enrichment/dga/model.json"
SUSPECT_WEIGHT = 0.05


@dataclass(frozen=True)
class Fitted:
    parts: Parts
    heads: Heads
    thresholds: dict[str, float]


def fit(
    benign: dict[str, int], dga: Sequence[str], words: list[str], *, thresholds: bool = True
) -> Fitted:
    """The whole model from benign labels (with their days) and DGA labels. The DGA bigram
    model and the lexicon see the real families only; the generic names join as positives."""
    labels = sorted(benign)
    xb = crossfit_benign(labels, dga, words)
    parts = fit_parts(labels, dga, words)
    tables = parts.tables()
    positive, wd = positives(dga, words)
    xd = matrix(positive, tables)
    suspect = np.array([looks_generated(row) for row in xb], dtype=np.bool_)
    days = np.array([benign[b] for b in labels], dtype=np.float64)
    wb = (0.2 + 0.8 * days / 19) * np.where(suspect, SUSPECT_WEIGHT, 1.0)
    wb = np.where(out_of_fold(xb, xd, wb, wd, trees=False) > 0.5, wb * SUSPECT_WEIGHT, wb)
    x, y = np.vstack([xb, xd]), np.r_[np.zeros(len(xb)), np.ones(len(xd))]
    heads = fit_heads(x, y, balanced(wb, wd))
    cuts: dict[str, float] = {}
    if thresholds:
        clean = out_of_fold(xb, xd, wb, wd)[~suspect]
        cuts = {
            "fpr_1pct": float(np.quantile(clean, 0.99)),
            "fpr_0.1pct": float(np.quantile(clean, 0.999)),
        }
    return Fitted(parts, heads, cuts)


def _rounded(values: Matrix) -> Any:
    return np.round(values, 6).tolist()


def to_json(fitted: Fitted) -> dict[str, Any]:
    h = fitted.heads
    if h.trees is None:
        raise ValueError("a model to ship needs its trees")
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
            "trees": trees_json(h.trees),
        },
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
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
