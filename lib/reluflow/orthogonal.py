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

from . import _ortho_base
from ._ortho_base import _check, _z, class_driving_vectors
from ._ortho_bias import Kinks, bias_data, kink_picture, plot_kinks
from ._ortho_escape import (
    EscapeTimes,
    LinearPhase,
    _leaders,
    escape_time_band,
    escape_times,
    linear_phase,
    observed_escape_times,
)
from .network import Network
from .trajectory import Trajectory

__all__ = [
    "ORTHO_TOL", "EscapeTimes", "Kinks", "LinearPhase", "MinNorm", "bias_data", "class_driving_vectors",
    "escape_time_band", "escape_times", "excess_exponent", "kink_picture", "linear_phase", "min_norm_dual", "min_norm_excess",
    "min_norm_interpolant", "observed_escape_times", "plateau_levels", "plot_kinks", "predicted_excess",
]  # fmt: skip

#: Relative orthogonality tolerance: :math:`|\langle x_k, x_l\rangle| \le` ORTHO_TOL
#: :math:`\|x_k\|\|x_l\|` for :math:`k \ne l`.
ORTHO_TOL = _ortho_base.ORTHO_TOL

# Parts of this module live in private modules (to keep files short); they are documented here.
for _obj in (Kinks, bias_data, kink_picture, plot_kinks, EscapeTimes, LinearPhase, escape_time_band,
             escape_times, linear_phase, observed_escape_times, class_driving_vectors):  # fmt: skip
    _obj.__module__ = __name__
del _obj


class MinNorm(NamedTuple):
    """:func:`min_norm_interpolant`: the minimal value and one minimiser."""

    value: float
    net: Network


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
