r"""Small neurons near a saddle follow the moving critical direction of the residual
correlation (book chapter 2, "Near a saddle").

A neuron that stays in one activation cell :math:`S` sees the driving vector
:math:`D(t) = \sum_{i\in S}\rho_i(t)\,x_i` of the current residual weights. Its direction turns
towards :math:`u(t) = \mathrm{sign}(a)\,D(t)/\|D(t)\|`, the smooth critical direction of
:math:`G_{\rho(t)}` in that cell, while :math:`u(t)` itself moves as the residuals change.
:func:`track_direction` measures the angle to :math:`u(t)` on a run and bounds how far the
neuron may lag behind it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import Dataset
from ..diagnostics import outputs
from ..gradient import check_problem
from ..losses import LossLike
from ..trajectory import Trajectory

__all__ = ["Tracking", "track_direction"]


@dataclass(frozen=True, eq=False)
class Tracking:
    r"""Result of :func:`track_direction`; q is the number of neurons tracked, k the number of
    snapshots in the window.

    Attributes
    ----------
    t : ndarray, shape (k,)
        Snapshot times in the window.
    neurons : ndarray of int, shape (q,)
    target : ndarray, shape (k, q, d)
        :math:`u_j(t) = \mathrm{sign}(a_j)\,D_j(t)/\|D_j(t)\|`.
    angle : ndarray, shape (k, q)
        :math:`\angle(w_j(t), u_j(t))` in radians.
    bound : ndarray, shape (k, q)
        The comparison bound :math:`b_j(t) \ge` ``angle`` (equal at the first snapshot).
    rate : ndarray, shape (k, q)
        The turning rate :math:`\kappa_j = |a_j|\,\|D_j\|/\|w_j\|`.
    """

    t: np.ndarray
    neurons: np.ndarray
    target: np.ndarray
    angle: np.ndarray
    bound: np.ndarray
    rate: np.ndarray


def _angle(A: np.ndarray, U: np.ndarray) -> np.ndarray:
    """Angle between the rows of A and the unit rows of U (last axis), accurate near 0."""
    along = np.sum(A * U, axis=-1)
    return np.arctan2(np.linalg.norm(A - along[..., None] * U, axis=-1), along)


def _window(traj: Trajectory, t_start, t_stop) -> np.ndarray:
    lo = traj.t[0] if t_start is None else float(t_start)
    hi = traj.t[-1] if t_stop is None else float(t_stop)
    k = np.flatnonzero((traj.t >= lo) & (traj.t <= hi))
    if k.size < 2:
        raise ValueError(f"the window [{lo:g}, {hi:g}] holds {k.size} snapshot(s); at least 2 are needed")
    return k


def _check_fixed(name: str, values: np.ndarray, t: np.ndarray, neurons: np.ndarray) -> None:
    """Raise if ``values`` (k, q, ...) changes along the window for some neuron."""
    changed = np.any((values != values[:1]).reshape(values.shape[0], values.shape[1], -1), axis=2)
    if np.any(changed):
        k, q = np.argwhere(changed)[0]
        raise ValueError(
            f"neuron {neurons[q]} changes its {name} at t = {t[k]:.6g}: the bound holds inside one "
            "activation cell; choose a window (t_start, t_stop) in which it is fixed"
        )


def _bound(angle0: np.ndarray, rate: np.ndarray, step: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """b_{k+1} = b_k exp(-min(kappa_k, kappa_{k+1}) c_k dt_k) + step_k, c_k = sin(b)/b at b_k + step_k."""
    b = np.empty_like(rate)
    b[0] = angle0
    for k in range(dt.size):
        top = np.minimum(b[k] + step[k], np.pi)
        c = np.where(top > 0, np.sin(top) / np.where(top > 0, top, 1.0), 1.0)
        b[k + 1] = b[k] * np.exp(-np.minimum(rate[k], rate[k + 1]) * c * dt[k]) + step[k]
    return b


def track_direction(
    traj: Trajectory, data: Dataset, loss: LossLike, neurons, *, t_start: float | None = None,
    t_stop: float | None = None,
) -> Tracking:
    r"""How closely neurons follow the moving critical direction of the residual correlation
    (book chapter 2, "Near a saddle").

    In a fixed activation cell :math:`S_j`, with :math:`D_j(t) = \sum_{i\in S_j}\rho_i(t)x_i`
    (:math:`\rho_i = -\partial L/\partial f(x_i)` on the run), the direction obeys exactly
    :math:`\dot{\hat w}_j = (a_j/\|w_j\|)(I - \hat w_j\hat w_j^\top)D_j`. With
    :math:`u_j = \mathrm{sign}(a_j)D_j/\|D_j\|` and :math:`\kappa_j = |a_j|\|D_j\|/\|w_j\|`, the
    angle :math:`e_j = \angle(w_j, u_j)` satisfies

    .. math:: \dot e_j \le -\kappa_j\sin e_j + \|\dot u_j\| ,

    so :math:`e_j \le b_j` where :math:`b_j(t_0) = e_j(t_0)` and, between snapshots,
    :math:`b_{k+1} = b_k\,e^{-\min(\kappa_k, \kappa_{k+1})\,c_k\,\Delta t_k} +
    \angle(u_k, u_{k+1})` with :math:`c_k = \sin\beta/\beta \le \sin e/e` for
    :math:`e \le \beta = b_k + \angle(u_k, u_{k+1})`. A neuron that tracks :math:`u_j` lags by at
    most :math:`b_j`: the target's motion divided by the turning rate, plus the decaying
    initial angle.

    Parameters
    ----------
    traj : Trajectory
        A run on ``data`` with ``loss``; its snapshots must resolve the motion of
        :math:`u_j` (the chord :math:`\angle(u_k, u_{k+1})` stands for the arc; refine
        ``t_eval`` if the target turns back between snapshots).
    data : Dataset
    loss : Loss or str
    neurons : int or sequence of int
        Indices of the neurons to track.
    t_start, t_stop : float, optional
        The window (default: the whole run).

    Returns
    -------
    Tracking

    Raises
    ------
    ValueError
        If a neuron index is out of range, the window holds fewer than 2 snapshots, or in it
        a neuron changes its activation pattern (strict signs of :math:`\langle w_j,
        x_i\rangle`) or the sign of :math:`a_j`, or has :math:`w_j = 0` or :math:`D_j = 0`.

    Notes
    -----
    When :math:`u_j` lies in the cell :math:`S_j` it is a smooth critical direction of the
    residual correlation :math:`G_{\rho(t)}` (:func:`kkt_directions` of
    :func:`residual_correlation`), a KKT direction of the saddle-relative NCF.

    Examples
    --------
    >>> import numpy as np, reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> net0 = rf.Network([-np.sqrt(2e-6)], [[-1e-3, 1e-3]])  # active on the second point only
    >>> traj = rf.gradient_flow(net0, data, "square", 20.0, t_eval=np.linspace(0, 20, 201))
    >>> tr = rf.ncf.track_direction(traj, data, "square", 0, t_start=5.0)
    >>> tr.target[-1, 0].round(6), bool(np.all(tr.angle <= tr.bound + 1e-12))
    (array([0., 1.]), True)
    """
    if not isinstance(traj, Trajectory):
        raise TypeError(f"`traj` must be a rf.Trajectory; got {type(traj).__name__}")
    loss_obj = check_problem(traj.net(0), data, loss)
    m = traj.a.shape[1]
    idx = np.atleast_1d(np.asarray(neurons))
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer) or np.any((idx < -m) | (idx >= m)):
        raise ValueError(f"`neurons` must be indices in [0, {m}); got {neurons!r}")
    idx = idx % m
    k = _window(traj, t_start, t_stop)
    t, a, W = traj.t[k], traj.a[k][:, idx], traj.W[k][:, idx]
    active = np.einsum("kqd,nd->kqn", W, data.X) > 0
    _check_fixed("activation pattern", active, t, idx)
    _check_fixed("sign of a_j", np.sign(a), t, idx)
    rho = loss_obj.residuals(outputs(traj, data)[k], data)
    D = np.einsum("kn,qn,nd->kqd", rho, active[0], data.X)
    nD, nw = np.linalg.norm(D, axis=2), np.linalg.norm(W, axis=2)
    if np.any(nD == 0) or np.any(nw == 0) or np.any(a == 0):
        raise ValueError("a tracked neuron has w_j = 0, a_j = 0 or D_j = 0 in the window: its target is undefined")
    u = np.sign(a)[..., None] * D / nD[..., None] + 0.0  # no negative zeros
    angle, rate = _angle(W, u), np.abs(a) * nD / nw
    step = _angle(u[1:], u[:-1])
    bound = _bound(angle[0], rate, step, np.diff(t))
    return Tracking(t, idx, u, angle, bound, rate)
