r"""One clock for the first escape from the origin (book chapter 6, ``book/ch6_synthesis.ipynb``,
section "One clock").

With frozen residual weights :math:`\rho^0` gradient flow is the NCF flow, which is linear in the
init scale: started at :math:`\varepsilon\theta_0` it is :math:`\varepsilon\,\theta^{\mathcal
N}(t;\theta_0)`. Put :math:`\Lambda(t) = \tfrac12\ln\|\theta^{\mathcal N}(t;\theta_0)\|^2`. The
NCF prediction of the first time :math:`T_M` at which :math:`\|\theta\|^2` reaches a small mass M
solves :math:`\ln\varepsilon + \Lambda(T) = \tfrac12\ln M`. Once the neurons have aligned,
:math:`\Lambda(t) = g^\star t + h + o(1)` with :math:`g^\star = \max|G_{\rho^0}|` and the *head
start* h, so

.. math:: T_M = \frac{\ln(1/\varepsilon)}{g^\star} + c_M + o(1),\qquad
          c_M = \frac{\tfrac12\ln M - h}{g^\star}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import positive_scalar
from ..data import Dataset
from ..flow import gradient_flow
from ..gradient import check_problem
from ..losses import LossLike
from ..network import Network
from ..trajectory import Trajectory
from .kkt import max_ncf

__all__ = ["EscapeClock", "escape_clock", "mass_time", "clock_tolerance"]

#: The mass M at which the escape is timed, :math:`\|\theta(T_M)\|^2 = M` (ours).
MASS = 1e-2
#: Length of the NCF flow of :func:`escape_clock`, in units of :math:`1/g^\star`.
HORIZON = 60.0


@dataclass(frozen=True, eq=False)
class EscapeClock:
    r"""The NCF flow's clock for the first escape (:func:`escape_clock`).

    Attributes
    ----------
    g_star : float
        :math:`g^\star = \max_v|G_{\rho^0}(v)|`.
    head_start : float
        :math:`h = \lim_t \Lambda(t) - g^\star t` (log units), read at the end of the flow.
    mass : float
        M.
    offset : float
        :math:`c_M = (\tfrac12\ln M - h)/g^\star`, the O(1) term of :math:`T_M`.
    t, log_norm : ndarray, shape (k,)
        Times and :math:`\Lambda(t)` of the NCF flow from the unit-scale :math:`\theta_0`.
    """

    g_star: float
    head_start: float
    mass: float
    offset: float
    t: np.ndarray
    log_norm: np.ndarray

    def predict(self, scale: float) -> float:
        r"""The NCF prediction of :math:`T_M` for the init ``scale`` times :math:`\theta_0`:
        the root of :math:`\ln\varepsilon + \Lambda(T) = \tfrac12\ln M` (nan if the flow never
        reaches M)."""
        target = 0.5 * np.log(self.mass) - np.log(positive_scalar(scale, "scale"))
        return _crossing(self.t, self.log_norm, target)

    def asymptote(self, scale: float) -> float:
        r""":math:`\ln(1/\varepsilon)/g^\star + c_M`, the aligned part of :meth:`predict`."""
        return float(np.log(1.0 / positive_scalar(scale, "scale")) / self.g_star + self.offset)


def _crossing(t: np.ndarray, y: np.ndarray, level: float) -> float:
    """First time the sampled curve y(t) reaches ``level`` (linear interpolation), nan if never."""
    above = np.flatnonzero(y >= level)
    if above.size == 0:
        return float("nan")
    k = above[0]
    if k == 0:
        return float(t[0])
    return float(t[k - 1] + (t[k] - t[k - 1]) * (level - y[k - 1]) / (y[k] - y[k - 1]))


def escape_clock(
    net0: Network, data: Dataset, loss: LossLike, *, mass: float = MASS, horizon: float = HORIZON, num: int = 6001
) -> EscapeClock:
    r"""The clock of the first escape from the origin for initialisations
    :math:`\varepsilon\theta_0` (book chapter 6, "One clock"; see the module docstring).

    Runs the NCF flow (the linear loss with the weights :math:`\rho^0` of ``loss``) from
    ``net0`` to ``horizon / g*`` and records :math:`\Lambda(t)`.

    Parameters
    ----------
    net0 : Network
        :math:`\theta_0`, the initialisation at unit scale (e.g. ``rf.small_init(m, d, 1.0)``).
    data : Dataset
    loss : Loss or str
    mass : float
        M (ours: 1e-2).
    horizon : float
        Length of the NCF flow in units of :math:`1/g^\star`.
    num : int
        Number of snapshots.

    Returns
    -------
    EscapeClock

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.orthogonal([1.2, 0.8, -0.5, -0.3])
    >>> clock = rf.ncf.escape_clock(rf.small_init(30, 4, 1.0, seed=0), data, "square")
    >>> round(clock.g_star, 4), round(clock.head_start, 3)
    (0.3606, 0.396)
    """
    lo = check_problem(net0, data, loss)
    mass, horizon = positive_scalar(mass, "mass"), positive_scalar(horizon, "horizon")
    rho0 = lo.rho0(data)
    g_star = max_ncf(data.weighted(rho0)).g_star
    t = np.linspace(0.0, horizon / g_star, int(num))
    ncf_data = Dataset(data.X, rho0 * data.n, weights=np.full(data.n, 1.0 / data.n))
    run = gradient_flow(net0, ncf_data, "linear", t[-1], t_eval=t, rtol=1e-10)
    if not run.success:
        raise RuntimeError(f"rf.ncf.escape_clock: the NCF flow failed: {run.message}")
    lam = 0.5 * np.log(run.norm_sq())
    h = float(lam[-1] - g_star * t[-1])
    return EscapeClock(g_star, h, mass, (0.5 * np.log(mass) - h) / g_star, t, lam)


def mass_time(traj: Trajectory, mass: float = MASS) -> float:
    r"""The first time :math:`T_M` at which :math:`\|\theta(t)\|^2` reaches ``mass``
    (interpolated in :math:`\ln\|\theta\|^2` between snapshots; nan if never).

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.datasets.orthogonal([1.0, -1.0])
    >>> traj = rf.gradient_flow(rf.small_init(10, 2, 1e-3, seed=0), data, "square", 30.0, t_eval="log")
    >>> 0 < rf.ncf.mass_time(traj, 1e-2) < 30
    True
    """
    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    mass = positive_scalar(mass, "mass")
    with np.errstate(divide="ignore"):
        return _crossing(traj.t, np.log(traj.norm_sq()), np.log(mass))


def _lipschitz(loss, data: Dataset, mass: float) -> float:
    r""":math:`\kappa = \sup|\partial\rho_i/\partial f_i|/c_i` on :math:`|f_i| \le M\|x_i\|/2`."""
    kappa = {"square": 1.0, "logistic": 0.25, "linear": 0.0}
    if loss.name in kappa:
        return kappa[loss.name]
    if loss.name == "exponential":
        return float(np.exp(mass * np.linalg.norm(data.X, axis=1).max() / 2))
    raise ValueError(f"clock_tolerance knows the square, logistic, exponential and linear losses; got {loss!r}")


def clock_tolerance(traj: Trajectory, data: Dataset, loss: LossLike, mass: float = MASS) -> float:
    r"""First-order bound on :math:`|T_M - T_M^{\mathcal N}|`, computed on the run (book chapter 6,
    "One clock"):

    .. math:: |T_M - T_M^{\mathcal N}| \lesssim
              \frac{\kappa\,C_X}{2g^\star}\int_0^{T_M}\|\theta(t)\|^2\,dt,\qquad
              C_X = \sum_i c_i\|x_i\|^2 .

    Along the flow :math:`\frac{d}{dt}\ln\|\theta\|^2 = 4\sum_i\rho_i(t)f_i/\|\theta\|^2`, and
    while :math:`\|\theta\|^2 \le M`, :math:`|\rho_i - \rho^0_i| \le \kappa c_i|f_i|` with
    :math:`|f_i| \le \tfrac12\|\theta\|^2\|x_i\|`: the growth rate of :math:`\ln\|\theta\|^2`
    differs from the NCF's by at most :math:`\kappa C_X\|\theta\|^2`. Dividing the accumulated
    difference by the growth rate :math:`2g^\star` at :math:`T_M` gives the bound. Here
    :math:`\kappa` bounds :math:`|\partial\rho_i/\partial f_i|/c_i`: 1 (square), 1/4 (logistic),
    :math:`e^{M\max\|x_i\|/2}` (exponential). Changes of direction caused by the residuals are of
    second order at a smooth maximiser and are not included.

    Raises
    ------
    ValueError
        If the run never reaches ``mass``, or for another loss.
    """
    lo = _checked_loss(traj, data, loss)
    mass = positive_scalar(mass, "mass")
    T = mass_time(traj, mass)
    if not np.isfinite(T):
        raise ValueError(f"the run never reaches |θ|² = {mass}; extend it past T_M")
    keep = traj.t <= T
    ns = traj.norm_sq()
    t = np.append(traj.t[keep], T)
    integral = float(np.trapezoid(np.append(ns[keep], mass), t))
    g_star = max_ncf(data.weighted(lo.rho0(data))).g_star
    C_X = float(data.weights @ np.sum(data.X**2, axis=1))
    return _lipschitz(lo, data, mass) * C_X * integral / (2 * g_star)


def _checked_loss(traj: Trajectory, data: Dataset, loss: LossLike):
    """The Loss of ``loss``, checked against the run's first network and ``data``."""
    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    return check_problem(traj.net(0), data, loss)
