"""The early phase and the escape times of :mod:`reluflow.orthogonal` (chapter 3, "Early
alignment" and "Saddle to saddle"). Private; use :mod:`reluflow.orthogonal`."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._ortho_base import _REL, ORTHO_TOL, _check, _z, class_driving_vectors
from ._validation import positive_scalar
from .network import Network
from .trajectory import Trajectory


class EscapeTimes(NamedTuple):
    """Escape times of the classes (nan: no point in the class; inf: never escapes)."""

    plus: float
    minus: float


class LinearPhase(NamedTuple):
    r""":func:`linear_phase`: ``amplitude`` :math:`c_j`, ``rate`` :math:`g_j` (shape (m,)) with
    :math:`a_j(t) \approx c_j e^{g_j t}`, and the settled pattern ``active`` :math:`S_j`, (m, n)."""

    amplitude: np.ndarray
    rate: np.ndarray
    active: np.ndarray


def _settle(a: float, p: np.ndarray, rho: np.ndarray, r: np.ndarray) -> tuple[float, float, np.ndarray]:
    """One balanced neuron (coordinates p_k = <w, x_k>/r_k) through the frozen-residual flow
    until only points of its own sign are active; return (c, g, S)."""
    s, p, T = np.sign(a), p.copy(), 0.0
    active = p > 0
    while True:
        dvec = np.where(active, rho * r, 0.0)  # D in the basis x_k / r_k
        g = float(np.linalg.norm(dvec))
        if g == 0.0:
            return a, 0.0, active & (s * rho > 0)
        q, opp = float(p @ dvec) / g, active & (s * rho < 0)
        if not opp.any():
            return 0.5 * (a + q) * np.exp(-g * T), g, active & (s * rho > 0)
        A_exit = np.where(opp, -p / np.where(opp, dvec, 1.0), np.inf)
        k = int(np.argmin(np.abs(A_exit)))
        # A(t) = int a = A_exit[k] with S = e^{gt}: alpha S^2 + beta S + gamma = 0, alpha >= 0 >= gamma
        alpha, beta, gamma = s * (a + q), -2 * s * (q + g * A_exit[k]), s * (q - a)
        if alpha <= 0 and beta <= 0:  # w exactly along -s D: decays to 0, reaching the face at t = inf
            return 0.0, 0.0, np.zeros_like(active)
        disc = np.sqrt(beta**2 - 4 * alpha * gamma)
        S = -2 * gamma / (beta + disc) if beta >= 0 else (disc - beta) / (2 * alpha)
        ch, sh = (S + 1 / S) / 2, (S - 1 / S) / 2
        p += (a * sh + q * (ch - 1)) / g * dvec
        a, T = a * ch + q * sh, T + np.log(S) / g
        p[k], active[k] = 0.0, False


def linear_phase(net0: Network, X, y, *, tol: float = ORTHO_TOL) -> LinearPhase:
    r"""Early phase of each neuron, residuals frozen at :math:`\rho_k = y_k/n` (chapter 3, "Early
    alignment"). A neuron of sign :math:`s_j` switches off its points of the other sign in time O(1)
    (inactive coordinates are frozen, no point switches on), then grows in its settled pattern
    :math:`S_j` as :math:`a_j(t) \approx c_j e^{g_j t}`, :math:`g_j = \|D_{S_j}\|`, with
    :math:`c_j = \frac12(a_j(T) + \langle w_j(T), \hat D_{S_j}\rangle)e^{-g_jT}` after the last
    switch-off at :math:`T`. Exact for the frozen-residual flow: the closed form of chapter 1 per
    pattern, exit times from a quadratic in :math:`e^{gt}`. Scale-covariant: :math:`c \propto \varepsilon`.

    Returns :class:`LinearPhase`; ``rate`` 0 means no point of its sign is left (the neuron stays
    frozen, ``amplitude`` = its :math:`a_j`). ValueError also for a dimension mismatch or an
    unbalanced ``net0`` (need :math:`a_j = s_j\|w_j\|`, the ``rf.small_init`` default).

    Examples
    --------
    >>> import reluflow as rf
    >>> from reluflow.orthogonal import linear_phase
    >>> lp = linear_phase(rf.Network([1.0], [[0.6, 0.8]]), [[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> float(lp.rate[0]), lp.active[0].tolist()
    (0.5, [True, False])
    """
    X, y, r = _check(X, y, tol)
    if net0.d != X.shape[1]:
        raise ValueError(f"`net0` has input dimension {net0.d} but `X` has {X.shape[1]} columns")
    if not np.allclose(np.abs(net0.a), np.linalg.norm(net0.W, axis=1), rtol=1e-6, atol=0):
        raise ValueError("`net0` must be balanced, |a_j| = |w_j| (rf.small_init(..., balanced=True))")
    P = np.divide(net0.W @ X.T, r, out=np.zeros((net0.m, y.size)), where=r > 0)
    c, g, S = zip(*(_settle(float(a), p, y / y.size, r) for a, p in zip(net0.a, P, strict=True)), strict=True)
    return LinearPhase(np.array(c), np.array(g), np.array(S))


def _leaders(lp: LinearPhase, sign: float, z: np.ndarray):
    """Fastest neurons of one sign: (rate g, mass u0, capacity K = |beta_S|, mask, pattern S)."""
    mine = (np.sign(lp.amplitude) == sign) & (lp.rate > 0)
    if not mine.any():
        return 0.0, 0.0, 0.0, mine, np.zeros(z.size, dtype=bool)
    g = lp.rate[mine].max()
    lead = mine & (lp.rate >= g * (1 - _REL))
    S = lp.active[np.flatnonzero(lead)[0]]
    return g, float(np.sum(lp.amplitude[lead] ** 2)), float(np.linalg.norm(z[S])), lead, S


def escape_times(X, y, scale: float | None = None, *, net0: Network | None = None, tol: float = ORTHO_TOL):
    r"""Predicted escape time of each class from the saddle at zero (chapter 3, "Saddle to saddle").
    Leading order (``scale``): :math:`t_\pm = \ln(1/\varepsilon)/\|D_\pm\|`, i.e.
    :math:`n\ln(1/\varepsilon)/\|y^\pm\|` for unit norms. Refined (``net0``): the fastest neurons
    of a sign (rate :math:`g`, pattern :math:`S`, the whole class when the width allows) have mass
    :math:`u = \sum_j\|w_j\|^2 \approx u_0 e^{2gt}`, :math:`u_0 = \sum_j c_j^2`
    (:func:`linear_phase`). For equal norms the residual on :math:`S` stays proportional to
    :math:`y`, and :math:`u` is exactly logistic:

    .. math:: \dot u = 2g\,u\,(1 - u/K),\quad K = \|\beta_S\|,\qquad
              t_{1/2} = \frac{\ln(K/u_0 - 1)}{2g}\quad (u = K/2,\ \text{class loss} / 4).

    Neglected: slower neurons (relative :math:`O(\varepsilon^{2(1-g_S/g)})`); for unequal norms
    the turning from :math:`D_S` to :math:`\beta_S` while growing (O(1) error). The classes
    decouple once the other sign is switched off: the slow class keeps its own clock. Give
    exactly one of ``scale`` (:math:`0 < \varepsilon < 1`) and ``net0``, else ValueError.

    Examples
    --------
    >>> from reluflow.orthogonal import escape_times
    >>> [round(t, 3) for t in escape_times([[1.0, 0.0], [0.0, 1.0]], [2.0, -1.0], 1e-6)]
    [13.816, 27.631]
    """
    X, y, r = _check(X, y, tol)
    if (scale is None) == (net0 is None):
        raise ValueError("give exactly one of `scale` (leading order) or `net0` (refined)")
    if net0 is None:
        scale = positive_scalar(scale, "scale")
        if not scale < 1:
            raise ValueError(f"`scale` must lie in (0, 1); got {scale}")
        g = [float(np.linalg.norm(D)) for D in class_driving_vectors(X, y, tol=tol)]
        return EscapeTimes(*(float(np.log(1 / scale) / gi) if gi > 0 else np.nan for gi in g))
    lp, times = linear_phase(net0, X, y, tol=tol), []
    for sign in (1.0, -1.0):
        g, u0, K, _, _ = _leaders(lp, sign, _z(y, r))
        t = np.log(max(K / u0 - 1, 1.0)) / (2 * g) if g > 0 else np.inf
        times.append(t if np.any(sign * y > 0) else np.nan)
    return EscapeTimes(*map(float, times))


def escape_time_band(net0: Network, X, y, *, tol: float = ORTHO_TOL) -> np.ndarray:
    r"""First-order bound on how much the slower neurons advance each class's escape, shape (2,).

    The refined :func:`escape_times` follow the fastest neurons of each sign only. Neurons of
    the same sign with a smaller rate :math:`g_i < g` add mass
    :math:`v = \sum_i c_i^2 e^{2 g_i t_\pm}` at the refined time :math:`t_\pm`, which
    advances the escape by at most :math:`2v/(\|D_\pm\|\,\|y^\pm\|)` to first order. The
    observed escape time lies in ``[refined - band, refined]`` (chapter 3, "Saddle to
    saddle"). Same assumptions as :func:`escape_times`.
    """
    lp = linear_phase(net0, X, y, tol=tol)
    t_fast = escape_times(X, y, net0=net0, tol=tol)
    D_plus, D_minus = class_driving_vectors(X, y, tol=tol)
    y = np.asarray(y, float)
    band = []
    for sign, t_c, D, y_c in zip((1, -1), t_fast, (D_plus, D_minus), (y[y > 0], y[y < 0]), strict=True):
        mine = (np.sign(lp.amplitude) == sign) & (lp.rate > 0)
        if not mine.any() or not np.isfinite(t_c):
            band.append(np.nan)
            continue
        slow = mine & (lp.rate < lp.rate[mine].max() * (1 - 1e-9))
        v = np.sum(lp.amplitude[slow] ** 2 * np.exp(2 * lp.rate[slow] * t_c))
        band.append(2 * v / (np.linalg.norm(D) * np.linalg.norm(y_c)))
    return np.array(band)


def observed_escape_times(traj: Trajectory, X, y, *, fraction: float = 0.25, tol: float = ORTHO_TOL):
    r"""Escape times of a run: first time the class loss :math:`\frac1{2n}\sum_{\pm y_k>0}(f(x_k) -
    y_k)^2` falls to ``fraction`` of :math:`\frac1{2n}\sum_{\pm y_k > 0} y_k^2`, interpolated
    log-linearly between snapshots. The default 1/4 matches :func:`escape_times`. Returns
    :class:`EscapeTimes` (inf if not reached).

    Examples
    --------
    >>> import reluflow as rf
    >>> from reluflow.orthogonal import escape_times, observed_escape_times
    >>> data, net0 = rf.datasets.orthogonal([1.0, -1.0]), rf.small_init(8, 2, 1e-4, seed=0)
    >>> traj = rf.gradient_flow(net0, data, "square", 40.0)
    >>> [round(t, 1) for t in observed_escape_times(traj, data.X, data.y)]
    [18.3, 20.1]
    >>> [round(t, 1) for t in escape_times(data.X, data.y, net0=net0)]
    [18.3, 20.1]
    """
    X, y, _ = _check(X, y, tol)
    fraction = positive_scalar(fraction, "fraction")
    F = np.einsum("km,kmn->kn", traj.a, np.maximum(traj.W @ X.T, 0.0))
    out = []
    for cls in (y > 0, y < 0):
        target = fraction * (y[cls] @ y[cls])
        Lc = np.sum((F[:, cls] - y[cls]) ** 2, axis=1)
        hit = np.flatnonzero(Lc <= target)
        if not cls.any() or hit.size == 0 or hit[0] == 0:
            out.append(np.nan if not cls.any() else np.inf if hit.size == 0 else traj.t[0])
            continue
        k = hit[0]
        lo, hi = np.log(Lc[k - 1]), np.log(max(Lc[k], 1e-300))
        out.append(traj.t[k - 1] + (traj.t[k] - traj.t[k - 1]) * (lo - np.log(target)) / (lo - hi))
    return EscapeTimes(*map(float, out))
