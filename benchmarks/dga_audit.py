"""The hand audit of the benign reference's top, a third view for `benchmarks/dga.py`.

The benign list is noisy (its README), and the 1% cut-off of the cleaned view sits among
random strings and random word triples that the shape rule keeps. `dga_audit.tsv` records a
person's verdict on the 1,000 highest-scoring cleaned held-out benign labels of both
benchmark views, for the model before and after it had trees (1,137 labels, 2026-12-06):
`junk` (a random string that no reading as a brand, abbreviation, pinyin initials, number or
phrase explains, or unrelated rare words glued together) or `kept` (anything else, and
everything in doubt). Labels are stored as SHA-256 digests, not names: the list's terms are
unclear, and a digest is enough to look a label up.

The audited view drops the junk from the cleaned view. It is only defined while every label
above its cut-off was audited; `Audited.covered` says whether that holds for a run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

AUDIT = Path(__file__).with_name("dga_audit.tsv")
VERDICTS = {"junk": True, "kept": False}


def digest(label: str) -> str:
    return hashlib.sha256(label.encode("utf-8")).hexdigest()[:20]


def load_audit(path: Path = AUDIT) -> dict[str, bool]:
    """Digest -> is junk; ValueError names the first line that is not `digest<TAB>verdict`."""
    audit: dict[str, bool] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, _, verdict = line.partition("\t")
        if len(key) != 20 or verdict not in VERDICTS or key in audit:
            raise ValueError(f"{path}:{number}: expected a new digest<TAB>junk|kept: {line!r}")
        audit[key] = VERDICTS[verdict]
    return audit


@dataclass(frozen=True)
class Audited:
    junk: npt.NDArray[np.bool_]  # per benign label, judged junk
    covered: bool  # every label of the audited view at or above its cut-off was audited


def audited(
    labels: Sequence[str], scores: npt.NDArray[np.float64], audit: dict[str, bool], fpr: float
) -> Audited:
    """Which of these (cleaned) benign labels the audit calls junk, and whether the audit
    reaches down past the audited view's `fpr` cut-off."""
    keys = [digest(label) for label in labels]
    junk = np.array([audit.get(key, False) for key in keys], dtype=np.bool_)
    rest = scores[~junk]
    if not len(rest):
        return Audited(junk, True)
    cut = np.quantile(rest, 1 - fpr)
    above = [key for key, score in zip(keys, scores, strict=True) if score >= cut]
    return Audited(junk, all(key in audit for key in above))
