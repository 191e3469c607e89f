"""The problems of ``bench/scale.py`` (research-scale and degenerate data), importable by
the benchmark and by the tests (small versions).

* ``stewart(m)``: the data of Boursier & Flammarion's ``early_alignment.py`` (public
  repository eboursier/early_alignment; re-implemented here, not copied): 40 points uniform
  on [-1, 1] (our seed), targets by ``np.interp`` on the knots (-1, -.7, -.55, -.4, 0, .5,
  .6, .7, 1) -> (0, .7, .5, 1, 0, 1, .6, .7, 0), inputs (x, 1); their balanced init: hidden
  weights and biases N(0, (1e-3 / sqrt(m))^2), a_j = ±|w_j| with fair signs; square loss;
  t_end = 4000 (their 2e6 steps of lr 1e-3 on the mean squared error are Euler steps of 2e-3
  on our 1/2-mean square loss).
* ``parity(d, m)``: 2-sparse parity on the full hypercube (``rf.datasets.sparse_parity``),
  ``rf.small_init(m, d, 1e-4, seed)``, logistic loss, t_end = 3000.
* ``separable(m)``: ``rf.datasets.separable(200, 10, 0.05, seed=0)``,
  ``rf.small_init(m, 10, 1e-3, seed=0)``, logistic, t_end = 1e3.
* ``digits(m)``: scikit-learn's ``load_digits`` classes 0 (label -1) and 1 (label +1), 360
  images of 8 x 8 pixels scaled to [0, 1], plus a bias coordinate (d = 65),
  ``rf.small_init(m, 65, 1e-3, seed=0)``, logistic, t_end = 1e4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import reluflow as rf

STEWART_KNOTS = (np.array([-1, -0.7, -0.55, -0.4, 0, 0.5, 0.6, 0.7, 1.0]),
                 np.array([0, 0.7, 0.5, 1, 0, 1, 0.6, 0.7, 0.0]))
#: Their learning rate; one of their steps is an Euler step of 2 * LR on our loss.
STEWART_LR = 1e-3


@dataclass
class ScaleProblem:
    name: str
    data: rf.Dataset
    loss: str
    net0: rf.Network
    t_end: float


def stewart_data(seed: int = 0) -> rf.Dataset:
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, 40)
    return rf.Dataset(np.c_[x, np.ones_like(x)], np.interp(x, *STEWART_KNOTS))


def stewart_init(m: int, scale: float = 1e-3, seed: int = 0) -> rf.Network:
    rng = np.random.default_rng(seed + 1)
    W = rng.normal(0.0, scale / np.sqrt(m), (m, 2))
    a = (2.0 * rng.integers(0, 2, m) - 1.0) * np.linalg.norm(W, axis=1)
    return rf.Network(a, W)


def stewart(m: int, seed: int = 0, t_end: float = 4000.0) -> ScaleProblem:
    return ScaleProblem(f"stewart m={m}", stewart_data(seed), "square", stewart_init(m, seed=seed), t_end)


def parity(d: int, m: int, seed: int = 0, t_end: float = 3000.0) -> ScaleProblem:
    data = rf.datasets.sparse_parity(d)
    return ScaleProblem(f"parity d={d} m={m}", data, "logistic", rf.small_init(m, d, 1e-4, seed=seed), t_end)


def separable(m: int = 500, seed: int = 0, t_end: float = 1e3) -> ScaleProblem:
    data = rf.datasets.separable(200, 10, 0.05, seed=seed)
    return ScaleProblem(f"separable m={m}", data, "logistic", rf.small_init(m, 10, 1e-3, seed=seed), t_end)


def digits(m: int = 200, seed: int = 0, t_end: float = 1e4) -> ScaleProblem:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    keep = y <= 1
    data = rf.Dataset(rf.with_bias(X[keep] / 16.0), np.where(y[keep] == 1, 1.0, -1.0))
    return ScaleProblem(f"digits m={m}", data, "logistic", rf.small_init(m, data.d, 1e-3, seed=seed), t_end)


def gd_steps(p: ScaleProblem, steps: int, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` full-batch gradient-descent steps of size ``eta`` on our loss, plain numpy
    (their update rule for ``stewart`` with eta = 2 * LR): returns (a, W)."""
    X, y, c = p.data.X, p.data.y, p.data.weights
    a, W = p.net0.a.copy(), p.net0.W.copy()
    square = p.loss == "square"
    for _ in range(steps):
        P = W @ X.T
        H = np.maximum(P, 0.0)
        f = a @ H
        rho = c * (y - f) if square else c * y / (1.0 + np.exp(np.minimum(y * f, 700.0)))
        G = (P > 0) * rho
        a, W = a + eta * (H @ rho), W + eta * a[:, None] * (G @ X)
    return a, W
