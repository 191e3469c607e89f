"""What the methods of :mod:`reluflow.flow` share (private): defaults, snapshot times, the
recorder of snapshots and the assembly of the :class:`~reluflow.Trajectory`.

The driver (:mod:`reluflow.flow.driver`) imports the methods and they import this module,
never the driver: there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._validation import as_finite_array, positive_int, positive_scalar
from ..trajectory import Trajectory

#: Default relative tolerance of each error-controlled method.
DEFAULT_RTOL = {"adaptive": 1e-8, "exponential": 1e-4}
#: Default absolute tolerance, relative to rtol and to the largest initial parameter.
ATOL_FACTOR = 1e-3


def log_times(t_end: float, num: int = 200, first: float | None = None) -> np.ndarray:
    """Snapshot times ``0`` and ``num - 1`` geometrically spaced times from ``first`` to
    ``t_end`` (default ``first = min(1e-2, t_end / 100)``); used by ``t_eval="log"``.

    Examples
    --------
    >>> import reluflow as rf
    >>> rf.log_times(100.0, num=4).tolist()
    [0.0, 0.01, 1.0, 100.0]
    """
    t_end = positive_scalar(t_end, "t_end")
    num = positive_int(num, "num")
    if num < 3:
        raise ValueError(f"`num` must be >= 3 (0, `first` and `t_end`); got {num}")
    first = min(1e-2, t_end / 100) if first is None else positive_scalar(first, "first")
    if first >= t_end:
        raise ValueError(f"`first` must be < t_end = {t_end}; got {first}")
    return np.concatenate([[0.0], np.geomspace(first, t_end, num - 1)])


def check_t_eval(t_eval, t_end: float) -> np.ndarray | None:
    """Validate ``t_eval`` (None, ``"log"`` or sorted times in [0, t_end])."""
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


def default_atol(rtol: float, atol: float | None, y0: np.ndarray) -> float:
    """``atol``, or its default ``ATOL_FACTOR * rtol * max|theta0|`` (small inits resolved)."""
    if atol is None:
        atol = ATOL_FACTOR * rtol * max(float(np.max(np.abs(y0))), 1e-300)
    return positive_scalar(atol, "atol")


class Recorder:
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
        """A snapshot at every step (only when no ``t_eval`` was given)."""
        if self.t_eval is None:
            self.ts.append(t)
            self.ys.append(y.copy())

    def add_interval(self, t0: float, t1: float, dense: Callable, h: float) -> None:
        """Snapshots at the requested times in (t0, t1], from ``dense(x)`` at ``t0 + x h``."""
        if self.t_eval is None:
            return
        te = self.t_eval
        while self.next < te.size and te[self.next] <= t1:
            self.ts.append(float(te[self.next]))
            self.ys.append(dense((te[self.next] - t0) / h))
            self.next += 1


_CHUNK = 4_000_000  # (floats per chunk of hidden activations in make_trajectory)


def make_trajectory(rec: Recorder, m: int, d: int, data, loss, **report) -> Trajectory:
    """The :class:`~reluflow.Trajectory` of the snapshots (losses with the true network)."""
    Y = np.array(rec.ys).reshape(len(rec.ys), -1)
    a, W = Y[:, :m], Y[:, m:].reshape(-1, m, d)
    # the outputs in chunks of snapshots (all at once, (snapshots, m, n) floats: ~3 GB and
    # longer than the solve for the every-step record of a width-2000 run)
    f = np.empty((Y.shape[0], data.n))
    chunk = max(1, _CHUNK // max(1, m * data.n))
    for k in range(0, Y.shape[0], chunk):
        f[k : k + chunk] = np.einsum("km,kmn->kn", a[k : k + chunk], np.maximum(W[k : k + chunk] @ data.X.T, 0.0))
    losses = np.array([loss.value(fk, data) for fk in f])
    return Trajectory(np.array(rec.ts), a, W, losses, **report)
