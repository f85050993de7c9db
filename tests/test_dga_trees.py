"""The DGA model's boosted trees: the NumPy walk against a plain one, the trainer's export of
fitted trees, and model files whose trees are broken."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from enrichment.dga import MODEL_PATH, ModelError, load_model, thresholds
from enrichment.dga._features import FEATURES, features
from enrichment.dga._model import _trees
from enrichment.dga._trees import Trees
from tests.trainer import trainer_module


def _plain(trees: Trees, row: list[float]) -> float:
    """One row, tree by tree, node by node: what the vectorised walk must agree with."""
    total = trees.baseline
    nodes = trees.feature.shape[1]
    for t in range(trees.feature.shape[0]):
        at = 0
        while at < nodes:
            right = row[trees.feature[t, at]] > trees.threshold[t, at]
            at = 2 * at + (2 if right else 1)
        total += float(trees.value[t, at - nodes])
    return total


def _random_trees(rng: np.random.Generator, count: int, depth: int, width: int) -> Trees:
    nodes = 2**depth - 1
    return Trees(
        feature=rng.integers(0, width, size=(count, nodes)),
        threshold=rng.normal(size=(count, nodes)),
        value=rng.normal(size=(count, nodes + 1)),
        baseline=-0.25,
    )


@pytest.mark.parametrize("depth", [1, 3, 4])
def test_the_walk_agrees_with_a_plain_one_and_ignores_the_batch(depth: int) -> None:
    rng = np.random.default_rng(depth)
    trees = _random_trees(rng, count=40, depth=depth, width=5)
    rows = rng.normal(size=(1100, 5))  # more than two blocks of the walk
    rows[:10, 0] = trees.threshold[0, 0]  # rows on a threshold go left
    batch = trees.logits(rows)
    assert batch.tolist() == pytest.approx([_plain(trees, list(row)) for row in rows], rel=1e-12)
    assert [trees.logits(rows[i : i + 1])[0] for i in range(len(rows))] == batch.tolist()


def _exporter() -> Any:
    return trainer_module("dga_trees")


NODE = np.dtype(
    [
        ("value", "f8"),
        ("feature_idx", "u4"),
        ("num_threshold", "f8"),
        ("left", "u4"),
        ("right", "u4"),
        ("is_leaf", "u1"),
    ]
)


def test_fitted_trees_export_to_complete_ones_that_route_rows_alike() -> None:
    exporter = _exporter()
    # scikit-learn's node table: the root splits feature 0 at 0.5; its left child is a leaf
    # at depth 1 (the complete tree pads it), its right child splits feature 2 at 2.0
    fitted = np.array(
        [
            (0.0, 0, 0.5, 1, 2, 0),
            (-1.0, 0, 0.0, 0, 0, 1),
            (0.0, 2, 2.0, 3, 4, 0),
            (0.5, 0, 0.0, 0, 0, 1),
            (1.5, 0, 0.0, 0, 0, 1),
        ],
        dtype=NODE,
    )
    trees = exporter.complete_trees([fitted, fitted], baseline=0.125)
    assert trees.depth == exporter.DEPTH
    rows = np.zeros((4, len(FEATURES)))
    rows[:, 0] = [0.2, 0.5, 0.7, 0.7]
    rows[:, 2] = [9.0, 9.0, 1.0, 3.0]
    expected = [0.125 + 2 * v for v in (-1.0, -1.0, 0.5, 1.5)]
    assert trees.logits(rows).tolist() == expected
    written = json.loads(json.dumps(exporter.to_json(trees)))
    assert _trees(written).logits(rows).tolist() == expected


def _broken(tmp_path: Path, change: Any) -> Path:
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    change(raw["heads"]["trees"])
    path = tmp_path / "model.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def _feature_out_of_range(trees: Any) -> None:
    trees["feature"][3][0] = len(FEATURES)


def _leaf_missing(trees: Any) -> None:
    trees["value"][0].pop()


def _not_complete(trees: Any) -> None:
    for key in ("feature", "threshold"):
        trees[key] = [row[:-1] for row in trees[key]]


def _threshold_text(trees: Any) -> None:
    trees["threshold"][1][0] = "high"


def _threshold_missing(trees: Any) -> None:
    trees["threshold"][2][5] = None


def _flat_features(trees: Any) -> None:
    trees["feature"] = [i for row in trees["feature"] for i in row]


def _no_trees(trees: Any) -> None:
    trees.clear()


@pytest.mark.parametrize(
    "change",
    [
        _feature_out_of_range,
        _leaf_missing,
        _not_complete,
        _threshold_text,
        _threshold_missing,
        _flat_features,
        _no_trees,
    ],
)
def test_a_model_with_broken_trees_fails_clearly(tmp_path: Path, change: Any) -> None:
    with pytest.raises(ModelError, match="corrupt DGA model"):
        load_model(_broken(tmp_path, change))


def test_the_shipped_trees_are_complete_and_read_only_our_features() -> None:
    trees = load_model().heads.trees
    assert trees is not None and trees.depth >= 2 and len(trees.feature) >= 50
    assert trees.feature.max() < len(FEATURES)


def test_the_trees_catch_short_random_names_the_other_heads_miss() -> None:
    """What the trees are for: random 5-9 letter names, where held-out families were weakest."""
    model = load_model()
    rng = np.random.default_rng(7)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    names = ["".join(rng.choice(letters, size=int(rng.integers(5, 10)))) for _ in range(3000)]
    rows = features(names, model.tables)
    cut = thresholds()["fpr_1pct"]
    caught = float((model.heads.scores(rows) > cut).mean())
    without_trees = float((replace(model.heads, trees=None).scores(rows) > cut).mean())
    assert caught >= without_trees + 0.01
