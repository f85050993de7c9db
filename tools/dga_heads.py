"""The DGA trainer's classifier heads: a weighted logistic regression (Newton) and a one-hidden-
layer network (Adam, fixed seed), both in NumPy, on standardised features, and boosted trees
on the raw ones (`dga_trees`).

Only `tools/train_dga.py` and `benchmarks/dga.py` read this.
"""

from __future__ import annotations

import math

import numpy as np
from dga_trees import fit_trees

from enrichment.dga._chars import Matrix
from enrichment.dga._model import Heads

HIDDEN = 16
SEED = 0


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


def fit_heads(x: Matrix, y: Matrix, w: Matrix, *, trees: bool = True) -> Heads:
    """All three heads; without `trees`, the two quick ones (to pick suspects while training)."""
    mean, scale = _standardise(x)
    z = (x - mean) / scale
    beta = fit_linear(z, y, w)
    w1, b1, w2, b2 = fit_network(z, y, w)
    boosted = fit_trees(x, y, w) if trees else None
    return Heads(mean, scale, w1, b1, w2, float(b2[0]), beta[:-1], float(beta[-1]), boosted)


def balanced(benign_w: Matrix, dga_w: Matrix) -> Matrix:
    """Both sides weigh the same in total."""
    return np.concatenate([benign_w * dga_w.sum() / benign_w.sum(), dga_w])


def out_of_fold(
    xb: Matrix, xd: Matrix, wb: Matrix, wd: Matrix, folds: int = 4, *, trees: bool = True
) -> Matrix:
    """Each benign row scored by heads trained without its fold (and with every DGA row)."""
    part = np.arange(len(xb)) % folds
    scores = np.zeros(len(xb))
    for k in range(folds):
        keep = part != k
        x = np.vstack([xb[keep], xd])
        y = np.r_[np.zeros(keep.sum()), np.ones(len(xd))]
        heads = fit_heads(x, y, balanced(wb[keep], wd), trees=trees)
        scores[~keep] = heads.scores(xb[~keep])
    return scores
