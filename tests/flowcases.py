"""Shared test problems of the solver tests (test_flow.py, test_exponential.py): the
per-neuron closed form of book chapter 1, a relative error, and two small datasets."""

import numpy as np

import reluflow as rf


def closed_form(a0, w0, D, t):
    """Per-neuron solution in a fixed pattern with frozen residuals (book ch. 1)."""
    delta = np.linalg.norm(D)
    p0 = w0 @ D
    a = a0 * np.cosh(delta * t) + p0 / delta * np.sinh(delta * t)
    A = a0 / delta * np.sinh(delta * t) + p0 / delta**2 * (np.cosh(delta * t) - 1)
    return a, w0 + np.multiply.outer(A, D)


def rel_err(x, ref):
    return np.linalg.norm(np.ravel(x) - np.ravel(ref)) / np.linalg.norm(np.ravel(ref))


def two_point(delta=1.0, p=0.75):
    X = np.array([[1.0, 0.0], [np.cos(delta), np.sin(delta)]])
    return rf.Dataset(X, [1.0, -1.0], weights=[p, 1 - p])


def separable(n=20, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-1, 1, (4 * n, 2))
    marg = Z @ [1.0, -0.5] + 0.1
    Z = Z[np.abs(marg) > 0.1][:n]
    return rf.Dataset(rf.with_bias(Z), np.sign(Z @ [1.0, -0.5] + 0.1))


#: Problems on which a_j^2 - |w_j|^2 must stay conserved: (data, loss, width, init scale, t_end).
BALANCE_CASES = [
    (rf.Dataset(np.eye(4, 5), [1.0, 0.5, -0.8, -0.3]), "square", 30, 1e-4, 60.0),
    (separable(), "logistic", 30, 1e-5, 1e3),
    (two_point(), "exponential", 40, 1e-6, 60.0),
]
BALANCE_IDS = ["orthogonal-square", "separable-logistic", "two-point-exponential"]
