"""Gradient descent as a stepper of the driver (private): ``method="euler"``.

theta_{k+1} = theta_k - eta_k grad L(theta_k) with relu'(0) = 0, the reference
discretisation of the flow (time is sum_k eta_k); the outer layer moves at ``outer_rate``
times its gradient, as in the flow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._validation import positive_scalar


class EulerStepper:
    """One gradient-descent step per call of :meth:`step` (see :func:`reluflow.gradient_flow`)."""

    method = "euler"

    def __init__(self, a0, W0, data, loss, step: float | Callable[[float], float], rec, outer_rate: float) -> None:
        if callable(step):
            self._step_fn = step
        else:
            eta0 = positive_scalar(step, "step")
            self._step_fn = lambda t: eta0
        self.X, self.XT = data.X, np.ascontiguousarray(data.X.T)
        self.data, self.loss = data, loss
        self.m, self.d = W0.shape
        self.y = np.concatenate([a0, W0.ravel()])
        self.c = outer_rate
        self.rec = rec
        self.t, self.nsteps, self.h = 0.0, 0, 0.0
        self.events = 0

    @property
    def nfev(self) -> int:
        return self.nsteps

    def step(self, t_end: float) -> str | None:
        t, y, m = self.t, self.y, self.m
        eta = float(self._step_fn(t))
        if not (np.isfinite(eta) and eta > 0):
            return f"step function returned {eta!r} at t = {t:.6g}; it must be > 0"
        eta = min(eta, t_end - t)
        a, W = y[:m], y[m:].reshape(m, self.d)
        P = W @ self.XT
        H = np.maximum(P, 0.0)
        rho = self.loss.residuals(a @ H, self.data)
        if not np.all(np.isfinite(rho)):
            return f"non-finite residuals at t = {t:.6g} (step {self.nsteps})"
        da = H @ rho
        if self.c != 1.0:
            da *= self.c
        y_new = np.concatenate([a + eta * da, (W + eta * a[:, None] * (((P > 0) * rho) @ self.X)).ravel()])
        # snapshots on the piecewise-linear interpolant of the iterates
        self.rec.add_interval(t, t + eta, lambda x, y0=y, y1=y_new: y0 + x * (y1 - y0), eta)
        self.y, self.t, self.h = y_new, t + eta, eta
        self.nsteps += 1
        if t_end - self.t <= 1e-12 * t_end:
            self.t = t_end
        return None

    def finish(self, status: int) -> dict:
        if status == 0:
            self.rec.add_interval(self.t, np.inf, lambda x, y0=self.y: y0, 1.0)
        return dict(nrejected=0)
