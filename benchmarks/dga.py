"""DGA detector on DGA families it never saw, against a character-trigram baseline (by hand).

    python benchmarks/dga.py [--data /work/shared/data/dga]    # 1-3 minutes on 2 cores

Leave-families-out: the 33 families, sorted, go to 6 folds by index (the three dictionary
families land in different folds, so each fold still trains on another one); the benign labels
go to 6 folds by a hash. Each fold retrains the whole model (tools/train_dga.py) on the other
folds and scores its own. A last run holds out all three dictionary families at once.

FPR thresholds come from the held-out benign labels only, in two views: all of them, and
"cleaned", without the suspects of `dga_data.looks_generated` (long hex with digits, 3+
letter-digit switches, 7+ letters and no vowel, or 8+ characters no likelier under the fold's
benign 4-gram model than uniformly random characters). That rule reads the label and a model of
the fold's training benign labels only: no DGA name, so it cannot see the held-out family, and
it is the same rule as in the first version, so the figures compare. It is a fixed shape rule,
not a verdict: junk it misses (random 5-7 letter names, random word triples) stays in the
cleaned view, and some real names it removes. The benign list is noisy: many of the
highest-scoring "false positives" are random-looking names, which the last lines print. Also
printed: the same figures for a naive Bayes on character trigrams, AUC, and the shipped
model's names per second on one core (inference uses no BLAS call, so one thread).

What bounds the 1% figure (measured 2026-12-05): the top 1% of the cleaned held-out benign
labels (about 200) is mostly junk the shape rule keeps, short random strings (`hftmmh`,
`yydjc`) and random word triples (`bobsleddomesticglandular`), which outrank real names. So
the threshold sits among generated-looking names, and short random families (m0yv, qsnatch,
vawtrak, bazarbackdoor: 36-67% at 1%) lose to them, whatever the model. Tried and dropped:
word-pair coherence from wordsegment's web bigrams (Apache 2.0). Any adjacent pair of a
label's split is a known bigram for 17 of 1,000 suppobox labels, 4 of 999 nymaim2 and 935 of
19,834 benign: too rare on both sides to separate word-pair families.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dga_data import DATA, Data, load_data, looks_generated
from dga_fit import fold_of, lexicon_words, matrix
from train_dga import fit

from enrichment.dga import load_model, score_lines

FOLDS = 6
DICTIONARY = ("nymaim2", "rovnix", "suppobox")
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scores:
    """Held-out scores of one fold (or of all folds, concatenated)."""

    benign: Vector
    suspect: npt.NDArray[np.bool_]
    benign_labels: list[str]
    dga: Vector
    families: list[str]


@dataclass(frozen=True)
class Split:
    benign_train: dict[str, int]
    benign_test: list[str]
    dga_train: list[str]
    dga_test: list[tuple[str, str]]


def split(data: Data, fold: int, held_out: Sequence[str]) -> Split:
    train = {b: d for b, d in data.benign.items() if fold_of(b, FOLDS) != fold}
    test = sorted(b for b in data.benign if fold_of(b, FOLDS) == fold)
    dga_train = [label for family, label in data.dga if family not in held_out]
    return Split(train, test, dga_train, [(f, lb) for f, lb in data.dga if f in held_out])


def run_fold(args: tuple[Data, int, tuple[str, ...]]) -> tuple[Scores, Scores]:
    """The model's and the baseline's held-out scores for one fold."""
    data, fold, held_out = args
    s = split(data, fold, held_out)
    fitted = fit(s.benign_train, s.dga_train, lexicon_words(), thresholds=False)
    tables = fitted.parts.tables()
    xb = matrix(s.benign_test, tables)
    suspect = np.array([looks_generated(row) for row in xb], dtype=np.bool_)
    xd = matrix([label for _, label in s.dga_test], tables)
    families = [family for family, _ in s.dga_test]
    ours = Scores(
        fitted.heads.scores(xb), suspect, s.benign_test, fitted.heads.scores(xd), families
    )
    baseline = TrigramBayes(list(s.benign_train), s.dga_train)
    base = Scores(
        baseline.scores(s.benign_test),
        suspect,
        s.benign_test,
        baseline.scores([label for _, label in s.dga_test]),
        families,
    )
    return ours, base


class TrigramBayes:
    """Multinomial naive Bayes on character trigrams (with ^ and $), add-one smoothing."""

    def __init__(self, benign: list[str], dga: list[str]) -> None:
        self.benign = Counter(g for label in benign for g in _trigrams(label))
        self.dga = Counter(g for label in dga for g in _trigrams(label))
        vocabulary = len(self.benign.keys() | self.dga.keys())
        self.benign_total = sum(self.benign.values()) + vocabulary
        self.dga_total = sum(self.dga.values()) + vocabulary

    def scores(self, labels: list[str]) -> Vector:
        return np.array([self._llr(label) for label in labels])

    def _llr(self, label: str) -> float:
        return sum(
            math.log((self.dga[g] + 1) / self.dga_total)
            - math.log((self.benign[g] + 1) / self.benign_total)
            for g in _trigrams(label)
        )


def _trigrams(label: str) -> list[str]:
    text = f"^{label}$"
    return [text[i : i + 3] for i in range(len(text) - 2)]


def concat(parts: Sequence[Scores]) -> Scores:
    return Scores(
        np.concatenate([p.benign for p in parts]),
        np.concatenate([p.suspect for p in parts]),
        [b for p in parts for b in p.benign_labels],
        np.concatenate([p.dga for p in parts]),
        [f for p in parts for f in p.families],
    )


def auc(negative: Vector, positive: Vector) -> float:
    ranks = np.argsort(np.argsort(np.r_[negative, positive], kind="stable"), kind="stable") + 1.0
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[n_neg:].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def tpr(reference: Vector, dga: Vector, fpr: float) -> float:
    return float((dga > np.quantile(reference, 1 - fpr)).mean())


def report(name: str, s: Scores, per_family: bool) -> None:
    families = np.array(s.families)
    dictionary = np.isin(families, DICTIONARY)
    for view, ref in (("all benign", s.benign), ("cleaned", s.benign[~s.suspect])):
        cells = [
            f"TPR@1% {tpr(ref, s.dga, 0.01):.3f}",
            f"TPR@0.1% {tpr(ref, s.dga, 0.001):.3f}",
            f"dictionary TPR@1% {tpr(ref, s.dga[dictionary], 0.01):.3f}",
            f"@0.1% {tpr(ref, s.dga[dictionary], 0.001):.3f}",
            f"AUC {auc(ref, s.dga):.4f}",
        ]
        print(f"{name:9} {view:10} (n={len(ref)}): " + "  ".join(cells))
    if per_family:
        ref = s.benign[~s.suspect]
        print(f"  per family, cleaned benign view ({name}): TPR@1%  TPR@0.1%")
        for family in sorted(set(s.families)):
            scores = s.dga[families == family]
            print(f"    {family:24} {tpr(ref, scores, 0.01):.3f}  {tpr(ref, scores, 0.001):.3f}")


def top_false_positives(s: Scores, count: int = 30) -> list[str]:
    rows = zip(s.benign, s.benign_labels, s.suspect, strict=True)
    clean = [(score, b) for score, b, bad in rows if not bad]
    return [b for _, b in sorted(clean, reverse=True)[:count]]


def speed(data: Data) -> None:
    """Names per second of the shipped model on one core, labels and whole lines."""
    labels = sorted({label for _, label in data.dga} | set(data.benign))
    model = load_model()
    started = time.perf_counter()
    model.score_labels(labels)
    label_rate = len(labels) / (time.perf_counter() - started)
    lines = [f"www.{label}.com" for label in labels]
    started = time.perf_counter()
    score_lines(lines)
    line_rate = len(lines) / (time.perf_counter() - started)
    print(f"speed: {label_rate:,.0f} labels/s (model), {line_rate:,.0f} lines/s (score_lines)")


def check_batch_invariance(data: Data) -> None:
    """The shipped model gives a label the same score alone as in any batch."""
    labels = sorted(set(data.benign))[:300] + [label for _, label in data.dga[::400]]
    model = load_model()
    batch = model.score_labels(labels)
    alone = [model.score_labels([label])[0] for label in labels]
    print(f"scores identical alone and in a batch: {batch == alone} ({len(labels)} labels)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    data = load_data(args.data)
    check_batch_invariance(data)
    families = sorted({family for family, _ in data.dga})
    jobs = [(data, k, tuple(families[k::FOLDS])) for k in range(FOLDS)] + [(data, 0, DICTIONARY)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(run_fold, jobs)
    ours, base = concat([r[0] for r in results[:FOLDS]]), concat([r[1] for r in results[:FOLDS]])
    report("model", ours, per_family=True)
    report("baseline", base, per_family=True)
    print("all three dictionary families held out together (benign fold 0):")
    report("model", results[-1][0], per_family=True)
    report("baseline", results[-1][1], per_family=False)
    print("top held-out benign scores (cleaned view):", " ".join(top_false_positives(ours)))
    speed(data)


if __name__ == "__main__":
    main()
