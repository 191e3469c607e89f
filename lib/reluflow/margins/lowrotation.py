r"""Gradient flow in two low-rotation regimes (book chapter 5, ``book/ch5_margins.ipynb``;
Telgarsky, ICLR 2023).

* :func:`norm_only_flow` — the **norm-only** model: inner directions frozen, only the outer
  weights and the inner norms move (chapter 5, "Norm-only inner weights"); the core gradient
  by the chain rule, integrated by ``solve_ivp``.
* :func:`norm_only_dual_flow` — the same flow in closed form on the dual clock, for very long
  horizons, with a primal-dual certificate and a regret bound on the margin gap.
* :func:`ntk_flow` — the **near-initialisation** model in NTK scaling: :func:`reluflow.gradient_flow`
  with the outer rate :math:`1/m` (chapter 5, "Near initialisation").

Both settings are our reconstruction of the paper's (its conventions are unverified). Each
result carries ``status``, ``message`` and ``success`` as :class:`~reluflow.Trajectory` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .._status import Status, report
from .._validation import as_finite_array, pm_one_labels, positive_int, positive_scalar
from ..data import Dataset
from ..diagnostics import outputs, relative_movement
from ..flow import gradient_flow
from ..gradient import _gradient
from ..losses import LossLike
from ..losses import get as get_loss
from ..network import Network, _forward
from ..trajectory import Trajectory
from . import _dual_clock
from .certified import ntk_margin

__all__ = ["LogTimeStep", "NTKFlow", "NormOnlyDualFlow", "NormOnlyFlow", "norm_only_dual_flow", "norm_only_flow", "ntk_flow"]

_TRAIN = ("inner", "both")
_CLASSIFICATION = ("logistic", "exponential")


@dataclass(frozen=True, eq=False)
class NormOnlyFlow(Status):
    """:func:`norm_only_flow`: snapshots at ``t`` (shape (k,)) of ``a``, ``r`` (shape (k, m)),
    the loss and the normalised margin; ``V`` the unit directions; the solver's ``status``
    (0: reached ``t_end``, -1: failed; ``success`` is ``status == 0``), ``message`` and ``nfev``."""

    t: np.ndarray
    a: np.ndarray
    r: np.ndarray
    loss: np.ndarray
    margin: np.ndarray
    V: np.ndarray
    status: int
    message: str
    nfev: int


@dataclass(frozen=True, eq=False)
class NormOnlyDualFlow(Status):
    r""":func:`norm_only_dual_flow`: snapshots at dual times ``tau`` (shape (k,)) of
    :math:`\ln(1 + t)`, the cumulative dual mass ``P`` (shape (k, n)), ``a``, ``r`` (shape (k, m)),
    the normalised and smoothed margins, the certificate ``dual_upper`` and the bound
    ``regret_bound`` (``nan`` up to the window start ``tau0``); ``V``; the solver's ``status``
    (0: reached ``tau_end``, -1: failed; ``success`` is ``status == 0``), ``message`` and ``nfev``."""

    tau: np.ndarray
    log1p_t: np.ndarray
    P: np.ndarray
    a: np.ndarray
    r: np.ndarray
    margin: np.ndarray
    smoothed: np.ndarray
    dual_upper: np.ndarray
    regret_bound: np.ndarray
    tau0: float
    V: np.ndarray
    status: int
    message: str
    nfev: int


@dataclass(frozen=True, eq=False)
class NTKFlow:
    r""":func:`ntk_flow`: the run and its NTK diagnostics.

    Attributes
    ----------
    trajectory : Trajectory
        The run of :func:`reluflow.gradient_flow`, in the standard parameterisation
        :math:`\tilde a = a/\sqrt m` (so ``trajectory.net(k)`` is the network
        :math:`f = \sum_j\tilde a_j\sigma(\langle w_j, x\rangle)` at snapshot k).
    margin, lin_margin, movement : ndarray, shape (k,)
        The normalised margin, its linearisation at :math:`W_0` (``nan`` at t = 0) and
        :math:`\|W - W_0\|_F/\sqrt m`.
    lin_bound : float
        The weak-duality bound on ``lin_margin``.
    t, W, loss, status, message, success
        Those of ``trajectory``; ``a`` are the output weights in NTK units,
        :math:`\sqrt m\,\tilde a`, shape (k, m).
    """

    trajectory: Trajectory
    margin: np.ndarray
    lin_margin: np.ndarray
    lin_bound: float
    movement: np.ndarray

    t = property(lambda self: self.trajectory.t, doc="Snapshot times, shape (k,).")
    W = property(lambda self: self.trajectory.W, doc="Inner weights, shape (k, m, d).")
    loss = property(lambda self: self.trajectory.loss, doc="Loss at each snapshot, shape (k,).")
    status = property(lambda self: self.trajectory.status, doc="``trajectory.status``.")
    message = property(lambda self: self.trajectory.message, doc="``trajectory.message``.")
    success = property(lambda self: self.trajectory.success, doc="``trajectory.success``.")

    @property
    def a(self) -> np.ndarray:
        """Output weights in NTK units, :math:`\\sqrt m\\,\tilde a`, shape (k, m)."""
        return self.trajectory.a * np.sqrt(self.trajectory.a.shape[1])


def _check(data, loss):
    """Validate a classification Dataset (labels +1/-1) and a margin loss; return the Loss."""
    if not isinstance(data, Dataset):
        raise TypeError(f"`data` must be a rf.Dataset; got {type(data).__name__}")
    pm_one_labels(data.y, data.n)
    loss = get_loss(loss)
    if loss.name not in _CLASSIFICATION:
        raise ValueError(f"`loss` must be one of {_CLASSIFICATION}; got {loss.name!r}")
    return loss


def _times(t_eval, t_end: float, default) -> np.ndarray:
    t = default if t_eval is None else as_finite_array(t_eval, "t_eval", ndim=1)
    if t.size == 0 or np.any(np.diff(t) <= 0) or t[0] < 0 or t[-1] > t_end:
        raise ValueError(f"`t_eval` must be increasing, within [0, t_end = {t_end}]; got {t_eval!r}")
    return t


def _directions(V, d: int) -> np.ndarray:
    V = as_finite_array(V, "V", ndim=2)
    if V.shape[0] == 0 or V.shape[1] != d:
        raise ValueError(f"`V` must have shape (m >= 1, d = {d}); got {V.shape}")
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("`V` must have non-zero rows (directions)")
    return V / norms


def norm_only_flow(data: Dataset, V, t_end: float, *, scale: float = 1e-2, seed: int = 0,
                   loss: LossLike = "logistic", t_eval=None, rtol: float = 1e-8) -> NormOnlyFlow:  # fmt: skip
    r"""Gradient flow of the norm-only model :math:`f(x) = \sum_j a_jr_j\sigma(\langle\bar v_j,
    x\rangle)` with the unit directions :math:`\bar v_j` (rows of ``V``, normalised) frozen.

    It is the network with :math:`w_j = r_j\bar v_j`, so by the chain rule the field is the
    core gradient (:func:`reluflow.loss_and_grad`) read along the directions:
    :math:`\dot a_j = -\partial L/\partial a_j`, :math:`\dot r_j = -\langle\partial
    L/\partial w_j, \bar v_j\rangle`. With :math:`\Phi_{ij} = \sigma(\langle\bar v_j,
    x_i\rangle)` constant this is the smooth ODE

    .. math:: \dot a_j = r_j g_j,\quad \dot r_j = a_j g_j,\qquad
              g = \Phi^\top\rho,\ \rho_i = -\partial L/\partial f_i,

    on :math:`L = \sum_i c_i\ell(y_if_i)`, integrated by ``solve_ivp`` (DOP853). It conserves :math:`r_j^2 - a_j^2`. Start:
    :math:`r_j(0) = \text{scale}`, :math:`a_j(0) = \text{scale}\cdot\xi_j`,
    :math:`\xi_j \sim U(-1, 1)` (seeded), so :math:`r_j > |a_j|` for all time and the outer
    sign is free to change. ``margin`` is :math:`\bar\gamma = \min_iy_if(x_i)/\sum_j(a_j^2 +
    r_j^2)`; since :math:`2|a_jr_j| \le a_j^2 + r_j^2`, always
    :math:`\bar\gamma \le \gamma_V/2` with :math:`\gamma_V` = ``norm_only_margin(data,
    V).value`` (chapter 5, "Norm-only inner weights").

    Parameters
    ----------
    data : Dataset
        Labels :math:`\pm1`.
    V : array_like, shape (m, d)
        Non-zero directions.
    t_end : float
        Horizon (> 0). The margin approaches :math:`\gamma_V/2` only like a small power of
    :math:`1/\ln t`; for very long horizons use :func:`norm_only_dual_flow`.
    scale : float
        Initial size (> 0).
    seed : int
    loss : {"logistic", "exponential"}
    t_eval : array_like, optional
        Increasing snapshot times in :math:`[0, t_{end}]`; default 0 and 200 log-spaced times.
    rtol : float
        Relative tolerance (``atol = rtol * scale**2``).

    Returns
    -------
    NormOnlyFlow
        With ``status`` 0 when the horizon was reached, -1 when ``solve_ivp`` failed (then
        also a ``RuntimeWarning``).

    Raises
    ------
    ValueError
        For labels other than :math:`\pm1`, zero rows of ``V``, another loss, or
        non-positive ``t_end``/``scale``.
    """
    loss = _check(data, loss)
    V = _directions(V, data.d)
    t_end, scale = positive_scalar(t_end, "t_end"), positive_scalar(scale, "scale")
    m = V.shape[0]
    t = _times(t_eval, t_end, np.r_[0.0, np.geomspace(min(1e-2, t_end / 100), t_end, 199)])

    def rhs(_, z):
        a, r = z[:m], z[m:]
        _, ga, gW = _gradient(a, r[:, None] * V, data, loss)
        return np.r_[-ga, -np.sum(gW * V, axis=1)]

    z0 = np.r_[scale * np.random.default_rng(seed).uniform(-1.0, 1.0, m), np.full(m, scale)]
    sol = solve_ivp(rhs, (0.0, t_end), z0, method="DOP853", t_eval=t, rtol=rtol, atol=rtol * scale**2)
    a, r = sol.y[:m].T, sol.y[m:].T
    f = _forward(a, r[:, :, None] * V, data.X)[1]
    loss_t = np.array([loss.value(fk, data) for fk in f])
    margin = np.min(data.y * f, axis=1) / np.sum(a**2 + r**2, axis=1)
    res = NormOnlyFlow(sol.t, a, r, loss_t, margin, V, sol.status, sol.message, sol.nfev)
    return report(res, "norm_only_flow stopped early")


def norm_only_dual_flow(data: Dataset, V, tau_end: float, *, scale: float = 1e-2, seed: int = 0,
                        loss: LossLike = "logistic", tau_eval=None, tau0: float | None = None,
                        rtol: float = 1e-10) -> NormOnlyDualFlow:  # fmt: skip
    r"""The flow of :func:`norm_only_flow` (same start for the same ``scale`` and ``seed``) in
    closed form, integrated on the *dual clock* :math:`\tau = \int_0^t\lVert\rho\rVert_1\,ds`.

    With :math:`F_{ij} = y_i\sigma(\langle\bar v_j, x_i\rangle)` and :math:`P(t) =
    \int_0^t\lvert\rho\rvert\,ds` the solution is :math:`(r_j \pm a_j)(t) = (r_j \pm a_j)(0)
    e^{\pm(F^\top P(t))_j}`, so :math:`u = ar` is *exponential weights* over the experts
    :math:`(j, s)`, with weights :math:`x_{js} \propto (r_j + sa_j)(0)^2e^{2s(F^\top P)_j}`, played
    against the flow's own dual weights :math:`q = \lvert\rho\rvert/\lVert\rho\rVert_1`. Only the
    n-vector :math:`P` is integrated, :math:`dP/d\tau = q` (Radau, analytic Jacobian, all in
    logs), with :math:`\ln(1 + t)` alongside. Since :math:`\tau \approx \ln(\lVert\theta\rVert^2/
    \lVert\theta(0)\rVert^2)/(2\gamma_V)` and :math:`\lVert\theta\rVert^2 \approx 2\ln t/\gamma_V`,
    the dual clock grows like :math:`\ln\ln t`; on parity with 40 directions, :math:`\tau = 136`
    is :math:`\ln t \approx 2\times10^6`.

    Certificate (chapter 5, "Why the approach is so slow"). For a window start
    :math:`\tau_0` after separation and :math:`Q = (P(\tau) - P(\tau_0))/(\tau - \tau_0)` in the
    simplex, weak duality and the exponential-weights regret bound give

    .. math::
        2\tilde\gamma(\tau) \le 2\bar\gamma(\tau) \le \gamma_V \le \lVert F^\top Q\rVert_\infty
        \le 2\tilde\gamma(\tau) + \frac{\frac12\ln(1/x_{e^*}(\tau_0))
        + \int_{\tau_0}^\tau\varepsilon\,d\tau'}{\tau - \tau_0},

    with :math:`\tilde\gamma` the smoothed margin (nondecreasing, Lyu and Li), :math:`e^*` the
    expert attaining :math:`\lVert F^\top Q\rVert_\infty` and :math:`\varepsilon =
    ((2 + e^{-z_{\min}})\ln n + nL)\cdot2/\lVert\theta\rVert^2` (logistic; :math:`2\ln n/
    \lVert\theta\rVert^2` exponential). ``dual_upper`` is :math:`\lVert F^\top Q\rVert_\infty`,
    ``regret_bound`` the last fraction. Every expert keeps a positive weight
    (:math:`r_j^2 - a_j^2 > 0`), so the bound tends to 0: the margin converges to
    :math:`\gamma_V/2`, at worst like :math:`1/\tau`.

    Parameters
    ----------
    data, V, scale, seed, loss
        As in :func:`norm_only_flow`.
    tau_end : float
        Dual-clock horizon (> 0).
    tau_eval : array_like, optional
        Increasing snapshot times in :math:`[0, \tau_{end}]`; default 401 equispaced.
    tau0 : float, optional
        Window start: the first snapshot at or after ``tau0`` with :math:`nL < \ln 2`
        (logistic) or :math:`nL < 1` (exponential); default the first such snapshot.
    rtol : float
        Relative tolerance (``atol = rtol / 100``).

    Returns
    -------
    NormOnlyDualFlow
        ``margin`` and ``smoothed`` as in :func:`norm_only_flow` (:math:`\le \gamma_V/2`);
        ``dual_upper`` and ``regret_bound`` in units of :math:`\gamma_V`.

    Raises
    ------
    ValueError
        As :func:`norm_only_flow`, for a bad ``tau_end``/``tau_eval``, or when no snapshot at
        or after ``tau0`` is separated.
    """
    loss = _check(data, loss)
    V = _directions(V, data.d)
    tau_end, scale = positive_scalar(tau_end, "tau_end"), positive_scalar(scale, "scale")
    rtol = positive_scalar(rtol, "rtol")
    tau = _times(tau_eval, tau_end, np.linspace(0.0, tau_end, 401))
    F = data.y[:, None] * np.maximum(data.X @ V.T, 0.0)
    n, m = F.shape
    a0 = scale * np.random.default_rng(seed).uniform(-1.0, 1.0, m)
    l0 = _dual_clock.log_expert_weights0(a0, np.full(m, scale))
    sol = _dual_clock.integrate(F, l0, loss.name, tau_end, tau, rtol)
    k = sol.t.size
    a, r = np.empty((k, m)), np.empty((k, m))
    margin, smoothed, lnx, E = np.empty(k), np.empty(k), np.empty((k, 2 * m)), sol.y[n + 1]
    for i, P in enumerate(sol.y[:n].T):
        lw, lnW, _, _, v = _dual_clock.state(P, F, l0)
        g = F.T @ P
        rpa, rma = (scale + a0) * np.exp(g), (scale - a0) * np.exp(-g)
        a[i], r[i], margin[i], lnx[i] = (rpa - rma) / 2, (rpa + rma) / 2, v.min() / 2, lw - lnW
        lnnL = _dual_clock.log_n_loss(np.exp(lnW) * v, loss.name)
        smoothed[i] = _dual_clock.smoothed_twice(lnnL, lnW, loss.name) / 2
    start = np.flatnonzero(np.isfinite(smoothed) & (sol.t >= (0.0 if tau0 is None else tau0)))
    if start.size == 0:
        raise ValueError(f"no snapshot at or after `tau0` = {tau0} is separated; raise `tau_end`")
    k0 = start[0]
    dual_upper, bound = np.full(k, np.nan), np.full(k, np.nan)
    for i in range(k0 + 1, k):
        w = sol.t[i] - sol.t[k0]
        g = F.T @ (sol.y[:n, i] - sol.y[:n, k0]) / w
        e = int(np.argmax(np.r_[g, -g]))
        dual_upper[i] = abs(g[e % m])
        bound[i] = (-0.5 * lnx[k0, e] + E[i] - E[k0]) / w
    res = NormOnlyDualFlow(sol.t, sol.y[n], sol.y[:n].T, a, r, margin, smoothed, dual_upper, bound,
                           float(sol.t[k0]), V, sol.status, sol.message, sol.nfev)  # fmt: skip
    return report(res, "norm_only_dual_flow stopped early")




def _ntk_init(m: int, d: int, scale: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The antisymmetric init: neuron j + m/2 copies w_j with -a_j, so f(.; W_0) = 0."""
    rng = np.random.default_rng(seed)
    half = scale * rng.standard_normal((m // 2, d))
    sign = rng.choice([-1.0, 1.0], m // 2)
    return np.r_[sign, -sign], np.r_[half, half]


def _ntk_snapshots(t_eval, t_end: float, method: str, step) -> np.ndarray:
    """Snapshot times: default 0 and 60 log-spaced times; for gradient descent with a fixed
    step, rounded to multiples of it (the snapshots are iterates)."""
    if method == "euler":
        first = min(float(step(0.0)) if callable(step) else step, t_end)
    else:
        first = min(1e-2, t_end / 100)
    t = _times(t_eval, t_end, np.r_[0.0, np.geomspace(first, t_end, 60)])
    if method == "euler" and not callable(step):
        t = np.unique(np.rint(t / step)) * step
    return t


def ntk_flow(data: Dataset, m: int, t_end: float, *, scale: float = 1.0, seed: int = 0,
             loss: LossLike = "logistic", train: str = "inner", method: str = "euler", step=0.25,
             rtol: float | None = None, t_eval=None) -> NTKFlow:  # fmt: skip
    r"""Gradient flow of the network in NTK scaling, :math:`f(x) = \frac1{\sqrt m}\sum_j
    a_j\sigma(\langle w_j, x\rangle)`, from an antisymmetric init, with its NTK diagnostics.

    With :math:`\tilde a = a/\sqrt m` it is the standard network :math:`\sum_j \tilde a_j
    \sigma(\langle w_j, x\rangle)`, and training both layers of the NTK network is the
    standard flow with the outer layer at rate :math:`1/m`; training the inner layer only is
    rate 0. So this is :func:`reluflow.gradient_flow` with ``outer_rate`` :math:`1/m` or 0.
    Our reconstruction of the near-initialisation setting (unverified): :math:`w_j(0) \sim
    \text{scale}\cdot\mathcal N(0, I_d)`, :math:`a_j = \pm1`, loss :math:`L = \sum_i
    c_i\ell(y_if_i)`. The init is *antisymmetric* (neuron :math:`j + m/2` copies :math:`w_j`
    with :math:`-a_j`), so :math:`f(\cdot; W_0) = 0`. By default the run is gradient descent
    with step 0.25 (``method="euler"``, the reference discretisation; halving the step is
    the check that it approximates the flow, chapter 5, "Near initialisation"); any method
    of :func:`reluflow.gradient_flow` can be asked for.

    Reported margins, compared with :math:`\gamma_{\rm ntk}` (``rf.margins.ntk_margin``):

    .. math::
        \texttt{margin} = \min_i\frac{y_if(x_i; W)}{\|W - W_0\|_F},\qquad
        \texttt{lin\_margin} = \min_i\frac{y_i\langle\nabla_Wf(x_i; W_0), W - W_0\rangle}
        {\|W - W_0\|_F} \le \texttt{lin\_bound} = \sqrt{q^\top Q_mq},

    with :math:`Q_m = yy^\top\circ K_m`, :math:`K_m` the width-:math:`m` inner-layer kernel
    at :math:`W_0` and :math:`q` the dual certificate of ``ntk_margin`` (weak duality; the
    bound holds exactly). ``movement`` is ``rf.diagnostics.relative_movement``
    :math:`= \|W - W_0\|_F/\sqrt m`; margins are ``nan`` at :math:`t = 0`.

    Parameters
    ----------
    data : Dataset
        Labels :math:`\pm 1`.
    m : int
        Even width.
    t_end : float
    scale : float
        Init scale of the inner weights (1 = standard).
    seed : int
    loss : {"logistic", "exponential"}
    train : {"inner", "both"}
    method : {"euler", "auto", "adaptive", "exponential"}
        Passed to :func:`reluflow.gradient_flow` with ``step`` and ``rtol``.
    step : float or callable
        Gradient-descent step size (``method="euler"``), or a function ``t -> eta`` such as
        :class:`LogTimeStep` for long horizons.
    rtol : float, optional
        Tolerance of the other methods (their default if None).
    t_eval : array_like, optional
        Increasing snapshot times in :math:`[0, t_{end}]`; default 0 and 60 log-spaced times.
        With ``method="euler"`` and a fixed step they are rounded to multiples of the step.

    Returns
    -------
    NTKFlow
        Failures of the run are reported in its ``status``/``message`` (and a
        ``RuntimeWarning``), as by :func:`reluflow.gradient_flow`.

    Raises
    ------
    ValueError
        For bad data or labels, odd ``m``, another ``train``/loss, non-positive ``t_end``,
        ``scale`` or (fixed) ``step``.
    """
    loss = _check(data, loss)
    m = positive_int(m, "m")
    if m % 2:
        raise ValueError(f"`m` must be even (antisymmetric init); got {m}")
    if train not in _TRAIN:
        raise ValueError(f"`train` must be one of {_TRAIN}; got {train!r}")
    t_end, scale = positive_scalar(t_end, "t_end"), positive_scalar(scale, "scale")
    if method == "euler" and not callable(step):
        step = positive_scalar(step, "step")
    a0, W0 = _ntk_init(m, data.d, scale, seed)
    net0 = Network(a0 / np.sqrt(m), W0)
    traj = gradient_flow(net0, data, loss, t_end, method=method, step=step if method == "euler" else None,
                         rtol=rtol, t_eval=_ntk_snapshots(t_eval, t_end, method, step),
                         outer_rate=1.0 / m if train == "both" else 0.0)  # fmt: skip
    dW = traj.W - W0
    dnorm = np.linalg.norm(dW, axis=(1, 2))
    act0 = (data.X @ W0.T > 0).astype(float)  # (n, m): the features at W_0
    lin = np.einsum("ij,kjd,id->ki", act0 * net0.a, dW, data.X)  # <grad_W f(x_i; W_0), W - W_0>
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = np.min(data.y * outputs(traj, data), axis=1) / dnorm
        lin_margin = np.min(data.y * lin, axis=1) / dnorm
    q = ntk_margin(data).q
    Km = (act0 @ act0.T) * (data.X @ data.X.T) / m
    bound = float(np.sqrt(max(q @ (np.outer(data.y, data.y) * Km) @ q, 0.0)))
    return NTKFlow(traj, margin, lin_margin, bound, relative_movement(traj))


@dataclass(frozen=True)
class LogTimeStep:
    r"""A gradient-descent step that grows with time, :math:`\eta(t) = \eta_0\max(1, t/t_0)`,
    for long runs on the logistic or exponential loss (book chapter 5, "Near initialisation").

    Pass it as ``step`` to :func:`ntk_flow` or :func:`reluflow.gradient_flow` (``method="euler"``).
    The step is constant up to :math:`t_0` and then proportional to :math:`t`: a run to time
    :math:`T` takes about :math:`t_0/\eta_0\,(1 + \ln(T/t_0))` steps instead of
    :math:`T/\eta_0`. Why this can approximate the flow: once the data are fit, the loss and
    the curvature of :math:`L` along the trajectory decay like :math:`1/t`, so
    :math:`\eta(t)` times the curvature stays bounded, as :math:`\eta_0` times the curvature
    does at the start. That is an argument, not a guarantee; the check is to halve
    :math:`\eta_0` and see the printed results unchanged.

    Parameters
    ----------
    eta0 : float
        Step up to :math:`t_0` (> 0).
    t0 : float
        Time from which the step grows (> 0).

    Examples
    --------
    >>> import reluflow as rf
    >>> step = rf.margins.LogTimeStep(0.25, 50.0)
    >>> step(10.0), step(200.0)
    (0.25, 1.0)
    """

    eta0: float = 0.25
    t0: float = 50.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta0", positive_scalar(self.eta0, "eta0"))
        object.__setattr__(self, "t0", positive_scalar(self.t0, "t0"))

    def __call__(self, t: float) -> float:
        return self.eta0 * max(1.0, t / self.t0)
