"""DGA detector on DGA families and names it never saw, against a character-trigram baseline.

    python benchmarks/dga.py [--data /work/shared/data/dga]    # about 2 minutes on 2 cores

Leave-families-out: the 33 families, sorted, go to 6 folds by index (the three dictionary
families land in different folds, so each fold still trains on another one); the benign labels
go to 6 folds by a hash. Each fold retrains the whole model (tools/train_dga.py) on the other
folds and scores its own. A run then holds out all three dictionary families at once, and a
last set of 6 folds holds out names instead of families (every family is trained on 5/6 of
its names and scored on the rest: what a known family's new names get).

FPR thresholds come from the held-out benign labels only, in three views: all of them;
"cleaned", without the suspects of `dga_data.looks_generated` (long hex with digits, 3+
letter-digit switches, 7+ letters and no vowel, or 8+ characters no likelier under the fold's
benign 4-gram model than uniformly random characters), a fixed shape rule that reads no DGA
name and has not changed since the first version, so the figures compare; and "audited", the
cleaned view without the labels a hand audit of its top judged junk (`dga_audit.py`: random
strings and glued unrelated rare words; abbreviations, pinyin and brands kept, and anything in
doubt). The audit covers the top 1,000 of both views for the model with and without trees; a
view whose 1% cut-off it does not reach is printed as "audited?" (the baseline's, ranked
otherwise). Also printed: the same figures for a naive Bayes on character trigrams, AUC, the
highest cleaned benign labels, and the shipped model's names per second on one core
(inference uses no BLAS call, so one thread).

What bounds the 1% figure (measured 2026-12-06): 171 of the 366 cleaned held-out benign labels
above the audited cut-off are junk (short random strings such as `uuuxsvv`, glued rare words
such as `bobsleddomesticglandular`), so the cleaned cut-off sits among generated names and
the short random families (m0yv, vawtrak, bazarbackdoor, pitou) lose to them. Without that
junk the non-dictionary families reach 0.932 at 1% (0.938 for new names of known families).
A third of qsnatch's labels have 3-4 characters, as acronyms do, so it stays under 0.5. The
word-pair families (suppobox, nymaim2) sit inside the benign distribution even when their word
lists were seen in training.

Why three heads: boosted trees alone (150 of depth 4) catch more of the non-dictionary families
than the regression and network (0.922 against 0.897 at 1%, cleaned) but almost no word pairs
(0.023 against 0.232); the largest of the three keeps both: 0.836 -> 0.849 overall, and at
0.1% 0.734 -> 0.766 (cleaned, families never seen).

Why word runs (`dga_data.word_runs`: 2,000 runs of 4-6 of the 800 commonest lexicon words,
each weighing 0.15, as generic positives): rovnix left out went 0.607 -> 0.667 at 1%, all three
dictionary families left out together 0.002 -> 0.136, overall 0.849 -> 0.852 (cleaned) and
0.873 -> 0.875 (audited); another seed for the runs gave 0.853 and 0.875. The cost is at 0.1%
on the cleaned view, 0.766 -> 0.751, where glued rare words of the benign list rise with them;
on the audited view, without those, 0.1% went 0.783 -> 0.788. At full weight the runs cost the
short random families 0.005 at 1% and won nothing overall; 800 words did better than 3,000.

Tried and dropped:
- Word-pair coherence from wordsegment's web bigrams (Apache 2.0): any adjacent pair of a
  label's split is a known bigram for 17 of 1,000 suppobox labels, 4 of 999 nymaim2 and 935
  of 19,834 benign: too rare on both sides to separate word-pair families.
- Random pairs of lexicon words as generic positives: dictionary 0.232 -> 0.279 at 1%, but
  overall 0.836 -> 0.828 (cleaned view), as benign compounds rose with them.
- Two features of how much more often training DGA names use each word of a label's split
  than benign names do (log ratio of rates, counted on labels that words cover end to end,
  cross-fitted): new names of known families 0.849 -> 0.862 (dictionary 0.281 -> 0.435,
  suppobox 0.059 -> 0.287), but unseen families 0.836 -> 0.823 (dictionary 0.232 -> 0.107):
  the model learnt to lean on word lists that a new family does not share.
- A character 4-gram model of 60,000 English words (wordninja's list) as two more features,
  beside the benign-names model: no change (0.849 at 1%, cleaned; m0yv, vawtrak, pitou alike).
- Word classes of a split's adjacent words, as a pair's pointwise mutual information over
  benign names' splits (Brown clusters at 3-10 bits, or WordNet parts of speech, from spaCy's
  lookup tables): no signal, AUC 0.41-0.52 for suppobox and nymaim2 against benign labels
  that words cover end to end. Benign compounds pair word classes as freely as random pairs.
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

from benchmarks.dga_audit import audited, load_audit
from enrichment.dga import load_model, score_lines

FOLDS = 6
DICTIONARY = ("nymaim2", "rovnix", "suppobox")
AUDIT_VERDICTS = load_audit()
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
    """Whole families held out; with none named, a fold of every family's names instead."""
    train = {b: d for b, d in data.benign.items() if fold_of(b, FOLDS) != fold}
    test = sorted(b for b in data.benign if fold_of(b, FOLDS) == fold)

    def out(family: str, label: str) -> bool:
        return family in held_out if held_out else fold_of(label, FOLDS) == fold

    dga_train = [label for family, label in data.dga if not out(family, label)]
    return Split(train, test, dga_train, [(f, lb) for f, lb in data.dga if out(f, lb)])


