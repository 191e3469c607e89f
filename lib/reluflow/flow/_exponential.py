r"""Exponential midpoint integrator with exact events under frozen residuals (private).

The field depends on the state through two things only: the residual weights
:math:`\rho_i = -\partial L/\partial f(x_i)` (through the outputs) and the activation
pattern. With :math:`\rho` frozen, every neuron evolves on its own by the *linear* flow
:math:`\dot a_j = \langle w_j, D_j\rangle`, :math:`\dot w_j = a_j D_j`, whose solution is
closed form (papers §0.4, book chapter 1 "Exact solution in a fixed activation pattern"):

    a(τ) = a0 cosh(δτ) + p0 τ sinhc(δτ),   w(τ) = w0 + A(τ) D,
    A(τ) = a0 τ sinhc(δτ) + ½ p0 τ² sinhc(δτ/2)²,     δ = √c |D|, p0 = c <w0, D>

(c: the outer rate; c = 0 gives a linear-in-time closed form, a = a0, w = w0 + a0 τ D).

A pre-activation <w(τ), x_i> = q_i + A(τ) r_i reaches a threshold at a root of a quadratic
in s = expm1(δτ)/δ, so activation events are located in closed form; after an event only
that neuron's D_j changes (no gradient evaluation). Filippov sliding is exact too: on the
faces K of a neuron the sliding field is the flow with D_j replaced by its projection onto
span{x_k : k in K}^⊥ (constant while ρ and the neuron's pattern are frozen). Whether a pair
is on, off or sliding is decided by the face problem (:mod:`reluflow.flow._faces`: a
box-constrained least-squares problem for any number of faces), with the frozen ρ, at every
event of the neuron and, at the start of every propagation, for the neurons with pairs
inside the band |<w_j, x_i>| <= 1e-10 |w_j| |x_i|. A neuron that only slides keeps its faces while their multipliers stay in
[0, 1] (the release rule of ``adaptive``). Snapping onto faces that meet only at w = 0 sets
w_j = 0 exactly (the neuron is then frozen, as in ``adaptive``; no round-off revival). The
frozen-ρ propagation Φ(ρ, h, y) is therefore exact, events and sliding included, and costs
no gradient evaluation.

Time stepping (order 2, "exponential midpoint", a Magnus-type method for y' = A(ρ(y)) y):

1. ρ0 = ρ(y0) (kept from the previous step);
2. predictor y½ = Φ(ρ0, h/2, y0); one evaluation ρ½ = ρ(y½);
3. y1 = Φ(ρ½, h, y0) (the step's result); one evaluation ρ1 = ρ(y1), reused as the next
   step's ρ0;
4. error estimate: the difference y1 − ŷ1 to the exponential trapezoid ŷ1 = Φ((ρ0 + ρ1)/2,
   h, y0) (also order 2), taken as the change of each neuron's closed form over h (from y0,
   with its start pattern) when its D moves by the effective D of ρ½ − (ρ0 + ρ1)/2 = O(h²):
   exact for neurons without events in the step, and one pass over the pairs instead of a
   third propagation. err = RMS of (y1 − ŷ1) / (atol + rtol max(|y0|, |y1|)) = O(h³) like the
   local error; accept if err ≤ 1 and set h ← h min(5, max(0.2, 0.9 err^{-1/3})).

Releases from sliding. Under frozen ρ the sliding multipliers are constant, so a release is
driven by the change of ρ across steps: at the start of a propagation a multiplier outside
[0, 1] under its ρ releases the pair, so a release happens at the step boundary nearest to
it (within h/2: an O(h²) error in the state, like the kinks of ρ at events). That delay
matters when it changes which faces the neuron meets next: each sliding multiplier is
interpolated linearly between its values under ρ0 (time 0) and ρ½ (time h/2), and if one
leaves [0, 1] at a time τ in [0.01 h, 0.99 h) *and its neuron has an event after τ in the
step*, the step is shortened to end at τ, with ρ½ replaced by its linear interpolant at τ/2
(no new evaluation). Cutting for every release instead would make the number of steps grow
with the width (releases grow like m n).

Crossings that change ρ. A crossing can make ρ change fast (a cluster of aligned neurons
turning on a point together); then the predictor crosses, and under the midpoint residuals
ρ½ of the crossed state the step itself can turn back before the boundary. The error
estimate does not see events, so such steps were accepted and the crossing came late (by
0.8 time units for a 370-neuron cluster on ``bench/scaleprobs.stewart`` at m = 2000). A step
whose predictor has an event of a pair that the step itself does not have, and that ends
the step farther from its boundary than it started, is retried with h = min(2τ, h/2), τ the
predictor's (earliest such) crossing time: the new predictor ends at the crossing, and the
step crosses with the residuals from before it. This costs one evaluation.

Each step costs two evaluations (one computation of all outputs f(x_i) and residuals; the
D_j are part of it) and two propagations, rejected or not. On the near-origin plateau ρ hardly changes and the
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
_KINDS = np.array(["off", "on", "slide"])


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
        self.modes = eng.modes(self.slide)  # (sliding faces per neuron, the single face or -1)
        self.gap = np.zeros(self.a.size)  # (distances to the band edges, 0: unknown; see _Engine.propagate)
        self.t = 0.0
        self.nsteps = self.nrejected = self.nev_acc = self.nev_all = self.nprop = 0
        self.ncut = self.nresync = self.ncross = 0
        self.switches: list[np.ndarray] = []
        self.slide_start = np.full(self.S.shape, np.nan)
        self.sliding_time, self.sliding_entries = 0.0, 0
        self.rho0 = eng.rho(self.a, self.W, self.S)
        self.h = self._first_step(t_end, outer_rate)

    def _first_step(self, t_end: float, outer_rate: float) -> float:
        """A tenth of the fastest neuron's e-folding time under the initial residuals; with
        the outer layer frozen (``outer_rate`` 0: no e-folding, w_j moves at the constant
        speed |a_j| |D_j|), a tenth of the shortest time in which a neuron moves by its own
        norm |w_j|. t_end if neither is finite and positive."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            Dn = np.linalg.norm((self.S * self.rho0) @ self.eng.X, axis=1)
            if outer_rate > 0:
                rate = float(np.max(Dn, initial=0.0)) * np.sqrt(outer_rate)
                h = 0.1 / rate
            else:
                speed = np.abs(self.a) * Dn
                wn = np.linalg.norm(self.W, axis=1)
                ok = (speed > 0) & (wn > 0) & np.isfinite(speed)
                h = 0.1 * float(np.min(wn[ok] / speed[ok], initial=np.inf))
        return min(t_end, h) if np.isfinite(h) and h > 0 else t_end

    @property
    def nfev(self) -> int:
        return self.eng.nfev

    @property
    def events(self) -> int:
        return self.nev_acc

    @property
    def y(self) -> np.ndarray:
        return np.concatenate([self.a, self.W.ravel()])

    def _prop(self, a, W, S, slide, rho, h, modes=None, gap=None):
        r = self.eng.propagate(a, W, S, slide, rho, h, self.modes if modes is None else modes,
                               self.gap if gap is None else gap)
        self.nev_all += r.nevents
        self.nresync += r.nresync
        self.nprop += 1
        return r

    @staticmethod
    def _flat(r):
        return np.concatenate([r.a, r.W.ravel()])

    def _attempt(self, h):
        """One attempted step of size h (possibly shortened to a release): (h, error,
        propagation result, midpoint residuals, end residuals, uncut h or 0, the step to
        retry with after a crossing conflict (its predictor's crossing time) or 0)."""
        a, W, S, slide, rho0, eng = self.a, self.W, self.S, self.slide, self.rho0, self.eng
        half = self._prop(a, W, S, slide, rho0, 0.5 * h)
        new = rho_m = rho1 = None
        h_uncut, err = 0.0, np.inf
        if not (np.all(np.isfinite(half.a)) and np.all(np.isfinite(half.W))):
            return h, err, new, rho_m, rho1, h_uncut, 0.0
        rho_m = eng.rho(half.a, half.W, half.S)
        if not np.all(np.isfinite(rho_m)):
            return h, err, new, rho_m, rho1, h_uncut, 0.0
        new = self._prop(a, W, S, slide, rho_m, h)
        t_rel = self._release_conflict(eng.release_times(S, slide, rho0, rho_m, h, half.alpha1, new.alpha1, self.modes[0]), new)
        if t_rel < h:
            # a sliding neuron is released inside the step and has events after its release:
            # end the step at the release, with the midpoint residuals interpolated (no new
            # evaluation), so that it leaves its face before those events
            self.ncut += 1
            h_uncut = h
            rho_m = rho0 + (t_rel / h) * (rho_m - rho0)
            h = t_rel
            new = self._prop(a, W, S, slide, rho_m, h)
        t_con = self._crossing_conflict(half, new, h, W, S, eng.X)
        if t_con < h:
            # the predictor crossed a boundary that the step, with the residuals of the
            # crossed midpoint, turns back from: retry (see _step)
            return h, np.inf, None, rho_m, rho1, h_uncut, t_con
        if np.isfinite(new.a).all() and np.isfinite(new.W).all():
            rho1 = eng.rho(new.a, new.W, new.S)
            if np.all(np.isfinite(rho1)):
                # the same step with (rho0 + rho1) / 2 frozen differs by the closed forms'
                # response to the change rho_m - (rho0 + rho1) / 2 = O(h^2)
                err = eng.error(a, W, S, slide, self.modes, new.Dst, rho_m - 0.5 * (rho0 + rho1), h, new.a, new.W,
                                self.atol, self.rtol)  # fmt: skip
        return h, err, new, rho_m, rho1, h_uncut, 0.0

    @staticmethod
    def _crossing_conflict(half, new, h: float, W, S, X) -> float:
        """The earliest activation event of the predictor ``half`` (at a time in (0, h)) of a
        pair that has no event in the step ``new`` and ends the step farther from its
        boundary than it started (from ``W``, pattern ``S``; inputs ``X``); inf if none.
        Crossing a boundary can
        change the residuals fast (a cluster of aligned neurons turning on a point at once),
        so that under the midpoint residuals ρ½ of the crossed predictor the step turns back
        before the boundary; the step then creeps towards it with accepted steps that the
        error estimate, blind to events, does not reject (module doc)."""
        rows = half.change_rows()
        # (pairs sliding at the start are left out: on their face both pre-activations are
        # round-off, and "farther from the boundary" would be decided by it)
        rows = rows[(rows[:, 0] > 0.0) & (rows[:, 0] < h) & (rows[:, 3] != 2)]
        if not rows.size:
            return np.inf
        n = 1 + int(rows[:, 2].max())
        got = new.change_rows()
        if got.size:
            n = max(n, 1 + int(got[:, 2].max()))
        key = rows[:, 1].astype(np.int64) * n + rows[:, 2].astype(np.int64)
        miss = ~np.isin(key, got[:, 1].astype(np.int64) * n + got[:, 2].astype(np.int64))
        if not miss.any():
            return np.inf
        rows = rows[miss]
        j, i = rows[:, 1].astype(np.int64), rows[:, 2].astype(np.int64)
        sg = np.where(S[j, i], 1.0, -1.0)
        # (a step that approaches the boundary more slowly than its predictor is an ordinary
        # O(h^2) timing difference; one that turns back has the rate's sign reversed)
        back = sg * np.einsum("kd,kd->k", new.W[j], X[i]) >= sg * np.einsum("kd,kd->k", W[j], X[i])
        return float(rows[back, 0].min()) if back.any() else np.inf

    @staticmethod
    def _release_conflict(t_rel: np.ndarray, new) -> float:
        """The earliest predicted release (``t_rel``, per neuron) of a neuron that has an
        activation event after it within the step; inf if none. Other releases wait for the
        start of the next step (an O(h^2) delay, like the kinks of rho at events)."""
        if not np.isfinite(t_rel).any():
            return np.inf
        rows = new.change_rows()
        if not rows.size:
            return np.inf
        j = rows[:, 1].astype(int)
        late = rows[:, 0] > t_rel[j]
        return float(t_rel[j[late]].min()) if late.any() else np.inf

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
            h, err, new, rho_m, rho1, cut, h_cross = self._attempt(h)
            h_uncut = max(h_uncut, cut)
            if err <= 1.0:
                break
            self.nrejected += 1
            if h_cross > 0.0:
                self.ncross += 1
                h = min(2.0 * h_cross, 0.5 * h)  # (its predictor ends at the crossing)
            else:
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
        if self.rec.t_eval is not None:
            a_s, W_s, S_s, sl_s = self.a, self.W, self.S, self.slide

            ns_s, gap_s = self.modes, self.gap

            def dense(x):
                if x >= 1.0:
                    return self._flat(new)
                return self._flat(self._prop(a_s, W_s, S_s, sl_s, rho_m, x * h, ns_s, gap_s))

            self.rec.add_interval(t, t + h, dense, h)
        rows = new.change_rows()
        if rows.size:
            ts = t + rows[:, 0]
            j, i, old, code = (rows[:, k].astype(int) for k in range(1, 5))
            sw = np.empty(ts.size, SWITCH_DTYPE)
            sw["t"], sw["neuron"], sw["point"], sw["kind"] = ts, j, i, _KINDS[code]
            self.switches.append(sw)
            for tk, jk, ik, ok, ck in zip(ts.tolist(), j.tolist(), i.tolist(), old.tolist(), code.tolist(), strict=True):
                if ck == 2:
                    self.slide_start[jk, ik] = tk
                    self.sliding_entries += 1
                elif ok == 2:
                    self.sliding_time += tk - self.slide_start[jk, ik]
                    self.slide_start[jk, ik] = np.nan
        self.t = t_end if t_end - (t + h) < 1e-12 * t_end else t + h
        self.a, self.W, self.S, self.slide, self.rho0 = new.a, new.W, new.S, new.slide, rho1
        self.modes = (new.nslide, new.face1)
        self.gap = new.gap
        if self.rec.t_eval is None:
            self.rec.add_point(self.t, self._flat(new))

    def finish(self, status: int) -> dict:
        open_ = ~np.isnan(self.slide_start)
        self.sliding_time += float(np.sum(self.t - self.slide_start[open_]))
        return dict(
            nrejected=self.nrejected,
            switches=np.concatenate(self.switches) if self.switches else np.zeros(0, SWITCH_DTYPE),
            event_groups=self.nev_acc,
            sliding_time=self.sliding_time,
            sliding_entries=self.sliding_entries,
            sliding_at_end=int(open_.sum()),
            info=dict(
                nevents=self.nev_acc,
                nevents_total=self.nev_all,
                npropagations=self.nprop,
                nreleasecuts=self.ncut,
                ncrossingcuts=self.ncross,
                nresync=self.nresync,
            ),
        )
