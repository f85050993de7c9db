"""How machine-generated (DGA) a domain's registrable label looks, as a score in [0, 1].

The model (trained offline by `tools/train_dga.py`, parameters in `model.json`) reads 24
numbers per label: how a character 4-gram model of popular benign names likes it, its shape
(length, digits, vowels, consonant runs, entropy, hex), and how it splits into English words,
with each word's fit to benign names, which is what separates glued word pairs such as
suppobox's from brand names. Three heads score those numbers: a logistic regression, a small
neural network and 150 boosted trees of depth 4 (which cut short random names from benign
ones more finely); the score is the largest of the three. Besides the 33 DGA families,
training shows it names from five generic random generators (letters long and short, letters
and digits, hex, consonant-vowel) and, more lightly, runs of 4-6 common words, so that a family
it never saw, such as 8-digit hex, still reads as random; benign names shaped like generated
ones are down-weighted, not trusted as benign.

Why this and not a character-level deep model: a small CNN (embedding, 1-D convolutions of
widths 2-5, max pooling, concatenated with these features) was tried and scored worse on
families held out of training (it learns each family's style), and would have cost more time
per name. Everything runs in NumPy without a BLAS call, word splits and tree walks included
(vectorised over the whole batch), so it scores tens of thousands of names a second on one
core and a label's score never depends on the batch it is scored in. `benchmarks/dga.py`
measures it on whole DGA families left out of training; dictionary-word families
(suppobox, nymaim2) are still mostly missed.

Reading the score: about 0.5 is even odds on a balanced prior, and real traffic is mostly
benign, so alert only well above it (`thresholds()` gives the cut-offs at 1% and 0.1% of the
benign training names). Labels of four characters or fewer score at most 0.5: too short to
tell a random string from an acronym.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from enrichment.dga._model import Model, ModelError, load
from enrichment.dga._text import clean_label, domain_label, line_label

__all__ = [
    "MODEL_PATH",
    "Model",
    "ModelError",
    "load_model",
    "score_domain",
    "score_label",
    "score_lines",
    "thresholds",
]

MODEL_PATH = Path(__file__).with_name("model.json")
SHORT = 4
SHORT_CAP = 0.5


def load_model(path: Path = MODEL_PATH) -> Model:
    """Read a model file; raises ModelError when it is missing or corrupt."""
    return load(path)


@functools.cache
def _model() -> Model:
    return load(MODEL_PATH)


def thresholds() -> dict[str, float]:
    """Scores above which 1% (`fpr_1pct`) and 0.1% (`fpr_0.1pct`) of benign names fall."""
    return dict(_model().thresholds)


def _score_clean(labels: list[str]) -> list[float]:
    scores = _model().score_labels(labels)
    return [
        min(score, SHORT_CAP) if len(label) <= SHORT else score
        for label, score in zip(labels, scores, strict=True)
    ]


def score_label(label: str) -> float:
    """How machine-generated one registrable label (`qpdar`) looks, in [0, 1].

    Case and surrounding space are ignored; an IDN label is folded to ASCII; a label with
    nothing to score (empty, punctuation, another script) gives 0.0.
    """
    clean = clean_label(label)
    return _score_clean([clean])[0] if clean else 0.0


def score_domain(name: str) -> float | None:
    """The score of the registrable label of `name` (`qpdar` for `www.qpdar.pw`, `x1y2` for
    `x1y2.ddns.net`); None when `name` is not a domain name."""
    label = domain_label(name)
    if label is None:
        return None
    clean = clean_label(label)
    return _score_clean([clean])[0] if clean else 0.0


def score_lines(lines: Iterable[str]) -> list[float]:
    """One score in [0, 1] per line, for `python -m bot dga`; never raises on text.

    Each line may be a domain (`www.qpdar.pw`), a defanged one (`qpdar[.]pw`), a URL or email
    address (its host is scored), an IDN in Unicode or punycode, or a bare label (`qpdar`).
    Empty and blank lines, text with spaces inside, lines over 2,048 characters and other junk
    hold no name and give 0.0. Lines are scored in one batch, each distinct label once.
    """
    labels = [line_label(line) for line in lines]
    distinct = sorted({label for label in labels if label})
    scores = dict(zip(distinct, _score_clean(distinct), strict=True))
    return [scores[label] if label else 0.0 for label in labels]
