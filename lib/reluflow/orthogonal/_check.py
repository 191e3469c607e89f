"""Validation shared by :mod:`reluflow.orthogonal` (chapter 3): orthogonal inputs, and the
mean square loss the chapter's formulas assume. Private to the package."""

from __future__ import annotations

import numpy as np

from .._validation import positive_scalar
from ..data import Dataset

#: Relative orthogonality tolerance: :math:`|\langle x_k, x_l\rangle| \le` ORTHO_TOL
#: :math:`\|x_k\|\|x_l\|` for :math:`k \ne l`.
ORTHO_TOL = 1e-9
#: Relative tolerance for neurons sharing the fastest growth rate.
REL = 1e-9


def check(data: Dataset, tol: float = ORTHO_TOL, *, mean: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate orthogonal data; return X, y and the input norms r.

    ``mean``: the formula assumes the mean square loss, weights 1/n (the default of
    :class:`~reluflow.Dataset`); the minimum-norm results do not depend on the weights.
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    X, y, tol = data.X, data.y, positive_scalar(tol, "tol")
    n, d = X.shape
    if mean and not np.allclose(data.weights, 1.0 / n, rtol=1e-12, atol=0.0):
        raise ValueError(
            "`data` must have the default weights 1/n: chapter 3's formulas are for the mean square "
            f"loss; got weights {data.weights[:4]}"
        )
    if n > d:
        raise ValueError(f"`data` has n = {n} points in d = {d} dimensions; orthogonal inputs need n <= d")
    r = np.linalg.norm(X, axis=1)
    if np.any((r == 0) & (y != 0)):
        k = int(np.flatnonzero((r == 0) & (y != 0))[0])
        raise ValueError(f"point {k} of `data` is zero but y[{k}] = {y[k]} != 0: no network fits it")
    off = np.abs(X @ X.T) - tol * np.outer(r, r)
    np.fill_diagonal(off, -1.0)
    if np.any(off > 0):
        i, j = np.unravel_index(np.argmax(off), off.shape)
        raise ValueError(
            f"the points of `data` must be pairwise orthogonal (|<x_k, x_l>| <= tol |x_k| |x_l|, tol = {tol:g}); "
            f"points {i} and {j} have cosine {(X[i] @ X[j]) / (r[i] * r[j]):.3g}"
        )
    return X, y, r


def z_of(y: np.ndarray, r: np.ndarray) -> np.ndarray:
    """:math:`z_k = y_k/r_k` (0 where :math:`r_k = 0`)."""
    return np.divide(y, r, out=np.zeros_like(y), where=r > 0)
