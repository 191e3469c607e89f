"""Gradient flow: the public solver entry point and its one driver loop (book chapter 1,
"A solver that respects the kinks"; appendix "How the solver works").

Every method is a *stepper* (``_euler``, ``_adaptive``, ``_exponential``) with the same
small interface: attributes ``t``, ``h`` (its current step), ``nsteps``, ``nfev``,
``events``; ``step(t_end)`` makes one accepted step and returns an error message or None;
``finish(status)`` returns its counters for the :class:`~reluflow.Trajectory`. The loop
below is the only one: it enforces ``max_steps``, drives the progress bar, says once when a
run will obviously take long, and assembles the result.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np

from .._validation import positive_int, positive_scalar
from ..data import Dataset
from ..gradient import check_problem
from ..losses import LossLike
from ..network import Network
from ..trajectory import Trajectory
from ._adaptive import AdaptiveSolver
from ._common import DEFAULT_RTOL, Recorder, check_t_eval, default_atol, log_times, make_trajectory
from ._euler import EulerStepper
from ._exponential import ExponentialStepper

__all__ = ["gradient_flow", "log_times", "choose_method"]

#: ``method="auto"`` takes ``"exponential"`` above this many (neuron, point) pairs m n ...
AUTO_PAIRS = 10_000
#: ... or on data with parallel or antiparallel points (checked up to this many points).
AUTO_CHECK_N = 4000
#: The slow-run notice: first checked after this many seconds, then at this interval ...
NOTICE_AFTER = 5.0
#: ... and given (once) when the estimated remaining time exceeds this many seconds.
NOTICE_LONG = 60.0
_METHODS = ("auto", "adaptive", "exponential", "euler")


def choose_method(net0: Network, data: Dataset) -> str:
    """The method ``method="auto"`` runs for this problem: ``"exponential"`` when the
    network has more than ``AUTO_PAIRS`` = 10,000 (neuron, point) pairs :math:`mn`
    (activation events grow like :math:`mn`) or when two data points are parallel or
    antiparallel (repeated or antipodal points, as on the hypercube: many faces meet at
    once, which ``adaptive`` does not always resolve), else ``"adaptive"``."""
    if net0.m * data.n > AUTO_PAIRS or _parallel_points(data.X):
        return "exponential"
    return "adaptive"


def _parallel_points(X: np.ndarray) -> bool:
    """Whether two rows of X are parallel or antiparallel (checked for n <= AUTO_CHECK_N)."""
    n = X.shape[0]
    if n > AUTO_CHECK_N or n < 2:
        return False
    norms = np.linalg.norm(X, axis=1)
    Y = X[norms > 0] / norms[norms > 0, None]
    C = np.abs(Y @ Y.T)
    np.fill_diagonal(C, 0.0)
    return bool(C.max(initial=0.0) > 1.0 - 1e-12)


def gradient_flow(
    net0: Network,
    data: Dataset,
    loss: LossLike,
    t_end: float,
    *,
    method: str = "auto",
    rtol: float | None = None,
    atol: float | None = None,
    t_eval: None | str | np.ndarray = None,
    step: None | float | Callable[[float], float] = None,
    max_steps: int = 1_000_000,
    outer_rate: float = 1.0,
    progress: bool = False,
) -> Trajectory:
    r"""Integrate the gradient flow :math:`\dot\theta = -\nabla L(\theta)` from ``net0``.

    The field is :math:`\dot a_j = c\sum_i \rho_i\,\sigma(\langle w_j, x_i\rangle)`,
    :math:`\dot w_j = a_j \sum_i \rho_i\,\mathbb 1[\langle w_j, x_i\rangle > 0]\,x_i`
    with residual weights :math:`\rho_i = -\partial L/\partial f(x_i)` and the outer rate
    :math:`c` (1: plain gradient flow). It is smooth inside each activation pattern and
    jumps across the faces :math:`\langle w_j, x_i\rangle = 0`, where the solution is
    Filippov's (the neuron may *slide* along a face; chapter 1, "Sliding along a face").

    Parameters
    ----------
    net0 : Network
        Initial parameters.
    data : Dataset
    loss : Loss or str
        ``"square"``, ``"logistic"``, ``"exponential"`` or ``"linear"``.
    t_end : float
        Final gradient-flow time (> 0).
    method : {"auto", "adaptive", "exponential", "euler"}
        ``"auto"`` (default): ``"adaptive"`` for problems with at most 10,000
        (neuron, point) pairs :math:`mn`, ``"exponential"`` above (the number of activation
        events grows like :math:`mn`, and each event costs ``adaptive`` a restarted step
        while it costs ``exponential`` no gradient evaluation) and on data with parallel or
        antiparallel points (repeated or antipodal points, the hypercube), where many faces
        meet at one neuron; ``rf.flow.choose_method(net0, data)``
        tells which one a problem gets, and ``Trajectory.method`` which one ran.
        ``"adaptive"``: Dormand--Prince 5(4) with error control that never steps across
        an activation switch. Each step freezes the activation pattern; a sign change of
        some :math:`\langle w_j, x_i\rangle` inside a step is located on the dense output,
        the step is cut there and integration restarts in the new pattern. Where the flow
        presses into faces the neuron slides along them (Filippov); which faces it slides
        on, and which pairs turn on or off, is decided by a box-constrained least-squares
        problem per neuron (appendix "How the solver works").
        ``"exponential"``: the exponential midpoint rule (order 2) for moderate accuracy
        with many activation events. With the residuals :math:`\rho` frozen, each neuron
        follows the closed form of the fixed-pattern flow (:math:`\cosh`/:math:`\sinh`
        in :math:`\sqrt c\,\|D_j\|t`), its crossings are roots of a quadratic in
        :math:`e^{\sqrt c\|D_j\|t}` and sliding is the same flow with :math:`D_j`
        projected off the faces, so events cost no gradient evaluation; each step
        evaluates :math:`\rho` at the midpoint and the end (two evaluations). The global
        error scales like ``rtol**(2/3)``; ``event_groups`` counts per-neuron event updates.
        ``"euler"``: gradient descent
        :math:`\theta_{k+1} = \theta_k - \eta_k\nabla L(\theta_k)` with
        :math:`\sigma'(0) = 0` (the outer layer's step scaled by :math:`c`), the reference
        discretisation (time is :math:`\sum_k \eta_k`).
    rtol, atol : float
        Error tolerances of the adaptive and exponential methods; the default ``rtol`` is
        ``1e-8`` for ``"adaptive"`` and ``1e-4`` for ``"exponential"`` (also under
        ``"auto"``: the default of the method chosen), the default ``atol`` is
        ``1e-3 * rtol * max|theta0|`` so that small initialisations are resolved.
    t_eval : None, "log" or array_like
        Snapshot times. None: every accepted step and event (adaptive, exponential), or
        1001 evenly spaced times (euler). ``"log"``: :func:`log_times` ``(t_end)``.
    step : float or callable, optional
        Euler step size :math:`\eta`, or a function ``t -> eta`` (e.g. log-time steps
        ``lambda t: c * max(t, 1)``). Required for ``method="euler"``.
    max_steps : int
        Accepted steps allowed before stopping with ``status = 1``.
    outer_rate : float
        :math:`c \ge 0`: the outer layer moves at ``outer_rate`` times its gradient
        (gradient flow in the metric that scales the outer learning rate); ``0`` freezes
        it. For :math:`c > 0` the substitution :math:`\tilde a = a/\sqrt c`,
        :math:`\tilde\rho = \sqrt c\,\rho` turns the field into the standard one; with
        :math:`\tilde a = a/\sqrt m` the NTK-scaled network
        :math:`m^{-1/2}\sum_j a_j\sigma(\langle w_j, x\rangle)` is this flow with
        :math:`c = 1/m`. Balancedness becomes :math:`a_j^2/c - \|w_j\|^2` (conserved).
    progress : bool
        Show a tqdm progress bar: gradient-flow time reached, activation events and their
        rate. Whether or not it is shown, a run that will obviously take long (more than a
        minute more at the rate of its seconds 5 to 10, then of any later 5 s) says so once,
        with a ``UserWarning``.

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
        losses, ``t_end <= 0``, unknown method, missing Euler step, ``outer_rate`` < 0 or
        not finite.

    Notes
    -----
    See the book, chapter 1, sections "A solver that respects the kinks" and
    "Sliding along a face", and the appendix "How the solver works";
    ``bench/RESULTS.md``, ``bench/EXPONENTIAL.md`` and ``bench/SCALE.md`` compare the
    methods' cost and accuracy.

    Examples
    --------
    >>> import reluflow as rf
    >>> data = rf.Dataset([[1.0, 0.0], [0.0, 1.0]], [1.0, -1.0])
    >>> net0 = rf.small_init(10, 2, 1e-3, seed=0)
    >>> traj = rf.gradient_flow(net0, data, "square", 40.0)
    >>> traj.method, traj.success, round(float(traj.loss[-1]), 6)
    ('adaptive', True, 0.0)
    """
    loss_obj = check_problem(net0, data, loss)
    t_end = positive_scalar(t_end, "t_end")
    max_steps = positive_int(max_steps, "max_steps")
    c = positive_scalar(outer_rate, "outer_rate", allow_zero=True)
    te = check_t_eval(t_eval, t_end)
    if method not in _METHODS:
        raise ValueError(f"`method` must be 'auto', 'adaptive', 'exponential' or 'euler'; got {method!r}")
    if method == "auto":
        method = choose_method(net0, data)
    y0 = net0.flat()
    a0, W0 = np.array(net0.a, float), np.array(net0.W, float)
    if method == "euler":
        if step is None:
            raise ValueError("method='euler' needs `step` (a step size > 0 or a function t -> step)")
        rec = Recorder(np.linspace(0.0, t_end, 1001) if te is None else te, y0)
        stepper = EulerStepper(a0, W0, data, loss_obj, step, rec, c)
    else:
        rtol = positive_scalar(DEFAULT_RTOL[method] if rtol is None else rtol, "rtol")
        atol = default_atol(rtol, atol, y0)
        rec = Recorder(te, y0)
        solver = AdaptiveSolver if method == "adaptive" else ExponentialStepper
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            stepper = solver(a0, W0, data, loss_obj, t_end, rtol, atol, rec, c)
    return _drive(stepper, rec, net0, data, loss_obj, t_end, max_steps, progress, c)


def _drive(stepper, rec, net0, data, loss, t_end, max_steps, progress, outer_rate) -> Trajectory:
    """The driver loop shared by all methods."""
    watch = _Watch(progress, t_end, stepper)
    status, message = 0, "reached t_end"
    # Overflow and 0/0 inside the solvers are detected and reported (status -1, message);
    # silencing numpy's warnings once here keeps them out of the per-step work.
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while stepper.t < t_end:
                if stepper.nsteps >= max_steps:
                    status, message = 1, f"stopped after max_steps = {max_steps} steps at t = {stepper.t:.6g}"
                    break
                error = stepper.step(t_end)
                watch.update()
                if error is not None:
                    status, message = -1, error
                    break
            report = stepper.finish(status)
            if status != 0 and (not rec.ts or rec.ts[-1] < stepper.t):
                rec.ts.append(float(stepper.t))  # where it stopped (also with t_eval)
                rec.ys.append(stepper.y.copy())
    finally:
        watch.close()
    info = report.pop("info", {})
    info.update(outer_rate=outer_rate, wall_time=watch.elapsed())
    m, d = net0.W.shape
    traj = make_trajectory(
        rec, m, d, data, loss, method=stepper.method, nfev=stepper.nfev, nsteps=stepper.nsteps,
        status=status, message=message, info=info, **report,
    )
    if status != 0:
        warnings.warn(f"gradient_flow: {message}", RuntimeWarning, stacklevel=3)
    return traj


class _Watch:
    """Progress bar (optional) and the one-time notice of a run that will take long."""

    def __init__(self, progress: bool, t_end: float, stepper) -> None:
        self.t_end, self.stepper = t_end, stepper
        self.start = self.mark = self.next_check = time.perf_counter()
        self.next_check += NOTICE_AFTER
        self.t_mark = 0.0
        self.noticed = False
        self.bar = None
        self.t_shown, self.next_post = 0.0, 0.0
        if progress:
            from tqdm.auto import tqdm  # (lazy: only when a bar is requested)

            self.bar = tqdm(total=float(t_end), unit="t", desc=f"gradient flow ({stepper.method})", leave=False)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def update(self) -> None:
        now = time.perf_counter()
        st = self.stepper
        if self.bar is not None:
            self.bar.update(st.t - self.t_shown)
            self.t_shown = st.t
            if now >= self.next_post:
                self.next_post = now + 0.5
                ev = st.events
                rate = ev / max(now - self.start, 1e-9)
                self.bar.set_postfix_str(f"t={st.t:.4g}, events={ev:,}, {rate:,.0f} events/s", refresh=False)
        if not self.noticed and now >= self.next_check:
            self._check(now)

    def _check(self, now: float) -> None:
        st = self.stepper
        dt, dw = st.t - self.t_mark, now - self.mark
        first = self.t_mark == 0.0 and self.mark == self.start
        self.mark, self.t_mark, self.next_check = now, st.t, now + NOTICE_AFTER
        if first or dt <= 0:  # (the first seconds may include compiling the kernels)
            return
        remaining = (self.t_end - st.t) / dt * dw  # at the rate of the last few seconds
        if remaining < NOTICE_LONG:
            return
        self.noticed = True
        hint = {
            "adaptive": " method='exponential' handles many activation events at lower cost.",
            "euler": " a larger step, or an exact method, is faster.",
        }.get(st.method, "")
        msg = (
            f"gradient_flow ({st.method}): t = {st.t:.4g} of t_end = {self.t_end:.4g} after "
            f"{now - self.start:.0f} s ({st.nsteps:,} steps, {st.events:,} activation events); at the "
            f"current rate reaching t_end takes about {_duration(remaining)} more. Pass "
            f"progress=True to follow the run.{hint}"
        )
        if self.bar is not None:
            self.bar.write(msg)
        warnings.warn(msg, UserWarning, stacklevel=5)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
