"""Diagnostics of a network or of a run (book chapter 1, "Diagnostics"; the rotation and the
movement of the inner weights, chapter 5, "Near initialisation").

Each function takes a :class:`~reluflow.Network` (one state) or a
:class:`~reluflow.Trajectory` (every snapshot), and a :class:`~reluflow.Dataset` when the
quantity depends on the data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ._validation import as_finite_array, check_matching_dim
from .data import Dataset
from .network import Network, _forward
from .trajectory import Trajectory

__all__ = [
    "outputs",
    "normalized_margin",
    "classification_error",
    "activation_patterns",
    "pattern_census",
    "balancedness",
    "alignment",
    "rotation",
    "relative_movement",
    "plateaus",
    "Condensation",
    "condensation",
    "linearization_error",
]


def _check_data(data, d: int, what: str = "network") -> Dataset:
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    check_matching_dim(data.X, d, what)
    return data


def _check_net(net) -> Network:
    if not isinstance(net, Network):
        raise TypeError(f"`net` must be a rf.Network; got {type(net).__name__}")
    return net


def _check_traj(traj) -> Trajectory:
    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    return traj


def outputs(model: Network | Trajectory, data: Dataset) -> np.ndarray:
    r"""Network outputs :math:`f_\theta(x_i)` on the points of ``data``.

    Parameters
    ----------
    model : Network or Trajectory
    data : Dataset

    Returns
    -------
    ndarray, shape (n,) for a Network, (k, n) for a Trajectory (one row per snapshot)

    Raises
    ------
    TypeError, ValueError
        For another type or mismatched dimensions.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> rf.diagnostics.outputs(rf.Network([2.0], [[1.0, -1.0]]), data)
    array([2., 0.])
    """
    if isinstance(model, Trajectory):
        _check_data(data, model.W.shape[2], "trajectory")
        return _forward(model.a, model.W, data.X)[1]
    _check_data(data, _check_net(model).d)
    return _forward(model.a, model.W, data.X)[1]


def normalized_margin(net: Network, data: Dataset) -> float:
    r"""Normalised margin :math:`\bar\gamma(\theta) = \min_i y_i f_\theta(x_i)/\|\theta\|^2`.

    Invariant under :math:`\theta \mapsto c\theta` (two-homogeneity). For classification
    labels :math:`y_i = \pm 1`; it is negative while some point is misclassified.

    Raises
    ------
    ValueError
        If the network is zero (the margin is undefined) or dimensions mismatch.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> rf.diagnostics.normalized_margin(rf.Network([1.0, -1.0], [[1.0, 0.0], [0.0, 1.0]]), data)
    0.25
    """
    norm_sq = _check_net(net).norm_sq()
    if norm_sq == 0:
        raise ValueError("the normalized margin is undefined for the zero network")
    return float(np.min(data.y * outputs(net, data)) / norm_sq)


def classification_error(model: Network | Trajectory, data: Dataset) -> float | np.ndarray:
    r"""Fraction of points misclassified, :math:`\frac1n\#\{i : y_i f_\theta(x_i) \le 0\}`.

    A point with :math:`f_\theta(x_i) = 0` counts as an error (no sign is predicted). Evaluate
    it on held-out points (a second :class:`~reluflow.Dataset`) for the test error of
    chapters 5 and 6.

    Parameters
    ----------
    model : Network or Trajectory
    data : Dataset
        Labels in {-1, +1}.

    Returns
    -------
    float for a Network; ndarray, shape (k,), for a Trajectory (one value per snapshot)

    Raises
    ------
    ValueError
        If a label is not -1 or +1, or the dimensions mismatch.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1.0, -1.0, 1.0])
    >>> rf.diagnostics.classification_error(rf.Network([1.0], [[1.0, -1.0]]), data)
    0.6666666666666666
    """
    if not np.all(np.abs(data.y) == 1.0):
        raise ValueError("`data.y` must be -1 or +1 for a classification error")
    wrong = data.y * outputs(model, data) <= 0.0
    if isinstance(model, Trajectory):
        return wrong.mean(axis=1)
    return float(wrong.mean())


def activation_patterns(net: Network, data: Dataset, *, tol: float = 0.0) -> np.ndarray:
    r"""Activation patterns :math:`\mathbb 1[\langle w_j, x_i\rangle > \tau \|w_j\| \|x_i\|]`,
    shape (m, n), bool.

    Parameters
    ----------
    net : Network
    data : Dataset
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
    X = _check_data(data, _check_net(net).d).X
    P = net.W @ X.T
    if tol == 0:
        return P > 0
    return P > tol * np.linalg.norm(net.W, axis=1)[:, None] * np.linalg.norm(X, axis=1)[None, :]


