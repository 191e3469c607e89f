"""Shared pieces of :mod:`reluflow.orthogonal` (chapter 3): the orthogonality check, the
tolerance and the class driving vectors. Private; use :mod:`reluflow.orthogonal`."""

from __future__ import annotations

import numpy as np

from ._validation import as_finite_array, positive_scalar

#: :math:`\|x_k\|\|x_l\|` for :math:`k \ne l`.
ORTHO_TOL = 1e-9
#: Relative tolerance for neurons sharing the fastest growth rate.
_REL = 1e-9


def _check(X, y, tol: float = ORTHO_TOL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate orthogonal data; return X, y and the input norms r."""
    X, y, tol = as_finite_array(X, "X", ndim=2), as_finite_array(y, "y", ndim=1), positive_scalar(tol, "tol")
    n, d = X.shape
    if y.shape[0] != n:
        raise ValueError(f"`y` must have one label per row of X ({n}); got {y.shape[0]}")
    if n > d:
        raise ValueError(f"`X` has n = {n} rows in d = {d} dimensions; orthogonal inputs need n <= d")
    r = np.linalg.norm(X, axis=1)
    if np.any((r == 0) & (y != 0)):
        k = int(np.flatnonzero((r == 0) & (y != 0))[0])
        raise ValueError(f"`X` row {k} is zero but y[{k}] = {y[k]} != 0: no network fits it")
    off = np.abs(X @ X.T) - tol * np.outer(r, r)
    np.fill_diagonal(off, -1.0)
    if np.any(off > 0):
        i, j = np.unravel_index(np.argmax(off), off.shape)
        raise ValueError(
            f"`X` rows must be pairwise orthogonal (|<x_k, x_l>| <= tol |x_k| |x_l|, tol = {tol:g}); "
            f"rows {i} and {j} have cosine {(X[i] @ X[j]) / (r[i] * r[j]):.3g}"
        )
    return X, y, r


def _z(y: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.divide(y, r, out=np.zeros_like(y), where=r > 0)


def class_driving_vectors(X, y, *, tol: float = ORTHO_TOL) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`D_+ = \frac1n\sum_{y_k>0} y_k x_k` and :math:`\bar D_- = \frac1n\sum_{y_k<0}|y_k| x_k`.
    A neuron of sign :math:`\pm` active on the whole class grows like :math:`e^{\|D_\pm\|t}` in
    direction :math:`D_\pm` (chapter 3, "Early alignment"). ValueError as :func:`min_norm_interpolant`.

    Examples
    --------
    >>> from reluflow.orthogonal import class_driving_vectors
    >>> class_driving_vectors([[1.0, 0.0], [0.0, 2.0]], [2.0, -1.0])
    (array([1., 0.]), array([0., 1.]))
    """
    X, y, _ = _check(X, y, tol)
    return (np.clip(y, 0, None) @ X) / y.size, (np.clip(-y, 0, None) @ X) / y.size
