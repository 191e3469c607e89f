"""Diagnostics of a network along a run (book chapter 1, "Diagnostics")."""

from __future__ import annotations

from collections import Counter

import numpy as np

from ._validation import as_finite_array, check_matching_dim
from .data import Dataset
from .network import Network

__all__ = ["normalized_margin", "activation_patterns", "pattern_census", "balancedness", "alignment"]


def normalized_margin(net: Network, data: Dataset) -> float:
    r"""Normalised margin :math:`\bar\gamma(\theta) = \min_i y_i f_\theta(x_i)/\|\theta\|^2`.

    Invariant under :math:`\theta \mapsto c\theta` (two-homogeneity). For classification
    labels :math:`y_i = \pm 1`; it is negative while some point is misclassified.

    Raises
    ------
    ValueError
        If the network is zero (the margin is undefined) or dimensions mismatch.
    """
    check_matching_dim(data.X, net.d)
    norm_sq = net.norm_sq()
    if norm_sq == 0:
        raise ValueError("the normalized margin is undefined for the zero network")
    return float(np.min(data.y * net(data.X)) / norm_sq)


def activation_patterns(net: Network, X, *, tol: float = 0.0) -> np.ndarray:
    r"""Activation patterns :math:`\mathbb 1[\langle w_j, x_i\rangle > \tau \|w_j\| \|x_i\|]`,
    shape (m, n), bool.

    Parameters
    ----------
    net : Network
    X : array_like, shape (n, d)
    tol : float
        Relative band :math:`\tau \ge 0`. With the default 0 a pair is active when its
        pre-activation is positive (the convention relu'(0) = 0). A neuron sliding along
        a face :math:`\langle w_j, x_i\rangle = 0` (chapter 1, "Sliding along a face")
        sits there only up to rounding, so with ``tol = 0`` the sign of a rounding error
        decides whether it counts as active; a small band such as ``1e-9`` counts it as
        inactive on that face, reproducibly.

    Raises
    ------
    ValueError
        For a non-finite or negative ``tol``, or mismatched dimensions.
    """
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"`tol` must be finite and >= 0; got {tol!r}")
    X = as_finite_array(X, "X", ndim=2)
    check_matching_dim(X, net.d)
    P = net.W @ X.T
    if tol == 0:
        return P > 0
    return P > tol * np.linalg.norm(net.W, axis=1)[:, None] * np.linalg.norm(X, axis=1)[None, :]


def pattern_census(
    net: Network, X, *, by_sign: bool = False, min_norm: float = 0.0, tol: float = 0.0
) -> dict:
    r"""Count neurons by the set of points on which they are active.

    Parameters
    ----------
    net : Network
    X : array_like, shape (n, d)
    by_sign : bool
        Key by ``(sign(a_j), pattern)`` instead of the pattern alone (a neuron with
        :math:`a_j = 0` counts as +1).
    min_norm : float
        Ignore neurons whose norm :math:`\|(a_j, w_j)\|` is below ``min_norm`` times the
        largest neuron norm (e.g. 0.01 counts only neurons that have grown).
    tol : float
        Relative band of :func:`activation_patterns`: use a small positive value (e.g.
        ``1e-9``) when neurons may be sliding along a face, so that they count as
        inactive on it instead of by the sign of a rounding error.

    Returns
    -------
    dict
        Keys are tuples of active point indices (``()`` for a dead neuron), or
        ``(+1 or -1, tuple)`` with ``by_sign``; values are neuron counts, most common first.

    Examples
    --------
    >>> import reluflow as rf
    >>> net = rf.Network([1.0, 1.0, -1.0], [[1.0, 0.0], [1.0, 0.1], [-1.0, 0.0]])
    >>> rf.pattern_census(net, [[1.0, 0.0], [0.0, 1.0]])
    {(0,): 1, (0, 1): 1, (): 1}
    >>> rf.pattern_census(net, [[1.0, 0.0], [0.0, 1.0]], tol=0.2)  # 0.1 is within the band
    {(0,): 2, (): 1}
    """
    if not (np.isfinite(min_norm) and min_norm >= 0):
        raise ValueError(f"`min_norm` must be finite and >= 0; got {min_norm!r}")
    S = activation_patterns(net, X, tol=tol)
    norms = net.neuron_norms()
    keep = norms >= min_norm * norms.max() if norms.max() > 0 else np.ones(net.m, bool)
    counts: Counter = Counter()
    for j in np.flatnonzero(keep):
        pattern = tuple(int(i) for i in np.flatnonzero(S[j]))
        counts[(1 if net.a[j] >= 0 else -1, pattern) if by_sign else pattern] += 1
    return dict(counts.most_common())


def balancedness(net: Network) -> np.ndarray:
    r"""Per-neuron :math:`a_j^2 - \|w_j\|^2`, shape (m,); conserved by gradient flow."""
    return net.a**2 - np.sum(net.W**2, axis=1)


def alignment(net: Network, v) -> np.ndarray:
    r"""Cosine :math:`\langle w_j, v\rangle/(\|w_j\|\|v\|)` of each neuron with ``v``, shape (m,).

    Zero neurons get ``nan`` (their direction is undefined).

    Raises
    ------
    ValueError
        If ``v`` is not a finite nonzero vector of length d.
    """
    v = as_finite_array(v, "v", ndim=1)
    if v.shape[0] != net.d:
        raise ValueError(f"`v` must have length d={net.d}; got {v.shape[0]}")
    nv = np.linalg.norm(v)
    if nv == 0:
        raise ValueError("`v` must be nonzero")
    nw = np.linalg.norm(net.W, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip((net.W @ v) / (nw * nv), -1.0, 1.0)  # rounding can exceed 1 by an ulp
    return np.where(nw > 0, cos, np.nan)
