"""Datasets: inputs, labels and sample weights (book chapter 1, "Setting")."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_finite_array, set_frozen_arrays

__all__ = ["Dataset", "with_bias"]


@dataclass(frozen=True)
class Dataset:
    r"""A weighted training set :math:`\{(x_i, y_i, c_i)\}_{i=1}^n`.

    The empirical loss of a network on it is :math:`L = \sum_i c_i\,\ell_i(f(x_i))`,
    so the default weights :math:`c_i = 1/n` give the usual mean.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one per row; finite.
    y : array_like, shape (n,)
        Labels (real targets for the square loss, :math:`\pm 1` for classification).
    weights : array_like, shape (n,), optional
        Non-negative sample weights with a positive sum; default ``1/n`` each.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D and finite, ``y`` is not finite with one entry per row of
        ``X``, or ``weights`` are negative, non-finite, of the wrong length, or sum to 0.

    Notes
    -----
    See the book, chapter 1, section "Setting".

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> data.weights
    array([0.5, 0.5])
    """

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        X = as_finite_array(self.X, "X", ndim=2)
        y = as_finite_array(self.y, "y", ndim=1)
        if X.shape[0] == 0:
            raise ValueError("`X` must hold at least one point; got 0 rows")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"`y` must have one label per row of X ({X.shape[0]}); got {y.shape[0]}")
        if self.weights is None:
            w = np.full(X.shape[0], 1.0 / X.shape[0])
        else:
            w = as_finite_array(self.weights, "weights", ndim=1)
            if w.shape[0] != X.shape[0]:
                raise ValueError(
                    f"`weights` must have one entry per row of X ({X.shape[0]}); got {w.shape[0]}"
                )
            if np.any(w < 0) or w.sum() <= 0:
                raise ValueError("`weights` must be non-negative with a positive sum")
        set_frozen_arrays(self, X=X, y=y, weights=w)

    @property
    def n(self) -> int:
        """Number of points."""
        return self.X.shape[0]

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.X.shape[1]


def with_bias(X) -> np.ndarray:
    r"""Append a constant coordinate, :math:`x \mapsto (x, 1)`.

    A bias keeps the network two-homogeneous when it is written as an extra input
    coordinate: :math:`a\,\sigma(\langle w, x\rangle + b) = a\,\sigma(\langle (w,b), (x,1)\rangle)`.

    Parameters
    ----------
    X : array_like, shape (n, d) or (n,)
        Inputs; a 1-D array is read as n scalar inputs.

    Returns
    -------
    ndarray, shape (n, d + 1)

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.with_bias([0.5, -1.0])
    array([[ 0.5,  1. ],
           [-1. ,  1. ]])
    """
    X = as_finite_array(X, "X")
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"`X` must be 1-D or 2-D; got shape {X.shape}")
    return np.hstack([X, np.ones((X.shape[0], 1))])
