"""The numbers the classifier sees for one registrable label (shared by inference and training).

Two groups: the character-level ones (`_chars`: a benign 4-gram model's view of the label, a
generated-name bigram model's, and the label's shape), and how it splits into English words
(`_words`: the cheapest segmentation over a ranked lexicon, how much of the label it covers,
and whether its words are ones benign names use, "online", "cloud", or common English that
names avoid, "them", "indeed": the word-pair signal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from enrichment.dga._chars import CHAR_FEATURES, CharModel, Matrix, char_features
from enrichment.dga._words import WORD_FEATURES, Lexicon

FEATURES = CHAR_FEATURES + WORD_FEATURES


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


def features(labels: Sequence[str], tables: Tables) -> Matrix:
    """One row per non-empty label of a-z, 0-9 and hyphens (columns: FEATURES). A row depends
    on its label alone, not on the batch; labels of similar length batch fastest."""
    if not labels:
        return np.zeros((0, len(FEATURES)))
    chars = char_features(labels, tables.benign_dense, tables.generated_dense)
    return np.column_stack([chars, tables.lexicon.features(labels)])
