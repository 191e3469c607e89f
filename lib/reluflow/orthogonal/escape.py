r"""Early alignment and saddle to saddle on orthogonal inputs (book chapter 3, "Early alignment"
and "Saddle to saddle"): the driving vectors of the classes, the early phase of each neuron,
the escape times of the classes and the loss levels of the staircase."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import positive_scalar
from ..data import Dataset
from ..diagnostics import outputs
from ..losses import square
from ..ncf import escape_time
from ..network import Network
from ..trajectory import Trajectory
from ._check import ORTHO_TOL, REL, check, z_of

__all__ = [
    "DrivingVectors",
    "EscapeTimes",
    "LinearPhase",
    "class_driving_vectors",
    "escape_time_band",
    "escape_times",
    "linear_phase",
    "observed_escape_times",
    "plateau_levels",
]


@dataclass(frozen=True, eq=False)
class DrivingVectors:
    r""":func:`class_driving_vectors`: ``plus`` :math:`D_+` and ``minus`` :math:`\bar D_-`, shape (d,)."""

    plus: np.ndarray
    minus: np.ndarray


@dataclass(frozen=True)
class EscapeTimes:
    """Escape times of the classes, ``plus`` and ``minus`` (nan: no point in the class; inf:
    never escapes). Iterates as ``(plus, minus)``, and ``np.array(times)`` is that pair."""

    plus: float
    minus: float

    def __iter__(self):
        return iter((self.plus, self.minus))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.array([self.plus, self.minus], dtype=dtype)


@dataclass(frozen=True, eq=False)
class LinearPhase:
    r""":func:`linear_phase`: ``amplitude`` :math:`c_j`, ``rate`` :math:`g_j` (shape (m,)) with
    :math:`a_j(t) \approx c_j e^{g_j t}`, and the settled pattern ``active`` :math:`S_j`, (m, n)."""

    amplitude: np.ndarray
    rate: np.ndarray
    active: np.ndarray


def class_driving_vectors(data: Dataset, *, tol: float = ORTHO_TOL) -> DrivingVectors:
    r""":math:`D_+ = \sum_{\rho^0_k > 0}\rho^0_k x_k` and :math:`\bar D_- = \sum_{\rho^0_k <
    0}|\rho^0_k| x_k` with :math:`\rho^0_k = y_k/n`, the square loss's residual weights at the
    origin. A neuron of sign :math:`\pm` active on the whole class grows like
    :math:`e^{\|D_\pm\|t}` in direction :math:`D_\pm` (chapter 3, "Early alignment").

    Raises
    ------
    ValueError
        As every function of :mod:`reluflow.orthogonal`: points that are not pairwise
        orthogonal (relative ``tol``), more points than dimensions, a zero point with a
        nonzero label, or weights other than the default 1/n (the formulas are for the mean
        square loss).

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 2.0]], [2.0, -1.0])
    >>> dv = rf.orthogonal.class_driving_vectors(data)
    >>> dv.plus, dv.minus
    (array([1., 0.]), array([0., 1.]))
    """
    X = check(data, tol)[0]
    rho = square.rho0(data)
    return DrivingVectors(np.clip(rho, 0, None) @ X, np.clip(-rho, 0, None) @ X)


def plateau_levels(data: Dataset, *, tol: float = ORTHO_TOL) -> np.ndarray:
    r"""Loss levels of the saddle-to-saddle staircase, shape (3,), or (2,) with one label sign:

    .. math:: L_0 = \tfrac1{2n}\|y\|^2, \qquad L_1 = \tfrac1{2n}\|y^{\rm slow}\|^2, \qquad L_2 = 0,

    the slow class having the smaller :math:`\|D_\pm\|` (for equal norms, the smaller
    :math:`\|y^\pm\|`). Assumes orthogonal inputs, a small balanced initialisation and enough
    width that some neuron of each sign starts active on its whole class (each class is then fit
    in one step). Chapter 3, "Saddle to saddle".

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.orthogonal.plateau_levels(rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [2.0, -1.0]))
    array([1.25, 0.25, 0.  ])
    """
    _, y, _ = check(data, tol)
    L0 = y @ y / (2 * y.size)
    if not (np.any(y > 0) and np.any(y < 0)):
        return np.array([L0, 0.0])
    dv = class_driving_vectors(data, tol=tol)
    slow = y < 0 if np.linalg.norm(dv.plus) >= np.linalg.norm(dv.minus) else y > 0
    return np.array([L0, y[slow] @ y[slow] / (2 * y.size), 0.0])


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


def linear_phase(net0: Network, data: Dataset, *, tol: float = ORTHO_TOL) -> LinearPhase:
    r"""Early phase of each neuron, residuals frozen at :math:`\rho^0_k = y_k/n` (chapter 3, "Early
    alignment"). A neuron of sign :math:`s_j` switches off its points of the other sign in time O(1)
    (inactive coordinates are frozen, no point switches on), then grows in its settled pattern
    :math:`S_j` as :math:`a_j(t) \approx c_j e^{g_j t}`, :math:`g_j = \|D_{S_j}\|`, with
    :math:`c_j = \frac12(a_j(T) + \langle w_j(T), \hat D_{S_j}\rangle)e^{-g_jT}` after the last
    switch-off at :math:`T`. Exact for the frozen-residual flow: the closed form of chapter 1 per
    pattern, exit times from a quadratic in :math:`e^{gt}`. Scale-covariant: :math:`c \propto \varepsilon`.

    Returns :class:`LinearPhase`; ``rate`` 0 means no point of its sign is left (the neuron stays
    frozen, ``amplitude`` = its :math:`a_j`). ValueError as :func:`class_driving_vectors`, for a
    dimension mismatch or an unbalanced ``net0`` (need :math:`a_j = s_j\|w_j\|`, the
    ``rf.small_init`` default).

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> lp = rf.orthogonal.linear_phase(rf.Network([1.0], [[0.6, 0.8]]), data)
    >>> float(lp.rate[0]), lp.active[0].tolist()
    (0.5, [True, False])
    """
    X, y, r = check(data, tol)
    if not isinstance(net0, Network):
        raise TypeError(f"`net0` must be a rf.Network; got {type(net0).__name__}")
    if net0.d != X.shape[1]:
        raise ValueError(f"`net0` has input dimension {net0.d} but `data` has d = {X.shape[1]}")
    if not np.allclose(np.abs(net0.a), np.linalg.norm(net0.W, axis=1), rtol=1e-6, atol=0):
        raise ValueError("`net0` must be balanced, |a_j| = |w_j| (rf.small_init(..., balanced=True))")
    P = np.divide(net0.W @ X.T, r, out=np.zeros((net0.m, y.size)), where=r > 0)
    rho = square.rho0(data)
    c, g, S = zip(*(_settle(float(a), p, rho, r) for a, p in zip(net0.a, P, strict=True)), strict=True)
    return LinearPhase(np.array(c), np.array(g), np.array(S))


def _leaders(lp: LinearPhase, sign: float, z: np.ndarray):
    """Fastest neurons of one sign: (rate g, mass u0, capacity K = |beta_S|, mask, pattern S)."""
    mine = (np.sign(lp.amplitude) == sign) & (lp.rate > 0)
    if not mine.any():
        return 0.0, 0.0, 0.0, mine, np.zeros(z.size, dtype=bool)
    g = lp.rate[mine].max()
    lead = mine & (lp.rate >= g * (1 - REL))
    S = lp.active[np.flatnonzero(lead)[0]]
    return g, float(np.sum(lp.amplitude[lead] ** 2)), float(np.linalg.norm(z[S])), lead, S


def escape_times(
    data: Dataset, scale: float | None = None, *, net0: Network | None = None, tol: float = ORTHO_TOL
) -> EscapeTimes:
    r"""Predicted escape time of each class from the saddle at zero (chapter 3, "Saddle to saddle").
    Leading order (``scale``): :math:`t_\pm = \ln(1/\varepsilon)/\|D_\pm\|` (``rf.ncf.escape_time``
    per class), i.e. :math:`n\ln(1/\varepsilon)/\|y^\pm\|` for unit norms. Refined (``net0``): the
    fastest neurons of a sign (rate :math:`g`, pattern :math:`S`, the whole class when the width
    allows) have mass :math:`u = \sum_j\|w_j\|^2 \approx u_0 e^{2gt}`, :math:`u_0 = \sum_j c_j^2`
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
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [2.0, -1.0])
    >>> [round(t, 3) for t in rf.orthogonal.escape_times(data, 1e-6)]
    [13.816, 27.631]
    """
    X, y, r = check(data, tol)
    if (scale is None) == (net0 is None):
        raise ValueError("give exactly one of `scale` (leading order) or `net0` (refined)")
    if net0 is None:
        dv = class_driving_vectors(data, tol=tol)
        g = [float(np.linalg.norm(D)) for D in (dv.plus, dv.minus)]
        return EscapeTimes(*(escape_time(scale, gi) if gi > 0 else np.nan for gi in g))
    lp, times = linear_phase(net0, data, tol=tol), []
    for sign in (1.0, -1.0):
        g, u0, K, _, _ = _leaders(lp, sign, z_of(y, r))
        t = np.log(max(K / u0 - 1, 1.0)) / (2 * g) if g > 0 else np.inf
        times.append(t if np.any(sign * y > 0) else np.nan)
    return EscapeTimes(*map(float, times))


def escape_time_band(net0: Network, data: Dataset, *, tol: float = ORTHO_TOL) -> np.ndarray:
    r"""First-order bound on how much the slower neurons advance each class's escape, shape (2,).

    The refined :func:`escape_times` follow the fastest neurons of each sign only. Neurons of
    the same sign with a smaller rate :math:`g_i < g` add mass
    :math:`v = \sum_i c_i^2 e^{2 g_i t_\pm}` at the refined time :math:`t_\pm`, which
    advances the escape by at most :math:`2v/(\|D_\pm\|\,\|y^\pm\|)` to first order. The
    observed escape time lies in ``[refined - band, refined]`` (chapter 3, "Saddle to
    saddle"). Same assumptions as :func:`escape_times`.
    """
    lp = linear_phase(net0, data, tol=tol)
    t_fast = escape_times(data, net0=net0, tol=tol)
    dv, y = class_driving_vectors(data, tol=tol), data.y
    band = []
    for sign, t_c, D, y_c in zip((1, -1), t_fast, (dv.plus, dv.minus), (y[y > 0], y[y < 0]), strict=True):
        mine = (np.sign(lp.amplitude) == sign) & (lp.rate > 0)
        if not mine.any() or not np.isfinite(t_c):
            band.append(np.nan)
            continue
        slow = mine & (lp.rate < lp.rate[mine].max() * (1 - REL))
        v = np.sum(lp.amplitude[slow] ** 2 * np.exp(2 * lp.rate[slow] * t_c))
        band.append(2 * v / (np.linalg.norm(D) * np.linalg.norm(y_c)))
    return np.array(band)


def observed_escape_times(
    traj: Trajectory, data: Dataset, *, fraction: float = 0.25, tol: float = ORTHO_TOL
) -> EscapeTimes:
    r"""Escape times of a run: first time the class loss :math:`\frac1{2n}\sum_{\pm y_k>0}(f(x_k) -
    y_k)^2` falls to ``fraction`` of :math:`\frac1{2n}\sum_{\pm y_k > 0} y_k^2`, interpolated
    log-linearly between snapshots. The default 1/4 matches :func:`escape_times`. Returns
    :class:`EscapeTimes` (inf if not reached).

    Examples
    --------
    >>> import reluflow as rf
    >>> data, net0 = rf.datasets.orthogonal([1.0, -1.0]), rf.small_init(8, 2, 1e-4, seed=0)
    >>> traj = rf.gradient_flow(net0, data, "square", 40.0)
    >>> [round(t, 1) for t in rf.orthogonal.observed_escape_times(traj, data)]
    [18.3, 20.1]
    >>> [round(t, 1) for t in rf.orthogonal.escape_times(data, net0=net0)]
    [18.3, 20.1]
    """
    _, y, _ = check(data, tol)
    fraction = positive_scalar(fraction, "fraction")
    F = outputs(traj, data)
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
