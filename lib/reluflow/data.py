"""Datasets: inputs, labels and sample weights, and signed weightings of them (book chapter 1,
"Setting"; the weighted correlation :class:`Correlation` is chapter 2's alignment function)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_finite_array, set_frozen_arrays

__all__ = ["Correlation", "Dataset", "with_bias"]


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

    def weighted(self, rho) -> Correlation:
        r"""These points with signed weights :math:`\rho_i`, as the correlation :math:`G_\rho`.

        Shorthand for :class:`Correlation` ``(self, rho)``. Typical weightings: the residual
        weights at the origin (``rf.losses.square.rho0(data)``), at a saddle
        (``rf.ncf.residual_correlation``), a dual certificate (``rf.orthogonal.min_norm_dual``).

        Examples
        --------
        >>> import reluflow as rf
        >>> data = rf.Dataset([[1.0, 0.0], [1.0, 1.0]], [1.0, -1.0])
        >>> G = data.weighted([2.0, -1.0])
        >>> G([[1.0, 0.0], [0.0, 1.0]])
        array([ 1., -1.])
        """
        return Correlation(self, rho)


@dataclass(frozen=True, eq=False)
class Correlation:
    r"""The weighted correlation of a dataset,

    .. math:: G_\rho(v) = \sum_{i=1}^n \rho_i\,\sigma(\langle v, x_i\rangle),

    with signed weights :math:`\rho_i` on the points :math:`x_i` of ``data`` (its labels and
    sample weights are not used). One function under several names: with the residual
    weights at the origin it is the *alignment function* of chapter 2 ("The alignment
    function"), whose critical directions are the KKT points of the NCF; with the residuals at
    a saddle it drives the escape from it; with a dual certificate it bounds the minimum norm
    (chapter 3, "The minimum-norm interpolator"). It is positively one-homogeneous in v, and
    for a network :math:`\sum_i \rho_i f_\theta(x_i) = \sum_j a_j\|w_j\|\,G_\rho(\hat w_j)`.

    Parameters
    ----------
    data : Dataset
        The points :math:`x_i`.
    rho : array_like, shape (n,)
        Finite signed weights, one per point.

    Raises
    ------
    TypeError
        If ``data`` is not a :class:`Dataset`.
    ValueError
        If ``rho`` is not finite or does not have one entry per point.

    Notes
    -----
    Evaluate it by calling it: ``G(V)`` with ``V`` of shape (k, d) gives shape (k,), a
    single direction of shape (d,) gives a float. Directions are used as given (not
    normalised). Build it with :meth:`Dataset.weighted`.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0])
    >>> G = rf.Correlation(data, [0.5, -0.25])
    >>> G([1.0, 1.0]), G.rho
    (0.25, array([ 0.5 , -0.25]))
    """

    data: Dataset
    rho: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.data, Dataset):
            raise TypeError(f"`data` must be a rf.Dataset; got {type(self.data).__name__}")
        rho = as_finite_array(self.rho, "rho", ndim=1)
        if rho.shape[0] != self.data.n:
            raise ValueError(f"`rho` must have one weight per point ({self.data.n}); got {rho.shape[0]}")
        set_frozen_arrays(self, rho=rho)

    @property
    def X(self) -> np.ndarray:
        """The points, shape (n, d) (``data.X``)."""
        return self.data.X

    def __call__(self, V) -> np.ndarray | float:
        r""":math:`G_\rho` at the rows of ``V`` (shape (k, d) -> (k,)) or at one direction (d,)
        -> float."""
        V = as_finite_array(V, "V")
        d = self.data.d
        if V.ndim not in (1, 2) or V.shape[-1] != d:
            raise ValueError(f"`V` must have shape (k, {d}) or ({d},); got {V.shape}")
        G = np.maximum(V @ self.data.X.T, 0.0) @ self.rho
        return float(G) if V.ndim == 1 else G

    def __repr__(self) -> str:
        return f"Correlation(n={self.data.n}, d={self.data.d}, rho={np.array2string(self.rho, precision=4)})"


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