def pattern_census(
    net: Network, data: Dataset, *, by_sign: bool = False, min_norm: float = 0.0, tol: float = 0.0
) -> dict:
    r"""Count neurons by the set of points on which they are active.

    Parameters
    ----------
    net : Network
    data : Dataset
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
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> rf.diagnostics.pattern_census(net, data)
    {(0,): 1, (0, 1): 1, (): 1}
    >>> rf.diagnostics.pattern_census(net, data, tol=0.2)  # 0.1 is within the band
    {(0,): 2, (): 1}
    """
    if not (np.isfinite(min_norm) and min_norm >= 0):
        raise ValueError(f"`min_norm` must be finite and >= 0; got {min_norm!r}")
    S = activation_patterns(net, data, tol=tol)
    norms = net.neuron_norms()
    keep = norms >= min_norm * norms.max() if norms.max() > 0 else np.ones(net.m, bool)
    counts: Counter = Counter()
    for j in np.flatnonzero(keep):
        pattern = tuple(int(i) for i in np.flatnonzero(S[j]))
        counts[(1 if net.a[j] >= 0 else -1, pattern) if by_sign else pattern] += 1
    return dict(counts.most_common())


def balancedness(net: Network) -> np.ndarray:
    r"""Per-neuron :math:`a_j^2 - \|w_j\|^2`, shape (m,); conserved by gradient flow
    (``Trajectory.balancedness`` gives it at every snapshot)."""
    net = _check_net(net)
    return net.a**2 - np.sum(net.W**2, axis=1)


