r"""Orthogonal inputs (book chapter 3, "Orthogonal inputs: alignment, saddle-to-saddle, minimum
norm", ``book/ch3_orthogonal.ipynb``; Boursier, Pillaud-Vivien & Flammarion, NeurIPS 2022).

Setting: pairwise-orthogonal inputs :math:`x_1, \dots, x_n` of norms :math:`r_k`, real labels,
the square loss :math:`L = \frac1{2n}\sum_k (f(x_k) - y_k)^2` and a small balanced initialisation
of scale :math:`\varepsilon`. Notation: :math:`z_k = y_k/r_k`, classes :math:`P_\pm = \{k : \pm y_k
> 0\}`, driving vectors :math:`D_S = \frac1n\sum_{k\in S} |y_k|\,x_k` with :math:`D_\pm = D_{P_\pm}`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_finite_array, positive_scalar
from .data import Dataset, with_bias
from .network import Network
from .trajectory import Trajectory

__all__ = [
    "ORTHO_TOL", "EscapeTimes", "Kinks", "LinearPhase", "MinNorm", "bias_data", "class_driving_vectors",
    "escape_time_band", "escape_times", "excess_exponent", "kink_picture", "linear_phase", "min_norm_dual", "min_norm_excess",
    "min_norm_interpolant", "observed_escape_times", "plateau_levels", "plot_kinks", "predicted_excess",
]  # fmt: skip

#: Relative orthogonality tolerance: :math:`|\langle x_k, x_l\rangle| \le` ORTHO_TOL
#: :math:`\|x_k\|\|x_l\|` for :math:`k \ne l`.
ORTHO_TOL = 1e-9
#: Relative tolerance for neurons sharing the fastest growth rate.
_REL = 1e-9


class MinNorm(NamedTuple):
    """:func:`min_norm_interpolant`: the minimal value and one minimiser."""

    value: float
    net: Network


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


class Kinks(NamedTuple):
    """:func:`kink_picture`: kink ``position``, output ``weight``, ``direction``, each (m,)."""

    position: np.ndarray
    weight: np.ndarray
    direction: np.ndarray


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


def min_norm_dual(X, y, *, tol: float = ORTHO_TOL) -> np.ndarray:
    r"""An optimal dual vector :math:`\nu`, shape (n,), of :func:`min_norm_interpolant`:
    :math:`\nu_k r_k = z^+_k/\|z^+\| - z^-_k/\|z^-\|`, so :math:`\langle\nu, y\rangle = \min` and
    :math:`|\sum_k \nu_k\,\sigma(\langle v, x_k\rangle)| \le 1` for unit :math:`v`.

    Examples
    --------
    >>> from reluflow.orthogonal import min_norm_dual
    >>> min_norm_dual([[1.0, 0.0], [0.0, 2.0]], [3.0, -4.0])
    array([ 1. , -0.5])
    """
    X, y, r = _check(X, y, tol)
    z, nu = _z(y, r), np.zeros_like(y)
    for part in (np.clip(z, 0, None), np.clip(z, None, 0)):
        if np.any(part):
            nu += _z(part / np.linalg.norm(part), r)
    return nu


def min_norm_interpolant(X, y, *, tol: float = ORTHO_TOL) -> MinNorm:
    r"""Minimum of :math:`\frac12\|\theta\|^2` over interpolants of orthogonal data, and a minimiser.

    .. math:: \min\Big\{\tfrac12\|\theta\|^2 : f_\theta(x_k) = y_k\ \forall k\Big\}
              = \|\beta_+\| + \|\beta_-\| = \|z^+\| + \|z^-\|,
              \qquad \beta_\pm = \sum_{\pm y_k > 0} \frac{|y_k|}{\|x_k\|^2}\,x_k .

    ``X`` (n, d): pairwise-orthogonal rows of any norms, :math:`n \le d`, a zero row only with
    :math:`y_k = 0`; ``y`` (n,): real labels (zeros, a single sign allowed); ``tol``: relative
    orthogonality tolerance. Returns :class:`MinNorm` ``(value, net)``, ``net`` balanced with one
    neuron :math:`(\pm\|\beta_\pm\|^{1/2}, \beta_\pm/\|\beta_\pm\|^{1/2})` per sign present (one
    zero neuron if y = 0). ValueError, as in every function taking ``X, y``: non-finite input,
    mismatched lengths, :math:`n > d`, non-orthogonal rows, a zero input with a nonzero label.

    Notes
    -----
    As :math:`|a|\|w\| \le \frac12(a^2 + \|w\|^2)`, with equality when balanced, the problem is
    :math:`\min\sum_j |a_j|\|w_j\|`. Weak duality: if :math:`|G_\nu(v)| \le 1` on the unit sphere,
    :math:`G_\nu(v) = \sum_k \nu_k\sigma(\langle v, x_k\rangle)`, every interpolant has

    .. math:: \langle \nu, y\rangle = \sum_j a_j\|w_j\|\,G_\nu(\hat w_j) \le \sum_j |a_j|\|w_j\|.

    With :math:`\langle v, x_k\rangle = r_k v_k` and :math:`\mu_k = \nu_k r_k`,
    :math:`\sup_v G_\nu = \|\mu^+\|` and :math:`\inf_v G_\nu = -\|\mu^-\|`, so the dual is
    :math:`\max\{\langle\mu, z\rangle : \|\mu^+\|, \|\mu^-\| \le 1\}`, solved by
    :math:`\mu = z^+/\|z^+\| - z^-/\|z^-\|` (:func:`min_norm_dual`) with value
    :math:`\|z^+\| + \|z^-\|`. The network attains it: :math:`\langle\beta_\pm, x_k\rangle = |y_k|`
    on :math:`P_\pm`, 0 elsewhere, and :math:`\|\beta_\pm\| = \|z^\pm\|`. Chapter 3, "The
    minimum-norm interpolator".

    Examples
    --------
    >>> from reluflow.orthogonal import min_norm_interpolant
    >>> X = [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    >>> value, net = min_norm_interpolant(X, [3.0, -4.0])
    >>> value, net(X)
    (5.0, array([ 3., -4.]))
    """
    X, y, r = _check(X, y, tol)
    a, W = [], []
    for sign in (1.0, -1.0):
        beta = np.clip(sign * _z(_z(y, r), r), 0, None) @ X
        if np.any(beta):
            a.append(sign * np.linalg.norm(beta) ** 0.5)
            W.append(beta / np.linalg.norm(beta) ** 0.5)
    if not a:
        return MinNorm(0.0, Network([0.0], np.zeros((1, X.shape[1]))))
    z = _z(y, r)
    return MinNorm(float(np.linalg.norm(z[z > 0]) + np.linalg.norm(z[z < 0])), Network(a, np.array(W)))


def min_norm_excess(net: Network | Trajectory, X, y, *, tol: float = ORTHO_TOL) -> float | np.ndarray:
    r""":math:`\frac12\|\theta\|^2 - \min` (one value per snapshot for a Trajectory); the distance
    to the implicit-bias limit once the network interpolates (chapter 3, "How close to minimum norm").

    Examples
    --------
    >>> import reluflow as rf
    >>> from reluflow.orthogonal import min_norm_excess
    >>> min_norm_excess(rf.Network([2.0], [[2.0, 0.0]]), [[1.0, 0.0], [0.0, 1.0]], [4.0, 0.0])
    0.0
    """
    return 0.5 * net.norm_sq() - min_norm_interpolant(X, y, tol=tol).value


def plateau_levels(X, y, *, tol: float = ORTHO_TOL) -> np.ndarray:
    r"""Loss levels of the saddle-to-saddle staircase, shape (3,), or (2,) with one label sign:

    .. math:: L_0 = \tfrac1{2n}\|y\|^2, \qquad L_1 = \tfrac1{2n}\|y^{\rm slow}\|^2, \qquad L_2 = 0,

    the slow class having the smaller :math:`\|D_\pm\|` (for equal norms, the smaller
    :math:`\|y^\pm\|`). Assumes orthogonal inputs, a small balanced initialisation and enough
    width that some neuron of each sign starts active on its whole class (each class is then fit
    in one step). Chapter 3, "Saddle to saddle".

    Examples
    --------
    >>> from reluflow.orthogonal import plateau_levels
    >>> plateau_levels([[1.0, 0.0], [0.0, 1.0]], [2.0, -1.0])
    array([1.25, 0.25, 0.  ])
    """
    X, y, _ = _check(X, y, tol)
    L0 = y @ y / (2 * y.size)
    if not (np.any(y > 0) and np.any(y < 0)):
        return np.array([L0, 0.0])
    dp, dm = class_driving_vectors(X, y, tol=tol)
    slow = y < 0 if np.linalg.norm(dp) >= np.linalg.norm(dm) else y > 0
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


def excess_exponent(X, y, *, tol: float = ORTHO_TOL) -> float:
    r"""Worst-case exponent :math:`\alpha` in :math:`\frac12\|\theta_\infty\|^2 - \min =
    O(\varepsilon^\alpha)` (chapter 3, "How close to minimum norm"),

    .. math:: \alpha = \min\Big(2,\ \min_\pm 2\big(1 - \max_{S\subsetneq P_\pm}\|D_S\|/\|D_\pm\|\big)\Big).

    A neuron stuck on a part :math:`S` of its class grows like :math:`\varepsilon e^{\|D_S\|t}` until
    the class is fit at :math:`t \approx \ln(1/\varepsilon)/\|D_\pm\|`, then freezes with mass
    :math:`\varepsilon^{2(1-\|D_S\|/\|D_\pm\|)}`, which the excess sees linearly
    (:func:`predicted_excess`); the worst :math:`S` drops the point of least :math:`|y_k|r_k`.
    Assumes every part :math:`S` occurs as a settled pattern (large width).

    Examples
    --------
    >>> from reluflow.orthogonal import excess_exponent
    >>> round(excess_exponent([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0]), 4)
    0.5858
    """
    X, y, r = _check(X, y, tol)
    alpha = 2.0
    for cls in (y > 0, y < 0):
        h = np.abs(y[cls]) * r[cls]
        if h.size >= 2:
            alpha = min(alpha, 2 * (1 - np.sqrt(1 - h.min() ** 2 / (h @ h))))
    return float(alpha)


def predicted_excess(X, y, net0: Network, *, tol: float = ORTHO_TOL) -> float:
    r"""Leading-order excess :math:`\frac12\|\theta_\infty\|^2 - \min` of the gradient-flow limit
    from ``net0`` (chapter 3, "How close to minimum norm"). Any balanced interpolant has excess
    :math:`\sum_j |a_j|\|w_j\|(1 - s_jG_\nu(\hat w_j))` (:func:`min_norm_dual`); the fastest neurons
    end along :math:`\beta_\pm`, where :math:`G_\nu = \pm 1`. A slower neuron of rate :math:`g_i`
    grows while the residual is :math:`y(1 - u/K)`, so it ends with :math:`\|w_i\|^2 =
    c_i^2(K/u_0)^{g_i/g}` (notation of :func:`escape_times`) and

    .. math:: \text{excess} \approx \sum_i c_i^2\,(K/u_0)^{g_i/g}\,\big(1 - s_i G_\nu(\hat D_{S_i})\big)
              + O(\varepsilon^2).

    Leading order for equal input norms; otherwise only its scaling is reliable. nan when some
    class has no neuron settled on the whole class (the limit need not be min-norm).

    Examples
    --------
    >>> import reluflow as rf
    >>> from reluflow.orthogonal import predicted_excess
    >>> net0 = rf.Network([1e-3, 1e-3], [[1e-3, 0.0], [0.6e-3, 0.8e-3]])
    >>> round(predicted_excess([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0], net0), 5)
    0.00659
    """
    X, y, r = _check(X, y, tol)
    lp, nu, total = linear_phase(net0, X, y, tol=tol), min_norm_dual(X, y, tol=tol), 0.0
    for sign in (1.0, -1.0):
        g, u0, K, lead, S = _leaders(lp, sign, _z(y, r))
        if not np.any(sign * y > 0):
            continue
        if g == 0 or not np.array_equal(S, sign * y > 0):
            return float("nan")
        for i in np.flatnonzero((np.sign(lp.amplitude) == sign) & (lp.rate > 0) & ~lead):
            h = np.abs(np.where(lp.active[i], y * r, 0.0))  # D_S in the basis x_k / r_k (times n)
            G = np.sum(nu * r * h) / np.linalg.norm(h)
            total += lp.amplitude[i] ** 2 * (K / u0) ** (lp.rate[i] / g) * (1 - sign * G)
    return float(total)


def bias_data(x, y) -> Dataset:
    r"""1-D data with a bias, inputs :math:`(x_i, 1)` (chapter 3, "One-dimensional data with a bias").

    Examples
    --------
    >>> from reluflow.orthogonal import bias_data
    >>> bias_data([-1.0, 0.5], [0.2, 1.0]).X
    array([[-1. ,  1. ],
           [ 0.5,  1. ]])
    """
    return Dataset(with_bias(as_finite_array(x, "x", ndim=1)), y)


def kink_picture(net: Network) -> Kinks:
    r"""Kinks of :math:`f(x) = \sum_j a_j\sigma(w_{j,1}x + w_{j,2})`: ``position``
    :math:`-w_{j,2}/w_{j,1}` (nan if :math:`w_{j,1} = 0`), ``weight`` :math:`s_j\|w_j\|` (the output
    weight :math:`a_j` when balanced) and ``direction`` :math:`\operatorname{sign} w_{j,1}` (+1:
    active right of the kink). ValueError unless the input dimension is 2, :math:`(x, 1)`.

    Examples
    --------
    >>> import reluflow as rf
    >>> from reluflow.orthogonal import kink_picture
    >>> kink_picture(rf.Network([-5.0], [[-3.0, 4.0]]))
    Kinks(position=array([1.33333333]), weight=array([-5.]), direction=array([-1.]))
    """
    if net.d != 2:
        raise ValueError(f"`net` must take inputs (x, 1), i.e. d = 2; got d = {net.d}")
    w1, w2 = net.W[:, 0], net.W[:, 1]
    position = np.divide(-w2, w1, out=np.full(net.m, np.nan), where=w1 != 0)
    return Kinks(position, np.sign(net.a) * np.linalg.norm(net.W, axis=1), np.sign(w1))


def plot_kinks(traj: Trajectory, times=None, ax=None, *, data: Dataset | None = None):
    r"""Snapshots of the kink picture, one panel per time (Fig. 2 of Boursier et al. 2022; chapter
    3, "One-dimensional data with a bias"): a star per neuron at (kink, :math:`s_j\|w_j\|`), blue
    for :math:`a_j > 0`, vermilion for :math:`a_j < 0`; with ``data`` (inputs :math:`(x, 1)`), the
    points and the network function in green.

    ``times``: default 0 and three log-spaced times (nearest snapshots are shown); ``ax``: one
    Axes per time, default a new row of panels. Returns ``(fig, axes)``.
    """
    import matplotlib.pyplot as plt

    from .plotting import NEGATIVE, PALETTE, POSITIVE

    pos = traj.t[traj.t > 0]
    default = np.r_[0.0, np.geomspace(pos[0], pos[-1], 3)] if pos.size else traj.t[:1]
    times = as_finite_array(default if times is None else times, "times", ndim=1)
    if ax is None:
        _, ax = plt.subplots(1, times.size, figsize=(3 * times.size, 3), sharey=True, layout="constrained")
    axes = np.atleast_1d(ax)
    if axes.size != times.size:
        raise ValueError(f"`ax` must hold one Axes per time ({times.size}); got {axes.size}")
    for axk, tau in zip(axes, times, strict=True):
        k = int(np.argmin(np.abs(traj.t - tau)))
        kinks = kink_picture(traj.net(k))
        for sign, colour, label in ((1, POSITIVE, "$a_j > 0$"), (-1, NEGATIVE, "$a_j < 0$")):
            keep = (np.sign(kinks.weight) == sign) & np.isfinite(kinks.position)
            axk.scatter(kinks.position[keep], kinks.weight[keep], marker="*", s=40, color=colour, label=label)
        if data is not None:
            xs = np.linspace(data.X[:, 0].min(), data.X[:, 0].max(), 200)
            axk.plot(xs, traj.net(k)(with_bias(xs)), color=PALETTE[2], label=r"$f_\theta$")
            axk.scatter(data.X[:, 0], data.y, color=PALETTE[2], s=15, label="data")
            axk.set_xlim(xs[0] - 0.1 * (xs[-1] - xs[0]), xs[-1] + 0.1 * (xs[-1] - xs[0]))
        axk.axhline(0.0, color="0.7", lw=0.5)
        axk.set(title=f"$t = {traj.t[k]:.3g}$", xlabel="kink position $-w_{j,2}/w_{j,1}$")
    axes[0].set_ylabel(r"output weight $s_j\|w_j\|$")
    axes[0].legend(frameon=False, fontsize="small")
    return axes[0].figure, axes
