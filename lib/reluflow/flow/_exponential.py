r"""Exponential midpoint integrator with exact events under frozen residuals (private).

The field depends on the state through two things only: the residual weights
:math:`\rho_i = -\partial L/\partial f(x_i)` (through the outputs) and the activation
pattern. With :math:`\rho` frozen, every neuron evolves on its own by the *linear* flow
:math:`\dot a_j = \langle w_j, D_j\rangle`, :math:`\dot w_j = a_j D_j`, whose solution is
closed form (papers §0.4, book chapter 1 "Exact solution in a fixed activation pattern"):

    a(τ) = a0 cosh(δτ) + p0 τ sinhc(δτ),   w(τ) = w0 + A(τ) D,
    A(τ) = a0 τ sinhc(δτ) + ½ p0 τ² sinhc(δτ/2)²,     δ = |D|, p0 = <w0, D>.

A pre-activation <w(τ), x_i> = q_i + A(τ) r_i reaches a threshold at a root of a quadratic
in s = expm1(δτ)/δ, so activation events are located in closed form; after an event only
that neuron's D_j changes (no gradient evaluation). Filippov sliding is exact too: on the
faces K of a neuron the sliding field is the flow with D_j replaced by its projection onto
span{x_k : k in K}^⊥ (constant while ρ and the neuron's pattern are frozen). Whether a pair
is on, off or sliding is decided by the box complementarity problem of
:func:`reluflow.flow._field.solve_faces`, with the frozen ρ, at every event of the neuron and, at
the start of every propagation, for the neurons with pairs inside the band |<w_j, x_i>| <=
1e-10 |w_j| |x_i|. A neuron that only slides keeps its faces while their multipliers stay in
[0, 1] (the release rule of ``adaptive``). Snapping onto faces that meet only at w = 0 sets
w_j = 0 exactly (the neuron is then frozen, as in ``adaptive``; no round-off revival). The
frozen-ρ propagation Φ(ρ, h, y) is therefore exact, events and sliding included, and costs
no gradient evaluation.

Time stepping (order 2, "exponential midpoint", a Magnus-type method for y' = A(ρ(y)) y):

1. ρ0 = ρ(y0) (kept from the previous step);
2. predictor y½ = Φ(ρ0, h/2, y0); one evaluation ρ½ = ρ(y½);
3. y1 = Φ(ρ½, h, y0) (the step's result); one evaluation ρ1 = ρ(y1), reused as the next
   step's ρ0;
4. error estimate: ŷ1 = Φ((ρ0 + ρ1)/2, h, y0) (exponential trapezoid, also order 2);
   err = RMS of (y1 − ŷ1) / (atol + rtol max(|y0|, |y1|)); the two frozen residuals differ
   by O(h²) so the estimate is O(h³) like the local error; accept if err ≤ 1 and set
   h ← h min(5, max(0.2, 0.9 err^{-1/3})).

Releases from sliding. Under frozen ρ the sliding multipliers are constant, so a release is
driven by the change of ρ across steps. After the predictor, each sliding multiplier is
interpolated linearly between its values under ρ0 (time 0) and ρ½ (time h/2); if one leaves
[0, 1] at a time τ in [0.01 h, 0.99 h), the step is shortened to end at τ, with ρ½ replaced by
its linear interpolant at τ/2 (no new evaluation), and the next step starts past the release,
where the start-of-propagation face problem releases the pair. Without this, releases would be
late by up to a step, which can change which faces a neuron meets next.

Each step costs two evaluations (one computation of all outputs f(x_i) and residuals; the
D_j are part of it), rejected or not. On the near-origin plateau ρ hardly changes and the
steps grow geometrically; on the late logistic phase ρ ~ 1/t and the steps grow like t.
Dense output (``t_eval``) re-propagates Φ(ρ½, θh, y0), which costs no evaluation.

Code: :mod:`reluflow.flow._frozen` holds the propagation Φ (closed forms, events, sliding);
this module holds the time stepping (:class:`ExponentialStepper`, driven by
:mod:`reluflow.flow.driver`).

Accuracy: the method is of order 2 (global error ~ rtol^(2/3) at tight tolerances); ρ has
kinks at activation events and the estimate does not see them, so the global error is not
bounded by rtol (on P2 of ``bench/solver.py``: ~1e-4 at rtol 1e-3, ~1e-5 at rtol 1e-6).
"""