def _cosines(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Row-wise cosines of A and B (same trailing axis); nan where a row is zero."""
    na, nb = np.linalg.norm(A, axis=-1), np.linalg.norm(B, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip(np.sum(A * B, axis=-1) / (na * nb), -1.0, 1.0)  # rounding can exceed 1 by an ulp
    return np.where((na > 0) & (nb > 0), cos, np.nan)


def alignment(net: Network, v) -> np.ndarray:
    r"""Cosine :math:`\langle w_j, v\rangle/(\|w_j\|\|v\|)` of each neuron with ``v``, shape (m,).

    Zero neurons get ``nan`` (their direction is undefined).

    Raises
    ------
    ValueError
        If ``v`` is not a finite nonzero vector of length d.
    """
    net = _check_net(net)
    v = as_finite_array(v, "v", ndim=1)
    if v.shape[0] != net.d:
        raise ValueError(f"`v` must have length d={net.d}; got {v.shape[0]}")
    if not np.any(v):
        raise ValueError("`v` must be nonzero")
    return _cosines(net.W, v[None, :])


def rotation(traj: Trajectory) -> np.ndarray:
    r"""Rotation of each neuron from its initial direction, :math:`\angle(w_j(t), w_j(0)) \in
    [0, \pi]`, shape (k, m): one row per snapshot.

    Low rotation (chapter 5, "Near initialisation") means these angles stay small while the
    norms may change. Neurons that are zero at ``t = 0`` or at the snapshot get ``nan``.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> traj = rf.gradient_flow(rf.Network([1.0], [[1.0, 1.0]]), data, "square", 5.0)
    >>> round(float(rf.diagnostics.rotation(traj)[-1, 0]), 4)
    0.7854
    """
    W = _check_traj(traj).W
    return np.arccos(_cosines(W, W[:1]))


def relative_movement(traj: Trajectory) -> np.ndarray:
    r"""Relative movement of the inner weights, :math:`\|W(t) - W(0)\|_F/\sqrt m`, shape (k,).

    NTK analyses keep :math:`\|W - W_0\|_F = O(1)`, i.e. this :math:`O(1/\sqrt m)`; the
    near-initialisation regime of chapter 5 allows :math:`O(\sqrt m)`, i.e. this :math:`O(1)`.
    """
    W = _check_traj(traj).W
    return np.linalg.norm(W - W[0], axis=(1, 2)) / np.sqrt(W.shape[1])


def plateaus(traj: Trajectory, levels, *, band: float = 0.05) -> np.ndarray:
    r"""Where the loss rests on given levels: for each level :math:`L_i > 0`, the longest run
    of consecutive snapshots with :math:`|L(t)/L_i - 1| \le` ``band``, as ``(t_first, t_last)``
    (book chapter 3, "The run at a glance").

    Parameters
    ----------
    traj : Trajectory
    levels : array_like, shape (q,)
        Predicted plateau levels (e.g. :func:`reluflow.orthogonal.plateau_levels`); levels
        <= 0 have no relative band and get ``nan``.
    band : float
        Relative half-width of the band (> 0; 0.05 is our default).

    Returns
    -------
    ndarray, shape (q, 2)
        ``nan`` for a level the loss never reaches within the band.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> traj = rf.gradient_flow(rf.small_init(4, 2, 1e-4, seed=0), data, "square", 60.0, t_eval=[0.0, 1.0, 2.0, 60.0])
    >>> rf.diagnostics.plateaus(traj, [0.5, 0.0])
    array([[ 0.,  2.],
           [nan, nan]])
    """
    loss = _check_traj(traj).loss
    levels = np.atleast_1d(as_finite_array(levels, "levels"))
    if levels.ndim != 1:
        raise ValueError(f"`levels` must be 1-D; got shape {levels.shape}")
    if not (np.isfinite(band) and band > 0):
        raise ValueError(f"`band` must be finite and > 0; got {band!r}")
    out = np.full((levels.size, 2), np.nan)
    for i, level in enumerate(levels):
        if level <= 0:
            continue
        inside = np.abs(loss / level - 1) <= band
        edges = np.flatnonzero(np.diff(np.r_[False, inside, False].astype(int)))  # starts, ends + 1
        if edges.size:
            runs = edges.reshape(-1, 2)
            first, stop = runs[np.argmax(runs[:, 1] - runs[:, 0])]
            out[i] = traj.t[first], traj.t[stop - 1]
    return out


@dataclass(frozen=True, eq=False)
class Condensation:
    r"""Result of :func:`condensation`.

    Attributes
    ----------
    n_clusters : int
        Number of clusters that together carry the fraction ``mass`` of :math:`\|\theta\|^2`
        (the largest first).
    directions : ndarray, shape (k, d)
        Unit direction of every cluster (its heaviest neuron's), heaviest cluster first.
    signs : ndarray, shape (k,)
        :math:`\mathrm{sign}(a_j)` of each cluster.
    masses : ndarray, shape (k,)
        Fraction of :math:`\|\theta\|^2` in each cluster (sums to 1).
    """

    n_clusters: int
    directions: np.ndarray
    signs: np.ndarray
    masses: np.ndarray


def condensation(net: Network, *, angle_tol: float = 0.05, mass: float = 0.9) -> Condensation:
    r"""Clusters of neuron directions: how many distinct directions carry the network
    (book chapter 6, "The lazy-to-rich phase diagram"; Wang and Ma's *condensation*).

    Neurons are taken by decreasing mass :math:`\|(a_j, w_j)\|^2`; each joins the first
    cluster of the same output sign whose direction is within ``angle_tol`` radians of its own
    :math:`\hat w_j`, or starts a new one. ``n_clusters`` counts the heaviest clusters needed
    to reach the fraction ``mass`` of :math:`\|\theta\|^2`: small after a small
    initialisation (the network condenses on a few directions), of order m in the lazy regime.
    The result does not depend on the order of the neurons (ties aside) or on the scale of
    :math:`\theta`.

    Parameters
    ----------
    net : Network
    angle_tol : float
        Cluster radius in radians, in (0, pi) (ours: 0.05).
    mass : float
        Fraction of :math:`\|\theta\|^2` in (0, 1] (ours: 0.9).

    Returns
    -------
    Condensation

    Raises
    ------
    ValueError
        For the zero network, or ``angle_tol``, ``mass`` out of range.

    Examples
    --------
    >>> import reluflow as rf
    >>> net = rf.Network([1.0, 1.0, -0.1], [[1.0, 0.0], [2.0, 0.01], [0.0, 0.1]])
    >>> c = rf.diagnostics.condensation(net)
    >>> c.n_clusters, c.signs, c.masses.round(3)
    (1, array([ 1., -1.]), array([0.997, 0.003]))
    """
    net = _check_net(net)
    if not (np.isfinite(angle_tol) and 0 < angle_tol < np.pi):
        raise ValueError(f"`angle_tol` must lie in (0, pi); got {angle_tol!r}")
    if not (np.isfinite(mass) and 0 < mass <= 1):
        raise ValueError(f"`mass` must lie in (0, 1]; got {mass!r}")
    weight = net.neuron_norms() ** 2
    if weight.sum() == 0:
        raise ValueError("the zero network has no directions to cluster")
    norms = np.linalg.norm(net.W, axis=1)
    cos_tol = np.cos(angle_tol)
    dirs, signs, masses = [], [], []
    for j in np.argsort(-weight, kind="stable"):
        if weight[j] == 0:
            break
        u = net.W[j] / norms[j] if norms[j] > 0 else np.zeros(net.d)
        s = 1.0 if net.a[j] >= 0 else -1.0
        for k, (v, t) in enumerate(zip(dirs, signs, strict=True)):
            if t == s and u @ v >= cos_tol:
                masses[k] += weight[j]
                break
        else:
            dirs.append(u)
            signs.append(s)
            masses.append(weight[j])
    masses = np.array(masses) / weight.sum()
    order = np.argsort(-masses, kind="stable")
    masses = masses[order]
    count = int(min(np.searchsorted(np.cumsum(masses), mass * (1 - 1e-12)) + 1, masses.size))
    return Condensation(count, np.array(dirs)[order], np.array(signs)[order], masses)


def linearization_error(net0: Network, net: Network, data: Dataset) -> float:
    r"""How far a trained network is from its linearisation at the initialisation
    (book chapter 6, "The lazy-to-rich phase diagram"; the laziness of Chizat et al.):

    .. math:: e_{\rm lin} = \frac{\|f_\theta - f_{\theta_0} - \langle\nabla_\theta
              f_{\theta_0}, \theta - \theta_0\rangle\|}{\|f_\theta - f_{\theta_0}\|}

    on the points of ``data`` (Euclidean norms over the points). Near 0 in the lazy (kernel)
    regime, where training moves the network along its tangent space at :math:`\theta_0`;
    near 1 after a small initialisation, where the tangent features at :math:`\theta_0`
    are almost zero.

    Raises
    ------
    ValueError
        If the networks differ in shape, or the outputs did not move on ``data``.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> net0 = rf.Network([1.0], [[1.0, 0.5]])
    >>> round(rf.diagnostics.linearization_error(net0, net0.scaled(1.1), data), 4)  # (1.21 - 1 - 0.2)/0.21
    0.0476
    """
    net0, net = _check_net(net0), _check_net(net)
    if net0.a.shape != net.a.shape or net0.W.shape != net.W.shape:
        raise ValueError(f"`net0` and `net` must have the same shape; got m, d = {net0.m, net0.d} and {net.m, net.d}")
    X = _check_data(data, net.d).X
    f0, f = net0(X), net(X)
    lin = _linear_change(net0, net, X)
    move = np.linalg.norm(f - f0)
    if move == 0:
        raise ValueError("the outputs did not move on `data`: the linearisation error is undefined")
    return float(np.linalg.norm(f - f0 - lin) / move)


def _linear_change(net0: Network, net: Network, X: np.ndarray) -> np.ndarray:
    r"""The linearised change of the outputs, :math:`\langle\nabla_\theta f_{\theta_0}(x_i),
    \theta - \theta_0\rangle`, shape (n,) (core-private, unchecked)."""
    P0 = net0.W @ X.T  # (m, n)
    dW = (net.W - net0.W) @ X.T
    return (net.a - net0.a) @ np.maximum(P0, 0.0) + np.sum((P0 > 0) * net0.a[:, None] * dW, axis=0)
