r"""The minimum-norm interpolator of orthogonal data, its dual certificate, and how close
gradient flow from a small initialisation ends to it (book chapter 3, "The minimum-norm
interpolator" and "How close to minimum norm")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import Correlation, Dataset
from ..network import Network
from ..trajectory import Trajectory
from ._check import ORTHO_TOL, check, z_of
from .escape import _leaders, linear_phase

__all__ = ["MinNorm", "excess_exponent", "min_norm_dual", "min_norm_excess", "min_norm_interpolant", "predicted_excess"]


@dataclass(frozen=True, eq=False)
class MinNorm:
    """:func:`min_norm_interpolant`: the minimal value and one minimiser."""

    value: float
    net: Network


def min_norm_dual(data: Dataset, *, tol: float = ORTHO_TOL) -> Correlation:
    r"""An optimal dual certificate of :func:`min_norm_interpolant`, as the correlation
    :math:`G_\nu` of the data weighted by :math:`\nu`:
    :math:`\nu_k r_k = z^+_k/\|z^+\| - z^-_k/\|z^-\|`, so :math:`\langle\nu, y\rangle = \min` and
    :math:`|G_\nu(v)| = |\sum_k \nu_k\,\sigma(\langle v, x_k\rangle)| \le 1` for unit :math:`v`.

    Returns
    -------
    Correlation
        ``data.weighted(nu)``; ``.rho`` holds :math:`\nu`, shape (n,).

    Examples
    --------
    >>> import reluflow as rf
    >>> G = rf.orthogonal.min_norm_dual(rf.Dataset([[1.0, 0.0], [0.0, 2.0]], [3.0, -4.0]))
    >>> G.rho, G([[1.0, 0.0], [0.0, 1.0]])
    (array([ 1. , -0.5]), array([ 1., -1.]))
    """
    X, y, r = check(data, tol, mean=False)
    z, nu = z_of(y, r), np.zeros_like(y)
    for part in (np.clip(z, 0, None), np.clip(z, None, 0)):
        if np.any(part):
            nu += z_of(part / np.linalg.norm(part), r)
    return data.weighted(nu)


def min_norm_interpolant(data: Dataset, *, tol: float = ORTHO_TOL) -> MinNorm:
    r"""Minimum of :math:`\frac12\|\theta\|^2` over interpolants of orthogonal data, and a minimiser.

    .. math:: \min\Big\{\tfrac12\|\theta\|^2 : f_\theta(x_k) = y_k\ \forall k\Big\}
              = \|\beta_+\| + \|\beta_-\| = \|z^+\| + \|z^-\|,
              \qquad \beta_\pm = \sum_{\pm y_k > 0} \frac{|y_k|}{\|x_k\|^2}\,x_k .

    ``data``: pairwise-orthogonal points of any norms, :math:`n \le d`, a zero point only with
    :math:`y_k = 0`, real labels (zeros, a single sign allowed; the weights do not matter);
    ``tol``: relative orthogonality tolerance. Returns :class:`MinNorm` ``(value, net)``, ``net``
    balanced with one neuron :math:`(\pm\|\beta_\pm\|^{1/2}, \beta_\pm/\|\beta_\pm\|^{1/2})` per
    sign present (one zero neuron if y = 0). ValueError for :math:`n > d`, non-orthogonal
    points, or a zero point with a nonzero label.

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
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]], [3.0, -4.0])
    >>> best = rf.orthogonal.min_norm_interpolant(data)
    >>> best.value, best.net(data.X)
    (5.0, array([ 3., -4.]))
    """
    X, y, r = check(data, tol, mean=False)
    a, W = [], []
    for sign in (1.0, -1.0):
        beta = np.clip(sign * z_of(z_of(y, r), r), 0, None) @ X
        if np.any(beta):
            a.append(sign * np.linalg.norm(beta) ** 0.5)
            W.append(beta / np.linalg.norm(beta) ** 0.5)
    if not a:
        return MinNorm(0.0, Network([0.0], np.zeros((1, X.shape[1]))))
    z = z_of(y, r)
    return MinNorm(float(np.linalg.norm(z[z > 0]) + np.linalg.norm(z[z < 0])), Network(a, np.array(W)))


def min_norm_excess(net: Network | Trajectory, data: Dataset, *, tol: float = ORTHO_TOL) -> float | np.ndarray:
    r""":math:`\frac12\|\theta\|^2 - \min` (one value per snapshot for a Trajectory); the distance
    to the implicit-bias limit once the network interpolates (chapter 3, "How close to minimum norm").

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [4.0, 0.0])
    >>> rf.orthogonal.min_norm_excess(rf.Network([2.0], [[2.0, 0.0]]), data)
    0.0
    """
    if not isinstance(net, (Network, Trajectory)):
        raise TypeError(f"`net` must be a rf.Network or rf.Trajectory; got {type(net).__name__}")
    return 0.5 * net.norm_sq() - min_norm_interpolant(data, tol=tol).value


def excess_exponent(data: Dataset, *, tol: float = ORTHO_TOL) -> float:
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
    >>> import reluflow as rf
    >>> round(rf.orthogonal.excess_exponent(rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0])), 4)
    0.5858
    """
    _, y, r = check(data, tol)
    alpha = 2.0
    for cls in (y > 0, y < 0):
        h = np.abs(y[cls]) * r[cls]
        if h.size >= 2:
            alpha = min(alpha, 2 * (1 - np.sqrt(1 - h.min() ** 2 / (h @ h))))
    return float(alpha)


def predicted_excess(net0: Network, data: Dataset, *, tol: float = ORTHO_TOL) -> float:
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
    >>> net0 = rf.Network([1e-3, 1e-3], [[1e-3, 0.0], [0.6e-3, 0.8e-3]])
    >>> round(rf.orthogonal.predicted_excess(net0, rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0])), 5)
    0.00659
    """
    _, y, r = check(data, tol)
    lp, nu, total = linear_phase(net0, data, tol=tol), min_norm_dual(data, tol=tol).rho, 0.0
    for sign in (1.0, -1.0):
        g, u0, K, lead, S = _leaders(lp, sign, z_of(y, r))
        if not np.any(sign * y > 0):
            continue
        if g == 0 or not np.array_equal(S, sign * y > 0):
            return float("nan")
        for i in np.flatnonzero((np.sign(lp.amplitude) == sign) & (lp.rate > 0) & ~lead):
            h = np.abs(np.where(lp.active[i], y * r, 0.0))  # D_S in the basis x_k / r_k (times n)
            G = np.sum(nu * r * h) / np.linalg.norm(h)
            total += lp.amplitude[i] ** 2 * (K / u0) ** (lp.rate[i] / g) * (1 - sign * G)
    return float(total)