from __future__ import annotations

import numpy as np

from ..trajectory import SWITCH_DTYPE, underflow_message
from ._frozen import _Engine, _Stall

#: Step-size controller: safety factor, smallest and largest change per step, error exponent.
SAFETY, FAC_MIN, FAC_MAX, EXPONENT = 0.9, 0.2, 5.0, 1.0 / 3.0
#: After a step cut at a release, the next step is at least this fraction of the uncut one.
RESTORE = 0.5


class ExponentialStepper:
    """State and counters of one exponential-midpoint run; :meth:`step` makes one accepted
    step (see the module doc and :func:`reluflow.gradient_flow`)."""

    method = "exponential"

    def __init__(self, a0, W0, data, loss, t_end, rtol, atol, rec, outer_rate: float = 1.0) -> None:
        self.rtol, self.atol, self.rec = rtol, atol, rec
        self.eng = eng = _Engine(data, loss, outer_rate)
        self.a, self.W = np.array(a0, float), np.array(W0, float)
        self.S = (self.W @ eng.XT) > 0
        self.slide = np.zeros_like(self.S)
        self.t = 0.0
        self.nsteps = self.nrejected = self.nev_acc = self.nev_all = self.nprop = 0
        self.ncut = self.nresync = 0
        self.switches: list[tuple] = []
        self.slide_start = np.full(self.S.shape, np.nan)
        self.sliding_time, self.sliding_entries = 0.0, 0
        self.rho0 = eng.rho(self.a, self.W, self.S)
        # initial step: a tenth of the fastest neuron's e-folding time under the initial residuals
        with np.errstate(over="ignore", invalid="ignore"):
            Dmax = float(np.max(np.linalg.norm((self.S * self.rho0) @ eng.X, axis=1), initial=0.0))
            Dmax *= np.sqrt(outer_rate)
        self.h = min(t_end, 0.1 / Dmax) if np.isfinite(Dmax) and Dmax > 0 else t_end

    @property
    def nfev(self) -> int:
        return self.eng.nfev

    @property
    def events(self) -> int:
        return self.nev_acc

    def _prop(self, a, W, S, slide, rho, h):
        r = self.eng.propagate(a, W, S, slide, rho, h)
        self.nev_all += r.nevents
        self.nresync += r.nresync
        self.nprop += 1
        return r

    @staticmethod
    def _flat(r):
        return np.concatenate([r.a, r.W.ravel()])

    def _attempt(self, h):
        """One attempted step of size h (possibly shortened to a release): (h, error,
        propagation result, midpoint residuals, end residuals, uncut h or 0)."""
        a, W, S, slide, rho0, eng = self.a, self.W, self.S, self.slide, self.rho0, self.eng
        half = self._prop(a, W, S, slide, rho0, 0.5 * h)
        new = rho_m = rho1 = None
        h_uncut, err = 0.0, np.inf
        if not (np.all(np.isfinite(half.a)) and np.all(np.isfinite(half.W))):
            return h, err, new, rho_m, rho1, h_uncut
        rho_m = eng.rho(half.a, half.W, half.S)
        if not np.all(np.isfinite(rho_m)):
            return h, err, new, rho_m, rho1, h_uncut
        t_rel = eng.release_time(S, slide, rho0, rho_m, h)
        if t_rel < h:
            # a sliding face is released inside the step: end the step there, with the
            # midpoint residuals interpolated (no new evaluation)
            self.ncut += 1
            h_uncut = h
            rho_m = rho0 + (t_rel / h) * (rho_m - rho0)
            h = t_rel
        new = self._prop(a, W, S, slide, rho_m, h)
        y1 = self._flat(new)
        if np.all(np.isfinite(y1)):
            rho1 = eng.rho(new.a, new.W, new.S)
            if np.all(np.isfinite(rho1)):
                cmp_ = self._prop(a, W, S, slide, 0.5 * (rho0 + rho1), h)
                y0 = np.concatenate([a, W.ravel()])
                scale = self.atol + self.rtol * np.maximum(np.abs(y0), np.abs(y1))
                err = float(np.sqrt(np.mean(((y1 - self._flat(cmp_)) / scale) ** 2)))
        return h, err, new, rho_m, rho1, h_uncut

    def step(self, t_end: float) -> str | None:
        """One accepted step; an error message on failure, else None."""
        try:
            return self._step(t_end)
        except _Stall as exc:
            return f"at t = {self.t:.6g}: {exc}"

    def _step(self, t_end: float) -> str | None:
        t = self.t
        if not np.all(np.isfinite(self.rho0)):
            return (
                f"the residuals are not finite at t = {t:.6g} (the loss overflowed; for the "
                "exponential loss, margins below -709 overflow)"
            )
        h = min(self.h, t_end - t)
        if t_end - t - h < 1e-12 * t_end:
            h = t_end - t
        h_uncut = 0.0
        while True:
            h, err, new, rho_m, rho1, cut = self._attempt(h)
            h_uncut = max(h_uncut, cut)
            if err <= 1.0:
                break
            self.nrejected += 1
            h *= max(FAC_MIN, SAFETY * err**-EXPONENT) if np.isfinite(err) else FAC_MIN
            if h < 1e-14 * max(1.0, t):
                theta = float(max(np.abs(self.a).max(), np.abs(self.W).max()))
                raise _Stall(underflow_message(h, None, bool(np.isfinite(err)), theta))
        self._accept(t, h, new, rho_m, rho1, t_end)
        self.h = h * (min(FAC_MAX, SAFETY * err**-EXPONENT) if err > 0 else FAC_MAX)
        self.h = max(self.h, RESTORE * h_uncut)  # a step cut at a release need not shrink the next one
        return None

    def _accept(self, t, h, new, rho_m, rho1, t_end) -> None:
        self.nsteps += 1
        self.nev_acc += new.nevents
        y1 = self._flat(new)
        if self.rec.t_eval is not None:
            a_s, W_s, S_s, sl_s = self.a, self.W, self.S, self.slide

            def dense(x):
                if x >= 1.0:
                    return y1
                return self._flat(self._prop(a_s, W_s, S_s, sl_s, rho_m, x * h))

            self.rec.add_interval(t, t + h, dense, h)
        for tl, j, i, old, code in sorted(new.changes, key=lambda c: c[0]):
            ts = t + tl
            self.switches.append((ts, j, i, ("off", "on", "slide")[code]))
            if code == 2:
                self.slide_start[j, i] = ts
                self.sliding_entries += 1
            elif old == 2:
                self.sliding_time += ts - self.slide_start[j, i]
                self.slide_start[j, i] = np.nan
        self.t = t_end if t_end - (t + h) < 1e-12 * t_end else t + h
        self.a, self.W, self.S, self.slide, self.rho0 = new.a, new.W, new.S, new.slide, rho1
        self.rec.add_point(self.t, y1)

    def finish(self, status: int) -> dict:
        open_ = ~np.isnan(self.slide_start)
        self.sliding_time += float(np.sum(self.t - self.slide_start[open_]))
        return dict(
            nrejected=self.nrejected,
            switches=np.array(self.switches, dtype=SWITCH_DTYPE),
            event_groups=self.nev_acc,
            sliding_time=self.sliding_time,
            sliding_entries=self.sliding_entries,
            sliding_at_end=int(open_.sum()),
            info=dict(
                nevents=self.nev_acc,
                nevents_total=self.nev_all,
                npropagations=self.nprop,
                nreleasecuts=self.ncut,
                nresync=self.nresync,
            ),
        )
