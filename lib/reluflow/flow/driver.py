"""Gradient flow: the public solver entry point (book chapter 1, "A solver that respects the kinks")."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from .._validation import as_finite_array, positive_int, positive_scalar
from ..data import Dataset
from ..gradient import check_problem
from ..losses import Loss, LossLike
from ..network import Network
from ..trajectory import Trajectory
from ._adaptive import AdaptiveSolver
from ._exponential import integrate

__all__ = ["gradient_flow", "log_times"]

#: Default absolute tolerance, relative to rtol and to the largest initial parameter.
ATOL_FACTOR = 1e-3


def log_times(t_end: float, num: int = 200, first: float | None = None) -> np.ndarray:
    """Snapshot times ``0`` and ``num - 1`` geometrically spaced times from ``first`` to
    ``t_end`` (default ``first = min(1e-2, t_end / 100)``); used by ``t_eval="log"``."""
    t_end = positive_scalar(t_end, "t_end")
    num = positive_int(num, "num")
    if num < 3:
        raise ValueError(f"`num` must be >= 3 (0, `first` and `t_end`); got {num}")
    first = min(1e-2, t_end / 100) if first is None else positive_scalar(first, "first")
    if first >= t_end:
        raise ValueError(f"`first` must be < t_end = {t_end}; got {first}")
    return np.concatenate([[0.0], np.geomspace(first, t_end, num - 1)])


class _Recorder:
    """Collects snapshots either at given times (dense output) or at every step."""

    def __init__(self, t_eval: np.ndarray | None, y0: np.ndarray) -> None:
        self.t_eval = t_eval
        self.ts: list[float] = []
        self.ys: list[np.ndarray] = []
        self.next = 0
        if t_eval is None:
            self.add_point(0.0, y0)
        else:
            while self.next < t_eval.size and t_eval[self.next] <= 0.0:
                self.ts.append(float(t_eval[self.next]))
                self.ys.append(y0.copy())
                self.next += 1

    def add_point(self, t: float, y: np.ndarray) -> None:
        if self.t_eval is None:
            self.ts.append(t)
            self.ys.append(y.copy())

    def add_interval(self, t0: float, t1: float, dense: Callable, h: float) -> None:
        if self.t_eval is None:
            return
        te = self.t_eval
        while self.next < te.size and te[self.next] <= t1:
            self.ts.append(float(te[self.next]))
            self.ys.append(dense((te[self.next] - t0) / h))
            self.next += 1


def _check_t_eval(t_eval, t_end: float) -> np.ndarray | None:
    if t_eval is None:
        return None
    if isinstance(t_eval, str):
        if t_eval != "log":
            raise ValueError(f"`t_eval` must be None, 'log' or an array of times; got {t_eval!r}")
        return log_times(t_end)
    te = as_finite_array(t_eval, "t_eval", ndim=1)
    if np.any(np.diff(te) < 0) or (te.size and (te[0] < 0 or te[-1] > t_end)):
        raise ValueError("`t_eval` must be sorted and lie within [0, t_end]")
    return te


def _trajectory(rec, m, d, data, loss, **report) -> Trajectory:
    Y = np.array(rec.ys).reshape(len(rec.ys), -1)
    a, W = Y[:, :m], Y[:, m:].reshape(-1, m, d)
    f = np.einsum("km,kmn->kn", a, np.maximum(W @ data.X.T, 0.0))
    losses = np.array([loss.value(fk, data) for fk in f])
    if report["status"] != 0:
        warnings.warn(f"gradient_flow: {report['message']}", RuntimeWarning, stacklevel=3)
    return Trajectory(np.array(rec.ts), a, W, losses, **report)


def _progress(enabled: bool, t_end: float):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=float(t_end), unit="t", desc="gradient flow", leave=False)


def gradient_flow(
    net0: Network,
    data: Dataset,
    loss: LossLike,
    t_end: float,
    *,
    method: str = "adaptive",
    rtol: float | None = None,
    atol: float | None = None,
    t_eval: None | str | np.ndarray = None,
    step: None | float | Callable[[float], float] = None,
    max_steps: int = 1_000_000,
    progress: bool = False,
) -> Trajectory:
    r"""Integrate the gradient flow :math:`\dot\theta = -\nabla L(\theta)` from ``net0``.

    The field is :math:`\dot a_j = \sum_i \rho_i\,\sigma(\langle w_j, x_i\rangle)`,
    :math:`\dot w_j = a_j \sum_i \rho_i\,\mathbb 1[\langle w_j, x_i\rangle > 0]\,x_i`
    with residual weights :math:`\rho_i = -\partial L/\partial f(x_i)`. It is smooth
    inside each activation pattern and jumps across the faces
    :math:`\langle w_j, x_i\rangle = 0`.

    Parameters
    ----------
    net0 : Network
        Initial parameters.
    data : Dataset
    loss : Loss or str
        ``"square"``, ``"logistic"``, ``"exponential"`` or ``"linear"``.
    t_end : float
        Final gradient-flow time (> 0).
    method : {"adaptive", "exponential", "euler"}
        ``"adaptive"``: Dormand--Prince 5(4) with error control that never steps across
        an activation switch. Each step freezes the activation pattern; a sign change of
        some :math:`\langle w_j, x_i\rangle` inside a step is located on the dense output,
        the step is cut there and integration restarts in the new pattern. When the flow
        on both sides of a face points into it, the pair slides along the face (Filippov):
        :math:`\dot w_j = a_j(D_j + \alpha\rho_i x_i)` with :math:`\alpha\in[0,1]` keeping
        :math:`\langle w_j, x_i\rangle = 0`; several faces of one neuron are handled by a
        small complementarity problem. ``"exponential"``: the exponential midpoint rule
        (order 2) for moderate accuracy with many activation events. With the residuals
        :math:`\rho` frozen, each neuron follows the closed form of the fixed-pattern flow
        (:math:`\cosh`/:math:`\sinh` in :math:`\|D_j\|t`), its crossings are roots of a
        quadratic in :math:`e^{\|D_j\|t}` and sliding is the same flow with :math:`D_j`
        projected off the faces, so events cost no gradient evaluation; each step
        evaluates :math:`\rho` at the midpoint and the end (two evaluations). The global
        error scales like ``rtol**(2/3)``; ``event_groups`` counts per-neuron event updates.
        ``"euler"``: gradient descent
        :math:`\theta_{k+1} = \theta_k - \eta_k\nabla L(\theta_k)` with
        :math:`\sigma'(0) = 0`, the reference discretisation (time is :math:`\sum_k \eta_k`).
    rtol, atol : float
        Error tolerances of the adaptive and exponential methods; the default ``rtol`` is
        ``1e-8`` for ``"adaptive"`` and ``1e-3`` for ``"exponential"``, the default
        ``atol`` is ``1e-3 * rtol * max|theta0|`` so that small initialisations are resolved.
    t_eval : None, "log" or array_like
        Snapshot times. None: every accepted step and event (adaptive), or 1001 evenly
        spaced times (euler). ``"log"``: :func:`log_times` ``(t_end)``.
    step : float or callable, optional
        Euler step size :math:`\eta`, or a function ``t -> eta`` (e.g. log-time steps
        ``lambda t: c * max(t, 1)``). Required for ``method="euler"``.
    max_steps : int
        Accepted steps allowed before stopping with ``status = 1``.
    progress : bool
        Show a tqdm progress bar (in gradient-flow time).

    Returns
    -------
    Trajectory
        Snapshots, counters and ``status``/``message``; a failure (step size underflow,
        non-finite values, chattering without progress) gives ``status = -1``, a
        ``RuntimeWarning`` and a message saying where and why.

    Raises
    ------
    ValueError
        For bad inputs: mismatched dimensions, labels outside {-1, +1} for classification
        losses, ``t_end <= 0``, unknown method, missing Euler step.

    Notes
    -----
    See the book, chapter 1, sections "A solver that respects the kinks" and
    "Sliding along a face"; ``bench/RESULTS.md`` and ``bench/EXPONENTIAL.md`` compare the
    methods' cost and accuracy.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> net0 = rf.small_init(10, 2, 1e-3, seed=0)
    >>> traj = rf.gradient_flow(net0, data, "square", 40.0)
    >>> traj.success, round(float(traj.loss[-1]), 6)
    (True, 0.0)
    """
    loss_obj = check_problem(net0, data, loss)
    t_end = positive_scalar(t_end, "t_end")
    max_steps = positive_int(max_steps, "max_steps")
    te = _check_t_eval(t_eval, t_end)
    if method == "adaptive":
        rtol = 1e-8 if rtol is None else rtol
        return _run_adaptive(net0, data, loss_obj, t_end, rtol, atol, te, max_steps, progress)
    if method == "exponential":
        rtol = 1e-3 if rtol is None else rtol
        return integrate(
            net0, data, loss_obj, t_end, rtol=rtol, atol=atol, t_eval=te, max_steps=max_steps, progress=progress
        )
    if method == "euler":
        if step is None:
            raise ValueError("method='euler' needs `step` (a step size > 0 or a function t -> step)")
        if te is None:
            te = np.linspace(0.0, t_end, 1001)
        return _run_euler(net0, data, loss_obj, t_end, step, te, max_steps, progress)
    raise ValueError(f"`method` must be 'adaptive', 'exponential' or 'euler'; got {method!r}")


def _run_adaptive(net0, data, loss: Loss, t_end, rtol, atol, te, max_steps, progress):
    rtol = positive_scalar(rtol, "rtol")
    if atol is None:
        atol = ATOL_FACTOR * rtol * max(float(np.max(np.abs(net0.flat()))), 1e-300)
    atol = positive_scalar(atol, "atol")
    y0 = net0.flat()
    rec = _Recorder(te, y0)
    bar = _progress(progress, t_end)
    status, message = 0, "reached t_end"
    # Overflow and 0/0 inside the solver are detected and reported (status -1, message);
    # silencing numpy's warnings once here keeps them out of the per-step work.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        solver = AdaptiveSolver(net0.a, net0.W, data, loss, rtol, atol, max_steps, rec)
        solver.initial_step(t_end)
        while solver.t < t_end:
            if solver.nsteps >= max_steps:
                status, message = 1, f"stopped after max_steps = {max_steps} steps at t = {solver.t:.6g}"
                break
            t_before = solver.t
            error = solver.step(t_end)
            if bar is not None:
                bar.update(solver.t - t_before)
            if error is not None:
                status, message = -1, error
                break
    if bar is not None:
        bar.close()
    at_end = solver.close()
    m, d = net0.W.shape
    return _trajectory(
        rec,
        m,
        d,
        data,
        loss,
        method="adaptive",
        nfev=solver.field.nfev,
        nsteps=solver.nsteps,
        nrejected=solver.nrejected,
        status=status,
        message=message,
        switches=solver.switches,
        event_groups=solver.event_groups,
        sliding_time=solver.sliding_time,
        sliding_entries=solver.sliding_entries,
        sliding_at_end=at_end,
    )


def _run_euler(net0, data, loss: Loss, t_end, step, te, max_steps, progress):
    if callable(step):
        step_fn = step
    else:
        eta0 = positive_scalar(step, "step")

        def step_fn(t: float) -> float:
            return eta0

    X, XT = data.X, np.ascontiguousarray(data.X.T)
    m, d = net0.W.shape
    y = net0.flat()
    t, k = 0.0, 0
    rec = _Recorder(te, y)
    bar = _progress(progress, t_end)
    status, message = 0, "reached t_end"
    while t_end - t > 1e-12 * t_end:
        if k >= max_steps:
            status, message = 1, f"stopped after max_steps = {max_steps} steps at t = {t:.6g}"
            break
        eta = float(step_fn(t))
        if not (np.isfinite(eta) and eta > 0):
            status, message = -1, f"step function returned {eta!r} at t = {t:.6g}; it must be > 0"
            break
        eta = min(eta, t_end - t)
        a, W = y[:m], y[m:].reshape(m, d)
        P = W @ XT
        H = np.maximum(P, 0.0)
        rho = loss.residuals(a @ H, data)
        if not np.all(np.isfinite(rho)):
            status, message = -1, f"non-finite residuals at t = {t:.6g} (step {k})"
            break
        y_new = np.concatenate([a + eta * (H @ rho), (W + eta * a[:, None] * (((P > 0) * rho) @ X)).ravel()])
        # snapshots on the piecewise-linear interpolant of the iterates
        rec.add_interval(t, t + eta, lambda x, y0=y, y1=y_new: y0 + x * (y1 - y0), eta)
        y, t, k = y_new, t + eta, k + 1
        if bar is not None:
            bar.update(eta)
    if status == 0:
        rec.add_interval(t, np.inf, lambda x, y0=y: y0, 1.0)
    if bar is not None:
        bar.close()
    return _trajectory(
        rec, m, d, data, loss, method="euler", nfev=k, nsteps=k, nrejected=0, status=status, message=message
    )