def run_fold(args: tuple[Data, int, tuple[str, ...]]) -> tuple[Scores, Scores]:
    """The model's and the baseline's held-out scores for one fold (held-out families, or
    with none named, held-out names of every family)."""
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
    """Share of `dga` above the reference's `fpr` cut-off; nan when there is no DGA name."""
    if not len(dga):
        return math.nan
    return float((dga > np.quantile(reference, 1 - fpr)).mean())


def views(s: Scores) -> list[tuple[str, Vector]]:
    """The benign references: all, cleaned by the shape rule, and cleaned then hand-audited
    (named with a `?` when the audit does not reach this run's 1% cut-off)."""
    cleaned = s.benign[~s.suspect]
    labels = [b for b, bad in zip(s.benign_labels, s.suspect, strict=True) if not bad]
    audit = audited(labels, cleaned, AUDIT_VERDICTS, 0.01)
    name = "audited" if audit.covered else "audited?"
    return [("all benign", s.benign), ("cleaned", cleaned), (name, cleaned[~audit.junk])]


def report(name: str, s: Scores, per_family: bool) -> None:
    families = np.array(s.families)
    dictionary = np.isin(families, DICTIONARY)
    references = views(s)
    for view, ref in references:
        cells = [
            f"TPR@1% {tpr(ref, s.dga, 0.01):.3f}",
            f"TPR@0.1% {tpr(ref, s.dga, 0.001):.3f}",
            f"dictionary TPR@1% {tpr(ref, s.dga[dictionary], 0.01):.3f}",
            f"@0.1% {tpr(ref, s.dga[dictionary], 0.001):.3f}",
            f"others TPR@1% {tpr(ref, s.dga[~dictionary], 0.01):.3f}",
            f"AUC {auc(ref, s.dga):.4f}",
        ]
        print(f"{name:9} {view:10} (n={len(ref)}): " + "  ".join(cells))
    if per_family:
        (_, cleaned), (audit, clean) = references[1], references[2]
        print(f"  per family ({name}), TPR@1% and @0.1%: cleaned view, then {audit} view")
        for family in sorted(set(s.families)):
            scores = s.dga[families == family]
            rates = [tpr(ref, scores, fpr) for ref in (cleaned, clean) for fpr in (0.01, 0.001)]
            print(f"    {family:24} " + "  ".join(f"{x:.3f}" for x in rates))


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
    jobs += [(data, k, ()) for k in range(FOLDS)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(run_fold, jobs)
    ours, base = concat([r[0] for r in results[:FOLDS]]), concat([r[1] for r in results[:FOLDS]])
    print("families never seen in training (leave-families-out):")
    report("model", ours, per_family=True)
    report("baseline", base, per_family=True)
    print("all three dictionary families held out together (benign fold 0):")
    report("model", results[FOLDS][0], per_family=True)
    report("baseline", results[FOLDS][1], per_family=False)
    print("names never seen, of families seen in training (leave-names-out):")
    report("model", concat([r[0] for r in results[FOLDS + 1 :]]), per_family=True)
    report("baseline", concat([r[1] for r in results[FOLDS + 1 :]]), per_family=False)
    print("top held-out benign scores (cleaned view):", " ".join(top_false_positives(ours)))
    speed(data)


if __name__ == "__main__":
    main()
