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
:func:`reluflow._field.solve_faces`, with the frozen ρ, at every event of the neuron and, at
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

Code: :mod:`reluflow._frozen` holds the propagation Φ (closed forms, events, sliding);
this module holds the time stepping (:func:`integrate`).

Accuracy: the method is of order 2 (global error ~ rtol^(2/3) at tight tolerances); ρ has
kinks at activation events and the estimate does not see them, so the global error is not
bounded by rtol (on P2 of ``bench/solver.py``: ~1e-4 at rtol 1e-3, ~1e-5 at rtol 1e-6).
"""

from __future__ import annotations

import numpy as np

from .._validation import positive_int, positive_scalar
from ..data import Dataset
from ..gradient import check_problem
from ..losses import LossLike
from ..network import Network
from ..trajectory import SWITCH_DTYPE, Trajectory, underflow_message
from ._frozen import _Engine, _Stall

#: Step-size controller: safety factor, smallest and largest change per step, error exponent.
SAFETY, FAC_MIN, FAC_MAX, EXPONENT = 0.9, 0.2, 5.0, 1.0 / 3.0
#: After a step cut at a release, the next step is at least this fraction of the uncut one.
RESTORE = 0.5


def integrate(
    net0: Network,
    data: Dataset,
    loss: LossLike,
    t_end: float,
    *,
    rtol: float = 1e-3,
    atol: float | None = None,
    t_eval=None,
    max_steps: int = 1_000_000,
    progress: bool = False,
    stats: dict | None = None,
) -> Trajectory:
    r"""Gradient flow by the exponential midpoint method with exact events (see the module doc).

    Parameters
    ----------
    net0, data, loss, t_end
        As for :func:`reluflow.gradient_flow`.
    rtol, atol : float
        Tolerances of the local error estimate (order 2: the error per step scales like
        h^3); the default ``atol`` is ``1e-3 * rtol * max|theta0|`` as for ``adaptive``.
    t_eval : None, "log" or array_like
        Snapshot times; None: every accepted step.
    max_steps : int
        Accepted steps allowed before stopping with ``status = 1``.
    progress : bool
        tqdm progress bar in gradient-flow time.
    stats : dict, optional
        Filled with extra counters: ``nevents`` (per-neuron event updates in accepted steps),
        ``nevents_total`` (in all propagations: predictors, rejected steps, error estimates,
        dense output), ``npropagations``, ``nreleasecuts`` (steps shortened to end at a
        predicted release from sliding) and ``nresync`` (pairs found on the wrong side of
        their band at the start of a propagation and re-synchronised; 0 is expected).

    Returns
    -------
    Trajectory
        ``method="exponential"``; ``nfev`` counts evaluations of all outputs and residuals
        (the cost of one loss gradient); ``event_groups`` counts per-neuron event updates of
        the accepted steps (a neuron's simultaneous crossings count once).

    Raises
    ------
    ValueError
        For bad inputs (as :func:`reluflow.gradient_flow`).
    """
    from . import driver as _flow  # lazy: the driver imports this module

    loss = check_problem(net0, data, loss)
    t_end = positive_scalar(t_end, "t_end")
    max_steps = positive_int(max_steps, "max_steps")
    rtol = positive_scalar(rtol, "rtol")
    if atol is None:
        atol = _flow.ATOL_FACTOR * rtol * max(float(np.max(np.abs(net0.flat()))), 1e-300)
    atol = positive_scalar(atol, "atol")
    te = _flow._check_t_eval(t_eval, t_end)

    m, d = net0.W.shape
    eng = _Engine(data, loss)
    a, W = np.array(net0.a, float), np.array(net0.W, float)
    S = (W @ eng.XT) > 0
    slide = np.zeros_like(S)
    rec = _flow._Recorder(te, np.concatenate([a, W.ravel()]))
    bar = _flow._progress(progress, t_end)

    t, nsteps, nrejected, nev_acc, nev_all, nprop, ncut, nresync = 0.0, 0, 0, 0, 0, 0, 0, 0
    switches: list[tuple] = []
    slide_start = np.full(S.shape, np.nan)
    sliding_time, sliding_entries = 0.0, 0
    status, message = 0, "reached t_end"

    def prop(a_, W_, S_, sl_, rho_, h_):
        nonlocal nev_all, nprop, nresync
        r = eng.propagate(a_, W_, S_, sl_, rho_, h_)
        nev_all += r.nevents
        nresync += r.nresync
        nprop += 1
        return r

    def flat(r):
        return np.concatenate([r.a, r.W.ravel()])

    rho0 = eng.rho(a, W, S)
    # initial step: a tenth of the fastest neuron's e-folding time under the initial residuals
    with np.errstate(over="ignore", invalid="ignore"):
        Dmax = float(np.max(np.linalg.norm((S * rho0) @ eng.X, axis=1), initial=0.0))
    h = min(t_end, 0.1 / Dmax) if np.isfinite(Dmax) and Dmax > 0 else t_end
    try:
        while t < t_end:
            if not np.all(np.isfinite(rho0)):
                status, message = -1, (
                    f"the residuals are not finite at t = {t:.6g} (the loss overflowed; for the "
                    "exponential loss, margins below -709 overflow)"
                )
                break
            if nsteps >= max_steps:
                status, message = 1, f"stopped after max_steps = {max_steps} steps at t = {t:.6g}"
                break
            h = min(h, t_end - t)
            if t_end - t - h < 1e-12 * t_end:
                h = t_end - t
            h_uncut = 0.0
            while True:
                y0 = np.concatenate([a, W.ravel()])
                with np.errstate(over="ignore", invalid="ignore"):
                    half = prop(a, W, S, slide, rho0, 0.5 * h)
                    err = np.inf
                    if np.all(np.isfinite(half.a)) and np.all(np.isfinite(half.W)):
                        rho_m = eng.rho(half.a, half.W, half.S)
                        finite = np.all(np.isfinite(rho_m))
                        t_rel = eng.release_time(S, slide, rho0, rho_m, h) if finite else np.inf
                        if t_rel < h:
                            # a sliding face is released inside the step: end the step there,
                            # with the midpoint residuals interpolated (no new evaluation)
                            ncut += 1
                            h_uncut = max(h_uncut, h)
                            rho_m = rho0 + (t_rel / h) * (rho_m - rho0)
                            h = t_rel
                        if finite:
                            new = prop(a, W, S, slide, rho_m, h)
                            y1 = flat(new)
                            if np.all(np.isfinite(y1)):
                                rho1 = eng.rho(new.a, new.W, new.S)
                                if np.all(np.isfinite(rho1)):
                                    cmp_ = prop(a, W, S, slide, 0.5 * (rho0 + rho1), h)
                                    scale = atol + rtol * np.maximum(np.abs(y0), np.abs(y1))
                                    err = float(np.sqrt(np.mean(((y1 - flat(cmp_)) / scale) ** 2)))
                if err <= 1.0:
                    break
                nrejected += 1
                h *= max(FAC_MIN, SAFETY * err**-EXPONENT) if np.isfinite(err) else FAC_MIN
                if h < 1e-14 * max(1.0, t):
                    raise _Stall(underflow_message(h, None, bool(np.isfinite(err)), float(np.abs(y0).max())))
            # accept
            nsteps += 1
            nev_acc += new.nevents
            if te is not None:
                a_s, W_s, S_s, sl_s, rm = a, W, S, slide, rho_m

                def dense(x, h=h, a_s=a_s, W_s=W_s, S_s=S_s, sl_s=sl_s, rm=rm, y1=y1):
                    if x >= 1.0:
                        return y1
                    return flat(prop(a_s, W_s, S_s, sl_s, rm, x * h))

                rec.add_interval(t, t + h, dense, h)
            for tl, j, i, old, code in sorted(new.changes, key=lambda c: c[0]):
                ts = t + tl
                switches.append((ts, j, i, ("off", "on", "slide")[code]))
                if code == 2:
                    slide_start[j, i] = ts
                    sliding_entries += 1
                elif old == 2:
                    sliding_time += ts - slide_start[j, i]
                    slide_start[j, i] = np.nan
            t_before = t
            t = t_end if t_end - (t + h) < 1e-12 * t_end else t + h
            a, W, S, slide, rho0 = new.a, new.W, new.S, new.slide, rho1
            rec.add_point(t, y1)
            if bar is not None:
                bar.update(t - t_before)
            h *= min(FAC_MAX, SAFETY * err**-EXPONENT) if err > 0 else FAC_MAX
            h = max(h, RESTORE * h_uncut)  # a step cut at a release need not shrink the next one
    except _Stall as exc:
        status, message = -1, f"at t = {t:.6g}: {exc}"
    if bar is not None:
        bar.close()
    open_ = ~np.isnan(slide_start)
    sliding_time += float(np.sum(t - slide_start[open_]))
    if stats is not None:
        stats.update(
            nevents=nev_acc, nevents_total=nev_all, npropagations=nprop, nreleasecuts=ncut, nresync=nresync
        )
    return _flow._trajectory(
        rec,
        m,
        d,
        data,
        loss,
        method="exponential",
        nfev=eng.nfev,
        nsteps=nsteps,
        nrejected=nrejected,
        status=status,
        message=message,
        switches=np.array(switches, dtype=SWITCH_DTYPE),
        event_groups=nev_acc,
        sliding_time=sliding_time,
        sliding_entries=sliding_entries,
        sliding_at_end=int(open_.sum()),
    )
