r"""The kernels of chapter 5: arc-cosine kernels and the neural tangent kernel of the two-layer
ReLU network at infinite width (book chapter 5, "The NTK margin"). They are functions of
points, so they take arrays (any two sets of inputs), not a :class:`~reluflow.Dataset`."""

from __future__ import annotations

import numpy as np

from .._validation import as_finite_array

__all__ = ["arccos_kernel", "ntk"]

LAYERS = ("inner", "both")


def points(X, name: str) -> np.ndarray:
    X = as_finite_array(X, name, ndim=2)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"`{name}` must have at least one row and one column; got shape {X.shape}")
    zero = np.flatnonzero(np.linalg.norm(X, axis=1) == 0)
    if zero.size:
        raise ValueError(f"`{name}` must have non-zero rows (the angle is undefined); row {zero[0]} is 0")
    return X


def _geometry(X, Z):
    X = points(X, "X")
    Z = X if Z is None else points(Z, "Z")
    if Z.shape[1] != X.shape[1]:
        raise ValueError(f"`Z` must have d={X.shape[1]} columns like X; got {Z.shape[1]}")
    nx, nz = np.linalg.norm(X, axis=1), np.linalg.norm(Z, axis=1)
    G = X @ Z.T
    theta = np.arccos(np.clip(G / np.outer(nx, nz), -1.0, 1.0))
    return G, np.outer(nx, nz), theta


def arccos_kernel(X, Z=None, degree: int = 1) -> np.ndarray:
    r"""Arc-cosine kernel of degree 0 or 1 (Cho & Saul 2009), :math:`w \sim \mathcal N(0, I_d)`.

    .. math::
        k_0(x, z) = \mathbb E\,\mathbb 1[w^\top x > 0]\,\mathbb 1[w^\top z > 0] = \frac{\pi - \theta}{2\pi},
        \qquad k_1(x, z) = \mathbb E\,\sigma(w^\top x)\,\sigma(w^\top z)
        = \|x\|\|z\|\,\frac{\sin\theta + (\pi - \theta)\cos\theta}{2\pi},

    with :math:`\theta = \angle(x, z)` (derivation: :func:`arccos_kernel_symbolic`).

    Parameters
    ----------
    X : array_like, shape (n_x, d)
    Z : array_like, shape (n_z, d), optional
        Default ``X``.
    degree : {0, 1}

    Returns
    -------
    ndarray, shape (n_x, n_z)

    Raises
    ------
    ValueError
        For non-finite inputs, zero rows, mismatched ``d`` or another ``degree``.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.margins.arccos_kernel([[1.0, 0.0]], [[0.0, 2.0]], degree=0)
    array([[0.25]])
    """
    if degree not in (0, 1):
        raise ValueError(f"`degree` must be 0 or 1; got {degree!r}")
    _, norms, theta = _geometry(X, Z)
    if degree == 0:
        return (np.pi - theta) / (2 * np.pi)
    return norms * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)


def ntk(X, Z=None, layers: str = "both") -> np.ndarray:
    r"""Neural tangent kernel of :math:`f(x) = \frac1{\sqrt m}\sum_j a_j\sigma(w_j^\top x)` at
    :math:`m \to \infty`, :math:`a_j \sim \mathcal N(0, 1)`, :math:`w_j \sim \mathcal N(0, I_d)`.

    .. math::
        \Theta(x, z) = k_1(x, z) + \langle x, z\rangle k_0(x, z)
        = \|x\|\|z\|\,\frac{\sin\theta + 2(\pi - \theta)\cos\theta}{2\pi}
        \quad(\text{both layers}),\qquad
        K(x, z) = \langle x, z\rangle\,\frac{\pi - \theta}{2\pi}\quad(\text{inner layer}).

    The outer layer contributes :math:`k_1` (gradient :math:`\sigma(w_j^\top x)/\sqrt m`), the
    inner layer :math:`\mathbb E a^2\,\langle x, z\rangle k_0` (gradient :math:`a_j\mathbb
    1[w_j^\top x > 0]x/\sqrt m`). Chapter 5, "The NTK margin".

    Parameters
    ----------
    X : array_like, shape (n_x, d)
    Z : array_like, shape (n_z, d), optional
    layers : {"both", "inner"}
        Which layers are trained.

    Returns
    -------
    ndarray, shape (n_x, n_z), positive semi-definite when ``Z`` is None.
    """
    if layers not in LAYERS:
        raise ValueError(f"`layers` must be one of {LAYERS}; got {layers!r}")
    G, norms, theta = _geometry(X, Z)
    inner = G * (np.pi - theta) / (2 * np.pi)
    if layers == "inner":
        return inner
    return inner + norms * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)
