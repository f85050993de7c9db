"""The DGA trainer's boosted trees: scikit-learn fits them, this turns them into the complete
trees `enrichment.dga._trees` walks in NumPy. Only the trainer and the benchmark read this.

Why scikit-learn here and not hand-written boosting: its histogram gradient boosting is well
kept and fast; inference is ours because the package must not need it (and a walk of
complete trees in NumPy scores every label of a batch at once).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from enrichment.dga._chars import Matrix
from enrichment.dga._trees import Trees

DEPTH = 4
ROUNDS = 150
SEED = 0


def fit_trees(x: Matrix, y: Matrix, w: Matrix) -> Trees:
    """Boosted trees of depth DEPTH on raw features, weighted log loss; one thread, so the
    same data gives the same trees on any machine with the pinned scikit-learn."""
    try:  # imported here: the export below is tested without the training extra
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits
    except ImportError as error:
        raise SystemExit("training needs scikit-learn: pip install -e '.[train]'") from error
    model = HistGradientBoostingClassifier(
        max_iter=ROUNDS,
        learning_rate=0.1,
        max_depth=DEPTH,
        max_leaf_nodes=None,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=SEED,
    )
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(x, y, sample_weight=w)
    fitted = [round_[0].nodes for round_ in model._predictors]
    return complete_trees(fitted, float(np.ravel(model._baseline_prediction)[0]))


def complete_trees(fitted: list[Any], baseline: float) -> Trees:
    """Fitted trees (scikit-learn's node tables: value, feature_idx, num_threshold, left,
    right, is_leaf) as complete trees of depth DEPTH."""
    trees = [_complete(nodes) for nodes in fitted]
    return Trees(
        feature=np.array([t[0] for t in trees], dtype=np.int64),
        threshold=np.array([t[1] for t in trees], dtype=np.float64),
        value=np.array([t[2] for t in trees], dtype=np.float64),
        baseline=baseline,
    )


def _complete(nodes: Any) -> tuple[list[int], list[float], list[float]]:
    """One fitted tree in heap order, of depth DEPTH; where a branch ends early, every leaf
    below it holds its value, so the padding's splits (feature 0 at 0.0) change nothing."""
    feature = [0] * (2**DEPTH - 1)
    threshold = [0.0] * (2**DEPTH - 1)
    value = [0.0] * 2**DEPTH

    def place(index: int, at: int, level: int) -> None:
        node = nodes[index]
        if level == DEPTH or node["is_leaf"]:
            span = 2 ** (DEPTH - level)  # the leaves below heap node `at`, left to right
            first = (at + 1) * span - 2**DEPTH
            value[first : first + span] = [float(node["value"])] * span
            return
        feature[at] = int(node["feature_idx"])
        threshold[at] = float(node["num_threshold"])
        place(int(node["left"]), 2 * at + 1, level + 1)
        place(int(node["right"]), 2 * at + 2, level + 1)

    place(0, 0, 0)
    return feature, threshold, value


def to_json(trees: Trees) -> dict[str, Any]:
    """Thresholds in full: a rounded one could send a row that sits on it the other way."""
    return {
        "baseline": round(trees.baseline, 8),
        "feature": trees.feature.tolist(),
        "threshold": trees.threshold.tolist(),
        "value": np.round(trees.value, 8).tolist(),
    }
